package main

// End-to-end tests: the goodplan binary is built once and run as a separate
// process against the machine's PostgreSQL, the way an operator runs it
// (benbjohnson/wtf cmd/wtfd/main_test.go). A test that needs PostgreSQL
// fails when it is not answering; none is skipped.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore/pgtest"
)

// goodplanBin is the binary built by TestMain.
var goodplanBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goodplan-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make temp dir:", err)
		os.Exit(1)
	}
	goodplanBin = filepath.Join(dir, "goodplan")
	// Built without -race: the in-process tests cover races, and this
	// binary only has to behave like the one operators run.
	build := exec.Command("go", "build", "-o", goodplanBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build goodplan: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	chromePool.stopAll()
	os.RemoveAll(dir)
	os.Exit(code)
}

// configVars are the environment variables goodplan reads; the tests set
// them explicitly so that the developer's own environment cannot leak in.
var configVars = []string{
	"DATABASE_URL", "HTTP_ADDR", "PUBLIC_URL", "NATS_URL", "DATA_DIR",
	"SMTP_URL", "EMAIL_FROM", "WEBHOOK_ALLOW_PRIVATE_NETWORKS", "NATS_SUBJECT_PREFIX",
	"SCHEDULER_INTERVAL", "DEAD_LETTER_AFTER",
	"IP_RATE_LIMIT", "IP_BURST", "AUTH_FAILURE_LIMIT", "TRUSTED_PROXIES",
	"METRICS_ADDR", "METRICS_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_FORMAT",
}

// cliEnv is the process environment without goodplan's settings, plus vars
// ("NAME=value").
func cliEnv(vars ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(configVars, name)
	})
	return append(env, vars...)
}

// unreachableDB is a DATABASE_URL nothing answers on: a command that fails
// with a usage error before touching the database exits 2, not 1.
const unreachableDB = "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"

// cliResult is what one run of the binary produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary with args and DATABASE_URL=dbURL and waits for it
// (at most a minute).
func runCLI(t *testing.T, dbURL string, args ...string) cliResult {
	t.Helper()
	return runCLIInput(t, dbURL, "", args...)
}

// runCLIInput is runCLI with stdin as the binary's standard input.
func runCLIInput(t *testing.T, dbURL, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goodplanBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = cliEnv("DATABASE_URL="+dbURL, "PUBLIC_URL=http://portal.test")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("goodplan %s: did not finish within a minute\nstderr:\n%s", strings.Join(args, " "), res.stderr)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("goodplan %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustRunCLI runs the binary and fails the test unless it exits 0.
func mustRunCLI(t *testing.T, dbURL string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, dbURL, args...)
	if res.code != 0 {
		t.Fatalf("goodplan %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// createAccount runs `goodplan accounts create` with args and returns the
// id it prints.
func createAccount(t *testing.T, dbURL string, args ...string) int64 {
	t.Helper()
	res := mustRunCLI(t, dbURL, append([]string{"accounts", "create"}, args...)...)
	id, err := strconv.ParseInt(strings.TrimSuffix(res.stdout, "\n"), 10, 64)
	if err != nil || id <= 0 {
		t.Fatalf("accounts create printed %q, want the account id alone", res.stdout)
	}
	return id
}

// createKey runs `goodplan apikeys create` and returns the key it prints.
func createKey(t *testing.T, dbURL string, account int64) string {
	t.Helper()
	res := mustRunCLI(t, dbURL, "apikeys", "create", "--account", strconv.FormatInt(account, 10))
	key := strings.TrimSuffix(res.stdout, "\n")
	if !regexp.MustCompile(`^gp_[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("apikeys create printed %q, want the key alone", res.stdout)
	}
	return key
}

// logBuffer collects a server's output, safe for concurrent use, and hands
// over the address of its "listening" log line once that line is complete.
type logBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string // capacity 1; receives once
	sent bool
}

var listeningLine = regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=listening addr=(http://127\.0\.0\.1:\d+)\n`)

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if !b.sent {
		if m := listeningLine.FindSubmatch(b.buf.Bytes()); m != nil {
			b.sent = true
			b.addr <- string(m[1])
		}
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningServer is a `goodplan serve` process.
type runningServer struct {
	URL  string // e.g. http://127.0.0.1:41234
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed
}

// startServer starts `goodplan serve` on a free port of 127.0.0.1 against
// dbURL and waits (at most 30 s) until it logs that it is listening. The
// process is killed when the test ends if it is still running, and its log
// is printed if the test failed. env ("NAME=value") overrides the defaults.
func startServer(t *testing.T, dbURL string, env ...string) *runningServer {
	t.Helper()
	return startServe(t, dbURL, nil, env...)
}

// startServe is startServer with flags for serve (e.g. --demo).
func startServe(t *testing.T, dbURL string, flags []string, env ...string) *runningServer {
	t.Helper()
	logs := &logBuffer{addr: make(chan string, 1)}
	cmd := exec.Command(goodplanBin, append([]string{"serve"}, flags...)...)
	cmd.Env = cliEnv(
		"DATABASE_URL="+dbURL,
		"HTTP_ADDR=127.0.0.1:0",
		"PUBLIC_URL=http://portal.test",
		"DATA_DIR="+t.TempDir(),
	)
	cmd.Env = append(cmd.Env, env...) // exec keeps the last value of a name
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start goodplan serve: %v", err)
	}
	s := &runningServer{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("goodplan serve (pid %d) output:\n%s", cmd.Process.Pid, logs.String())
		}
	})
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	select {
	case s.URL = <-logs.addr:
	case <-s.done:
		t.Fatalf("goodplan serve exited before listening: %v\n%s", s.err, logs.String())
	case <-deadline.C:
		t.Fatalf("goodplan serve did not log a listening address within 30 s\n%s", logs.String())
	}
	return s
}

// kill sends SIGKILL, as a crash or an OOM kill would, and waits for the
// process to be gone.
func (s *runningServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill goodplan serve: %v", err)
	}
	s.wait(t, 10*time.Second)
}

// stop sends SIGTERM and requires a clean exit (status 0) within 20 s.
func (s *runningServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("signal goodplan serve: %v", err)
	}
	s.wait(t, 20*time.Second)
	if s.err != nil {
		t.Fatalf("goodplan serve after SIGTERM: %v, want exit status 0", s.err)
	}
}

func (s *runningServer) wait(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	select {
	case <-s.done:
	case <-deadline.C:
		t.Fatalf("goodplan serve (pid %d) still running %v after being signalled", s.cmd.Process.Pid, limit)
	}
}

// apiClient bounds every request; the burst shares its connections.
var apiClient = &http.Client{
	Timeout:   15 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 16},
}

// sendRequest sends one request with a Bearer key (none if key is "") and
// returns the status and body. It does not touch t, so the burst's
// goroutines can use it.
func sendRequest(ctx context.Context, method, url, key, body string) (int, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// call is sendRequest for the test goroutine: a transport error fails the
// test.
func call(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	status, b, err := sendRequest(t.Context(), method, url, key, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return status, b
}

// The seed's two request examples.
const (
	minimalRequest = `{
  "customer": {"name": "John Doe", "email": "john@example.com"},
  "invoice": {"amount": 1200.00}
}`
	fullRequest = `{
  "customer": {"name": "John Doe", "email": "john@example.com", "phone": "+1-555-123-4567"},
  "invoice": {"amount": 1200.00, "invoice_number": "INV-2024-001", "description": "Past due consulting services"},
  "options": {"intervals": ["weekly", "monthly"], "durations": [3, 6, 12]},
  "send_introduction_email": true
}`
)

// createdPlan is the seed's 201 body.
type createdPlan struct {
	PlanID            int64  `json:"plan_id"`
	CustomerPortalURL string `json:"customer_portal_url"`
	PlanOptions       []struct {
		ID               int64  `json:"id"`
		Installments     int    `json:"installments"`
		Interval         string `json:"interval"`
		PaymentAmount    string `json:"payment_amount"`
		FirstPaymentDate string `json:"first_payment_date"`
		FinalPaymentDate string `json:"final_payment_date"`
	} `json:"plan_options"`
	Customer struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	Invoice struct {
		ID            int64   `json:"id"`
		Amount        string  `json:"amount"`
		InvoiceNumber *string `json:"invoice_number"`
	} `json:"invoice"`
}

// requireKeys fails unless raw is a JSON object with exactly keys.
func requireKeys(t *testing.T, what string, raw json.RawMessage, keys ...string) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s is not a JSON object: %v\n%s", what, err, raw)
	}
	got := make([]string, 0, len(obj))
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("%s has keys %v, want %v\n%s", what, got, want, raw)
	}
}

// checkCreated checks a 201 body has the seed's shape, field for field and
// type for type (ids are JSON integers, amounts JSON strings), and returns it.
func checkCreated(t *testing.T, body []byte) createdPlan {
	t.Helper()
	requireKeys(t, "201 body", body, "plan_id", "customer_portal_url", "plan_options", "customer", "invoice")
	var parts struct {
		Options  []json.RawMessage `json:"plan_options"`
		Customer json.RawMessage   `json:"customer"`
		Invoice  json.RawMessage   `json:"invoice"`
	}
	if err := json.Unmarshal(body, &parts); err != nil {
		t.Fatalf("201 body: %v\n%s", err, body)
	}
	for i, o := range parts.Options {
		requireKeys(t, fmt.Sprintf("plan_options[%d]", i), o,
			"id", "installments", "interval", "payment_amount", "first_payment_date", "final_payment_date")
	}
	requireKeys(t, "customer", parts.Customer, "id", "name", "email")
	requireKeys(t, "invoice", parts.Invoice, "id", "amount", "invoice_number")

	var c createdPlan
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("201 body does not have the seed's types: %v\n%s", err, body)
	}
	if c.PlanID <= 0 || c.Customer.ID <= 0 || c.Invoice.ID <= 0 {
		t.Fatalf("201 body has non-positive ids: %s", body)
	}
	if !strings.HasPrefix(c.CustomerPortalURL, "http://portal.test/plan/") || len(c.CustomerPortalURL) <= len("http://portal.test/plan/") {
		t.Fatalf("customer_portal_url = %q, want http://portal.test/plan/<token>", c.CustomerPortalURL)
	}
	return c
}

// planURL is a plan's resource on the server at base.
func planURL(base string, id int64) string {
	return base + "/api/v1/plans/" + strconv.FormatInt(id, 10)
}

// addMonthsClamped is the seed's monthly schedule rule: the same day n
// months later, or that month's last day.
func addMonthsClamped(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d.Day(), last)-1)
}

// checkSeedExamples creates the seed's minimal and full examples and checks
// each 201 against the seed's response; it returns their plan ids.
func checkSeedExamples(t *testing.T, base, key string) []int64 {
	t.Helper()
	todayBefore := time.Now().UTC()

	status, body := call(t, http.MethodPost, base+"/api/v1/plans", key, minimalRequest)
	if status != http.StatusCreated {
		t.Fatalf("minimal example: status %d, want 201\n%s", status, body)
	}
	minimal := checkCreated(t, body)
	if minimal.Customer.Name != "John Doe" || minimal.Customer.Email != "john@example.com" ||
		minimal.Invoice.Amount != "1200.00" || minimal.Invoice.InvoiceNumber != nil {
		t.Fatalf("minimal example: customer or invoice wrong: %s", body)
	}
	// Without options: monthly, 3, 6 and 12 installments.
	if len(minimal.PlanOptions) != 3 {
		t.Fatalf("minimal example: %d plan options, want 3 (monthly x 3, 6, 12): %s", len(minimal.PlanOptions), body)
	}

	status, body = call(t, http.MethodPost, base+"/api/v1/plans", key, fullRequest)
	if status != http.StatusCreated {
		t.Fatalf("full example: status %d, want 201\n%s", status, body)
	}
	todayAfter := time.Now().UTC()
	full := checkCreated(t, body)
	if full.Customer.Name != "John Doe" || full.Customer.Email != "john@example.com" ||
		full.Invoice.Amount != "1200.00" || full.Invoice.InvoiceNumber == nil || *full.Invoice.InvoiceNumber != "INV-2024-001" {
		t.Fatalf("full example: customer or invoice wrong: %s", body)
	}
	if full.PlanID == minimal.PlanID {
		t.Fatalf("both examples got plan id %d", full.PlanID)
	}
	want := []struct {
		interval     string
		installments int
		amount       string
	}{
		{"weekly", 3, "400.00"}, {"weekly", 6, "200.00"}, {"weekly", 12, "100.00"},
		{"monthly", 3, "400.00"}, {"monthly", 6, "200.00"}, {"monthly", 12, "100.00"},
	}
	if len(full.PlanOptions) != len(want) {
		t.Fatalf("full example: %d plan options, want %d: %s", len(full.PlanOptions), len(want), body)
	}
	ids := map[int64]bool{}
	for i, o := range full.PlanOptions {
		w := want[i]
		if o.Interval != w.interval || o.Installments != w.installments || o.PaymentAmount != w.amount {
			t.Errorf("plan_options[%d] = %s x%d of %s, want %s x%d of %s",
				i, o.Interval, o.Installments, o.PaymentAmount, w.interval, w.installments, w.amount)
		}
		if o.ID <= 0 || ids[o.ID] {
			t.Errorf("plan_options[%d].id = %d: want a positive id unique in the plan", i, o.ID)
		}
		ids[o.ID] = true
		first, err1 := time.Parse(time.DateOnly, o.FirstPaymentDate)
		final, err2 := time.Parse(time.DateOnly, o.FinalPaymentDate)
		if err1 != nil || err2 != nil {
			t.Errorf("plan_options[%d] dates %q, %q: want YYYY-MM-DD", i, o.FirstPaymentDate, o.FinalPaymentDate)
			continue
		}
		// The first payment is 7 days after the (UTC) creation date.
		early := time.Date(todayBefore.Year(), todayBefore.Month(), todayBefore.Day()+7, 0, 0, 0, 0, time.UTC)
		late := time.Date(todayAfter.Year(), todayAfter.Month(), todayAfter.Day()+7, 0, 0, 0, 0, time.UTC)
		if first.Before(early) || first.After(late) {
			t.Errorf("plan_options[%d].first_payment_date = %s, want %s (7 days after today)", i, o.FirstPaymentDate, early.Format(time.DateOnly))
		}
		wantFinal := first.AddDate(0, 0, 7*(o.Installments-1))
		if o.Interval == "monthly" {
			wantFinal = addMonthsClamped(first, o.Installments-1)
		}
		if !final.Equal(wantFinal) {
			t.Errorf("plan_options[%d] (%s x%d) final_payment_date = %s, want %s",
				i, o.Interval, o.Installments, o.FinalPaymentDate, wantFinal.Format(time.DateOnly))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return []int64{minimal.PlanID, full.PlanID}
}

// storedPlan is the part of GET /api/v1/plans/{id} the tests compare.
type storedPlan struct {
	PlanID  int64 `json:"plan_id"`
	Invoice struct {
		Amount string `json:"amount"`
	} `json:"invoice"`
}

// verifyLine is `goodplan verify`'s success output.
var verifyLine = regexp.MustCompile(`^ok: (\d+) events in (\d+) streams`)

func TestBlackBoxCrashLosesNoAcceptedWrite(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Crash Test", "--rate-limit", "0")
	key := createKey(t, dbURL, acct)

	srv := startServer(t, dbURL)
	status, body := call(t, http.MethodGet, srv.URL+"/api/health", "", "")
	var health struct{ Status string }
	if err := json.Unmarshal(body, &health); status != http.StatusOK || err != nil || health.Status != "ok" {
		t.Fatalf("GET /api/health: %d %s, want 200 with status ok", status, body)
	}
	examples := checkSeedExamples(t, srv.URL, key)

	// The burst: 8 clients create distinct plans as fast as they can until
	// the server is killed under them.
	const (
		clients   = 8
		killAfter = 150 // 201s received
		minBurst  = 1500 * time.Millisecond
	)
	type accepted struct {
		id     int64
		amount string
	}
	var (
		mu         sync.Mutex
		plans      []accepted
		unexpected []string // responses that are neither a 201 nor a lost connection
		stopped    []error  // why each client stopped
		n201       atomic.Int64
		wg         sync.WaitGroup
	)
	reached := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	burstStart := time.Now()
	for g := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				if ctx.Err() != nil {
					mu.Lock()
					stopped = append(stopped, ctx.Err())
					mu.Unlock()
					return
				}
				amount := fmt.Sprintf("%d.%02d", 100+g*1_000_000+i, (g*13+i)%100)
				req := fmt.Sprintf(`{"customer":{"name":"Burst Customer %d-%d","email":"burst.%d.%d@example.com"},`+
					`"invoice":{"amount":%s,"invoice_number":"B-%d-%d"},"send_introduction_email":false}`, g, i, g, i, amount, g, i)
				status, body, err := sendRequest(ctx, http.MethodPost, srv.URL+"/api/v1/plans", key, req)
				if err != nil {
					mu.Lock()
					stopped = append(stopped, err)
					mu.Unlock()
					return
				}
				var c struct {
					PlanID  int64 `json:"plan_id"`
					Invoice struct {
						Amount string `json:"amount"`
					} `json:"invoice"`
				}
				if status != http.StatusCreated || json.Unmarshal(body, &c) != nil || c.PlanID <= 0 || c.Invoice.Amount != amount {
					mu.Lock()
					unexpected = append(unexpected, fmt.Sprintf("client %d request %d (amount %s): %d %s", g, i, amount, status, body))
					stopped = append(stopped, errors.New("unexpected response"))
					mu.Unlock()
					return
				}
				mu.Lock()
				plans = append(plans, accepted{c.PlanID, c.Invoice.Amount})
				mu.Unlock()
				if n201.Add(1) == killAfter {
					close(reached)
				}
			}
		})
	}

	// Kill once killAfter plans were accepted, or after minBurst if the
	// machine is slower than that; the clients are mid-request either way.
	minTimer := time.NewTimer(minBurst)
	defer minTimer.Stop()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	select {
	case <-reached:
	case <-minTimer.C:
	case <-deadline.C:
	}
	srv.kill(t)
	killedAt := time.Since(burstStart)
	atKill := n201.Load()

	clientsDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(clientsDone)
	}()
	select {
	case <-clientsDone:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("burst clients still running 30 s after the server was killed")
	}
	for _, u := range unexpected {
		t.Errorf("unexpected response during the burst: %s", u)
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(plans) == 0 {
		t.Fatalf("no plan was accepted in %v before the kill", killedAt)
	}
	if len(stopped) != clients {
		t.Fatalf("%d of %d clients stopped", len(stopped), clients)
	}
	for _, err := range stopped {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a burst client ran until its deadline instead of losing its connection: %v", err)
		}
	}
	t.Logf("killed the server %v into the burst with %d plans accepted; %d accepted in all (%d clients cut off mid-request or refused)",
		killedAt.Round(time.Millisecond), atKill, len(plans), len(stopped))

	// Every plan that got a 201 is there after a restart, as it was accepted.
	srv = startServer(t, dbURL)
	seen := make(map[int64]bool, len(plans))
	for _, p := range plans {
		if seen[p.id] {
			t.Fatalf("plan id %d was returned by two 201s", p.id)
		}
		seen[p.id] = true
		status, body := call(t, http.MethodGet, planURL(srv.URL, p.id), key, "")
		if status != http.StatusOK {
			t.Fatalf("GET plan %d after the crash: %d %s, want 200 (a 201 was returned for it)", p.id, status, body)
		}
		var got storedPlan
		if err := json.Unmarshal(body, &got); err != nil || got.PlanID != p.id || got.Invoice.Amount != p.amount {
			t.Fatalf("GET plan %d after the crash: %s, want plan_id %d with invoice amount %s", p.id, body, p.id, p.amount)
		}
	}
	t.Logf("all %d plans accepted before the kill were read back after the restart", len(plans))

	// The restarted process hands out fresh ids (its id blocks are new).
	status, body = call(t, http.MethodPost, srv.URL+"/api/v1/plans", key, minimalRequest)
	if status != http.StatusCreated {
		t.Fatalf("create after restart: %d %s, want 201", status, body)
	}
	after := checkCreated(t, body)
	if seen[after.PlanID] || slices.Contains(examples, after.PlanID) {
		t.Fatalf("plan created after the restart got id %d, already used before the crash", after.PlanID)
	}

	// Another account's key sees none of these plans.
	other := createKey(t, dbURL, createAccount(t, dbURL, "--name", "Other Merchant", "--rate-limit", "0"))
	for _, path := range []string{planURL(srv.URL, plans[0].id), planURL(srv.URL, plans[0].id) + "/events", planURL(srv.URL, examples[1])} {
		if status, body := call(t, http.MethodGet, path, other, ""); status != http.StatusNotFound {
			t.Fatalf("GET %s with another account's key: %d %s, want 404", path, status, body)
		}
	}
	if status, body := call(t, http.MethodGet, planURL(srv.URL, plans[0].id), "", ""); status != http.StatusUnauthorized ||
		string(body) != `{"error":"API key required","message":"Please provide an API key in the Authorization header"}` {
		t.Fatalf("GET without a key: %d %s, want the seed's 401", status, body)
	}

	// The event store's hash chains survived the kill, and hold at least
	// one event per accepted plan.
	res := mustRunCLI(t, dbURL, "verify")
	m := verifyLine.FindStringSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("goodplan verify printed %q, want \"ok: N events in M streams...\"", res.stdout)
	}
	events, _ := strconv.Atoi(m[1])
	streams, _ := strconv.Atoi(m[2])
	if wantMin := len(plans) + len(examples) + 1; events < wantMin || streams < wantMin {
		t.Fatalf("goodplan verify: %d events in %d streams, want at least %d of each (%d 201s)", events, streams, wantMin, wantMin)
	}
	t.Logf("goodplan verify: %d events in %d streams for %d 201s (%d burst + %d examples + 1 after restart)",
		events, streams, len(plans)+len(examples)+1, len(plans), len(examples))
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()

	// Mistakes in the command line exit 2 before any database is needed.
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "Usage:"},
		{"unknown command", []string{"bogus"}, 2, "", `unknown command "bogus"`},
		{"accounts without create", []string{"accounts"}, 2, "", "accounts: expected 'create'"},
		{"accounts create without name", []string{"accounts", "create"}, 2, "", "--name is required"},
		{"negative rate limit", []string{"accounts", "create", "--name", "X", "--rate-limit", "-1"}, 2, "", "must not be negative"},
		{"apikeys create without account", []string{"apikeys", "create"}, 2, "", "--account ID is required"},
		{"apikeys without a subcommand", []string{"apikeys"}, 2, "", "expected 'create', 'list' or 'revoke'"},
		{"apikeys list without account", []string{"apikeys", "list"}, 2, "", "--account ID is required"},
		{"apikeys revoke without key", []string{"apikeys", "revoke", "--account", "1"}, 2, "", "--key KEY_OR_ID are required"},
		{"unknown flag", []string{"verify", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"positional argument", []string{"migrate", "extra"}, 2, "", `unexpected argument "extra"`},
		{"serve -h", []string{"serve", "-h"}, 0, "", "Usage: goodplan serve"},
		{"-h", []string{"-h"}, 0, "Usage:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, unreachableDB, tc.args...)
			if res.code != tc.wantCode || !strings.Contains(res.stdout, tc.wantStdout) || !strings.Contains(res.stderr, tc.wantStderr) {
				t.Fatalf("goodplan %s: exit %d, want %d with stdout containing %q and stderr containing %q\nstdout:\n%s\nstderr:\n%s",
					strings.Join(tc.args, " "), res.code, tc.wantCode, tc.wantStdout, tc.wantStderr, res.stdout, res.stderr)
			}
		})
	}

	t.Run("apikeys create for a missing account", func(t *testing.T) {
		t.Parallel()
		res := runCLI(t, pgtest.NewDatabase(t), "apikeys", "create", "--account", "999999")
		if res.code == 0 || res.stdout != "" || !strings.Contains(res.stderr, "account 999999 does not exist") {
			t.Fatalf("exit %d, want non-zero, nothing on stdout and \"does not exist\" on stderr\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
	})

	t.Run("plan limit", func(t *testing.T) {
		t.Parallel()
		dbURL := pgtest.NewDatabase(t)
		key := createKey(t, dbURL, createAccount(t, dbURL, "--name", "X", "--plan-limit", "1"))
		srv := startServer(t, dbURL)
		if status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plans", key, minimalRequest); status != http.StatusCreated {
			t.Fatalf("first plan: %d %s, want 201", status, body)
		}
		status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plans", key, fullRequest)
		const want = `{"error":"Plan limit reached","message":"Your subscription plan limit has been reached."}`
		if status != http.StatusForbidden || string(body) != want {
			t.Fatalf("second plan: %d %s, want 403 %s", status, body, want)
		}
	})
}

func TestVerifyDetectsTamperedEvent(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	key := createKey(t, dbURL, createAccount(t, dbURL, "--name", "Tamper Test", "--rate-limit", "0"))
	srv := startServer(t, dbURL)
	for i := range 3 {
		if status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plans", key, minimalRequest); status != http.StatusCreated {
			t.Fatalf("plan %d: %d %s, want 201", i, status, body)
		}
	}
	srv.stop(t)

	res := mustRunCLI(t, dbURL, "verify")
	if m := verifyLine.FindStringSubmatch(res.stdout); m == nil || m[1] == "0" || m[1] == "1" || m[1] == "2" {
		t.Fatalf("goodplan verify before tampering printed %q, want \"ok: N events...\" with N >= 3", res.stdout)
	}

	// Change one byte of one stored event, the way someone with write access
	// to the database could: the immutability triggers are bypassed by
	// running as a replica.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", dbURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatalf("bypass triggers: %v", err)
	}
	var stream, eventID string
	err = conn.QueryRow(ctx, `UPDATE events SET data = overlay(data placing '\x20'::bytea from 3 for 1)
		WHERE version = 1 AND stream_id = (SELECT min(stream_id) FROM events)
		RETURNING stream_id, event_id::text`).Scan(&stream, &eventID)
	if err != nil {
		t.Fatalf("tamper with an event: %v", err)
	}

	res = runCLI(t, dbURL, "verify")
	if res.code != 1 || !strings.Contains(res.stderr, "first bad event") ||
		!strings.Contains(res.stderr, eventID) || !strings.Contains(res.stderr, "stream "+stream+",") {
		t.Fatalf("goodplan verify after tampering with event %s of %s: exit %d, want 1 naming the event\nstdout:\n%s\nstderr:\n%s",
			eventID, stream, res.code, res.stdout, res.stderr)
	}
}
