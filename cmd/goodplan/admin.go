package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"goodplan/domain"
	"goodplan/eventstore"
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
