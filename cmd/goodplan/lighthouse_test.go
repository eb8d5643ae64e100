package main

// Accessibility as Lighthouse scores it: the project-local lighthouse npm
// package (tools/lighthouse, `make lighthouse`) drives Debian's headless
// Chromium against a running goodplan, and each page must score 100 in
// the accessibility category. checkAccessibility is the one way to do it,
// for the portal here and for any later page (pass its session cookie).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lighthouseDir is tools/lighthouse from this package's directory.
const lighthouseDir = "../../tools/lighthouse"

// lighthouseInstall is the command that installs Lighthouse for these
// tests, from the repository's root.
const lighthouseInstall = "make lighthouse (npm ci --prefix tools/lighthouse)"

// lighthouseChromeFlags are Chromium's flags for a Lighthouse run: headless,
// as root (no sandbox), without a GPU, and quiet on the network.
const lighthouseChromeFlags = "--headless --no-sandbox --disable-gpu --disable-background-networking " +
	"--disable-component-update --disable-sync --disable-dev-shm-usage --no-first-run"

// lighthouseReport is the part of Lighthouse's JSON report these tests read.
type lighthouseReport struct {
	LighthouseVersion string `json:"lighthouseVersion"`
	FinalDisplayedURL string `json:"finalDisplayedUrl"`
	RuntimeError      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"runtimeError"`
	Categories map[string]struct {
		Score     *float64 `json:"score"`
		AuditRefs []struct {
			ID     string  `json:"id"`
			Weight float64 `json:"weight"`
		} `json:"auditRefs"`
	} `json:"categories"`
	Audits map[string]struct {
		Title            string   `json:"title"`
		Score            *float64 `json:"score"`
		ScoreDisplayMode string   `json:"scoreDisplayMode"`
		Details          struct {
			Items []struct {
				Node struct {
					Selector    string `json:"selector"`
					Snippet     string `json:"snippet"`
					Explanation string `json:"explanation"`
				} `json:"node"`
			} `json:"items"`
		} `json:"details"`
	} `json:"audits"`
}

// lighthouseBin returns the project-local Lighthouse, failing t (never
// skipping) when it or Chromium is not installed.
func lighthouseBin(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Lighthouse needs Debian's Chromium at %s (apt-get install -y chromium; .ci/run installs it): %v",
			chromiumPath, err)
	}
	bin, err := filepath.Abs(filepath.Join(lighthouseDir, "node_modules", ".bin", "lighthouse"))
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		t.Fatalf("Lighthouse is not installed (%v): run %s; .ci/run installs it when missing", err, lighthouseInstall)
	}
	return bin
}

// checkAccessibility runs Lighthouse's accessibility audits on pageURL
// (mobile emulation, Lighthouse's default) with cookie ("name=value; ...",
// "" for none) sent on every request, and fails t unless the page scored
// 100, listing each failing audit with its elements. The page must answer
// at pageURL itself: a redirect (to a login page, say) fails too. One run
// takes about 10-20 s.
func checkAccessibility(t *testing.T, pageURL, cookie string) {
	t.Helper()
	bin := lighthouseBin(t)
	out := filepath.Join(t.TempDir(), "lighthouse.json")
	args := []string{pageURL, "--only-categories=accessibility", "--output=json", "--output-path=" + out,
		"--quiet", "--chrome-flags=" + lighthouseChromeFlags}
	if cookie != "" {
		headers, err := json.Marshal(map[string]string{"Cookie": cookie})
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--extra-headers="+string(headers))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "CHROME_PATH="+chromiumPath)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("lighthouse %s: %v\n%s", pageURL, err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("lighthouse %s wrote no report: %v\n%s", pageURL, err, stderr.String())
	}
	var rep lighthouseReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("lighthouse %s: report is not JSON: %v", pageURL, err)
	}
	if rep.RuntimeError != nil {
		t.Fatalf("lighthouse %s: %s: %s", pageURL, rep.RuntimeError.Code, rep.RuntimeError.Message)
	}
	if rep.FinalDisplayedURL != pageURL {
		t.Fatalf("lighthouse audited %s, not %s (a redirect?)", rep.FinalDisplayedURL, pageURL)
	}
	cat, ok := rep.Categories["accessibility"]
	if !ok || cat.Score == nil {
		t.Fatalf("lighthouse %s: no accessibility score in the report", pageURL)
	}
	var failing []string
	passed := 0
	for _, ref := range cat.AuditRefs {
		a := rep.Audits[ref.ID]
		if a.Score == nil || a.ScoreDisplayMode == "notApplicable" || a.ScoreDisplayMode == "manual" {
			continue
		}
		if *a.Score >= 1 {
			passed++
			continue
		}
		msg := fmt.Sprintf("%s (weight %g): %s", ref.ID, ref.Weight, a.Title)
		for _, it := range a.Details.Items {
			msg += fmt.Sprintf("\n    %s %s\n      %s", it.Node.Selector, it.Node.Snippet,
				strings.ReplaceAll(it.Node.Explanation, "\n", " "))
		}
		failing = append(failing, msg)
	}
	score := *cat.Score * 100
	t.Logf("lighthouse %s: accessibility %.0f, %d audits passed, %s", pageURL, score, passed, time.Since(start).Round(time.Millisecond))
	if score < 100 || len(failing) > 0 {
		t.Errorf("lighthouse %s (%s): accessibility score %.0f, want 100; failing audits:\n  %s",
			pageURL, rep.LighthouseVersion, score, strings.Join(failing, "\n  "))
	}
	// A page Lighthouse could not read would pass nothing: at least the
	// document's own audits (lang, title, viewport, contrast...) ran.
	if passed < 10 {
		t.Errorf("lighthouse %s: only %d accessibility audits passed: was the page audited?", pageURL, passed)
	}
}

// hiddenInput matches a hidden form field (the portal writes name before
// value).
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// TestPortalAccessibility: the portal's plan page scores 100 for
// accessibility in Lighthouse, as it offers the options and once an option
// is chosen (the schedule).
func TestPortalAccessibility(t *testing.T) {
	t.Parallel()
	lighthouseBin(t) // fail at once when it is missing, before starting a server
	p := startPortalPlan(t)
	base, link := p.srv.URL, p.created.CustomerPortalURL
	waitForPortal(t, link)

	// 1. The options.
	checkAccessibility(t, link, "")

	// 2. Choose the first option with the page's own form: the schedule.
	_, page := call(t, http.MethodGet, link, "", "")
	form := url.Values{}
	for _, m := range hiddenInput.FindAllSubmatch(page, 3) {
		form.Set(string(m[1]), string(m[2]))
	}
	if form.Get("csrf") == "" || form.Get("form_id") == "" || form.Get("option_id") == "" {
		t.Fatalf("no option form on the portal page (fields %v):\n%s", form, page)
	}
	res, err := http.PostForm(link+"/select", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != strings.TrimPrefix(link, base) {
		t.Fatalf("choose an option: %d at %s", res.StatusCode, res.Request.URL)
	}
	if _, page = call(t, http.MethodGet, link, "", ""); !bytes.Contains(page, []byte(`data-installment="1"`)) {
		t.Fatalf("no schedule after choosing an option:\n%s", page)
	}
	checkAccessibility(t, link, "")
}
