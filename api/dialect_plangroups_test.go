package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"goodplan/eventstore"
	"goodplan/projections"
)

// The seed's (001) bodies, as printed.
const (
	seedGroupCreate = `{
"name": "Growth",
"plans": [
{
"id": "price_1LvNamxxqqZbQ9jJmRjpZevo"
},
{
"id": "price_1LskeDssUqqZbQ9jJjGxZLKfu"
}
]
}`
	seedGroupUpdate = `{
"name": "Growth",
"plans": [
{
"id": "price_1LvNamxxqqZbQ9jJmRjpZevo"
}
]
}`
	// seedGroupList is the seed's list response with its two plans of
	// "Growth"; GROUP_ID stands for the id the create answered.
	seedGroupList = `{
"result": {
"count": 1,
"list": [
{
"id": "GROUP_ID",
"name": "Growth",
"plans": [
{
"id": "price_1LvNamxxqqZbQ9jJmRjpZevo",
"name": "Growth Monthly (EUR)",
"billing_freq": "month",
"billing_freq_count": 1,
"product_name": "Growth",
"currency": "eur"
},
{
"id": "price_1LskeDssUqqZbQ9jJjGxZLKfu",
"name": "Growth Yearly (USD)",
"billing_freq": "year",
"billing_freq_count": 1,
"product_name": "Growth",
"currency": "usd"
}
]
}
]
}
}`
)

// seedCatalog creates the catalog plans the seed's groups name.
func (e *testEnv) seedCatalog(t *testing.T) {
	t.Helper()
	e.catalogPlan(t, `{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo","name":"Growth Monthly (EUR)","amount":"49","currency":"eur","interval":"month","catalog_item":"Growth"}`, http.StatusCreated)
	e.catalogPlan(t, `{"id":"price_1LskeDssUqqZbQ9jJjGxZLKfu","name":"Growth Yearly (USD)","amount":"490","currency":"usd","interval":"year","catalog_item":"Growth"}`, http.StatusCreated)
}

// data does method path with body on the dialect and wants status.
func (e *testEnv) data(t *testing.T, method, path, body string, want int) response {
	t.Helper()
	res := e.do(t, method, path, e.key, []byte(body))
	if res.status != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, res.status, want, res.body)
	}
	return res
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// wantSuccess checks a command's body: exactly {"success": true, "id"}.
func wantSuccess(t *testing.T, res response, id string) string {
	t.Helper()
	body := res.json(t)
	if !reflect.DeepEqual(keysOf(body), []string{"id", "success"}) || body["success"] != true {
		t.Fatalf("command body %s", res.body)
	}
	got, _ := body["id"].(string)
	if id != "" && got != id || len(got) != 36 {
		t.Fatalf("command id %q, want %q", got, id)
	}
	return got
}

func TestDataPlanGroupsSeedExamples(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.seedCatalog(t)

	id := wantSuccess(t, env.data(t, "POST", "/data/plan-groups", seedGroupCreate, http.StatusOK), "")
	list := env.data(t, "GET", "/data/plan-groups?limit=100", "", http.StatusOK)
	sameJSON(t, list.body, strings.Replace(seedGroupList, "GROUP_ID", id, 1))
	// Exact key sets at every level.
	l := list.json(t)
	if !reflect.DeepEqual(keysOf(l), []string{"result"}) ||
		!reflect.DeepEqual(keysOf(l["result"].(map[string]any)), []string{"count", "list"}) {
		t.Fatalf("list keys: %s", list.body)
	}
	g := l["result"].(map[string]any)["list"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(keysOf(g), []string{"id", "name", "plans"}) {
		t.Fatalf("group keys %v", keysOf(g))
	}
	for _, p := range g["plans"].([]any) {
		if got := keysOf(p.(map[string]any)); !reflect.DeepEqual(got, []string{"billing_freq", "billing_freq_count", "currency", "id", "name", "product_name"}) {
			t.Fatalf("plan keys %v", got)
		}
	}
	// The same group through the native API.
	if n := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t); len(n["plans"].([]any)) != 2 {
		t.Fatalf("native view: %v", n)
	}

	wantSuccess(t, env.data(t, "PUT", "/data/plan-groups/"+id, seedGroupUpdate, http.StatusOK), id)
	list = env.data(t, "GET", "/data/plan-groups", "", http.StatusOK)
	var want map[string]any
	_ = json.Unmarshal([]byte(strings.Replace(seedGroupList, "GROUP_ID", id, 1)), &want)
	wg := want["result"].(map[string]any)["list"].([]any)[0].(map[string]any)
	wg["plans"] = wg["plans"].([]any)[:1]
	wantBody, _ := json.Marshal(want)
	sameJSON(t, list.body, string(wantBody))

	// The seed's literal delete: DELETE /data/plans {"id": group id}.
	wantSuccess(t, env.data(t, "DELETE", "/data/plans", `{"id": "`+id+`"}`, http.StatusOK), id)
	sameJSON(t, env.data(t, "GET", "/data/plan-groups", "", http.StatusOK).body, `{"result":{"count":0,"list":[]}}`)
	env.data(t, "DELETE", "/data/plans", `{"id": "`+id+`"}`, http.StatusNotFound)
	// The plans themselves stay.
	env.do(t, "GET", "/api/v1/catalog/plans/price_1LvNamxxqqZbQ9jJmRjpZevo", env.key, nil)
	if res := env.do(t, "GET", "/api/v1/catalog/plans/price_1LvNamxxqqZbQ9jJmRjpZevo", env.key, nil); res.status != http.StatusOK {
		t.Fatalf("catalog plan after the group's deletion: %d", res.status)
	}

	// DELETE /data/plan-groups/{id} too.
	id2 := wantSuccess(t, env.data(t, "POST", "/data/plan-groups", seedGroupUpdate, http.StatusOK), "")
	wantSuccess(t, env.data(t, "DELETE", "/data/plan-groups/"+id2, "", http.StatusOK), id2)
	env.data(t, "DELETE", "/data/plan-groups/"+id2, "", http.StatusNotFound)
	env.group(t, "GET", "/api/v1/plan-groups/"+id2, "", http.StatusNotFound)
}

func TestDataPlanGroupsPaymentPlansOrderAndLimit(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.seedCatalog(t)
	pp := strconv.FormatInt(env.paymentPlan(t, env.key), 10)
	// Members keep the body's order, payment plans among catalog plans;
	// a payment plan's id may be a string (as written back) or a number.
	id := wantSuccess(t, env.data(t, "POST", "/data/plan-groups", `{"name":"Mixed","plans":[
		{"id":"price_1LskeDssUqqZbQ9jJjGxZLKfu"},{"id":"`+pp+`","type":"payment_plan"},{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo","type":"catalog_plan"}]}`,
		http.StatusOK), "")
	want := `{"result":{"count":1,"list":[{"id":"` + id + `","name":"Mixed","plans":[
		{"id":"price_1LskeDssUqqZbQ9jJjGxZLKfu","name":"Growth Yearly (USD)","billing_freq":"year","billing_freq_count":1,"product_name":"Growth","currency":"usd"},
		{"id":"` + pp + `","type":"payment_plan","name":"INV-2024-001","currency":"usd","amount":"1200.00","status":"pending"},
		{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo","name":"Growth Monthly (EUR)","billing_freq":"month","billing_freq_count":1,"product_name":"Growth","currency":"eur"}]}]}}`
	// Before the plan read model has the payment plan (folded from the
	// store), and after.
	sameJSON(t, env.data(t, "GET", "/data/plan-groups", "", http.StatusOK).body, want)
	env.projectPlans(t)
	sameJSON(t, env.data(t, "GET", "/data/plan-groups", "", http.StatusOK).body, want)
	// The native API sees the same members.
	n := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t)
	if !reflect.DeepEqual(n["payment_plans"], []any{mustFloat(t, pp)}) {
		t.Fatalf("native payment_plans %v", n["payment_plans"])
	}
	// A payment plan without an invoice number is named by its customer.
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(seedMinimal))
	minimal := strconv.FormatInt(int64(res.json(t)["plan_id"].(float64)), 10)
	wantSuccess(t, env.data(t, "PUT", "/data/plan-groups/"+id, `{"name":"Mixed","plans":[{"id":`+minimal+`,"type":"payment_plan"}]}`, http.StatusOK), id)
	sameJSON(t, env.data(t, "GET", "/data/plan-groups", "", http.StatusOK).body, `{"result":{"count":1,"list":[{"id":"`+id+`","name":"Mixed","plans":[
		{"id":"`+minimal+`","type":"payment_plan","name":"John Doe","currency":"usd","amount":"1200.00","status":"pending"}]}]}}`)

	// limit caps the groups listed; count is all of them.
	for i := range 2 {
		env.data(t, "POST", "/data/plan-groups", `{"name":"G`+strconv.Itoa(i)+`"}`, http.StatusOK)
	}
	l := env.data(t, "GET", "/data/plan-groups?limit=2", "", http.StatusOK).json(t)["result"].(map[string]any)
	if l["count"] != 3.0 || len(l["list"].([]any)) != 2 || l["list"].([]any)[0].(map[string]any)["name"] != "G1" {
		t.Fatalf("limit 2: %v", l)
	}
	for _, q := range []string{"0", "101", "-1", "x", "1.5"} {
		res := env.data(t, "GET", "/data/plan-groups?limit="+q, "", http.StatusUnprocessableEntity)
		if b := res.json(t); b["success"] != false || b["errors"].(map[string]any)["limit"] == nil {
			t.Fatalf("limit=%s: %s", q, res.body)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// projectPlans applies every payment plan event to the plan read model.
func (e *testEnv) projectPlans(t *testing.T) {
	t.Helper()
	e.projectStreams(t, eventstore.PlanStreamPrefix, projections.NewPlans(e.store).Apply)
}

func TestDataPlanGroupsErrors(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.seedCatalog(t)
	id := wantSuccess(t, env.data(t, "POST", "/data/plan-groups", seedGroupCreate, http.StatusOK), "")
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	theirs := strconv.FormatInt(env.paymentPlan(t, otherKey), 10)
	if res := env.do(t, "POST", "/api/v1/catalog/plans", otherKey, []byte(`{"id":"theirs","name":"Theirs","amount":5}`)); res.status != http.StatusCreated {
		t.Fatalf("other account's plan: %d", res.status)
	}
	before := env.groupEvents(t)
	errorKeys := []string{"error", "errors", "message", "success"}
	for _, c := range []struct {
		body   string
		status int
		field  string // the field named in errors (422)
		says   string // in the message
	}{
		// An unknown plan is a 422 naming it.
		{`{"name":"G","plans":[{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo"},{"id":"price_nope"}]}`, 422, "plans.1.id", `"price_nope"`},
		{`{"name":"G","plans":[{"id":"theirs"}]}`, 422, "plans.0.id", `"theirs"`},
		{`{"name":"G","plans":[{"id":"` + theirs + `","type":"payment_plan"}]}`, 422, "plans.0.id", theirs},
		{`{"name":"G","plans":[{"id":"999999999","type":"payment_plan"}]}`, 422, "plans.0.id", "999999999"},
		{`{"name":"G","plans":[{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo"},{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo"}]}`, 422, "plans.1.id", "twice"},
		{`{"name":"G","plans":[{"id":"x","type":"subscription"}]}`, 422, "plans.0.type", "payment_plan"},
		{`{"name":"G","plans":[{"id":"abc","type":"payment_plan"}]}`, 422, "plans.0.id", "payment plan"},
		{`{"name":"G","plans":[{"id":-4,"type":"payment_plan"}]}`, 422, "plans.0.id", "payment plan"},
		{`{"name":"G","plans":[{"id":12}]}`, 422, "plans.0.id", "string"},
		{`{"name":"G","plans":[{}]}`, 422, "plans.0.id", "plans.0.id"},
		{`{"name":"G","plans":["price_1LvNamxxqqZbQ9jJmRjpZevo"]}`, 422, "plans.0", "object"},
		{`{"name":"G","plans":{"id":"x"}}`, 422, "plans", "array"},
		{`{"plans":[]}`, 422, "name", "name"},
		{`{"name":7}`, 422, "name", "string"},
		{`{"name":"a\u0000b"}`, 422, "name", "name"},
		{`{"name":"evil\u202etxt"}`, 422, "name", "name"},
		{`{"name":"` + strings.Repeat("n", 256) + `"}`, 422, "name", "name"},
		{`{"name":"G","plans":[` + strings.Repeat(`{"id":"price_1LvNamxxqqZbQ9jJmRjpZevo"},`, 1000) + `{"id":"x"}]}`, 422, "plans", "1000"},
		{`{"name":"G",`, 400, "", "JSON"},
		{`{"name":"G","name":"H"}`, 400, "", "more than once"},
		{`[1]`, 400, "", "object"},
		{`{"name":"` + strings.Repeat("n", MaxBodyBytes) + `"}`, 400, "", "larger"},
	} {
		for _, route := range []struct{ method, path string }{{"POST", "/data/plan-groups"}, {"PUT", "/data/plan-groups/" + id}} {
			res := env.do(t, route.method, route.path, env.key, []byte(c.body))
			body := res.json(t)
			msg, _ := body["message"].(string)
			if res.status != c.status || body["success"] != false || !strings.Contains(msg, c.says) {
				t.Errorf("%s %.80s: %d %.300s", route.method, c.body, res.status, res.body)
				continue
			}
			if c.status != 422 {
				if !reflect.DeepEqual(keysOf(body), []string{"error", "message", "success"}) {
					t.Errorf("%s %.80s: keys %v", route.method, c.body, keysOf(body))
				}
				continue
			}
			errs, _ := body["errors"].(map[string]any)
			if !reflect.DeepEqual(keysOf(body), errorKeys) || body["error"] != "Validation failed" || errs[c.field] == nil {
				t.Errorf("%s %.80s: want an error on %s: %.300s", route.method, c.body, c.field, res.body)
			}
			if len(errs) != 1 {
				t.Errorf("%s %.80s: one problem expected: %.300s", route.method, c.body, res.body)
			}
		}
	}
	if n := env.groupEvents(t); n != before {
		t.Fatalf("refused requests appended %d events", n-before)
	}

	// Another account's group is a 404 on every route, and not listed; so
	// is an id that is no UUID.
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/data/plan-groups/" + id, seedGroupUpdate},
		{"DELETE", "/data/plan-groups/" + id, ""},
		{"DELETE", "/data/plans", `{"id":"` + id + `"}`},
		{"GET", "/api/v1/plan-groups/" + id + "/report", ""},
	} {
		res := env.do(t, c.method, c.path, otherKey, []byte(c.body))
		if res.status != http.StatusNotFound || res.json(t)["error"] != "Not found" {
			t.Errorf("%s %s by another account: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	sameJSON(t, env.do(t, "GET", "/data/plan-groups", otherKey, nil).body, `{"result":{"count":0,"list":[]}}`)
	for _, c := range []struct {
		body   string
		status int
	}{{`{"id":"plan_123"}`, 404}, {`{}`, 422}, {`{"id":5}`, 422}, {`nope`, 400}} {
		res := env.data(t, "DELETE", "/data/plans", c.body, c.status)
		if b := res.json(t); b["success"] != false || b["message"] == "" {
			t.Errorf("DELETE /data/plans %s: %s", c.body, res.body)
		}
	}
	if n := env.groupEvents(t); n != before {
		t.Fatalf("refused requests appended %d events", n-before)
	}
	// The group is intact.
	if n := env.group(t, "GET", "/api/v1/plan-groups/"+id, "", http.StatusOK).json(t); len(n["plans"].([]any)) != 2 || n["name"] != "Growth" {
		t.Fatalf("group after refused requests: %v", n)
	}

	// A missing or unknown key: 401 in the dialect's shape.
	for _, key := range []string{"", "gp_" + strings.Repeat("0", 64)} {
		res := env.do(t, "GET", "/data/plan-groups", key, nil)
		if b := res.json(t); res.status != http.StatusUnauthorized || b["success"] != false ||
			!reflect.DeepEqual(keysOf(b), []string{"error", "message", "success"}) {
			t.Errorf("key %q: %d %s", key, res.status, res.body)
		}
	}
}

func TestDataPlanGroupsIdempotentRetry(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.seedCatalog(t)
	first := env.do(t, "POST", "/data/plan-groups", env.key, []byte(seedGroupCreate), "Idempotency-Key", "d-1")
	again := env.do(t, "POST", "/data/plan-groups", env.key, []byte(seedGroupCreate), "Idempotency-Key", "d-1")
	if first.status != 200 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s / %s", first.body, again.body)
	}
	if n := env.groupEvents(t); n != 1 {
		t.Fatalf("%d events after a retried create", n)
	}
}
