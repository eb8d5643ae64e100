package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// attentionRows lists the plan ids (or, for webhook-failing, endpoint ids)
// of the Needs attention rows of kind on page.
func attentionRows(page response, kind string) []int64 {
	re := regexp.MustCompile(`data-attention="` + kind + `" data-(?:plan|endpoint)-id="(\d+)"`)
	var ids []int64
	for _, m := range re.FindAllSubmatch(page.body, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// requireAttention checks the ids of each kind's rows on page (kinds not
// in want have none).
func requireAttention(t *testing.T, what string, page response, want map[string][]int64) {
	t.Helper()
	if page.status != http.StatusOK {
		t.Fatalf("%s: %d\n%s", what, page.status, page.body)
	}
	for _, kind := range []string{"payment-reported", "proposal-pending", "installment-overdue", "checkin-unanswered", "webhook-failing"} {
		if got := attentionRows(page, kind); !slices.Equal(got, want[kind]) {
			t.Errorf("%s: %s rows %v, want %v", what, kind, got, want[kind])
		}
	}
}

// projectAll brings the read model up to date for plans ids.
func (e *testEnv) projectAll(t *testing.T, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		e.project(t, id)
	}
}

func TestDashboardNeedsAttention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	other, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	e.dashUser(t, other, "g@example.com", eventstore.RoleOwner)

	// Another account's plan with a reported payment, and its failing endpoint.
	res := e.do(t, "POST", "/api/v1/plans", otherKey, []byte(plan3))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	x := e.get(t, decodePlan(t, res).PlanID)
	e.selectFirst(t, x)
	e.report(t, x.PlanID, "400.00")

	a, b, c := e.createPlan(t), e.createPlan(t), e.createPlan(t)
	e.selectFirst(t, a)
	pay := e.report(t, a.PlanID, "400.00")
	pr := e.propose(t, b.PlanID, "4", "biweekly", "2025-12-01")
	e.selectFirst(t, c)
	// C's first installment (2025-12-04) gets its check-in, which goes out
	// and is not answered for three days.
	e.clock.t = time.Date(2025, 12, 4, 9, 0, 0, 0, time.UTC)
	e.asMerchant(t, c.PlanID, func(p *domain.Plan) ([]domain.Event, error) { return p.Tick(e.clock.now(), 3), nil })
	checkin := domain.NoticeKey{Kind: domain.NoticeCheckin, Installment: 1, DueDate: domain.NewDate(2025, 12, 4)}
	e.asMerchant(t, c.PlanID, func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordNotificationSent(checkin, "<m1@goodplan.test>", "jane@example.com", e.clock.now())
	})
	e.clock.t = time.Date(2025, 12, 7, 9, 0, 0, 0, time.UTC)
	e.asMerchant(t, c.PlanID, func(p *domain.Plan) ([]domain.Event, error) { return p.Tick(e.clock.now(), 3), nil })
	if types := e.eventTypes(t, c.PlanID); !slices.Contains(types, domain.EventNotificationRequested) {
		t.Fatalf("no notice requested: %v", types)
	}
	e.projectAll(t, x.PlanID, a.PlanID, b.PlanID, c.PlanID)

	// Webhook endpoints: ours fails (a delivery gave up), one of ours
	// delivers, one is paused (which fails its deliveries on purpose), the
	// other account's fails.
	var failing, fine, paused, othersFailing int64
	for _, ep := range []struct {
		id      *int64
		account int64
		state   string
		paused  bool
	}{{&failing, e.acct.ID, "failed", false}, {&fine, e.acct.ID, "succeeded", false}, {&paused, e.acct.ID, "failed", true},
		{&othersFailing, other.ID, "failed", false}} {
		if err := e.store.Pool().QueryRow(ctx, `INSERT INTO webhook_endpoints (account_id, url, events, secret, paused_at)
			VALUES ($1, 'https://hooks.example.com/' || $2, '{}', 'whsec_x', CASE WHEN $3 THEN now() END) RETURNING id`,
			ep.account, ep.state, ep.paused).Scan(ep.id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Pool().Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, state, attempts, updated_at)
			VALUES ($1, gen_random_uuid(), 'installment.paid', '{}', $2, 8, $3)`, *ep.id, ep.state, e.clock.now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	// Its latest failure carried one of plan a's events: the row names
	// that plan too.
	if _, err := e.store.Pool().Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, state, attempts, updated_at)
		SELECT $1, event_id, type, '{}', 'failed', 8, $3 FROM events WHERE stream_id = 'plan-' || $2::bigint ORDER BY version DESC LIMIT 1`,
		failing, a.PlanID, e.clock.now().Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}

	owner := e.signIn(t, "owner@example.com")
	page := e.dashGet(t, "/dashboard", owner)
	requireHTML(t, "failing endpoint's plan", page, http.StatusOK,
		fmt.Sprintf(`data-attention="webhook-failing" data-endpoint-id="%d" data-plan-id="%d"`, failing, a.PlanID),
		fmt.Sprintf(`Latest failure: <a href="/dashboard/plans/%d">Plan %d</a>`, a.PlanID, a.PlanID))

	requireAttention(t, "owner", page, map[string][]int64{"payment-reported": {a.PlanID}, "proposal-pending": {b.PlanID},
		"installment-overdue": {c.PlanID}, "checkin-unanswered": {c.PlanID}, "webhook-failing": {failing}})
	requireHTML(t, "Needs attention", page, http.StatusOK, `<h1>Needs attention</h1>`,
		fmt.Sprintf(`<a href="/dashboard/plans/%d">Plan %d</a>`, a.PlanID, a.PlanID),
		fmt.Sprintf(`href="/dashboard/developers/webhooks/%d"`, failing),
		`<td class="num">400.00 USD</td>`, `<td>2025-12-04</td>`, `Jane Roe`, `INV-7`,
		`Reported payments to confirm <span class="count">(1)</span>`, `aria-current="page">Needs attention`)
	if strings.Contains(string(page.body), "Globex") || strings.Contains(string(page.body), fmt.Sprintf(`/plans/%d"`, x.PlanID)) {
		t.Fatalf("another account's items on the page (plan %d)\n%s", x.PlanID, page.body)
	}
	// A member: the same plans, no webhook endpoints (not theirs to manage).
	requireAttention(t, "member", e.dashGet(t, "/dashboard", e.signIn(t, "member@example.com")), map[string][]int64{
		"payment-reported": {a.PlanID}, "proposal-pending": {b.PlanID}, "installment-overdue": {c.PlanID},
		"checkin-unanswered": {c.PlanID}})
	// The other account sees its own only; its endpoint's failure carried
	// no plan's event, so its row names no plan.
	otherPage := e.dashGet(t, "/dashboard", e.signIn(t, "g@example.com"))
	requireAttention(t, "other account", otherPage, map[string][]int64{
		"payment-reported": {x.PlanID}, "webhook-failing": {othersFailing}})
	requireHTML(t, "other account's failing endpoint", otherPage, http.StatusOK,
		fmt.Sprintf(`data-attention="webhook-failing" data-endpoint-id="%d">`, othersFailing))

	// Each kind's "All" link is the plans list filtered to it: the same
	// plans, newest first, and the exports with the same filter.
	for kind, want := range map[string][]int64{"payment-reported": {a.PlanID}, "proposal-pending": {b.PlanID},
		"installment-overdue": {c.PlanID}, "checkin-unanswered": {c.PlanID}} {
		list := e.dashGet(t, "/dashboard/plans?attention="+kind, owner)
		if got := listedIDs(t, list); list.status != http.StatusOK || !slices.Equal(got, want) {
			t.Fatalf("plans needing %s: %d %v, want %v\n%s", kind, list.status, got, want, list.body)
		}
		requireHTML(t, "plans needing "+kind, list, http.StatusOK, `<label for="plans-attention">`,
			`<option value="`+kind+`" selected>`, `href="/dashboard/plans/export.csv?attention=`+kind+`"`)
		export := e.dashGet(t, "/dashboard/plans/export.csv?attention="+kind, owner)
		csv := string(export.body)
		if lines := strings.Split(strings.TrimSpace(csv), "\n"); export.status != http.StatusOK || len(lines) != 2 ||
			!strings.HasPrefix(lines[1], strconv.FormatInt(want[0], 10)+",") {
			t.Fatalf("export of the plans needing %s:\n%s", kind, csv)
		}
	}
	if got := listedIDs(t, e.dashGet(t, "/dashboard/plans?attention=payment-reported&status=pending", owner)); got != nil {
		t.Fatalf("reported payments of pending plans: %v", got)
	}
	requireHTML(t, "unknown kind", e.dashGet(t, "/dashboard/plans?attention=lost", owner), http.StatusBadRequest, `role="alert"`)
	if res := e.dashGet(t, "/dashboard/plans/export.csv?attention=lost", owner); res.status != http.StatusBadRequest {
		t.Fatalf("export with an unknown kind: %d", res.status)
	}
	// The other account's list of its reported payment is its own.
	if got := listedIDs(t, e.dashGet(t, "/dashboard/plans?attention=payment-reported", e.signIn(t, "g@example.com"))); !slices.Equal(got, []int64{x.PlanID}) {
		t.Fatalf("the other account's reported payments: %v", got)
	}

	// Handled through the API: each row goes.
	e.postPlan(t, a.PlanID, fmt.Sprintf("/payments/%d/confirm", pay), ``, http.StatusOK)
	e.postPlan(t, b.PlanID, fmt.Sprintf("/proposals/%d/decline", pr), `{"reason":"Too long."}`, http.StatusOK)
	e.postPlan(t, c.PlanID, "/payments", `{"amount":"400.00","method":"cash"}`, http.StatusCreated)
	e.projectAll(t, a.PlanID, b.PlanID, c.PlanID)
	if _, err := e.store.Pool().Exec(ctx, `UPDATE webhook_deliveries SET state = 'succeeded' WHERE endpoint_id = $1`, failing); err != nil {
		t.Fatal(err)
	}
	page = e.dashGet(t, "/dashboard", owner)
	requireAttention(t, "after handling", page, nil)
	requireHTML(t, "Needs attention, nothing left", page, http.StatusOK, "No payment waits for your confirmation.",
		"No proposal waits for your answer.", "No installment is overdue.", "Every webhook endpoint delivers.")

	for _, kind := range projections.AttentionKinds {
		if got := listedIDs(t, e.dashGet(t, "/dashboard/plans?attention="+kind, owner)); got != nil {
			t.Fatalf("plans needing %s after handling: %v", kind, got)
		}
	}

	// Overdue is counted from today: A's second installment (2026-01-04)
	// is overdue the day after.
	e.clock.t = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	owner = e.signIn(t, "owner@example.com")
	requireAttention(t, "a month later", e.dashGet(t, "/dashboard", owner), map[string][]int64{
		"installment-overdue": {a.PlanID, c.PlanID}})
	if got := listedIDs(t, e.dashGet(t, "/dashboard/plans?attention=installment-overdue", owner)); !slices.Equal(got, []int64{c.PlanID, a.PlanID}) {
		t.Fatalf("overdue plans a month later: %v", got)
	}
}

// TestDashboardNeedsAttentionIsBounded: each list shows the oldest
// attentionLimit rows, its count (capped) and a link to the plans list.
func TestDashboardNeedsAttentionIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	// Rows straight into the read model: what is listed is the column's.
	insert := func(from, n int, column string) {
		t.Helper()
		if _, err := e.store.Pool().Exec(context.Background(), `INSERT INTO plan_views (plan_id, account_id, version, status,
				portal_token, customer, invoice, plan_options, send_introduction_email, introduction_email, created_at, updated_at,
				currency, amount_reported, `+column+`)
			SELECT g, $1, 3, 'active', 'tok' || g, '{"name":"C"}', '{}', '[]', false, '{}', now(), now(), 'usd', 1,
				$2::timestamptz + g * interval '1 minute'
			FROM generate_series($3::int, $3::int + $4::int - 1) g`, e.acct.ID, seedNow, from, n); err != nil {
			t.Fatal(err)
		}
	}
	insert(1001, attentionLimit+5, "reported_since")
	insert(5001, projections.AttentionCountCap+5, "proposal_since")
	cookie := e.signIn(t, "owner@example.com")
	page := e.dashGet(t, "/dashboard", cookie)
	rows := attentionRows(page, "payment-reported")
	if len(rows) != attentionLimit || rows[0] != 1001 || rows[attentionLimit-1] != 1000+attentionLimit {
		t.Fatalf("rows: %d from %v", len(rows), rows[:1])
	}
	if rows := attentionRows(page, "proposal-pending"); len(rows) != attentionLimit || rows[0] != 5001 {
		t.Fatalf("proposal rows: %d from %v", len(rows), rows[:1])
	}
	requireHTML(t, "bounded", page, http.StatusOK, fmt.Sprintf(`<span class="count">(%d)</span>`, attentionLimit+5),
		`<a href="/dashboard/plans?attention=payment-reported">All 55: Reported payments to confirm</a>`,
		fmt.Sprintf(`Proposals to answer <span class="count">(%d or more)</span>`, projections.AttentionCountCap),
		`<a href="/dashboard/plans?attention=proposal-pending">`)

	// The link leads to all 55, a page at a time, and to no other plan.
	var all []int64
	for next := "/dashboard/plans?attention=payment-reported"; next != ""; {
		list := e.dashGet(t, next, cookie)
		got := listedIDs(t, list)
		if list.status != http.StatusOK || len(got) == 0 || len(got) > dashboardPlansPageSize {
			t.Fatalf("%s: %d, %d rows\n%s", next, list.status, len(got), list.body)
		}
		all = append(all, got...)
		if next = pageLink(list, olderLink); next != "" && !strings.Contains(next, "attention=payment-reported") {
			t.Fatalf("the older page's link lost the filter: %s", next)
		}
	}
	want := make([]int64, 0, attentionLimit+5)
	for id := int64(1000 + attentionLimit + 5); id > 1000; id-- {
		want = append(want, id)
	}
	if !slices.Equal(all, want) {
		t.Fatalf("the plans with a reported payment, page by page: %v, want %v", all, want)
	}
}
