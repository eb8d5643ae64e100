package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/projections"
)

// listPage is GET /api/v1/plans's body, as the tests read it.
type listPage struct {
	Items []struct {
		PlanID int64  `json:"plan_id"`
		Status string `json:"status"`
	} `json:"items"`
	TotalItems int64 `json:"total_items"`
	Limit      int   `json:"limit"`
	Offset     int   `json:"offset"`
	HasMore    *bool `json:"has_more"`
}

func (p listPage) ids() []int64 {
	out := make([]int64, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.PlanID
	}
	return out
}

// list GETs /api/v1/plans?query and decodes its 200 body.
func (e *testEnv) list(t *testing.T, query string) listPage {
	t.Helper()
	res := e.do(t, "GET", "/api/v1/plans?"+query, e.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET ?%s: %d %s", query, res.status, res.body)
	}
	var p listPage
	if err := json.Unmarshal(res.body, &p); err != nil || p.HasMore == nil {
		t.Fatalf("GET ?%s: %v, has_more missing: %s", query, err, res.body)
	}
	return p
}

// listFixture creates 7 plans a minute apart (customers "Ann 0".."Ann 6",
// ann<i>@example.com, invoices INV-<i>; every third plan's customer is
// "Bob <i>", bob<i>@example.com) and projects them; it returns their ids,
// newest first.
func listFixture(t *testing.T, env *testEnv) []int64 {
	t.Helper()
	var ids []int64
	for i := range 7 {
		name := "Ann"
		if i%3 == 0 {
			name = "Bob"
		}
		body := fmt.Sprintf(`{"customer":{"name":"%s %d","email":"%s%d@Example.com"},"invoice":{"amount":"%d.00","invoice_number":"INV-%d"}}`,
			name, i, name, i, 100+i, i)
		res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(body))
		if res.status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		id, _ := res.json(t)["plan_id"].(float64)
		ids = append(ids, int64(id))
		env.clock.advance(time.Minute)
	}
	env.projectPlans(t)
	slices.Reverse(ids)
	return ids
}

func TestListPlansKeysetPaging(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ids := listFixture(t, env)
	// The other account's plans are never listed, counted, or cursors.
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	theirs := env.paymentPlan(t, otherKey)
	env.projectPlans(t)

	first := env.list(t, "limit=3")
	if !slices.Equal(first.ids(), ids[:3]) || !*first.HasMore || first.TotalItems != 7 || first.Offset != 0 {
		t.Fatalf("first page %v %+v, want %v", first.ids(), first, ids[:3])
	}
	// Walk to the end with starting_after, then back with ending_before.
	var walked []int64
	after := ""
	for {
		p := env.list(t, "limit=3"+after)
		walked = append(walked, p.ids()...)
		if p.TotalItems != 7 || p.Limit != 3 {
			t.Fatalf("page %+v", p)
		}
		if !*p.HasMore {
			break
		}
		after = "&starting_after=" + strconv.FormatInt(p.ids()[len(p.Items)-1], 10)
	}
	if !slices.Equal(walked, ids) {
		t.Fatalf("starting_after walk %v, want %v", walked, ids)
	}
	back := env.list(t, "limit=3&ending_before="+strconv.FormatInt(ids[6], 10))
	if !slices.Equal(back.ids(), ids[3:6]) || !*back.HasMore {
		t.Fatalf("ending_before the oldest: %v has_more %v, want %v", back.ids(), *back.HasMore, ids[3:6])
	}
	back = env.list(t, "limit=3&ending_before="+strconv.FormatInt(ids[3], 10))
	if !slices.Equal(back.ids(), ids[:3]) || *back.HasMore {
		t.Fatalf("ending_before %d: %v has_more %v, want %v", ids[3], back.ids(), *back.HasMore, ids[:3])
	}
	if p := env.list(t, "starting_after="+strconv.FormatInt(ids[6], 10)); len(p.Items) != 0 || *p.HasMore || p.TotalItems != 7 {
		t.Fatalf("after the oldest: %+v", p)
	}
	if p := env.list(t, "limit=7"); *p.HasMore || len(p.Items) != 7 {
		t.Fatalf("limit=7 of 7: %+v", p)
	}
	if p := env.list(t, "limit=2&offset=5"); !slices.Equal(p.ids(), ids[5:]) || *p.HasMore || p.Offset != 5 {
		t.Fatalf("offset 5: %+v", p)
	}
	if p := env.list(t, "limit=2&offset=4"); !slices.Equal(p.ids(), ids[4:6]) || !*p.HasMore {
		t.Fatalf("offset 4: %+v", p)
	}

	// A cancelled plan: the status filter combines with the cursor, and
	// the counts follow the transition.
	if res := env.do(t, "POST", "/api/v1/plans/"+strconv.FormatInt(ids[1], 10)+"/cancel", env.key,
		[]byte(`{"reason":"duplicate"}`)); res.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", res.status, res.body)
	}
	env.projectPlans(t)
	if p := env.list(t, "status=pending&limit=2&starting_after="+strconv.FormatInt(ids[0], 10)); !slices.Equal(p.ids(), []int64{ids[2], ids[3]}) ||
		p.TotalItems != 6 || !*p.HasMore {
		t.Fatalf("pending after %d: %+v", ids[0], p)
	}
	if p := env.list(t, "status=cancelled&ending_before="+strconv.FormatInt(ids[6], 10)); !slices.Equal(p.ids(), []int64{ids[1]}) || p.TotalItems != 1 {
		t.Fatalf("cancelled: %+v", p)
	}

	// Cursors that name no plan of the account: 400, as Stripe's
	// resource_missing; malformed ones and conflicting parameters too.
	for _, c := range []struct {
		query, title string
		status       int
	}{
		{"starting_after=" + strconv.FormatInt(theirs, 10), "Resource missing", 400},
		{"ending_before=999999999", "Resource missing", 400},
		{"starting_after=" + strconv.FormatInt(ids[0], 10) + "&ending_before=" + strconv.FormatInt(ids[2], 10), "Conflicting parameters", 400},
		{"starting_after=" + strconv.FormatInt(ids[0], 10) + "&offset=0", "Conflicting parameters", 400},
		{"starting_after=abc", "Validation failed", 422},
		{"ending_before=-4", "Validation failed", 422},
		{"starting_after=0", "Validation failed", 422},
		{"offset=10001", "Validation failed", 422},
		{"email=%20%20", "Validation failed", 422},
		{"customer_name=a%00b", "Validation failed", 422},
		{"invoice_number=" + url.QueryEscape(string(make([]byte, 201))), "Validation failed", 422},
	} {
		res := env.do(t, "GET", "/api/v1/plans?"+c.query, env.key, nil)
		if res.status != c.status || res.json(t)["error"] != c.title {
			t.Errorf("?%s: %d %s, want %d %q", c.query, res.status, res.body, c.status, c.title)
		}
	}
}

func TestListPlansSearch(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ids := listFixture(t, env) // ids[k] is plan i = 6-k
	for _, c := range []struct {
		query string
		want  []int64
	}{
		{"email=ANN5@example.COM", []int64{ids[1]}},
		{"email=ann5@example", nil},
		{"invoice_number=inv-4", []int64{ids[2]}},
		{"invoice_number=INV-", nil},
		{"customer_name=bob", []int64{ids[0], ids[3], ids[6]}},
		{"customer_name=Ann%202", []int64{ids[4]}},
		{"customer_name=ann%20", []int64{ids[1], ids[2], ids[4], ids[5]}},
		{"customer_name=nn", nil},
		{"customer_name=b&limit=2", []int64{ids[0], ids[3]}},
		{"customer_name=b&limit=2&starting_after=" + strconv.FormatInt(ids[3], 10), []int64{ids[6]}},
		{"customer_name=bob&email=bob3@example.com", []int64{ids[3]}},
		{"customer_name=bob&status=active", nil},
	} {
		p := env.list(t, c.query)
		if !slices.Equal(p.ids(), c.want) && !(len(c.want) == 0 && len(p.Items) == 0) {
			t.Errorf("?%s: %v, want %v", c.query, p.ids(), c.want)
		}
		if c.query == "customer_name=b&limit=2" && (p.TotalItems != 3 || !*p.HasMore) {
			t.Errorf("?%s: total %d has_more %v, want 3 and true", c.query, p.TotalItems, *p.HasMore)
		}
	}
}

// TestListItemsAreThePlans checks that the list's body is what encoding
// the page as values gives, byte for byte, and that each item is the
// plan's GET /api/v1/plans/{id} body: the stored list items are the API's
// JSON, not a shape of their own.
func TestListItemsAreThePlans(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	listFixture(t, env)
	res := env.do(t, "GET", "/api/v1/plans?limit=5&offset=1", env.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("list: %d %s", res.status, res.body)
	}
	var raw struct {
		Items []json.RawMessage `json:"items"`
	}
	var page struct {
		Items      []projections.Detail `json:"items"`
		TotalItems int64                `json:"total_items"`
		Limit      int                  `json:"limit"`
		Offset     int                  `json:"offset"`
		HasMore    bool                 `json:"has_more"`
	}
	if err := json.Unmarshal(res.body, &raw); err != nil || len(raw.Items) != 5 {
		t.Fatalf("list: %v: %s", err, res.body)
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(page); string(res.body) != string(want) {
		t.Fatalf("list body\n%s\nwant (its values encoded)\n%s", res.body, want)
	}
	for _, item := range raw.Items {
		var d projections.Detail
		if err := json.Unmarshal(item, &d); err != nil {
			t.Fatal(err)
		}
		got := env.do(t, "GET", "/api/v1/plans/"+strconv.FormatInt(d.PlanID, 10), env.key, nil)
		if got.status != http.StatusOK || string(got.body) != string(item) {
			t.Fatalf("plan %d: list item\n%s\nGET %d\n%s", d.PlanID, item, got.status, got.body)
		}
	}
}
