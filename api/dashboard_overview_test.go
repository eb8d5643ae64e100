package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestDashboardOverview checks the Overview's numbers for a fixed fixture,
// exactly, and that its charts are accessible images with their tables.
func TestDashboardOverview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)

	// 2025-11-27: four plans of 1200.00 USD (400.00 due 2025-12-04,
	// 2026-01-04 and 2026-02-04 once chosen). A pays 400.00 now; D is
	// cancelled before choosing.
	a, b, c, d := e.createPlan(t), e.createPlan(t), e.createPlan(t), e.createPlan(t)
	for _, p := range []planDetail{a, b, c} {
		e.selectFirst(t, p)
	}
	e.postPlan(t, a.PlanID, "/payments", `{"amount":"400.00","method":"cash"}`, http.StatusCreated)
	e.postPlan(t, d.PlanID, "/cancel", `{"reason":"Paid by card."}`, http.StatusOK)
	// 2025-12-10: B pays 250.50, C pays it all (13 days after creation).
	e.clock.t = time.Date(2025, 12, 10, 15, 0, 0, 0, time.UTC)
	e.postPlan(t, b.PlanID, "/payments", `{"amount":"250.50","method":"cash"}`, http.StatusCreated)
	e.postPlan(t, c.PlanID, "/payments", `{"amount":"1200.00","method":"cash"}`, http.StatusCreated)
	// Another account's money counts nowhere here.
	res := e.do(t, "POST", "/api/v1/plans", otherKey, []byte(plan3))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	x := decodePlan(t, res).PlanID
	e.projectAll(t, a.PlanID, b.PlanID, c.PlanID, d.PlanID, x)
	if got := e.get(t, c.PlanID).Status; got != string(domain.StatusCompleted) {
		t.Fatalf("C is %s", got)
	}

	e.clock.t = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC) // a Saturday: weeks 2025-10-20 to 2026-01-05
	page := e.dashGet(t, "/dashboard/overview", e.signIn(t, "owner@example.com"))
	week := func(w, due, collected string) string {
		return fmt.Sprintf(`<tr data-week="%s"><th scope="row">%s</th><td class="num">%s</td><td class="num">%s</td></tr>`, w, w, due, collected)
	}
	status := func(s, label string, plans int, outstanding string) string {
		return fmt.Sprintf(`<tr data-status="%s"><th scope="row">%s</th><td class="num">%d</td><td class="num">%s</td></tr>`, s, label, plans, outstanding)
	}
	requireHTML(t, "overview", page, http.StatusOK, `<h1>Overview</h1>`, `aria-current="page">Overview`,
		`Weeks 2025-10-20 to 2026-01-11`,
		week("2025-10-20", "0.00", "0.00"),
		week("2025-11-24", "0.00", "400.00"),
		week("2025-12-01", "1200.00", "0.00"),
		week("2025-12-08", "0.00", "1450.50"),
		week("2025-12-29", "1200.00", "0.00"),
		week("2026-01-05", "0.00", "0.00"),
		`<tr data-week="total"><th scope="row">Total (77.1 % collected)</th><td class="num">2400.00</td><td class="num">1850.50</td></tr>`,
		// Bars: heights are percentages of the largest week (1450.50).
		`<rect class="bar-due" x="182" y="0" width="12" height="82.7"/>`,
		`<rect class="bar-collected" x="164" y="0" width="12" height="27.6"/>`,
		`<rect class="bar-collected" x="224" y="0" width="12" height="100.0"/>`,
		status("active", "active", 2, "1749.50"),
		status("completed", "completed", 1, "0.00"),
		status("cancelled", "cancelled", 1, "1200.00"),
		`<tr data-status="total"><th scope="row">Total</th><td class="num"></td><td class="num">2949.50</td></tr>`,
		`<dd data-figure="cure-rate">50.0 %</dd>`, `1 of 2 closed plans`,
		`<dd data-figure="median-days">13</dd>`,
		// Accessible images with their tables.
		`<svg role="img" aria-labelledby="cash-0-t cash-0-d"`, `<title id="cash-0-t">Collected and fell due each week, USD</title>`,
		`<desc id="cash-0-d">1850.50 USD collected of 2400.00 USD that fell due (77.1 %); the largest week is 1450.50 USD.</desc>`,
		`<svg role="img" aria-labelledby="status-0-t status-0-d"`, `<title id="status-0-t">Outstanding by plan status, USD</title>`,
		`<caption id="cash-0-c">Each week in USD</caption>`)
	if n := strings.Count(string(page.body), `<tr data-week="20`); n != 12 {
		t.Errorf("%d weeks in the table, want 12", n)
	}
	if strings.Contains(string(page.body), `data-status="pending"`) {
		t.Errorf("the other account's pending plan is counted")
	}
	if regexp.MustCompile(`<script`).Match(page.body) {
		t.Errorf("the overview has a script")
	}

	// An account with nothing: the page says so.
	e.dashUser(t, mustAccount(t, e, "Empty"), "empty@example.com", eventstore.RoleOwner)
	requireHTML(t, "empty overview", e.dashGet(t, "/dashboard/overview", e.signIn(t, "empty@example.com")), http.StatusOK,
		"Nothing fell due and nothing was collected in these weeks.", "No plans yet.",
		`<dd data-figure="cure-rate">none yet</dd>`)
}

func mustAccount(t *testing.T, e *testEnv, name string) eventstore.Account {
	t.Helper()
	a, _ := e.account(t, eventstore.NewAccount{Name: name})
	return a
}
