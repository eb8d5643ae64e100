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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp/remote"
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

// chromeStartTimeout bounds how long a headless Chromium may take to open
// its debugging port. Lighthouse's own launcher gives up after 25 s ("Unable
// to connect to Chrome"), which a loaded CI machine running the race-built
// suites in parallel can exceed; these tests start Chromium themselves and
// wait for the port as long as this.
const chromeStartTimeout = 2 * time.Minute

// chromeSlots is how many Chromium processes (and so Lighthouse runs) the
// package's tests use at once: two cores, and each run is CPU-bound.
const chromeSlots = 2

// headlessChrome is one running Chromium that Lighthouse drives through
// --port; one Lighthouse run uses it at a time.
type headlessChrome struct {
	cmd  *exec.Cmd
	dir  string // its --user-data-dir
	port int    // its DevTools port
	out  *bytes.Buffer
}

// chromes is the package's pool of headless Chromium processes, started
// on first use, reused by later runs, and stopped by TestMain.
type chromes struct {
	idle    chan *headlessChrome
	permits chan struct{} // one for each process that may be started
	mu      sync.Mutex
	all     []*headlessChrome
}

var chromePool = &chromes{
	idle:    make(chan *headlessChrome, chromeSlots),
	permits: make(chan struct{}, chromeSlots),
}

// takeChrome returns an idle Chromium from the pool, or starts one when
// fewer than chromeSlots run, or waits for one to come back. A Chromium
// that stopped answering is replaced.
func takeChrome(t *testing.T) *headlessChrome {
	t.Helper()
	for {
		select {
		case c := <-chromePool.idle:
			if c.answers() {
				return c
			}
			t.Logf("headless Chromium on port %d stopped answering; starting another\n%s", c.port, c.out.String())
			chromePool.stop(c)
			<-chromePool.permits
		case chromePool.permits <- struct{}{}:
			c, err := startChrome()
			if err != nil {
				<-chromePool.permits
				t.Fatal(err)
			}
			return c
		case <-t.Context().Done():
			t.Fatal("waiting for a headless Chromium:", t.Context().Err())
		}
	}
}

// put gives c back to the pool.
func (p *chromes) put(c *headlessChrome) { p.idle <- c }

// answers reports whether c's DevTools endpoint answers.
func (c *headlessChrome) answers() bool {
	client := http.Client{Timeout: 10 * time.Second}
	res, err := client.Get("http://127.0.0.1:" + strconv.Itoa(c.port) + "/json/version")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// clearCookies removes every cookie of c's profile, so that a Lighthouse
// run sends only the cookie it is given. Lighthouse keeps cookies between
// runs (it clears other storage only), and a cookie that an earlier run's
// page set under the same path (the signed-out forms' form cookie, under
// /dashboard) would take the place of the Cookie header given with
// --extra-headers.
func (c *headlessChrome) clearCookies(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(c.port)+"/json/version", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var version struct {
		WebSocket string `json:"webSocketDebuggerUrl"`
	}
	err = json.NewDecoder(res.Body).Decode(&version)
	res.Body.Close()
	if err != nil {
		return err
	}
	conn, err := remote.DialContext(ctx, version.WebSocket)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // Read does not watch ctx
	defer func() {
		stop()
		conn.Close()
	}()
	if err := conn.Write(ctx, &cdproto.Message{ID: 1, Method: storage.CommandClearCookies, Params: []byte("{}")}); err != nil {
		return err
	}
	for {
		var msg cdproto.Message
		if err := conn.Read(ctx, &msg); err != nil {
			return fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		if msg.ID == 1 {
			if msg.Error != nil {
				return msg.Error
			}
			return nil
		}
	}
}

// startChrome starts a headless Chromium with a DevTools port of its own
// choosing and waits (up to chromeStartTimeout) until it has written the
// port to DevToolsActivePort and answers on it.
func startChrome() (*headlessChrome, error) {
	dir, err := os.MkdirTemp("", "goodplan-chromium-")
	if err != nil {
		return nil, err
	}
	c := &headlessChrome{dir: dir, out: &bytes.Buffer{}}
	args := append(strings.Fields(lighthouseChromeFlags),
		"--remote-debugging-port=0", "--user-data-dir="+dir, "about:blank")
	c.cmd = exec.Command(chromiumPath, args...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	// Its own process group, so that stop kills its helper processes too.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", chromiumPath, err)
	}
	exited := make(chan struct{})
	go func() { c.cmd.Wait(); close(exited) }()
	chromePool.mu.Lock()
	chromePool.all = append(chromePool.all, c)
	chromePool.mu.Unlock()
	deadline := time.Now().Add(chromeStartTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if port, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && port > 0 {
				c.port = port
				if c.answers() {
					return c, nil
				}
			}
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("headless Chromium exited before opening its DevTools port (%v):\n%s", c.cmd.ProcessState, c.out.String())
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			chromePool.stop(c)
			return nil, fmt.Errorf("headless Chromium opened no DevTools port in %s:\n%s", chromeStartTimeout, c.out.String())
		}
	}
}

// stop kills c and removes its profile.
func (p *chromes) stop(c *headlessChrome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = slices.DeleteFunc(p.all, func(x *headlessChrome) bool { return x == c })
	if c.cmd.Process != nil {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	os.RemoveAll(c.dir)
}

// stopAll stops every Chromium the tests started (TestMain, at the end).
func (p *chromes) stopAll() {
	p.mu.Lock()
	all := append([]*headlessChrome(nil), p.all...)
	p.mu.Unlock()
	for _, c := range all {
		p.stop(c)
	}
}

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
	chrome := takeChrome(t)
	defer chromePool.put(chrome)
	if err := chrome.clearCookies(t.Context()); err != nil {
		t.Fatalf("clear the cookies of headless Chromium on port %d: %v", chrome.port, err)
	}
	args = append(args, "--port="+strconv.Itoa(chrome.port))
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
