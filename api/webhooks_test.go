package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

const whPath = "/api/v1/webhook-endpoints"

// whCreate creates an endpoint through the API and returns the 201 body.
func whCreate(t *testing.T, env *testEnv, key, body string) map[string]any {
	t.Helper()
	res := env.do(t, "POST", whPath, key, []byte(body))
	if res.status != 201 {
		t.Fatalf("create endpoint: %d %s", res.status, res.body)
	}
	return res.json(t)
}

func whID(m map[string]any) string { return strconv.FormatInt(int64(m["id"].(float64)), 10) }

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestWebhookEndpointsCreateListGetDelete(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.do(t, "POST", whPath, env.key, []byte(`{"url":"https://hooks.example.com/goodplan","events":["plan.created","installment.paid","plan.created"]}`))
	if res.status != 201 {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	created := res.json(t)
	if got := sortedKeys(created); !slices.Equal(got, []string{"created_at", "events", "id", "secret", "url"}) {
		t.Fatalf("201 keys %v: %s", got, res.body)
	}
	id := whID(created)
	if created["url"] != "https://hooks.example.com/goodplan" || fmt.Sprint(created["events"]) != "[plan.created installment.paid]" {
		t.Fatalf("201 body %s", res.body)
	}
	secret, _ := created["secret"].(string)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) != 24 {
		t.Fatalf("secret %q", secret)
	}
	if _, err := time.Parse(time.RFC3339Nano, created["created_at"].(string)); err != nil {
		t.Fatalf("created_at: %v", err)
	}
	if loc := res.header.Get("Location"); loc != whPath+"/"+id {
		t.Fatalf("Location %q", loc)
	}

	// Omitted events: every type, shown as [].
	all := whCreate(t, env, env.key, `{"url":"https://hooks.example.com/all"}`)
	if ev, ok := all["events"].([]any); !ok || len(ev) != 0 {
		t.Fatalf("events of an all-types endpoint: %v", all["events"])
	}

	// Listed and read without the secret.
	res = env.do(t, "GET", whPath, env.key, nil)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != 200 || len(list.Items) != 2 {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	for _, it := range list.Items {
		if _, ok := it["secret"]; ok || strings.Contains(string(res.body), secret) {
			t.Fatalf("list shows a secret: %s", res.body)
		}
	}
	res = env.do(t, "GET", whPath+"/"+id, env.key, nil)
	one := res.json(t)
	if res.status != 200 || one["url"] != created["url"] || one["secret"] != nil || one["disabled_at"] != nil {
		t.Fatalf("get: %d %s", res.status, res.body)
	}

	// Another account sees none of it: 404, never 403.
	_, other := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, c := range [][2]string{
		{"GET", whPath + "/" + id},
		{"DELETE", whPath + "/" + id},
		{"GET", whPath + "/" + id + "/deliveries"},
		{"POST", whPath + "/" + id + "/deliveries/1/resend"},
	} {
		if res := env.do(t, c[0], c[1], other, nil); res.status != 404 || res.json(t)["error"] != "Not found" {
			t.Errorf("other account %s %s: %d %s", c[0], c[1], res.status, res.body)
		}
	}
	if res := env.do(t, "GET", whPath, other, nil); res.status != 200 || string(res.body) != `{"items":[]}` {
		t.Errorf("other account's list: %s", res.body)
	}

	// Delete: 204, then gone.
	res = env.do(t, "DELETE", whPath+"/"+id, env.key, nil)
	if res.status != 204 || len(res.body) != 0 {
		t.Fatalf("delete: %d %q", res.status, res.body)
	}
	for _, c := range [][2]string{{"GET", whPath + "/" + id}, {"DELETE", whPath + "/" + id}, {"GET", whPath + "/" + id + "/deliveries"}} {
		if res := env.do(t, c[0], c[1], env.key, nil); res.status != 404 {
			t.Errorf("after delete %s %s: %d", c[0], c[1], res.status)
		}
	}
	if res := env.do(t, "GET", whPath, env.key, nil); strings.Contains(string(res.body), "/goodplan") {
		t.Errorf("deleted endpoint still listed: %s", res.body)
	}
	if res := env.do(t, "GET", whPath+"/abc", env.key, nil); res.status != 404 {
		t.Errorf("non-numeric id: %d", res.status)
	}
	if res := env.do(t, "GET", whPath, "", nil); res.status != 401 {
		t.Errorf("no key: %d", res.status)
	}
}

func TestWebhookEndpointValidation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	long := `{"url":"https://example.com/` + strings.Repeat("a", 2049-len("https://example.com/")) + `"}`
	cases := []struct {
		name, body string
		status     int
		field      string // named in "errors"
		contains   string // in the field's messages
	}{
		{"missing url", `{}`, 422, "url", "required"},
		{"empty url", `{"url":"  "}`, 422, "url", "required"},
		{"url not a string", `{"url":42}`, 422, "url", "string"},
		{"relative url", `{"url":"/hooks"}`, 422, "url", "absolute"},
		{"no host", `{"url":"https://"}`, 422, "url", "absolute"},
		{"ftp", `{"url":"ftp://example.com/x"}`, 422, "url", "https://"},
		{"javascript", `{"url":"javascript:alert(1)"}`, 422, "url", "https://"},
		{"plain http", `{"url":"http://hooks.example.com/x"}`, 422, "url", "https://"},
		{"userinfo", `{"url":"https://user:pass@example.com/hook"}`, 422, "url", "user name or password"},
		{"too long", long, 422, "url", "2048"},
		{"NUL in the url", `{"url":"https://example.com/a\u0000"}`, 422, "url", "control characters"},
		{"right-to-left override in the url", `{"url":"https://example.com/\u202egp"}`, 422, "url", "invisible formatting"},
		{"invalid UTF-8 in the url", "{\"url\":\"https://example.com/\xff\"}", 422, "url", "valid UTF-8"},
		{"events not an array", `{"url":"https://example.com","events":"plan.created"}`, 422, "events", "array"},
		{"unknown event", `{"url":"https://example.com","events":["plan.created","plan.exploded"]}`, 422, "events", `"plan.exploded"`},
		{"stored-only event", `{"url":"https://example.com","events":["introduction_email.sent"]}`, 422, "events", `"introduction_email.sent"`},
		{"unknown catalog event", `{"url":"https://example.com","events":["catalog_plan.created","catalog_plan.exploded"]}`, 422, "events", `"catalog_plan.exploded"`},
		{"a pattern other than *", `{"url":"https://example.com","events":["catalog_plan.*"]}`, 422, "events", `or "*" for every type`},
		{"malformed", `{"url":`, 400, "", ""},
	}
	for _, c := range cases {
		res := env.do(t, "POST", whPath, env.key, []byte(c.body))
		if res.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, res.status, c.status, res.body)
			continue
		}
		m := res.json(t)
		if c.status != 422 {
			continue
		}
		if m["error"] != "Validation failed" || len(m) != 2 {
			t.Errorf("%s: not the API's 422 body: %s", c.name, res.body)
		}
		errs, _ := m["errors"].(map[string]any)
		msgs, _ := errs[c.field].([]any)
		if len(msgs) == 0 || !strings.Contains(fmt.Sprint(msgs), c.contains) {
			t.Errorf("%s: errors[%s] = %v, want a message with %q", c.name, c.field, msgs, c.contains)
		}
	}
	if res := env.do(t, "GET", whPath, env.key, nil); string(res.body) != `{"items":[]}` {
		t.Fatalf("invalid requests stored endpoints: %s", res.body)
	}
	// Exactly 2048 characters is fine.
	ok := `https://example.com/` + strings.Repeat("a", 2048-len("https://example.com/"))
	whCreate(t, env, env.key, `{"url":"`+ok+`","events":[]}`)
}

// TestWebhookEndpointCatalogEvents: an endpoint may name the catalog's
// event types, or "*" for every type (which then stands alone).
func TestWebhookEndpointCatalogEvents(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, c := range []struct{ events, want string }{
		{`["catalog_plan.created","catalog_plan.updated","catalog_plan.deleted","plan_group.created","plan_group.updated","plan_group.deleted"]`,
			`["catalog_plan.created","catalog_plan.updated","catalog_plan.deleted","plan_group.created","plan_group.updated","plan_group.deleted"]`},
		{`["plan_group.created","plan.created"]`, `["plan_group.created","plan.created"]`},
		{`["*"]`, `["*"]`},
		{`["plan.created","*","catalog_plan.created","*"]`, `["*"]`},
	} {
		created := whCreate(t, env, env.key, `{"url":"https://hooks.example.com/x","events":`+c.events+`}`)
		if got, _ := json.Marshal(created["events"]); string(got) != c.want {
			t.Errorf("events %s: stored %s, want %s", c.events, got, c.want)
		}
		res := env.do(t, "GET", whPath+"/"+whID(created), env.key, nil)
		if got, _ := json.Marshal(res.json(t)["events"]); res.status != 200 || string(got) != c.want {
			t.Errorf("events %s: read back %d %s", c.events, res.status, res.body)
		}
	}
}

func TestWebhookEndpointLimit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var last map[string]any
	for i := range eventstore.MaxWebhookEndpoints {
		last = whCreate(t, env, env.key, fmt.Sprintf(`{"url":"https://example.com/%d"}`, i))
	}
	res := env.do(t, "POST", whPath, env.key, []byte(`{"url":"https://example.com/21"}`))
	if res.status != 422 || !strings.Contains(string(res.body), "at most 20 webhook endpoints") || res.json(t)["error"] != "Validation failed" {
		t.Fatalf("21st endpoint: %d %s", res.status, res.body)
	}
	if res := env.do(t, "DELETE", whPath+"/"+whID(last), env.key, nil); res.status != 204 {
		t.Fatal(res.status)
	}
	whCreate(t, env, env.key, `{"url":"https://example.com/again"}`)
}

func TestWebhookDeliveriesLogAndResend(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	ep := whCreate(t, env, env.key, `{"url":"https://example.com/hook"}`)
	other := whCreate(t, env, env.key, `{"url":"https://example.com/other"}`)
	epID, _ := strconv.ParseInt(whID(ep), 10, 64)
	otherID, _ := strconv.ParseInt(whID(other), 10, 64)
	eventIDs := []uuid.UUID{uuid.New(), uuid.New()}
	for _, id := range eventIDs {
		if _, err := env.store.EnqueueDeliveries(ctx, []eventstore.NewDelivery{{EndpointID: epID, EventID: id, EventType: "plan.created", Payload: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.store.EnqueueDeliveries(ctx, []eventstore.NewDelivery{{EndpointID: otherID, EventID: eventIDs[0], EventType: "plan.created", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	// The first delivery: 500, then a timeout, and then it gives up.
	claimed, err := env.store.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{})
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	var first int64
	for _, c := range claimed {
		if c.EventID == eventIDs[0] && c.EndpointID == epID {
			first = c.ID
		}
	}
	t0 := time.Date(2025, 11, 27, 1, 15, 30, 0, time.UTC)
	for _, o := range []eventstore.AttemptOutcome{
		{Attempt: eventstore.Attempt{DeliveryID: first, Number: 1, StatusCode: 500, Latency: 37 * time.Millisecond, ResponseExcerpt: "oops", AttemptedAt: t0},
			State: eventstore.DeliveryPending, NextAttemptAt: t0.Add(5 * time.Second)},
		{Attempt: eventstore.Attempt{DeliveryID: first, Number: 2, Latency: 15 * time.Second, Error: "context deadline exceeded", AttemptedAt: t0.Add(5 * time.Second)},
			State: eventstore.DeliveryFailed},
	} {
		if err := env.store.RecordAttempt(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	path := whPath + "/" + whID(ep) + "/deliveries"
	res := env.do(t, "GET", path, env.key, nil)
	var page struct {
		Items      []map[string]any `json:"items"`
		TotalItems int              `json:"total_items"`
		Limit      int              `json:"limit"`
		Offset     int              `json:"offset"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil || res.status != 200 {
		t.Fatalf("deliveries: %d %s", res.status, res.body)
	}
	if page.TotalItems != 2 || page.Limit != 20 || page.Offset != 0 || len(page.Items) != 2 {
		t.Fatalf("page: %s", res.body)
	}
	d := page.Items[1] // newest first: the first delivery is last
	if got := sortedKeys(d); !slices.Equal(got, []string{"attempts", "attempts_log", "event_id", "event_type", "id", "next_attempt_at", "state"}) {
		t.Fatalf("delivery keys %v", got)
	}
	if d["event_id"] != eventIDs[0].String() || d["state"] != "failed" || d["attempts"] != 2.0 || d["next_attempt_at"] != nil || d["event_type"] != "plan.created" {
		t.Fatalf("delivery %v", d)
	}
	log, _ := d["attempts_log"].([]any)
	if len(log) != 2 {
		t.Fatalf("attempts_log %v", d["attempts_log"])
	}
	a1, _ := json.Marshal(log[0])
	a2, _ := json.Marshal(log[1])
	if string(a1) != `{"attempt":1,"attempted_at":"2025-11-27T01:15:30Z","error":null,"latency_ms":37,"response_excerpt":"oops","status_code":500}` {
		t.Errorf("attempt 1: %s", a1)
	}
	if string(a2) != `{"attempt":2,"attempted_at":"2025-11-27T01:15:35Z","error":"context deadline exceeded","latency_ms":15000,"response_excerpt":"","status_code":null}` {
		t.Errorf("attempt 2: %s", a2)
	}
	if pending := page.Items[0]; pending["state"] != "pending" || pending["next_attempt_at"] == nil || len(pending["attempts_log"].([]any)) != 0 {
		t.Errorf("pending delivery %v", pending)
	}

	// Paging and its validation.
	res = env.do(t, "GET", path+"?limit=1&offset=1", env.key, nil)
	if err := json.Unmarshal(res.body, &page); err != nil || len(page.Items) != 1 || page.TotalItems != 2 || page.Limit != 1 || page.Offset != 1 ||
		page.Items[0]["event_id"] != eventIDs[0].String() {
		t.Fatalf("second page: %s", res.body)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?offset=-1", "?offset=y"} {
		if res := env.do(t, "GET", path+q, env.key, nil); res.status != 422 {
			t.Errorf("%s: %d %s", q, res.status, res.body)
		}
	}

	// Resend: 202, pending and due now; the attempt count continues.
	resend := func(endpoint string, delivery int64) response {
		return env.do(t, "POST", whPath+"/"+endpoint+"/deliveries/"+strconv.FormatInt(delivery, 10)+"/resend", env.key, nil)
	}
	res = resend(whID(ep), first)
	body := res.json(t)
	if res.status != 202 || body["state"] != "pending" || body["attempts"] != 2.0 || body["next_attempt_at"] == nil || body["id"] != float64(first) {
		t.Fatalf("resend: %d %s", res.status, res.body)
	}
	if again, _ := env.store.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{}); len(again) != 1 || again[0].ID != first {
		t.Fatalf("resent delivery is not due: %+v", again)
	}
	if res := resend(whID(ep), first); res.status != 409 {
		t.Errorf("resend of a pending delivery: %d %s", res.status, res.body)
	}
	// A delivery of another endpoint, or none: 404.
	if res := resend(whID(other), first); res.status != 404 {
		t.Errorf("resend through another endpoint: %d %s", res.status, res.body)
	}
	if res := resend(whID(ep), first+1000); res.status != 404 {
		t.Errorf("resend of a missing delivery: %d %s", res.status, res.body)
	}
	if res := env.do(t, "POST", whPath+"/"+whID(ep)+"/deliveries/x/resend", env.key, nil); res.status != 404 {
		t.Errorf("resend of a non-numeric delivery: %d", res.status)
	}
	// A disabled endpoint is shown as such and refuses resends.
	if err := env.store.DisableEndpoint(ctx, epID, "answered 410 Gone"); err != nil {
		t.Fatal(err)
	}
	res = env.do(t, "GET", whPath+"/"+whID(ep), env.key, nil)
	if m := res.json(t); m["disabled_at"] == nil || m["disabled_reason"] != "answered 410 Gone" {
		t.Errorf("disabled endpoint: %s", res.body)
	}
	if res := resend(whID(ep), first); res.status != 409 {
		t.Errorf("resend to a disabled endpoint: %d %s", res.status, res.body)
	}
}
