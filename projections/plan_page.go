package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// GET /api/v1/plans: one account's plans, newest first (created_at, then
// plan id, both descending), paged by offset or by keyset (Stripe's
// starting_after / ending_before, a plan id), filtered by status,
// updated_after and a search (email, customer name prefix, invoice
// number). Every page is served by an index of migrations 002, 004, 016 and
// 021; total_items comes from plan_counts (see plan_counts.go) unless a
// filter other than status is given, which counts its matches.

// ListQuery selects plans of one account, newest first. At most one of
// StartingAfter and EndingBefore is set, and Offset is 0 when one is.
type ListQuery struct {
	AccountID    int64
	Limit        int
	Offset       int
	Status       string    // "" for any
	UpdatedAfter time.Time // zero for any
	// StartingAfter pages towards older plans: those after plan
	// StartingAfter in the list. EndingBefore pages towards newer ones:
	// those before it. 0 for none.
	StartingAfter, EndingBefore int64
	// Email is the customer's email and InvoiceNumber the invoice number,
	// each matched whole; CustomerName is a prefix of the customer's name.
	// In any letter case; "" for any.
	Email, CustomerName, InvoiceNumber string
}

// ListPage is one page of GET /api/v1/plans.
type ListPage struct {
	Items []Detail // newest first
	// Total is how many plans match the query's filters (cursor and offset
	// aside).
	Total int64
	// HasMore says whether there are more plans past this page in the
	// direction it was paged: older ones after it (offset, starting_after,
	// or neither), newer ones before it (ending_before).
	HasMore bool
}

// CursorError is a starting_after or ending_before naming no plan of the
// account (unknown, or another account's).
type CursorError struct {
	Param  string // "starting_after" or "ending_before"
	PlanID int64
}

func (e *CursorError) Error() string {
	return e.Param + ": no such plan: " + strconv.FormatInt(e.PlanID, 10)
}

// Page returns the page of plans q selects (PageJSON's items decoded).
func (p *Plans) Page(ctx context.Context, q ListQuery, publicURL string) (ListPage, error) {
	raw, err := p.PageJSON(ctx, q, publicURL)
	if err != nil {
		return ListPage{}, err
	}
	page := ListPage{Items: make([]Detail, len(raw.Items)), Total: raw.Total, HasMore: raw.HasMore}
	for i, b := range raw.Items {
		if err := json.Unmarshal(b, &page.Items[i]); err != nil {
			return ListPage{}, fmt.Errorf("list plans: %w", err)
		}
	}
	return page, nil
}

// ListPageJSON is one page of GET /api/v1/plans with each item as the JSON
// the API answers (json.Marshal of its Detail, byte for byte).
type ListPageJSON struct {
	Items   []json.RawMessage // newest first
	Total   int64             // as ListPage.Total
	HasMore bool              // as ListPage.HasMore
}

// PageJSON returns the page of plans q selects, each item as JSON: the
// row's list_item (see list_item.go) with its start written from the
// row's columns, so no jsonb column is read or decoded. A row without a
// list_item (written before migration 024) is rendered from its columns,
// and a plan with an unresolved dead letter is folded from the store (see
// folded), as GET /api/v1/plans/{id} does.
func (p *Plans) PageJSON(ctx context.Context, q ListQuery, publicURL string) (ListPageJSON, error) {
	where, args := q.filter()
	counted := q.unfiltered()
	batch := &pgx.Batch{}
	var total, deltaRows int64
	if counted {
		sql := `SELECT coalesce(sum(n), 0), count(*) FROM ` + countsTable + ` WHERE account_id = $1`
		cargs := []any{q.AccountID}
		if q.Status != "" {
			sql += ` AND status = $2`
			cargs = append(cargs, q.Status)
		}
		batch.Queue(sql, cargs...).QueryRow(func(row pgx.Row) error { return row.Scan(&total, &deltaRows) })
	} else {
		batch.Queue(`SELECT count(*), 0 FROM `+p.table+` WHERE `+where, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&total, &deltaRows)
		})
	}
	var rows []itemRow
	sql, pargs := p.pageSQL(q, where, args)
	batch.Queue(sql, pargs...).Query(func(rs pgx.Rows) error {
		for rs.Next() {
			var r itemRow
			if err := rs.Scan(&r.planID, &r.status, &r.portalToken, &r.tail, &r.flagged); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err := p.Store.Pool().SendBatch(ctx, batch).Close(); err != nil {
		return ListPageJSON{}, fmt.Errorf("list plans: %w", err)
	}
	if deltaRows > compactAbove {
		if err := p.CompactCounts(ctx, q.AccountID); err != nil {
			return ListPageJSON{}, err
		}
	}
	if len(rows) == 0 {
		if err := p.checkCursor(ctx, q); err != nil {
			return ListPageJSON{}, err
		}
	}
	page := ListPageJSON{Items: make([]json.RawMessage, 0, min(len(rows), q.Limit)), Total: total,
		HasMore: len(rows) > q.Limit}
	if page.HasMore {
		rows = rows[:q.Limit]
	}
	if q.EndingBefore > 0 {
		slices.Reverse(rows)
	}
	var fromColumns []int64 // rows without a list_item, and flagged ones
	for _, r := range rows {
		if r.tail == nil || r.flagged {
			fromColumns = append(fromColumns, r.planID)
		}
	}
	details, err := p.details(ctx, q.AccountID, fromColumns, publicURL)
	if err != nil {
		return ListPageJSON{}, err
	}
	// One buffer for the page's items: each item is a slice of it.
	size := 0
	for _, r := range rows {
		size += len(r.tail) + len(r.status) + len(r.portalToken) + len(publicURL) + 80
	}
	buf := make([]byte, 0, size)
	for _, r := range rows {
		if r.tail != nil && !r.flagged {
			start := len(buf)
			buf = appendListItem(buf, r.planID, r.status, r.portalToken, publicURL, r.tail)
			page.Items = append(page.Items, buf[start:len(buf):len(buf)])
			continue
		}
		d, ok := details[r.planID]
		if r.flagged {
			if f, err := p.folded(ctx, q.AccountID, r.planID, publicURL); err == nil {
				d, ok = f, true // else the row as it is: the list still answers
			}
		}
		if !ok {
			continue // gone since the page was read
		}
		item, err := marshalItem(d)
		if err != nil {
			return ListPageJSON{}, err
		}
		page.Items = append(page.Items, item)
	}
	return page, nil
}

// itemRow is a row of a page: what its list item is written from.
type itemRow struct {
	planID              int64
	status, portalToken string
	tail                []byte // list_item; nil for a row written before migration 024
	flagged             bool   // its stream has an unresolved dead letter (deadLetteredColumn)
}

// details returns the plans ids of account rendered from their rows' columns.
func (p *Plans) details(ctx context.Context, accountID int64, ids []int64, publicURL string) (map[int64]Detail, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := p.Store.Pool().Query(ctx, `SELECT `+detailColumns+` FROM `+p.table+` v
		WHERE v.plan_id = ANY($1) AND v.account_id = $2`, ids, accountID)
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]Detail, len(ids))
	for rows.Next() {
		var r planRow
		if err := rows.Scan(r.detailDest()...); err != nil {
			return nil, fmt.Errorf("list plans: %w", err)
		}
		d, err := r.detail(publicURL)
		if err != nil {
			return nil, err
		}
		out[r.PlanID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return out, nil
}

// List returns one page of plans and the total matching the query (see
// Page).
func (p *Plans) List(ctx context.Context, q ListQuery, publicURL string) ([]Detail, int64, error) {
	page, err := p.Page(ctx, q, publicURL)
	return page.Items, page.Total, err
}

// filter is q's filters (account, status, updated_after, search; not the
// cursor) as a condition on plan_views' columns, with its arguments from
// $1. Only the filters given are in the SQL, so each query gets the index
// it needs.
func (q ListQuery) filter() (string, []any) {
	conds := []string{"account_id = $1"}
	args := []any{q.AccountID}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if q.Status != "" {
		add("status = $?", q.Status)
	}
	if !q.UpdatedAfter.IsZero() {
		add("updated_at > $?", q.UpdatedAfter)
	}
	if q.Email != "" {
		add("lower(customer->>'email') = $?", strings.ToLower(q.Email))
	}
	if q.InvoiceNumber != "" {
		add("lower(invoice->>'invoice_number') = $?", strings.ToLower(q.InvoiceNumber))
	}
	if q.CustomerName != "" {
		// A range of the text_pattern_ops index (byte order), written
		// out rather than as LIKE 'prefix%' so that a cached generic plan
		// of the statement still has it as its index condition.
		lo := strings.ToLower(q.CustomerName)
		add("lower(customer->>'name') ~>=~ $?", lo)
		if hi, ok := prefixEnd(lo); ok {
			add("lower(customer->>'name') ~<~ $?", hi)
		}
	}
	return strings.Join(conds, " AND "), args
}

// unfiltered reports whether q has no filter but its account and status:
// its total is read from plan_counts, and its page has one plan whatever
// the values (see pageSQL).
func (q ListQuery) unfiltered() bool {
	return q.UpdatedAfter.IsZero() && q.Email == "" && q.CustomerName == "" && q.InvoiceNumber == ""
}

// prefixEnd is the least string above every string that starts with
// prefix, in byte order (UTF-8 byte order is code point order): prefix with
// its last code point incremented. False when there is none (every code
// point is the largest).
func prefixEnd(prefix string) (string, bool) {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r == 0xD800 { // surrogates are not text
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			rs[i] = r
			return string(rs[:i+1]), true
		}
	}
	return "", false
}

// pageSQL is the page query of q: one row more than the page, to tell
// has_more. The page's plan ids are chosen in a subquery that the indexes
// answer (an index-only scan for the plain list), then their rows are
// read; a cursor's position is read by the same statement, so a page is
// one round trip (an empty page checks its cursor afterwards).
func (p *Plans) pageSQL(q ListQuery, where string, args []any) (string, []any) {
	order := "DESC"
	pargs := slices.Clone(args)
	cursorAt := func(id int64, op string) {
		pargs = append(pargs, id)
		c := "$" + strconv.Itoa(len(pargs))
		where += ` AND (created_at, plan_id) ` + op + ` ((SELECT created_at FROM ` + p.table +
			` WHERE plan_id = ` + c + ` AND account_id = $1), ` + c + `)`
	}
	switch {
	case q.StartingAfter > 0:
		cursorAt(q.StartingAfter, "<")
	case q.EndingBefore > 0:
		cursorAt(q.EndingBefore, ">")
		order = "ASC"
	}
	// For the plain list and a status (the pages the indexes answer
	// whatever the values), the limit is in the SQL, not a parameter, and
	// OFFSET only when there is one: PostgreSQL then finds its generic
	// plan of the prepared statement as cheap as a custom one and keeps it
	// after five runs. With a parameter it planned every page anew, which
	// cost three times the page's execution (0.6 ms of planning, 0.2 ms
	// running, in EXPLAIN ANALYZE at 200,000 plans). The limit has at
	// most maxPageSize values. A search or updated_after keeps its limit a
	// parameter, so each is planned with its values (a generic plan of
	// updated_after would walk the account's plans by created_at), and
	// offsets (0-10,000) stay parameters.
	var limit string
	if q.unfiltered() {
		limit = ` LIMIT ` + strconv.Itoa(q.Limit+1)
		if q.Offset > 0 {
			pargs = append(pargs, q.Offset)
			limit += ` OFFSET $` + strconv.Itoa(len(pargs))
		}
	} else {
		pargs = append(pargs, q.Limit+1, q.Offset)
		limit = fmt.Sprintf(` LIMIT $%d OFFSET $%d`, len(pargs)-1, len(pargs))
	}
	return fmt.Sprintf(`SELECT %s, %s FROM %s v WHERE v.plan_id IN (
			SELECT plan_id FROM %s WHERE %s ORDER BY created_at %s, plan_id %s%s)
		ORDER BY v.created_at %s, v.plan_id %s`, itemColumns, deadLetteredColumn, p.table, p.table, where,
		order, order, limit, order, order), pargs
}

// checkCursor returns a *CursorError when q's cursor names no plan of its
// account.
func (p *Plans) checkCursor(ctx context.Context, q ListQuery) error {
	param, id := "starting_after", q.StartingAfter
	if q.EndingBefore > 0 {
		param, id = "ending_before", q.EndingBefore
	}
	if id == 0 {
		return nil
	}
	var one int
	err := p.Store.Pool().QueryRow(ctx, `SELECT 1 FROM `+p.table+` WHERE plan_id = $1 AND account_id = $2`,
		id, q.AccountID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return &CursorError{Param: param, PlanID: id}
	}
	if err != nil {
		return fmt.Errorf("list plans cursor: %w", err)
	}
	return nil
}

// itemColumns are the plan_views columns a page's item is written from
// (see itemRow; deadLetteredColumn follows them).
const itemColumns = `v.plan_id, v.status, v.portal_token, v.list_item`

// detailColumns are the plan_views columns a Detail is rendered from (see
// planRow.detail), in detailDest order: a page reads no other column.
const detailColumns = `v.plan_id, v.version, v.status, v.portal_token, v.customer, v.invoice, v.plan_options,
	v.selected_option_id, v.send_introduction_email, v.introduction_email, v.lifecycle,
	v.created_at, v.updated_at`

func (r *planRow) detailDest() []any {
	return []any{&r.PlanID, &r.Version, &r.Status, &r.PortalToken, &r.Customer, &r.Invoice, &r.Options,
		&r.SelectedOptionID, &r.SendIntro, &r.IntroEmail, &r.Lifecycle, &r.CreatedAt, &r.UpdatedAt}
}
