// Command chaos is goodplan's chaos soak (make chaos): against a local
// cluster (three NATS JetStream nodes, three goodplan replicas on one
// PostgreSQL, a round-robin proxy), clients create plans with
// Idempotency-Keys, choose an option in the portal and record a payment,
// while webhooks go to a receiver that fails some first attempts and hangs
// on a few and emails to an SMTP server that answers 451 and drops
// connections. Each round injects one fault drawn from the seed (the same
// seed replays the same schedule) and measures the recovery. After the last
// round it waits for quiet and checks, printing each figure; the summary is
// written to bench/results/chaos-<timestamp>.{md,json}. The exit status is
// non-zero when a check fails. An interrupt (^C) stops starting rounds;
// the wait for quiet and the checks still run.
//
//	go run ./bench/chaos [-rounds 20] [-seed 1] [-faults kill-replica,kill-leader,kill-nats,pause,pg-restart]
//	                     [-round 3s] [-clients 6] [-accounts 8] [-hammer 4] [-for 0] [-out bench/results]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// settings are the soak's flags.
type settings struct {
	rounds    int
	seed      uint64
	faults    []string
	round     time.Duration
	clients   int
	accounts  int
	out       string
	quiet     time.Duration
	emailIdle time.Duration
	keep      bool
	hammer    int
	budget    time.Duration // 0: every round
	pgCluster string        // the PostgreSQL cluster (pg_lsclusters name) written to and restarted
}

var runStart = time.Now()

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%7.1fs] %s\n", time.Since(runStart).Seconds(), fmt.Sprintf(format, args...))
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s, err := parseFlags(os.Args[1:])
	if err == nil {
		err = soak(ctx, s)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.IntVar(&s.rounds, "rounds", 20, "fault rounds")
	fs.Uint64Var(&s.seed, "seed", 1, "seed of the fault schedule (and of the sinks' failures)")
	faults := fs.String("faults", strings.Join(allFaults, ","), "fault kinds to draw from: "+strings.Join(allFaults, ","))
	fs.DurationVar(&s.round, "round", 3*time.Second, "least duration of a round (a slow recovery makes it longer)")
	fs.IntVar(&s.clients, "clients", 6, "concurrent clients")
	fs.IntVar(&s.accounts, "accounts", 8, "merchants (API keys) the clients spread over")
	fs.StringVar(&s.out, "out", "bench/results", "where the summary goes")
	fs.DurationVar(&s.quiet, "quiet", 10*time.Minute, "longest wait for quiet after the last round")
	fs.DurationVar(&s.emailIdle, "email-idle", 40*time.Second, "quiet means no email accepted for this long (outlasts the 30 s retry)")
	fs.IntVar(&s.hammer, "hammer", 4, "requests a second one more merchant sends to test the rate limit (60 a minute per key, cluster-wide); 0: none")
	fs.DurationVar(&s.budget, "for", 0, "stop starting rounds after this long (then quiet and checks); 0: run every round")
	fs.BoolVar(&s.keep, "keep", false, "keep the soak's database and cluster directory (and a PostgreSQL cluster it created)")
	fs.StringVar(&s.pgCluster, "pg-cluster", "main", "PostgreSQL cluster (pg_lsclusters name) to write to and restart; another name than main is created on a free port when missing and dropped at the end, so the soak's restarts stop nobody else's database")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	for _, f := range strings.Split(*faults, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(allFaults, f) {
			return s, fmt.Errorf("-faults: unknown kind %q (want some of %s)", f, strings.Join(allFaults, ","))
		}
		s.faults = append(s.faults, f)
	}
	if len(s.faults) == 0 || s.rounds < 0 || s.clients < 1 || s.accounts < 1 {
		return s, errors.New("want -faults with at least one kind, -rounds >= 0, -clients >= 1, -accounts >= 1")
	}
	return s, nil
}
