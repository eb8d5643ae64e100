package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"goodplan/eventstore"
)

// cliSummary is what the bench reads of `goodplan replay --json` and
// `goodplan verify --json`.
type cliSummary struct {
	OK          bool    `json:"ok"`
	Events      int64   `json:"events"`
	Plans       int64   `json:"plans"`
	Streams     int64   `json:"streams"`
	Differences int     `json:"differences"`
	Swapped     bool    `json:"swapped"`
	Seconds     float64 `json:"seconds"`
}

func parseSummary(out string) (cliSummary, error) {
	var s cliSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return s, fmt.Errorf("unexpected output %q: %w", lastBytes(out, 500), err)
	}
	return s, nil
}

func secs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

// replayGroup is step 5 (and the raw scan baseline, 1b): a generated
// dataset of r.s.events events, then `goodplan replay` and `goodplan
// verify` timed as subprocesses, as ratios of the raw scan.
func (r *runner) replayGroup(ctx context.Context) error {
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
	plans, second := datasetSize(r.s.events)
	progress("replay: generating %d events (%d plans, %d with a second event), untimed", r.s.events, plans, second)
	start := time.Now()
	err = generateDataset(ctx, pool, acct.ID, r.s.events)
	pool.Close()
	if err != nil {
		return fmt.Errorf("generate dataset: %w", err)
	}
	genTime := time.Since(start)
	progress("replay: dataset ready in %s (COPY and VACUUM ANALYZE included)", genTime.Round(100*time.Millisecond))
	r.note("replay dataset: %d events (%d plans, %d with introduction_email.sent) generated and loaded in %s, not timed",
		r.s.events, plans, second, genTime.Round(100*time.Millisecond))

	// The raw scan is the baseline: best of two runs over a warm cache.
	var best float64
	var runs []string
	for range 2 {
		n, d, err := rawScan(ctx, dbURL)
		if err != nil {
			return err
		}
		if n != int64(r.s.events) {
			return fmt.Errorf("raw scan read %d events, want %d", n, r.s.events)
		}
		rate := float64(n) / d.Seconds()
		best = max(best, rate)
		runs = append(runs, fmt.Sprintf("%.0f/s in %s", rate, d.Round(time.Millisecond)))
	}
	r.rawScanRate = best
	r.add(Row{Group: "baseline", Name: "raw scan of events (pgx, every column)", Value: best, Unit: "events/s",
		Note: fmt.Sprintf("SELECT * FROM events over %d events, best of 2 (%s)", r.s.events, runs)})
	if !r.groups["replay"] {
		return nil
	}

	bin, err := r.binary(ctx)
	if err != nil {
		return err
	}
	env := goodplanEnv("DATABASE_URL=" + dbURL)
	progress("replay: goodplan replay --swap --wait 1s (untimed: fills plan_views)")
	out, d, err := runCLI(ctx, bin, env, "replay", "--swap", "--wait", "1s", "--json")
	// plan_views starts empty, so this run reports every plan as missing
	// from the live read model and exits 1, after swapping.
	sum, perr := parseSummary(out)
	if err != nil && (perr != nil || !sum.Swapped) {
		return err
	}
	if perr == nil {
		progress("replay: swap run took %s (replay's own report: %s, %d differences against the empty read model)",
			d.Round(time.Millisecond), secs(sum.Seconds), sum.Differences)
	}

	progress("replay: goodplan replay (timed)")
	out, d, err = runCLI(ctx, bin, env, "replay", "--json")
	if err != nil {
		return err
	}
	if sum, err = parseSummary(out); err != nil {
		return fmt.Errorf("goodplan replay: %w", err)
	}
	row := Row{Group: "replay", Name: "goodplan replay", Value: float64(sum.Events) / d.Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%d events into %d plans, %d differences; wall time of the subprocess %s (its own report: %s)",
			sum.Events, sum.Plans, sum.Differences, d.Round(time.Millisecond), secs(sum.Seconds))}
	r.scanTarget(&row, sum.Differences == 0, 0, targetReplayRate)
	r.add(row)

	progress("replay: goodplan verify (timed)")
	out, d, err = runCLI(ctx, bin, env, "verify", "--json")
	if err != nil {
		return err
	}
	if sum, err = parseSummary(out); err != nil {
		return fmt.Errorf("goodplan verify: %w", err)
	}
	row = Row{Group: "replay", Name: "goodplan verify", Value: float64(sum.Events) / d.Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%d events in %d streams, every chain intact; wall time of the subprocess %s (its own report: %s)",
			sum.Events, sum.Streams, d.Round(time.Millisecond), secs(sum.Seconds))}
	r.scanTarget(&row, sum.OK, targetVerifyRatio, 0)
	r.add(row)
	return nil
}

// The targets of issue 13: replay at least 100,000 events/s (1M events in
// 10 s), verify at least 0.9 of the raw scan.
const (
	targetReplayRate  = 100_000
	targetVerifyRatio = 0.9
)

// scanTarget sets row's ratio to the raw scan and its result against
// minRatio of it, or against minRate events/s when minRate is set.
func (r *runner) scanTarget(row *Row, correct bool, minRatio, minRate float64) {
	if r.rawScanRate > 0 {
		row.Ratio, row.RatioTo = f64(row.Value/r.rawScanRate), "raw scan"
	}
	if minRate > 0 {
		row.Target = fmt.Sprintf(">= %.0f events/s", minRate)
		row.Result = passMiss(row.Value >= minRate && correct)
		return
	}
	row.Target = fmt.Sprintf(">= %.2f x raw scan", minRatio)
	if row.Ratio != nil {
		row.Result = passMiss(*row.Ratio >= minRatio && correct)
	}
}
