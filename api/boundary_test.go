package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"goodplan/domain"
	"goodplan/eventstore"
)

// eventCount is how many events the test's database holds.
func (e *testEnv) eventCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// farPlan is an active plan of three monthly installments moved to
// 9999-10-10, 9999-11-10 and 9999-12-10 (as years of extensions would).
func (e *testEnv) farPlan(t *testing.T) int64 {
	t.Helper()
	d := e.createPlan(t)
	e.selectFirst(t, d)
	e.asMerchant(t, d.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		var changes []domain.DueDateChange
		for i, s := range p.Installments() {
			changes = append(changes, domain.DueDateChange{Installment: s.Number, From: s.DueDate,
				To: domain.NewDate(9999, time.Month(10+i), 10)})
		}
		return []domain.Event{domain.InstallmentExtensionGranted{Installment: 1, ShiftFollowing: true, Changes: changes,
			GrantedAt: e.clock.now()}}, nil
	})
	return d.PlanID
}

// TestHostileInputChangesNothing sends what a hostile tester sent through
// the real router: each request gets a clear error naming the field (or
// the duplicated key) and not one event is appended.
func TestHostileInputChangesNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	active := env.createPlan(t)
	env.selectFirst(t, active)
	proposal := env.propose(t, active.PlanID, "2", "monthly", "2025-12-20")
	far := env.farPlan(t)
	create := func(customer, invoice string) string {
		return `{"customer":{` + customer + `},"invoice":{` + invoice + `},"send_introduction_email":false}`
	}
	const (
		john = `"name":"John Doe","email":"john@example.com"`
		inv  = `"amount":"1200.00"`
	)
	plan := func(id int64, path string) string { return fmt.Sprintf("/api/v1/plans/%d%s", id, path) }
	tests := []struct {
		name, path, body string
		status           int
		field            string // the 422's field, or "" for a 400
		want             string // part of the field's message, or of the 400's message
	}{
		{"NUL in the description", "/api/v1/plans", create(john, inv+`,"description":"a\u0000b"`),
			422, "invoice.description", "The invoice.description may not contain control characters."},
		{"right-to-left override in the name", "/api/v1/plans", create(`"name":"John \u202eeoD","email":"john@example.com"`, inv),
			422, "customer.name", "invisible formatting characters (such as U+202E)"},
		{"a C1 control in the invoice number", "/api/v1/plans", create(john, inv+`,"invoice_number":"INV`+"\u0085"+`001"`),
			422, "invoice.invoice_number", "may not contain control characters or line breaks"},
		{"invalid UTF-8 bytes in the description", "/api/v1/plans", create(john, inv+`,"description":"a`+"\xff\xfe"+`b"`),
			422, "invoice.description", "The invoice.description must be valid UTF-8 text."},
		{"an escaped lone surrogate in the name", "/api/v1/plans", create(`"name":"Jo\ud800hn","email":"john@example.com"`, inv),
			422, "customer.name", "The customer.name must be valid UTF-8 text."},
		{"a 2001-character description", "/api/v1/plans", create(john, inv+`,"description":"`+strings.Repeat("x", 2001)+`"`),
			422, "invoice.description", "The invoice.description may not be greater than 2000 characters."},
		{"a duplicate key at the top", "/api/v1/plans", strings.TrimSuffix(create(john, inv), "}") + `,"invoice":{"amount":"1.00"}}`,
			400, "", `"invoice" more than once`},
		{"a duplicate key nested", "/api/v1/plans", create(john, inv+`,"amount":"1.00"`),
			400, "", `"invoice.amount" more than once`},
		{"a duplicate key in a list of objects", "/api/v1/plans",
			`{"customer":{` + john + `},"invoice":{` + inv + `},"x":[{"a":1},{"a":1,"a":2}]}`, 400, "", `"x[1].a" more than once`},
		{"an escaped duplicate key", "/api/v1/plans", create(john, inv+`,"\u0061mount":"1.00"`),
			400, "", `"invoice.amount" more than once`},
		{"a duplicate key in a command", plan(active.PlanID, "/cancel"), `{"reason":"a","reason":"b"}`,
			400, "", `"reason" more than once`},
		{"a duplicate key in a webhook endpoint", "/api/v1/webhook-endpoints",
			`{"url":"https://example.com/a","url":"https://example.com/b"}`, 400, "", `"url" more than once`},
		{"NUL in a payment reference", plan(active.PlanID, "/payments"), `{"amount":"10.00","method":"cash","reference":"a\u0000b"}`,
			422, "reference", "control characters"},
		{"paid before 1970", plan(active.PlanID, "/payments"), `{"amount":"10.00","method":"cash","paid_on":"1969-12-31"}`,
			422, "paid_on", "may not be before 1970-01-01"},
		{"a C1 control in a cancel reason", plan(active.PlanID, "/cancel"), `{"reason":"a\u009bb"}`,
			422, "reason", "The reason may not contain control characters."},
		{"invalid UTF-8 in a write-off reason", plan(active.PlanID, "/write-off"), `{"reason":"a` + "\xc3" + `"}`,
			422, "reason", "The reason must be valid UTF-8 text."},
		{"a 1001-character decline reason", plan(active.PlanID, "/proposals/"+strconv.FormatInt(proposal, 10)+"/decline"),
			`{"reason":"` + strings.Repeat("y", 1001) + `"}`, 422, "reason", "may not be greater than 1000 characters"},
		{"NUL in a counter's message", plan(active.PlanID, "/proposals/"+strconv.FormatInt(proposal, 10)+"/counter"),
			`{"installments":2,"interval":"monthly","first_payment_date":"2025-12-20","message":"\u0000"}`,
			422, "message", "control characters"},
		{"extend with the following installments past 9999", plan(far, "/installments/1/extend"),
			`{"due_date":"9999-12-01","shift_following":true}`, 422, "due_date", "would move installment 2 past 9999-12-31"},
		{"extend to a five-digit year", plan(far, "/installments/3/extend"), `{"due_date":"10000-01-15"}`,
			422, "due_date", "YYYY-MM-DD"},
		{"defer the last installment past 9999", plan(far, "/installments/3/defer"), ``,
			422, "installment", "cannot be deferred: one interval after the last due date is past 9999-12-31"},
	}
	before := env.eventCount(t)
	for _, tt := range tests {
		res := env.do(t, "POST", tt.path, env.key, []byte(tt.body))
		if res.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, res.status, tt.status, res.body)
			continue
		}
		if !utf8.Valid(res.body) {
			t.Errorf("%s: the answer is not valid UTF-8: %q", tt.name, res.body)
		}
		var body struct {
			Error   string              `json:"error"`
			Message string              `json:"message"`
			Errors  map[string][]string `json:"errors"`
		}
		if err := json.Unmarshal(res.body, &body); err != nil {
			t.Errorf("%s: %v: %s", tt.name, err, res.body)
			continue
		}
		switch {
		case tt.status == 400 && (body.Error != "Malformed JSON" || !strings.Contains(body.Message, tt.want)):
			t.Errorf("%s: body %s, want Malformed JSON with %q", tt.name, res.body, tt.want)
		case tt.status == 422 && (body.Error != "Validation failed" || len(body.Errors) != 1 || len(body.Errors[tt.field]) != 1 ||
			!strings.Contains(body.Errors[tt.field][0], tt.want)):
			t.Errorf("%s: body %s, want one error on %s containing %q", tt.name, res.body, tt.field, tt.want)
		}
		if n := env.eventCount(t); n != before {
			t.Fatalf("%s: %d events appended", tt.name, n-before)
		}
	}
}

// storedMeta is the metadata of plan id's last event.
func (e *testEnv) storedMeta(t *testing.T, id int64) eventstore.Metadata {
	t.Helper()
	recs := e.records(t, id)
	var m eventstore.Metadata
	if err := json.Unmarshal(recs[len(recs)-1].Metadata, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMetadataIsBounded: a 200 KB X-Request-Id and User-Agent (the request
// that stopped the relay for every account) are accepted, and what is
// stored is bounded and clean, through the API and the portal alike.
func TestMetadataIsBounded(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	huge := strings.Repeat("r", 200<<10)
	hugeUA := "Mozilla/5.0 \x01\u202e" + strings.Repeat("é", 100<<10) + "\xff"
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(plan3), "X-Request-Id", huge, "User-Agent", hugeUA)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	id := decodePlan(t, res).PlanID
	checkMeta := func(what string, m eventstore.Metadata, echoed string) {
		t.Helper()
		if len(m.CorrelationID) != 36 || m.CorrelationID == huge[:36] || echoed != m.CorrelationID {
			t.Errorf("%s: correlation id %q (echoed %q), want a generated id", what, m.CorrelationID, echoed)
		}
		if len(m.UserAgent) > maxUserAgent || len(m.UserAgent) < maxUserAgent-1 || !utf8.ValidString(m.UserAgent) ||
			!strings.HasPrefix(m.UserAgent, "Mozilla/5.0 é") {
			t.Errorf("%s: user agent of %d bytes %q...", what, len(m.UserAgent), m.UserAgent[:min(len(m.UserAgent), 20)])
		}
		if m.IP != "192.0.2.1" {
			t.Errorf("%s: ip %q", what, m.IP)
		}
	}
	checkMeta("api", env.storedMeta(t, id), res.header.Get("X-Request-Id"))

	// The portal: the same headers on a customer's choice.
	f := env.newPortalPlan(t, seedFull)
	form := env.pageForm(t, f.path, "option_id", strconv.FormatInt(f.option(t, 3, "monthly").ID, 10))
	res = env.do(t, "POST", f.path+"/select", "", []byte(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "X-Request-Id", "bad\x7fid", "User-Agent", hugeUA)
	if res.status != http.StatusSeeOther {
		t.Fatalf("portal select: %d %s", res.status, res.body)
	}
	m := env.storedMeta(t, f.id)
	checkMeta("portal", m, res.header.Get("X-Request-Id"))
	var act domain.PlanActivated
	lastOf(t, env.records(t, f.id), domain.EventPlanActivated, &act)
	if act.Consent == nil || act.Consent.UserAgent != m.UserAgent || act.Consent.IP != m.IP {
		t.Errorf("consent %+v does not record the cleaned origin", act.Consent)
	}

	// A valid id is kept and echoed; a peer address that is not an IP is
	// not recorded.
	req := httptest.NewRequest("POST", fmt.Sprintf("/api/v1/plans/%d/cancel", id), strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+env.key)
	req.Header.Set("X-Request-Id", "req-42.ok:A_b")
	req.RemoteAddr = "not-an-address"
	rec := httptest.NewRecorder()
	env.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("X-Request-Id") != "req-42.ok:A_b" {
		t.Fatalf("cancel: %d, X-Request-Id %q: %s", rec.Code, rec.Header().Get("X-Request-Id"), rec.Body)
	}
	if m := env.storedMeta(t, id); m.CorrelationID != "req-42.ok:A_b" || m.IP != "" {
		t.Fatalf("metadata %+v", m)
	}
}

func TestCleanRequestOrigin(t *testing.T) {
	t.Parallel()
	for in, keep := range map[string]bool{
		"":                                     false,
		"req-1":                                true,
		"a.b_c:d-E9":                           true,
		"with space":                           false,
		"slash/no":                             false,
		strings.Repeat("a", 128):               true,
		strings.Repeat("a", 129):               false,
		"ümlaut":                               false,
		"tab\there":                            false,
		"nul\x00":                              false,
		"0f8fad5b-d9cb-469f-a165-70867728950e": true,
	} {
		got := cleanRequestID(in)
		if keep && got != in || !keep && (got == in || len(got) != 36) {
			t.Errorf("cleanRequestID(%q) = %q, keep %v", in, got, keep)
		}
	}
	for in, want := range map[string]string{
		"192.0.2.1:1234":     "192.0.2.1",
		"[2001:db8::1]:443":  "2001:db8::1",
		"[fe80::1%eth0]:443": "fe80::1",
		"2001:db8::2":        "2001:db8::2",
		"pipe":               "",
		"":                   "",
		"999.1.1.1:80":       "",
	} {
		if got := peerIP(in); got != want {
			t.Errorf("peerIP(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"curl/8.5.0":                   "curl/8.5.0",
		" a\x00b\r\nc\u0085d\u202ee ":  "abcde",
		"ok\xff\xfe":                   "ok",
		"keeps \uFFFD as sent":         "keeps \uFFFD as sent",
		strings.Repeat("a", 511) + "é": strings.Repeat("a", 511),
	} {
		if got := cleanUserAgent(in); got != want {
			t.Errorf("cleanUserAgent(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONResponseHeaders: no cache keeps an API answer, and none is
// sniffed as another type, success or error.
func TestJSONResponseHeaders(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, res := range []response{
		env.do(t, "POST", "/api/v1/plans", env.key, []byte(plan3)),
		env.do(t, "GET", "/api/v1/plans/999", env.key, nil),
		env.do(t, "GET", "/api/v1/plans", "", nil),
		env.do(t, "GET", "/api/health", "", nil),
	} {
		if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" ||
			res.header.Get("Content-Type") != "application/json" {
			t.Errorf("%d: headers %v", res.status, res.header)
		}
	}
}

// TestHugeHeaderIs431: the server goodplan serve runs (NewHTTPServer)
// answers a 200 KB header with 431 before any handler, so nothing is
// appended; a header within the limit is served.
func TestHugeHeaderIs431(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ts := httptest.NewUnstartedServer(env.srv)
	ts.Config = NewHTTPServer(env.srv, log.New(io.Discard, "", 0))
	ts.Start()
	t.Cleanup(ts.Close)
	post := func(requestID string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", ts.URL+"/api/v1/plans", strings.NewReader(plan3))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+env.key)
		req.Header.Set("X-Request-Id", requestID)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	before := env.eventCount(t)
	if res := post(strings.Repeat("r", 200<<10)); res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KB header: status %d, want 431", res.StatusCode)
	}
	if n := env.eventCount(t); n != before {
		t.Fatalf("%d events appended by a refused request", n-before)
	}
	if res := post(strings.Repeat("r", 8<<10)); res.StatusCode != http.StatusCreated {
		t.Fatalf("8 KB header: status %d, want 201", res.StatusCode)
	}
}

// TestEventTooLargeIs413: the store's ErrEventTooLarge is a 413 with a
// JSON body, wherever it comes from.
func TestEventTooLargeIs413(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	rec := httptest.NewRecorder()
	err := fmt.Errorf("append plan-1: %w", eventstore.ErrEventTooLarge)
	env.srv.writeError(rec, httptest.NewRequest("POST", "/api/v1/plans", nil), err)
	var body apiError
	if jerr := json.Unmarshal(rec.Body.Bytes(), &body); jerr != nil || rec.Code != http.StatusRequestEntityTooLarge ||
		body.Title != "Event too large" || !strings.Contains(body.Message, "256 KiB") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// TestIdempotencyKeyIsPrintableASCII: a key the commands table could not
// store as text is a 400.
func TestIdempotencyKeyIsPrintableASCII(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(plan3), "Idempotency-Key", "key\xff")
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "printable ASCII") {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{}`: "",
		`{"a":1,"b":{"a":1},"c":[{"a":1},{"a":2}]}`: "",
		`{"a":[[{"x":1}],[{"x":1,"y":{}}]],"b":{}}`: "",
		`{"a":1,"a":1}`:                 "a",
		`{"a":{"b":{"c":1,"c":2}}}`:     "a.b.c",
		`{"a":[1,[2,{"k":1,"k":1}]]}`:   "a[1][1].k",
		`{"a":{},"b":[],"a":null}`:      "a",
		`{"\u0062":1,"b":2}`:            "b",
		`[{"a":1},{"a":1,"b":2,"b":3}]`: "[1].b",
		`{"s":"{\"a\":1,\"a\":1}"}`:     "",
		`{"a":1,"A":1}`:                 "",
	} {
		if got := duplicateKey([]byte(body)); got != want {
			t.Errorf("duplicateKey(%s) = %q, want %q", body, got, want)
		}
	}
	for raw, bad := range map[string]bool{
		`"plain"`:                 false,
		`"é 🌷"`:                   false,
		`"\ud83c\udf37 pair"`:     false,
		`"\\ud800 not an escape"`: false,
		`"\ud800"`:                true,
		`"\udc00 low alone"`:      true,
		`"\ud800\u0041"`:          true,
		"\"\xff\"":                true,
		`["ok","\uDFFF"]`:         true,
	} {
		if got := invalidUTF8([]byte(raw)); got != bad {
			t.Errorf("invalidUTF8(%s) = %v, want %v", raw, got, bad)
		}
	}
}
