package main

// The README's API examples, from "Create a plan" to the end of "The plan
// lifecycle", run top to bottom as printed: each ```sh block goes to one
// bash, in order, against a started goodplan serve, and each curl must
// answer the status its comment names ("# 201"). Only the address changes
// (http://127.0.0.1:8080 is the test server's) and the key is the test's
// own account's (no rate limit: bash is faster than a person).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// readmeSection returns the README's text from the heading from up to the
// heading to.
func readmeSection(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, "\n"+from+"\n"), strings.Index(s, "\n"+to+"\n")
	if i < 0 || j < i {
		t.Fatalf("README has no section %q followed by %q", from, to)
	}
	return s[i:j]
}

var shBlock = regexp.MustCompile("(?s)\n```sh\n(.*?)\n```")

// shBlocks returns the ```sh blocks of text, in order.
func shBlocks(text string) []string {
	var out []string
	for _, m := range shBlock.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// statusComment is the status a README curl line says it answers.
var statusComment = regexp.MustCompile(`\s#\s(\d{3})\b[^'"]*$`)

// curlCall finds a call of curl in a shell line.
var curlCall = regexp.MustCompile(`(^|[\s($|])curl\s`)

// expectedStatuses returns the statuses the curl commands of block say
// they answer, in order. A command is its lines joined while they end in
// a backslash or leave a single quote open; every command that calls curl
// must end with its status comment.
func expectedStatuses(t *testing.T, block string) []int {
	t.Helper()
	var want []int
	var cmd strings.Builder
	for line := range strings.SplitSeq(block, "\n") {
		cmd.WriteString(line + "\n")
		c := cmd.String()
		if strings.HasSuffix(line, `\`) || strings.Count(c, "'")%2 == 1 {
			continue
		}
		cmd.Reset()
		code, _, _ := strings.Cut(c, "# ") // the part before a comment
		if strings.HasPrefix(strings.TrimSpace(c), "#") || !curlCall.MatchString(code) {
			continue
		}
		m := statusComment.FindStringSubmatch(strings.TrimSuffix(c, "\n"))
		if m == nil {
			t.Fatalf("README curl command without its status comment (# 200):\n%s", c)
		}
		n, _ := strconv.Atoi(m[1])
		want = append(want, n)
	}
	return want
}

// TestReadmeWalk runs the README's create, quote, read and lifecycle
// examples top to bottom against a started goodplan.
func TestReadmeWalk(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's examples need %s: %v", tool, err)
		}
	}
	blocks := shBlocks(readmeSection(t, "### Create a plan", "### Catalog plans (native)"))
	if len(blocks) < 10 {
		t.Fatalf("found %d sh blocks from Create a plan to the lifecycle's end, want the examples", len(blocks))
	}
	db := pgtest.NewDatabase(t)
	key := createKey(t, db, createAccount(t, db, "--name", "Walk & Co", "--rate-limit", "0", "--burst", "0"))
	addr := freeAddr(t)
	srv := startServer(t, db, "HTTP_ADDR="+addr, "PUBLIC_URL=http://"+addr, "IP_RATE_LIMIT=0")

	statusLog := filepath.Join(t.TempDir(), "statuses")
	sh := newWalkShell(t, key, statusLog)
	seen := 0
	for i, block := range blocks {
		want := expectedStatuses(t, block)
		if plan := sh.variable("PLAN"); plan != "" {
			waitPlanSettled(t, srv.URL, key, plan)
		}
		out := sh.run(strings.ReplaceAll(block, "http://127.0.0.1:8080", srv.URL))
		b, _ := os.ReadFile(statusLog)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		var got []int
		for _, l := range lines[seen:] {
			n, err := strconv.Atoi(l)
			if err != nil {
				t.Fatalf("block %d: curl said %q\n%s\noutput:\n%s", i+1, l, block, out)
			}
			got = append(got, n)
		}
		seen = len(lines)
		if !slices.Equal(got, want) {
			t.Fatalf("block %d answered %v, the README says %v\n%s\noutput:\n%s", i+1, got, want, block, out)
		}
	}
	var p struct {
		Status            string `json:"status"`
		IntroductionEmail struct {
			Resends int `json:"resends"`
		} `json:"introduction_email"`
	}
	plan := sh.variable("PLAN")
	waitPlanSettled(t, srv.URL, key, plan)
	_, body := call(t, "GET", srv.URL+"/api/v1/plans/"+plan, key, "")
	if err := json.Unmarshal(body, &p); err != nil || p.Status != "active" || p.IntroductionEmail.Resends != 1 {
		t.Fatalf("after the walk plan %s is %s with %d resends of its introduction, want active and 1 (%v)",
			plan, p.Status, p.IntroductionEmail.Resends, err)
	}
}

// waitPlanSettled waits until the plan's read model has every event of the
// plan (a person reading the next paragraph gives it the milliseconds it
// takes) and its introduction email is no longer being sent.
func waitPlanSettled(t *testing.T, base, key, plan string) {
	t.Helper()
	pgtest.WaitForNil(t, 2*time.Minute, "plan "+plan+"'s read model to catch up", func() error {
		var view struct {
			Version           int64 `json:"version"`
			IntroductionEmail struct {
				Status string `json:"status"`
			} `json:"introduction_email"`
		}
		var events struct {
			Items []struct {
				Version int64 `json:"version"`
			} `json:"items"`
		}
		for _, r := range []struct {
			path string
			dst  any
		}{{"", &view}, {"/events", &events}} {
			status, body := call(t, "GET", base+"/api/v1/plans/"+plan+r.path, key, "")
			if status != 200 {
				return fmt.Errorf("GET plan%s: %d %s", r.path, status, body)
			}
			if err := json.Unmarshal(body, r.dst); err != nil {
				return err
			}
		}
		if n := len(events.Items); n == 0 || events.Items[n-1].Version != view.Version {
			return fmt.Errorf("read model at version %d, %d events", view.Version, len(events.Items))
		}
		if view.IntroductionEmail.Status == "pending" {
			return fmt.Errorf("introduction email pending")
		}
		return nil
	})
}

// walkShell is one bash that runs the README's blocks one after another,
// so that a block's variables and functions are there for the next.
type walkShell struct {
	t     *testing.T
	stdin io.WriteCloser
	out   *bufio.Reader
}

// newWalkShell starts bash with GOODPLAN_API_KEY set, stopping at the
// first failing command, and curl wrapped to append each answer's status
// (and its own errors) to statusLog.
func newWalkShell(t *testing.T, key, statusLog string) *walkShell {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "bash", "--noprofile", "--norc")
	cmd.Env = append(cliEnv(), "GOODPLAN_API_KEY="+key, "STATUS_LOG="+statusLog)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // the bash errors and the output, in order
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	sh := &walkShell{t: t, stdin: stdin, out: bufio.NewReader(stdout)}
	sh.run(`set -euo pipefail
curl() { command curl --no-progress-meter --max-time 60 "$@" -w '%{stderr}%{http_code}\n' 2>>"$STATUS_LOG"; }`)
	return sh
}

const walkDone = "__walk_done__"

// run sends script to the shell and returns what it printed; it fails the
// test when the shell exits (a command failed).
func (sh *walkShell) run(script string) string {
	sh.t.Helper()
	if _, err := io.WriteString(sh.stdin, script+"\nprintf '\\n%s\\n' "+walkDone+"\n"); err != nil {
		sh.t.Fatalf("bash: %v", err)
	}
	var out strings.Builder
	for {
		line, err := sh.out.ReadString('\n')
		if strings.TrimSuffix(line, "\n") == walkDone {
			return out.String()
		}
		out.WriteString(line)
		if err != nil {
			sh.t.Fatalf("bash stopped (%v) running:\n%s\noutput:\n%s", err, script, out.String())
		}
	}
}

// variable returns the value of a shell variable ("" when unset).
func (sh *walkShell) variable(name string) string {
	sh.t.Helper()
	out := sh.run(`printf '%s' "${` + name + `:-}"`)
	return strings.TrimSuffix(out, "\n")
}
