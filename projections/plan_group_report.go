package projections

import (
	"context"
	"fmt"
	"time"

	"goodplan/domain"
)

// What plan groups read of their payment plans (the plans dialect's
// members and the group report): the report columns of plan_views
// (migration 012) with the plan's display name.

// GroupPaymentPlan is a payment plan as a group shows and reports it.
type GroupPaymentPlan struct {
	ID            int64
	InvoiceNumber string
	CustomerName  string
	domain.ReportPaymentPlan
}

// GroupPaymentPlanOf renders a folded payment plan.
func GroupPaymentPlanOf(p *domain.Plan) (GroupPaymentPlan, error) {
	l := p.Ledger()
	v := GroupPaymentPlan{ID: p.ID(), InvoiceNumber: p.Invoice().InvoiceNumber, CustomerName: p.Customer().Name,
		ReportPaymentPlan: domain.ReportPaymentPlan{Status: p.Status(), Currency: p.Invoice().Currency,
			CreatedAt: p.CreatedAt().UTC(), CompletedAt: p.CompletedAt().UTC(), Extended: p.Extended(),
			Proposed: len(p.Proposals()) > 0}}
	for _, f := range []struct {
		dst *domain.Decimal
		m   domain.Money
	}{{&v.Total, l.Total}, {&v.Paid, l.Paid}, {&v.Reported, l.Reported}, {&v.Outstanding, l.Outstanding}} {
		d, err := domain.ParseDecimal(f.m.String())
		if err != nil {
			return v, fmt.Errorf("plan %d: %w", p.ID(), err)
		}
		*f.dst = d
	}
	return v, nil
}

// PaymentPlans returns the payment plans ids of account from the plan
// read model, by id; an id the read model has not reached (or of another
// account) is missing from the map.
func (p *PlanGroups) PaymentPlans(ctx context.Context, account int64, ids []int64) (map[int64]GroupPaymentPlan, error) {
	out := make(map[int64]GroupPaymentPlan, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := p.Store.Pool().Query(ctx, `SELECT plan_id, status, currency, amount_total::text, amount_paid::text,
			amount_reported::text, amount_outstanding::text, created_at, completed_at, extended, proposed,
			coalesce(invoice->>'invoice_number', ''), coalesce(customer->>'name', '')
		FROM plan_views WHERE account_id = $1 AND plan_id = ANY($2)`, account, ids)
	if err != nil {
		return nil, fmt.Errorf("group payment plans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v GroupPaymentPlan
		var amounts [4]string
		var completed *time.Time
		if err := rows.Scan(&v.ID, &v.Status, &v.Currency, &amounts[0], &amounts[1], &amounts[2], &amounts[3],
			&v.CreatedAt, &completed, &v.Extended, &v.Proposed, &v.InvoiceNumber, &v.CustomerName); err != nil {
			return nil, fmt.Errorf("group payment plans: %w", err)
		}
		for i, dst := range []*domain.Decimal{&v.Total, &v.Paid, &v.Reported, &v.Outstanding} {
			if *dst, err = domain.ParseDecimal(amounts[i]); err != nil {
				return nil, fmt.Errorf("group payment plan %d: %w", v.ID, err)
			}
		}
		v.CreatedAt = v.CreatedAt.UTC()
		if completed != nil {
			v.CompletedAt = completed.UTC()
		}
		out[v.ID] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group payment plans: %w", err)
	}
	return out, nil
}

// Count returns how many groups of account are not deleted.
func (p *PlanGroups) Count(ctx context.Context, account int64) (int, error) {
	var n int
	err := p.Store.Pool().QueryRow(ctx, `SELECT count(*) FROM plan_group_views
		WHERE account_id = $1 AND deleted_at IS NULL`, account).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count plan groups: %w", err)
	}
	return n, nil
}
