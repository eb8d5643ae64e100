package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// createLevels are the CreatePlan client counts of step 2.
var createLevels = []int{1, 16, 64}

// Targets of the issue.
const (
	targetCreateRatio = 0.7
	targetCreateP99Ms = 25.0
	targetLagP99Ms    = 100.0
	targetScanRatio   = 0.7
	targetWebhooks    = 5000.0
	targetEmails      = 2000.0
)

// apiClient sends authenticated requests to one server.
type apiClient struct {
	base, key string
	http      *http.Client
	seq       atomic.Int64 // plan counter: distinct plans
	ids       [][]int64    // created plan ids, per load client
}

func newAPIClient(base, key string, clients int) *apiClient {
	return &apiClient{base: base, key: key, http: newHTTPClient(clients), ids: make([][]int64, clients)}
}

func (a *apiClient) do(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("User-Agent", benchUserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, lastBytes(string(b), 200))
	}
	return b, nil
}

// create is one CreatePlan request of a distinct plan (load client c).
func (a *apiClient) create(ctx context.Context, c int) error {
	b, err := a.do(ctx, http.MethodPost, "/api/v1/plans", planBody(a.seq.Add(1)), http.StatusCreated)
	if err != nil {
		return err
	}
	id, ok := planIDFromBody(b)
	if !ok {
		return fmt.Errorf("201 without plan_id: %s", lastBytes(string(b), 200))
	}
	a.ids[c] = append(a.ids[c], id)
	return nil
}

func (a *apiClient) allIDs() []int64 {
	var out []int64
	for _, ids := range a.ids {
		out = append(out, ids...)
	}
	return out
}

// httpGroups are steps 2, 3 and 7 on one real `goodplan serve`.
func (r *runner) httpGroups(ctx context.Context) error {
	bin, err := r.binary(ctx)
	if err != nil {
		return err
	}
	dbURL, err := r.dbs.create(ctx, false) // the CLI migrates it
	if err != nil {
		return err
	}
	env := goodplanEnv("DATABASE_URL="+dbURL, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+filepath.Join(r.tmp, "serve-data"),
		"NATS_URL=", "SMTP_URL=")
	out, _, err := runCLI(ctx, bin, env, "accounts", "create", "--name", "Bench Merchant", "--rate-limit", "0")
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
	key := strings.TrimSpace(out)
	// METRICS_ADDR: its listener serves /debug/pprof/ for the profile of
	// the 16-client phase.
	srv, err := startServe(ctx, bin, append(env, "METRICS_ADDR=127.0.0.1:0"))
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			progress("serve: %v", err)
		}
	}()
	pid := srv.cmd.Process.Pid
	progress("serve: pid %d listening on %s (account %d)", pid, srv.Base, acct)
	api := newAPIClient(srv.Base, key, max(createLevels[len(createLevels)-1], 16))
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	mcpu0, _ := machineCPU()
	dbName := conn.Config().Database
	pg0, err := pgBackendsCPU(ctx, conn, dbName)
	if err != nil {
		return err
	}
	plans := 0
	if r.groups["http"] {
		for _, n := range createLevels {
			progress("http: CreatePlan, %d %s, %s after %s warm-up", n, plural(n, "client"), r.s.duration, r.s.warmup)
			var prof *createProfile
			if n == 16 {
				prof = r.startCreateProfile(ctx, srv, dbURL, dbName)
			}
			res := runLoad(ctx, loadSpec{Clients: n, Warmup: r.s.warmup, Duration: r.s.duration}, api.create)
			plans += res.TotalOK
			if err := srv.Alive(); err != nil {
				return err
			}
			r.add(r.createRow(n, res))
			if prof != nil {
				prof.finish(r)
			}
		}
	} else {
		progress("reads: creating plans to read (untimed), 16 clients for %s", 2*r.s.duration/5)
		res := runLoad(ctx, loadSpec{Clients: 16, Duration: 2 * r.s.duration / 5}, api.create)
		plans += res.TotalOK
	}
	cpu1, _ := procCPU(pid)
	drained := waitCount(ctx, conn, `SELECT count(*) FROM plan_views`, int64(plans), r.s.drainTimeout)
	cpu2, _ := procCPU(pid)
	mcpu2, _ := machineCPU()
	pg2, err := pgBackendsCPU(ctx, conn, dbName)
	if err != nil {
		return err
	}
	hwm, err := procHWM(pid)
	if err != nil {
		return err
	}
	if plans == 0 {
		return fmt.Errorf("no plan was created: see the errors above")
	}
	if r.groups["http"] {
		per := 1000 / float64(plans)
		drainNote := ""
		if !drained {
			drainNote = fmt.Sprintf(" (the read model had not caught up after %s)", r.s.drainTimeout)
		}
		r.add(Row{Group: "cost", Name: "serve CPU per 1,000 plans (requests only)", Value: (cpu1 - cpu0) * per, Unit: "CPU s",
			Note: fmt.Sprintf("utime+stime of the serve process over the CreatePlan phases (warm-ups included), %d plans", plans)})
		r.add(Row{Group: "cost", Name: "serve CPU per 1,000 plans (incl. relay + projection)", Value: (cpu2 - cpu0) * per, Unit: "CPU s",
			Note: "as above, until the read model has every plan" + drainNote})
		r.add(Row{Group: "cost", Name: "PostgreSQL CPU per 1,000 plans (its backends)", Value: cpuDelta(pg0, pg2) * per, Unit: "CPU s",
			Note: fmt.Sprintf("utime+stime of the backends serving the bench database, same span; not counted: WAL writer, "+
				"checkpointer. The whole machine (every process, other jobs included) was busy %.1f CPU s per 1,000 plans",
				(mcpu2-mcpu0)*per)})
		r.add(Row{Group: "cost", Name: "serve peak memory (VmHWM)", Value: hwm, Unit: "MiB",
			Note: fmt.Sprintf("peak resident set of the serve process after %d plans created and projected", plans)})
	}
	if r.groups["reads"] {
		if err := r.reads(ctx, api, conn, acct); err != nil {
			return err
		}
		if err := srv.Alive(); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) createRow(n int, res loadResult) Row {
	p50, p99 := res.Lat.p50p99()
	row := Row{Group: "http", Name: fmt.Sprintf("CreatePlan over HTTP, %d %s", n, plural(n, "client")), Value: res.Rate(), Unit: "plans/s",
		P50Ms: p50, P99Ms: p99, Errors: res.Errors, Note: describeErrors(res)}
	if n == 16 {
		row.Target = fmt.Sprintf(">= %.2f x raw append, p99 <= %.0f ms", targetCreateRatio, targetCreateP99Ms)
		if r.rawAppendRate > 0 {
			row.Ratio, row.RatioTo = f64(res.Rate()/r.rawAppendRate), "raw append"
			ok := *row.Ratio >= targetCreateRatio && p99 != nil && *p99 <= targetCreateP99Ms && res.Errors == 0
			row.Result = passMiss(ok)
		}
	}
	return row
}

// waitCount polls query until it returns at least want, for up to timeout.
func waitCount(ctx context.Context, conn *pgx.Conn, query string, want int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		var n int64
		if err := conn.QueryRow(ctx, query).Scan(&n); err == nil && n >= want {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reads is step 3: GET one plan and GET a page of the list, 16 clients.
func (r *runner) reads(ctx context.Context, api *apiClient, conn *pgx.Conn, acct int64) error {
	ids := api.allIDs()
	if len(ids) == 0 {
		return fmt.Errorf("reads: no plans were created")
	}
	var total int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM plan_views WHERE account_id = $1`, acct).Scan(&total); err != nil {
		return err
	}
	getOne := func(ctx context.Context, c int) error {
		id := ids[rand.IntN(len(ids))]
		_, err := api.do(ctx, http.MethodGet, "/api/v1/plans/"+strconv.FormatInt(id, 10), nil, http.StatusOK)
		return err
	}
	// Offsets stay under the API's cap (deeper pages are paged by
	// starting_after; the list group measures both at 1,000,000 plans).
	offsets := max(min(total, listMaxOffset)-20, 1)
	list := func(ctx context.Context, c int) error {
		off := rand.Int64N(offsets)
		_, err := api.do(ctx, http.MethodGet, "/api/v1/plans?limit=20&offset="+strconv.FormatInt(off, 10), nil, http.StatusOK)
		return err
	}
	for _, rd := range []struct {
		name string
		do   request
		note string
	}{
		{"GET /api/v1/plans/{id}, 16 clients", getOne, fmt.Sprintf("random ids of the %d plans created", len(ids))},
		{"GET /api/v1/plans?limit=20&offset=<random>, 16 clients", list, fmt.Sprintf("offset uniform in [0, %d) of %d plans", offsets, total)},
	} {
		progress("reads: %s, %s after %s warm-up", rd.name, r.s.duration, r.s.warmup)
		res := runLoad(ctx, loadSpec{Clients: 16, Warmup: r.s.warmup, Duration: r.s.duration}, rd.do)
		p50, p99 := res.Lat.p50p99()
		note := joinNotes(rd.note, describeErrors(res))
		r.add(Row{Group: "reads", Name: rd.name, Value: res.Rate(), Unit: "requests/s", P50Ms: p50, P99Ms: p99,
			Errors: res.Errors, Note: note})
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// createProfile is the profile of serve and the sampling of PostgreSQL
// during the 16-client CreatePlan phase (see profile.go).
type createProfile struct {
	stopPG  context.CancelFunc
	pgDone  chan struct{}
	pg      *pgActivity
	pgErr   error
	cpuDone chan struct{}
	cpu     []byte
	cpuErr  error
}

// startCreateProfile starts both after the phase's warm-up, for its
// measured duration.
func (r *runner) startCreateProfile(ctx context.Context, srv *serveProc, dbURL, dbName string) *createProfile {
	p := &createProfile{pgDone: make(chan struct{}), cpuDone: make(chan struct{})}
	base := srv.MetricsBase()
	pgCtx, stop := context.WithCancel(ctx)
	p.stopPG = stop
	go func() {
		defer close(p.cpuDone)
		if base == "" {
			p.cpuErr = fmt.Errorf("serve logged no metrics listener")
			return
		}
		time.Sleep(r.s.warmup)
		p.cpu, p.cpuErr = fetchCPUProfile(ctx, base, r.s.duration)
	}()
	go func() {
		defer close(p.pgDone)
		time.Sleep(r.s.warmup)
		p.pg, p.pgErr = samplePGActivity(pgCtx, dbURL, dbName)
	}()
	return p
}

// finish waits for the profile, writes it beside the results and adds
// the breakdowns to the notes.
func (p *createProfile) finish(r *runner) {
	p.stopPG()
	<-p.pgDone
	<-p.cpuDone
	if p.pgErr != nil {
		r.note("PostgreSQL activity during CreatePlan, 16 clients: sampling failed: %v", p.pgErr)
	} else {
		r.note("PostgreSQL activity during CreatePlan, 16 clients (pg_stat_activity every 10 ms, the bench database's backends): %s", p.pg)
	}
	if p.cpuErr != nil {
		r.note("serve CPU profile during CreatePlan, 16 clients: failed: %v", p.cpuErr)
		return
	}
	path := filepath.Join(r.outDir, r.rep.StartedAt.UTC().Format("20060102T150405Z")+"-serve-create16.pprof")
	if err := os.MkdirAll(r.outDir, 0o755); err != nil {
		r.note("serve CPU profile during CreatePlan, 16 clients: %v", err)
		return
	}
	if err := os.WriteFile(path, p.cpu, 0o644); err != nil {
		r.note("serve CPU profile during CreatePlan, 16 clients: %v", err)
		return
	}
	shares, total, err := cpuBreakdown(p.cpu)
	if err != nil {
		r.note("serve CPU profile during CreatePlan, 16 clients: %v", err)
		return
	}
	r.note("serve CPU profile during CreatePlan, 16 clients (%s CPU over %s, %s; `go tool pprof -top` reads it): %s",
		total.Round(10*time.Millisecond), r.s.duration, filepath.Base(path), fmtShares(shares, total))
}
