package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"goodplan/domain"
	"goodplan/eventstore"
)

// Plans is the plan read model (table plan_views): one row per plan, the
// plan folded up to the row's version.
type Plans struct {
	Store  *eventstore.Store
	table  string // plan_views, or the rebuild table during replay
	counts countsCompactor
}

// NewPlans returns the live plan read model.
func NewPlans(store *eventstore.Store) *Plans { return &Plans{Store: store, table: "plan_views"} }

// Apply brings the plan of rec up to date. It is idempotent and correct under
// redelivery and reordering: a row already at or past rec.Version is left
// alone; otherwise the plan is read as it is now from the store (its
// snapshot and the events after it, so a gap left by a late or lost message
// is filled and the cost does not grow with the plan's age) and written
// with a version guard, so a slower concurrent writer can never move the
// row backwards.
func (p *Plans) Apply(ctx context.Context, rec eventstore.Record) error {
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		return nil
	}
	if rec.Version > 1 {
		var version int64
		err := p.Store.Pool().QueryRow(ctx, `SELECT version FROM `+p.table+` WHERE plan_id = $1`, id).Scan(&version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("project plan %d: %w", id, err)
		}
		if version >= rec.Version {
			return nil
		}
	}
	plan, options, err := p.planFor(ctx, id, rec)
	if err != nil {
		return err
	}
	if err := p.write(ctx, plan, options); err != nil {
		return err
	}
	p.counts.wrote(ctx, p, plan.AccountID())
	return nil
}

// planFor is the plan as of rec or later, for its row: a first event is
// the whole plan, folded from the message with no reads (the hot path
// while plans are created), with its options as stored (see foldEvent);
// for any later one the plan is read as it is now from the store (see
// eventstore.Events.CurrentPlan), which fills any gap left by a late or
// lost message, and its options are nil (rowOf encodes them).
func (p *Plans) planFor(ctx context.Context, id int64, rec eventstore.Record) (*domain.Plan, json.RawMessage, error) {
	if rec.Version > 1 {
		// Its errors name the stream (and the version that did not fold).
		plan, _, err := p.Store.CurrentPlan(ctx, id)
		return plan, nil, err
	}
	plan := &domain.Plan{}
	options, err := foldEvent(plan, rec.Type, rec.Data, rec.RecordedAt)
	if err != nil {
		return nil, nil, fmt.Errorf("project plan %d version %d: %w", id, rec.Version, err)
	}
	if !plan.Exists() || plan.ID() != id {
		return nil, nil, fmt.Errorf("project plan %d: %w", id, eventstore.ErrNotFound)
	}
	return plan, options, nil
}

// createdHead is plan.created with its options left as the stored JSON:
// the outer plan_options field takes them, the embedded one stays nil.
type createdHead struct {
	domain.PlanCreated
	Options json.RawMessage `json:"plan_options"`
}

// foldEvent applies one stored event to plan for its read-model row. A
// plan.created is folded without decoding its options (the bulk of every
// plan, and nothing after plan.created changes them): they are returned
// as stored, to be written to the row as they are. JSON that encoding/json
// wrote for the same structs reads back the same, so the row equals one
// built from a full fold (replay compares them).
func foldEvent(plan *domain.Plan, typ string, data []byte, at time.Time) (json.RawMessage, error) {
	if typ == domain.EventPlanCreated {
		head, ok := decodeCreatedHead(data)
		if ok {
			return head.Options, plan.ApplyStored(head.PlanCreated, at)
		}
		head = createdHead{}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("unmarshal %s: %w", typ, err)
		}
		return head.Options, plan.ApplyStored(head.PlanCreated, at)
	}
	e, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		return nil, err
	}
	return nil, plan.ApplyStored(e, at)
}

func (p *Plans) write(ctx context.Context, plan *domain.Plan, options json.RawMessage) error {
	row, err := rowOf(plan, options)
	if err != nil {
		return err
	}
	stripe, done := p.stripeArgs()
	defer done()
	_, err = p.Store.Pool().Exec(ctx, upsertSQL(p.table), append(row.args(), stripe...)...)
	if err != nil {
		return fmt.Errorf("write plan view %d: %w", plan.ID(), err)
	}
	return nil
}

// upsertSQL writes a plan row unless the table already has it at the same
// or a later version, and its weekly amounts (see weeksUpsertSQL).
func upsertSQL(table string) string {
	return weeksUpsertSQL(table, `INSERT INTO `+table+` AS v (`+planColumns+`)
		VALUES (`+placeholders+`)
		ON CONFLICT (plan_id) DO UPDATE SET
			account_id = EXCLUDED.account_id, version = EXCLUDED.version, status = EXCLUDED.status,
			portal_token = EXCLUDED.portal_token, customer = EXCLUDED.customer, invoice = EXCLUDED.invoice,
			plan_options = EXCLUDED.plan_options, selected_option_id = EXCLUDED.selected_option_id,
			send_introduction_email = EXCLUDED.send_introduction_email,
			introduction_email = EXCLUDED.introduction_email, lifecycle = EXCLUDED.lifecycle,
			wake_at = EXCLUDED.wake_at, due_reminder_on = EXCLUDED.due_reminder_on,
			created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, currency = EXCLUDED.currency,
			amount_total = EXCLUDED.amount_total, amount_paid = EXCLUDED.amount_paid,
			amount_reported = EXCLUDED.amount_reported, amount_outstanding = EXCLUDED.amount_outstanding,
			completed_at = EXCLUDED.completed_at, extended = EXCLUDED.extended, proposed = EXCLUDED.proposed,
			reported_since = EXCLUDED.reported_since, proposal_since = EXCLUDED.proposal_since,
			open_due_on = EXCLUDED.open_due_on, checkin_since = EXCLUDED.checkin_since,
			due_on = EXCLUDED.due_on,
			due_amount = EXCLUDED.due_amount, paid_on = EXCLUDED.paid_on, paid_amount = EXCLUDED.paid_amount,
			cash_from = EXCLUDED.cash_from, cash_to = EXCLUDED.cash_to, list_item = EXCLUDED.list_item
		WHERE v.version < EXCLUDED.version`)
}

// columnList names the columns of a plan_views row, in planRow.args order.
var columnList = []string{"plan_id", "account_id", "version", "status", "portal_token", "customer", "invoice",
	"plan_options", "selected_option_id", "send_introduction_email", "introduction_email", "lifecycle",
	"wake_at", "due_reminder_on", "created_at", "updated_at",
	// The report columns (migration 012, see reportColumns).
	"currency", "amount_total", "amount_paid", "amount_reported", "amount_outstanding", "completed_at", "extended", "proposed",
	// The dashboard's columns (migration 015, see attentionColumns).
	"reported_since", "proposal_since", "open_due_on", "checkin_since",
	"due_on", "due_amount", "paid_on", "paid_amount", "cash_from", "cash_to",
	// The list item's JSON (migration 024, see listItemTail).
	"list_item"}

var (
	planColumns  = strings.Join(columnList, ", ")
	placeholders = func() string {
		ps := make([]string, len(columnList))
		for i := range ps {
			ps[i] = fmt.Sprintf("$%d", i+1)
		}
		return strings.Join(ps, ", ")
	}()
)

// ApplyBatch applies recs (in stream order) in one implicit transaction:
// one round trip and one commit for the whole batch. First events are
// folded from the message; later ones catch their plan up from the store,
// as Apply does. Each plan is written once (its latest row), and the rows
// are written in plan id order: concurrent batches that share plans lock
// them in the same order and so never deadlock each other (issue 14).
func (p *Plans) ApplyBatch(ctx context.Context, recs []eventstore.Record) error {
	rows := map[int64]planRow{}
	loaded := map[int64]bool{} // a loaded plan has every event of its stream
	var accounts []int64
	for _, rec := range recs {
		id, ok := eventstore.PlanIDOf(rec.StreamID)
		if !ok || loaded[id] {
			continue
		}
		if old, ok := rows[id]; ok && old.Version >= rec.Version {
			continue
		}
		plan, options, err := p.planFor(ctx, id, rec)
		if err != nil {
			return err
		}
		loaded[id] = rec.Version > 1
		accounts = append(accounts, plan.AccountID())
		row, err := rowOf(plan, options)
		if err != nil {
			return err
		}
		rows[id] = row
	}
	if len(rows) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	sql := upsertSQL(p.table)
	// One stripe of the Overview's totals for the whole batch (see stripes).
	stripe, done := p.stripeArgs()
	defer done()
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		row := rows[id]
		batch.Queue(sql, append(row.args(), stripe...)...)
	}
	// pgx sends a batch as one pipeline ending in one Sync: PostgreSQL
	// runs it as one implicit transaction, all or nothing.
	if err := p.Store.Pool().SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("project batch: %w", err)
	}
	for _, a := range accounts {
		p.counts.wrote(ctx, p, a)
	}
	return nil
}

// planRow is a plan_views row as Go values (jsonb columns as JSON bytes).
type planRow struct {
	PlanID, AccountID, Version int64
	Status, PortalToken        string
	Customer, Invoice, Options []byte
	SelectedOptionID           *int64
	SendIntro                  bool
	IntroEmail                 []byte
	Lifecycle                  []byte
	WakeAt                     *time.Time
	DueReminderOn              *time.Time // a date; pgx reads date as midnight UTC
	CreatedAt, UpdatedAt       time.Time
	Report                     reportColumns
	Attention                  attentionColumns
	ListItem                   []byte
}

// reportColumns are what the plan group report reads of a plan (migration
// 012): the invoice's currency, the ledger, when it completed and whether
// a due date was ever moved or a schedule proposed.
type reportColumns struct {
	Currency                           string
	Total, Paid, Reported, Outstanding pgtype.Numeric
	CompletedAt                        *time.Time
	Extended, Proposed                 bool
}

// reportColumnsOf computes p's report columns.
func reportColumnsOf(p *domain.Plan) reportColumns {
	l := p.Ledger()
	r := reportColumns{Currency: p.Invoice().Currency, Total: numericOf(l.Total), Paid: numericOf(l.Paid),
		Reported: numericOf(l.Reported), Outstanding: numericOf(l.Outstanding), CompletedAt: timePtr(p.CompletedAt()),
		Extended: p.Extended(), Proposed: len(p.Proposals()) > 0}
	return r
}

// numericOf is m as a PostgreSQL numeric, exactly (minor units x 10^-scale).
func numericOf(m domain.Money) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(m.Minor()), Exp: -m.Scale(), Valid: true}
}

func (r *planRow) args() []any {
	a := &r.Attention
	return []any{r.PlanID, r.AccountID, r.Version, r.Status, r.PortalToken, r.Customer, r.Invoice, r.Options,
		r.SelectedOptionID, r.SendIntro, r.IntroEmail, r.Lifecycle, r.WakeAt, r.DueReminderOn,
		r.CreatedAt, r.UpdatedAt, r.Report.Currency, r.Report.Total, r.Report.Paid, r.Report.Reported,
		r.Report.Outstanding, r.Report.CompletedAt, r.Report.Extended, r.Report.Proposed,
		a.ReportedSince, a.ProposalSince, a.OpenDueOn, a.CheckinSince,
		a.DueOn, a.DueAmount, a.PaidOn, a.PaidAmount, a.CashFrom, a.CashTo, r.ListItem}
}

// scanFlagged scans a row and the deadLetteredColumn after it.
func (r *planRow) scanFlagged(row pgx.Row, deadLettered *bool) error {
	return row.Scan(append(r.dest(), deadLettered)...)
}

func (r *planRow) dest() []any {
	a := &r.Attention
	return []any{&r.PlanID, &r.AccountID, &r.Version, &r.Status, &r.PortalToken, &r.Customer, &r.Invoice, &r.Options,
		&r.SelectedOptionID, &r.SendIntro, &r.IntroEmail, &r.Lifecycle, &r.WakeAt, &r.DueReminderOn,
		&r.CreatedAt, &r.UpdatedAt, &r.Report.Currency, &r.Report.Total, &r.Report.Paid, &r.Report.Reported,
		&r.Report.Outstanding, &r.Report.CompletedAt, &r.Report.Extended, &r.Report.Proposed,
		&a.ReportedSince, &a.ProposalSince, &a.OpenDueOn, &a.CheckinSince,
		&a.DueOn, &a.DueAmount, &a.PaidOn, &a.PaidAmount, &a.CashFrom, &a.CashTo, &r.ListItem}
}

// rowOf is plan's row; options are the plan's options as stored in its
// plan.created (see foldEvent), or nil to encode them from the plan. The
// row holds nothing that grows with the plan's history: its size is
// bounded by the plan's caps (domain.MaxPayments and the others).
func rowOf(p *domain.Plan, options json.RawMessage) (planRow, error) {
	r := planRow{PlanID: p.ID(), AccountID: p.AccountID(), Version: p.Version(), Status: string(p.Status()),
		PortalToken: p.PortalToken(), SendIntro: p.SendIntroductionEmail(),
		CreatedAt: p.CreatedAt(), UpdatedAt: p.UpdatedAt()}
	if id := p.SelectedOptionID(); id != 0 {
		r.SelectedOptionID = &id
	}
	wakeAt, dueOn := p.Wake()
	r.WakeAt = timePtr(wakeAt)
	if !dueOn.IsZero() {
		t := dueOn.Time()
		r.DueReminderOn = &t
	}
	var err error
	marshal := func(v any) []byte {
		b, e := rowJSON(v)
		if e != nil && err == nil {
			err = e
		}
		return b
	}
	r.Customer, r.Invoice, r.Options = marshal(p.Customer()), marshal(p.Invoice()), []byte(options)
	if options == nil {
		r.Options = marshal(p.Options())
	}
	r.IntroEmail = marshal(p.IntroductionEmail())
	r.Lifecycle = marshal(LifecycleOf(p))
	r.Report = reportColumnsOf(p)
	r.Attention = attentionColumnsOf(p)
	r.storable()
	r.ListItem = listItemTail(&r)
	return r, err
}

// storable makes the row's text storable in PostgreSQL (see storableJSON):
// an event stored before the input boundary cleaned it may hold a NUL.
func (r *planRow) storable() {
	r.Status, r.PortalToken = storableText(r.Status), storableText(r.PortalToken)
	r.Report.Currency = storableText(r.Report.Currency)
	for _, b := range []*[]byte{&r.Customer, &r.Invoice, &r.Options, &r.IntroEmail, &r.Lifecycle} {
		*b = storableJSON(*b)
	}
}

// detail renders a row as the API's plan.
func (r *planRow) detail(publicURL string) (Detail, error) {
	d := Detail{PlanID: r.PlanID, Status: domain.Status(r.Status), CustomerPortalURL: PortalURL(publicURL, r.PortalToken),
		SelectedOptionID: r.SelectedOptionID, SendIntroductionEmail: r.SendIntro,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
	for _, f := range []struct {
		b []byte
		v any
	}{{r.Customer, &d.Customer}, {r.Invoice, &d.Invoice}, {r.Options, &d.PlanOptions}, {r.IntroEmail, &d.IntroductionEmail},
		{r.Lifecycle, &d.Lifecycle}} {
		if err := json.Unmarshal(f.b, f.v); err != nil {
			return Detail{}, fmt.Errorf("plan view %d: %w", r.PlanID, err)
		}
	}
	return d, nil
}
