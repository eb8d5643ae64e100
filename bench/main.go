// Command bench is goodplan's benchmark harness (issue 5): the machine's
// physical baselines (raw pgx appends, a raw scan of the events table) and,
// as ratios of them, CreatePlan over HTTP through the real server, reads,
// pipeline latency, replay and verify over a million events, webhook and
// email delivery, and the server's cost per 1,000 plans. It prints progress
// on stderr, the results table on stdout, and writes the table as JSON and
// Markdown under bench/results/. Targets are evaluated (PASS/MISS), never
// asserted: the exit status is non-zero only when something failed to run.
//
//	go run ./bench [-quick] [-only baseline,http,reads,list,pipeline,replay,delivery,age,dashboard] [-out DIR] [-events N] [-list-plans N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// groupOrder is every measurement group, in table order.
var groupOrder = []string{"baseline", "http", "reads", "cost", "list", "pipeline", "replay", "delivery", "age", "dashboard", "ratelimit"}

// selectable are the groups -only accepts (cost comes with http).
var selectable = []string{"baseline", "http", "reads", "list", "pipeline", "replay", "delivery", "age", "dashboard", "ratelimit"}

// settings are the run's sizes and durations.
type settings struct {
	quick            bool
	warmup, duration time.Duration
	events           int
	webhookEndpoints int
	webhooksPerEP    int
	emails           int
	drainTimeout     time.Duration
	listPlans        int // plans of the list group
}

// runner holds what the groups share.
type runner struct {
	s       settings
	groups  map[string]bool
	dbs     *databases
	rep     *Report
	root    string // the module root
	outDir  string // where the results go
	tmp     string
	bin     string // goodplan binary, built on first use
	started time.Time

	rawAppendRate float64 // appends/s, 0 if not measured
	rawScanRate   float64 // events/s, 0 if not measured
}

var runStart = time.Now()

// progress prints a progress line on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(runStart).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "smoke run: every duration 2 s, 100k events, a quarter of the deliveries")
	only := fs.String("only", "", "comma list of groups to run: "+strings.Join(selectable, ","))
	out := fs.String("out", "", "results directory (default bench/results in the module)")
	events := fs.Int("events", 1_000_000, "events in the replay/verify dataset (-quick: 100000)")
	listPlans := fs.Int("list-plans", 1_000_000, "plans of one account for the list group (-quick: 100000)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the harness process to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	s := settings{quick: *quick, warmup: time.Second, duration: 10 * time.Second, events: *events,
		webhookEndpoints: 4, webhooksPerEP: 10_000, emails: 10_000, drainTimeout: time.Minute, listPlans: *listPlans}
	eventsSet, listSet := false, false
	fs.Visit(func(f *flag.Flag) {
		eventsSet, listSet = eventsSet || f.Name == "events", listSet || f.Name == "list-plans"
	})
	if s.quick {
		s.warmup, s.duration = 500*time.Millisecond, 2*time.Second
		s.webhooksPerEP, s.emails, s.drainTimeout = 2_500, 2_500, 30*time.Second
		if !eventsSet {
			s.events = 100_000
		}
		if !listSet {
			s.listPlans = 100_000
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if s.events < 1000 {
		return errors.New("-events must be at least 1000")
	}
	if s.listPlans < 1000 {
		return errors.New("-list-plans must be at least 1000")
	}
	groups := map[string]bool{}
	if *only == "" {
		for _, g := range selectable {
			groups[g] = true
		}
	} else {
		for g := range strings.SplitSeq(*only, ",") {
			g = strings.TrimSpace(g)
			if !slices.Contains(selectable, g) {
				return fmt.Errorf("-only: unknown group %q (want %s)", g, strings.Join(selectable, ","))
			}
			groups[g] = true
		}
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	outDir := *out
	if outDir == "" {
		outDir = filepath.Join(root, "bench", "results")
	}
	tmp, err := os.MkdirTemp("", "goodplan-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	r := &runner{s: s, groups: groups, dbs: newDatabases(), root: root, outDir: outDir, tmp: tmp, started: time.Now().UTC(),
		rep: &Report{StartedAt: time.Now().UTC(), Args: args, Quick: s.quick}}
	defer r.dbs.dropAll()
	for _, g := range selectable {
		if groups[g] {
			r.rep.Groups = append(r.rep.Groups, g)
		}
	}
	if r.rep.Machine, err = r.machine(ctx); err != nil {
		return err
	}
	progress("bench: groups %s; %d CPUs, PostgreSQL %s; databases goodplan_bench_%d_*",
		strings.Join(r.rep.Groups, ","), r.rep.Machine.NumCPU, r.rep.Machine.PostgresVersion, r.dbs.stamp)

	var failures []error
	step := func(name string, f func(context.Context) error) {
		if ctx.Err() != nil {
			return
		}
		if err := f(ctx); err != nil {
			progress("%s: FAILED: %v", name, err)
			failures = append(failures, fmt.Errorf("%s: %w", name, err))
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s FAILED: %s", name, firstLine(err.Error())))
		}
	}
	if groups["baseline"] {
		step("baseline", r.baselineAppend)
	}
	if groups["http"] || groups["reads"] {
		step("http", r.httpGroups)
	}
	if groups["list"] {
		step("list", r.listGroup)
	}
	if groups["pipeline"] {
		step("pipeline", r.pipeline)
	}
	if groups["baseline"] || groups["replay"] {
		step("replay", r.replayGroup)
	}
	if groups["delivery"] {
		step("delivery", r.delivery)
	}
	if groups["age"] {
		step("age", r.ageGroup) // issue 13 item 6: bench/age.go
	}
	if groups["dashboard"] {
		step("dashboard", r.dashboardGroup)
	}
	if groups["ratelimit"] {
		step("ratelimit", r.rateLimitGroup)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}

	slices.SortStableFunc(r.rep.Rows, func(a, b Row) int {
		return slices.Index(groupOrder, a.Group) - slices.Index(groupOrder, b.Group)
	})
	r.rep.WallSeconds = time.Since(runStart).Seconds()
	r.rep.Machine.LoadAvgEnd = loadAvg()
	writeText(os.Stdout, r.rep)
	files, err := writeFiles(outDir, r.rep)
	if err != nil {
		failures = append(failures, fmt.Errorf("write results: %w", err))
	}
	progress("wrote %s", strings.Join(files, ", "))
	return errors.Join(failures...)
}

func (r *runner) add(row Row) {
	r.rep.Rows = append(r.rep.Rows, row)
	line := fmt.Sprintf("%s: %s %s", row.Name, fmtNum(row.Value), row.Unit)
	if row.P50Ms != nil {
		line += fmt.Sprintf(", p50 %s, p99 %s", fmtMs(row.P50Ms), fmtMs(row.P99Ms))
	}
	if row.Ratio != nil {
		line += ", " + fmtRatio(row)
	}
	if row.Result != "" {
		line += ", " + row.Result
	}
	progress("%s", line)
}

func (r *runner) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

// binary builds cmd/goodplan once.
func (r *runner) binary(ctx context.Context) (string, error) {
	if r.bin != "" {
		return r.bin, nil
	}
	progress("building cmd/goodplan")
	bin, err := buildBinary(ctx, r.root, r.tmp)
	r.bin = bin
	return bin, err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// moduleRoot is the directory of the goodplan go.mod at or above the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module goodplan\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the harness inside the goodplan module (go run ./bench)")
		}
		dir = parent
	}
}
