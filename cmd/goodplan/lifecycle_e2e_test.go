package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore/pgtest"
)

// shiftClock is the real time plus an offset a test can move forward.
type shiftClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *shiftClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *shiftClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// startInProcess runs serve in this process with an injected clock (the
// only difference from the binary) and returns its base URL. It stops when
// the test ends.
func startInProcess(t *testing.T, db string, clock *shiftClock, env map[string]string) string {
	t.Helper()
	vars := map[string]string{
		"DATABASE_URL": db, "HTTP_ADDR": "127.0.0.1:0", "PUBLIC_URL": "http://portal.test",
		"DATA_DIR": t.TempDir(), "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "SCHEDULER_INTERVAL": "200ms",
		// The test's customer drives the portal far faster than a person
		// from one address; the per-IP limits have tests of their own.
		"IP_RATE_LIMIT": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.now = clock.now
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, nil, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("serve output:\n%s", logs.String())
		}
	})
	select {
	case base := <-logs.addr:
		return base
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s\n%s", logs.String())
	}
	return ""
}

// portal is a customer's browser without JavaScript: it reads the page's
// forms and posts them back with their CSRF field.
type portal struct {
	t    *testing.T
	base string // http://127.0.0.1:port/plan/{token}
}

var csrfField = regexp.MustCompile(`name="csrf"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrf"`)

func (p *portal) page() string {
	p.t.Helper()
	res, err := http.Get(p.base)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		p.t.Fatalf("GET portal: %d\n%s", res.StatusCode, b)
	}
	return string(b)
}

// post submits form to path (relative to the plan page) and expects the
// Post/Redirect/Get answer.
func (p *portal) post(path string, form url.Values) {
	p.t.Helper()
	m := csrfField.FindStringSubmatch(p.page())
	if m == nil {
		p.t.Fatal("portal page has no csrf field")
	}
	form.Set("csrf", html.UnescapeString(m[1]+m[2]))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("POST %s %v: %d\n%s", path, form, res.StatusCode, b)
	}
}

// TestLifecycleWebhooksEndToEnd drives one plan through every lifecycle
// step the merchant (API), the customer (portal forms) and time (the
// scheduler) can take, and checks that each of the 16 webhook event types
// arrives, signed, at a subscribed endpoint.
func TestLifecycleWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Lifecycle & Co", "--rate-limit", "0")
	key := createKey(t, db, acct)
	hooks := startHookSink(t)
	clock := &shiftClock{}
	base := startInProcess(t, db, clock, nil)

	hooks.subscribe(t, base, key, "[]")

	type planBody struct {
		PlanID      int64  `json:"plan_id"`
		PortalURL   string `json:"customer_portal_url"`
		PlanOptions []struct {
			ID int64 `json:"id"`
		} `json:"plan_options"`
		Payments []struct {
			ID int64 `json:"id"`
		} `json:"payments"`
		Proposals []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"proposals"`
		Status string `json:"status"`
		Ledger struct {
			Outstanding string `json:"outstanding"`
		} `json:"ledger"`
	}
	api := func(method, path, body string, want int) planBody {
		t.Helper()
		status, b := call(t, method, base+"/api/v1"+path, key, body)
		if status != want {
			t.Fatalf("%s %s: %d %s", method, path, status, b)
		}
		var p planBody
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	create := func() (planBody, *portal) {
		p := api("POST", "/plans", `{"customer":{"name":"Kim","email":"kim@example.com"},"invoice":{"amount":"900.00"},
			"options":{"durations":[3]},"send_introduction_email":false}`, http.StatusCreated)
		token := p.PortalURL[strings.LastIndex(p.PortalURL, "/")+1:]
		cust := &portal{t: t, base: base + "/plan/" + token}
		// The portal finds plans through the read model: wait for it.
		pgtest.Every(50*time.Millisecond).WaitFor(t, 20*time.Second, fmt.Sprintf("the portal of plan %d to open", p.PlanID), func() bool {
			res, err := http.Get(cust.base)
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		})
		return p, cust
	}
	plan, cust := create()
	id := fmt.Sprintf("/plans/%d", plan.PlanID)
	today := clock.now().UTC().Format(time.DateOnly)
	later := clock.now().UTC().AddDate(0, 0, 10).Format(time.DateOnly)

	cust.post("/select", url.Values{"option_id": {fmt.Sprint(plan.PlanOptions[0].ID)}}) // plan.activated
	cust.post("/payments", url.Values{"amount": {"100.00"}, "paid_on": {today}, "method": {"e_transfer"}})
	var p planBody
	pgtest.Every(50*time.Millisecond).WaitFor(t, 20*time.Second, "the reported payment to reach the read model", func() bool {
		p = api("GET", id, "", http.StatusOK)
		return len(p.Payments) > 0
	})
	api("POST", fmt.Sprintf("%s/payments/%d/confirm", id, p.Payments[0].ID), "", http.StatusOK) // installment.confirmed
	api("POST", id+"/installments/2/extend", `{"due_date":"`+clock.now().UTC().AddDate(0, 3, 0).Format(time.DateOnly)+`"}`, http.StatusOK)
	api("POST", id+"/installments/3/defer", "", http.StatusOK)

	proposed := map[int64]bool{}
	propose := func(n string) int64 {
		t.Helper()
		cust.post("/proposals", url.Values{"installments": {n}, "interval": {"weekly"}, "first_payment_date": {later}})
		// The read model may still be behind: wait for a proposal that is new.
		var id64 int64
		pgtest.Every(50*time.Millisecond).WaitFor(t, 20*time.Second, "the proposal to reach the read model", func() bool {
			for _, pr := range api("GET", id, "", http.StatusOK).Proposals {
				if pr.Status == "pending" && !proposed[pr.ID] {
					proposed[pr.ID], id64 = true, pr.ID
					return true
				}
			}
			return false
		})
		return id64
	}
	pr := propose("4")
	api("POST", fmt.Sprintf("%s/proposals/%d/counter", id, pr), `{"installments":2,"interval":"monthly","first_payment_date":"`+later+`"}`, http.StatusOK)
	cust.post(fmt.Sprintf("/proposals/%d/accept", pr), url.Values{}) // proposal.counter_accepted
	pr = propose("5")
	api("POST", fmt.Sprintf("%s/proposals/%d/decline", id, pr), `{"reason":"Too many."}`, http.StatusOK)
	pr = propose("3")
	api("POST", fmt.Sprintf("%s/proposals/%d/approve", id, pr), "", http.StatusOK)
	api("POST", id+"/cancel", `{"reason":"Agreed by phone"}`, http.StatusOK)
	api("POST", id+"/reactivate", "", http.StatusOK)
	api("POST", id+"/write-off", "", http.StatusOK)
	p = api("POST", id+"/reactivate", "", http.StatusOK)
	p = api("POST", id+"/payments", `{"amount":"`+p.Ledger.Outstanding+`","method":"bank_transfer"}`, http.StatusCreated)
	if p.Status != "completed" {
		t.Fatalf("plan is %s after the last payment", p.Status)
	}

	// A second plan nobody answers: 30 days on, the scheduler abandons it.
	idle, _ := create()
	clock.advance(31 * 24 * time.Hour)

	want := []string{"plan.created", "plan.activated", "plan.completed", "plan.abandoned", "plan.cancelled",
		"plan.written_off", "plan.reactivated", "installment.paid", "installment.confirmed",
		"installment.extension_granted", "installment.deferred", "proposal.created", "proposal.approved",
		"proposal.countered", "proposal.declined", "proposal.counter_accepted"}
	if len(want) != len(domain.WebhookEventTypes) {
		t.Fatalf("the test lists %d event types, goodplan has %d", len(want), len(domain.WebhookEventTypes))
	}
	pgtest.WaitForNil(t, time.Minute, "a webhook of every event type", func() error {
		hooks.mu.Lock()
		seen := map[string]bool{}
		for _, d := range hooks.ok {
			if d.PlanID == plan.PlanID || d.PlanID == idle.PlanID && d.Event == "plan.abandoned" {
				seen[d.Event] = true
			}
		}
		bad := hooks.bad
		hooks.mu.Unlock()
		var missing []string
		for _, typ := range want {
			if !seen[typ] {
				missing = append(missing, typ)
			}
		}
		if bad != 0 {
			t.Fatalf("%d deliveries failed signature or shape checks", bad)
		}
		if len(missing) > 0 {
			return fmt.Errorf("none yet for %v", missing)
		}
		return nil
	})
	// Each event was delivered once per webhook id.
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	var ids []string
	for _, d := range hooks.ok {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(hooks.ok) {
		t.Fatal("a webhook was delivered twice")
	}
}
