package projections

import (
	"context"
	"errors"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// GroupPlanView is a catalog plan as a plan group shows it.
type GroupPlanView struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Currency      string `json:"currency"`
	Interval      string `json:"interval"`
	IntervalCount int    `json:"interval_count"`
}

// PlanGroupView is a plan group as the native API shows it, and as its
// webhooks carry it.
type PlanGroupView struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Plans        []GroupPlanView `json:"plans"`
	PaymentPlans []int64         `json:"payment_plans"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// GroupEntry is one member of a group as shown: a live catalog plan, or a
// payment plan by its id (Payment > 0).
type GroupEntry struct {
	Catalog CatalogPlan
	Payment int64
}

// Entries resolves the members of account's groups, in order, their
// catalog plans now from the catalog read model (one query for all the
// groups): a deleted catalog plan is left out, so it leaves every group it
// was in; one the read model has not reached is folded from the store.
func (p *PlanGroups) Entries(ctx context.Context, account int64, groups []PlanGroup) ([][]GroupEntry, error) {
	var ids []int64
	for _, g := range groups {
		for _, m := range g.Members {
			if m.Kind == domain.CatalogPlanMember {
				ids = append(ids, m.ID)
			}
		}
	}
	plans, err := p.CatalogPlans(ctx, account, ids)
	if err != nil {
		return nil, err
	}
	out := make([][]GroupEntry, 0, len(groups))
	for _, g := range groups {
		entries := []GroupEntry{}
		for _, m := range g.Members {
			if m.Kind == domain.PaymentPlanMember {
				entries = append(entries, GroupEntry{Payment: m.ID})
				continue
			}
			cp, ok := plans[m.ID]
			if !ok {
				folded, _, _, err := eventstore.CatalogPlanAggregate.Load(ctx, p.Store, m.ID)
				if errors.Is(err, eventstore.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
				cp = CatalogPlanOf(folded)
				plans[m.ID] = cp
			}
			if cp.DeletedAt != nil {
				continue
			}
			entries = append(entries, GroupEntry{Catalog: cp})
		}
		out = append(out, entries)
	}
	return out, nil
}

// Render shows account's groups in the native API's shape (see Entries).
func (p *PlanGroups) Render(ctx context.Context, account int64, groups []PlanGroup) ([]PlanGroupView, error) {
	entries, err := p.Entries(ctx, account, groups)
	if err != nil {
		return nil, err
	}
	out := make([]PlanGroupView, 0, len(groups))
	for i, g := range groups {
		v := PlanGroupView{ID: g.PublicID.String(), Name: g.Name, Plans: []GroupPlanView{}, PaymentPlans: []int64{},
			CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
		for _, e := range entries[i] {
			if e.Payment > 0 {
				v.PaymentPlans = append(v.PaymentPlans, e.Payment)
				continue
			}
			cp := e.Catalog
			v.Plans = append(v.Plans, GroupPlanView{ID: cp.ID, Name: cp.Name, Currency: cp.Currency,
				Interval: string(cp.Interval), IntervalCount: cp.IntervalCount})
		}
		out = append(out, v)
	}
	return out, nil
}
