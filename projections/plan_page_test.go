package projections_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestListQueriesUseTheirIndex: over 5,000 plan rows of one account
// (names in random order, 10% active, analysed), EXPLAIN of each list query
// (the page, and the count of a filtered list) names the index that serves
// it, and the plain and keyset pages never sort the account's plans (only
// the page's own rows).
func TestListQueriesUseTheirIndex(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	plans := projections.NewPlans(store)
	ctx := context.Background()
	if _, err := store.Pool().Exec(ctx, `INSERT INTO plan_views (plan_id, account_id, version, status, portal_token,
			customer, invoice, plan_options, send_introduction_email, introduction_email, created_at, updated_at)
		SELECT 1000 + g, 1 + (g % 50 = 0)::int, 1, CASE WHEN g % 10 = 0 THEN 'active' ELSE 'pending' END, 'tok' || g,
			jsonb_build_object('id', g, 'name', md5(g::text), 'email', 'c' || g || '@example.com'),
			jsonb_build_object('id', g, 'amount', '100.00', 'invoice_number', 'INV-' || g), '[]', false, '{}',
			timestamptz '2025-01-01' + g * interval '1 minute', timestamptz '2025-01-01' + g * interval '1 minute'
		FROM generate_series(1, 5000) g;
		ANALYZE plan_views`); err != nil {
		t.Fatal(err)
	}
	recent := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(4950 * time.Minute)
	var name string
	if err := store.Pool().QueryRow(ctx, `SELECT left(md5('2501'), 5)`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name string
		q    projections.ListQuery
		want string // an index the page query uses
	}{
		{"plain", projections.ListQuery{}, "plan_views_account_created_idx"},
		{"offset", projections.ListQuery{Offset: 2000}, "plan_views_account_created_idx"},
		{"keyset", projections.ListQuery{StartingAfter: 3501}, "plan_views_account_created_idx"},
		{"keyset back", projections.ListQuery{EndingBefore: 3501}, "plan_views_account_created_idx"},
		{"status keyset", projections.ListQuery{Status: "active", StartingAfter: 3501}, "plan_views_account_status_created_idx"},
		{"email", projections.ListQuery{Email: "C2501@example.com"}, "plan_views_email_idx"},
		{"invoice number", projections.ListQuery{InvoiceNumber: "inv-2501"}, "plan_views_invoice_number_idx"},
		{"name prefix", projections.ListQuery{CustomerName: strings.ToUpper(name)}, "plan_views_name_prefix_idx"},
		{"updated after", projections.ListQuery{UpdatedAfter: recent}, "plan_views_account_updated_idx"},
	} {
		q.q.AccountID, q.q.Limit = 1, 20
		sql, args := plans.ListSQL(q.q)
		plan := explain(t, ctx, store, sql, args)
		if !strings.Contains(plan, q.want) {
			t.Errorf("%s: the page query does not use %s:\n%s", q.name, q.want, plan)
		}
		if (q.name == "plain" || strings.HasPrefix(q.name, "keyset") || q.name == "offset") && strings.Contains(plan, "Sort Key: plan_views.") {
			t.Errorf("%s: the page query sorts the account's plans:\n%s", q.name, plan)
		}
		// PostgreSQL keeps the generic plan of the prepared statement
		// when it costs no more than a custom one (the page query's
		// limit is in its SQL for that, unless it searches): it must
		// use the index too.
		searched := q.q.Email != "" || q.q.CustomerName != "" || q.q.InvoiceNumber != "" || !q.q.UpdatedAfter.IsZero()
		if !searched {
			if generic := explainGeneric(t, ctx, store, sql, args); !strings.Contains(generic, q.want) {
				t.Errorf("%s: the generic plan of the page query does not use %s:\n%s", q.name, q.want, generic)
			}
		}
		if q.q.Email != "" || q.q.CustomerName != "" || q.q.InvoiceNumber != "" || !q.q.UpdatedAfter.IsZero() {
			sql, args := plans.CountSQL(q.q)
			if plan := explain(t, ctx, store, sql, args); !strings.Contains(plan, q.want) {
				t.Errorf("%s: the count does not use %s:\n%s", q.name, q.want, plan)
			}
		}
		// And the query answers what it says.
		page, err := plans.Page(ctx, q.q, publicURL)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		if q.name == "name prefix" && (len(page.Items) == 0 || !strings.HasPrefix(page.Items[0].Customer.Name, name)) {
			t.Errorf("name prefix %q: %d items", name, len(page.Items))
		}
	}
}

// explain is EXPLAIN of sql with args, sequential scans disabled (the
// test's tables are nearly empty: the planner would rather scan them
// whole).
func explain(t *testing.T, ctx context.Context, store *eventstore.Store, sql string, args []any) string {
	t.Helper()
	var out []string
	err := pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	return strings.Join(out, "\n")
}

// explainGeneric is EXPLAIN of the generic plan of sql (prepared, then
// executed with args under plan_cache_mode force_generic_plan), sequential
// scans disabled.
func explainGeneric(t *testing.T, ctx context.Context, store *eventstore.Store, sql string, args []any) string {
	t.Helper()
	var out []string
	err := pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		sd, err := tx.Prepare(ctx, "generic_page", sql)
		if err != nil {
			return err
		}
		defer tx.Conn().Deallocate(ctx, sd.Name)
		params := make([]string, len(args))
		for i := range args {
			params[i] = "$" + strconv.Itoa(i+1)
		}
		// EXECUTE takes no protocol parameters: pgx writes args into the SQL.
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE generic_page(`+strings.Join(params, ", ")+`)`,
			append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatalf("explain generic %s: %v", sql, err)
	}
	return strings.Join(out, "\n")
}

// TestPageItemsAreThePlans: a page's items (read from the columns a page
// selects) are the plans as Get renders them, byte for byte.
func TestPageItemsAreThePlans(t *testing.T) {
	t.Parallel()
	l := newLifecycleStore(t)
	plans := projections.NewPlans(l.store)
	ctx := context.Background()
	now := time.Date(2025, 11, 27, 1, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 3 {
		recs := createPlan(t, l.store, 1, "4"+string(rune('0'+i))+".00", now.Add(time.Duration(i)*time.Hour), i == 1)
		l.recs = append(l.recs, recs...)
		ids = append(ids, mustPlanID(t, recs[0].StreamID))
	}
	l.do(ids[2], "merchant", func(p *domain.Plan) ([]domain.Event, error) { return p.Cancel("duplicate", now) })
	for _, r := range l.recs {
		if err := plans.Apply(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	page, err := plans.Page(ctx, projections.ListQuery{AccountID: 1, Limit: 10}, publicURL)
	if err != nil || len(page.Items) != 3 || page.Total != 3 || page.HasMore {
		t.Fatalf("page: %+v, %v", page, err)
	}
	for _, item := range page.Items {
		got, err := plans.Get(ctx, 1, item.PlanID, publicURL)
		if err != nil {
			t.Fatal(err)
		}
		if mustJSON(t, item) != mustJSON(t, got) {
			t.Fatalf("plan %d listed\n%s\nread\n%s", item.PlanID, mustJSON(t, item), mustJSON(t, got))
		}
	}
}
