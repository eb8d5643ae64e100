package api

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"goodplan/eventstore"
	"goodplan/projections"
)

// projectGroups applies every plan group event to the read model, as the
// projection-plan-groups consumer does in goodplan serve.
func (e *testEnv) projectGroups(t *testing.T) {
	t.Helper()
	e.projectStreams(t, "plangroup-", projections.NewPlanGroups(e.store).Apply)
}

// groupEvents counts the plan group events stored.
func (e *testEnv) groupEvents(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE stream_id LIKE 'plangroup-%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// paymentPlan creates a payment plan with key and returns its id.
func (e *testEnv) paymentPlan(t *testing.T, key string) int64 {
	t.Helper()
	res := e.do(t, "POST", "/api/v1/plans", key, []byte(seedFull))
	if res.status != http.StatusCreated {
		t.Fatalf("create payment plan: %d %s", res.status, res.body)
	}
	id, ok := res.json(t)["plan_id"].(float64)
	if !ok {
		t.Fatalf("payment plan id in %s", res.body)
	}
	return int64(id)
}

// group does method path with body and wants status.
func (e *testEnv) group(t *testing.T, method, path, body string, want int, headers ...string) response {
	t.Helper()
	res := e.do(t, method, path, e.key, []byte(body), headers...)
	if res.status != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, res.status, want, res.body)
	}
	return res
}

func TestPlanGroupLifecycle(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":49}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"pro","name":"Pro","amount":99,"currency":"eur","interval":"year"}`, http.StatusCreated)
	pp := env.paymentPlan(t, env.key)
	pps := strconv.FormatInt(pp, 10)

	created := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Premium","plans":["starter","pro"],"payment_plans":[`+pps+`]}`, http.StatusCreated)
	g := created.json(t)
	if got := keysOf(g); !reflect.DeepEqual(got, []string{"created_at", "id", "name", "payment_plans", "plans", "updated_at"}) {
		t.Fatalf("keys %v", got)
	}
	id := g["id"].(string)
	if len(id) != 36 || created.header.Get("Location") != "/api/v1/plan-groups/"+id {
		t.Fatalf("id %q, Location %q", id, created.header.Get("Location"))
	}
	wantPlans := []any{
		map[string]any{"id": "starter", "name": "Starter", "currency": "USD", "interval": "month", "interval_count": 1.0},
		map[string]any{"id": "pro", "name": "Pro", "currency": "EUR", "interval": "year", "interval_count": 1.0},
	}
	if !reflect.DeepEqual(g["plans"], wantPlans) || !reflect.DeepEqual(g["payment_plans"], []any{float64(pp)}) {
		t.Fatalf("members: %s", created.body)
	}
	// Read right after the write, before the consumer ran, and after it.
	if res := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK); !reflect.DeepEqual(res.json(t), g) {
		t.Fatalf("GET: %s, want %s", res.body, created.body)
	}
	env.projectCatalog(t)
	env.projectGroups(t)
	if res := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK); !reflect.DeepEqual(res.json(t), g) {
		t.Fatalf("GET after projection: %s, want %s", res.body, created.body)
	}

	// A second group, then the list: newest first, paged.
	second := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Basic","plans":["starter"]}`, http.StatusCreated).json(t)
	list := env.group(t, "GET", "/api/v1/plan-groups?limit=1", "", http.StatusOK).json(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != second["id"] || list["has_more"] != true {
		t.Fatalf("first page %v", list)
	}
	list = env.group(t, "GET", "/api/v1/plan-groups?limit=1&starting_after="+second["id"].(string), "", http.StatusOK).json(t)
	if items := list["items"].([]any); len(items) != 1 || !reflect.DeepEqual(items[0], g) || list["has_more"] != false {
		t.Fatalf("second page %v", list)
	}
	env.group(t, "GET", "/api/v1/plan-groups?limit=101", "", http.StatusUnprocessableEntity)
	env.group(t, "GET", "/api/v1/plan-groups?starting_after=nope", "", http.StatusUnprocessableEntity)

	// PUT replaces name and members whole.
	put := env.group(t, "PUT", "/api/v1/plan-groups/"+id, `{"name":"Gold","plans":["pro"]}`, http.StatusOK).json(t)
	if put["name"] != "Gold" || !reflect.DeepEqual(put["plans"], wantPlans[1:]) || !reflect.DeepEqual(put["payment_plans"], []any{}) ||
		put["created_at"] != g["created_at"] {
		t.Fatalf("PUT: %v", put)
	}
	if res := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK); !reflect.DeepEqual(res.json(t), put) {
		t.Fatalf("GET after PUT: %s", res.body)
	}

	// DELETE: 204, then 404 and out of the list; a second delete is a 404.
	env.group(t, "DELETE", "/api/v1/plan-groups/"+id, "", http.StatusNoContent)
	env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusNotFound)
	env.group(t, "DELETE", "/api/v1/plan-groups/"+id, "", http.StatusNotFound)
	env.group(t, "PUT", "/api/v1/plan-groups/"+id, `{"name":"x"}`, http.StatusNotFound)
	env.projectGroups(t)
	list = env.group(t, "GET", "/api/v1/plan-groups", "", http.StatusOK).json(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != second["id"] {
		t.Fatalf("list after delete %v", list)
	}
	// The catalog plans and the payment plan are untouched.
	env.do(t, "GET", "/api/v1/catalog/plans/pro", env.key, nil)
	if res := env.do(t, "GET", "/api/v1/plans/"+pps, env.key, nil); res.status != http.StatusOK {
		t.Fatalf("payment plan after group delete: %d", res.status)
	}
}

func TestPlanGroupRefusesUnknownDeletedAndOtherAccountPlans(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":49}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"gone","name":"Gone","amount":1}`, http.StatusCreated)
	env.group(t, "DELETE", "/api/v1/catalog/plans/gone", "", http.StatusOK)
	other, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	_ = other
	if res := env.do(t, "POST", "/api/v1/catalog/plans", otherKey, []byte(`{"id":"theirs","name":"Theirs","amount":5}`)); res.status != http.StatusCreated {
		t.Fatalf("other account's plan: %d %s", res.status, res.body)
	}
	theirPayment := strconv.FormatInt(env.paymentPlan(t, otherKey), 10)
	ok := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Ok","plans":["starter"]}`, http.StatusCreated).json(t)
	before := env.groupEvents(t)
	for _, c := range []struct{ body, field string }{
		{`{"name":"G","plans":["starter","nope"]}`, "plans.1"},
		{`{"name":"G","plans":["gone"]}`, "plans.0"},
		{`{"name":"G","plans":["theirs"]}`, "plans.0"},
		{`{"name":"G","plans":["starter","starter"]}`, "plans.1"},
		{`{"name":"G","plans":["starter"],"payment_plans":[` + theirPayment + `]}`, "payment_plans.0"},
		{`{"name":"G","payment_plans":[999999999]}`, "payment_plans.0"},
		{`{"name":"G","payment_plans":["x"]}`, "payment_plans"},
		{`{"name":"","plans":["starter"]}`, "name"},
		{`{"name":"a\u0000b"}`, "name"},
		{`{"name":"evil\u202etxt"}`, "name"},
		{`{"name":"` + strings.Repeat("n", 256) + `"}`, "name"},
		{`{"name":"G","plans":[` + strings.Repeat(`"starter",`, 1000) + `"x"]}`, "plans"},
	} {
		for _, route := range []struct{ method, path string }{{"POST", "/api/v1/plan-groups"}, {"PUT", "/api/v1/plan-groups/" + ok["id"].(string)}} {
			res := env.group(t, route.method, route.path, c.body, http.StatusUnprocessableEntity)
			body := res.json(t)
			errs, _ := body["errors"].(map[string]any)
			if body["error"] != "Validation failed" || errs[c.field] == nil {
				t.Errorf("%s %s: want an error on %s: %s", route.method, c.body, c.field, res.body)
			}
		}
	}
	if n := env.groupEvents(t); n != before {
		t.Fatalf("refused requests appended %d events", n-before)
	}
	// Another account's group is a 404 on every route, and not listed.
	id := ok["id"].(string)
	for _, c := range []struct{ method, body string }{{"GET", ""}, {"PUT", `{"name":"x"}`}, {"DELETE", ""}} {
		if res := env.do(t, c.method, "/api/v1/plan-groups/"+id, otherKey, []byte(c.body)); res.status != http.StatusNotFound || res.json(t)["error"] != "Not found" {
			t.Errorf("%s by another account: %d %s", c.method, res.status, res.body)
		}
	}
	if res := env.do(t, "GET", "/api/v1/plan-groups", otherKey, nil); !strings.Contains(string(res.body), `"items":[]`) {
		t.Errorf("another account's list: %s", res.body)
	}
	env.group(t, "GET", "/api/v1/plan-groups/not-a-uuid", "", http.StatusNotFound)
}

func TestPlanGroupIdempotentRetry(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":49}`, http.StatusCreated)
	body := `{"name":"Premium","plans":["starter"]}`
	first := env.group(t, "POST", "/api/v1/plan-groups", body, http.StatusCreated, "Idempotency-Key", "g-1")
	again := env.group(t, "POST", "/api/v1/plan-groups", `{"plans":["starter"], "name":"Premium"}`, http.StatusCreated, "Idempotency-Key", "g-1")
	if !reflect.DeepEqual(first.json(t), again.json(t)) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s, first %s", again.body, first.body)
	}
	if n := env.groupEvents(t); n != 1 {
		t.Fatalf("%d events after a retried create, want 1", n)
	}
	env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Other"}`, http.StatusUnprocessableEntity, "Idempotency-Key", "g-1")
	list := env.group(t, "GET", "/api/v1/plan-groups", "", http.StatusOK).json(t)
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("list after retry %v", list)
	}
}

func TestPlanGroupLeavesOutDeletedCatalogPlan(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":49}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"pro","name":"Pro","amount":99}`, http.StatusCreated)
	g := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Premium","plans":["starter","pro"]}`, http.StatusCreated).json(t)
	id := g["id"].(string)
	env.group(t, "DELETE", "/api/v1/catalog/plans/starter", "", http.StatusOK)
	env.projectCatalog(t)
	env.projectGroups(t)
	check := func(v map[string]any) {
		t.Helper()
		plans, _ := v["plans"].([]any)
		if len(plans) != 1 || plans[0].(map[string]any)["id"] != "pro" {
			t.Fatalf("plans after the catalog plan's deletion: %v", v["plans"])
		}
	}
	check(env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t))
	check(env.group(t, "GET", "/api/v1/plan-groups", "", http.StatusOK).json(t)["items"].([]any)[0].(map[string]any))
	// A new catalog plan reusing the public id does not join the group.
	env.catalogPlan(t, `{"id":"starter","name":"Starter 2","amount":59}`, http.StatusCreated)
	env.projectCatalog(t)
	check(env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t))
}
