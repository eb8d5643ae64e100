package main

import (
	"strconv"
	"strings"
	"testing"

	"goodplan/eventstore/pgtest"
)

// TestAccountsUpdate: `goodplan accounts update` changes the email
// settings it is given, leaves the others, prints them after, and refuses
// bad input with exit 2 and nothing changed.
func TestAccountsUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"accounts", "update"}, "--account ID is required"},
		{[]string{"accounts", "update", "--account", "1", "--customer-email", "portal_link"}, "want KIND=on or KIND=off"},
		{[]string{"accounts", "update", "--account", "1", "--no-notify-emails", "--notify-email", "a@b.example"}, "exclude each other"},
	} {
		res := runCLI(t, unreachableDB, tc.args...)
		if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("goodplan %s: exit %d, want 2 and %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), res.code, tc.want,
				res.stdout, res.stderr)
		}
	}

	db := pgtest.NewDatabase(t)
	id := strconv.FormatInt(createAccount(t, db, "--name", "Acme Corp"), 10)
	res := mustRunCLI(t, db, "accounts", "update", "--account", id, "--notify-email", "ops@acme.example",
		"--notify-email", "boss@acme.example", "--sender-name", "Acme Billing", "--customer-email", "portal_link=off",
		"--customer-email", "payment_rejected=off")
	want := "account " + id + " (Acme Corp)\n" +
		"sender name: Acme Billing\n" +
		"notification addresses: ops@acme.example, boss@acme.example\n" +
		"customer emails: payment_confirmed=on payment_rejected=off extension_granted=on installment_deferred=on " +
		"proposal_countered=on proposal_approved=on proposal_declined=on portal_link=off\n"
	if res.stdout != want {
		t.Fatalf("accounts update printed\n%s\nwant\n%s", res.stdout, want)
	}

	// Only what is given changes.
	res = mustRunCLI(t, db, "accounts", "update", "--account", id, "--customer-email", "portal_link=on")
	want = strings.Replace(want, "portal_link=off", "portal_link=on", 1)
	if res.stdout != want {
		t.Fatalf("second update printed\n%s\nwant\n%s", res.stdout, want)
	}

	// Bad values: exit 2, every problem named, nothing changed.
	res = runCLI(t, db, "accounts", "update", "--account", id, "--notify-email", "not-an-address",
		"--sender-name", "Evil\nBcc: x@example.com", "--customer-email", "introduction=off")
	if res.code != 2 || res.stdout != "" {
		t.Fatalf("bad update: exit %d, stdout %q; want 2 and nothing", res.code, res.stdout)
	}
	for _, msg := range []string{"nothing changed", "notify_emails.0 must be a valid email address", "sender_name may not contain control characters",
		`customer email "introduction" is not one of`} {
		if !strings.Contains(res.stderr, msg) {
			t.Errorf("bad update's stderr lacks %q:\n%s", msg, res.stderr)
		}
	}
	res = mustRunCLI(t, db, "accounts", "update", "--account", id, "--no-notify-emails", "--sender-name", "")
	want = strings.NewReplacer("sender name: Acme Billing", "sender name: (EMAIL_FROM's)",
		"notification addresses: ops@acme.example, boss@acme.example", "notification addresses: (none: the merchant is not notified)").Replace(want)
	if res.stdout != want {
		t.Fatalf("clearing printed\n%s\nwant\n%s", res.stdout, want)
	}

	if res := runCLI(t, db, "accounts", "update", "--account", "999999"); res.code != 1 || !strings.Contains(res.stderr, "account 999999 does not exist") {
		t.Errorf("missing account: exit %d, stderr %s", res.code, res.stderr)
	}
}
