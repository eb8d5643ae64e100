package eventstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// CatalogProblem is one disagreement VerifyCatalog found between the
// catalog's events and the state kept beside them.
type CatalogProblem struct {
	StreamID string // the catalog plan or plan group stream; empty for a reservation without one
	Reason   string
}

// String is "stream: reason".
func (p CatalogProblem) String() string {
	if p.StreamID == "" {
		return p.Reason
	}
	return p.StreamID + ": " + p.Reason
}

// CatalogVerifyResult is what VerifyCatalog checked and found.
type CatalogVerifyResult struct {
	CatalogPlans int64 // catalog plan streams
	PlanGroups   int64 // plan group streams
	Reservations int64 // rows of catalog_plan_ids
	Prices       int64 // rows of catalog_prices
	Problems     []CatalogProblem
}

// reservation is one row of catalog_plan_ids.
type reservation struct {
	account    int64
	publicID   string
	reservedAt time.Time
	releasedAt *time.Time
}

// VerifyCatalog checks, in one snapshot, that the catalog's streams and
// the public id reservations of catalog_plan_ids agree: every catalog
// plan stream folds to the plan its stream names; every created plan has
// its reservation (same account and public id, reserved by the append of
// its catalog_plan.created), released by the append of its
// catalog_plan.deleted and only then; no reservation names a plan that
// has no events; and every plan group stream folds, its catalog plan
// members being plans of its account; and catalog_prices holds the
// standard prices the plans mint (checkCatalogPrices). The hash chains are
// Verify's.
// Disagreements are listed in the result's Problems; an error is a
// failure to read.
func (s *Events) VerifyCatalog(ctx context.Context) (CatalogVerifyResult, error) {
	var res CatalogVerifyResult
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return res, fmt.Errorf("verify catalog: %w", err)
	}
	defer tx.Rollback(ctx)

	reserved := map[int64]reservation{}
	rows, err := tx.Query(ctx, `SELECT catalog_plan_id, account_id, public_id, reserved_at, released_at FROM catalog_plan_ids`)
	if err != nil {
		return res, fmt.Errorf("verify catalog ids: %w", err)
	}
	for rows.Next() {
		var id int64
		var r reservation
		if err := rows.Scan(&id, &r.account, &r.publicID, &r.reservedAt, &r.releasedAt); err != nil {
			rows.Close()
			return res, fmt.Errorf("verify catalog ids: %w", err)
		}
		reserved[id] = r
		res.Reservations++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("verify catalog ids: %w", err)
	}

	plans := map[int64]*domain.CatalogPlan{}
	var groups [][]Record
	err = readCatalogStreams(ctx, tx, func(recs []Record) {
		stream := recs[0].StreamID
		if id, ok := CatalogPlanAggregate.IDOf(stream); ok {
			res.CatalogPlans++
			p, problem := checkCatalogPlan(id, recs, reserved)
			if problem != "" {
				res.Problems = append(res.Problems, CatalogProblem{StreamID: stream, Reason: problem})
			}
			if p != nil {
				plans[id] = p
			}
			delete(reserved, id)
			return
		}
		if _, ok := PlanGroupAggregate.IDOf(stream); ok {
			res.PlanGroups++
			groups = append(groups, recs)
			return
		}
		res.Problems = append(res.Problems, CatalogProblem{StreamID: stream, Reason: "not a catalog plan or plan group stream id"})
	})
	if err != nil {
		return res, fmt.Errorf("verify catalog: %w", err)
	}
	for _, recs := range groups { // after every plan is folded
		if problem := checkPlanGroup(recs, plans); problem != "" {
			res.Problems = append(res.Problems, CatalogProblem{StreamID: recs[0].StreamID, Reason: problem})
		}
	}
	prices, problems, err := checkCatalogPrices(ctx, tx, plans)
	if err != nil {
		return res, err
	}
	res.Prices, res.Problems = prices, append(res.Problems, problems...)
	for id, r := range reserved {
		res.Problems = append(res.Problems, CatalogProblem{Reason: fmt.Sprintf(
			"catalog_plan_ids reserves %q in account %d for catalog plan %d, which has no events", r.publicID, r.account, id)})
	}
	sort.Slice(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		return a.StreamID < b.StreamID || (a.StreamID == b.StreamID && a.Reason < b.Reason)
	})
	return res, nil
}

// readCatalogStreams calls emit with the records of each catalog plan and
// plan group stream, read in tx, in (stream, version) order.
func readCatalogStreams(ctx context.Context, tx pgx.Tx, emit func([]Record)) error {
	rows, err := tx.Query(ctx, `SELECT `+recordColumns+` FROM events
		WHERE starts_with(stream_id, $1) OR starts_with(stream_id, $2) ORDER BY stream_id, version`,
		CatalogPlanStreamPrefix, PlanGroupStreamPrefix)
	if err != nil {
		return err
	}
	defer rows.Close()
	var recs []Record
	for rows.Next() {
		var r Record
		if err := scanRecord(rows, &r); err != nil {
			return err
		}
		if len(recs) > 0 && r.StreamID != recs[0].StreamID {
			emit(recs)
			recs = nil
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(recs) > 0 {
		emit(recs)
	}
	return nil
}

// checkCatalogPlan folds catalog plan id's records and checks them
// against its reservation; it returns the plan (nil when the stream does
// not fold to one) and the first disagreement ("" when none).
func checkCatalogPlan(id int64, recs []Record, reserved map[int64]reservation) (*domain.CatalogPlan, string) {
	p, err := CatalogPlanAggregate.Fold(CatalogPlanAggregate.New(), recs)
	switch {
	case err != nil:
		return nil, "cannot be folded: " + err.Error()
	case p.ID() == 0:
		return nil, "has no catalog_plan.created"
	case p.ID() != id:
		return nil, "its catalog_plan.created names catalog plan " + strconv.FormatInt(p.ID(), 10)
	}
	var deletedAt time.Time // when the deletion was recorded
	for _, r := range recs {
		if r.Type == domain.EventCatalogPlanDeleted {
			deletedAt = r.RecordedAt
		}
	}
	r, ok := reserved[id]
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	switch {
	case !ok:
		return p, fmt.Sprintf("catalog plan %q of account %d has no row in catalog_plan_ids", p.PublicID(), p.AccountID())
	case r.account != p.AccountID() || r.publicID != p.PublicID():
		return p, fmt.Sprintf("catalog_plan_ids reserves %q in account %d, the events say %q in account %d",
			r.publicID, r.account, p.PublicID(), p.AccountID())
	case !r.reservedAt.Equal(recs[0].RecordedAt):
		return p, fmt.Sprintf("catalog_plan_ids reserved %q at %s, its catalog_plan.created was recorded at %s",
			p.PublicID(), at(r.reservedAt), at(recs[0].RecordedAt))
	case p.Deleted() && r.releasedAt == nil:
		return p, fmt.Sprintf("catalog plan %q was deleted but catalog_plan_ids still holds its id (no new plan can take it)", p.PublicID())
	case !p.Deleted() && r.releasedAt != nil:
		return p, fmt.Sprintf("catalog plan %q is not deleted but catalog_plan_ids released its id at %s (a second plan could take it)",
			p.PublicID(), at(*r.releasedAt))
	case p.Deleted() && !r.releasedAt.Equal(deletedAt):
		return p, fmt.Sprintf("catalog_plan_ids released %q at %s, its catalog_plan.deleted was recorded at %s",
			p.PublicID(), at(*r.releasedAt), at(deletedAt))
	}
	return p, ""
}

// checkPlanGroup folds a plan group stream and checks its catalog plan
// members are plans of its account; it returns the first disagreement.
func checkPlanGroup(recs []Record, plans map[int64]*domain.CatalogPlan) string {
	g, err := PlanGroupAggregate.Fold(PlanGroupAggregate.New(), recs)
	switch {
	case err != nil:
		return "cannot be folded: " + err.Error()
	case g.ID() == 0:
		return "has no plan_group.created"
	case PlanGroupAggregate.Stream(g.ID()) != recs[0].StreamID:
		return "its plan_group.created names plan group " + strconv.FormatInt(g.ID(), 10)
	}
	for _, m := range g.Members() {
		if m.Kind != domain.CatalogPlanMember {
			continue
		}
		if p, ok := plans[m.ID]; !ok || p.AccountID() != g.AccountID() {
			return fmt.Sprintf("member %q is catalog plan %d, which is no catalog plan of account %d", m.PublicID, m.ID, g.AccountID())
		}
	}
	return ""
}
