package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// dashboardSignIn posts the sign-in form to a running server and returns
// the status and the session cookie (nil if none was set).
func dashboardSignIn(t *testing.T, base, email, password string) (int, *http.Cookie) {
	t.Helper()
	client := &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/dashboard/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "goodplan_session" {
			return resp.StatusCode, c
		}
	}
	return resp.StatusCode, nil
}

// TestUsersCreate: `goodplan users create` reads the password from
// standard input and prints the new user's id alone; the user signs in to
// the dashboard of a running server with it. Mistakes are refused with a
// clear message and create nobody.
func TestUsersCreate(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := strconv.FormatInt(createAccount(t, dbURL, "--name", "Acme"), 10)

	res := mustRunCLI(t, dbURL, "accounts", "create", "--name", "Globex") // another account, for the unique email
	other := strings.TrimSpace(res.stdout)
	res = runCLIInput(t, dbURL, "a long pass phrase\r\nignored second line\n",
		"users", "create", "--account", acct, "--email", "Ann@Example.com", "--name", "Ann", "--role", "owner")
	if res.code != 0 || !regexp.MustCompile(`^[1-9][0-9]*\n$`).MatchString(res.stdout) {
		t.Fatalf("users create: exit %d, stdout %q, stderr %s", res.code, res.stdout, res.stderr)
	}

	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		stderr      string
	}{
		{"no password", "", []string{"--account", acct, "--email", "bob@example.com"}, 2, "standard input"},
		{"short password", "1234567\n", []string{"--account", acct, "--email", "bob@example.com"}, 2, "at least 8"},
		{"long password", strings.Repeat("p", 257) + "\n", []string{"--account", acct, "--email", "bob@example.com"}, 2, "256"},
		{"no email", "password\n", []string{"--account", acct}, 2, "--email"},
		{"bad email", "password\n", []string{"--account", acct, "--email", "bob"}, 2, "valid email"},
		{"bad role", "password\n", []string{"--account", acct, "--email", "bob@example.com", "--role", "admin"}, 2, "owner or member"},
		{"email taken in another account", "password\n", []string{"--account", other, "--email", "ann@example.COM"}, 1, "exists already"},
		{"unknown account", "password\n", []string{"--account", "999999", "--email", "bob@example.com"}, 1, "does not exist"},
	} {
		res := runCLIInput(t, dbURL, tc.stdin, append([]string{"users", "create"}, tc.args...)...)
		if res.code != tc.code || res.stdout != "" || !strings.Contains(res.stderr, tc.stderr) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d mentioning %q", tc.name, res.code, res.stdout,
				res.stderr, tc.code, tc.stderr)
		}
	}

	srv := startServer(t, dbURL)
	if status, c := dashboardSignIn(t, srv.URL, "ann@example.com", "a long pass phrase"); status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign-in with the created user: %d, cookie %v", status, c)
	}
	if status, c := dashboardSignIn(t, srv.URL, "bob@example.com", "password"); status != http.StatusUnauthorized || c != nil {
		t.Fatalf("sign-in of a user the refused commands would have made: %d", status)
	}
}

// TestServeDemoPrintsDashboardSignIn: `serve --demo` on an empty database
// prints, next to the API key, the dashboard's sign-in address, email and
// a generated password that works; started again, it prints no password.
func TestServeDemoPrintsDashboardSignIn(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	srv := startServe(t, dbURL, []string{"--demo"}, "PUBLIC_URL=http://localhost:8080")
	demo := regexp.MustCompile(`(?m)^  (http://localhost:8080/dashboard/login)\n  email: +(\S+)\n  password: +(\S+)\n`)
	var m []string
	pgtest.WaitFor(t, 30*time.Second, "the demo's dashboard sign-in in the output", func() bool {
		m = demo.FindStringSubmatch(srv.logs.String())
		return m != nil
	})
	if !strings.Contains(srv.logs.String(), "export GOODPLAN_API_KEY=gp_") {
		t.Fatalf("no API key next to the dashboard sign-in:\n%s", srv.logs.String())
	}
	if status, c := dashboardSignIn(t, srv.URL, m[2], m[3]); status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign-in with the demo's email and password: %d", status)
	}
	srv.stop(t)

	again := startServe(t, dbURL, []string{"--demo"})
	pgtest.WaitFor(t, 30*time.Second, "the demo's second start message", func() bool {
		return strings.Contains(again.logs.String(), "exists already")
	})
	if strings.Contains(again.logs.String(), "password:") {
		t.Fatalf("the second start prints a password:\n%s", again.logs.String())
	}
}

// TestPasswordResetByEmail: on a running server, a reset asked for on the
// "forgot" page arrives in the outbox (through the relay, NATS and the
// email worker) with a link that sets a new password and signs the user in.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := strconv.FormatInt(createAccount(t, dbURL, "--name", "Acme"), 10)
	if res := runCLIInput(t, dbURL, "old password\n", "users", "create", "--account", acct, "--email", "ann@example.com"); res.code != 0 {
		t.Fatalf("users create: %d %s", res.code, res.stderr)
	}
	dataDir := t.TempDir()
	srv := startServer(t, dbURL, "DATA_DIR="+dataDir, "PUBLIC_URL=http://dashboard.test")
	resp, err := http.PostForm(srv.URL+"/dashboard/forgot", url.Values{"email": {"ann@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("forgot: %d", resp.StatusCode)
	}
	link := outboxLink(t, filepath.Join(dataDir, "outbox"), "<useremail-",
		regexp.MustCompile(`http://dashboard\.test(/dashboard/reset/[A-Za-z0-9_-]{43})`), srv)
	path := strings.TrimPrefix(link, "http://dashboard.test")
	client := &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.PostForm(srv.URL+path, url.Values{"password": {"a brand new password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the new password: %d", resp.StatusCode)
	}
	if status, c := dashboardSignIn(t, srv.URL, "ann@example.com", "a brand new password"); status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in with the new password: %d", status)
	}
}

// TestDashboardAccessibility: the sign-in page, the landing page (Needs
// attention, signed in, with a payment a customer reported in the portal
// on it), the Overview, the plan list and the create form score 100 for
// accessibility in Lighthouse.
func TestDashboardAccessibility(t *testing.T) {
	t.Parallel()
	lighthouseBin(t) // fail at once when it is missing, before starting a server
	dbURL := pgtest.NewDatabase(t)
	acctID := createAccount(t, dbURL, "--name", "Northwind Plumbing")
	key := createKey(t, dbURL, acctID)
	if res := runCLIInput(t, dbURL, "a long pass phrase\n", "users", "create", "--account", strconv.FormatInt(acctID, 10),
		"--email", "owner@example.com", "--name", "Olive Owner", "--role", "owner"); res.code != 0 {
		t.Fatalf("users create: %d %s", res.code, res.stderr)
	}
	base := "http://" + freeAddr(t)
	srv := startServer(t, dbURL, "HTTP_ADDR="+strings.TrimPrefix(base, "http://"), "PUBLIC_URL="+base)
	checkAccessibility(t, srv.URL+"/dashboard/login", "")
	status, c := dashboardSignIn(t, srv.URL, "owner@example.com", "a long pass phrase")
	if status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in: %d", status)
	}
	cookie := c.Name + "=" + c.Value

	// A customer chooses an option and reports a payment in the portal.
	status, body := call(t, http.MethodPost, base+"/api/v1/plans", key, portalRequest)
	if status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", status, body)
	}
	var created struct {
		PlanID int64  `json:"plan_id"`
		Link   string `json:"customer_portal_url"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	waitForPortal(t, created.Link)
	postPortalForm(t, created.Link, "/select", nil)
	postPortalForm(t, created.Link, "/payments", url.Values{"amount": {"100.00"}, "method": {"e_transfer"}})
	row := fmt.Sprintf(`data-attention="payment-reported" data-plan-id="%d"`, created.PlanID)
	pgtest.WaitFor(t, 30*time.Second, "the reported payment under Needs attention", func() bool {
		return strings.Contains(string(dashboardPage(t, srv.URL+"/dashboard", cookie)), row)
	})
	checkAccessibility(t, srv.URL+"/dashboard", cookie)
	checkAccessibility(t, srv.URL+"/dashboard/overview", cookie)
	// The plan list with the plan in it (projected: it is under Needs
	// attention), and the create form.
	if !strings.Contains(string(dashboardPage(t, srv.URL+"/dashboard/plans", cookie)), fmt.Sprintf(`data-plan-id="%d"`, created.PlanID)) {
		t.Fatalf("plan %d is not in the dashboard's plan list", created.PlanID)
	}
	checkAccessibility(t, srv.URL+"/dashboard/plans", cookie)
	checkAccessibility(t, srv.URL+"/dashboard/plans/new", cookie)
}

// dashboardPage is the body of a dashboard page GET with cookie.
func dashboardPage(t *testing.T, pageURL, cookie string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, pageURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return b
}

// postPortalForm posts the portal page's form whose action ends with
// action, with its hidden fields (the first option's for /select) and
// fields, and checks it is answered with the plan page.
func postPortalForm(t *testing.T, link, action string, fields url.Values) {
	t.Helper()
	_, page := call(t, http.MethodGet, link, "", "")
	_, rest, ok := strings.Cut(string(page), action+`">`)
	form, _, _ := strings.Cut(rest, "</form>")
	if !ok {
		t.Fatalf("no %s form on the portal page:\n%s", action, page)
	}
	values := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(form, -1) {
		if values.Get(m[1]) == "" {
			values.Set(m[1], m[2])
		}
	}
	for k, v := range fields {
		values[k] = v
	}
	res, err := http.PostForm(link+action, values)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("portal %s: %d", action, res.StatusCode)
	}
}
