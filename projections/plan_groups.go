package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"goodplan/domain"
	"goodplan/eventstore"
)

// PlanGroup is a plan group as the read model holds it: its members as the
// events record them (catalog plans by internal id), resolved by the API
// when shown.
type PlanGroup struct {
	ID        int64
	AccountID int64
	PublicID  uuid.UUID
	Name      string
	Members   []domain.GroupMember
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

// PlanGroupOf renders a folded plan group.
func PlanGroupOf(g *domain.PlanGroup) PlanGroup {
	v := PlanGroup{ID: g.ID(), AccountID: g.AccountID(), PublicID: g.PublicID(), Name: g.Name(),
		Members: g.Members(), Version: g.Version(), CreatedAt: g.CreatedAt().UTC(), UpdatedAt: g.UpdatedAt().UTC()}
	if v.Members == nil {
		v.Members = []domain.GroupMember{}
	}
	if d := g.DeletedAt(); !d.IsZero() {
		d = d.UTC()
		v.DeletedAt = &d
	}
	return v
}

// PlanGroups is the plan group read model (table plan_group_views).
type PlanGroups struct {
	Store *eventstore.Store
	table string // plan_group_views, or the rebuild table during replay
}

// NewPlanGroups returns the plan group read model.
func NewPlanGroups(store *eventstore.Store) *PlanGroups {
	return &PlanGroups{Store: store, table: groupLive}
}

// Apply brings the plan group of rec up to date; records of other streams
// are ignored. Idempotent under redelivery and reordering like
// CatalogPlans.Apply: a row at or past rec.Version is left alone, else the
// group is folded from the store and written with a version guard.
func (p *PlanGroups) Apply(ctx context.Context, rec eventstore.Record) error {
	return applyAggregate(ctx, p.Store, eventstore.PlanGroupAggregate, p.table, "plan_group_id", rec,
		func(g *domain.PlanGroup) error { return p.Put(ctx, g) })
}

// Put writes the folded group g unless the row is already at or past its
// version; the API calls it after each command so that a client reads what
// it just wrote, and the consumer's later Apply of the same events is a
// no-op.
func (p *PlanGroups) Put(ctx context.Context, g *domain.PlanGroup) error {
	return p.write(ctx, p.Store.Pool(), g)
}

// write upserts g's row into p.table through db, with the version guard
// (the projection, the API and replay share it, so a rebuilt row equals a
// projected one by construction).
func (p *PlanGroups) write(ctx context.Context, db execer, g *domain.PlanGroup) error {
	v := PlanGroupOf(g)
	members, err := json.Marshal(v.Members)
	if err != nil {
		return fmt.Errorf("write plan group view %d: %w", v.ID, err)
	}
	_, err = db.Exec(ctx, `INSERT INTO `+p.table+` AS v
		(plan_group_id, account_id, public_id, name, members, version, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (plan_group_id) DO UPDATE SET
			name = EXCLUDED.name, members = EXCLUDED.members, version = EXCLUDED.version,
			updated_at = EXCLUDED.updated_at, deleted_at = EXCLUDED.deleted_at
		WHERE v.version < EXCLUDED.version`,
		v.ID, v.AccountID, v.PublicID, storableText(v.Name), storableJSON(members), v.Version,
		v.CreatedAt, v.UpdatedAt, v.DeletedAt)
	if err != nil {
		return fmt.Errorf("write plan group view %d: %w", v.ID, err)
	}
	return nil
}

const planGroupColumns = `plan_group_id, account_id, public_id, name, members, version, created_at, updated_at, deleted_at`

func scanPlanGroup(row pgx.Row) (PlanGroup, error) {
	var v PlanGroup
	var members []byte
	if err := row.Scan(&v.ID, &v.AccountID, &v.PublicID, &v.Name, &members, &v.Version,
		&v.CreatedAt, &v.UpdatedAt, &v.DeletedAt); err != nil {
		return PlanGroup{}, err
	}
	if err := json.Unmarshal(members, &v.Members); err != nil {
		return PlanGroup{}, fmt.Errorf("plan group view %d: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
	return v, nil
}

// Get returns the group publicID of account, deleted or not;
// eventstore.ErrNotFound when there is none (also when the projection has
// not reached it yet).
func (p *PlanGroups) Get(ctx context.Context, account int64, publicID uuid.UUID) (PlanGroup, error) {
	v, err := scanPlanGroup(p.Store.Pool().QueryRow(ctx, `SELECT `+planGroupColumns+` FROM plan_group_views
		WHERE account_id = $1 AND public_id = $2`, account, publicID))
	if errors.Is(err, pgx.ErrNoRows) {
		return PlanGroup{}, fmt.Errorf("plan group %s: %w", publicID, eventstore.ErrNotFound)
	}
	return v, err
}

// ErrUnknownGroupCursor is returned by List for a starting_after that
// names no listed group of the account.
var ErrUnknownGroupCursor = fmt.Errorf("starting_after names no plan group: %w", eventstore.ErrNotFound)

// List returns a page of account's groups not deleted, newest first, at
// most limit (1..100), after the group startingAfter (uuid.Nil: from the
// start), and whether more follow.
func (p *PlanGroups) List(ctx context.Context, account int64, limit int, startingAfter uuid.UUID) ([]PlanGroup, bool, error) {
	if limit < 1 || limit > 100 {
		return nil, false, fmt.Errorf("list plan groups: limit %d out of 1..100", limit)
	}
	cursor := int64(1<<63 - 1)
	if startingAfter != uuid.Nil {
		err := p.Store.Pool().QueryRow(ctx, `SELECT plan_group_id FROM plan_group_views
			WHERE account_id = $1 AND public_id = $2 AND deleted_at IS NULL`, account, startingAfter).Scan(&cursor)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, ErrUnknownGroupCursor
		}
		if err != nil {
			return nil, false, fmt.Errorf("list plan groups: %w", err)
		}
	}
	rows, err := p.Store.Pool().Query(ctx, `SELECT `+planGroupColumns+` FROM plan_group_views
		WHERE account_id = $1 AND deleted_at IS NULL AND plan_group_id < $2
		ORDER BY plan_group_id DESC LIMIT $3`, account, cursor, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list plan groups: %w", err)
	}
	defer rows.Close()
	items := []PlanGroup{}
	for rows.Next() {
		v, err := scanPlanGroup(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list plan groups: %w", err)
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list plan groups: %w", err)
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	return items, more, nil
}

// CatalogPlans returns the catalog plans ids of account from the catalog
// read model, by internal id, deleted ones included (with deleted_at); an
// id the read model has not reached is missing from the map.
func (p *PlanGroups) CatalogPlans(ctx context.Context, account int64, ids []int64) (map[int64]CatalogPlan, error) {
	out := make(map[int64]CatalogPlan, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := p.Store.Pool().Query(ctx, `SELECT catalog_plan_id, plan, version FROM catalog_plan_views
		WHERE account_id = $1 AND catalog_plan_id = ANY($2)`, account, ids)
	if err != nil {
		return nil, fmt.Errorf("group catalog plans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, version int64
		var doc []byte
		if err := rows.Scan(&id, &doc, &version); err != nil {
			return nil, fmt.Errorf("group catalog plans: %w", err)
		}
		var v CatalogPlan
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, fmt.Errorf("group catalog plan %d: %w", id, err)
		}
		v.Version = version
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group catalog plans: %w", err)
	}
	return out, nil
}
