package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPlanGroupReport(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.catalogPlan(t, `{"id":"starter","name":"Starter","amount":"49.00"}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"pro","name":"Pro","amount":"99","currency":"eur","interval":"year"}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"bespoke","name":"Bespoke","pricing_mode":"custom"}`, http.StatusCreated)
	env.catalogPlan(t, `{"id":"fortnightly","name":"Fortnightly","pricing_mode":"tiered","interval":"week","interval_count":2,
		"tiers":[{"max_qty":10,"unit_cost":"0.0015"},{"min_qty":11,"unit_cost":"0.001"}]}`, http.StatusCreated)

	// USD plans of 1200.00: completed 10 days after creation, with an
	// extension; written off; active with 200.00 confirmed and 400.00
	// reported; cancelled. A EUR plan, pending, with a proposal.
	completed, writtenOff, active, cancelled := env.createPlan(t), env.createPlan(t), env.createPlan(t), env.createPlan(t)
	res := env.do(t, "POST", "/api/v1/plans", env.key, []byte(strings.Replace(plan3, `"invoice_number":"INV-7"`, `"currency":"EUR"`, 1)))
	if res.status != http.StatusCreated {
		t.Fatalf("EUR plan: %d %s", res.status, res.body)
	}
	eur := decodePlan(t, res).PlanID
	env.propose(t, eur, "2", "monthly", "2025-12-15")
	env.selectFirst(t, completed)
	env.postPlan(t, completed.PlanID, "/installments/1/extend", `{"due_date":"2025-12-20"}`, http.StatusOK)
	env.postPlan(t, writtenOff.PlanID, "/write-off", `{"reason":"gone"}`, http.StatusOK)
	env.selectFirst(t, active)
	env.report(t, active.PlanID, "400.00")
	env.postPlan(t, active.PlanID, "/payments", `{"amount":"200.00","method":"cash"}`, http.StatusCreated)
	env.postPlan(t, cancelled.PlanID, "/cancel", `{}`, http.StatusOK)
	env.clock.advance(10 * 24 * time.Hour)
	if d := env.postPlan(t, completed.PlanID, "/payments", `{"amount":"1200.00","method":"cash"}`, http.StatusCreated); d.Status != "completed" {
		t.Fatalf("plan not completed: %s", d.Status)
	}

	var members []string
	for _, id := range []int64{completed.PlanID, writtenOff.PlanID, active.PlanID, cancelled.PlanID, eur} {
		members = append(members, strconv.FormatInt(id, 10))
	}
	g := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Collections","plans":["starter","pro","bespoke","fortnightly"],
		"payment_plans":[`+strings.Join(members, ",")+`]}`, http.StatusCreated).json(t)
	id := g["id"].(string)
	want := fmt.Sprintf(`{"id":%q,"name":"Collections",
	"payment_plans":{"count":5,"by_currency":[
		{"currency":"EUR","count":1,"by_status":{"abandoned":0,"active":0,"cancelled":0,"completed":0,"pending":1,"written_off":0},
		 "amount_owed":"1200.00","confirmed":"0.00","reported":"0.00","outstanding":"1200.00","written_off":"0.00",
		 "completed":0,"closed":0,"cure_rate":null,"median_days_to_completion":null,
		 "extended_or_proposed":1,"extended_or_proposed_share":"1.0000"},
		{"currency":"USD","count":4,"by_status":{"abandoned":0,"active":1,"cancelled":1,"completed":1,"pending":0,"written_off":1},
		 "amount_owed":"4800.00","confirmed":"1400.00","reported":"400.00","outstanding":"1000.00","written_off":"1200.00",
		 "completed":1,"closed":3,"cure_rate":"0.3333","median_days_to_completion":"10",
		 "extended_or_proposed":1,"extended_or_proposed_share":"0.2500"}]},
	"catalog_plans":{"count":4,"custom":1,"by_interval_and_currency":[
		{"interval":"week","currency":"USD","count":1,"custom":0,"monthly_list_price":"0.00"},
		{"interval":"month","currency":"USD","count":2,"custom":1,"monthly_list_price":"49.00"},
		{"interval":"year","currency":"EUR","count":1,"custom":0,"monthly_list_price":"8.25"}],
	"plans":[
		{"id":"starter","currency":"USD","pricing_mode":"per_unit","interval":"month","interval_count":1,"list_price":"49.00","monthly_list_price":"49.00"},
		{"id":"pro","currency":"EUR","pricing_mode":"per_unit","interval":"year","interval_count":1,"list_price":"99","monthly_list_price":"8.25"},
		{"id":"bespoke","currency":"USD","pricing_mode":"custom","interval":"month","interval_count":1,"list_price":null,"monthly_list_price":null},
		{"id":"fortnightly","currency":"USD","pricing_mode":"tiered","interval":"week","interval_count":2,"list_price":"0.0015","monthly_list_price":"0.00"}]}}`, id)
	// Before the read models have the plans (folded from the store), and
	// from them.
	sameJSON(t, env.group(t, "GET", "/api/v1/plan-groups/"+id+"/report", "", http.StatusOK).body, want)
	env.projectPlans(t)
	env.projectCatalog(t)
	env.projectGroups(t)
	rep := env.group(t, "GET", "/api/v1/plan-groups/"+id+"/report", "", http.StatusOK)
	sameJSON(t, rep.body, want)
	if got := keysOf(rep.json(t)); !reflect.DeepEqual(got, []string{"catalog_plans", "id", "name", "payment_plans"}) {
		t.Fatalf("report keys %v", got)
	}

	// An empty group; a deleted group and an unknown one are 404s.
	empty := env.group(t, "POST", "/api/v1/plan-groups", `{"name":"Empty"}`, http.StatusCreated).json(t)["id"].(string)
	sameJSON(t, env.group(t, "GET", "/api/v1/plan-groups/"+empty+"/report", "", http.StatusOK).body, `{"id":"`+empty+`","name":"Empty",
		"payment_plans":{"count":0,"by_currency":[]},"catalog_plans":{"count":0,"custom":0,"by_interval_and_currency":[],"plans":[]}}`)
	env.group(t, "DELETE", "/api/v1/plan-groups/"+empty, "", http.StatusNoContent)
	env.group(t, "GET", "/api/v1/plan-groups/"+empty+"/report", "", http.StatusNotFound)
	env.group(t, "GET", "/api/v1/plan-groups/00000000-0000-0000-0000-000000000000/report", "", http.StatusNotFound)
	env.group(t, "GET", "/api/v1/plan-groups/nope/report", "", http.StatusNotFound)
}
