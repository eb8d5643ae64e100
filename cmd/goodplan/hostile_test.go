package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"goodplan/eventstore/pgtest"
)

// hostileRequest is one request a hostile client sends; status is what it
// must get (201 only where the input is stored bounded and clean).
type hostileRequest struct {
	name    string
	body    string
	headers map[string]string
	status  int
}

// TestHostileInputsNeverStopThePipeline runs the built binary and sends it
// what a hostile client would. Each request gets a 4xx or is stored bounded
// and clean; after each one a normal plan still gets its read-model row, its
// introduction email and its verified webhook; at the end replay and verify
// exit 0.
func TestHostileInputsNeverStopThePipeline(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	acct := createAccount(t, db, "--name", "Hostile & Co", "--rate-limit", "0")
	key := createKey(t, db, acct)
	sink := startMailSink(t)
	hooks := startHookSink(t)
	srv := startServer(t, db, "SMTP_URL=smtp://"+sink.addr+"?tls=none", "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true")
	hooks.subscribe(t, srv.URL, key, `["plan.created"]`)

	plan := func(name, description string) string {
		n, _ := json.Marshal(name)
		d, _ := json.Marshal(description)
		return fmt.Sprintf(`{"customer":{"name":%s,"email":"h@example.com"},"invoice":{"amount":"120.00","description":%s}}`, n, d)
	}
	cases := []hostileRequest{
		{name: "200 KB X-Request-Id", body: plan("A", "x"), headers: map[string]string{"X-Request-Id": strings.Repeat("<", 200<<10)}, status: 431},
		{name: "10 KB X-Request-Id and User-Agent", body: plan("B", "x"),
			headers: map[string]string{"X-Request-Id": strings.Repeat("<", 10<<10), "User-Agent": strings.Repeat("é<", 3<<10)}, status: 201},
		{name: "X-Request-Id with controls and non-ASCII", body: plan("C", "x"), headers: map[string]string{"X-Request-Id": "abc\té\u202e \xff"}, status: 201},
		{name: "NUL in description", body: plan("D", "a\x00b"), status: 422},
		{name: "U+202E in name", body: plan("E\u202egnp.exe", "x"), status: 422},
		{name: "C1 control in name", body: plan("F\u0085G", "x"), status: 422},
		{name: "duplicate keys", body: `{"customer":{"name":"G","email":"g@example.com"},"invoice":{"amount":"1.00","amount":"1000000.00"}}`, status: 400},
		{name: "duplicate nested object", body: `{"customer":{"name":"H","email":"h@example.com"},"customer":{"name":"I","email":"i@example.com"},"invoice":{"amount":"5.00"}}`, status: 400},
		{name: "invalid UTF-8", body: "{\"customer\":{\"name\":\"J\xff\xfe\",\"email\":\"j@example.com\"},\"invoice\":{\"amount\":\"5.00\"}}", status: 422},
	}
	want := map[int64]bool{}
	for _, c := range cases {
		status, b := sendHostile(t, srv.URL+"/api/v1/plans", key, c)
		if status != c.status {
			t.Fatalf("%s: %d, want %d\n%.500s", c.name, status, c.status, b)
		}
		if status == http.StatusCreated {
			id := checkCreated(t, b).PlanID
			want[id] = true
			checkBoundedMetadata(t, srv.URL, key, id, c.name)
		} else if status != http.StatusRequestHeaderFieldsTooLarge && !json.Valid(b) {
			// (Go's server answers a header over its limit itself, in
			// plain text, before any handler runs.)
			t.Fatalf("%s: %d with a body that is not JSON: %.300s", c.name, status, b)
		}
		// A normal plan right after it flows through every consumer.
		status, b = call(t, "POST", srv.URL+"/api/v1/plans", key, fullRequest)
		if status != http.StatusCreated {
			t.Fatalf("after %s: normal plan %d %s", c.name, status, b)
		}
		id := checkCreated(t, b).PlanID
		waitDelivered(t, sink, hooks, map[int64]bool{id: true})
		waitForList(t, srv.URL, key, map[int64]bool{id: true})
		want[id] = true
	}
	waitDelivered(t, sink, hooks, want)
	waitForList(t, srv.URL, key, want)
	if hooks.bad != 0 {
		t.Fatalf("%d webhook deliveries failed verification", hooks.bad)
	}
	mustRunCLI(t, db, "replay")
	mustRunCLI(t, db, "verify")
}

// sendHostile sends c's body with its headers to url.
func sendHostile(t *testing.T, url, key string, c hostileRequest) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// checkBoundedMetadata requires plan id's stored metadata to be bounded and
// clean: a correlation id of at most 128 printable ASCII characters, a user
// agent of at most 512 bytes of valid UTF-8 without control characters.
func checkBoundedMetadata(t *testing.T, base, key string, id int64, what string) {
	t.Helper()
	status, b := call(t, "GET", planURL(base, id)+"/events", key, "")
	if status != http.StatusOK {
		t.Fatalf("%s: events %d %s", what, status, b)
	}
	var page struct {
		Items []struct {
			Metadata struct {
				CorrelationID string `json:"correlation_id"`
				UserAgent     string `json:"user_agent"`
				IP            string `json:"ip"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &page); err != nil || len(page.Items) == 0 {
		t.Fatalf("%s: events body %v %.300s", what, err, b)
	}
	m := page.Items[0].Metadata
	if len(m.CorrelationID) == 0 || len(m.CorrelationID) > 128 || strings.IndexFunc(m.CorrelationID, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		t.Errorf("%s: stored correlation id %q", what, m.CorrelationID)
	}
	if len(m.UserAgent) > 512 || !utf8.ValidString(m.UserAgent) || strings.IndexFunc(m.UserAgent, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		t.Errorf("%s: stored user agent of %d bytes %q", what, len(m.UserAgent), m.UserAgent)
	}
}
