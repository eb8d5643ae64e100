package api

import (
	"net/http"
	"net/url"
	"testing"

	"goodplan/eventstore"
)

// The csrf field of the signed-out forms (sign-in, reset request, a
// one-time link's password) and its form cookie.

// signedOutForm GETs the signed-out form at path, sending the form cookie
// formCookieValue when it is not "", and returns the page's csrf field and
// the form cookie the page set (checking its flags).
func (e *testEnv) signedOutForm(t *testing.T, path, formCookieValue string) (csrf, cookie string) {
	t.Helper()
	var headers []string
	if formCookieValue != "" {
		headers = []string{"Cookie", formCookie + "=" + formCookieValue}
	}
	page := e.dashDo(t, http.MethodGet, path, dashClient, "", nil, headers...)
	requireHTML(t, "signed-out form "+path, page, http.StatusOK, `<input type="hidden" name="csrf" value="`)
	m := csrfField.FindSubmatch(page.body)
	if m == nil {
		t.Fatalf("%s: no csrf field\n%s", path, page.body)
	}
	var c *http.Cookie
	for _, k := range (&http.Response{Header: page.header}).Cookies() {
		if k.Name == formCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/dashboard" ||
		c.MaxAge != formCookieMaxAge || len(c.Value) != sessionTokenLen {
		t.Fatalf("%s: form cookie %+v", path, c)
	}
	if sessionCookieOf(page) != nil {
		t.Fatalf("%s: a signed-out form set a session cookie", path)
	}
	return string(m[1]), c.Value
}

// postSignedOut posts form to path with the form cookie (when not "") and
// headers.
func (e *testEnv) postSignedOut(t *testing.T, path, formCookieValue string, form url.Values, headers ...string) response {
	t.Helper()
	if formCookieValue != "" {
		headers = append(headers, "Cookie", formCookie+"="+formCookieValue)
	}
	return e.dashDo(t, http.MethodPost, path, dashClient, "", form, headers...)
}

func TestDashboardSignInCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)

	csrf, cookie := e.signedOutForm(t, "/dashboard/login", "")
	// The cookie is reused (two tabs): the same cookie, the same field.
	if csrf2, cookie2 := e.signedOutForm(t, "/dashboard/login", cookie); csrf2 != csrf || cookie2 != cookie {
		t.Fatalf("second tab: field %q cookie %q, want %q %q", csrf2, cookie2, csrf, cookie)
	}
	// Another browser gets another cookie and field.
	otherCSRF, otherCookie := e.signedOutForm(t, "/dashboard/login", "")
	if otherCookie == cookie || otherCSRF == csrf || csrf == cookie {
		t.Fatal("the form cookie or its field is not random per browser, or the field is the cookie")
	}

	form := func(password, token string) url.Values {
		return url.Values{"email": {"owner@example.com"}, "password": {password}, "csrf": {token}}
	}
	refused := func(what string, res response) {
		t.Helper()
		requireHTML(t, what, res, http.StatusForbidden, `data-page="login"`, formErrExpired, `data-error="expired"`,
			`<input type="hidden" name="csrf" value="`)
		if sessionCookieOf(res) != nil {
			t.Fatalf("%s set a session cookie", what)
		}
	}
	// A wrong field, another browser's field, a field without its cookie,
	// the field twice: 403 with the form, no session, and no attempt
	// counted (more than either limit's failures, then the right password
	// still signs in).
	for i := range loginFailuresPerIP + 1 {
		refused("wrong field", e.postSignedOut(t, "/dashboard/login", cookie, form("wrong password", csrf[1:])))
		if i == 0 {
			refused("right password, wrong field", e.postSignedOut(t, "/dashboard/login", cookie, form(dashPassword, "nope")))
			refused("another browser's field", e.postSignedOut(t, "/dashboard/login", cookie, form(dashPassword, otherCSRF)))
			refused("field without its cookie", e.postSignedOut(t, "/dashboard/login", "", form(dashPassword, csrf)))
			refused("empty field", e.postSignedOut(t, "/dashboard/login", cookie, form(dashPassword, "")))
			twice := form(dashPassword, csrf)
			twice.Add("csrf", "nope")
			refused("field twice", e.postSignedOut(t, "/dashboard/login", cookie, twice))
		}
	}
	// Cross-origin: 403 whatever the field.
	for _, h := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}} {
		res := e.postSignedOut(t, "/dashboard/login", cookie, form(dashPassword, csrf), h...)
		if res.status != http.StatusForbidden || sessionCookieOf(res) != nil {
			t.Fatalf("cross-origin sign-in (%v) with the right field: %d %v", h, res.status, res.header["Set-Cookie"])
		}
	}
	// The page's field and cookie sign in.
	res := e.postSignedOut(t, "/dashboard/login", cookie, form(dashPassword, csrf),
		"Origin", "https://goodplan.test", "Sec-Fetch-Site", "same-origin")
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard" || sessionCookieOf(res) == nil {
		t.Fatalf("sign-in with the page's field: %d %s %v", res.status, res.header.Get("Location"), res.header["Set-Cookie"])
	}
	// A refused sign-in's form (401) carries a field that works too.
	bad := e.postSignedOut(t, "/dashboard/login", otherCookie, form("wrong password", otherCSRF))
	requireHTML(t, "refused sign-in", bad, http.StatusUnauthorized, `value="`+otherCSRF+`"`)
	// No field at all, same origin: signed in (scripts post email and
	// password alone).
	res = e.postSignedOut(t, "/dashboard/login", "", url.Values{"email": {"owner@example.com"}, "password": {dashPassword}},
		"Sec-Fetch-Site", "same-origin")
	if res.status != http.StatusSeeOther || sessionCookieOf(res) == nil {
		t.Fatalf("sign-in without a field: %d", res.status)
	}
}

func TestDashboardForgotCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "ann@example.com", eventstore.RoleOwner)
	csrf, cookie := e.signedOutForm(t, "/dashboard/forgot", "")
	// The sign-in page's cookie serves the forgot form too.
	if csrf2, _ := e.signedOutForm(t, "/dashboard/login", cookie); csrf2 != csrf {
		t.Fatal("the sign-in page's field differs from the forgot page's with the same cookie")
	}
	form := func(token string) url.Values { return url.Values{"email": {"ann@example.com"}, "csrf": {token}} }
	for range loginFailuresPerEmail + 1 {
		requireHTML(t, "reset request with a wrong field", e.postSignedOut(t, "/dashboard/forgot", cookie, form("nope")),
			http.StatusForbidden, `data-page="forgot"`, formErrExpired, `name="csrf"`)
	}
	if res := e.postSignedOut(t, "/dashboard/forgot", "", form(csrf)); res.status != http.StatusForbidden {
		t.Fatalf("reset request without the cookie: %d", res.status)
	}
	if res := e.postSignedOut(t, "/dashboard/forgot", cookie, form(csrf), "Origin", "https://evil.example"); res.status != http.StatusForbidden {
		t.Fatalf("cross-origin reset request: %d", res.status)
	}
	if reqs, _ := e.userEmailRequests(t); len(reqs) != 0 {
		t.Fatalf("refused reset requests asked for %d emails", len(reqs))
	}
	// The right field: sent (not limited: nothing above was counted).
	requireHTML(t, "reset request", e.postSignedOut(t, "/dashboard/forgot", cookie, form(csrf)), http.StatusOK, `data-notice="sent"`)
	// No field, same origin: sent too.
	requireHTML(t, "reset request without a field",
		e.postSignedOut(t, "/dashboard/forgot", "", url.Values{"email": {"ann@example.com"}}), http.StatusOK, `data-notice="sent"`)
	if reqs, _ := e.userEmailRequests(t); len(reqs) != 2 {
		t.Fatalf("%d emails asked for, want 2", len(reqs))
	}
}

func TestDashboardSetPasswordCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ann := e.dashUser(t, e.acct, "ann@example.com", eventstore.RoleOwner)
	for _, kind := range []string{eventstore.TokenReset, eventstore.TokenInvite} {
		path := "/dashboard/" + kind + "/" + e.linkToken(t, ann, kind)
		csrf, cookie := e.signedOutForm(t, path, "")
		form := func(password, token string) url.Values { return url.Values{"password": {password}, "csrf": {token}} }
		res := e.postSignedOut(t, path, cookie, form("a wrong-field password", "nope"))
		requireHTML(t, kind+" password with a wrong field", res, http.StatusForbidden, `data-page="set-password"`,
			formErrExpired, `action="`+path+`"`, `name="csrf"`)
		if sessionCookieOf(res) != nil {
			t.Fatalf("%s: a wrong field signed in", kind)
		}
		if res := e.postSignedOut(t, path, cookie, form("a cross-origin password", csrf), "Sec-Fetch-Site", "cross-site"); res.status != http.StatusForbidden {
			t.Fatalf("%s: cross-origin password: %d", kind, res.status)
		}
		for _, p := range []string{"a wrong-field password", "a cross-origin password"} {
			if res := e.login(t, "ann@example.com", p); res.status != http.StatusUnauthorized {
				t.Fatalf("%s: a refused form set the password %q: %d", kind, p, res.status)
			}
		}
		// The link is unspent: the page's field sets the password.
		password := "the " + kind + " password"
		res = e.postSignedOut(t, path, cookie, form(password, csrf))
		if res.status != http.StatusSeeOther || sessionCookieOf(res) == nil {
			t.Fatalf("%s: password with the page's field: %d\n%s", kind, res.status, res.body)
		}
		if res := e.login(t, "ann@example.com", password); res.status != http.StatusSeeOther {
			t.Fatalf("%s: the new password does not sign in: %d", kind, res.status)
		}
	}
	// No field, same origin: the password is set.
	path := "/dashboard/reset/" + e.linkToken(t, ann, eventstore.TokenReset)
	if res := e.postSignedOut(t, path, "", url.Values{"password": {"no field password"}}); res.status != http.StatusSeeOther {
		t.Fatalf("password without a field: %d", res.status)
	}
	if res := e.login(t, "ann@example.com", "no field password"); res.status != http.StatusSeeOther {
		t.Fatalf("the password set without a field does not sign in: %d", res.status)
	}
}
