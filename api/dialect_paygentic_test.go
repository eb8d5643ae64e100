package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/domain/domaintest"
	"goodplan/eventstore"
)

// paygenticSeedBody is the seed's create example with its placeholders
// filled in and paymentOptions exactly as printed.
func paygenticSeedBody(merchant, prices string) string {
	return `{
  "name": "Pro",
  "invoiceDisplayName": "Pro plan",
  "description": "Everything, monthly",
  "billingInterval": "monthly",
  "currency": "USD",
  "merchantId": "` + merchant + `",
  "productId": "prod_123",
  "tax": {},
  "prices": [` + prices + `],
  "price": "10.99",
  "paymentOptions": {
    "outOfBand": true,
    "payAsYouGo": true,
    "prePaid": false,
    "postPaid": false,
    "credits": ""
  }
}`
}

// The seed's response keys, in its order.
var (
	paygenticPlanKeys = []string{"id", "object", "name", "paymentOptions", "invoiceDisplayName", "description",
		"billingInterval", "currency", "merchantId", "productId", "walletNamespaceId", "tax", "prices",
		"createdAt", "updatedAt", "deletedAt"}
	paygenticPriceKeys = []string{"id", "object", "billableMetricId", "model", "invoiceDisplayName", "properties",
		"description", "unitAmount", "currency", "createdAt", "updatedAt"}
	paygenticOptionKeys = []string{"outOfBand", "payAsYouGo", "prePaid", "postPaid", "credits"}
	priceIDShape        = regexp.MustCompile(`^price_[0-9A-Za-z]{14}$`)
)

// merchant is the merchantId of the test account.
func (e *testEnv) merchant() string { return "org_" + strconv.FormatInt(e.acct.ID, 10) }

// paygentic sends a dialect request with the Bearer key and wants status
// (as the plan group dialect's data does).
func (e *testEnv) paygentic(t *testing.T, method, path, body string, want int) response {
	t.Helper()
	return e.data(t, method, path, body, want)
}

// checkPaygenticPlan checks a plan object's exact keys, its prices' and
// payment options'.
func checkPaygenticPlan(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	if got := jsonKeys(t, raw); !reflect.DeepEqual(got, paygenticPlanKeys) {
		t.Fatalf("plan keys %v, want %v", got, paygenticPlanKeys)
	}
	var p struct {
		PaymentOptions json.RawMessage   `json:"paymentOptions"`
		Prices         []json.RawMessage `json:"prices"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if got := jsonKeys(t, p.PaymentOptions); !reflect.DeepEqual(got, paygenticOptionKeys) {
		t.Fatalf("paymentOptions keys %v", got)
	}
	for _, pr := range p.Prices {
		if got := jsonKeys(t, pr); !reflect.DeepEqual(got, paygenticPriceKeys) {
			t.Fatalf("price keys %v, want %v", got, paygenticPriceKeys)
		}
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func TestPaygenticSeedCreateExample(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res := env.paygentic(t, "POST", "/v0/plans", paygenticSeedBody(env.merchant(), ""), http.StatusCreated)
	p := checkPaygenticPlan(t, res.body)
	id, _ := p["id"].(string)
	prices, _ := p["prices"].([]any)
	if !regexp.MustCompile(`^plan_[0-9A-Za-z]{14}$`).MatchString(id) || len(prices) != 1 {
		t.Fatalf("plan %s", res.body)
	}
	price := prices[0].(map[string]any)
	priceID, _ := price["id"].(string)
	at := rfc3339(seedNow)
	want := map[string]any{"id": id, "object": "plan", "name": "Pro",
		"paymentOptions":     map[string]any{"outOfBand": true, "payAsYouGo": true, "prePaid": false, "postPaid": false, "credits": ""},
		"invoiceDisplayName": "Pro plan", "description": "Everything, monthly", "billingInterval": "monthly",
		"currency": "USD", "merchantId": env.merchant(), "productId": "prod_123", "walletNamespaceId": nil,
		"tax": map[string]any{}, "createdAt": at, "updatedAt": p["updatedAt"], "deletedAt": nil,
		"prices": []any{map[string]any{"id": priceID, "object": "price", "billableMetricId": nil, "model": "standard",
			"invoiceDisplayName": nil, "properties": map[string]any{}, "description": nil, "unitAmount": "10.99",
			"currency": "USD", "createdAt": at, "updatedAt": at}}}
	// updatedAt is when the event was recorded (the store's clock, not
	// the test's): a time in the seed's format.
	if _, err := time.Parse(time.RFC3339, p["updatedAt"].(string)); err != nil || !strings.HasSuffix(p["updatedAt"].(string), "Z") {
		t.Fatalf("updatedAt %v", p["updatedAt"])
	}
	if !priceIDShape.MatchString(priceID) || !reflect.DeepEqual(p, want) {
		t.Fatalf("plan\n%s\nwant\n%v", res.body, want)
	}
	// Read back: the same object; natively, a per-unit plan at the price
	// with the price's id.
	if got := env.paygentic(t, "GET", "/v0/plans/"+id, "", http.StatusOK); string(got.body) != string(res.body) {
		t.Fatalf("GET\n%s\nwant\n%s", got.body, res.body)
	}
	n := env.do(t, "GET", "/api/v1/catalog/plans/"+id, env.key, nil).json(t)
	if n["amount"] != "10.99" || n["pricing_mode"] != "per_unit" || !reflect.DeepEqual(n["prices"], []any{priceID}) ||
		n["catalog_item"] != "prod_123" || n["interval"] != "month" {
		t.Fatalf("native view %v", n)
	}
	// Without a price the plan has no list price: custom, no prices.
	res = env.paygentic(t, "POST", "/v0/plans", `{"name":"Free form","merchantId":"`+env.merchant()+`"}`, http.StatusCreated)
	if p := checkPaygenticPlan(t, res.body); !reflect.DeepEqual(p["prices"], []any{}) || p["billingInterval"] != "monthly" ||
		p["currency"] != "USD" {
		t.Fatalf("plan without a price: %s", res.body)
	}
}

func TestPaygenticAttachPrices(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	first := env.paygentic(t, "POST", "/v0/plans", paygenticSeedBody(env.merchant(), ""), http.StatusCreated).json(t)
	std := first["prices"].([]any)[0].(map[string]any)
	stdID := std["id"].(string)
	env.clock.advance(90 * time.Second) // the attached price keeps its own time
	res := env.paygentic(t, "POST", "/v0/plans", paygenticSeedBody(env.merchant(), strconv.Quote(stdID)), http.StatusCreated)
	p := checkPaygenticPlan(t, res.body)
	prices := p["prices"].([]any)
	if len(prices) != 2 || !reflect.DeepEqual(prices[1], std) || prices[0].(map[string]any)["id"] == stdID {
		t.Fatalf("prices %v, want a new standard price then %v", prices, std)
	}
	// Deleting the plan that minted it leaves the price attachable (an id
	// with surrounding spaces is the id).
	env.paygentic(t, "DELETE", "/v0/plans/"+first["id"].(string), "", http.StatusOK)
	body := `{"name":"Reuse","merchantId":"` + env.merchant() + `","prices":[` + strconv.Quote(" "+stdID+" ") + `]}`
	if p := env.paygentic(t, "POST", "/v0/plans", body, http.StatusCreated).json(t); !reflect.DeepEqual(p["prices"], []any{std}) {
		t.Fatalf("attached after delete: %v", p["prices"])
	}
	// The native API attaches the same way.
	n := env.catalogPlan(t, `{"id":"native","amount":"1","prices":[`+strconv.Quote(stdID)+`]}`, http.StatusCreated)
	if !reflect.DeepEqual(n["prices"], []any{stdID}) {
		t.Fatalf("native prices %v", n["prices"])
	}
	before := env.eventCount(t)
	// Unknown ids, another account's price and another currency's are
	// 422s naming the id; nothing is written.
	other, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	otherBody := strings.ReplaceAll(paygenticSeedBody("org_"+strconv.FormatInt(other.ID, 10), ""), `"USD"`, `"EUR"`)
	if res := env.do(t, "POST", "/v0/plans", otherKey, []byte(otherBody)); res.status != http.StatusCreated {
		t.Fatalf("other account's plan: %d %s", res.status, res.body)
	} else {
		var o struct{ Prices []struct{ ID string } }
		_ = json.Unmarshal(res.body, &o)
		res := env.paygentic(t, "POST", "/v0/plans", paygenticSeedBody(env.merchant(), `"price_nope", "`+o.Prices[0].ID+`"`),
			http.StatusUnprocessableEntity)
		want := `{"error":{"code":"validation_error","message":"The request has 2 invalid fields: see details.","details":[` +
			`{"field":"prices.0","code":"unknown","message":"The prices.0 names no price of the account: \"price_nope\"."},` +
			`{"field":"prices.1","code":"unknown","message":"The prices.1 names no price of the account: \"` + o.Prices[0].ID + `\"."}]}}`
		if string(res.body) != want {
			t.Fatalf("unknown prices:\n%s\nwant\n%s", res.body, want)
		}
	}
	eur := strings.ReplaceAll(paygenticSeedBody(env.merchant(), strconv.Quote(stdID)), `"USD"`, `"EUR"`)
	if res := env.paygentic(t, "POST", "/v0/plans", eur, http.StatusUnprocessableEntity); !strings.Contains(string(res.body),
		`"field":"prices.0","code":"invalid","message":"The prices.0 is a price in USD, not in the plan's currency EUR."`) {
		t.Fatalf("price of another currency: %s", res.body)
	}
	if res := env.do(t, "POST", "/api/v1/catalog/plans", env.key, []byte(`{"amount":1,"prices":["price_nope"]}`)); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.body), `"prices.0":["The prices.0 names no price of the account: \"price_nope\"."]`) {
		t.Fatalf("native unknown price: %d %s", res.status, res.body)
	}
	if env.eventCount(t) != before+1 {
		t.Fatalf("refused creates wrote events: %d, want %d", env.eventCount(t), before+1)
	}
}

func TestPaygenticMerchantAndRequiredFields(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	other, _ := env.account(t, eventstore.NewAccount{Name: "Other"})
	before := env.eventCount(t)
	res := env.paygentic(t, "POST", "/v0/plans", paygenticSeedBody("org_"+strconv.FormatInt(other.ID, 10), ""), http.StatusForbidden)
	want := `{"error":{"code":"forbidden","message":"The merchantId \"org_` + strconv.FormatInt(other.ID, 10) +
		`\" is not yours: this API key creates plans for ` + env.merchant() + ` only."}}`
	if string(res.body) != want {
		t.Fatalf("403 body %s, want %s", res.body, want)
	}
	for _, c := range []struct{ body, want string }{
		{`{}`, `[{"field":"name","code":"required","message":"The name field is required."},` +
			`{"field":"merchantId","code":"required","message":"The merchantId field is required."}]`},
		{`{"name":" ","merchantId":"42"}`, `[{"field":"name","code":"required","message":"The name field is required."},` +
			`{"field":"merchantId","code":"invalid","message":"The merchantId must be org_ followed by your account id, e.g. org_42."}]`},
		{`{"name":"x","merchantId":"org_007"}`, `[{"field":"merchantId","code":"invalid","message":"The merchantId must be org_ followed by your account id, e.g. org_42."}]`},
		{`{"name":1,"merchantId":true,"price":"abc","currency":"usx","productId":"a\nb","invoiceDisplayName":[],"tax":[1],"paymentOptions":{"prePaid":"no"}}`,
			`[{"field":"name","code":"invalid","message":"The name must be a string."},` +
				`{"field":"merchantId","code":"invalid","message":"The merchantId must be a string."},` +
				`{"field":"invoiceDisplayName","code":"invalid","message":"The invoiceDisplayName must be a string."},` +
				`{"field":"currency","code":"invalid","message":"The currency must be an ISO 4217 currency code."},` +
				`{"field":"productId","code":"invalid","message":"The productId may not contain control characters or line breaks."},` +
				`{"field":"tax","code":"invalid","message":"The tax must be a JSON object."},` +
				`{"field":"price","code":"invalid","message":"The price must be a number."},` +
				`{"field":"paymentOptions.prePaid","code":"invalid","message":"The paymentOptions.prePaid field must be true or false."}]`},
	} {
		res := env.paygentic(t, "POST", "/v0/plans", c.body, http.StatusUnprocessableEntity)
		var got struct {
			Error struct {
				Code    string          `json:"code"`
				Details json.RawMessage `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(res.body, &got); err != nil || got.Error.Code != "validation_error" || string(got.Error.Details) != c.want {
			t.Errorf("POST %s:\n%s\nwant details %s", c.body, res.body, c.want)
		}
	}
	if env.eventCount(t) != before {
		t.Fatal("refused creates wrote events")
	}
}

func TestPaygenticBillingIntervals(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, c := range []struct {
		in       string
		interval domain.BillingInterval
		count    float64
		out      string
	}{
		{"monthly", domain.Month, 1, "monthly"}, {"yearly", domain.Year, 1, "yearly"}, {"weekly", domain.Week, 1, "weekly"},
		{"daily", domain.Day, 1, "daily"}, {"P1M", domain.Month, 1, "monthly"}, {"P3M", domain.Month, 3, "P3M"},
		{"P1Y", domain.Year, 1, "yearly"}, {"P2W", domain.Week, 2, "P2W"}, {"P7D", domain.Day, 7, "P7D"},
		{"P12M", domain.Month, 12, "P12M"}, {"P1000D", domain.Day, 1000, "P1000D"}, {"", domain.Month, 1, "monthly"},
	} {
		body := `{"name":"x","merchantId":"` + env.merchant() + `","price":"5","billingInterval":"` + c.in + `"}`
		p := env.paygentic(t, "POST", "/v0/plans", body, http.StatusCreated).json(t)
		n := env.do(t, "GET", "/api/v1/catalog/plans/"+p["id"].(string), env.key, nil).json(t)
		if p["billingInterval"] != c.out || n["interval"] != string(c.interval) || n["interval_count"] != c.count {
			t.Errorf("%q: billingInterval %v, native %v x %v; want %s, %s x %v", c.in, p["billingInterval"], n["interval"],
				n["interval_count"], c.out, c.interval, c.count)
		}
	}
	before := env.eventCount(t)
	for _, in := range []string{"P1Y2M", "P0M", "P1001M", "P1234567890M", "p1m", "Monthly", "P", "PT1H", "P1.5M", "P-1M", "month", "1M"} {
		body := `{"name":"x","merchantId":"` + env.merchant() + `","price":"5","billingInterval":"` + in + `"}`
		res := env.paygentic(t, "POST", "/v0/plans", body, http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.body), `"field":"billingInterval"`) || strings.Contains(string(res.body), "interval_count") {
			t.Errorf("%q: %s", in, res.body)
		}
	}
	if env.eventCount(t) != before {
		t.Fatal("refused intervals wrote events")
	}
}

func TestPaygenticListGetDeleteAndOtherAccount(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var ids []string
	for i := range 5 {
		body := fmt.Sprintf(`{"name":"P%d","merchantId":%q,"price":"%d.50"}`, i, env.merchant(), i)
		ids = append(ids, env.paygentic(t, "POST", "/v0/plans", body, http.StatusCreated).json(t)["id"].(string))
	}
	env.projectCatalog(t)
	res := env.paygentic(t, "GET", "/v0/plans?limit=2&offset=1", "", http.StatusOK)
	if got := jsonKeys(t, res.body); !reflect.DeepEqual(got, []string{"data", "pagination"}) {
		t.Fatalf("list keys %v", got)
	}
	var list struct {
		Data       []json.RawMessage
		Pagination json.RawMessage
	}
	if err := json.Unmarshal(res.body, &list); err != nil || len(list.Data) != 2 ||
		string(list.Pagination) != `{"limit":2,"offset":1,"total":5}` {
		t.Fatalf("list %s", res.body)
	}
	// Newest first, each plan as GET shows it.
	for i, raw := range list.Data {
		p := checkPaygenticPlan(t, raw)
		if p["id"] != ids[3-i] {
			t.Fatalf("item %d is %v, want %s", i, p["id"], ids[3-i])
		}
		if got := env.paygentic(t, "GET", "/v0/plans/"+ids[3-i], "", http.StatusOK); string(got.body) != string(raw) {
			t.Fatalf("listed\n%s\nGET\n%s", raw, got.body)
		}
	}
	if res := env.paygentic(t, "GET", "/v0/plans", "", http.StatusOK); !strings.HasSuffix(string(res.body), `"pagination":{"limit":20,"offset":0,"total":5}}`) {
		t.Fatalf("defaults: %s", res.body)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "offset=-1", "offset=1.5"} {
		res := env.paygentic(t, "GET", "/v0/plans?"+q, "", http.StatusUnprocessableEntity)
		if !strings.Contains(string(res.body), `"code":"validation_error"`) {
			t.Errorf("%s: %s", q, res.body)
		}
	}
	// Soft delete: 200 with deletedAt, still readable by id, gone from the
	// list, a second delete is a 404.
	env.clock.advance(time.Minute)
	res = env.paygentic(t, "DELETE", "/v0/plans/"+ids[0], "", http.StatusOK)
	p := checkPaygenticPlan(t, res.body)
	if p["deletedAt"] != rfc3339(seedNow.Add(time.Minute)) || len(p["prices"].([]any)) != 1 {
		t.Fatalf("deleted plan %s", res.body)
	}
	if got := env.paygentic(t, "GET", "/v0/plans/"+ids[0], "", http.StatusOK); string(got.body) != string(res.body) {
		t.Fatalf("GET after delete\n%s\nwant\n%s", got.body, res.body)
	}
	env.projectCatalog(t)
	if res := env.paygentic(t, "GET", "/v0/plans", "", http.StatusOK); strings.Contains(string(res.body), ids[0]) ||
		!strings.Contains(string(res.body), `"total":4`) {
		t.Fatalf("list after delete: %s", res.body)
	}
	if res := env.paygentic(t, "DELETE", "/v0/plans/"+ids[0], "", http.StatusNotFound); !strings.HasPrefix(string(res.body), `{"error":{"code":"not_found",`) {
		t.Fatalf("second delete: %s", res.body)
	}
	// Another account sees none of it.
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, c := range []struct{ method, path string }{{"GET", "/v0/plans/" + ids[1]}, {"DELETE", "/v0/plans/" + ids[1]}} {
		res := env.do(t, c.method, c.path, otherKey, nil)
		want := `{"error":{"code":"not_found","message":"Plan \"` + ids[1] + `\" was not found."}}`
		if res.status != http.StatusNotFound || string(res.body) != want {
			t.Errorf("%s %s by another account: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	if res := env.do(t, "GET", "/v0/plans", otherKey, nil); res.status != http.StatusOK || !strings.Contains(string(res.body), `{"data":[],`) {
		t.Fatalf("other account's list: %d %s", res.status, res.body)
	}
	env.paygentic(t, "GET", "/v0/plans/"+ids[1], "", http.StatusOK)
}

func TestPaygenticErrorsAndAuthentication(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	unknown := "gp_" + strings.Repeat("0", 64)
	for _, key := range []string{"", unknown} {
		for _, c := range []struct{ method, path string }{{"POST", "/v0/plans"}, {"GET", "/v0/plans"}, {"GET", "/v0/plans/x"}, {"DELETE", "/v0/plans/x"}} {
			res := env.do(t, c.method, c.path, key, []byte(paygenticSeedBody(env.merchant(), "")))
			want := `{"error":{"code":"unauthorized","message":"Invalid or missing API key: send it as Authorization: Bearer \u003ckey\u003e."}}`
			if res.status != http.StatusUnauthorized || string(res.body) != want {
				t.Errorf("%s %s with key %q: %d %s", c.method, c.path, key, res.status, res.body)
			}
		}
	}
	// The 4Geeks header is not read here.
	if res := env.geeks(t, "GET", "/v0/plans", env.key, ""); res.status != http.StatusUnauthorized {
		t.Errorf("X-Api-Key on /v0: %d", res.status)
	}
	for _, body := range []string{`{"name":`, `[1]`, `{"name":"a","name":"b"}`, strings.Repeat(" ", MaxBodyBytes+1)} {
		res := env.paygentic(t, "POST", "/v0/plans", body, http.StatusBadRequest)
		if got := res.json(t)["error"].(map[string]any); got["code"] != "invalid_request" || got["message"] == "" || len(got) != 2 {
			t.Errorf("POST %.30q: %s", body, res.body)
		}
	}
	if res := env.do(t, "POST", "/v0/plans", env.key, []byte(paygenticSeedBody(env.merchant(), "")), "Idempotency-Key", "k\x01"); res.status != http.StatusBadRequest ||
		!strings.HasPrefix(string(res.body), `{"error":{"code":"invalid_request",`) {
		t.Errorf("bad Idempotency-Key: %d %s", res.status, res.body)
	}
	// A retried create with its Idempotency-Key answers the first plan.
	first := env.do(t, "POST", "/v0/plans", env.key, []byte(paygenticSeedBody(env.merchant(), "")), "Idempotency-Key", "pay-1")
	again := env.do(t, "POST", "/v0/plans", env.key, []byte(paygenticSeedBody(env.merchant(), "")), "Idempotency-Key", "pay-1")
	if first.status != http.StatusCreated || again.status != http.StatusCreated || string(again.body) != string(first.body) ||
		again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s / %d %s", first.status, first.body, again.status, again.body)
	}
	if res := env.do(t, "POST", "/v0/plans", env.key, []byte(" "+paygenticSeedBody(env.merchant(), "")+"\n"), "Idempotency-Key", "pay-1"); res.status != http.StatusCreated {
		t.Fatalf("retry re-serialised: %d %s", res.status, res.body)
	}
	other := strings.Replace(paygenticSeedBody(env.merchant(), ""), `"Pro"`, `"Pro 2"`, 1)
	if res := env.do(t, "POST", "/v0/plans", env.key, []byte(other), "Idempotency-Key", "pay-1"); res.status != http.StatusUnprocessableEntity ||
		!strings.HasPrefix(string(res.body), `{"error":{"code":"idempotency_key_reused","message":"This Idempotency-Key was already used with a different request."}}`) {
		t.Fatalf("key reused: %d %s", res.status, res.body)
	}
	// The key's rate limit, in the dialect's shape.
	_, limited := env.account(t, eventstore.NewAccount{Name: "Limited", RateLimitPerMinute: 1})
	if res := env.do(t, "GET", "/v0/plans", limited, nil); res.status != http.StatusOK {
		t.Fatalf("first request: %d %s", res.status, res.body)
	}
	if res := env.do(t, "GET", "/v0/plans", limited, nil); res.status != http.StatusTooManyRequests ||
		!strings.HasPrefix(string(res.body), `{"error":{"code":"rate_limited","message":"Rate limit exceeded: 1 requests per minute.`) {
		t.Fatalf("429: %d %s", res.status, res.body)
	}
}

func TestPaygenticHostileInput(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	m := env.merchant()
	before := env.eventCount(t)
	for _, body := range []string{
		`{"name":"a\u0000b","merchantId":"` + m + `"}`, `{"name":"evil\u202Eexe","merchantId":"` + m + `"}`,
		`{"name":"x","merchantId":"` + m + `","price":"1e400"}`, `{"name":"x","merchantId":"` + m + `","price":"-1"}`,
		`{"name":"x","merchantId":"` + m + `","price":"NaN"}`, `{"name":"x","merchantId":"` + m + `","price":"0.00000000001"}`,
		`{"name":"x","merchantId":"` + m + `","price":""}`, `{"name":"x","merchantId":"` + m + `","price":{}}`,
		`{"name":"x","merchantId":"` + m + `","prices":"price_1"}`, `{"name":"x","merchantId":"` + m + `","prices":[1]}`,
		`{"name":"x","merchantId":"` + m + `","prices":["` + strings.Repeat("p", 300) + `"]}`,
		`{"name":"x","merchantId":"` + m + `","prices":["a","a"]}`,
		`{"name":"x","merchantId":"` + m + `","prices":["p` + strings.Repeat(`","p`, domain.MaxPrices) + `"]}`, `{"name":"x","merchantId":"` + m + `","tax":{"a":"\u0000"}}`,
		`{"name":"x","merchantId":"` + m + `","tax":{"a":"` + strings.Repeat("x", 5000) + `"}}`,
		`{"name":"x","merchantId":"` + m + `","paymentOptions":[]}`, `{"name":"x","merchantId":"` + m + `","paymentOptions":{"credits":"a\u0000"}}`,
		`{"name":"x","merchantId":"` + m + `","billingInterval":"P99999999999999999999M"}`,
		`{"name":"x","merchantId":"org_99999999999999999999999"}`, `{"name":"x","merchantId":"org_` + m + `\n"}`,
		`{"name":"` + strings.Repeat("x", 256) + `","merchantId":"` + m + `"}`, `{"name":"x","merchantId":"` + m + `","currency":"\ud800"}`,
	} {
		res := env.do(t, "POST", "/v0/plans", env.key, []byte(body))
		if res.status != http.StatusUnprocessableEntity || !strings.HasPrefix(string(res.body), `{"error":{"code":"validation_error",`) {
			t.Errorf("POST %.100s: %d %s", body, res.status, res.body)
		}
		if strings.Contains(string(res.body), "catalog_item") || strings.Contains(string(res.body), `"amount`) ||
			strings.Contains(string(res.body), "payment_options") {
			t.Errorf("POST %.100s: a domain field name shows: %s", body, res.body)
		}
	}
	if env.eventCount(t) != before {
		t.Fatal("refused input wrote events")
	}
}

// FuzzPaygenticDecode: any body decodes without panicking, and what the
// decoder and the domain accept is storable.
func FuzzPaygenticDecode(f *testing.F) {
	f.Add([]byte(paygenticSeedBody("org_1", `"price_aaaaaaaaaaaaaa"`)))
	f.Add([]byte(`{"name":"x","merchantId":"org_1","billingInterval":"P3M","price":1.5}`))
	f.Add([]byte(`{"name":"\u0000","merchantId":"org_0","tax":{"a":[1e999999]},"prices":[null]}`))
	f.Add([]byte(`{"paymentOptions":{"outOfBand":1,"credits":["x"]},"price":"1e-11"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, typeErrs, err := decodePaygenticPlan(body)
		if err != nil || typeErrs != nil {
			return
		}
		if len(in.merchantID) < 4 || in.merchantID[:4] != "org_" {
			t.Fatalf("accepted merchantId %q", in.merchantID)
		}
		cmd := in.cmd
		cmd.ID, cmd.AccountID, cmd.CatalogPlanID, cmd.Now = "plan_aaaaaaaaaaaaaa", 1, 1, seedNow
		if in.price {
			cmd.StandardPriceID = "price_aaaaaaaaaaaaaa"
		}
		cmd.KnownPrices = map[string]domain.Price{}
		for _, id := range cmd.Prices {
			cmd.KnownPrices[id] = domain.Price{ID: id, Currency: strings.ToUpper(strings.TrimSpace(cmd.Currency))}
		}
		evs, err := new(domain.CatalogPlan).Create(cmd)
		if ve := (*domain.ValidationError)(nil); err != nil && !errors.As(err, &ve) {
			t.Fatalf("Create: %v", err)
		}
		if len(evs) == 0 {
			return
		}
		c := evs[0].(domain.CatalogPlanCreated)
		if err := domaintest.CheckStorable(c); err != nil {
			t.Fatal(err)
		}
		if in.price != (c.StandardPrice != nil) || c.Name == "" {
			t.Fatalf("accepted %s as %+v", body, c)
		}
	})
}
