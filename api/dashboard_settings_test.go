package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The Settings pages: an owner changes the account's name and email
// settings (stored, read back through eventstore); a refused form changes
// nothing; a member only reads them and gets 403 on the forms and the
// users' page.

// emailForm is a valid post of the email settings form.
func emailForm() url.Values {
	f := url.Values{"sender_name": {"Acme Billing"}, "reminder_days": {"7"},
		"notify_email": {"ops@acme.example", "", "Finance@Acme.example", "", ""}}
	for _, k := range domain.CustomerEmailKinds {
		if k != domain.EmailPaymentRejected {
			f.Add("customer_email", string(k))
		}
	}
	return f
}

// accountOf reads account id back from the store.
func (e *testEnv) accountOf(t *testing.T, id int64) eventstore.Account {
	t.Helper()
	a, err := e.store.AccountByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDashboardSettingsOwnerChangesEachSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	wantPage(t, "owner GET settings", e.dashGet(t, "/dashboard/settings", owner), http.StatusOK, `data-page="settings"`,
		`value="Acme"`, `data-action="update-account"`, `data-action="update-email-settings"`, `name="reminder_days" value="3"`,
		`id="notify-email-5"`, `value="payment_rejected" checked`, `href="/dashboard/settings/users"`, `href="/dashboard/users/invite"`)

	res := e.devPost(t, "/dashboard/settings/account", owner, url.Values{"name": {"  Acme Rebranded  "}})
	wantRedirect(t, "rename", res, "/dashboard/settings?saved=account")
	if a := e.accountOf(t, e.acct.ID); a.Name != "Acme Rebranded" {
		t.Fatalf("name after the rename: %q", a.Name)
	}
	wantPage(t, "settings after the rename", e.dashGet(t, "/dashboard/settings?saved=account", owner), http.StatusOK,
		`data-notice="account-saved"`, `data-account-id="`+strconv.FormatInt(e.acct.ID, 10)+`">Acme Rebranded<`)

	wantRedirect(t, "email settings", e.devPost(t, "/dashboard/settings/emails", owner, emailForm()), "/dashboard/settings?saved=emails")
	a := e.accountOf(t, e.acct.ID)
	want := domain.EmailSettings{SenderName: "Acme Billing", NotifyEmails: []string{"ops@acme.example", "Finance@Acme.example"},
		CustomerEmailsOff: []domain.PlanEmailKind{domain.EmailPaymentRejected}}
	if a.ReminderDays != 7 || !reflect.DeepEqual(a.Emails, want) {
		t.Fatalf("after the email settings: reminder days %d, %+v; want 7, %+v", a.ReminderDays, a.Emails, want)
	}
	wantPage(t, "settings after the email settings", e.dashGet(t, "/dashboard/settings?saved=emails", owner), http.StatusOK,
		`data-notice="emails-saved"`, `value="Acme Billing"`, `name="reminder_days" value="7"`, `value="Finance@Acme.example"`,
		`value="payment_rejected">`, `value="payment_confirmed" checked`)

	// Everything off, no address, reminders off, the sender name cleared.
	wantRedirect(t, "email settings cleared", e.devPost(t, "/dashboard/settings/emails", owner,
		url.Values{"sender_name": {""}, "reminder_days": {"0"}, "notify_email": {"", ""}}), "/dashboard/settings?saved=emails")
	a = e.accountOf(t, e.acct.ID)
	if a.ReminderDays != 0 || a.Emails.SenderName != "" || len(a.Emails.NotifyEmails) != 0 ||
		!reflect.DeepEqual(a.Emails.CustomerEmailsOff, domain.CustomerEmailKinds) {
		t.Fatalf("after clearing: reminder days %d, %+v", a.ReminderDays, a.Emails)
	}
}

func TestDashboardSettingsBadValuesChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	before := e.accountOf(t, e.acct.ID)
	with := func(field string, values ...string) url.Values {
		f := emailForm()
		f[field] = values
		return f
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		message    string
	}{
		{"blank name", "/dashboard/settings/account", url.Values{"name": {"   "}}, "The name field is required."},
		{"name of two lines", "/dashboard/settings/account", url.Values{"name": {"Acme\nInc"}}, "name"},
		{"name too long", "/dashboard/settings/account", url.Values{"name": {strings.Repeat("a", 256)}}, "name"},
		{"31 reminder days", "/dashboard/settings/emails", with("reminder_days", "31"), "The reminder_days must be a whole number from 0 to 30."},
		{"reminder days not a number", "/dashboard/settings/emails", with("reminder_days", "three"), "reminder_days"},
		{"negative reminder days", "/dashboard/settings/emails", with("reminder_days", "-1"), "reminder_days"},
		{"bad address", "/dashboard/settings/emails", with("notify_email", "ops@acme.example", "not-an-email"),
			"The notify_emails.1 must be a valid email address."},
		{"address twice", "/dashboard/settings/emails", with("notify_email", "ops@acme.example", "OPS@acme.example"), "listed twice"},
		{"six addresses", "/dashboard/settings/emails", with("notify_email", "a@x.example", "b@x.example", "c@x.example",
			"d@x.example", "e@x.example", "f@x.example"), "at most 5 notification addresses"},
		{"encoded-word sender name", "/dashboard/settings/emails", with("sender_name", "=?utf-8?q?Acme?="), "sender_name"},
		{"sender name too long", "/dashboard/settings/emails", with("sender_name", strings.Repeat("b", 101)), "sender_name"},
	} {
		res := e.devPost(t, tc.path, owner, tc.form)
		wantPage(t, tc.name, res, http.StatusUnprocessableEntity, `data-page="settings"`, `role="alert"`, tc.message)
		if after := e.accountOf(t, e.acct.ID); !reflect.DeepEqual(after, before) {
			t.Fatalf("%s changed the account: %+v, was %+v", tc.name, after, before)
		}
	}
	// The refused form is shown again as typed, the other as stored.
	res := e.devPost(t, "/dashboard/settings/emails", owner, with("reminder_days", "31"))
	wantPage(t, "refused email settings", res, http.StatusUnprocessableEntity, `value="31"`, `value="Acme Billing"`,
		`value="Finance@Acme.example"`, `value="Acme"`)
}

func TestDashboardSettingsNeedCSRFAndSameOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, owner)
	before := e.accountOf(t, e.acct.ID)
	for _, path := range []string{"/dashboard/settings/account", "/dashboard/settings/emails"} {
		form := emailForm()
		form.Set("name", "Evil Corp")
		res := e.dashDo(t, http.MethodPost, path, dashClient, owner, form)
		wantPage(t, "no csrf "+path, res, http.StatusForbidden, `data-page="forbidden"`)
		// A token one character off (never the real one, whatever its first character).
		wrong := "x" + csrf[1:]
		if wrong == csrf {
			wrong = "y" + csrf[1:]
		}
		form.Set("csrf", wrong)
		res = e.dashDo(t, http.MethodPost, path, dashClient, owner, form)
		wantPage(t, "wrong csrf "+path, res, http.StatusForbidden, `data-page="forbidden"`)
		form.Set("csrf", csrf)
		res = e.dashDo(t, http.MethodPost, path, dashClient, owner, form, "Origin", "https://evil.example")
		wantPage(t, "other origin "+path, res, http.StatusForbidden, `data-page="forbidden"`)
	}
	if after := e.accountOf(t, e.acct.ID); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused forms changed the account: %+v, was %+v", after, before)
	}
}

func TestDashboardSettingsMemberReadsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	own := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	mem := e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Other"})
	e.dashUser(t, other, "stranger@example.com", eventstore.RoleOwner)
	sender := "Acme Billing"
	if _, err := e.store.UpdateEmailSettings(context.Background(), e.acct.ID,
		domain.EmailSettingsChange{SenderName: &sender, NotifyEmails: &[]string{"ops@acme.example"}}); err != nil {
		t.Fatal(err)
	}
	before := e.accountOf(t, e.acct.ID)
	member := e.signIn(t, "member@example.com")
	page := e.dashGet(t, "/dashboard/settings", member)
	wantPage(t, "member GET settings", page, http.StatusOK, `data-page="settings"`, `data-setting="name">Acme<`,
		`data-setting="sender_name">Acme Billing<`, `data-setting="reminder_days">3<`, `ops@acme.example`,
		`data-setting="customer_email.payment_confirmed">On<`)
	for _, no := range []string{"/dashboard/settings/account", "/dashboard/settings/emails", "/dashboard/settings/users", "data-action=\"update"} {
		if strings.Contains(string(page.body), no) {
			t.Fatalf("a member's settings page has %q:\n%s", no, page.body)
		}
	}
	wantPage(t, "member GET users", e.dashGet(t, "/dashboard/settings/users", member), http.StatusForbidden, `data-page="owner_only"`)
	csrf := e.csrfOf(t, member)
	for _, path := range []string{"/dashboard/settings/account", "/dashboard/settings/emails"} {
		form := emailForm()
		form.Set("name", "Member Corp")
		form.Set("csrf", csrf)
		res := e.dashDo(t, http.MethodPost, path, dashClient, member, form)
		wantPage(t, "member POST "+path, res, http.StatusForbidden, `data-page="owner_only"`)
	}
	if after := e.accountOf(t, e.acct.ID); !reflect.DeepEqual(after, before) {
		t.Fatalf("a member's posts changed the account: %+v, was %+v", after, before)
	}

	// The owner's users page: this account's users, not another's.
	users := e.dashGet(t, "/dashboard/settings/users", e.signIn(t, "owner@example.com"))
	wantPage(t, "owner GET users", users, http.StatusOK, `data-page="users"`, `data-user-id="`+strconv.FormatInt(own.ID, 10)+`"`,
		`data-user-id="`+strconv.FormatInt(mem.ID, 10)+`"`, "owner@example.com", "member@example.com", "Pat member", "Member", "Owner",
		`href="/dashboard/users/invite"`)
	if strings.Contains(string(users.body), "stranger@example.com") {
		t.Fatalf("the users page lists another account's user:\n%s", users.body)
	}
}

// TestDashboardSettingsUsersRolesAndRemoval: an owner changes a user's
// role and removes a user, never the last owner; another account's user is
// a 404; a member and a form without csrf change nothing.
func TestDashboardSettingsUsersRolesAndRemoval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	own := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	mem := e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Other"})
	stranger := e.dashUser(t, other, "stranger@example.com", eventstore.RoleOwner)
	owner, member := e.signIn(t, "owner@example.com"), e.signIn(t, "member@example.com")
	userPath := func(u eventstore.User, what string) string {
		return "/dashboard/settings/users/" + strconv.FormatInt(u.ID, 10) + "/" + what
	}
	roleOf := func(u eventstore.User) string {
		t.Helper()
		got, err := e.store.UserByID(ctx, u.AccountID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Role
	}
	wantPage(t, "owner GET users", e.dashGet(t, "/dashboard/settings/users", owner), http.StatusOK,
		`data-action="change-role"`, `data-action="remove-user"`, `action="`+userPath(mem, "role")+`"`, "Pat owner (you)")

	// Refused: the last owner, a bad role, a member, no csrf, another account's user.
	for _, path := range []string{userPath(own, "role"), userPath(own, "remove")} {
		res := e.devPost(t, path, owner, url.Values{"role": {"member"}})
		wantPage(t, "last owner "+path, res, http.StatusUnprocessableEntity, `id="users-error"`, "last owner")
	}
	wantPage(t, "role admin", e.devPost(t, userPath(mem, "role"), owner, url.Values{"role": {"admin"}}),
		http.StatusUnprocessableEntity, "The role must be owner or member.")
	csrf := e.csrfOf(t, member)
	for _, path := range []string{userPath(own, "role"), userPath(own, "remove"), userPath(mem, "role")} {
		res := e.dashDo(t, http.MethodPost, path, dashClient, member, url.Values{"csrf": {csrf}, "role": {"owner"}})
		wantPage(t, "member POST "+path, res, http.StatusForbidden, `data-page="owner_only"`)
	}
	res := e.dashDo(t, http.MethodPost, userPath(mem, "remove"), dashClient, owner, url.Values{})
	wantPage(t, "no csrf", res, http.StatusForbidden, `data-page="forbidden"`)
	for _, path := range []string{userPath(stranger, "role"), userPath(stranger, "remove"), "/dashboard/settings/users/x/remove"} {
		wantPage(t, "another account's user "+path, e.devPost(t, path, owner, url.Values{"role": {"member"}}),
			http.StatusNotFound, `data-page="not_found"`)
	}
	if roleOf(own) != eventstore.RoleOwner || roleOf(mem) != eventstore.RoleMember || roleOf(stranger) != eventstore.RoleOwner {
		t.Fatal("a refused form changed a role")
	}

	// The member made an owner; then the first owner steps down (to Settings).
	wantRedirect(t, "make owner", e.devPost(t, userPath(mem, "role"), owner, url.Values{"role": {"owner"}}),
		"/dashboard/settings/users?done=role-changed")
	if roleOf(mem) != eventstore.RoleOwner {
		t.Fatal("the role did not change")
	}
	wantPage(t, "users after the change", e.dashGet(t, "/dashboard/settings/users?done=role-changed", owner), http.StatusOK,
		`data-notice="role-changed"`)
	wantRedirect(t, "step down", e.devPost(t, userPath(own, "role"), owner, url.Values{"role": {"member"}}), "/dashboard/settings")
	wantPage(t, "users page after stepping down", e.dashGet(t, "/dashboard/settings/users", owner), http.StatusForbidden,
		`data-page="owner_only"`)

	// The new owner removes the old one, whose session ends.
	wantRedirect(t, "remove", e.devPost(t, userPath(own, "remove"), member, nil), "/dashboard/settings/users?done=user-removed")
	if _, err := e.store.UserByID(ctx, own.AccountID, own.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("the removed user: %v", err)
	}
	e.requireSignedOut(t, "the removed user", owner)
}

// TestDashboardSettingsOwnName: every user, a member too, changes their
// own display name on Settings (303 with the notice, shown on the page and
// stored), and only their own; a refused name (NUL, escapes, bidi
// overrides, invalid UTF-8, over 255 characters) is a 422 with the message
// and changes nothing, and so does a form without csrf (403).
func TestDashboardSettingsOwnName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	own := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	mem := e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	member := e.signIn(t, "member@example.com")
	nameOf := func(id int64) string {
		u, err := e.store.UserByID(ctx, e.acct.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Name
	}
	ownerName, memberName := nameOf(own.ID), nameOf(mem.ID)
	wantPage(t, "settings", e.dashGet(t, "/dashboard/settings", member), http.StatusOK, `id="user-name"`,
		`value="`+memberName+`"`, `data-action="save-profile"`)

	if res := e.dashDo(t, http.MethodPost, "/dashboard/settings/profile", dashClient, member, url.Values{"name": {"Nope"}}); res.status != http.StatusForbidden {
		t.Fatalf("without csrf: %d", res.status)
	}
	for what, bad := range map[string]string{"NUL": "Pat\x00Member", "escape": "Pat\x1b[31m", "bidi override": "Pat\u202e",
		"invalid UTF-8": "Pat\xff", "too long": strings.Repeat("P", 256)} {
		res := e.devPost(t, "/dashboard/settings/profile", member, url.Values{"name": {bad}})
		wantPage(t, "a name with "+what, res, http.StatusUnprocessableEntity, `id="profile-errors"`, `aria-invalid="true"`)
	}
	if got := nameOf(mem.ID); got != memberName {
		t.Fatalf("refused forms changed the name to %q", got)
	}

	res := e.devPost(t, "/dashboard/settings/profile", member, url.Values{"name": {"  Pat <Q> Member  "}})
	wantRedirect(t, "save the name", res, "/dashboard/settings?saved=profile")
	if got := nameOf(mem.ID); got != "Pat <Q> Member" {
		t.Fatalf("name stored as %q", got)
	}
	if got := nameOf(own.ID); got != ownerName {
		t.Fatalf("the owner's name changed to %q", got)
	}
	wantPage(t, "after saving", e.dashGet(t, "/dashboard/settings?saved=profile", member), http.StatusOK,
		`data-notice="profile-saved"`, `value="Pat &lt;Q&gt; Member"`)
}

// TestDashboardSettingsUsersPaged: the users' page lists the account's
// users oldest first, usersPageSize at a time, with links between the
// pages, and no other account's.
func TestDashboardSettingsUsersPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Other"})
	var want []int64
	want = append(want, e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner).ID)
	for i := range usersPageSize + 2 {
		want = append(want, e.dashUser(t, e.acct, "m"+strconv.Itoa(i)+"@example.com", eventstore.RoleMember).ID)
		e.dashUser(t, other, "o"+strconv.Itoa(i)+"@example.com", eventstore.RoleMember)
	}
	owner := e.signIn(t, "owner@example.com")
	userRow := regexp.MustCompile(`<tr data-user-id="(\d+)">`)
	listed := func(page response) []int64 {
		var ids []int64
		for _, m := range userRow.FindAllSubmatch(page.body, -1) {
			id, _ := strconv.ParseInt(string(m[1]), 10, 64)
			ids = append(ids, id)
		}
		return ids
	}
	first := e.dashGet(t, "/dashboard/settings/users", owner)
	next := fmt.Sprintf("/dashboard/settings/users?after=%d", want[usersPageSize-1])
	wantPage(t, "first page", first, http.StatusOK, `href="`+next+`" rel="next" data-page-link="more-users"`)
	if got := listed(first); !slices.Equal(got, want[:usersPageSize]) || strings.Contains(string(first.body), "first-users") {
		t.Fatalf("first page: %v, want %v", got, want[:usersPageSize])
	}
	second := e.dashGet(t, next, owner)
	wantPage(t, "second page", second, http.StatusOK, `href="/dashboard/settings/users" rel="prev" data-page-link="first-users"`)
	if got := listed(second); !slices.Equal(got, want[usersPageSize:]) || strings.Contains(string(second.body), "more-users") {
		t.Fatalf("second page: %v, want %v", got, want[usersPageSize:])
	}
	wantPage(t, "after=x", e.dashGet(t, "/dashboard/settings/users?after=x", owner), http.StatusBadRequest)
}
