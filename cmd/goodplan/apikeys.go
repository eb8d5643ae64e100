package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"goodplan/eventstore"
)

// apikeysList prints one line per key of the account, oldest first:
//
//	id  gp_<first 8 characters>…  created <time>  last used <time|never>  [revoked <time>]
//
// Keys created before the first characters were kept show "gp_?".
func apikeysList(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apikeys list", flag.ContinueOnError)
	account := fs.Int64("account", 0, "the account id (required)")
	if err := parseFlags(fs, args, stderr, "apikeys list --account ID"); err != nil {
		return err
	}
	if *account <= 0 {
		fs.Usage()
		return usageError{"apikeys list: --account ID is required"}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	keys, err := store.APIKeys(ctx, *account)
	if errors.Is(err, eventstore.ErrNotFound) {
		return fmt.Errorf("apikeys list: account %d does not exist", *account)
	}
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintln(stdout, keyLine(k))
	}
	return nil
}

// keyLine is one key as apikeys list and revoke print it.
func keyLine(k eventstore.APIKey) string {
	prefix := k.Prefix
	if prefix == "" {
		prefix = "?" // created before prefixes were kept: only the hash is stored
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	used := "never"
	if k.LastUsedAt != nil {
		used = stamp(*k.LastUsedAt)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d\t%s%s…\tcreated %s\tlast used %s", k.ID, eventstore.APIKeyPrefix, prefix, stamp(k.CreatedAt), used)
	if k.RevokedAt != nil {
		fmt.Fprintf(&b, "\trevoked %s", stamp(*k.RevokedAt))
	}
	return b.String()
}

// apikeysRevoke revokes one key of the account, named by the whole key or
// by its id (from apikeys list), and prints its line.
func apikeysRevoke(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apikeys revoke", flag.ContinueOnError)
	account := fs.Int64("account", 0, "the account id (required)")
	key := fs.String("key", "", "the key to revoke: the whole gp_ key, or its id from 'apikeys list' (required)")
	if err := parseFlags(fs, args, stderr, "apikeys revoke --account ID --key KEY_OR_ID"); err != nil {
		return err
	}
	if *account <= 0 || *key == "" {
		fs.Usage()
		return usageError{"apikeys revoke: --account ID and --key KEY_OR_ID are required"}
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	k, err := store.RevokeAPIKey(ctx, *account, strings.TrimSpace(*key))
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		return fmt.Errorf("apikeys revoke: account %d has no such key", *account)
	case errors.Is(err, eventstore.ErrKeyRevoked):
		return fmt.Errorf("apikeys revoke: key %d was revoked already, at %s", k.ID, k.RevokedAt.UTC().Format(time.RFC3339))
	case err != nil:
		return err
	}
	fmt.Fprintln(stdout, keyLine(k))
	return nil
}
