package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore/pgtest"
)

// TestAPIKeysListAndRevoke: keys are listed by id and first characters,
// and a key revoked with the CLI is refused by the running server within a
// second (its revocation listener), while the account's other key works.
func TestAPIKeysListAndRevoke(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Acme")
	id := strconv.FormatInt(acct, 10)
	k1, k2 := createKey(t, dbURL, acct), createKey(t, dbURL, acct)

	line := regexp.MustCompile(`^(\d+)\tgp_([0-9a-f]{8}|\?)…\tcreated \S+\tlast used (\S+)(\trevoked \S+)?$`)
	list := func() [][]string {
		t.Helper()
		out := mustRunCLI(t, dbURL, "apikeys", "list", "--account", id).stdout
		var rows [][]string
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			m := line.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("apikeys list line %q", l)
			}
			rows = append(rows, m)
		}
		return rows
	}
	rows := list()
	if len(rows) != 2 || rows[0][2] != k1[3:11] || rows[1][2] != k2[3:11] || rows[0][3] != "never" || rows[0][4] != "" {
		t.Fatalf("apikeys list: %q", rows)
	}
	if strings.Contains(mustRunCLI(t, dbURL, "apikeys", "list", "--account", id).stdout, k1[11:]) {
		t.Fatal("apikeys list shows more of a key than its first characters")
	}

	srv := startServer(t, dbURL)
	for _, k := range []string{k1, k2} {
		if status, body := call(t, http.MethodGet, srv.URL+"/api/v1/plans", k, ""); status != http.StatusOK {
			t.Fatalf("before revocation: %d %s", status, body)
		}
	}
	out := mustRunCLI(t, dbURL, "apikeys", "revoke", "--account", id, "--key", k1).stdout
	if m := line.FindStringSubmatch(strings.TrimSuffix(out, "\n")); m == nil || m[1] != rows[0][1] || m[4] == "" {
		t.Fatalf("apikeys revoke printed %q", out)
	}
	pgtest.Every(10*time.Millisecond).WaitForNil(t, 10*time.Second, "the revoked key to be refused", func() error {
		if status, _ := call(t, http.MethodGet, srv.URL+"/api/v1/plans", k1, ""); status != http.StatusUnauthorized {
			return fmt.Errorf("it still answers %d", status)
		}
		return nil
	})
	if status, body := call(t, http.MethodGet, srv.URL+"/api/v1/plans", k2, ""); status != http.StatusOK {
		t.Fatalf("the other key: %d %s", status, body)
	}
	rows = list()
	if rows[0][4] == "" || rows[1][4] != "" || rows[0][3] == "never" || rows[1][3] == "never" {
		t.Fatalf("after revocation and use: %q", rows)
	}

	// By id; twice is an error; unknown keys and accounts are errors.
	mustRunCLI(t, dbURL, "apikeys", "revoke", "--account", id, "--key", rows[1][1])
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--account", id, "--key", rows[1][1]}, "revoked already"},
		{[]string{"--account", id, "--key", "gp_nope"}, "has no such key"},
		{[]string{"--account", id, "--key", "999999"}, "has no such key"},
		{[]string{"--account", "999999", "--key", rows[0][1]}, "has no such key"},
	} {
		res := runCLI(t, dbURL, append([]string{"apikeys", "revoke"}, c.args...)...)
		if res.code != 1 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("revoke %v: exit %d, stderr %q, want 1 and %q", c.args, res.code, res.stderr, c.want)
		}
	}
	if res := runCLI(t, dbURL, "apikeys", "list", "--account", "999999"); res.code != 1 || !strings.Contains(res.stderr, "does not exist") {
		t.Errorf("list of a missing account: exit %d, stderr %q", res.code, res.stderr)
	}

	// A key from before prefixes were kept is listed as gp_?.
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO api_keys (account_id, key_hash) VALUES ($1, '\x00')`, acct); err != nil {
		t.Fatal(err)
	}
	if rows := list(); len(rows) != 3 || rows[2][2] != "?" {
		t.Fatalf("legacy key: %q", rows)
	}
}
