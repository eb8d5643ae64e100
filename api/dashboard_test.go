package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// The dashboard's sign-in, sessions, forms and shell against the real
// router and database.

const dashPassword = "correct horse battery"

// dashUser creates a user of acct with dashPassword.
func (e *testEnv) dashUser(t testing.TB, acct eventstore.Account, email, role string) eventstore.User {
	t.Helper()
	u, err := e.store.CreateUser(context.Background(), eventstore.NewUser{AccountID: acct.ID, Email: email,
		Name: "Pat " + role, Role: role, Password: dashPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// dashDo sends a request to the dashboard from client address remote
// (host:port), with the session cookie value when it is not "" and
// headers ("name", "value", ...).
func (e *testEnv) dashDo(t testing.TB, method, path, remote, cookie string, form url.Values, headers ...string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = remote
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

const dashClient = "192.0.2.10:4321"

// login posts the sign-in form from dashClient.
func (e *testEnv) login(t testing.TB, email, password string, headers ...string) response {
	t.Helper()
	return e.dashDo(t, http.MethodPost, "/dashboard/login", dashClient, "",
		url.Values{"email": {email}, "password": {password}}, headers...)
}

// signIn signs email in and returns the session cookie's value.
func (e *testEnv) signIn(t *testing.T, email string) string {
	t.Helper()
	res := e.login(t, email, dashPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard" {
		t.Fatalf("sign-in of %s: %d %s\n%s", email, res.status, res.header.Get("Location"), res.body)
	}
	c := sessionCookieOf(res)
	if c == nil || c.Value == "" {
		t.Fatalf("sign-in of %s set no session cookie: %v", email, res.header["Set-Cookie"])
	}
	return c.Value
}

func sessionCookieOf(res response) *http.Cookie {
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

// dashGet is a GET of path with the session cookie.
func (e *testEnv) dashGet(t testing.TB, path, cookie string) response {
	t.Helper()
	return e.dashDo(t, http.MethodGet, path, dashClient, cookie, nil)
}

// csrfOf reads the csrf field of the page at /dashboard as cookie's user.
func (e *testEnv) csrfOf(t *testing.T, cookie string) string {
	t.Helper()
	page := e.dashGet(t, "/dashboard", cookie)
	m := csrfField.FindSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("GET /dashboard: %d, no csrf field\n%s", page.status, page.body)
	}
	return string(m[1])
}

// requireSignedOut checks that cookie opens no page any more.
func (e *testEnv) requireSignedOut(t *testing.T, what, cookie string) {
	t.Helper()
	res := e.dashGet(t, "/dashboard", cookie)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/login" {
		t.Fatalf("%s: GET /dashboard is %d %s, want 303 to the sign-in page", what, res.status, res.header.Get("Location"))
	}
}

func TestDashboardSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "Owner@Example.com", eventstore.RoleOwner)

	page := e.dashGet(t, "/dashboard/login", "")
	requireHTML(t, "sign-in page", page, http.StatusOK, `name="email"`, `name="password"`, `<label for="login-email">`,
		`action="/dashboard/login"`)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		page.header.Get("Cache-Control") != "no-store" || page.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("sign-in page headers: %v", page.header)
	}

	// The email is matched however it is typed.
	res := e.login(t, "  owner@EXAMPLE.com ", dashPassword)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard" {
		t.Fatalf("sign-in: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	c := sessionCookieOf(res)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/dashboard" ||
		c.MaxAge != int(eventstore.SessionMaxAge/time.Second) || len(c.Value) != sessionTokenLen {
		t.Fatalf("session cookie %+v", c)
	}
	home := e.dashGet(t, "/dashboard", c.Value)
	requireHTML(t, "Needs attention", home, http.StatusOK, "<h1>Needs attention</h1>", `data-page="needs-attention"`,
		">Acme</span>", "owner@example.com", `href="#main"`, `action="/dashboard/logout"`, `name="csrf"`,
		`href="/dashboard" aria-current="page"`, `href="/dashboard/plans"`, `href="/dashboard/catalog"`,
		`href="/dashboard/plan-groups"`, `href="/dashboard/developers"`, `href="/dashboard/settings"`)
	if e.dashGet(t, "/dashboard/", c.Value).status != http.StatusOK {
		t.Fatal("GET /dashboard/ is not the landing page")
	}
	// Signed in already: the sign-in page leads to the dashboard.
	if res := e.dashGet(t, "/dashboard/login", c.Value); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in page when signed in: %d", res.status)
	}

	// Refused: one message for an unknown email and a wrong password, 401,
	// no session cookie (only the form cookie of the form shown again).
	for _, try := range [][2]string{{"owner@example.com", "wrong password"}, {"nobody@example.com", dashPassword},
		{"owner@example.com", ""}, {"", ""}, {"owner@example.com", strings.Repeat("x", 300)}} {
		res := e.login(t, try[0], try[1])
		requireHTML(t, "refused sign-in "+try[0], res, http.StatusUnauthorized, loginErrCredentials,
			`data-error="credentials"`)
		if sc := res.header["Set-Cookie"]; sessionCookieOf(res) != nil || len(sc) != 1 || !strings.HasPrefix(sc[0], formCookie+"=") {
			t.Fatalf("refused sign-in %q set %v", try[0], res.header["Set-Cookie"])
		}
		if strings.Count(string(res.body), `role="alert"`) != 1 {
			t.Fatalf("refused sign-in shows more than one message:\n%s", res.body)
		}
	}
}

func TestDashboardCookieNotSecureOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv = New(Config{Store: e.store, PublicURL: "http://localhost:8080/goodplan", Now: e.clock.now})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	res := e.login(t, "owner@example.com", dashPassword)
	c := sessionCookieOf(res)
	if res.status != http.StatusSeeOther || c == nil || c.Secure || !c.HttpOnly || c.Path != "/goodplan/dashboard" ||
		res.header.Get("Location") != "/goodplan/dashboard" {
		t.Fatalf("sign-in over http: %d %s %+v", res.status, res.header.Get("Location"), c)
	}
	// The form comes from PUBLIC_URL's origin, whatever its path.
	if res := e.login(t, "owner@example.com", dashPassword, "Origin", "http://localhost:8080"); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in from PUBLIC_URL's origin: %d", res.status)
	}
	// Or from the address the request was sent to (httptest's Host is
	// example.com), and no other.
	if res := e.login(t, "owner@example.com", dashPassword, "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in from the request's own origin: %d", res.status)
	}
	for _, o := range []string{"http://example.com:8080", "http://example.com.evil.example", "http://localhost:8081", "file://example.com"} {
		if res := e.login(t, "owner@example.com", dashPassword, "Origin", o); res.status != http.StatusForbidden {
			t.Fatalf("sign-in from %s: %d", o, res.status)
		}
	}
}

func TestDashboardNeedsASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/dashboard", "/dashboard/", "/dashboard/plans", "/dashboard/plans/12",
		"/dashboard/developers", "/dashboard/settings", "/dashboard/no-such-page"} {
		for _, cookie := range []string{"", "not-a-session", strings.Repeat("A", sessionTokenLen)} {
			res := e.dashGet(t, path, cookie)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/login" {
				t.Fatalf("GET %s with cookie %q: %d %s, want 303 to the sign-in page", path, cookie, res.status,
					res.header.Get("Location"))
			}
		}
	}
	res := e.dashDo(t, http.MethodPost, "/dashboard/logout", dashClient, "", url.Values{"csrf": {"x"}})
	requireHTML(t, "POST without a session", res, http.StatusForbidden, `data-page="forbidden"`)

	// Signed in, an unknown page is the 404 page in the layout.
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	requireHTML(t, "unknown page", e.dashGet(t, "/dashboard/no-such-page", cookie), http.StatusNotFound,
		`data-page="not_found"`, ">Acme</span>")
}

func TestDashboardSessionExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)

	// Idle: each use within 12 hours keeps the session going.
	cookie := e.signIn(t, "owner@example.com")
	for range 3 {
		e.clock.advance(eventstore.SessionIdleTimeout - time.Minute)
		if res := e.dashGet(t, "/dashboard", cookie); res.status != http.StatusOK {
			t.Fatalf("used within the idle timeout: %d", res.status)
		}
	}
	e.clock.advance(eventstore.SessionIdleTimeout)
	e.requireSignedOut(t, "idle for 12 hours", cookie)

	// Absolute: used every 11 hours, it still ends 7 days after sign-in.
	cookie = e.signIn(t, "owner@example.com")
	start := e.clock.t
	for e.clock.t.Add(11 * time.Hour).Before(start.Add(eventstore.SessionMaxAge)) {
		e.clock.advance(11 * time.Hour)
		if res := e.dashGet(t, "/dashboard", cookie); res.status != http.StatusOK {
			t.Fatalf("%s after sign-in: %d", e.clock.t.Sub(start), res.status)
		}
	}
	e.clock.t = start.Add(eventstore.SessionMaxAge)
	e.requireSignedOut(t, "7 days after sign-in", cookie)
}

func TestDashboardSignOutEndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	other := e.signIn(t, "owner@example.com") // a second browser
	res := e.dashDo(t, http.MethodPost, "/dashboard/logout", dashClient, cookie, url.Values{"csrf": {e.csrfOf(t, cookie)}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/dashboard/login" {
		t.Fatalf("sign out: %d %s\n%s", res.status, res.header.Get("Location"), res.body)
	}
	if c := sessionCookieOf(res); c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("sign out did not clear the cookie: %+v", c)
	}
	// The old cookie, kept by whoever copied it, opens nothing.
	e.requireSignedOut(t, "after sign out", cookie)
	if res := e.dashGet(t, "/dashboard", other); res.status != http.StatusOK {
		t.Fatalf("the other browser's session: %d", res.status)
	}
	var n int
	if err := e.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM user_sessions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("sessions left: %d, %v", n, err)
	}
}

func TestDashboardFormsNeedCSRFAndSameOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	otherCSRF := e.csrfOf(t, e.signIn(t, "member@example.com"))
	if otherCSRF == csrf {
		t.Fatal("two sessions share a csrf value")
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no csrf", url.Values{}, nil},
		{"empty csrf", url.Values{"csrf": {""}}, nil},
		{"wrong csrf", url.Values{"csrf": {"AAAA" + csrf[4:]}}, nil},
		{"another session's csrf", url.Values{"csrf": {otherCSRF}}, nil},
		{"other origin", url.Values{"csrf": {csrf}}, []string{"Origin", "https://evil.example"}},
		{"null origin", url.Values{"csrf": {csrf}}, []string{"Origin", "null"}},
		{"http origin of an https service", url.Values{"csrf": {csrf}}, []string{"Origin", "http://goodplan.test"}},
		{"cross-site", url.Values{"csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-site", url.Values{"csrf": {csrf}}, []string{"Sec-Fetch-Site", "same-site"}},
	} {
		res := e.dashDo(t, http.MethodPost, "/dashboard/logout", dashClient, cookie, tc.form, tc.headers...)
		requireHTML(t, tc.name, res, http.StatusForbidden, `data-page="forbidden"`)
		// Nothing was done: the session still works.
		if res := e.dashGet(t, "/dashboard", cookie); res.status != http.StatusOK {
			t.Fatalf("%s: the refused sign-out ended the session (%d)", tc.name, res.status)
		}
	}
	// A cross-origin sign-in is refused too (login CSRF).
	if res := e.login(t, "owner@example.com", dashPassword, "Sec-Fetch-Site", "cross-site"); res.status != http.StatusForbidden ||
		sessionCookieOf(res) != nil {
		t.Fatalf("cross-site sign-in: %d", res.status)
	}
	if res := e.login(t, "owner@example.com", dashPassword, "Origin", "https://evil.example"); res.status != http.StatusForbidden {
		t.Fatalf("cross-origin sign-in: %d", res.status)
	}
	res := e.dashDo(t, http.MethodPost, "/dashboard/logout", dashClient, cookie, url.Values{"csrf": {csrf}},
		"Origin", "https://goodplan.test", "Sec-Fetch-Site", "same-origin")
	if res.status != http.StatusSeeOther {
		t.Fatalf("same-origin sign-out with its csrf: %d\n%s", res.status, res.body)
	}
}

func TestDashboardSignInLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	post := func(remote, email, password string) response {
		return e.dashDo(t, http.MethodPost, "/dashboard/login", remote, "", url.Values{"email": {email}, "password": {password}})
	}

	// Per email: past the failures allowed, even the right password waits,
	// from any address.
	for i := range loginFailuresPerEmail {
		if res := post("192.0.2.1:1", "owner@example.com", "wrong password"); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.status)
		}
	}
	res := post("198.51.100.7:1", "Owner@example.com", dashPassword)
	requireHTML(t, "sign-in past the email's limit", res, http.StatusTooManyRequests, loginErrLimited, `data-error="limited"`)
	if res.header.Get("Retry-After") == "" || sessionCookieOf(res) != nil {
		t.Fatalf("429: Retry-After %q, cookie %v", res.header.Get("Retry-After"), sessionCookieOf(res))
	}
	if res := post("192.0.2.1:1", "member@example.com", dashPassword); res.status != http.StatusSeeOther {
		t.Fatalf("another email from the same address: %d", res.status)
	}
	e.clock.advance(time.Minute)
	if res := post("192.0.2.1:1", "owner@example.com", dashPassword); res.status != http.StatusSeeOther {
		t.Fatalf("a minute later: %d", res.status)
	}

	// Per address: failures spread over many emails.
	for i := range loginFailuresPerIP {
		email := "guess" + string(rune('a'+i)) + "@example.com"
		if res := post("203.0.113.5:1", email, "wrong password"); res.status != http.StatusUnauthorized {
			t.Fatalf("address failure %d: %d", i+1, res.status)
		}
	}
	requireHTML(t, "sign-in past the address's limit", post("203.0.113.5:2", "member@example.com", dashPassword),
		http.StatusTooManyRequests, loginErrLimited)
	if res := post("203.0.113.6:1", "member@example.com", dashPassword); res.status != http.StatusSeeOther {
		t.Fatalf("another address: %d", res.status)
	}
}

func TestDashboardMemberGets403OnOwnerPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	// An owner's page: the middleware the dashboard's owner routes use.
	ownerPage := e.srv.requireUser(e.srv.requireOwner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, http.StatusOK, []byte("owner page of "+dashboardUserOf(r).Email))
	})))
	get := func(cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/dashboard/developers", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		ownerPage.ServeHTTP(rec, req)
		return rec
	}
	member := e.signIn(t, "member@example.com")
	if rec := get(member); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `data-page="owner_only"`) {
		t.Fatalf("member on an owner's page: %d\n%s", rec.Code, rec.Body)
	}
	if rec := get(e.signIn(t, "owner@example.com")); rec.Code != http.StatusOK || rec.Body.String() != "owner page of owner@example.com" {
		t.Fatalf("owner on an owner's page: %d %s", rec.Code, rec.Body)
	}
	// A member's navigation does not offer the owners' section.
	home := e.dashGet(t, "/dashboard", member)
	if home.status != http.StatusOK || strings.Contains(string(home.body), "/dashboard/developers") {
		t.Fatalf("member's navigation:\n%s", home.body)
	}
}

func TestDashboardShowsOnlyTheUsersAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Globex <Corp>"})
	e.dashUser(t, e.acct, "a@example.com", eventstore.RoleOwner)
	e.dashUser(t, other, "g@example.com", eventstore.RoleOwner)
	accountMark := regexp.MustCompile(`data-account-id="(\d+)">([^<]*)<`)
	for _, tc := range []struct {
		email, name, notName string
		id                   int64
	}{{"a@example.com", "Acme", "Globex", e.acct.ID}, {"g@example.com", "Globex &lt;Corp&gt;", "Acme", other.ID}} {
		page := e.dashGet(t, "/dashboard", e.signIn(t, tc.email))
		m := accountMark.FindSubmatch(page.body)
		if page.status != http.StatusOK || m == nil || string(m[1]) != strconv.FormatInt(tc.id, 10) || string(m[2]) != tc.name ||
			strings.Contains(string(page.body), tc.notName) {
			t.Fatalf("%s's header: %d %q\n%s", tc.email, page.status, m, page.body)
		}
	}
}

// TestDashboardCommandRecordsTheUser runs a plan command the way a
// dashboard page does (dashboardForm, then the API's command path with
// dashboardMetadata): the events name the user as the actor, a form posted
// twice is applied once, a form refused appends nothing, and another
// account's plan is not found.
func TestDashboardCommandRecordsTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, _ := e.account(t, eventstore.NewAccount{Name: "Globex"})
	owner := e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	e.dashUser(t, other, "g@example.com", eventstore.RoleOwner)
	plan := e.newPortalPlan(t, seedMinimal)
	cancel := e.srv.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := e.srv.dashboardForm(w, r)
		if !ok {
			return
		}
		_, err := e.srv.runPlan(r.Context(), planCommand{ID: plan.id, Meta: e.srv.dashboardMetadata(r, u),
			Decide: func(p *domain.Plan) ([]domain.Event, error) {
				if p.AccountID() != u.AccountID {
					return nil, eventstore.ErrNotFound
				}
				return p.Cancel(r.PostForm.Get("reason"), e.srv.now())
			}})
		switch {
		case err == nil, errors.Is(err, eventstore.ErrDuplicateCommand):
			http.Redirect(w, r, "/dashboard/plans/"+strconv.FormatInt(plan.id, 10), http.StatusSeeOther)
		case errors.Is(err, eventstore.ErrNotFound):
			e.srv.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		default:
			e.srv.dashboardFail(w, r, err)
		}
	}))
	post := func(cookie string, form url.Values) int {
		req := httptest.NewRequest(http.MethodPost, "/dashboard/plans/x/cancel", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "dashboard test")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		cancel.ServeHTTP(rec, req)
		return rec.Code
	}
	before := len(e.records(t, plan.id))

	stranger := e.signIn(t, "g@example.com")
	if code := post(stranger, url.Values{"csrf": {e.csrfOf(t, stranger)}, "reason": {"not yours"}}); code != http.StatusNotFound {
		t.Fatalf("another account's plan: %d", code)
	}
	cookie := e.signIn(t, "owner@example.com")
	if code := post(cookie, url.Values{"reason": {"no csrf"}}); code != http.StatusForbidden {
		t.Fatalf("without csrf: %d", code)
	}
	if n := len(e.records(t, plan.id)); n != before {
		t.Fatalf("refused forms appended %d events", n-before)
	}
	form := url.Values{"csrf": {e.csrfOf(t, cookie)}, "form_id": {newFormID()}, "reason": {"Customer paid in full elsewhere"}}
	for range 2 {
		if code := post(cookie, form); code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", code)
		}
	}
	recs := e.records(t, plan.id)
	if n := countType(recs, domain.EventPlanCancelled); n != 1 {
		t.Fatalf("the form posted twice cancelled %d times: %v", n, typesOf(recs))
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(recs[len(recs)-1].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Actor != domain.SourceMerchant || meta.AccountID != e.acct.ID || meta.User == nil ||
		*meta.User != (eventstore.ActorUser{ID: owner.ID, Email: "owner@example.com"}) ||
		meta.UserAgent != "dashboard test" || !strings.HasPrefix(meta.CommandID, "dashboard:") {
		t.Fatalf("metadata %s", recs[len(recs)-1].Metadata)
	}
}
