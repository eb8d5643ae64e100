package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"goodplan/domain"
	"goodplan/eventstore"
)

// accountsUpdate changes an account's email settings: its notification
// addresses, the sender name on customer emails and the customer email
// switches. Flags not given leave their setting as it is; it prints the
// settings as they are after.
func accountsUpdate(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("accounts update", flag.ContinueOnError)
	account := fs.Int64("account", 0, "the account id (required)")
	var change domain.EmailSettingsChange
	var notify []string
	fs.Func("notify-email", "a notification address of the merchant (repeat for up to 5; replaces the list)", func(s string) error {
		notify = append(notify, s)
		return nil
	})
	noNotify := fs.Bool("no-notify-emails", false, "remove every notification address (the merchant is not notified)")
	fs.Func("sender-name", "the sender name on customer emails (\"\": EMAIL_FROM's own)", func(s string) error {
		change.SenderName = &s
		return nil
	})
	change.CustomerEmails = map[string]bool{}
	fs.Func("customer-email", "KIND=on|off: switch a customer email on or off (repeatable); kinds: "+customerKinds(),
		func(s string) error {
			kind, state, ok := strings.Cut(s, "=")
			if !ok || (state != "on" && state != "off") {
				return fmt.Errorf("want KIND=on or KIND=off, not %q", s)
			}
			change.CustomerEmails[kind] = state == "on"
			return nil
		})
	synopsis := "accounts update --account ID [--notify-email ADDRESS ...] [--no-notify-emails] [--sender-name NAME] [--customer-email KIND=on|off ...]"
	if err := parseFlags(fs, args, stderr, synopsis); err != nil {
		return err
	}
	if *account <= 0 {
		fs.Usage()
		return usageError{"accounts update: --account ID is required"}
	}
	switch {
	case *noNotify && len(notify) > 0:
		return usageError{"accounts update: --no-notify-emails and --notify-email exclude each other"}
	case *noNotify:
		change.NotifyEmails = &[]string{}
	case len(notify) > 0:
		change.NotifyEmails = &notify
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	acct, err := store.UpdateEmailSettings(ctx, *account, change)
	var ve *domain.ValidationError
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		return fmt.Errorf("accounts update: account %d does not exist", *account)
	case errors.As(err, &ve):
		return usageError{"accounts update: nothing changed: " + strings.TrimPrefix(ve.Error(), "validation failed: ")}
	case err != nil:
		return err
	}
	printEmailSettings(stdout, acct)
	return nil
}

// printEmailSettings writes acct's email settings, one per line.
func printEmailSettings(w io.Writer, acct eventstore.Account) {
	s := acct.Emails
	fmt.Fprintf(w, "account %d (%s)\n", acct.ID, acct.Name)
	sender := s.SenderName
	if sender == "" {
		sender = "(EMAIL_FROM's)"
	}
	fmt.Fprintf(w, "sender name: %s\n", sender)
	notify := strings.Join(s.NotifyEmails, ", ")
	if notify == "" {
		notify = "(none: the merchant is not notified)"
	}
	fmt.Fprintf(w, "notification addresses: %s\n", notify)
	fmt.Fprint(w, "customer emails:")
	for _, k := range domain.CustomerEmailKinds {
		state := "on"
		if !s.CustomerEmailOn(k) {
			state = "off"
		}
		fmt.Fprintf(w, " %s=%s", k, state)
	}
	fmt.Fprintln(w)
}

func customerKinds() string {
	names := make([]string, len(domain.CustomerEmailKinds))
	for i, k := range domain.CustomerEmailKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
