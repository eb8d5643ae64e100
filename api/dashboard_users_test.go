package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore"
)

// userEmailRequests returns the user email requests stored, oldest first,
// with their metadata.
func (e *testEnv) userEmailRequests(t *testing.T) ([]eventstore.UserEmailRequest, []eventstore.Metadata) {
	t.Helper()
	rows, err := e.store.Pool().Query(context.Background(),
		`SELECT data, metadata FROM events WHERE type = $1 ORDER BY global_position`, eventstore.EventUserEmailRequested)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var reqs []eventstore.UserEmailRequest
	var metas []eventstore.Metadata
	for rows.Next() {
		var data, meta []byte
		var req eventstore.UserEmailRequest
		var m eventstore.Metadata
		if err := rows.Scan(&data, &meta); err != nil || json.Unmarshal(data, &req) != nil || json.Unmarshal(meta, &m) != nil {
			t.Fatalf("read request: %v", err)
		}
		reqs, metas = append(reqs, req), append(metas, m)
	}
	return reqs, metas
}

// linkToken makes a one-time link token for u, as the email worker does
// when it sends the email.
func (e *testEnv) linkToken(t *testing.T, u eventstore.User, kind string) string {
	t.Helper()
	_, token, err := e.store.CreateUserToken(context.Background(), u.ID, kind, e.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestDashboardPasswordReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.dashUser(t, e.acct, "ann@example.com", eventstore.RoleOwner)
	requireHTML(t, "sign-in page", e.dashGet(t, "/dashboard/login", ""), http.StatusOK, `href="/dashboard/forgot"`)
	requireHTML(t, "forgot page", e.dashGet(t, "/dashboard/forgot", ""), http.StatusOK, `name="email"`, `<label for="forgot-email">`)

	forgot := func(email string, headers ...string) response {
		return e.dashDo(t, http.MethodPost, "/dashboard/forgot", dashClient, "", url.Values{"email": {email}}, headers...)
	}
	known, unknown := forgot(" ANN@example.com"), forgot("nobody@example.com")
	requireHTML(t, "reset asked", known, http.StatusOK, `data-notice="sent"`)
	if unknown.status != known.status || string(unknown.body) != string(known.body) {
		t.Fatalf("an unknown email is answered otherwise:\n%s\n---\n%s", known.body, unknown.body)
	}
	reqs, metas := e.userEmailRequests(t)
	if len(reqs) != 1 || reqs[0].UserID != ann.ID || reqs[0].Kind != eventstore.TokenReset || metas[0].AccountID != e.acct.ID ||
		metas[0].User == nil || metas[0].User.ID != ann.ID {
		t.Fatalf("requests %+v %+v", reqs, metas)
	}
	if res := forgot("ann@example.com", "Sec-Fetch-Site", "cross-site"); res.status != http.StatusForbidden {
		t.Fatalf("cross-site reset request: %d", res.status)
	}
	for range loginFailuresPerEmail - 1 {
		forgot("ann@example.com")
	}
	requireHTML(t, "reset requests past the limit", forgot("ann@example.com"), http.StatusTooManyRequests, resetErrLimited)
	if reqs, _ := e.userEmailRequests(t); len(reqs) != loginFailuresPerEmail {
		t.Fatalf("%d requests stored, want %d", len(reqs), loginFailuresPerEmail)
	}

	session := e.signIn(t, "ann@example.com")
	token := e.linkToken(t, ann, eventstore.TokenReset)
	path := "/dashboard/reset/" + token
	requireHTML(t, "reset link page", e.dashGet(t, path, ""), http.StatusOK, `data-page="set-password"`, "ann@example.com",
		`<label for="new-password">`, `action="`+path+`"`)
	if res := e.dashGet(t, "/dashboard/invite/"+token, ""); res.status != http.StatusNotFound {
		t.Fatalf("a reset token as an invitation: %d", res.status)
	}
	set := func(p, password string, headers ...string) response {
		return e.dashDo(t, http.MethodPost, p, dashClient, "", url.Values{"password": {password}}, headers...)
	}
	if res := set(path, "new password", "Origin", "https://evil.example"); res.status != http.StatusForbidden {
		t.Fatalf("cross-origin new password: %d", res.status)
	}
	requireHTML(t, "short password", set(path, "short"), http.StatusUnprocessableEntity, "at least 8", `data-page="set-password"`)
	res := set(path, "a brand new password")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard" || sessionCookieOf(res) == nil {
		t.Fatalf("new password: %d %s", res.status, res.header.Get("Location"))
	}
	if res := e.dashGet(t, "/dashboard", sessionCookieOf(res).Value); res.status != http.StatusOK {
		t.Fatalf("signed in after the reset: %d", res.status)
	}
	e.requireSignedOut(t, "the session from before the reset", session)
	requireHTML(t, "link used twice", set(path, "yet another password"), http.StatusNotFound, `data-page="link_gone"`,
		`href="/dashboard/forgot"`)
	if res := e.login(t, "ann@example.com", dashPassword); res.status != http.StatusUnauthorized {
		t.Fatalf("old password after the reset: %d", res.status)
	}
	if res := e.login(t, "ann@example.com", "a brand new password"); res.status != http.StatusSeeOther {
		t.Fatalf("new password: %d", res.status)
	}

	// An hour later a link is gone.
	late := "/dashboard/reset/" + e.linkToken(t, ann, eventstore.TokenReset)
	e.clock.advance(eventstore.UserTokenLifetime)
	requireHTML(t, "expired link", e.dashGet(t, late, ""), http.StatusNotFound, `data-page="link_gone"`)
	requireHTML(t, "unknown link", e.dashGet(t, "/dashboard/reset/"+strings.Repeat("A", 43), ""), http.StatusNotFound)
}

func TestDashboardInvite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)

	member := e.signIn(t, "member@example.com")
	requireHTML(t, "member on the invitation form", e.dashGet(t, "/dashboard/users/invite", member), http.StatusForbidden,
		`data-page="owner_only"`)
	res := e.dashDo(t, http.MethodPost, "/dashboard/users/invite", dashClient, member,
		url.Values{"csrf": {e.csrfOf(t, member)}, "email": {"x@example.com"}})
	if res.status != http.StatusForbidden {
		t.Fatalf("member's invitation: %d", res.status)
	}

	cookie := e.signIn(t, "owner@example.com")
	page := e.dashGet(t, "/dashboard/users/invite", cookie)
	requireHTML(t, "invitation form", page, http.StatusOK, `<label for="invite-email">`, `<label for="invite-role">`,
		`data-action="invite-user"`)
	fid := formIDField.FindSubmatch(page.body)
	if fid == nil {
		t.Fatalf("no form_id:\n%s", page.body)
	}
	invite := func(form url.Values) response {
		return e.dashDo(t, http.MethodPost, "/dashboard/users/invite", dashClient, cookie, form)
	}
	if res := invite(url.Values{"email": {"bea@example.com"}}); res.status != http.StatusForbidden {
		t.Fatalf("invitation without csrf: %d", res.status)
	}
	form := url.Values{"csrf": {e.csrfOf(t, cookie)}, "form_id": {string(fid[1])}, "email": {"Bea@Example.com"},
		"name": {"Bea"}, "role": {"member"}}
	for range 2 { // a double submit invites once
		res := invite(form)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/users/invite?sent=bea%40example.com" {
			t.Fatalf("invitation: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
		}
	}
	requireHTML(t, "after the invitation", e.dashGet(t, "/dashboard/users/invite?sent=bea%40example.com", cookie),
		http.StatusOK, `data-notice="invited"`, "bea@example.com")
	users, err := e.store.AccountUsers(context.Background(), e.acct.ID)
	if err != nil || len(users) != 3 || users[2].Email != "bea@example.com" || users[2].Role != eventstore.RoleMember {
		t.Fatalf("users %+v, %v", users, err)
	}
	bea := users[2]
	reqs, metas := e.userEmailRequests(t)
	if len(reqs) != 1 || reqs[0].UserID != bea.ID || reqs[0].Kind != eventstore.TokenInvite ||
		metas[0].User == nil || metas[0].User.ID != owner.ID || metas[0].Actor != "merchant" {
		t.Fatalf("invitation requests %+v %+v", reqs, metas)
	}
	for _, tc := range []struct{ email, want string }{{"bea@example.com", "exists already"}, {"not an email", "valid email"}} {
		form := url.Values{"csrf": {e.csrfOf(t, cookie)}, "form_id": {newFormID()}, "email": {tc.email}}
		requireHTML(t, "invite "+tc.email, invite(form), http.StatusUnprocessableEntity, tc.want)
	}
	if res := e.login(t, "bea@example.com", ""); res.status != http.StatusUnauthorized {
		t.Fatalf("invited user signs in before choosing a password: %d", res.status)
	}

	path := "/dashboard/invite/" + e.linkToken(t, bea, eventstore.TokenInvite)
	requireHTML(t, "invitation link", e.dashGet(t, path, ""), http.StatusOK, "Choose your password", "Acme")
	res = e.dashDo(t, http.MethodPost, path, dashClient, "", url.Values{"password": {"bea's own password"}})
	if res.status != http.StatusSeeOther || sessionCookieOf(res) == nil {
		t.Fatalf("accept the invitation: %d", res.status)
	}
	home := e.dashGet(t, "/dashboard", sessionCookieOf(res).Value)
	requireHTML(t, "invited user's dashboard", home, http.StatusOK, ">Acme</span>", "bea@example.com")
	if strings.Contains(string(home.body), "/dashboard/developers") {
		t.Fatal("a member is offered the developers page")
	}
	e.clock.advance(time.Minute)
	if res := e.login(t, "bea@example.com", "bea's own password"); res.status != http.StatusSeeOther {
		t.Fatalf("sign in with the chosen password: %d", res.status)
	}
}
