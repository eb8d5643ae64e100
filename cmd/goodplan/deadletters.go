package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"goodplan/eventstore"
	"goodplan/workers"
)

// deadLettersCmd is `goodplan deadletters list|retry|resolve`.
func deadLettersCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"deadletters: expected 'list', 'retry' or 'resolve'"}
	}
	switch args[0] {
	case "list":
		return deadLettersList(ctx, cfg, args[1:], stdout, stderr)
	case "retry":
		return deadLettersRetry(ctx, cfg, args[1:], stdout, stderr)
	case "resolve":
		return deadLettersResolve(ctx, cfg, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return usageError{"deadletters: expected 'list', 'retry' or 'resolve'"}
}

// deadLettersResolve marks one dead letter resolved without processing it
// again: for one an operator has dealt with otherwise, such as a relay
// stand-in whose event goodplan's own consumers took from the store while
// the embedded NATS cannot be republished to from outside serve.
func deadLettersResolve(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deadletters resolve", flag.ContinueOnError)
	id := fs.Int64("id", 0, "the dead letter to mark resolved (see deadletters list)")
	if err := parseFlags(fs, args, stderr, "deadletters resolve --id ID"); err != nil {
		return err
	}
	if *id <= 0 {
		fs.Usage()
		return usageError{"deadletters resolve: give --id ID"}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	if _, err := store.DeadLetterByID(ctx, *id); errors.Is(err, eventstore.ErrNotFound) {
		return fmt.Errorf("deadletters resolve: dead letter %d does not exist", *id)
	} else if err != nil {
		return err
	}
	if err := store.ResolveDeadLetter(ctx, *id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dead letter %d resolved without a retry\n", *id)
	return nil
}

func deadLettersList(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deadletters list", flag.ContinueOnError)
	all := fs.Bool("all", false, "include the resolved dead letters")
	if err := parseFlags(fs, args, stderr, "deadletters list [--all]"); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	dls, err := store.DeadLetters.List(ctx, *all)
	if err != nil {
		return err
	}
	if len(dls) == 0 {
		fmt.Fprintln(stdout, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCONSUMER\tEVENT\tSTREAM\tTYPE\tATTEMPTS\tFIRST FAILURE\tLAST FAILURE\tRESOLVED\tLAST ERROR")
	for _, d := range dls {
		resolved := "-"
		if d.ResolvedAt != nil {
			resolved = d.ResolvedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, oneLine(d.Consumer, 40), d.EventID, oneLine(d.StreamID, 40),
			oneLine(d.EventType, 40), d.Attempts, d.FirstFailure.UTC().Format(time.RFC3339), d.LastFailure.UTC().Format(time.RFC3339),
			resolved, oneLine(d.LastError, 100))
	}
	return tw.Flush()
}

// oneLine is s on one line (control characters and tabs as spaces), cut to
// at most n runes with an ellipsis.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func deadLettersRetry(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deadletters retry", flag.ContinueOnError)
	id := fs.Int64("id", 0, "the dead letter to retry (see deadletters list)")
	all := fs.Bool("all", false, "retry every unresolved dead letter")
	if err := parseFlags(fs, args, stderr, "deadletters retry --id ID | --all"); err != nil {
		return err
	}
	if (*id > 0) == *all || *id < 0 {
		fs.Usage()
		return usageError{"deadletters retry: give either --id ID or --all"}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	var dls []eventstore.DeadLetter
	if *all {
		if dls, err = store.DeadLetters.List(ctx, false); err != nil {
			return err
		}
	} else {
		d, err := store.DeadLetterByID(ctx, *id)
		if errors.Is(err, eventstore.ErrNotFound) {
			return fmt.Errorf("deadletters retry: dead letter %d does not exist", *id)
		}
		if err != nil {
			return err
		}
		if d.ResolvedAt != nil {
			fmt.Fprintf(stdout, "dead letter %d was resolved at %s; nothing to do\n", d.ID, d.ResolvedAt.UTC().Format(time.RFC3339))
			return nil
		}
		dls = []eventstore.DeadLetter{d}
	}
	if len(dls) == 0 {
		fmt.Fprintln(stdout, "no dead letters to retry")
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	handlers, closeAll, err := retryHandlers(ctx, store, cfg, dls, log)
	if err != nil {
		return err
	}
	defer closeAll()
	failed := 0
	for _, d := range dls {
		if err := workers.RetryDeadLetter(ctx, store, d, handlers); err != nil {
			failed++
			fmt.Fprintf(stdout, "dead letter %d (%s, event %s): still failing: %s\n", d.ID, d.Consumer, d.EventID, oneLine(err.Error(), 300))
			continue
		}
		fmt.Fprintf(stdout, "dead letter %d (%s, event %s): processed, resolved\n", d.ID, d.Consumer, d.EventID)
	}
	if failed > 0 {
		return fmt.Errorf("deadletters retry: %d of %d still failing", failed, len(dls))
	}
	return nil
}

// retryHandlers are the handlers of serve's consumers (built by the same
// newServices) and, when a relay dead letter is among dls and NATS_URL is
// set, the relay's republication of the event itself. The embedded NATS
// runs inside `goodplan serve`, so without NATS_URL a relay dead letter
// cannot be retried from here (its stand-in went out; the consumers took
// the event from the store).
func retryHandlers(ctx context.Context, store *eventstore.Store, cfg config, dls []eventstore.DeadLetter, log *slog.Logger) (map[string]workers.Handler, func(), error) {
	sender, err := workers.NewSender(cfg.SMTPURL, cfg.DataDir, log)
	if err != nil {
		return nil, nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	closers := []func(){func() { sender.Close() }}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	handlers := newServices(store, cfg.NATSPrefix, sender, cfg, log, nil).handlers()
	relay := false
	for _, d := range dls {
		relay = relay || d.Consumer == workers.RelayConsumer
	}
	switch {
	case !relay:
	case cfg.NATSURL == "":
		handlers[workers.RelayConsumer] = func(context.Context, eventstore.Record) error {
			return errors.New("a relay dead letter is retried by publishing the event to NATS again, which needs NATS_URL " +
				"(the embedded NATS runs inside goodplan serve)")
		}
	default:
		bus, err := workers.OpenBus(ctx, workers.BusConfig{URL: cfg.NATSURL, DataDir: cfg.DataDir, Prefix: cfg.NATSPrefix, Replicas: cfg.NATSStreamReplicas})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, bus.Close)
		handlers[workers.RelayConsumer] = (&workers.Relay{Store: store, Bus: bus, Log: log}).Republish
	}
	return handlers, closeAll, nil
}
