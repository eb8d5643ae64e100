package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/projections"
)

// planGroupReportJSON is GET /api/v1/plan-groups/{id}/report's body: the
// group and domain.ReportGroup's figures of its plans.
type planGroupReportJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	domain.GroupReport
}

// planGroupReport is GET /api/v1/plan-groups/{id}/report: the group's
// payment plans per currency and its catalog plans' monthly list prices
// (see domain.ReportGroup), from the read models (a plan they have not
// reached yet is folded from the store). A deleted group, or another
// account's, is a 404.
func (s *Server) planGroupReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g, err := s.livePlanGroup(ctx, accountFrom(ctx).ID, chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.groupReport(ctx, g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, planGroupReportJSON{ID: g.PublicID.String(), Name: g.Name, GroupReport: rep})
}

// groupReport is domain.ReportGroup's report of g's plans, from the read
// models (a plan they have not reached yet is folded from the store).
func (s *Server) groupReport(ctx context.Context, g projections.PlanGroup) (domain.GroupReport, error) {
	entries, err := s.planGroups.Entries(ctx, g.AccountID, []projections.PlanGroup{g})
	if err != nil {
		return domain.GroupReport{}, err
	}
	var ids []int64
	var catalog []domain.ReportCatalogPlan
	for _, e := range entries[0] {
		if e.Payment > 0 {
			ids = append(ids, e.Payment)
			continue
		}
		p := e.Catalog
		catalog = append(catalog, domain.ReportCatalogPlan{ID: p.ID, Currency: p.Currency, PricingMode: p.PricingMode,
			Amount: p.Amount, Tiers: p.Tiers, Interval: p.Interval, IntervalCount: p.IntervalCount})
	}
	plans, err := s.groupPaymentPlans(ctx, g.AccountID, ids)
	if err != nil {
		return domain.GroupReport{}, err
	}
	payments := make([]domain.ReportPaymentPlan, 0, len(ids))
	for _, id := range ids {
		if p, ok := plans[id]; ok {
			payments = append(payments, p.ReportPaymentPlan)
		}
	}
	return domain.ReportGroup(payments, catalog)
}
