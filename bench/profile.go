package main

// Where the CreatePlan time goes, measured during the 16-client phase of
// the http group: a CPU profile of the serve process (from its
// METRICS_ADDR listener's /debug/pprof/profile) split by the part of the
// service each sample belongs to, and samples of pg_stat_activity saying
// what the bench database's backends were doing.

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"
)

// cpuPart is a rule of cpuBreakdown: the first part (walking a sample's
// stack from the goroutine's start towards the leaf) whose prefix matches
// a frame's function takes the sample.
type cpuPart struct{ prefix, name string }

var cpuParts = []cpuPart{
	{"runtime.gcBgMarkWorker", "garbage collector (background marking)"},
	{"github.com/nats-io/nats-server/", "embedded NATS server (JetStream store, delivery to consumers)"},
	{"net/http.(*conn).serve", "HTTP requests (router, auth, decide, group-commit append, response)"},
	{"goodplan/workers.(*Relay)", "relay (events to JetStream)"},
	{"goodplan/workers.", "consumers (projection, webhook fan-out, email, catalog)"},
	{"goodplan/projections.", "consumers (projection, webhook fan-out, email, catalog)"},
	{"github.com/nats-io/nats.go", "NATS client (acks, fetches)"},
	{"github.com/jackc/pgx/", "pgx outside a request (pool, listeners)"},
	{"runtime.", "Go runtime (scheduler, other GC work)"},
}

// share is one part's CPU time in a profile.
type share struct {
	Part string
	CPU  time.Duration
}

// cpuBreakdown reads a CPU profile and sums its samples by cpuParts; the
// rest is "other". Shares are sorted largest first.
func cpuBreakdown(raw []byte) ([]share, time.Duration, error) {
	p, err := profile.Parse(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, err
	}
	idx := slices.IndexFunc(p.SampleType, func(st *profile.ValueType) bool { return st.Type == "cpu" })
	if idx < 0 {
		return nil, 0, fmt.Errorf("no cpu sample type in the profile")
	}
	sums := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		sums[classify(s)] += v
	}
	out := make([]share, 0, len(sums))
	for part, ns := range sums {
		out = append(out, share{Part: part, CPU: time.Duration(ns)})
	}
	slices.SortFunc(out, func(a, b share) int { return cmp.Compare(b.CPU, a.CPU) })
	return out, time.Duration(total), nil
}

// classify names the part of a sample: the stack runs leaf first, so it
// is walked from its end (the goroutine's start).
func classify(s *profile.Sample) string {
	var frames []string
	for _, loc := range s.Location {
		for _, l := range loc.Line { // inlined frames first, the caller last
			if l.Function != nil {
				frames = append(frames, l.Function.Name)
			}
		}
	}
	for i := len(frames) - 1; i >= 0; i-- {
		for _, r := range cpuParts {
			if strings.HasPrefix(frames[i], r.prefix) {
				return r.name
			}
		}
	}
	return "other"
}

// fetchCPUProfile takes a CPU profile of d from a serve's metrics
// listener (base is its http://host:port).
func fetchCPUProfile(ctx context.Context, base string, d time.Duration) ([]byte, error) {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), nil)
	if err != nil {
		return nil, err
	}
	res, err := (&http.Client{Timeout: d + time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /debug/pprof/profile: %d %s", res.StatusCode, lastBytes(string(b), 200))
	}
	return b, nil
}

// fmtShares is the breakdown as "part 41% (0.82 CPU s), ...".
func fmtShares(shares []share, total time.Duration) string {
	parts := make([]string, 0, len(shares))
	for _, s := range shares {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s.Part, 100*float64(s.CPU)/float64(max(total, 1))))
	}
	return strings.Join(parts, ", ")
}

// pgActivity counts what a database's backends were doing, sampled from
// pg_stat_activity.
type pgActivity struct {
	samples int            // polls taken
	busy    int            // backend-samples not idle
	by      map[string]int // busy backend-samples by "CPU: query" or "wait type:event"
}

var spaces = regexp.MustCompile(`\s+`)

// samplePGActivity polls pg_stat_activity for dbName every 10 ms on its
// own connection until ctx is done.
func samplePGActivity(ctx context.Context, dbURL, dbName string) (*pgActivity, error) {
	conn, err := pgx.Connect(context.WithoutCancel(ctx), dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	a := &pgActivity{by: map[string]int{}}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return a, nil
		case <-tick.C:
		}
		rows, err := conn.Query(context.WithoutCancel(ctx), `SELECT coalesce(wait_event_type, ''), coalesce(wait_event, ''), left(query, 60)
			FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active'`, dbName)
		if err != nil {
			return a, err
		}
		a.samples++
		for rows.Next() {
			var wt, we, q string
			if err := rows.Scan(&wt, &we, &q); err != nil {
				rows.Close()
				return a, err
			}
			a.busy++
			key := "CPU: " + strings.TrimSpace(spaces.ReplaceAllString(q, " "))
			if wt != "" {
				key = "wait " + wt + ":" + we + " in " + strings.TrimPrefix(key, "CPU: ")
			}
			a.by[key]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return a, err
		}
	}
}

// String is the mean number of active backends and the largest shares of
// their samples.
func (a *pgActivity) String() string {
	if a == nil || a.samples == 0 {
		return "no samples"
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range a.by {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(x, y kv) int { return cmp.Or(cmp.Compare(y.n, x.n), strings.Compare(x.k, y.k)) })
	parts := []string{}
	for i, e := range all {
		if i == 8 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", e.k, 100*float64(e.n)/float64(max(a.busy, 1))))
	}
	return fmt.Sprintf("%.2f backends active on average over %d samples; of their time: %s",
		float64(a.busy)/float64(a.samples), a.samples, strings.Join(parts, "; "))
}
