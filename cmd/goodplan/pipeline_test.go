package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"goodplan/eventstore/pgtest"
)

// mailSink is an SMTP server in the test: it records every accepted message
// and can answer the next messages with 451 (try again later).
type mailSink struct {
	addr     string
	mu       sync.Mutex
	accepted []sunkMail
	fail451  int // answer the next N messages with 451
	rejected int
}

type sunkMail struct {
	MessageID, To, Subject string
	Body                   string
}

func startMailSink(t *testing.T) *mailSink {
	t.Helper()
	sink := &mailSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink
}

type sinkSession struct{ sink *mailSink }

func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if s.sink.fail451 > 0 {
		s.sink.fail451--
		s.sink.rejected++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	s.sink.accepted = append(s.sink.accepted, sunkMail{MessageID: m.Header.Get("Message-Id"), To: m.Header.Get("To"),
		Subject: m.Header.Get("Subject"), Body: string(body)})
	return nil
}

// byPlan groups accepted emails by the plan id in their Message-ID.
func (s *mailSink) byPlan() map[int64][]sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64][]sunkMail{}
	re := regexp.MustCompile(`<plan-(\d+)\.introduction@`)
	for _, m := range s.accepted {
		if g := re.FindStringSubmatch(m.MessageID); g != nil {
			id, _ := strconv.ParseInt(g[1], 10, 64)
			out[id] = append(out[id], m)
		}
	}
	return out
}

// hookSink is a merchant's webhook receiver: it verifies every delivery with
// the Standard Webhooks library and can answer the next ones with 500.
type hookSink struct {
	srv     *httptest.Server
	mu      sync.Mutex
	wh      *standardwebhooks.Webhook
	ok      []hookDelivery // verified and answered 2xx
	bad     int            // failed verification
	fail500 int
	failed  []string // webhook-ids answered 500
}

type hookDelivery struct {
	ID, Event string
	PlanID    int64
}

func startHookSink(t *testing.T) *hookSink {
	t.Helper()
	h := &hookSink{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.wh == nil || h.wh.Verify(body, r.Header) != nil {
			h.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if h.fail500 > 0 {
			h.fail500--
			h.failed = append(h.failed, r.Header.Get("webhook-id"))
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var p struct {
			Event     string `json:"event"`
			Timestamp string `json:"timestamp"`
			Data      struct {
				PlanID int64 `json:"plan_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.Timestamp == "" {
			h.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.ok = append(h.ok, hookDelivery{ID: r.Header.Get("webhook-id"), Event: p.Event, PlanID: p.Data.PlanID})
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// subscribe registers the sink as a webhook endpoint of the account of key
// for events (a JSON array; "[]" is every type) and verifies deliveries with
// the secret the API returns.
func (h *hookSink) subscribe(t *testing.T, base, key, events string) {
	t.Helper()
	status, b := call(t, "POST", base+"/api/v1/webhook-endpoints", key, `{"url":"`+h.srv.URL+`/hooks","events":`+events+`}`)
	if status != http.StatusCreated {
		t.Fatalf("create webhook endpoint: %d %s", status, b)
	}
	var ep struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &ep); err != nil || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("endpoint secret: %s", b)
	}
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.wh = wh
	h.mu.Unlock()
}

func (h *hookSink) createdFor() map[int64][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[int64][]string{}
	for _, d := range h.ok {
		if d.Event == "plan.created" {
			out[d.PlanID] = append(out[d.PlanID], d.ID)
		}
	}
	return out
}

// natsProc is a NATS server process of the test's own, so the test can stop
// and restart it.
type natsProc struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func startNATS(t *testing.T, port int, dir string) *natsProc {
	t.Helper()
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	n := &natsProc{port: port, dir: dir}
	n.cmd = exec.Command("/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("nats-server is required for this test: %v", err)
	}
	t.Cleanup(n.stop)
	pgtest.WaitFor(t, 10*time.Second, "nats-server to listen on "+n.addr(), func() bool {
		c, err := net.Dial("tcp", n.addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return n
}

func (n *natsProc) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

func (n *natsProc) stop() {
	if n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	_ = n.cmd.Wait()
}

// pipelinePlans remembers every plan that got a 201 and whether it asked for
// an introduction email.
type pipelinePlans struct {
	mu     sync.Mutex
	email  map[int64]bool
	portal map[int64]string // customer_portal_url from the 201
}

func (p *pipelinePlans) create(ctx context.Context, base, key string, n int, intro bool) error {
	body := fmt.Sprintf(`{"customer":{"name":"Customer %d \"Q\" 😀","email":"c%d@example.com"},"invoice":{"amount":%d.50},"send_introduction_email":%v}`, n, n, 100+n, intro)
	status, b, err := sendRequest(ctx, "POST", base+"/api/v1/plans", key, body)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("create plan: %d %s", status, b)
	}
	var c struct {
		PlanID            int64  `json:"plan_id"`
		CustomerPortalURL string `json:"customer_portal_url"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	p.mu.Lock()
	p.email[c.PlanID] = intro
	p.portal[c.PlanID] = c.CustomerPortalURL
	p.mu.Unlock()
	return nil
}

func (p *pipelinePlans) snapshot() map[int64]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64]bool, len(p.email))
	for k, v := range p.email {
		out[k] = v
	}
	return out
}

func TestPipelineEmbeddedNATS(t *testing.T) { t.Parallel(); runPipeline(t, false) }
func TestPipelineExternalNATS(t *testing.T) { t.Parallel(); runPipeline(t, true) }

// runPipeline is issue 3's end-to-end suite against the built binary: intro
// emails and verified webhooks for every plan, through an SMTP 451, a webhook
// 500, a NATS restart and a SIGKILL mid-burst; then replay agrees with the
// live read model, and a corrupted row makes it fail with a diff.
func runPipeline(t *testing.T, external bool) {
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Pipeline & Co", "--rate-limit", "0")
	key := createKey(t, db, acct)
	sink := startMailSink(t)
	sink.fail451 = 1
	hooks := startHookSink(t)
	hooks.fail500 = 1

	dataDir := t.TempDir()
	env := []string{"SMTP_URL=smtp://" + sink.addr + "?tls=none", "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true", "DATA_DIR=" + dataDir}
	var nats *natsProc
	if external {
		nats = startNATS(t, 0, t.TempDir())
		env = append(env, "NATS_URL=nats://"+nats.addr())
	}
	srv := startServer(t, db, env...)

	hooks.subscribe(t, srv.URL, key, `["plan.created"]`)

	plans := &pipelinePlans{email: map[int64]bool{}, portal: map[int64]string{}}
	n := 0
	createSome := func(count int) {
		t.Helper()
		for range count {
			n++
			if err := plans.create(t.Context(), srv.URL, key, n, n%4 != 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	phase := func(name string) { t.Logf("%6.2fs %s", time.Since(start).Seconds(), name) }
	createSome(8)
	phase("8 plans created")

	// NATS restarts: plans created while it is down still go out after.
	if external {
		nats.stop()
		createSome(4)
		nats = startNATS(t, nats.port, nats.dir)
	} else {
		srv.stop(t) // the embedded server stops and starts with the service
		srv = startServer(t, db, env...)
	}
	createSome(4)

	// Through the 451, the 500 and the NATS restart, nothing is lost and no
	// email or delivery is sent twice.
	phase("NATS restarted, 8 more plans")
	before := plans.snapshot()
	mails, deliveries := waitDelivered(t, sink, hooks, before)
	phase("all delivered before the crash")
	for id := range before {
		if len(mails[id]) > 1 || len(deliveries[id]) > 1 {
			t.Fatalf("plan %d: %d emails and %d deliveries before any crash, want at most 1 each", id, len(mails[id]), len(deliveries[id]))
		}
	}

	// SIGKILL in the middle of a burst of creates, then restart.
	var ok201 atomic.Int64
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var burstN atomic.Int64
	burstN.Store(1000)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if plans.create(ctx, srv.URL, key, int(burstN.Add(1)), true) != nil {
					return
				}
				ok201.Add(1)
			}
		})
	}
	pgtest.Every(5*time.Millisecond).WaitFor(t, time.Minute, "40 creates of the burst", func() bool { return ok201.Load() >= 40 })
	srv.kill(t)
	cancel()
	wg.Wait()
	phase("killed mid-burst")
	srv = startServer(t, db, env...)
	createSome(2)
	phase("restarted")

	want := plans.snapshot()
	t.Logf("%d plans created (%d in the burst cut by SIGKILL)", len(want), ok201.Load())

	// Every plan: one intro email iff asked, one verified plan.created delivery.
	waitDelivered(t, sink, hooks, want)
	phase("all delivered after the crash")
	// A duplicate on its way was sent before a plan created now: once this
	// marker plan's email and delivery are in, the duplicates are too.
	marker := createMarker(t, plans, srv.URL, key, &n)
	want = plans.snapshot()
	waitDelivered(t, sink, hooks, want)
	phase(fmt.Sprintf("marker plan %d delivered", marker))
	mails, deliveries = sink.byPlan(), hooks.createdFor()

	dupMails, dupHooks := 0, 0
	for id, intro := range want {
		got := mails[id]
		if !intro && len(got) > 0 {
			t.Errorf("plan %d asked for no email and got %d", id, len(got))
		}
		for _, m := range got {
			if m.MessageID != got[0].MessageID {
				t.Errorf("plan %d: two different emails (%s, %s)", id, got[0].MessageID, m.MessageID)
			}
			plans.mu.Lock()
			link := plans.portal[id]
			plans.mu.Unlock()
			if !strings.HasPrefix(link, "http://portal.test/plan/") || !strings.Contains(m.Body, link) {
				t.Errorf("plan %d: the email does not carry the plan's portal link %q", id, link)
			}
		}
		if len(got) > 1 {
			dupMails += len(got) - 1
		}
		ids := deliveries[id]
		for _, d := range ids {
			if d != ids[0] {
				t.Errorf("plan %d: deliveries with different webhook-ids %v", id, ids)
			}
		}
		dupHooks += len(ids) - 1
	}
	for id := range mails {
		if _, ok := want[id]; !ok {
			// a create whose 201 was lost in the SIGKILL: stored, so emailed
			t.Logf("plan %d was emailed though its 201 never arrived (accepted before the kill)", id)
		}
	}
	sink.mu.Lock()
	rejected := sink.rejected
	sink.mu.Unlock()
	hooks.mu.Lock()
	bad, failed := hooks.bad, hooks.failed
	hooks.mu.Unlock()
	t.Logf("emails: %d rejected with 451 then retried, %d duplicates (same Message-ID) after SIGKILL; webhooks: %d answered 500 then retried, %d redelivered after SIGKILL",
		rejected, dupMails, len(failed), dupHooks)
	// A crash between the SMTP server's 250 and the recorded sent event can
	// only resend the emails in flight at that moment (8 email workers), and
	// always with the same Message-ID, so mailboxes collapse them.
	if dupMails > 8 {
		t.Fatalf("%d duplicate emails after one SIGKILL, more than the 8 that can be in flight", dupMails)
	}
	if rejected != 1 || len(failed) != 1 || bad != 0 {
		t.Fatalf("451s %d, 500s %d, unverifiable deliveries %d; want 1, 1, 0", rejected, len(failed), bad)
	}
	// The 500'd delivery was retried with the same webhook-id.
	retried := false
	for _, ids := range deliveries {
		if len(ids) > 0 && ids[0] == failed[0] {
			retried = true
		}
	}
	if !retried {
		t.Fatalf("the delivery answered 500 (%s) was never delivered", failed[0])
	}

	// The read model caught up: every plan listed, emails recorded.
	waitForList(t, srv.URL, key, want)

	// Replay agrees with the live read model, and sends nothing.
	sink.mu.Lock()
	mailsBefore := len(sink.accepted)
	sink.mu.Unlock()
	hooks.mu.Lock()
	hooksBefore := len(hooks.ok)
	hooks.mu.Unlock()
	res := mustRunCLI(t, db, "replay")
	if !strings.Contains(res.stdout, " 0 differences") {
		t.Fatalf("replay: %s", res.stdout)
	}
	// Whatever replay set off would be sent before a plan created after it:
	// once the marker's email and delivery are in, nothing else may be.
	marker = createMarker(t, plans, srv.URL, key, &n)
	waitDelivered(t, sink, hooks, map[int64]bool{marker: true})
	sink.mu.Lock()
	mailsAfter := len(sink.accepted) - 1 // the marker's
	sink.mu.Unlock()
	hooks.mu.Lock()
	hooksAfter := len(hooks.ok) - 1
	hooks.mu.Unlock()
	if mailsAfter != mailsBefore || hooksAfter != hooksBefore {
		t.Fatalf("replay sent %d emails and %d webhooks", mailsAfter-mailsBefore, hooksAfter-hooksBefore)
	}

	// A corrupted read-model row makes replay fail with a diff.
	var victim int64
	for id := range want {
		victim = id
		break
	}
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE plan_views SET status = 'cancelled' WHERE plan_id = $1`, victim); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, db, "replay", "--wait", "1s")
	if res.code != 1 || !strings.Contains(res.stdout, fmt.Sprintf("plan %d:", victim)) || !strings.Contains(res.stdout, `"cancelled"`) {
		t.Fatalf("replay after corruption: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	mustRunCLI(t, db, "verify")
}

// createMarker creates plan *n+1 (with an introduction email) and returns
// its id: a plan whose email and delivery come after everything sent before.
func createMarker(t *testing.T, plans *pipelinePlans, base, key string, n *int) int64 {
	t.Helper()
	before := plans.snapshot()
	*n++
	if err := plans.create(t.Context(), base, key, *n, true); err != nil {
		t.Fatal(err)
	}
	for id := range plans.snapshot() {
		if _, ok := before[id]; !ok {
			return id
		}
	}
	t.Fatal("the marker plan was not recorded")
	return 0
}

// waitDelivered waits (90 s at most) until every plan in want has its
// introduction email (if it asked for one) and a verified plan.created
// delivery, and returns what the sinks hold.
func waitDelivered(t *testing.T, sink *mailSink, hooks *hookSink, want map[int64]bool) (map[int64][]sunkMail, map[int64][]string) {
	t.Helper()
	var mails map[int64][]sunkMail
	var deliveries map[int64][]string
	pgtest.WaitForNil(t, 90*time.Second, "every plan's email and webhook", func() error {
		mails, deliveries = sink.byPlan(), hooks.createdFor()
		missing := 0
		for id, intro := range want {
			if (intro && len(mails[id]) == 0) || len(deliveries[id]) == 0 {
				missing++
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d plans still lack their email or webhook", missing, len(want))
		}
		return nil
	})
	return mails, deliveries
}

// waitForList polls GET /api/v1/plans until the read model lists every plan
// with its introduction email recorded.
func waitForList(t *testing.T, base, key string, want map[int64]bool) {
	t.Helper()
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the read model to list every plan with its email status", func() error {
		seen := map[int64]string{}
		for offset := 0; ; offset += 100 {
			status, b := call(t, "GET", fmt.Sprintf("%s/api/v1/plans?limit=100&offset=%d", base, offset), key, "")
			if status != 200 {
				t.Fatalf("list plans: %d %s", status, b)
			}
			var page struct {
				Items []struct {
					PlanID            int64 `json:"plan_id"`
					IntroductionEmail struct {
						Status string `json:"status"`
					} `json:"introduction_email"`
				} `json:"items"`
				TotalItems int `json:"total_items"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				seen[it.PlanID] = it.IntroductionEmail.Status
			}
			if offset+100 >= page.TotalItems {
				break
			}
		}
		behind := 0
		for id, intro := range want {
			st, ok := seen[id]
			if !ok || (intro && st != "sent") || (!intro && st != "not_requested") {
				behind++
			}
		}
		if behind > 0 {
			return fmt.Errorf("%d of %d plans not listed with their email status", behind, len(want))
		}
		return nil
	})
}
