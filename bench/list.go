package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
)

// Targets of the list rows (issue 13): the keyset page must meet them.
const (
	targetListRate  = 3000.0
	targetListP99Ms = 25.0
	// listMaxOffset is the API's offset cap (api.maxOffset).
	listMaxOffset = 10_000
)

// listGroup is the list group: GET /api/v1/plans over r.s.listPlans plans
// of one account. The plans are generated as events (the replay dataset's
// generator, created over the last two days so none is due for the
// scheduler), the read model is filled by `goodplan replay --swap` (which
// also sets plan_counts), and `goodplan serve` starts with the relay's
// checkpoint at the end of the log, so it publishes nothing old while
// the reads are measured. Rows: a keyset page at a random plan, an offset
// page at a random offset under the cap, each search, 16 clients each;
// and, as SQL alone, what one deep offset page costs.
func (r *runner) listGroup(ctx context.Context) error {
	dbURL, err := r.dbs.create(ctx, true)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, dbURL, datasetWorkers+1)
	if err != nil {
		return err
	}
	store := eventstore.New(pool)
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Bench Merchant"})
	if err != nil {
		pool.Close()
		return err
	}
	// The generator makes plans = events * 19/20 (one in 19 has a second
	// event): ask for enough events.
	events := (r.s.listPlans*20 + 18) / 19
	plans, _ := datasetSize(events)
	progress("list: generating %d plans (%d events), untimed", plans, events)
	start := time.Now()
	err = generateDatasetFrom(ctx, pool, acct.ID, events, time.Now().Add(-48*time.Hour))
	if err == nil {
		_, err = pool.Exec(ctx, `INSERT INTO relay_checkpoints (name, tx_id, position)
			SELECT 'relay', tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1`)
	}
	pool.Close()
	if err != nil {
		return fmt.Errorf("list dataset: %w", err)
	}
	genTime := time.Since(start).Round(100 * time.Millisecond)
	bin, err := r.binary(ctx)
	if err != nil {
		return err
	}
	env := goodplanEnv("DATABASE_URL="+dbURL, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+filepath.Join(r.tmp, "list-data"),
		"NATS_URL=", "SMTP_URL=")
	progress("list: events ready in %s; goodplan replay --swap fills plan_views (untimed)", genTime)
	start = time.Now()
	out, _, err := runCLI(ctx, bin, env, "replay", "--swap", "--wait", "1s")
	if err != nil && !strings.Contains(out, "swapped: the rebuilt read model is now live") {
		return err
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) plan_views`); err != nil {
		return err
	}
	var total int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM plan_views WHERE account_id = $1`, acct.ID).Scan(&total); err != nil {
		return err
	}
	fillTime := time.Since(start).Round(100 * time.Millisecond)
	progress("list: plan_views has %d plans after %s (replay, swap, VACUUM ANALYZE)", total, fillTime)
	r.note("list dataset: %d plans of one account; events generated and loaded in %s, read model filled by "+
		"`goodplan replay --swap` and VACUUM ANALYZE in %s; neither timed", total, genTime, fillTime)
	if total < int64(plans) {
		return fmt.Errorf("list: plan_views has %d plans, want %d", total, plans)
	}
	deep, err := deepOffset(ctx, conn, acct.ID, total/2)
	if err != nil {
		return err
	}

	out, _, err = runCLI(ctx, bin, env, "apikeys", "create", "--account", strconv.FormatInt(acct.ID, 10))
	if err != nil {
		return err
	}
	srv, err := startServe(ctx, bin, env)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			progress("serve: %v", err)
		}
	}()
	api := newAPIClient(srv.Base, strings.TrimSpace(out), 16)
	planID := func(n int) int64 { return int64(1000 + 4*n) } // datasetChunkRows' ids
	get := func(ctx context.Context, query string) error {
		_, err := api.do(ctx, http.MethodGet, "/api/v1/plans?"+query, nil, http.StatusOK)
		return err
	}
	// A name prefix of plan n's customer ("Customer 12345" of 123456):
	// its plan and the few whose number starts alike.
	namePrefix := func(n int) string {
		s := strconv.Itoa(n)
		return "Customer " + s[:max(len(s)-1, 1)]
	}
	for _, row := range []struct {
		name, note string
		query      func() string
		target     bool
	}{
		{"GET /api/v1/plans?limit=20&starting_after=<random>, 16 clients", "keyset page after a random plan", func() string {
			return "limit=20&starting_after=" + strconv.FormatInt(planID(rand.IntN(plans)), 10)
		}, true},
		{"GET /api/v1/plans?limit=20&offset=<random>, 16 clients", fmt.Sprintf("offset uniform in [0, %d): the API's cap "+
			"(deeper pages are paged by starting_after); one page at offset %d costs %s in SQL alone (median of 3, the "+
			"index-only scan of its plan ids)", listMaxOffset-20, total/2, deep.Round(time.Millisecond)), func() string {
			return "limit=20&offset=" + strconv.Itoa(rand.IntN(listMaxOffset-20))
		}, false},
		{"GET /api/v1/plans?email=<random>, 16 clients", "a random plan's customer email, matched whole", func() string {
			return "email=" + url.QueryEscape("customer"+strconv.Itoa(rand.IntN(plans))+"@example.com")
		}, false},
		{"GET /api/v1/plans?customer_name=<prefix>, 16 clients", `a random plan's customer name less its last digit ("Customer 12345"): 1 to 11 plans`, func() string {
			return "customer_name=" + url.QueryEscape(namePrefix(rand.IntN(plans)))
		}, false},
		{"GET /api/v1/plans?invoice_number=<random>, 16 clients", "a random plan's invoice number", func() string {
			return "invoice_number=INV-" + strconv.Itoa(rand.IntN(plans))
		}, false},
	} {
		progress("list: %s, %s after %s warm-up", row.name, r.s.duration, r.s.warmup)
		res := runLoad(ctx, loadSpec{Clients: 16, Warmup: r.s.warmup, Duration: r.s.duration},
			func(ctx context.Context, _ int) error { return get(ctx, row.query()) })
		p50, p99 := res.Lat.p50p99()
		out := Row{Group: "list", Name: row.name, Value: res.Rate(), Unit: "requests/s", P50Ms: p50, P99Ms: p99,
			Errors: res.Errors, Note: joinNotes(fmt.Sprintf("%s; %d plans", row.note, total), describeErrors(res))}
		if row.target {
			out.Target = fmt.Sprintf(">= %.0f requests/s, p99 <= %.0f ms", targetListRate, targetListP99Ms)
			out.Result = passMiss(res.Rate() >= targetListRate && p99 != nil && *p99 <= targetListP99Ms && res.Errors == 0)
		}
		r.add(out)
		if err := srv.Alive(); err != nil {
			return err
		}
	}
	return nil
}

// deepOffset is the median of 3 runs of the list's offset subquery (its
// plan ids, an index-only scan) at offset.
func deepOffset(ctx context.Context, conn *pgx.Conn, accountID, offset int64) (time.Duration, error) {
	var runs []time.Duration
	for range 3 {
		start := time.Now()
		rows, err := conn.Query(ctx, `SELECT plan_id FROM plan_views WHERE account_id = $1
			ORDER BY created_at DESC, plan_id DESC LIMIT 21 OFFSET $2`, accountID, offset)
		if err != nil {
			return 0, err
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		runs = append(runs, time.Since(start))
	}
	slices.Sort(runs)
	return runs[1], nil
}
