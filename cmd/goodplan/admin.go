package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

func migrateCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(flag.NewFlagSet("migrate", flag.ContinueOnError), args, stderr, "migrate"); err != nil {
		return err
	}
	if err := eventstore.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	v, err := eventstore.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database migrated to schema version %d\n", v)
	return nil
}

func verifyCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(flag.NewFlagSet("verify", flag.ContinueOnError), args, stderr, "verify"); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	res, err := store.Verify(ctx)
	var ce *eventstore.ChainError
	if errors.As(err, &ce) {
		return fmt.Errorf("verify: first bad event: %w (after %d good events)", ce, res.Events-1)
	}
	if err != nil {
		return err
	}
	cat, err := store.VerifyCatalog(ctx)
	if err != nil {
		return err
	}
	for _, p := range cat.Problems {
		fmt.Fprintf(stdout, "catalog: %s\n", p)
	}
	if n := len(cat.Problems); n > 0 {
		return fmt.Errorf("verify: every hash chain is intact, but the catalog disagrees with its events (%d problems, listed above)", n)
	}
	fmt.Fprintf(stdout, "ok: %d events in %d streams, every hash chain intact; %d catalog plans agree with their %d id reservations, %d plan groups with their plans, %d prices with the plans that mint them\n",
		res.Events, res.Streams, cat.CatalogPlans, cat.Reservations, cat.PlanGroups, cat.Prices)
	return nil
}

func accountsCreate(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("accounts create", flag.ContinueOnError)
	name := fs.String("name", "", "the merchant's name (required)")
	var planLimit optionalCount
	fs.Var(&planLimit, "plan-limit", "at most `N` plans the account may create (default unlimited)")
	rate := fs.Int("rate-limit", 60, "API requests per minute per key (0: unlimited)")
	burst := fs.Int("burst", 10, "API requests per second per key at most (0: no burst cap)")
	reminderDays := fs.Int("reminder-days", domain.DefaultReminderDays,
		"days before each due date the customer is emailed a reminder, 0 to 30 (0: no reminder)")
	synopsis := "accounts create --name NAME [--plan-limit N] [--rate-limit N] [--burst N] [--reminder-days N]"
	if err := parseFlags(fs, args, stderr, synopsis); err != nil {
		return err
	}
	if *name == "" {
		fs.Usage()
		return usageError{"accounts create: --name is required"}
	}
	if *rate < 0 || *burst < 0 {
		return usageError{"accounts create: limits must not be negative"}
	}
	if *reminderDays < 0 || *reminderDays > 30 {
		return usageError{fmt.Sprintf("accounts create: --reminder-days must be between 0 and 30, not %d", *reminderDays)}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	na := eventstore.NewAccount{Name: *name, RateLimitPerMinute: *rate, RateLimitBurst: *burst, ReminderDays: reminderDays}
	if planLimit.set {
		na.PlanLimit = &planLimit.n
	}
	acct, err := store.CreateAccount(ctx, na)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, acct.ID)
	return nil
}

func apikeysCreate(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apikeys create", flag.ContinueOnError)
	account := fs.Int64("account", 0, "the account id (required)")
	if err := parseFlags(fs, args, stderr, "apikeys create --account ID"); err != nil {
		return err
	}
	if *account <= 0 {
		fs.Usage()
		return usageError{"apikeys create: --account ID is required"}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	key, err := store.CreateAPIKey(ctx, *account)
	if errors.Is(err, eventstore.ErrNotFound) {
		return fmt.Errorf("apikeys create: account %d does not exist", *account)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}

func replayCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	doSwap := fs.Bool("swap", false, "make the rebuilt read model the live one after comparing")
	wait := fs.Duration("wait", 10*time.Second, "how long a live row that is only behind (projection lag) may take to catch up")
	if err := parseFlags(fs, args, stderr, "replay [--swap] [--wait 10s]"); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	start := time.Now()
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{Swap: *doSwap, CatchUpWait: *wait})
	if err != nil {
		return err
	}
	for _, f := range res.Failed {
		fmt.Fprintf(stdout, "cannot rebuild %s\n", f)
	}
	for _, d := range res.Diffs {
		fmt.Fprintln(stdout, d)
	}
	fmt.Fprintf(stdout, "replayed %d events into %d plans, %d events into %d catalog plans and %d events into %d plan groups in %s: %d differences, %d streams not rebuilt\n",
		res.Events, res.Plans, res.CatalogEvents, res.CatalogPlans, res.GroupEvents, res.Groups,
		time.Since(start).Round(time.Millisecond), len(res.Diffs), len(res.Failed))
	if res.Swapped {
		fmt.Fprintln(stdout, "swapped: the rebuilt read model is now live")
	}
	var errs []error
	if len(res.Failed) > 0 {
		errs = append(errs, fmt.Errorf("replay: %d plan streams could not be rebuilt (the others were)", len(res.Failed)))
	}
	if len(res.Diffs) > 0 {
		errs = append(errs, fmt.Errorf("replay: the live read models differ from the events in %d rows", len(res.Diffs)))
	}
	return errors.Join(errs...)
}
