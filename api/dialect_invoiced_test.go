package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore"
)

// Content types of the Invoiced dialect's tests.
const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

// inv sends an Invoiced dialect request with key as the HTTP Basic user
// name and an empty password, as curl -u KEY: does ("" for no key), and
// body of contentType ("" for no Content-Type header).
func (e *testEnv) inv(t *testing.T, method, path, key, contentType, body string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.serve(req, headers...)
}

// invOK sends an Invoiced request and wants status.
func (e *testEnv) invOK(t *testing.T, method, path, contentType, body string, want int) response {
	t.Helper()
	res := e.inv(t, method, path, e.key, contentType, body)
	if res.status != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, res.status, want, res.body)
	}
	return res
}

// invoicedPlanKeys are the seed's plan object's keys, in its order.
var invoicedPlanKeys = []string{"amount", "catalog_item", "created_at", "currency", "id", "interval", "interval_count",
	"metadata", "name", "object", "pricing_mode", "quantity_type", "tiers", "updated_at"}

// seedCurlForm is the body curl sends for the seed's create example
// (-d id="starter" -d name="Starter" ...: the shell drops the quotes).
const seedCurlForm = "id=starter&name=Starter&catalog_item=software-subscription&amount=49&interval=month&interval_count=1&pricing_mode=per_unit"

// updatedAt returns the updated_at of a plan object: Unix seconds of
// when its last event was recorded (the store's clock, not the test's).
func updatedAt(t *testing.T, body []byte) int64 {
	t.Helper()
	var p struct {
		UpdatedAt json.Number `json:"updated_at"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	n, err := strconv.ParseInt(string(p.UpdatedAt), 10, 64)
	if err != nil || n < seedNow.Unix() {
		t.Fatalf("updated_at %q is not Unix seconds: %s", p.UpdatedAt, body)
	}
	return n
}

// seedPlanAt is the seed's plan object with created_at and updated_at
// as given and metadata {} (the seed's [] is PHP's empty array).
func seedPlanAt(name string, created, updated int64) string {
	return fmt.Sprintf(`{"amount":49,"catalog_item":"software-subscription","created_at":%d,"currency":"usd","id":"starter",`+
		`"interval":"month","interval_count":1,"metadata":{},"name":%q,"object":"plan","pricing_mode":"per_unit",`+
		`"quantity_type":"constant","tiers":null,"updated_at":%d}`, created, name, updated)
}

func TestInvoicedSeedExamples(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	created := seedNow.Unix()
	// Create, as the seed's curl sends it.
	res := env.invOK(t, "POST", "/plans", formType, seedCurlForm, http.StatusCreated)
	if got := jsonKeys(t, res.body); !reflect.DeepEqual(got, invoicedPlanKeys) {
		t.Fatalf("keys %v, want %v", got, invoicedPlanKeys)
	}
	updated := updatedAt(t, res.body)
	if want := seedPlanAt("Starter", created, updated); string(res.body) != want {
		t.Fatalf("create:\n got %s\nwant %s", res.body, want)
	}
	// Retrieve, before and after the read model has it.
	if res := env.invOK(t, "GET", "/plans/starter", "", "", http.StatusOK); string(res.body) != seedPlanAt("Starter", created, updated) {
		t.Fatalf("retrieve: %s", res.body)
	}
	env.projectCatalog(t)
	if res := env.invOK(t, "GET", "/plans/starter", "", "", http.StatusOK); string(res.body) != seedPlanAt("Starter", created, updated) {
		t.Fatalf("retrieve from the read model: %s", res.body)
	}
	// Update, as the seed's curl -X PATCH -d name="Standard" sends it.
	env.clock.advance(90 * time.Second)
	res = env.invOK(t, "PATCH", "/plans/starter", formType, "name=Standard", http.StatusOK)
	if updated = updatedAt(t, res.body); string(res.body) != seedPlanAt("Standard", created, updated) {
		t.Fatalf("update:\n got %s\nwant %s", res.body, seedPlanAt("Standard", created, updated))
	}
	// List: a bare array.
	env.projectCatalog(t)
	res = env.invOK(t, "GET", "/plans", "", "", http.StatusOK)
	if want := "[" + seedPlanAt("Standard", created, updated) + "]"; string(res.body) != want {
		t.Fatalf("list:\n got %s\nwant %s", res.body, want)
	}
	// Delete: 204 without a body; the plan is gone from the dialect.
	res = env.invOK(t, "DELETE", "/plans/starter", "", "", http.StatusNoContent)
	if len(res.body) != 0 {
		t.Fatalf("204 with a body: %q", res.body)
	}
	if res := env.invOK(t, "GET", "/plans/starter", "", "", http.StatusNotFound); string(res.body) != `{"type":"invalid_request","message":"Plan \"starter\" was not found."}` {
		t.Fatalf("deleted plan: %s", res.body)
	}
	for _, method := range []string{"PATCH", "DELETE"} {
		if res := env.inv(t, method, "/plans/starter", env.key, formType, "name=x"); res.status != http.StatusNotFound ||
			res.json(t)["type"] != "invalid_request" {
			t.Fatalf("%s of a deleted plan: %d %s", method, res.status, res.body)
		}
	}
	env.projectCatalog(t)
	if res := env.invOK(t, "GET", "/plans", "", "", http.StatusOK); string(res.body) != "[]" || res.header.Get("X-Total-Count") != "0" {
		t.Fatalf("list after delete: %s %v", res.body, res.header)
	}
	// The deleted plan's id may be given to a new plan, in JSON this time.
	res = env.invOK(t, "POST", "/plans", jsonType, `{"id":"starter","name":"Starter","catalog_item":"software-subscription",`+
		`"amount":49,"interval":"month","interval_count":1,"pricing_mode":"per_unit"}`, http.StatusCreated)
	if want := seedPlanAt("Starter", created+90, updatedAt(t, res.body)); string(res.body) != want {
		t.Fatalf("JSON create:\n got %s\nwant %s", res.body, want)
	}
}

// TestInvoicedFormAndJSONSameCommand: the same plan written as form
// fields (bracket forms) and as JSON makes the same plan, amounts exact.
func TestInvoicedFormAndJSONSameCommand(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	form := "id=tiered-form&name=Seats&currency=EUR&pricing_mode=tiered&quantity_type=usage&interval=year&interval_count=2" +
		"&amount=1000000000.0000000001&metadata[account_rep]=Jan&metadata[icp+number]=12%2034" +
		"&tiers[0][max_qty]=50&tiers[0][unit_cost]=100&tiers[1][min_qty]=51&tiers[1][max_qty]=100&tiers[1][unit_cost]=80" +
		"&tiers[2][min_qty]=101&tiers[2][unit_cost]=0.0015"
	body := `{"id":"tiered-json","name":"Seats","currency":"EUR","pricing_mode":"tiered","quantity_type":"usage","interval":"year",` +
		`"interval_count":2,"amount":1000000000.0000000001,"metadata":{"account_rep":"Jan","icp number":"12 34"},` +
		`"tiers":[{"max_qty":50,"unit_cost":100},{"min_qty":51,"max_qty":100,"unit_cost":80},{"min_qty":101,"unit_cost":0.0015}]}`
	fromForm := env.invOK(t, "POST", "/plans", formType, form, http.StatusCreated)
	fromJSON := env.invOK(t, "POST", "/plans", jsonType, body, http.StatusCreated)
	want := `{"amount":1000000000.0000000001,"catalog_item":null,"created_at":%d,"currency":"eur","id":%q,"interval":"year",` +
		`"interval_count":2,"metadata":{"account_rep":"Jan","icp number":"12 34"},"name":"Seats","object":"plan",` +
		`"pricing_mode":"tiered","quantity_type":"usage","tiers":[{"max_qty":50,"unit_cost":100},{"min_qty":51,"max_qty":100,"unit_cost":80},` +
		`{"min_qty":101,"unit_cost":0.0015}],"updated_at":%d}`
	for _, c := range []struct {
		id  string
		res response
	}{{"tiered-form", fromForm}, {"tiered-json", fromJSON}} {
		if w := fmt.Sprintf(want, seedNow.Unix(), c.id, updatedAt(t, c.res.body)); string(c.res.body) != w {
			t.Errorf("%s:\n got %s\nwant %s", c.id, c.res.body, w)
		}
	}
	// The native API reads both the same (but for the id).
	a := env.do(t, "GET", "/api/v1/catalog/plans/tiered-form", env.key, nil).json(t)
	b := env.do(t, "GET", "/api/v1/catalog/plans/tiered-json", env.key, nil).json(t)
	for _, k := range []string{"id", "updated_at"} {
		delete(a, k)
		delete(b, k)
	}
	if !reflect.DeepEqual(a, b) || a["amount"] != "1000000000.0000000001" {
		t.Fatalf("native views differ:\n%v\n%v", a, b)
	}
	// A plan without amount (custom) shows amount null.
	res := env.invOK(t, "POST", "/plans", "", "id=custom&pricing_mode=custom&catalog_item=x", http.StatusCreated)
	if p := res.json(t); p["amount"] != nil || p["catalog_item"] != "x" || p["tiers"] != nil {
		t.Fatalf("custom plan: %s", res.body)
	}
	// No Content-Type: a body starting with { is JSON, else form fields;
	// metadata= clears the metadata.
	env.invOK(t, "PATCH", "/plans/custom", "", `{"metadata":{"a":"b"}}`, http.StatusOK)
	if res := env.invOK(t, "PATCH", "/plans/custom", jsonType, `{"metadata":[]}`, http.StatusOK); !strings.Contains(string(res.body), `"metadata":{}`) {
		t.Fatalf("metadata [] (PHP's empty map) did not clear: %s", res.body)
	}
	env.invOK(t, "PATCH", "/plans/custom", "", `{"metadata":{"a":"b"}}`, http.StatusOK)
	if res := env.invOK(t, "PATCH", "/plans/custom", "", "metadata=", http.StatusOK); !strings.Contains(string(res.body), `"metadata":{}`) {
		t.Fatalf("metadata= did not clear: %s", res.body)
	}
	// A generated id when none is given.
	res = env.invOK(t, "POST", "/plans", formType, "amount=5", http.StatusCreated)
	if id, _ := res.json(t)["id"].(string); !strings.HasPrefix(id, "plan_") {
		t.Fatalf("generated id %q", id)
	}
}

// invoicedErr is the dialect's error body.
type invoicedErr struct {
	Type    string  `json:"type"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
}

func TestInvoicedErrors(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.invOK(t, "POST", "/plans", formType, seedCurlForm, http.StatusCreated)
	before := env.eventCount(t)
	big := "name=" + strings.Repeat("x", MaxBodyBytes)
	for _, c := range []struct {
		method, path, ct, body string
		status                 int
		param                  string // "" for none
		msg                    string // a part of the message
	}{
		{"POST", "/plans", formType, "name=A", 400, "amount", "The amount field is required."},
		{"POST", "/plans", jsonType, `{"amount":-1,"interval":"hour","currency":"usx"}`, 400, "currency", "The interval must be one of"},
		{"POST", "/plans", formType, "amount=abc", 400, "amount", "The amount must be a number."},
		{"POST", "/plans", formType, "amount=1&interval_count=1.5", 400, "interval_count", "whole number"},
		{"POST", "/plans", formType, "amount=1&interval_count=0", 400, "interval_count", "between 1 and 1000"},
		{"POST", "/plans", formType, "amount=1&name=a%00b", 400, "name", ""},
		{"POST", "/plans", formType, "amount=1&foo=bar", 400, "foo", `Unknown parameter "foo"`},
		{"POST", "/plans", jsonType, `{"amount":1,"description":"x"}`, 400, "description", "Unknown parameter"},
		{"POST", "/plans", formType, seedCurlForm, 400, "id", `A catalog plan with id "starter" already exists`},
		{"POST", "/plans", formType, "amount=1&id=no%20spaces", 400, "id", ""},
		{"POST", "/plans", formType, "pricing_mode=volume&tiers[0][max_qty]=50&tiers[0][unit_cost]=1&tiers[1][min_qty]=60&tiers[1][unit_cost]=2",
			400, "tiers[1][min_qty]", "The tiers[1][min_qty] must be 51"},
		{"POST", "/plans", formType, "amount=1&tiers[0][max_qty]=5&tiers[0][unit_cost]=1", 400, "tiers", "only allowed"},
		{"POST", "/plans", formType, "amount=1&metadata[a][b]=c", 400, "metadata", "object of strings"},
		{"POST", "/plans", jsonType, `{"amount":`, 400, "", "not valid JSON"},
		{"POST", "/plans", jsonType, `{"amount":1,"amount":2}`, 400, "", "more than once"},
		{"POST", "/plans", "text/plain", "amount=1", 415, "", "must be JSON"},
		{"POST", "/plans", formType, big, 400, "", "may not be larger than 65536 bytes"},
		{"PATCH", "/plans/starter", formType, "amount=50", 400, "amount", "delete and recreate"},
		{"PATCH", "/plans/starter", jsonType, `{"name":5}`, 400, "name", "must be a string"},
		{"PATCH", "/plans/starter", formType, "name=a%0Ab", 400, "name", ""},
		{"GET", "/plans/nope", "", "", 404, "", `Plan "nope" was not found.`},
		{"PATCH", "/plans/nope", formType, "name=x", 404, "", "not found"},
		{"DELETE", "/plans/nope", "", "", 404, "", "not found"},
		{"PUT", "/plans/starter", formType, "name=x", 405, "", "PUT is not allowed"},
		{"GET", "/plans/starter/extra", "", "", 404, "", "No route"},
	} {
		res := env.inv(t, c.method, c.path, env.key, c.ct, c.body)
		var e invoicedErr
		if res.status != c.status || json.Unmarshal(res.body, &e) != nil || e.Type != "invalid_request" ||
			!strings.Contains(e.Message, c.msg) || e.Message == "" {
			t.Errorf("%s %s %.80s: %d %s", c.method, c.path, c.body, res.status, res.body)
			continue
		}
		if got := jsonKeys(t, res.body); (c.param == "") != reflect.DeepEqual(got, []string{"type", "message"}) {
			t.Errorf("%s %.80s: keys %v", c.method, c.body, got)
		}
		if (e.Param == nil && c.param != "") || (e.Param != nil && *e.Param != c.param) {
			t.Errorf("%s %.80s: param %v, want %q: %s", c.method, c.body, e.Param, c.param, res.body)
		}
	}
	if env.eventCount(t) != before {
		t.Fatal("refused requests wrote events")
	}
}

func TestInvoicedAuthentication(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	unknown := "gp_" + strings.Repeat("0", 64)
	want401 := `{"type":"invalid_request","message":"Invalid or missing API key: send it as the HTTP Basic user name with an empty password (curl -u KEY:), or as a Bearer token."}`
	check := func(what string, req *http.Request, status int) response {
		t.Helper()
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, req)
		if rec.Code != status {
			t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
		}
		return response{status: rec.Code, header: rec.Result().Header, body: rec.Body.Bytes()}
	}
	for _, c := range []struct {
		name      string
		user, pwd string
	}{{"unknown key", unknown, ""}, {"not a gp key", "sk_live_x", ""}, {"a password", env.key, "secret"}} {
		for _, path := range []string{"/plans", "/plans/x"} {
			req := httptest.NewRequest("GET", path, nil)
			req.SetBasicAuth(c.user, c.pwd)
			res := check(c.name+" "+path, req, http.StatusUnauthorized)
			if string(res.body) != want401 || res.header.Get("WWW-Authenticate") != `Basic realm="goodplan"` {
				t.Fatalf("%s: %s %v", c.name, res.body, res.header)
			}
		}
	}
	if res := check("no key", httptest.NewRequest("POST", "/plans", strings.NewReader(seedCurlForm)), http.StatusUnauthorized); string(res.body) != want401 {
		t.Fatalf("no key: %s", res.body)
	}
	// Bearer works too.
	req := httptest.NewRequest("GET", "/plans", nil)
	req.Header.Set("Authorization", "Bearer "+env.key)
	check("Bearer", req, http.StatusOK)

	// The key's limits apply as on /api/v1, in the dialect's shape.
	checkKeyLimits(t, env, func(key string) response { return env.inv(t, "GET", "/plans", key, "", "") },
		`{"type":"invalid_request","message":"Rate limit exceeded: 2 requests per minute.`,
		`{"type":"invalid_request","message":"Too many failed authentications`)
}

func TestInvoicedOtherAccountIs404(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.invOK(t, "POST", "/plans", formType, seedCurlForm, http.StatusCreated)
	env.projectCatalog(t)
	_, other := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, c := range []struct{ method, body string }{{"GET", ""}, {"PATCH", "name=x"}, {"DELETE", ""}} {
		res := env.inv(t, c.method, "/plans/starter", other, formType, c.body)
		if res.status != http.StatusNotFound || string(res.body) != `{"type":"invalid_request","message":"Plan \"starter\" was not found."}` {
			t.Errorf("%s by another account: %d %s", c.method, res.status, res.body)
		}
	}
	if res := env.inv(t, "GET", "/plans", other, "", ""); string(res.body) != "[]" || res.header.Get("X-Total-Count") != "0" {
		t.Errorf("another account's list: %s", res.body)
	}
	// Its own plan of the same id is its own.
	if res := env.inv(t, "POST", "/plans", other, formType, seedCurlForm); res.status != http.StatusCreated {
		t.Fatalf("same id in another account: %d %s", res.status, res.body)
	}
	if res := env.invOK(t, "GET", "/plans/starter", "", "", http.StatusOK); res.json(t)["name"] != "Starter" {
		t.Fatalf("own plan: %s", res.body)
	}
}

func TestInvoicedIdempotencyKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	first := env.inv(t, "POST", "/plans", env.key, formType, seedCurlForm, "Idempotency-Key", "k1")
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// The same fields in another order, then as JSON: the same request.
	reordered := "pricing_mode=per_unit&interval_count=1&interval=month&amount=49&catalog_item=software-subscription&name=Starter&id=starter"
	asJSON := `{"id":"starter","name":"Starter","catalog_item":"software-subscription","amount":49,"interval":"month",` +
		`"interval_count":1,"pricing_mode":"per_unit"}`
	for _, c := range []struct{ ct, body string }{{formType, reordered}, {jsonType, asJSON}} {
		again := env.inv(t, "POST", "/plans", env.key, c.ct, c.body, "Idempotency-Key", "k1")
		if again.status != http.StatusCreated || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry %s: %d %s", c.ct, again.status, again.body)
		}
	}
	other := env.inv(t, "POST", "/plans", env.key, formType, "amount=50", "Idempotency-Key", "k1")
	if e := other.json(t); other.status != http.StatusBadRequest || e["type"] != "invalid_request" ||
		!strings.Contains(e["message"].(string), "Idempotency-Key was already used") {
		t.Fatalf("other body with the key: %d %s", other.status, other.body)
	}
	// PATCH and DELETE take a key too.
	p1 := env.inv(t, "PATCH", "/plans/starter", env.key, formType, "name=B", "Idempotency-Key", "k2")
	env.clock.advance(time.Minute)
	p2 := env.inv(t, "PATCH", "/plans/starter", env.key, jsonType, `{"name":"B"}`, "Idempotency-Key", "k2")
	if p1.status != http.StatusOK || string(p1.body) != string(p2.body) || p2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("PATCH retry: %s / %s", p1.body, p2.body)
	}
	for i := range 2 {
		if res := env.inv(t, "DELETE", "/plans/starter", env.key, "", "", "Idempotency-Key", "k3"); res.status != http.StatusNoContent {
			t.Fatalf("DELETE %d: %d %s", i, res.status, res.body)
		}
	}
	if n := env.eventCount(t); n != 3 {
		t.Fatalf("%d events, want 3 (created, updated, deleted)", n)
	}
}

// TestInvoicedListSortFilterPaging: sort, filter[...], updated_after,
// page and per_page with X-Total-Count and Link, over the read model.
func TestInvoicedListSortFilterPaging(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	plans := []string{
		"id=p1&name=Delta&amount=30&currency=usd&interval=month&catalog_item=a",
		"id=p2&name=alpha&amount=5.5&currency=eur&interval=year&interval_count=3&catalog_item=b",
		"id=p3&name=Charlie&amount=100&currency=usd&interval=week&catalog_item=a",
		"id=p4&name=Bravo&pricing_mode=tiered&currency=usd&interval=day&tiers[0][unit_cost]=1",
		"id=p5&name=Echo&amount=0.25&currency=jpy&interval=month&interval_count=3",
	}
	for _, p := range plans {
		env.invOK(t, "POST", "/plans", formType, p, http.StatusCreated)
		env.clock.advance(10 * time.Second)
	}
	env.invOK(t, "POST", "/plans", formType, "id=gone&amount=1", http.StatusCreated)
	env.invOK(t, "DELETE", "/plans/gone", "", "", http.StatusNoContent)
	env.projectCatalog(t)
	// updated_at is when the last event was recorded; spread the rows'
	// over 10 s steps (p1 at seedNow ... p5 at seedNow + 40 s, the first
	// two at .5 s) to test updated_after.
	for i := range 5 {
		at := seedNow.Add(time.Duration(i) * 10 * time.Second)
		if i < 2 {
			at = at.Add(500 * time.Millisecond)
		}
		if _, err := env.store.Pool().Exec(t.Context(), `UPDATE catalog_plan_views SET updated_at = $1 WHERE public_id = $2`,
			at, "p"+strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	list := func(query string) ([]string, response) {
		t.Helper()
		res := env.invOK(t, "GET", "/plans"+query, "", "", http.StatusOK)
		var items []struct{ ID string }
		if err := json.Unmarshal(res.body, &items); err != nil {
			t.Fatalf("GET %s: %v %s", query, err, res.body)
		}
		ids := []string{}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return ids, res
	}
	for _, c := range []struct {
		query string
		want  []string
		total int
	}{
		{"", []string{"p5", "p4", "p3", "p2", "p1"}, 5},
		{"?envelope=0", []string{"p5", "p4", "p3", "p2", "p1"}, 5},
		{"?sort=name+asc", []string{"p4", "p3", "p1", "p5", "p2"}, 5}, // byte order: upper case first
		{"?sort=name%20DESC", []string{"p2", "p5", "p1", "p3", "p4"}, 5},
		{"?sort=amount+desc", []string{"p3", "p1", "p2", "p5", "p4"}, 5}, // no amount last
		{"?sort=amount", []string{"p5", "p2", "p1", "p3", "p4"}, 5},
		{"?sort=created_at+asc", []string{"p1", "p2", "p3", "p4", "p5"}, 5},
		{"?sort=interval+asc,name+desc", []string{"p4", "p3", "p5", "p1", "p2"}, 5},
		{"?sort=currency,interval_count+desc,id+desc", []string{"p2", "p5", "p4", "p3", "p1"}, 5},
		{"?filter[currency]=usd", []string{"p4", "p3", "p1"}, 3},
		{"?filter%5Bcurrency%5D=EUR", []string{"p2"}, 1},
		{"?filter[interval]=month&sort=id", []string{"p1", "p5"}, 2},
		{"?filter[interval_count]=3", []string{"p5", "p2"}, 2},
		{"?filter[pricing_mode]=tiered", []string{"p4"}, 1},
		{"?filter[pricing_mode]=per_unit&filter[catalog_item]=a", []string{"p3", "p1"}, 2},
		{"?filter[catalog_item]=zzz", []string{}, 0},
		{fmt.Sprintf("?updated_after=%d", seedNow.Unix()+19), []string{"p5", "p4", "p3"}, 3},
		{fmt.Sprintf("?updated_after=%d&sort=created_at+asc&per_page=2", seedNow.Unix()+19), []string{"p3", "p4"}, 3},
		{fmt.Sprintf("?updated_after=%d", seedNow.Unix()+10), []string{"p5", "p4", "p3"}, 3}, // p2 at +10.5 s shows 10
		{fmt.Sprintf("?updated_after=%d", seedNow.Unix()+9), []string{"p5", "p4", "p3", "p2"}, 4},
		{fmt.Sprintf("?updated_after=%d", seedNow.Unix()-1), []string{"p5", "p4", "p3", "p2", "p1"}, 5},
		{"?per_page=2", []string{"p5", "p4"}, 5},
		{"?per_page=2&page=3", []string{"p1"}, 5},
		{"?per_page=2&page=4", []string{}, 5},
	} {
		ids, res := list(c.query)
		if !reflect.DeepEqual(ids, c.want) || res.header.Get("X-Total-Count") != strconv.Itoa(c.total) {
			t.Errorf("GET /plans%s: %v (total %s), want %v (total %d)", c.query, ids, res.header.Get("X-Total-Count"), c.want, c.total)
		}
	}
	// The Link header, as Invoiced writes it.
	_, res := list("?per_page=2&page=2&filter[currency]=usd")
	l := func(page int, rel string) string {
		return fmt.Sprintf(`<https://goodplan.test/plans?filter%%5Bcurrency%%5D=usd&page=%d&per_page=2>; rel="%s"`, page, rel)
	}
	if got, want := res.header.Get("Link"), l(2, "self")+", "+l(1, "first")+", "+l(1, "previous")+", "+l(2, "last"); got != want {
		t.Errorf("Link\n got %s\nwant %s", got, want)
	}
	_, res = list("?per_page=2")
	link := func(page int, rel string) string {
		return fmt.Sprintf(`<https://goodplan.test/plans?page=%d&per_page=2>; rel="%s"`, page, rel)
	}
	if got, want := res.header.Get("Link"), link(1, "self")+", "+link(1, "first")+", "+link(2, "next")+", "+link(3, "last"); got != want {
		t.Errorf("Link\n got %s\nwant %s", got, want)
	}
	_, res = list("")
	if got, want := res.header.Get("Link"), `<https://goodplan.test/plans?page=1&per_page=100>; rel="self", `+
		`<https://goodplan.test/plans?page=1&per_page=100>; rel="first", <https://goodplan.test/plans?page=1&per_page=100>; rel="last"`; got != want {
		t.Errorf("Link\n got %s\nwant %s", got, want)
	}
	// Every object of a list has exactly the seed's keys.
	var raw []json.RawMessage
	_, res = list("")
	if err := json.Unmarshal(res.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, r := range raw {
		if got := jsonKeys(t, r); !reflect.DeepEqual(got, invoicedPlanKeys) {
			t.Fatalf("list item keys %v", got)
		}
	}
	// Bad parameters: 400 naming them.
	for q, param := range map[string]string{
		"?sort=bogus":               "sort",
		"?sort=name+up":             "sort",
		"?sort=metadata":            "sort",
		"?sort=name,name":           "sort",
		"?sort=a,b,c,d":             "sort",
		"?sort=":                    "sort",
		"?filter[name]=x":           "filter[name]",
		"?filter[currency]=zzz":     "filter[currency]",
		"?filter[currency]=":        "filter[currency]",
		"?filter[interval]=hour":    "filter[interval]",
		"?filter[interval_count]=0": "filter[interval_count]",
		"?filter[pricing_mode]=x":   "filter[pricing_mode]",
		"?filter[currency":          "filter[currency",
		"?filter=usd":               "filter",
		"?metadata[a]=b":            "metadata[a]",
		"?per_page=101":             "per_page",
		"?per_page=0":               "per_page",
		"?page=0":                   "page",
		"?page=x":                   "page",
		"?page=1&page=2":            "page",
		"?updated_after=-1":         "updated_after",
		"?updated_after=2025-11-27": "updated_after",
	} {
		res := env.inv(t, "GET", "/plans"+q, env.key, "", "")
		var e invoicedErr
		if res.status != http.StatusBadRequest || json.Unmarshal(res.body, &e) != nil || e.Param == nil || *e.Param != param {
			t.Errorf("GET /plans%s: %d %s, want a 400 naming %s", q, res.status, res.body, param)
		}
	}
}

// TestInvoicedHostileForms: forms past the decoder's bounds or malformed
// are 400s naming what they can, and write nothing.
func TestInvoicedHostileForms(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, c := range []struct{ form, param string }{
		{strings.Repeat("a=1&", maxFormFields) + "amount=1", ""},
		{"amount=1&tiers[0][a][b]=1", "tiers[0][a][b]"},
		{"amount=1&metadata[a][b][c]=1", "metadata[a][b][c]"},
		{"pricing_mode=volume&tiers[100][unit_cost]=1", "tiers[100]"},
		{"pricing_mode=volume&tiers[99999999999999999999][unit_cost]=1", "tiers[99999999999999999999]"},
		{"pricing_mode=volume&tiers[007][unit_cost]=1", "tiers[007]"},
		{"pricing_mode=volume&tiers[-1][unit_cost]=1", "tiers[-1]"},
		{"pricing_mode=volume&tiers[1][unit_cost]=1", "tiers[1]"},
		{"pricing_mode=volume&tiers[0][unit_cost]=1&tiers[2][unit_cost]=1", "tiers[2]"},
		{"pricing_mode=volume&tiers[x][unit_cost]=1", "tiers[x]"},
		{"amount=1&metadata[]=x", "metadata[]"},
		{"amount=1&metadata[a]x=1", "metadata[a]x"},
		{"amount=1&metadata[a=1", "metadata[a"},
		{"amount=1&[a]=1", "[a]"},
		{"amount=1&a]=1", "a]"},
		{"amount=%zz", ""},
		{"amount=1&name=%ff", "name"},
		{"amount=1&%ff=1", ""},
		{"amount=1&name=a&name=b", "name"},
		{"amount=1&metadata=a&metadata[b]=c", "metadata[b]"},
		{"amount=1&metadata[b]=c&metadata=a", "metadata"},
		{"amount=1&metadata[" + strings.Repeat("k", maxFormKeyBytes) + "]=1", ""},
		{"amount=1&metadata[" + strings.Repeat("k", 41) + "]=1", "metadata[" + strings.Repeat("k", 41) + "]"},
		{"amount=1&name=" + strings.Repeat("n", 256), "name"},
		{"amount=1&tiers=x", "tiers"},
		{"amount=1e999999999", "amount"},
		{"amount=1&interval_count=99999999999999999999", "interval_count"},
	} {
		res := env.inv(t, "POST", "/plans", env.key, formType, c.form)
		var e invoicedErr
		if res.status != http.StatusBadRequest || json.Unmarshal(res.body, &e) != nil || e.Type != "invalid_request" ||
			(c.param == "") != (e.Param == nil) || (e.Param != nil && *e.Param != c.param) {
			t.Errorf("POST %.120s: %d %s, want a 400 naming %q", c.form, res.status, res.body, c.param)
		}
	}
	if n := env.eventCount(t); n != 0 {
		t.Fatalf("hostile forms wrote %d events", n)
	}
}

// TestInvoicedErrorMapping: every error the shared command path can
// return answers in the dialect's shape, with the documented status and
// type (4xx invalid_request, 5xx api).
func TestInvoicedErrorMapping(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	req := httptest.NewRequest("POST", "/plans", nil)
	for _, c := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"duplicate id", errCatalogIDTaken("starter"), 400,
			`{"type":"invalid_request","message":"A catalog plan with id \"starter\" already exists; delete it first or choose another id.","param":"id"}`},
		{"reused Idempotency-Key", eventstore.ErrCommandReused, 400,
			`{"type":"invalid_request","message":"This Idempotency-Key was already used with a different request."}`},
		{"version conflict", eventstore.ErrVersionConflict, 409,
			`{"type":"invalid_request","message":"The plan was changed by another request; retry with its current state."}`},
		{"event too large", eventstore.ErrEventTooLarge, 413, ""},
		{"bad Idempotency-Key", badRequest("Invalid Idempotency-Key", "The Idempotency-Key header may contain only printable ASCII characters."), 400,
			`{"type":"invalid_request","message":"The Idempotency-Key header may contain only printable ASCII characters."}`},
		{"internal", errors.New("boom"), 500,
			`{"type":"api","message":"Something went wrong on our side; the request may be retried."}`},
	} {
		rec := httptest.NewRecorder()
		env.srv.writeInvoicedError(rec, req, c.err)
		var e invoicedErr
		if rec.Code != c.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Message == "" ||
			(c.body != "" && rec.Body.String() != c.body) || (c.status < 500) != (e.Type == "invalid_request") {
			t.Errorf("%s: %d %s", c.name, rec.Code, rec.Body)
		}
	}
}
