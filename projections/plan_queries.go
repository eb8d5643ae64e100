package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// Get returns plan id of account as the read model has it, or
// eventstore.ErrNotFound (also for another account's plan). A plan whose
// stream has an unresolved dead letter is folded from the store instead
// (see folded).
func (p *Plans) Get(ctx context.Context, accountID, id int64, publicURL string) (Detail, error) {
	var r planRow
	var deadLettered bool
	err := r.scanFlagged(p.Store.Pool().QueryRow(ctx, `SELECT `+planColumns+`, `+deadLetteredColumn+` FROM `+p.table+` v
		WHERE plan_id = $1 AND account_id = $2`, id, accountID), &deadLettered)
	if errors.Is(err, pgx.ErrNoRows) {
		return Detail{}, fmt.Errorf("plan %d: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("plan %d: %w", id, err)
	}
	if deadLettered {
		// The events may fold where the projection failed; when they do
		// not either (the dead letter is the fold's own failure), the row
		// as it last was is the best answer there is.
		if d, err := p.folded(ctx, accountID, id, publicURL); err == nil {
			return d, nil
		}
	}
	return r.detail(publicURL)
}

// PlanIDByToken returns the id of the plan whose portal token the read
// model has as token, or eventstore.ErrNotFound. The caller checks the
// token against the plan's events: the read model may lag a regeneration.
func (p *Plans) PlanIDByToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := p.Store.Pool().QueryRow(ctx, `SELECT plan_id FROM `+p.table+` WHERE portal_token = $1`, token).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return p.deadLetteredPlanByToken(ctx, token)
	}
	if err != nil {
		return 0, fmt.Errorf("portal token: %w", err)
	}
	return id, nil
}

// DuePlan is a plan the scheduler should tick, with its account's reminder
// lead.
type DuePlan struct {
	PlanID, AccountID int64
	ReminderDays      int
}

// Due returns up to limit plans that may have something scheduled at now
// (wake_at reached, or a due date within the account's reminder lead), in
// plan id order after afterID so a caller can page through them.
func (p *Plans) Due(ctx context.Context, now time.Time, afterID int64, limit int) ([]DuePlan, error) {
	rows, err := p.Store.Pool().Query(ctx, `SELECT v.plan_id, v.account_id, a.reminder_days
		FROM `+p.table+` v JOIN accounts a ON a.id = v.account_id
		WHERE v.plan_id > $3 AND v.status IN ('pending', 'active')
		  AND (v.wake_at <= $1 OR (v.due_reminder_on <= $2::date + 30 -- the most reminder_days allows: lets the index answer
		       AND v.due_reminder_on - a.reminder_days <= $2::date))
		ORDER BY v.plan_id LIMIT $4`, now, now.UTC().Format(time.DateOnly), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("due plans: %w", err)
	}
	defer rows.Close()
	var out []DuePlan
	for rows.Next() {
		var d DuePlan
		if err := rows.Scan(&d.PlanID, &d.AccountID, &d.ReminderDays); err != nil {
			return nil, fmt.Errorf("due plans: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
