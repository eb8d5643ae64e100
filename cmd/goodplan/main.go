// Command goodplan is the payment-plan service: `goodplan serve` runs the
// JSON API, the customer portal, the relay, the consumers, the webhook
// deliverer and the scheduler (with an embedded NATS unless NATS_URL is
// set); the other subcommands administer accounts, keys, dashboard users, dead letters and
// the event store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `goodplan: self-hostable payment plans

Usage:
  goodplan serve [--demo]                       run the API (configured by environment: goodplan serve -h)
  goodplan migrate                              create the database if missing and apply migrations
  goodplan verify                               check every event's hash chain, the catalog's id reservations and prices
  goodplan replay [--swap] [--wait D]           rebuild the read models from the events and compare
                                                (--wait: how long a lagging live row may take to catch up, default 10s)
  goodplan deadletters list [--all]             list the events consumers set aside
  goodplan deadletters retry --id ID | --all    process them again, resolving those that succeed
  goodplan deadletters resolve --id ID          mark one resolved without processing it (dealt with otherwise)
  goodplan accounts create --name NAME [--plan-limit N] [--rate-limit N] [--burst N] [--reminder-days N]
                                                a merchant account (prints its id)
  goodplan accounts update --account ID [--notify-email ADDRESS ...] [--no-notify-emails]
                           [--sender-name NAME] [--customer-email KIND=on|off ...]
                                                the account's email settings (printed after)
  goodplan apikeys create --account ID          print a new API key (shown once)
  goodplan apikeys list --account ID            the account's keys: id, first characters, created, last used, revoked
  goodplan apikeys revoke --account ID --key KEY_OR_ID
                                                revoke a key (the whole key or its id); refused within 1 s everywhere
  goodplan users create --account ID --email EMAIL [--name NAME] [--role owner|member]
                                                a dashboard user; the password is read from standard input (one line)
  goodplan version                              print the version (also --version)

Every command but version reads DATABASE_URL (default postgres://localhost:5432/goodplan?sslmode=disable);
serve reads the rest of its configuration from the environment too (goodplan serve -h lists it).
Run 'goodplan COMMAND -h' for a command's flags.
`

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "goodplan:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "goodplan:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its environment passed in so tests can run
// it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	// Help and the version need no configuration: they work whatever the
	// environment holds.
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "-version", "--version":
		if len(args) > 1 {
			return usageError{"version takes no arguments"}
		}
		printVersion(stdout)
		return nil
	case "accounts", "apikeys", "users", "deadletters":
		if len(args) == 2 && isHelpArg(args[1]) {
			printGroupUsage(stdout, args[0])
			return nil
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, cfg, rest, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, cfg, rest, stdout, stderr)
	case "verify":
		return verifyCmd(ctx, cfg, rest, stdout, stderr)
	case "replay":
		return replayCmd(ctx, cfg, rest, stdout, stderr)
	case "deadletters":
		return deadLettersCmd(ctx, cfg, rest, stdout, stderr)
	case "accounts":
		switch {
		case len(rest) > 0 && rest[0] == "create":
			return accountsCreate(ctx, cfg, rest[1:], stdout, stderr)
		case len(rest) > 0 && rest[0] == "update":
			return accountsUpdate(ctx, cfg, rest[1:], stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return usageError{"accounts: expected 'create' or 'update'"}
	case "apikeys":
		sub := ""
		if len(rest) > 0 {
			sub = rest[0]
		}
		switch sub {
		case "create":
			return apikeysCreate(ctx, cfg, rest[1:], stdout, stderr)
		case "list":
			return apikeysList(ctx, cfg, rest[1:], stdout, stderr)
		case "revoke":
			return apikeysRevoke(ctx, cfg, rest[1:], stdout, stderr)
		}
		fmt.Fprint(stderr, usage)
		return usageError{"apikeys: expected 'create', 'list' or 'revoke'"}
	case "users":
		if len(rest) == 0 || rest[0] != "create" {
			fmt.Fprint(stderr, usage)
			return usageError{"users: expected 'create'"}
		}
		return usersCreate(ctx, cfg, rest[1:], stdin, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// isHelpArg reports whether arg asks for help.
func isHelpArg(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// printGroupUsage writes the lines of usage about command group (such as
// "accounts"): each of its subcommands with its flags and what it does.
func printGroupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage of goodplan %s:\n", group)
	in := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  goodplan "+group+" "):
			in = true
		case !strings.HasPrefix(line, "   "): // not a continuation line
			in = false
		}
		if in {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "\nRun 'goodplan %s SUBCOMMAND -h' for its flags.\n", group)
}

// parseFlags parses a subcommand's flags, printing its usage on -h or on a
// mistake; positional arguments are refused. Each of more writes a section
// after the flags (serve's environment variables).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, synopsis string, more ...func(io.Writer)) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: goodplan %s\n", synopsis)
		fs.PrintDefaults()
		for _, m := range more {
			fmt.Fprintln(stderr)
			m(stderr)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
