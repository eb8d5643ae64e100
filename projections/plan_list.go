package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"goodplan/domain"
)

// The dashboard's plan list and its CSV exports: one account's plans,
// newest first by plan id, filtered by status and a search, paged by
// keyset (a plan id), never by OFFSET. Every query is answered by the
// indexes of migration 016 (see there).

// PlanListQuery selects plans of one account for the dashboard.
type PlanListQuery struct {
	AccountID int64
	Status    string // "" for any
	// Search is a customer's email (it has an @), matched whole, or else
	// an invoice number, matched whole, or a part of the customer's name;
	// in any letter case. "" for any plan.
	Search string
	// Attention is a kind of AttentionKinds: only the plans that Needs
	// attention lists under it (the rest of its list, past the page's
	// first rows); "" for any plan. Today is the day an overdue
	// installment is counted from (AttentionInstallmentOverdue).
	Attention string
	Today     time.Time
	// After pages towards older plans (ids below it), Before towards
	// newer ones (ids above it); 0 for none. At most one is set.
	After, Before int64
	Limit         int
}

// IsAttentionKind reports whether kind is one of AttentionKinds.
func IsAttentionKind(kind string) bool {
	_, ok := attentionKindOf[kind]
	return ok
}

// PlanListRow is one plan as the dashboard lists and exports it. Amount
// and Outstanding are exact decimal text in the currency's minor units
// ("1200.00").
type PlanListRow struct {
	PlanID                      int64
	CustomerName, CustomerEmail string
	InvoiceNumber               string
	Currency                    string
	Amount, Outstanding         string
	Status                      string
	CreatedAt                   time.Time
}

// PlanListPage is one page of the list, newest first, and whether there
// are older plans after it and newer ones before it.
type PlanListPage struct {
	Rows         []PlanListRow
	Older, Newer bool
}

// listColumns are what a PlanListRow is scanned from (v is plan_views).
const listColumns = `v.plan_id, coalesce(v.customer->>'name', ''), coalesce(v.customer->>'email', ''),
	coalesce(v.invoice->>'invoice_number', ''), v.currency, v.amount_total::text, v.amount_outstanding::text,
	v.status, v.created_at`

func (r *PlanListRow) dest() []any {
	return []any{&r.PlanID, &r.CustomerName, &r.CustomerEmail, &r.InvoiceNumber, &r.Currency, &r.Amount,
		&r.Outstanding, &r.Status, &r.CreatedAt}
}

// where is q's filter (account, status, attention kind, search) with its
// arguments from $1. Only the filters given are in the SQL, so each query
// has the index it needs.
func (q PlanListQuery) where() (string, []any) {
	conds := []string{"v.account_id = $1"}
	args := []any{q.AccountID}
	if q.Status != "" {
		args = append(args, q.Status)
		conds = append(conds, fmt.Sprintf("v.status = $%d", len(args)))
	}
	if k, ok := attentionKindOf[q.Attention]; ok {
		// The condition of the kind's partial index (migration 015), as
		// Attention lists it.
		conds = append(conds, "v."+k.column+" IS NOT NULL")
		if k.overdue {
			args = append(args, q.Today.UTC().Format(time.DateOnly))
			conds = append(conds, fmt.Sprintf("v.%s < $%d::date", k.column, len(args)))
		}
	}
	switch s := strings.ToLower(strings.TrimSpace(q.Search)); {
	case s == "":
	case strings.Contains(s, "@"): // an email: no name or invoice number has one
		args = append(args, s)
		conds = append(conds, fmt.Sprintf(`lower(v.customer->>'email') = $%d`, len(args)))
	default:
		args = append(args, s, "%"+likeEscaper.Replace(s)+"%")
		n := len(args)
		conds = append(conds, fmt.Sprintf(`(lower(v.invoice->>'invoice_number') = $%d OR lower(v.customer->>'name') LIKE $%d)`, n-1, n))
	}
	return strings.Join(conds, " AND "), args
}

// likeEscaper escapes LIKE's wildcards (and its escape character) in a
// search, which matches as typed.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListPage returns the page of plans q selects (q.Limit of them at most).
func (p *Plans) ListPage(ctx context.Context, q PlanListQuery) (PlanListPage, error) {
	sql, args := p.listPageSQL(q)
	rows, err := p.listRows(ctx, sql, args)
	if err != nil {
		return PlanListPage{}, err
	}
	more := len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	page := PlanListPage{Rows: rows}
	if q.Before > 0 {
		slices.Reverse(page.Rows)
		page.Newer, page.Older = more, true
	} else {
		page.Older, page.Newer = more, q.After > 0
	}
	return page, nil
}

// listPageSQL is ListPage's query: one row more than the page, to tell
// whether there is a page after it.
func (p *Plans) listPageSQL(q PlanListQuery) (string, []any) {
	where, args := q.where()
	order := "DESC"
	if q.Before > 0 {
		args = append(args, q.Before)
		where += fmt.Sprintf(" AND v.plan_id > $%d", len(args))
		order = "ASC"
	} else if q.After > 0 {
		args = append(args, q.After)
		where += fmt.Sprintf(" AND v.plan_id < $%d", len(args))
	}
	args = append(args, q.Limit+1)
	return fmt.Sprintf(`SELECT %s FROM %s v WHERE %s ORDER BY v.plan_id %s LIMIT $%d`,
		listColumns, p.table, where, order, len(args)), args
}

func (p *Plans) listRows(ctx context.Context, sql string, args []any) ([]PlanListRow, error) {
	rows, err := p.Store.Pool().Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("plan list: %w", err)
	}
	defer rows.Close()
	out := []PlanListRow{}
	for rows.Next() {
		var r PlanListRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("plan list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan list: %w", err)
	}
	return out, nil
}

// exportBatch is how many plans an export reads per query.
const exportBatch = 500

// EachListed calls fn with every plan q selects (its After, Before and
// Limit ignored), newest first. The plans are read in batches of
// exportBatch, each a short query of its own from where the last ended
// (keyset), so a slow reader holds neither a transaction open (which
// would hold back the relay's xmin horizon) nor more than one batch in
// memory. An error from fn stops it and is returned.
func (p *Plans) EachListed(ctx context.Context, q PlanListQuery, fn func(PlanListRow) error) error {
	return p.eachBatch(ctx, q, listColumns, func(rows []PlanListRow, _ [][]byte) error {
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// PaymentListRow is one payment of a listed plan, as exported.
type PaymentListRow struct {
	Plan    PlanListRow
	Payment domain.Payment
}

// EachPayment calls fn with every payment of every plan q selects (see
// EachListed), newest plan first and each plan's payments in the order
// they were made.
func (p *Plans) EachPayment(ctx context.Context, q PlanListQuery, fn func(PaymentListRow) error) error {
	return p.eachBatch(ctx, q, listColumns+`, v.lifecycle->'payments'`, func(rows []PlanListRow, extra [][]byte) error {
		for i, r := range rows {
			var payments []domain.Payment
			if len(extra[i]) > 0 {
				if err := json.Unmarshal(extra[i], &payments); err != nil {
					return fmt.Errorf("plan %d payments: %w", r.PlanID, err)
				}
			}
			for _, pay := range payments {
				if err := fn(PaymentListRow{Plan: r, Payment: pay}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// eachBatch reads the plans q selects in keyset batches of exportBatch
// with columns (listColumns, then at most one more column, handed to fn
// as JSON bytes in extra: nil when columns is listColumns).
func (p *Plans) eachBatch(ctx context.Context, q PlanListQuery, columns string,
	fn func(rows []PlanListRow, extra [][]byte) error) error {
	where, args := q.where()
	cursor := len(args) + 1
	sql := fmt.Sprintf(`SELECT %s FROM %s v WHERE %s AND v.plan_id < $%d ORDER BY v.plan_id DESC LIMIT %d`,
		columns, p.table, where, cursor, exportBatch)
	withExtra := columns != listColumns
	last := int64(1<<63 - 1)
	for {
		rows, err := p.Store.Pool().Query(ctx, sql, append(args, last)...)
		if err != nil {
			return fmt.Errorf("plan export: %w", err)
		}
		var batch []PlanListRow
		var extra [][]byte
		for rows.Next() {
			var r PlanListRow
			dest := r.dest()
			var x []byte
			if withExtra {
				dest = append(dest, &x)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("plan export: %w", err)
			}
			batch, extra = append(batch, r), append(extra, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("plan export: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch, extra); err != nil {
			return err
		}
		if len(batch) < exportBatch {
			return nil
		}
		last = batch[len(batch)-1].PlanID
	}
}
