package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// ListQuery selects plans of one account, newest first.
type ListQuery struct {
	AccountID    int64
	Limit        int
	Offset       int
	Status       string    // "" for any
	UpdatedAfter time.Time // zero for any
}

// List returns one page of plans and the total matching the query.
//
// Only the filters given are in the SQL (a generic "$2 = ” OR status = $2"
// keeps PostgreSQL from using the right index), and the page is chosen by
// plan id in a subquery the indexes answer alone, so a deep OFFSET skips
// index entries, not whole rows.
func (p *Plans) List(ctx context.Context, q ListQuery, publicURL string) ([]Detail, int64, error) {
	conds := []string{"account_id = $1"}
	args := []any{q.AccountID}
	if q.Status != "" {
		args = append(args, q.Status)
		conds = append(conds, fmt.Sprintf("status = $%d", len(args)))
	}
	if !q.UpdatedAfter.IsZero() {
		args = append(args, q.UpdatedAfter)
		conds = append(conds, fmt.Sprintf("updated_at > $%d", len(args)))
	}
	where := strings.Join(conds, " AND ")
	var total int64
	if err := p.Store.Pool().QueryRow(ctx, `SELECT count(*) FROM `+p.table+` WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count plans: %w", err)
	}
	items := []Detail{}
	if total == 0 || int64(q.Offset) >= total {
		return items, total, nil
	}
	n := len(args)
	rows, err := p.Store.Pool().Query(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s v WHERE plan_id IN (
			SELECT plan_id FROM %s WHERE %s ORDER BY created_at DESC, plan_id DESC LIMIT $%d OFFSET $%d)
		ORDER BY created_at DESC, plan_id DESC`, planColumns, deadLetteredColumn, p.table, p.table, where, n+1, n+2),
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list plans: %w", err)
	}
	defer rows.Close()
	var deadLettered []int // indexes in items
	for rows.Next() {
		var r planRow
		var flagged bool
		if err := r.scanFlagged(rows, &flagged); err != nil {
			return nil, 0, fmt.Errorf("list plans: %w", err)
		}
		d, err := r.detail(publicURL)
		if err != nil {
			return nil, 0, err
		}
		if flagged {
			deadLettered = append(deadLettered, len(items))
		}
		items = append(items, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list plans: %w", err)
	}
	rows.Close()
	for _, i := range deadLettered {
		if d, err := p.folded(ctx, q.AccountID, items[i].PlanID, publicURL); err == nil {
			items[i] = d // else the row as it is: the list still answers
		}
	}
	return items, total, nil
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
