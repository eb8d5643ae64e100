package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The age group (issue 13, item 6): what one command and one GET of a
// plan cost as the plan gets old. One plan is driven to each age in
// ageLevels by appending its events in batches through the store (a
// cancel and a reactivation, decided by the domain, over and over: the
// plan's state stays the same size, only its history grows), then
// measured over the real `goodplan serve`: ageSamples commands
// (POST /cancel and /reactivate in turn) and ageSamples GETs, one at a
// time, after the read model has the plan's last event.

// ageLevels are the plan ages measured, in events.
var ageLevels = []int{10, 1_000, 10_000}

// ageSamples is the number of commands and of GETs measured per age.
const ageSamples = 60

// ageBatch is the number of events appended per statement to age a plan.
const ageBatch = 500

// targetAgeRatio is "flat": a command or GET at 10,000 events costs at most
// this many times what it costs at 10.
const targetAgeRatio = 1.5

// ageGroup runs the age rows on a server of their own.
func (r *runner) ageGroup(ctx context.Context) error {
	bin, err := r.binary(ctx)
	if err != nil {
		return err
	}
	dbURL, err := r.dbs.create(ctx, false) // the CLI migrates it
	if err != nil {
		return err
	}
	env := goodplanEnv("DATABASE_URL="+dbURL, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+filepath.Join(r.tmp, "age-data"),
		"NATS_URL=", "SMTP_URL=")
	out, _, err := runCLI(ctx, bin, env, "accounts", "create", "--name", "Bench Age", "--rate-limit", "0")
	if err != nil {
		return err
	}
	acct, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return fmt.Errorf("accounts create printed %q, not an id", out)
	}
	if out, _, err = runCLI(ctx, bin, env, "apikeys", "create", "--account", strconv.FormatInt(acct, 10)); err != nil {
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
	api := newAPIClient(srv.Base, strings.TrimSpace(out), 1)
	pool, err := openPool(ctx, dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool)

	b, err := api.do(ctx, http.MethodPost, "/api/v1/plans", planBody(1), http.StatusCreated)
	if err != nil {
		return err
	}
	id, ok := planIDFromBody(b)
	if !ok {
		return fmt.Errorf("201 without plan_id: %s", lastBytes(string(b), 200))
	}
	path := "/api/v1/plans/" + strconv.FormatInt(id, 10)
	var cmd0, get0 float64
	for _, level := range ageLevels {
		if err := agePlan(ctx, store, acct, id, level); err != nil {
			return err
		}
		head, err := store.StreamVersion(ctx, eventstore.PlanStream(id))
		if err != nil {
			return err
		}
		if err := waitProjected(ctx, pool, id, head); err != nil {
			return err
		}
		// The other consumers (emails, webhooks, the scheduler) read the
		// new events too: measure once the server is idle again.
		waitIdle(ctx, srv.cmd.Process.Pid)
		cmds, err := ageCommands(ctx, api, store, id, path)
		if err != nil {
			return err
		}
		// The commands moved the plan on: wait for the read model again.
		if head, err = store.StreamVersion(ctx, eventstore.PlanStream(id)); err != nil {
			return err
		}
		if err := waitProjected(ctx, pool, id, head); err != nil {
			return err
		}
		waitIdle(ctx, srv.cmd.Process.Pid)
		gets, size, err := ageGets(ctx, api, path)
		if err != nil {
			return err
		}
		rowBytes, tableBytes, err := rowSize(ctx, pool, id)
		if err != nil {
			return err
		}
		if err := srv.Alive(); err != nil {
			return err
		}
		cp50, cp99 := cmds.p50p99()
		gp50, gp99 := gets.p50p99()
		if level == ageLevels[0] {
			cmd0, get0 = *cp50, *gp50
		}
		at := commas(int64(level))
		cmdRow := Row{Group: "age", Name: "command on a plan of " + at + " events", Value: *cp50, Unit: "ms p50",
			P50Ms: cp50, P99Ms: cp99, Note: fmt.Sprintf("POST cancel / reactivate in turn, %d sequential", ageSamples)}
		getRow := Row{Group: "age", Name: "GET of a plan of " + at + " events", Value: *gp50, Unit: "ms p50",
			P50Ms: gp50, P99Ms: gp99, Note: fmt.Sprintf("%d sequential; body %s bytes; plan_views row %s bytes, table %s bytes",
				ageSamples, commas(int64(size)), commas(rowBytes), commas(tableBytes))}
		if level != ageLevels[0] {
			cmdRow.Ratio, cmdRow.RatioTo = f64(*cp50/cmd0), "the same at "+commas(int64(ageLevels[0]))+" events"
			getRow.Ratio, getRow.RatioTo = f64(*gp50/get0), cmdRow.RatioTo
		}
		if level == ageLevels[len(ageLevels)-1] {
			cmdRow.Target, getRow.Target = fmt.Sprintf("<= %.1f x at %d events", targetAgeRatio, ageLevels[0]), fmt.Sprintf("<= %.1f x at %d events", targetAgeRatio, ageLevels[0])
			cmdRow.Result, getRow.Result = passMiss(*cmdRow.Ratio <= targetAgeRatio), passMiss(*getRow.Ratio <= targetAgeRatio)
		}
		r.add(cmdRow)
		r.add(getRow)
	}
	return nil
}

// agePlan appends events to plan id until it has level events: cancel and
// reactivate in turn, decided by the domain on the plan as folded, in
// batches of ageBatch per append.
func agePlan(ctx context.Context, store *eventstore.Store, acct, id int64, level int) error {
	stream := eventstore.PlanStream(id)
	p, _, head, err := store.LoadPlan(ctx, id)
	if err != nil {
		return err
	}
	progress("age: plan %d from %d to %d events", id, head.Version, level)
	now := time.Now().UTC()
	for int(head.Version) < level {
		var batch []domain.Event
		for n := int(head.Version); n < level && len(batch) < ageBatch; n++ {
			var evs []domain.Event
			if p.Status() == domain.StatusCancelled {
				evs, err = p.Reactivate(now)
			} else {
				evs, err = p.Cancel("bench", now)
			}
			if err != nil {
				return fmt.Errorf("age plan %d: %w", id, err)
			}
			for _, e := range evs {
				p.Apply(e)
			}
			batch = append(batch, evs...)
		}
		enc, err := eventstore.Encode(batch)
		if err != nil {
			return err
		}
		recs, err := store.Append(ctx, stream, head, enc, eventstore.Metadata{AccountID: acct, Actor: "merchant",
			UserAgent: benchUserAgent})
		if err != nil {
			return fmt.Errorf("age plan %d: %w", id, err)
		}
		head = recs[len(recs)-1].Head()
	}
	return nil
}

// waitProjected waits until the read model's row of plan id is at
// version head or later, for up to five minutes.
func waitProjected(ctx context.Context, pool *pgxpool.Pool, id, head int64) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var version int64
		err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM plan_views WHERE plan_id = $1`, id).Scan(&version)
		if err != nil {
			return err
		}
		if version >= head {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("plan %d: the read model is at version %d after 5 minutes, the stream at %d", id, version, head)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitIdle waits until process pid used less than 5% of a CPU over half a
// second, for up to two minutes (then it measures anyway).
func waitIdle(ctx context.Context, pid int) {
	deadline := time.Now().Add(2 * time.Minute)
	prev, err := procCPU(pid)
	for err == nil && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		var now float64
		if now, err = procCPU(pid); err == nil && now-prev < 0.025 {
			return
		}
		prev = now
	}
}

// ageCommands times ageSamples commands on the plan, one at a time.
func ageCommands(ctx context.Context, api *apiClient, store *eventstore.Store, id int64, path string) (latencies, error) {
	p, _, _, err := store.LoadPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	cancelled := p.Status() == domain.StatusCancelled
	var out latencies
	for range ageSamples {
		cmd, body := "/cancel", []byte(`{"reason":"bench"}`)
		if cancelled {
			cmd, body = "/reactivate", nil
		}
		start := time.Now()
		if _, err := api.do(ctx, http.MethodPost, path+cmd, body, http.StatusOK); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		cancelled = !cancelled
	}
	return out, nil
}

// ageGets times ageSamples GETs of the plan, one at a time, and returns
// the size of its body.
func ageGets(ctx context.Context, api *apiClient, path string) (latencies, int, error) {
	var out latencies
	size := 0
	for range ageSamples {
		start := time.Now()
		b, err := api.do(ctx, http.MethodGet, path, nil, http.StatusOK)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, time.Since(start))
		size = len(b)
	}
	return out, size, nil
}

// rowSize is the plan's plan_views row and the whole table (with its
// TOAST and indexes), in bytes.
func rowSize(ctx context.Context, pool *pgxpool.Pool, id int64) (row, table int64, err error) {
	err = pool.QueryRow(ctx, `SELECT pg_column_size(v.*), pg_total_relation_size('plan_views')
		FROM plan_views v WHERE plan_id = $1`, id).Scan(&row, &table)
	return row, table, err
}
