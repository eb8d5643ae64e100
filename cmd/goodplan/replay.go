package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"goodplan/eventstore"
	"goodplan/projections"
)

// replayCmd and verifyCmd read every event, which takes a minute or more
// on a few million. On a terminal they show their progress on stderr
// (see progressLine); they end with a one-line summary on stdout, or with
// --json a JSON summary on stdout instead (replaySummary, verifySummary)
// for scripts and CI. The exit status is the same either way.

// replaySummary is `goodplan replay --json`.
type replaySummary struct {
	Command         string        `json:"command"` // "replay"
	OK              bool          `json:"ok"`      // no difference and every stream rebuilt
	Events          int64         `json:"events"`  // plan events
	Plans           int64         `json:"plans"`
	CatalogEvents   int64         `json:"catalog_events"`
	CatalogPlans    int64         `json:"catalog_plans"`
	GroupEvents     int64         `json:"group_events"`
	Groups          int64         `json:"groups"`
	Differences     int           `json:"differences"`
	NotRebuilt      int           `json:"not_rebuilt"`
	Swapped         bool          `json:"swapped"`
	Seconds         float64       `json:"seconds"`
	EventsPerSecond float64       `json:"events_per_second"` // every event read, over Seconds
	Diffs           []summaryDiff `json:"diffs"`
	Failed          []summaryFail `json:"failed"`
}

type summaryDiff struct {
	Kind     string         `json:"kind"` // "plan", "catalog plan", "plan group"
	ID       int64          `json:"id"`
	PublicID string         `json:"public_id,omitempty"`
	Reason   string         `json:"reason"`
	Fields   []summaryField `json:"fields"` // empty when a whole row is missing on one side
}

// summaryField is a column that differs, each side as JSON text.
type summaryField struct {
	Column  string `json:"column"`
	Rebuilt string `json:"rebuilt"`
	Live    string `json:"live"`
}

type summaryFail struct {
	StreamID string `json:"stream_id"`
	Reason   string `json:"reason"`
}

func replayCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	doSwap := fs.Bool("swap", false, "make the rebuilt read model the live one after comparing")
	wait := fs.Duration("wait", 10*time.Second, "how long a live row that is only behind (projection lag) may take to catch up")
	asJSON := fs.Bool("json", false, "print the summary as JSON on stdout (no progress, no text)")
	if err := parseFlags(fs, args, stderr, "replay [--swap] [--wait 10s] [--json]"); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	// A replay allocates per plan and holds little (digests, the streams
	// in flight): collecting garbage less often saves a tenth of its CPU.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	progress := &eventstore.Progress{}
	total, err := store.EstimateEvents(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	line := startProgress(stderr, isTerminal(stderr), "replay", total, progress)
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{Swap: *doSwap, CatchUpWait: *wait, Progress: progress})
	line.Stop()
	if err != nil {
		return err
	}
	took := time.Since(start)
	all := res.Events + res.CatalogEvents + res.GroupEvents
	var errs []error
	if len(res.Failed) > 0 {
		errs = append(errs, fmt.Errorf("replay: %d streams could not be rebuilt (the others were)", len(res.Failed)))
	}
	if len(res.Diffs) > 0 {
		errs = append(errs, fmt.Errorf("replay: the live read models differ from the events in %d rows", len(res.Diffs)))
	}
	if *asJSON {
		sum := replaySummary{Command: "replay", OK: len(errs) == 0, Events: res.Events, Plans: res.Plans,
			CatalogEvents: res.CatalogEvents, CatalogPlans: res.CatalogPlans, GroupEvents: res.GroupEvents, Groups: res.Groups,
			Differences: len(res.Diffs), NotRebuilt: len(res.Failed), Swapped: res.Swapped,
			Seconds: took.Seconds(), EventsPerSecond: perSecond(all, took),
			Diffs: []summaryDiff{}, Failed: []summaryFail{}}
		for _, d := range res.Diffs {
			kind := d.Kind
			if kind == "" {
				kind = "plan"
			}
			sd := summaryDiff{Kind: kind, ID: d.PlanID, PublicID: d.PublicID, Reason: d.Reason, Fields: []summaryField{}}
			for _, f := range d.Fields {
				sd.Fields = append(sd.Fields, summaryField{Column: f.Column, Rebuilt: f.Rebuilt, Live: f.Live})
			}
			sum.Diffs = append(sum.Diffs, sd)
		}
		for _, f := range res.Failed {
			sum.Failed = append(sum.Failed, summaryFail{StreamID: f.StreamID, Reason: f.Reason})
		}
		if err := writeJSON(stdout, sum); err != nil {
			return err
		}
		return errors.Join(errs...)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(stdout, "cannot rebuild %s\n", f)
	}
	for _, d := range res.Diffs {
		fmt.Fprintln(stdout, d)
	}
	fmt.Fprintf(stdout, "replayed %d events into %d plans, %d events into %d catalog plans and %d events into %d plan groups in %s (%s events/s): %d differences, %d streams not rebuilt\n",
		res.Events, res.Plans, res.CatalogEvents, res.CatalogPlans, res.GroupEvents, res.Groups,
		took.Round(time.Millisecond), thousands(int64(perSecond(all, took))), len(res.Diffs), len(res.Failed))
	if res.Swapped {
		fmt.Fprintln(stdout, "swapped: the rebuilt read model is now live")
	}
	return errors.Join(errs...)
}

// verifySummary is `goodplan verify --json`.
type verifySummary struct {
	Command         string  `json:"command"` // "verify"
	OK              bool    `json:"ok"`      // every chain intact and the catalog agrees
	Events          int64   `json:"events"`  // events checked (up to the first bad one)
	Streams         int64   `json:"streams"`
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	// FirstBadEvent is the first event (or stream head) whose chain does
	// not hold; null when every chain holds.
	FirstBadEvent   *badEvent `json:"first_bad_event"`
	CatalogPlans    int64     `json:"catalog_plans"`
	Reservations    int64     `json:"reservations"`
	PlanGroups      int64     `json:"plan_groups"`
	Prices          int64     `json:"prices"`
	CatalogProblems []string  `json:"catalog_problems"`
}

// badEvent is an eventstore.ChainError in the JSON summary; position,
// version and event_id are 0 and empty for a stream head.
type badEvent struct {
	Position int64  `json:"position"`
	StreamID string `json:"stream_id"`
	Version  int64  `json:"version"`
	EventID  string `json:"event_id"`
	Reason   string `json:"reason"`
}

func verifyCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the summary as JSON on stdout (no progress, no text)")
	if err := parseFlags(fs, args, stderr, "verify [--json]"); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	progress := &eventstore.Progress{}
	total, err := store.EstimateEvents(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	line := startProgress(stderr, isTerminal(stderr), "verify", total, progress)
	res, err := store.VerifyProgress(ctx, progress)
	line.Stop()
	sum := verifySummary{Command: "verify", Events: res.Events, Streams: res.Streams, CatalogProblems: []string{}}
	finish := func() {
		took := time.Since(start)
		sum.Seconds, sum.EventsPerSecond = took.Seconds(), perSecond(sum.Events, took)
	}
	var ce *eventstore.ChainError
	if errors.As(err, &ce) {
		finish()
		sum.FirstBadEvent = &badEvent{Position: ce.Position, StreamID: ce.StreamID, Version: ce.Version, EventID: ce.EventID, Reason: ce.Reason}
		if *asJSON {
			if err := writeJSON(stdout, sum); err != nil {
				return err
			}
		}
		return fmt.Errorf("verify: first bad event: %w (after %d good events)", ce, max(res.Events-1, 0))
	}
	if err != nil {
		return err
	}
	cat, err := store.VerifyCatalog(ctx)
	if err != nil {
		return err
	}
	finish()
	sum.CatalogPlans, sum.Reservations, sum.PlanGroups, sum.Prices = cat.CatalogPlans, cat.Reservations, cat.PlanGroups, cat.Prices
	for _, p := range cat.Problems {
		sum.CatalogProblems = append(sum.CatalogProblems, p.String())
	}
	sum.OK = len(cat.Problems) == 0
	if *asJSON {
		if err := writeJSON(stdout, sum); err != nil {
			return err
		}
	} else {
		for _, p := range cat.Problems {
			fmt.Fprintf(stdout, "catalog: %s\n", p)
		}
	}
	if n := len(cat.Problems); n > 0 {
		return fmt.Errorf("verify: every hash chain is intact, but the catalog disagrees with its events (%d problems, listed above)", n)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "ok: %d events in %d streams, every hash chain intact; %d catalog plans agree with their %d id reservations, %d plan groups with their plans, %d prices with the plans that mint them (%s, %s events/s)\n",
			res.Events, res.Streams, cat.CatalogPlans, cat.Reservations, cat.PlanGroups, cat.Prices,
			time.Duration(sum.Seconds*float64(time.Second)).Round(time.Millisecond), thousands(int64(sum.EventsPerSecond)))
	}
	return nil
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
