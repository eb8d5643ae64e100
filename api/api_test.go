package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// seedNow is the seed's health-check timestamp: plans created then have
// their first payment on 2025-12-04, as in the seed's 201 example.
var seedNow = time.Date(2025, 11, 27, 1, 15, 30, 0, time.UTC)

type testEnv struct {
	srv   *Server
	store *eventstore.Store
	clock *fakeClock
	key   string
	acct  eventstore.Account
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	clock := &fakeClock{t: seedNow}
	env := &testEnv{store: store, clock: clock}
	env.srv = New(Config{Store: store, PublicURL: "https://goodplan.test/", Version: "test", Now: clock.now})
	env.acct, env.key = env.account(t, eventstore.NewAccount{Name: "Acme", RateLimitPerMinute: 0})
	return env
}

func (e *testEnv) account(t testing.TB, na eventstore.NewAccount) (eventstore.Account, string) {
	t.Helper()
	ctx := context.Background()
	acct, err := e.store.CreateAccount(ctx, na)
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	return acct, key
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (e *testEnv) do(t testing.TB, method, path, key string, body []byte, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return e.serve(req, headers...)
}

// serve sends req, with headers (name, value, ...), to the server.
func (e *testEnv) serve(req *http.Request, headers ...string) response {
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

const seedMinimal = `{
"customer": {
"name": "John Doe",
"email": "john@example.com"
},
"invoice": {
"amount": 1200.00
}
}`

const seedFull = `{
"customer": {
"name": "John Doe",
"email": "john@example.com",
"phone": "+1-555-123-4567"
},
"invoice": {
"amount": 1200.00,
"invoice_number": "INV-2024-001",
"description": "Past due consulting services"
},
"options": {
"intervals": ["weekly", "monthly"],
"durations": [3, 6, 12]
},
"send_introduction_email": true
}`

func TestSeedRequestExamples(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, c := range []struct {
		name    string
		body    string
		options int
	}{{"minimal", seedMinimal, 3}, {"full", seedFull, 6}} {
		res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(c.body))
		if res.status != http.StatusCreated {
			t.Fatalf("%s: status %d: %s", c.name, res.status, res.body)
		}
		var got projections.Summary
		if err := json.Unmarshal(res.body, &got); err != nil {
			t.Fatal(err)
		}
		m := res.json(t)
		for _, k := range []string{"plan_id", "customer_portal_url", "plan_options", "customer", "invoice"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: 201 body lacks %q", c.name, k)
			}
		}
		if len(m) != 5 {
			t.Errorf("%s: 201 body has %d keys, the seed's has 5: %s", c.name, len(m), res.body)
		}
		if !strings.HasPrefix(got.CustomerPortalURL, "https://goodplan.test/plan/") || len(got.CustomerPortalURL) < len("https://goodplan.test/plan/")+22 {
			t.Errorf("%s: portal url %q", c.name, got.CustomerPortalURL)
		}
		if len(got.PlanOptions) != c.options {
			t.Fatalf("%s: %d options, want %d", c.name, len(got.PlanOptions), c.options)
		}
		if got.Customer.Name != "John Doe" || got.Customer.Email != "john@example.com" || got.Invoice.Amount.String() != "1200.00" {
			t.Errorf("%s: customer/invoice %+v %+v", c.name, got.Customer, got.Invoice)
		}
		// The seed's example option: 3 monthly payments of 400.00, 2025-12-04 .. 2026-02-04.
		found := false
		for _, o := range got.PlanOptions {
			if o.Interval == "monthly" && o.Installments == 3 {
				found = o.PaymentAmount.String() == "400.00" && o.FirstPaymentDate.String() == "2025-12-04" && o.FinalPaymentDate.String() == "2026-02-04"
			}
		}
		if !found {
			t.Errorf("%s: no option matching the seed's example: %s", c.name, res.body)
		}
		if res.header.Get("Location") == "" {
			t.Errorf("%s: no Location header", c.name)
		}
	}
}

// TestErrorBodies: bad input gets a clear JSON error and changes nothing.
func TestErrorBodies(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	big := `{"customer":{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`
	cases := []struct {
		name   string
		method string
		path   string
		key    string
		body   string
		status int
		want   string // exact body, or "" to check only that it is JSON with "error"
		field  string // a field the 422 "errors" map must name
	}{
		{"no key", "POST", "/api/v1/plans", "", seedMinimal, 401,
			`{"error":"API key required","message":"Please provide an API key in the Authorization header"}`, ""},
		{"unknown key", "POST", "/api/v1/plans", "gp_" + strings.Repeat("0", 64), seedMinimal, 401,
			`{"error":"API key required","message":"Please provide an API key in the Authorization header"}`, ""},
		{"not a gp key", "GET", "/api/v1/plans/1", "sk_live_abc", "", 401,
			`{"error":"API key required","message":"Please provide an API key in the Authorization header"}`, ""},
		{"seed 422 example", "POST", "/api/v1/plans", env.key,
			`{"customer":{"name":"John Doe","email":"john@"},"invoice":{"amount":0.5}}`, 422,
			`{"error":"Validation failed","errors":{"customer.email":["The customer.email must be a valid email address."],"invoice.amount":["The invoice.amount must be at least 1."]}}`, ""},
		{"malformed JSON", "POST", "/api/v1/plans", env.key, `{"customer":`, 400,
			`{"error":"Malformed JSON","message":"The request body is not valid JSON."}`, ""},
		{"JSON array", "POST", "/api/v1/plans", env.key, `[1,2]`, 400,
			`{"error":"Malformed JSON","message":"The request body must be a JSON object."}`, ""},
		{"body over 64 KiB", "POST", "/api/v1/plans", env.key, big, 400,
			`{"error":"Request body too large","message":"The request body may not be larger than 65536 bytes."}`, ""},
		{"empty object", "POST", "/api/v1/plans", env.key, `{}`, 422, "", "customer.name"},
		{"customer not an object", "POST", "/api/v1/plans", env.key, `{"customer":"x","invoice":{"amount":5}}`, 422, "", "customer"},
		{"amount not a number", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"abc"}}`, 422, "", "invoice.amount"},
		{"amount true", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":true}}`, 422, "", "invoice.amount"},
		{"too many decimals", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10.001}}`, 422, "", "invoice.amount"},
		{"JPY decimals", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1000.5,"currency":"JPY"}}`, 422, "", "invoice.amount"},
		{"unknown currency", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10,"currency":"XYZ"}}`, 422, "", "invoice.currency"},
		{"duration out of range", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"durations":[1,97]}}`, 422, "", "options.durations"},
		{"durations not integers", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"durations":[2.5]}}`, 422, "", "options.durations"},
		{"unknown interval", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"intervals":["daily"]}}`, 422, "", "options.intervals"},
		{"intro flag not bool", "POST", "/api/v1/plans", env.key, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"send_introduction_email":"yes"}`, 422, "", "send_introduction_email"},
		{"plan not found", "GET", "/api/v1/plans/999999", env.key, "", 404, `{"error":"Not found","message":"Plan 999999 was not found."}`, ""},
		{"plan id not a number", "GET", "/api/v1/plans/abc", env.key, "", 404, "", ""},
		{"unknown route", "GET", "/api/v1/nope", env.key, "", 404, "", ""},
		{"wrong method", "DELETE", "/api/health", "", "", 405, "", ""},
	}
	for _, c := range cases {
		res := env.do(t, c.method, c.path, c.key, []byte(c.body))
		if res.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, res.status, c.status, res.body)
			continue
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", c.name, ct)
		}
		if c.want != "" && string(res.body) != c.want {
			t.Errorf("%s: body\n got %s\nwant %s", c.name, res.body, c.want)
		}
		m := res.json(t)
		if _, ok := m["error"].(string); !ok {
			t.Errorf("%s: no \"error\" in %s", c.name, res.body)
		}
		if c.field != "" {
			errs, _ := m["errors"].(map[string]any)
			if _, ok := errs[c.field]; !ok {
				t.Errorf("%s: errors do not name %s: %s", c.name, c.field, res.body)
			}
		}
	}
	var n int64
	if err := env.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("bad requests stored %d events (%v)", n, err)
	}
}

func TestPlanLimitReturnsSeed403(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	limit := int64(2)
	_, key := env.account(t, eventstore.NewAccount{Name: "Small", PlanLimit: &limit})
	for i := range 2 {
		if res := env.do(t, "POST", "/api/v1/plans", key, []byte(seedMinimal)); res.status != 201 {
			t.Fatalf("plan %d: %d %s", i, res.status, res.body)
		}
	}
	res := env.do(t, "POST", "/api/v1/plans", key, []byte(seedMinimal))
	if res.status != 403 || string(res.body) != `{"error":"Plan limit reached","message":"Your subscription plan limit has been reached."}` {
		t.Fatalf("third plan: %d %s", res.status, res.body)
	}
	// The unlimited account is not affected.
	if res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedMinimal)); res.status != 201 {
		t.Fatalf("unlimited account: %d", res.status)
	}
}

func TestGetPlanAndEvents(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	created := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedFull))
	var c projections.Summary
	if err := json.Unmarshal(created.body, &c); err != nil {
		t.Fatal(err)
	}
	path := created.header.Get("Location")

	res := env.do(t, "GET", path, env.key, nil)
	if res.status != 200 {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	var p struct {
		PlanID            int64  `json:"plan_id"`
		Status            string `json:"status"`
		CustomerPortalURL string `json:"customer_portal_url"`
		Invoice           struct {
			Amount, Currency, Description string
		} `json:"invoice"`
		PlanOptions []struct {
			ID           int64 `json:"id"`
			Installments int   `json:"installments"`
			Schedule     []struct {
				Number  int    `json:"number"`
				Amount  string `json:"amount"`
				DueDate string `json:"due_date"`
			} `json:"schedule"`
		} `json:"plan_options"`
	}
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.PlanID != c.PlanID || p.Status != "pending" || p.CustomerPortalURL != c.CustomerPortalURL ||
		p.Invoice.Currency != "USD" || p.Invoice.Description != "Past due consulting services" || len(p.PlanOptions) != 6 {
		t.Fatalf("plan: %s", res.body)
	}
	for i, o := range p.PlanOptions {
		if o.ID != c.PlanOptions[i].ID || len(o.Schedule) != o.Installments {
			t.Fatalf("option %d: id %d, %d installments listed of %d", i, o.ID, len(o.Schedule), o.Installments)
		}
	}
	if s := p.PlanOptions[3].Schedule; s[0].DueDate != "2025-12-04" || s[1].DueDate != "2026-01-04" || s[2].DueDate != "2026-02-04" || s[2].Amount != "400.00" {
		t.Fatalf("monthly x3 schedule: %+v", s)
	}

	// Events: the stored bytes and hashes, enough to recompute the chain.
	res = env.do(t, "GET", path+"/events", env.key, nil)
	var ev struct {
		Items []struct {
			EventID    string          `json:"event_id"`
			Version    int64           `json:"version"`
			Type       string          `json:"type"`
			RecordedAt time.Time       `json:"recorded_at"`
			Data       json.RawMessage `json:"data"`
			Metadata   json.RawMessage `json:"metadata"`
			Hash       string          `json:"hash"`
		} `json:"items"`
	}
	if err := json.Unmarshal(res.body, &ev); err != nil || res.status != 200 || len(ev.Items) != 1 {
		t.Fatalf("events: %d %s", res.status, res.body)
	}
	recs, _, err := env.store.Load(context.Background(), eventstore.PlanStream(c.PlanID))
	if err != nil {
		t.Fatal(err)
	}
	it := ev.Items[0]
	r := recs[0]
	want := eventstore.ChainHash(nil, r.StreamID, it.Version, r.EventID, it.Type, it.Data, it.Metadata, it.RecordedAt)
	if it.Type != "plan.created" || it.Hash != hex.EncodeToString(want) {
		t.Fatalf("the event as served does not hash to its hash: %s", res.body)
	}

	// Another account sees neither: 404, never 403.
	_, other := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, p := range []string{path, path + "/events"} {
		if res := env.do(t, "GET", p, other, nil); res.status != 404 {
			t.Fatalf("other account GET %s: %d", p, res.status)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	first := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedFull), "Idempotency-Key", "order-1")
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// Same body, re-serialised: same response.
	var v any
	_ = json.Unmarshal([]byte(seedFull), &v)
	compact, _ := json.Marshal(v)
	again := env.do(t, "POST", "/api/v1/plans", env.key, compact, "Idempotency-Key", "order-1")
	if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	// Another body with the same key: 422, nothing written.
	other := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedMinimal), "Idempotency-Key", "order-1")
	if other.status != 422 || !strings.Contains(string(other.body), "Idempotency key reused") ||
		!strings.Contains(string(other.body), "with a different request body.") {
		t.Fatalf("other body: %d %s", other.status, other.body)
	}
	// The same key from another account is another key.
	_, key2 := env.account(t, eventstore.NewAccount{Name: "Other"})
	if res := env.do(t, "POST", "/api/v1/plans", key2, []byte(seedFull), "Idempotency-Key", "order-1"); res.status != 201 || bytes.Equal(res.body, first.body) {
		t.Fatalf("other account: %d %s", res.status, res.body)
	}

	// Racing retries: every one gets the same plan, one plan is stored.
	const racers = 8
	bodies := make([][]byte, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedMinimal), "Idempotency-Key", "race")
			if res.status != 201 {
				t.Errorf("racer %d: %d %s", i, res.status, res.body)
			}
			bodies[i] = res.body
		})
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("racer %d got another plan:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	var n int64
	if err := env.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM streams`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d plans stored, want 3", n)
	}
}

func TestRateLimitHeadersAnd429(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	_, key := env.account(t, eventstore.NewAccount{Name: "Limited", RateLimitPerMinute: 60, RateLimitBurst: 10})
	for i := range 10 {
		res := env.do(t, "GET", "/api/v1/plans/1", key, nil)
		if res.status != 404 {
			t.Fatalf("request %d: %d", i, res.status)
		}
		if got := res.header["X-RateLimit-Limit"]; len(got) != 1 || got[0] != "60" {
			t.Fatalf("X-RateLimit-Limit %v", got)
		}
		if got := res.header["X-RateLimit-Remaining"]; len(got) != 1 || got[0] != strconv.Itoa(59-i) {
			t.Fatalf("request %d: X-RateLimit-Remaining %v", i, got)
		}
		// A minute after the newest allowed request, in Unix seconds.
		if got, want := res.header["X-RateLimit-Reset"], strconv.FormatInt(seedNow.Add(time.Minute).Unix(), 10); len(got) != 1 || got[0] != want {
			t.Fatalf("request %d: X-RateLimit-Reset %v, want %s", i, got, want)
		}
	}
	res := env.do(t, "GET", "/api/v1/plans/1", key, nil)
	if res.status != 429 || res.header.Get("Retry-After") != "1" || res.header["X-RateLimit-Remaining"][0] != "50" ||
		res.json(t)["error"] != "Too many requests" ||
		res.json(t)["message"] != "Rate limit exceeded: 60 requests per minute, 10 per second. Retry after 1 s." {
		t.Fatalf("11th request in a second: %d %v %s", res.status, res.header, res.body)
	}
	// 9 more a little under a second later would make 19 in one second.
	env.clock.advance(990 * time.Millisecond)
	if res := env.do(t, "GET", "/api/v1/plans/1", key, nil); res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("at 0.99 s: %d %v", res.status, res.header)
	}
	env.clock.advance(10 * time.Millisecond)
	if res := env.do(t, "GET", "/api/v1/plans/1", key, nil); res.status != 404 || res.header["X-RateLimit-Remaining"][0] != "49" {
		t.Fatalf("a second later: %d %v", res.status, res.header)
	}
	// Unauthenticated requests and the health check carry no rate-limit headers.
	if res := env.do(t, "GET", "/api/health", "", nil); res.status != 200 || res.header["X-RateLimit-Limit"] != nil {
		t.Fatalf("health: %d %v", res.status, res.header)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "GET", "/api/health", "", nil)
	if res.status != 200 || string(res.body) != `{"status":"ok","version":"test","timestamp":"2025-11-27T01:15:30Z","dead_letters":0}` {
		t.Fatalf("health: %d %s", res.status, res.body)
	}
	// Unresolved dead letters are counted; the status stays ok.
	ctx := context.Background()
	var ids []int64
	for _, consumer := range []string{"projection-plans", "webhook-fanout", "relay"} {
		id, err := env.store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: uuid.New(), StreamID: "plan-1",
			EventType: "plan.created", Consumer: consumer, Attempts: 5, Err: "boom"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := env.store.ResolveDeadLetter(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	res = env.do(t, "GET", "/api/health", "", nil)
	if res.status != 200 || string(res.body) != `{"status":"ok","version":"test","timestamp":"2025-11-27T01:15:30Z","dead_letters":2}` {
		t.Fatalf("health with dead letters: %d %s", res.status, res.body)
	}
	env.store.Pool().Close()
	res = env.do(t, "GET", "/api/health", "", nil)
	want := `{"status":"unavailable","version":"test","timestamp":"2025-11-27T01:15:30Z",` +
		`"error":"Service unavailable","message":"The database is not answering."}`
	if res.status != 503 || string(res.body) != want {
		t.Fatalf("health without a database: %d %s", res.status, res.body)
	}
}

func TestRequestHashCanonical(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{`{"a":1200.00,"b":[3,6]}`, `{ "b" : [3.0, 6], "a": 1200 }`},
		{`{"a":"x"}`, "{\n\"a\": \"x\"\n}"},
	}
	for _, p := range same {
		if !bytes.Equal(requestHash([]byte(p[0])), requestHash([]byte(p[1]))) {
			t.Errorf("%s and %s hash differently", p[0], p[1])
		}
	}
	differ := [][]string{
		{`{"a":1200.01}`, `{"a":1200}`},
		{`{"a":"1200"}`, `{"a":1200}`},
		{`{"a":1e999999999}`, `{"a":1e999999998}`}, // hashed as written, not expanded
		{`not json`, `not  json`},
	}
	for _, p := range differ {
		if bytes.Equal(requestHash([]byte(p[0])), requestHash([]byte(p[1]))) {
			t.Errorf("%s and %s hash the same", p[0], p[1])
		}
	}
}
