package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"goodplan/eventstore"
)

var (
	replayRE = regexp.MustCompile(`replayed (\d+) events into (\d+) plans in (\S+): (\d+) differences`)
	verifyRE = regexp.MustCompile(`ok: (\d+) events in (\d+) streams`)
)

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
	out, d, err := runCLI(ctx, bin, env, "replay", "--swap", "--wait", "1s")
	// plan_views starts empty, so this run reports every plan as missing
	// from the live read model and exits 1, after swapping.
	if err != nil && !strings.Contains(out, "swapped: the rebuilt read model is now live") {
		return err
	}
	if m := replayRE.FindStringSubmatch(out); m != nil {
		progress("replay: swap run took %s (replay's own report: %s, %s differences against the empty read model)",
			d.Round(time.Millisecond), m[3], m[4])
	}

	progress("replay: goodplan replay (timed)")
	out, d, err = runCLI(ctx, bin, env, "replay")
	if err != nil {
		return err
	}
	m := replayRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("goodplan replay: unexpected output %q", lastBytes(out, 500))
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	diffs := m[4]
	row := Row{Group: "replay", Name: "goodplan replay", Value: float64(n) / d.Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%s events into %s plans, %s differences; wall time of the subprocess %s (its own report: %s)",
			m[1], m[2], diffs, d.Round(time.Millisecond), m[3])}
	r.scanTarget(&row, diffs == "0")
	r.add(row)

	progress("replay: goodplan verify (timed)")
	out, d, err = runCLI(ctx, bin, env, "verify")
	if err != nil {
		return err
	}
	m = verifyRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("goodplan verify: unexpected output %q", lastBytes(out, 500))
	}
	n, _ = strconv.ParseInt(m[1], 10, 64)
	row = Row{Group: "replay", Name: "goodplan verify", Value: float64(n) / d.Seconds(), Unit: "events/s",
		Note: fmt.Sprintf("%s events in %s streams, every chain intact; wall time of the subprocess %s", m[1], m[2], d.Round(time.Millisecond))}
	r.scanTarget(&row, true)
	r.add(row)
	return nil
}

func (r *runner) scanTarget(row *Row, correct bool) {
	row.Target = fmt.Sprintf(">= %.2f x raw scan", targetScanRatio)
	if r.rawScanRate > 0 {
		row.Ratio, row.RatioTo = f64(row.Value/r.rawScanRate), "raw scan"
		row.Result = passMiss(*row.Ratio >= targetScanRatio && correct)
	}
}
