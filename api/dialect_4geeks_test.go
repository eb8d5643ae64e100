package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"goodplan/eventstore"
)

// geeks sends a 4Geeks dialect request with key in X-Api-Key ("" for none).
func (e *testEnv) geeks(t *testing.T, method, path, key, body string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// jsonKeys returns the top-level keys of a JSON object in document order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

var geeksPlanKeys = []string{"id", "object", "product_id", "amount", "currency", "interval", "active"}

func TestGeeksCreateExactObjectAndNativeDecimal(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, c := range []struct {
		minor          int64
		currency, want string
		wantCurrency   string
		interval       string
	}{
		{4900, "USD", "49.00", "USD", "month"}, {500, "JPY", "500", "JPY", "year"},
		{1234, "kwd", "1.234", "KWD", "week"}, {9999, "EUR", "99.99", "EUR", "day"}, {0, "USD", "0.00", "USD", "month"},
	} {
		body := fmt.Sprintf(`{"product_id":"prod_a1b2c3d4e5f6","amount":%d,"currency":%q,"interval":%q}`, c.minor, c.currency, c.interval)
		res := env.geeks(t, "POST", "/v1/plans", env.key, body)
		if res.status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", body, res.status, res.body)
		}
		if got := jsonKeys(t, res.body); !reflect.DeepEqual(got, geeksPlanKeys) {
			t.Fatalf("keys %v, want %v", got, geeksPlanKeys)
		}
		p := res.json(t)
		id, _ := p["id"].(string)
		if !regexp.MustCompile(`^plan_[0-9A-Za-z]{14}$`).MatchString(id) {
			t.Fatalf("id %q", id)
		}
		want := map[string]any{"id": id, "object": "plan", "product_id": "prod_a1b2c3d4e5f6", "amount": float64(c.minor),
			"currency": c.wantCurrency, "interval": c.interval, "active": true}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("plan %v, want %v", p, want)
		}
		native := env.do(t, "GET", "/api/v1/catalog/plans/"+id, env.key, nil)
		if n := native.json(t); native.status != http.StatusOK || n["amount"] != c.want || n["catalog_item"] != "prod_a1b2c3d4e5f6" ||
			n["currency"] != c.wantCurrency {
			t.Fatalf("native GET: %d %s, want amount %s", native.status, native.body, c.want)
		}
		got := env.geeks(t, "GET", "/v1/plans/"+id, env.key, "")
		if got.status != http.StatusOK || !reflect.DeepEqual(got.json(t), want) {
			t.Fatalf("GET /v1/plans/%s: %d %s", id, got.status, got.body)
		}
	}
	// A native plan shows through the dialect with minor units.
	env.catalogPlan(t, `{"id":"native","amount":"12.5","currency":"USD","catalog_item":"prod_x"}`, http.StatusCreated)
	if res := env.geeks(t, "GET", "/v1/plans/native", env.key, ""); res.status != http.StatusOK || !strings.Contains(string(res.body), `"amount":1250,`) {
		t.Fatalf("native plan via dialect: %d %s", res.status, res.body)
	}
	// Deleted through the native API: gone from the dialect.
	if res := env.do(t, "DELETE", "/api/v1/catalog/plans/native", env.key, nil); res.status != http.StatusOK {
		t.Fatalf("native DELETE: %d %s", res.status, res.body)
	}
	if res := env.geeks(t, "GET", "/v1/plans/native", env.key, ""); res.status != http.StatusNotFound || string(res.body) != `{"detail":"Not found"}` {
		t.Fatalf("deleted plan via dialect: %d %s", res.status, res.body)
	}
}

func TestGeeksListPaging(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var ids []string
	for i := range 12 {
		res := env.geeks(t, "POST", "/v1/plans", env.key, fmt.Sprintf(`{"product_id":"p%d","amount":%d,"currency":"USD","interval":"month"}`, i, 100+i))
		if res.status != http.StatusOK {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		ids = append(ids, res.json(t)["id"].(string))
	}
	env.projectCatalog(t)
	type list struct {
		Items []struct {
			ID     string `json:"id"`
			Amount int64  `json:"amount"`
		} `json:"items"`
		TotalItems int `json:"total_items"`
		Limit      int `json:"limit"`
		Offset     int `json:"offset"`
	}
	get := func(q string) (list, []byte) {
		res := env.geeks(t, "GET", "/v1/plans"+q, env.key, "")
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", q, res.status, res.body)
		}
		if keys := jsonKeys(t, res.body); !reflect.DeepEqual(keys, []string{"items", "total_items", "limit", "offset"}) {
			t.Fatalf("list keys %v", keys)
		}
		var l list
		if err := json.Unmarshal(res.body, &l); err != nil {
			t.Fatal(err)
		}
		return l, res.body
	}
	l, b := get("")
	if len(l.Items) != 10 || l.TotalItems != 12 || l.Limit != 10 || l.Offset != 0 || l.Items[0].ID != ids[11] || l.Items[0].Amount != 111 {
		t.Fatalf("default page: %s", b)
	}
	if !strings.Contains(string(b), `"total_items":12`) {
		t.Fatalf("total_items: %s", b)
	}
	l, b = get("?limit=5&offset=10")
	if len(l.Items) != 2 || l.TotalItems != 12 || l.Limit != 5 || l.Offset != 10 || l.Items[1].ID != ids[0] {
		t.Fatalf("last page: %s", b)
	}
	l, _ = get("?limit=100&offset=50")
	if len(l.Items) != 0 || l.TotalItems != 12 {
		t.Fatalf("past the end: %+v", l)
	}
	for _, q := range []string{"?limit=101", "?limit=0", "?limit=x", "?offset=-1", "?offset=1.5"} {
		res := env.geeks(t, "GET", "/v1/plans"+q, env.key, "")
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"loc":["query",`) {
			t.Errorf("GET %s: %d %s", q, res.status, res.body)
		}
	}
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	if res := env.geeks(t, "GET", "/v1/plans", otherKey, ""); res.status != http.StatusOK ||
		string(res.body) != `{"items":[],"total_items":0,"limit":10,"offset":0}` {
		t.Fatalf("other account's list: %d %s", res.status, res.body)
	}
	if res := env.geeks(t, "GET", "/v1/plans/"+ids[0], otherKey, ""); res.status != http.StatusNotFound || string(res.body) != `{"detail":"Not found"}` {
		t.Fatalf("other account's plan: %d %s", res.status, res.body)
	}
	if res := env.geeks(t, "GET", "/v1/plans/plan_nope", env.key, ""); res.status != http.StatusNotFound || string(res.body) != `{"detail":"Not found"}` {
		t.Fatalf("unknown plan: %d %s", res.status, res.body)
	}
}

func TestGeeksValidation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	before := env.eventCount(t)
	type d = geeksDetail
	for _, c := range []struct {
		body string
		want []d
	}{
		{`{}`, []d{
			{[]string{"body", "product_id"}, "field required", "value_error.missing"},
			{[]string{"body", "amount"}, "field required", "value_error.missing"},
			{[]string{"body", "currency"}, "field required", "value_error.missing"},
			{[]string{"body", "interval"}, "field required", "value_error.missing"},
		}},
		{`{"product_id":7,"amount":"49","currency":"USD","interval":"month"}`, []d{
			{[]string{"body", "product_id"}, "str type expected", "type_error.str"},
			{[]string{"body", "amount"}, "value is not a valid integer", "type_error.integer"},
		}},
		{`{"product_id":"p","amount":49.5,"currency":["USD"],"interval":"month"}`, []d{
			{[]string{"body", "amount"}, "value is not a valid integer", "type_error.integer"},
			{[]string{"body", "currency"}, "str type expected", "type_error.str"},
		}},
		{`{"product_id":"p","amount":-1,"currency":"USX","interval":"hour"}`, nil},
		{`{"product_id":"a\u0000b","amount":1,"currency":"USD","interval":"month"}`, nil},
		{`{"product_id":"evil\u202Eexe","amount":1,"currency":"USD","interval":"month"}`, nil},
		{`{"product_id":"p","amount":99999999999999999999,"currency":"USD","interval":"month"}`, nil},
	} {
		res := env.geeks(t, "POST", "/v1/plans", env.key, c.body)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("POST %s: %d %s", c.body, res.status, res.body)
			continue
		}
		var got struct{ Detail []d }
		if err := json.Unmarshal(res.body, &got); err != nil || len(got.Detail) == 0 {
			t.Errorf("POST %s: body %s", c.body, res.body)
			continue
		}
		if c.want != nil && !reflect.DeepEqual(got.Detail, c.want) {
			t.Errorf("POST %s: detail %+v, want %+v", c.body, got.Detail, c.want)
		}
		if c.want == nil {
			if strings.Contains(string(res.body), "catalog_item") {
				t.Errorf("POST %s: the domain's field name shows: %s", c.body, res.body)
			}
			for _, e := range got.Detail {
				if e.Type != "value_error" || len(e.Loc) != 2 || e.Loc[0] != "body" {
					t.Errorf("POST %s: entry %+v, want a body value_error", c.body, e)
				}
			}
		}
	}
	// One entry per problem, each on its field.
	res := env.geeks(t, "POST", "/v1/plans", env.key, `{"product_id":"p","amount":-1,"currency":"USX","interval":"hour"}`)
	for _, f := range []string{`"loc":["body","amount"]`, `"loc":["body","currency"]`, `"loc":["body","interval"]`} {
		if strings.Count(string(res.body), f) != 1 {
			t.Errorf("want one %s: %s", f, res.body)
		}
	}
	if res := env.geeks(t, "POST", "/v1/plans", env.key, `{"product_id":"a\u0000b","amount":1,"currency":"USD","interval":"month"}`); !strings.Contains(string(res.body), `"loc":["body","product_id"]`) {
		t.Errorf("NUL product_id: %s", res.body)
	}
	// Malformed JSON and duplicate keys: 422 with a body entry.
	for _, body := range []string{`{"product_id":`, `[1]`, `{"product_id":"a","product_id":"b","amount":1,"currency":"USD","interval":"month"}`} {
		res := env.geeks(t, "POST", "/v1/plans", env.key, body)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"loc":["body"],`) ||
			!strings.Contains(string(res.body), `"type":"value_error.jsondecode"`) {
			t.Errorf("POST %s: %d %s", body, res.status, res.body)
		}
	}
	if env.eventCount(t) != before {
		t.Fatal("refused input wrote events")
	}
}

func TestGeeksAuthentication(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	body := `{"product_id":"p","amount":1,"currency":"USD","interval":"month"}`
	unknown := "gp_" + strings.Repeat("0", 64)
	for _, key := range []string{"", "nope", unknown} {
		for _, c := range []struct{ method, path, body string }{{"POST", "/v1/plans", body}, {"GET", "/v1/plans", ""}, {"GET", "/v1/plans/x", ""}} {
			res := env.geeks(t, c.method, c.path, key, c.body)
			var got struct{ Detail string }
			if res.status != http.StatusUnauthorized || json.Unmarshal(res.body, &got) != nil || got.Detail == "" {
				t.Errorf("%s %s with key %q: %d %s", c.method, c.path, key, res.status, res.body)
			}
		}
	}
	// The Bearer header is the native API's; the dialect reads X-Api-Key only.
	if res := env.do(t, "GET", "/v1/plans", env.key, nil); res.status != http.StatusUnauthorized {
		t.Errorf("Bearer on /v1: %d %s", res.status, res.body)
	}
	// The key's limits apply as on /api/v1, in the dialect's shape.
	checkKeyLimits(t, env, func(key string) response { return env.geeks(t, "GET", "/v1/plans", key, "") },
		`{"detail":"Rate limit exceeded: 2 requests per minute.`, `{"detail":"Too many failed authentications`)
}
