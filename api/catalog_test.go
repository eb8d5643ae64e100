package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"goodplan/eventstore"
	"goodplan/projections"
)

// projectCatalog applies every catalog plan event to the read model, as the
// projection-catalog-plans consumer does in goodplan serve.
func (e *testEnv) projectCatalog(t *testing.T) {
	t.Helper()
	e.projectStreams(t, "catalogplan-", projections.NewCatalogPlans(e.store).Apply)
}

// projectStreams applies every event of the streams whose id starts with
// prefix, in stream order, with apply.
func (e *testEnv) projectStreams(t *testing.T, prefix string, apply func(context.Context, eventstore.Record) error) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.store.Pool().Query(ctx, `SELECT stream_id FROM streams WHERE starts_with(stream_id, $1)`, prefix)
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	rows.Close()
	for _, s := range streams {
		recs, _, err := e.store.Load(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := apply(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// catalogPlan posts body to /api/v1/catalog/plans and wants status.
func (e *testEnv) catalogPlan(t *testing.T, body string, want int, headers ...string) map[string]any {
	t.Helper()
	res := e.do(t, "POST", "/api/v1/catalog/plans", e.key, []byte(body), headers...)
	if res.status != want {
		t.Fatalf("POST %s: status %d, want %d: %s", body, res.status, want, res.body)
	}
	return res.json(t)
}

var catalogPlanKeys = []string{"active", "amount", "catalog_item", "created_at", "currency", "deleted_at", "description",
	"id", "interval", "interval_count", "invoice_display_name", "metadata", "name", "object", "payment_options",
	"prices", "pricing_mode", "quantity_type", "tax", "tiers", "updated_at", "version"}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCatalogPlanCreateDefaultsGetAndOtherAccount(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	p := env.catalogPlan(t, `{"name":"Starter","amount":49}`, http.StatusCreated)
	if got := keysOf(p); !reflect.DeepEqual(got, catalogPlanKeys) {
		t.Fatalf("keys %v, want %v", got, catalogPlanKeys)
	}
	id, _ := p["id"].(string)
	if !regexp.MustCompile(`^plan_[0-9A-Za-z]{14}$`).MatchString(id) {
		t.Fatalf("generated id %q", id)
	}
	for k, want := range map[string]any{"amount": "49", "currency": "USD", "pricing_mode": "per_unit", "quantity_type": "constant",
		"interval": "month", "interval_count": 1.0, "active": true, "tiers": nil, "deleted_at": nil, "object": "catalog_plan"} {
		if !reflect.DeepEqual(p[k], want) {
			t.Errorf("%s = %#v, want %#v", k, p[k], want)
		}
	}
	if m, ok := p["metadata"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("metadata %#v, want {}", p["metadata"])
	}
	// Read right after the write, before the projection ran: folded.
	res := env.do(t, "GET", "/api/v1/catalog/plans/"+id, env.key, nil)
	if res.status != http.StatusOK || !reflect.DeepEqual(res.json(t), p) {
		t.Fatalf("GET before projection: %d %s", res.status, res.body)
	}
	env.projectCatalog(t)
	if res = env.do(t, "GET", "/api/v1/catalog/plans/"+id, env.key, nil); res.status != http.StatusOK || !reflect.DeepEqual(res.json(t), p) {
		t.Fatalf("GET from the read model: %d %s", res.status, res.body)
	}
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/catalog/plans/" + id, ""}, {"PATCH", "/api/v1/catalog/plans/" + id, `{"name":"x"}`},
		{"DELETE", "/api/v1/catalog/plans/" + id, ""}, {"POST", "/api/v1/catalog/plans/" + id + "/quote", `{"quantity":1}`},
	} {
		if res := env.do(t, c.method, c.path, otherKey, []byte(c.body)); res.status != http.StatusNotFound || res.json(t)["error"] != "Not found" {
			t.Errorf("%s %s by another account: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	if res := env.do(t, "GET", "/api/v1/catalog/plans", otherKey, nil); !strings.Contains(string(res.body), `"items":[]`) {
		t.Errorf("another account's list: %s", res.body)
	}
}

const catalogTiers = `[{"max_qty":50,"unit_cost":100},{"min_qty":51,"max_qty":100,"unit_cost":"80"},{"min_qty":101,"unit_cost":70}]`

func TestCatalogPlanQuoteWorkedNumbers(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"vol","name":"Volume","pricing_mode":"volume","tiers":`+catalogTiers+`}`, http.StatusCreated)
	tiered := env.catalogPlan(t, `{"id":"tie","name":"Tiered","pricing_mode":"tiered","tiers":`+catalogTiers+`}`, http.StatusCreated)
	if tiers, _ := tiered["tiers"].([]any); len(tiers) != 3 || tiers[1].(map[string]any)["unit_cost"] != "80" {
		t.Fatalf("tiers %#v", tiered["tiers"])
	}
	if p := env.catalogPlan(t, `{"id":"unit","name":"Seat","amount":"9.99","currency":"eur","product_id":"seats"}`, http.StatusCreated); p["catalog_item"] != "seats" || p["currency"] != "EUR" {
		t.Fatalf("product_id and currency: %v", p)
	}
	if res := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"name":"x","amount":1,"catalog_item":"a","productId":"b"}`)); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.body), `"productId"`) {
		t.Fatalf("catalog_item named twice: %d %s", res.status, res.body)
	}
	for _, c := range []struct{ id, qty, total string }{
		{"vol", `"101"`, "7070.00"}, {"tie", `"101"`, "9070.00"}, {"vol", `50`, "5000.00"}, {"tie", `50`, "5000.00"},
		{"vol", `51`, "4080.00"}, {"tie", `"51"`, "5080.00"}, {"unit", `3`, "29.97"},
	} {
		res := env.do(t, "POST", "/api/v1/catalog/plans/"+c.id+"/quote", env.key, []byte(`{"quantity":`+c.qty+`}`))
		if res.status != http.StatusOK {
			t.Fatalf("quote %s %s: %d %s", c.id, c.qty, res.status, res.body)
		}
		q := res.json(t)
		if q["total"] != c.total {
			t.Errorf("quote %s %s: total %v, want %s (%s)", c.id, c.qty, q["total"], c.total, res.body)
		}
		if got := keysOf(q); !reflect.DeepEqual(got, []string{"currency", "lines", "quantity", "total"}) {
			t.Errorf("quote keys %v", got)
		}
	}
	res := env.do(t, "POST", "/api/v1/catalog/plans/tie/quote", env.key, []byte(`{"quantity":"101"}`))
	var q struct {
		Currency, Quantity, Total string
		Lines                     []map[string]any
	}
	if err := json.Unmarshal(res.body, &q); err != nil {
		t.Fatal(err)
	}
	if q.Currency != "USD" || q.Quantity != "101" || len(q.Lines) != 3 ||
		!reflect.DeepEqual(q.Lines[2], map[string]any{"tier": 3.0, "quantity": "1", "unit_cost": "70", "amount": "70"}) {
		t.Fatalf("tiered quote: %s", res.body)
	}
	for _, body := range []string{`{}`, `{"quantity":"abc"}`, `{"quantity":true}`, `{"quantity":-1}`, `{"quantity":"1.5"}`} {
		if res := env.do(t, "POST", "/api/v1/catalog/plans/vol/quote", env.key, []byte(body)); res.status != http.StatusUnprocessableEntity {
			t.Errorf("quote %s: %d %s", body, res.status, res.body)
		}
	}
}

func TestCatalogPlanListPagingAndFilters(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, b := range []string{`{"id":"a1","name":"A","amount":1}`, `{"id":"a2","name":"B","amount":2,"currency":"EUR"}`,
		`{"id":"a3","name":"C","amount":3,"interval":"year"}`, `{"id":"a4","name":"D","amount":4,"active":false}`} {
		env.catalogPlan(t, b, http.StatusCreated)
	}
	env.projectCatalog(t)
	list := func(query string) ([]string, bool) {
		t.Helper()
		res := env.do(t, "GET", "/api/v1/catalog/plans"+query, env.key, nil)
		if res.status != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, res.status, res.body)
		}
		var l struct {
			Items   []struct{ ID string }
			HasMore *bool `json:"has_more"`
		}
		if err := json.Unmarshal(res.body, &l); err != nil || l.HasMore == nil {
			t.Fatalf("list %s: %s", query, res.body)
		}
		ids := []string{}
		for _, it := range l.Items {
			ids = append(ids, it.ID)
		}
		return ids, *l.HasMore
	}
	check := func(query string, want []string, wantMore bool) {
		t.Helper()
		if ids, more := list(query); !reflect.DeepEqual(ids, want) || more != wantMore {
			t.Errorf("list %s = %v more %v; want %v more %v", query, ids, more, want, wantMore)
		}
	}
	check("", []string{"a4", "a3", "a2", "a1"}, false)
	check("?limit=2", []string{"a4", "a3"}, true)
	check("?limit=2&starting_after=a3", []string{"a2", "a1"}, false)
	check("?currency=eur", []string{"a2"}, false)
	check("?interval=year", []string{"a3"}, false)
	check("?active=false", []string{"a4"}, false)
	check("?active=true&currency=USD&interval=month", []string{"a1"}, false)
	check("?updated_after=2999-01-01T00:00:00Z", []string{}, false)
	for _, q := range []string{"?limit=0", "?limit=101", "?starting_after=zz", "?currency=XXX", "?interval=hour", "?active=yes", "?updated_after=yesterday"} {
		if res := env.do(t, "GET", "/api/v1/catalog/plans"+q, env.key, nil); res.status != http.StatusUnprocessableEntity {
			t.Errorf("list %s: %d %s", q, res.status, res.body)
		}
	}
}

func TestCatalogPlanPatchDeleteAndReuse(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	created := env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":49,"metadata":{"a":"1"},"tax":{"z":1, "a":{"y":2}}}`, http.StatusCreated)
	env.projectCatalog(t)
	// The tax object keeps its key order, in the read model too.
	if res := env.do(t, "GET", "/api/v1/catalog/plans/starter", env.key, nil); !reflect.DeepEqual(res.json(t), created) ||
		!strings.Contains(string(res.body), `"tax":{"z":1,"a":{"y":2}}`) {
		t.Fatalf("GET from the read model: %s", res.body)
	}
	res := env.do(t, "PATCH", "/api/v1/catalog/plans/starter", env.key,
		[]byte(`{"name":"Starter 2","description":"d","invoice_display_name":"S","metadata":{"b":"2"},"active":false}`))
	p := res.json(t)
	if res.status != http.StatusOK || p["name"] != "Starter 2" || p["active"] != false || p["description"] != "d" ||
		!reflect.DeepEqual(p["metadata"], map[string]any{"b": "2"}) || p["version"] != 2.0 {
		t.Fatalf("PATCH: %d %s", res.status, res.body)
	}
	env.projectCatalog(t)
	if res := env.do(t, "GET", "/api/v1/catalog/plans/starter", env.key, nil); !reflect.DeepEqual(res.json(t), p) {
		t.Fatalf("GET after PATCH: %s", res.body)
	}
	if res := env.do(t, "PATCH", "/api/v1/catalog/plans/starter", env.key, []byte(`{"amount":50}`)); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.body), `"amount"`) {
		t.Fatalf("PATCH amount: %d %s", res.status, res.body)
	}
	// A duplicate id is a 409 naming id, and writes nothing.
	before := env.eventCount(t)
	if dup := env.catalogPlan(t, `{"id":"starter","name":"Again","amount":1}`, http.StatusConflict); dup["errors"] == nil {
		t.Fatalf("duplicate: %v", dup)
	}
	if env.eventCount(t) != before {
		t.Fatal("a refused duplicate wrote events")
	}
	res = env.do(t, "DELETE", "/api/v1/catalog/plans/starter", env.key, nil)
	if res.status != http.StatusOK || res.json(t)["deleted_at"] == nil {
		t.Fatalf("DELETE: %d %s", res.status, res.body)
	}
	env.projectCatalog(t)
	if res := env.do(t, "GET", "/api/v1/catalog/plans/starter", env.key, nil); res.status != http.StatusOK || res.json(t)["deleted_at"] == nil {
		t.Fatalf("GET deleted: %d %s", res.status, res.body)
	}
	if ids := env.do(t, "GET", "/api/v1/catalog/plans", env.key, nil); strings.Contains(string(ids.body), "starter") {
		t.Fatalf("deleted plan listed: %s", ids.body)
	}
	for _, c := range []struct{ method, path, body string }{{"DELETE", "", ""}, {"PATCH", "", `{"name":"x"}`}, {"POST", "/quote", `{"quantity":1}`}} {
		if res := env.do(t, c.method, "/api/v1/catalog/plans/starter"+c.path, env.key, []byte(c.body)); res.status != http.StatusNotFound {
			t.Errorf("%s deleted plan: %d %s", c.method, res.status, res.body)
		}
	}
	reused := env.catalogPlan(t, `{"id":"starter","name":"New","amount":"59.50"}`, http.StatusCreated)
	if res := env.do(t, "GET", "/api/v1/catalog/plans/starter", env.key, nil); !reflect.DeepEqual(res.json(t), reused) {
		t.Fatalf("GET reused id: %s", res.body)
	}
}

func TestCatalogPlanIdempotentRetry(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	body := `{"name":"Starter","amount":49}`
	first := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(body), "Idempotency-Key", "k1")
	again := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"amount":49.0, "name":"Starter"}`), "Idempotency-Key", "k1")
	if first.status != http.StatusCreated || again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" ||
		first.json(t)["id"] != again.json(t)["id"] {
		t.Fatalf("retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if n := env.eventCount(t); n != 1 {
		t.Fatalf("%d events after a retried create", n)
	}
	if res := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"name":"Other","amount":1}`), "Idempotency-Key", "k1"); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("key reused with another body: %d %s", res.status, res.body)
	}
	id := first.json(t)["id"].(string)
	for range 2 {
		res := env.do(t, "PATCH", "/api/v1/catalog/plans/"+id, env.key, []byte(`{"name":"Renamed"}`), "Idempotency-Key", "k2")
		if res.status != http.StatusOK || res.json(t)["name"] != "Renamed" {
			t.Fatalf("PATCH retry: %d %s", res.status, res.body)
		}
	}
	if n := env.eventCount(t); n != 2 {
		t.Fatalf("%d events after a retried update", n)
	}
}

func TestCatalogPlanHostileInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"ok","name":"Fine","amount":1}`, http.StatusCreated)
	huge := `{` + strings.Repeat(`"k":"v",`, 0)
	for i := range 60 {
		huge += `"k` + strings.Repeat("x", i) + `":"v",`
	}
	huge = strings.TrimSuffix(huge, ",") + `}`
	before := env.eventCount(t)
	for _, body := range []string{
		`{"name":"a\u0000b","amount":1}`, `{"name":"evil\u202Eexe","amount":1}`, `{"name":"x","amount":1,"metadata":` + huge + `}`,
		`{"name":"x","amount":1,"metadata":{"k":"` + strings.Repeat("v", 501) + `"}}`, `{"id":"no spaces","amount":1}`,
		`{"name":"x","amount":"1e400"}`, `{"name":"x","amount":-1}`, `{"name":"x","pricing_mode":"volume","tiers":[{"max_qty":5,"unit_cost":1},{"min_qty":7,"unit_cost":1}]}`,
		`{"name":"x","amount":1,"interval":"hour"}`, `{"name":"x","amount":1,"interval_count":1.5}`, `{"name":"x","amount":1,"tax":[1]}`,
	} {
		res := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(body))
		if res.status != http.StatusUnprocessableEntity || res.json(t)["error"] != "Validation failed" {
			t.Errorf("POST %.80s: %d %s", body, res.status, res.body)
		}
	}
	for _, body := range []string{`{"name":"a\u0000b"}`, `{"name":"evil\u202Eexe"}`, `{"metadata":` + huge + `}`, `{"active":"yes"}`} {
		if res := env.do(t, "PATCH", "/api/v1/catalog/plans/ok", env.key, []byte(body)); res.status != http.StatusUnprocessableEntity {
			t.Errorf("PATCH %.80s: %d %s", body, res.status, res.body)
		}
	}
	if res := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"name":"x","name":"y"}`)); res.status != http.StatusBadRequest {
		t.Errorf("duplicate key: %d %s", res.status, res.body)
	}
	if env.eventCount(t) != before {
		t.Fatal("refused input wrote events")
	}
	if res := env.do(t, "GET", "/api/v1/catalog/plans/"+url.PathEscape("nope/x"), env.key, nil); res.status != http.StatusNotFound {
		t.Errorf("unknown id: %d %s", res.status, res.body)
	}
}

// TestCatalogPlanConcurrentSameID: of creates racing for one id, exactly
// one wins; the others are 409 and write nothing.
func TestCatalogPlanConcurrentSameID(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"id":"race","name":"R","amount":1}`)).status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v", count)
	}
	if got := env.eventCount(t); got != 1 {
		t.Fatalf("%d events", got)
	}
}
