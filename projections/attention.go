package projections

import (
	"context"
	"fmt"
	"time"
)

// The kinds of Needs attention rows (the dashboard's data-attention marks).
const (
	AttentionPaymentReported    = "payment-reported"
	AttentionProposalPending    = "proposal-pending"
	AttentionInstallmentOverdue = "installment-overdue"
	AttentionCheckinUnanswered  = "checkin-unanswered"
	AttentionWebhookFailing     = "webhook-failing"
)

// AttentionKinds lists the plan kinds of Needs attention, in page order
// (failing webhook endpoints, which are not plans, come after them).
var AttentionKinds = []string{AttentionPaymentReported, AttentionProposalPending, AttentionInstallmentOverdue,
	AttentionCheckinUnanswered}

// attentionKind is how one kind is found: its column (migration 015) and
// the amount a row shows.
type attentionKind struct {
	column, amount string
	overdue        bool // the column is a due date (midnight UTC as Since), overdue before today
}

var attentionKindOf = map[string]attentionKind{
	AttentionPaymentReported:    {column: "reported_since", amount: "amount_reported"},
	AttentionProposalPending:    {column: "proposal_since", amount: "amount_outstanding"},
	AttentionInstallmentOverdue: {column: "open_due_on", amount: "amount_outstanding", overdue: true},
	AttentionCheckinUnanswered:  {column: "checkin_since", amount: "amount_outstanding"},
}

// AttentionItem is one plan that needs the merchant: Since is when it
// began to (for an overdue installment, its due date).
type AttentionItem struct {
	PlanID        int64
	CustomerName  string
	CustomerEmail string
	InvoiceNumber string
	Currency      string
	Amount        string // exact, as PostgreSQL's numeric prints it
	Since         time.Time
}

// AttentionList is the first rows of one kind, oldest first, and how many
// plans of the account are in that state, counted up to AttentionCountCap
// (Total == AttentionCountCap means at least that many).
type AttentionList struct {
	Kind  string
	Items []AttentionItem
	Total int64
}

// AttentionCountCap bounds each Needs attention count, so the page's cost
// does not grow with the account: the plans list, filtered, counts them
// all.
const AttentionCountCap = 1000

// since is the column as a timestamptz (a date's midnight UTC, whatever
// the session's time zone).
func (k attentionKind) since() string {
	if k.overdue {
		return "(" + k.column + "::timestamp AT TIME ZONE 'UTC')"
	}
	return k.column
}

// where is the condition of kind k on account $1 (and today $2
// for an overdue installment): the partial index of the kind answers it.
func (k attentionKind) where() string {
	w := "account_id = $1 AND " + k.column + " IS NOT NULL"
	if k.overdue {
		w += " AND " + k.column + " < $2::date"
	}
	return w
}

// Attention returns, for each kind of AttentionKinds, the account's
// oldest limit plans in that state and their count (up to
// AttentionCountCap), as of today (UTC): one round trip, each list and
// count a bounded index scan of the kind's partial index.
func (p *Plans) Attention(ctx context.Context, accountID int64, today time.Time, limit int) ([]AttentionList, error) {
	day := today.UTC().Format(time.DateOnly)
	var sql string
	for i, name := range AttentionKinds {
		k := attentionKindOf[name]
		if i > 0 {
			sql += " UNION ALL "
		}
		sql += fmt.Sprintf(`(SELECT %d, plan_id, coalesce(customer->>'name', ''), coalesce(customer->>'email', ''),
			coalesce(invoice->>'invoice_number', ''), currency, %s::text, %s, 0::bigint
			FROM %s WHERE %s ORDER BY %s, plan_id LIMIT $3)
			UNION ALL (SELECT %d, 0, '', '', '', '', '', NULL, count(*) FROM (SELECT FROM %s WHERE %s LIMIT $4) c)`,
			i, k.amount, k.since(), p.table, k.where(), k.column, i, p.table, k.where())
	}
	rows, err := p.Store.Pool().Query(ctx, sql, accountID, day, limit, AttentionCountCap)
	if err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	defer rows.Close()
	out := make([]AttentionList, len(AttentionKinds))
	for i, name := range AttentionKinds {
		out[i] = AttentionList{Kind: name, Items: []AttentionItem{}}
	}
	for rows.Next() {
		var i int
		var it AttentionItem
		var since *time.Time
		var total int64
		if err := rows.Scan(&i, &it.PlanID, &it.CustomerName, &it.CustomerEmail, &it.InvoiceNumber, &it.Currency,
			&it.Amount, &since, &total); err != nil {
			return nil, fmt.Errorf("attention: %w", err)
		}
		if since == nil { // the count's row
			out[i].Total = total
			continue
		}
		it.Since = since.UTC()
		out[i].Items = append(out[i].Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attention: %w", err)
	}
	return out, nil
}

// FailingEndpoint is a webhook endpoint whose deliveries fail: Failures
// is how many of its deliveries failed or are being retried since the
// window began, LastFailure the latest of them.
type FailingEndpoint struct {
	EndpointID  int64
	URL         string
	Disabled    bool
	Failures    int64
	LastFailure time.Time
	// LastPlanID is the payment plan whose event the latest failed
	// delivery carried; 0 when that event was no plan's.
	LastPlanID int64
}

// FailingEndpointCap bounds the deliveries counted per endpoint: the page
// says "1000 or more" beyond it.
const FailingEndpointCap = 1000

// FailingEndpoints returns the account's endpoints (not deleted, not
// paused: pausing fails the pending deliveries on purpose) with a
// delivery that failed or is being retried, updated at or after since,
// oldest endpoint first, at most limit, and how many there are. Each
// endpoint's failures are an index scan of webhook_deliveries_failing_idx.
func (p *Plans) FailingEndpoints(ctx context.Context, accountID int64, since time.Time, limit int) ([]FailingEndpoint, int64, error) {
	// The plan of the latest failed delivery, when its event is a payment
	// plan's (a catalog event has none): one click from the row to it.
	rows, err := p.Store.Pool().Query(ctx, `SELECT e.id, e.url, e.disabled_at IS NOT NULL, f.n, f.last, count(*) OVER (),
			(SELECT CASE WHEN ev.stream_id LIKE 'plan-%' AND substr(ev.stream_id, 6) ~ '^[0-9]{1,18}$'
				THEN substr(ev.stream_id, 6)::bigint END
			 FROM events ev WHERE ev.event_id = f.last_event)
		FROM webhook_endpoints e
		CROSS JOIN LATERAL (SELECT count(*) AS n, max(updated_at) AS last,
				(array_agg(event_id ORDER BY updated_at DESC, id DESC))[1] AS last_event FROM (
			SELECT updated_at, id, event_id FROM webhook_deliveries d
			WHERE d.endpoint_id = e.id AND (d.state = 'failed' OR (d.state = 'pending' AND d.attempts > 0))
			  AND d.updated_at >= $2
			ORDER BY d.updated_at DESC LIMIT $4) x) f
		WHERE e.account_id = $1 AND e.deleted_at IS NULL AND e.paused_at IS NULL AND f.n > 0
		ORDER BY e.id LIMIT $3`, accountID, since, limit, FailingEndpointCap)
	if err != nil {
		return nil, 0, fmt.Errorf("failing endpoints: %w", err)
	}
	defer rows.Close()
	out := []FailingEndpoint{}
	var total int64
	for rows.Next() {
		var e FailingEndpoint
		var planID *int64
		if err := rows.Scan(&e.EndpointID, &e.URL, &e.Disabled, &e.Failures, &e.LastFailure, &total, &planID); err != nil {
			return nil, 0, fmt.Errorf("failing endpoints: %w", err)
		}
		e.LastFailure = e.LastFailure.UTC()
		if planID != nil {
			e.LastPlanID = *planID
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}
