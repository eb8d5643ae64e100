package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"goodplan/domain"
	"goodplan/eventstore"
)

// usersCreate creates a dashboard user of an account and prints its id
// alone. The password is the first line of stdin (its line break, LF or
// CRLF, removed), so it never shows in a process listing or a shell
// history.
func usersCreate(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	account := fs.Int64("account", 0, "the account id (required)")
	email := fs.String("email", "", "the user's email, with which they sign in; unique across accounts (required)")
	name := fs.String("name", "", "the user's name, shown in the dashboard")
	role := fs.String("role", eventstore.RoleMember, "owner (manages keys, webhooks and users) or member")
	synopsis := "users create --account ID --email EMAIL [--name NAME] [--role owner|member] < password"
	if err := parseFlags(fs, args, stderr, synopsis); err != nil {
		return err
	}
	if *account <= 0 || *email == "" {
		fs.Usage()
		return usageError{"users create: --account ID and --email EMAIL are required"}
	}
	if *role != eventstore.RoleOwner && *role != eventstore.RoleMember {
		return usageError{fmt.Sprintf("users create: --role must be owner or member, not %q", *role)}
	}
	password, err := readPasswordLine(stdin)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	u, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: *account, Email: *email, Name: *name, Role: *role,
		Password: password})
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		return usageError{"users create: " + ve.Error()}
	case errors.Is(err, eventstore.ErrEmailTaken):
		return fmt.Errorf("users create: a user with the email %s exists already", eventstore.NormalizeEmail(*email))
	case errors.Is(err, eventstore.ErrNotFound):
		return fmt.Errorf("users create: account %d does not exist", *account)
	case err != nil:
		return err
	}
	fmt.Fprintln(stdout, u.ID)
	return nil
}

// readPasswordLine reads the first line of r, without its line break. It
// reads at most a little more than the longest password allowed, so a
// password that is too long is refused by CreateUser rather than cut.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, eventstore.MaxPasswordBytes+3)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("users create: read the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usageError{"users create: the password is read from standard input (one line); it was empty"}
	}
	return line, nil
}
