package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"goodplan/eventstore/pgtest"
)

// newDashboardOwner creates the account "Northwind Plumbing" in dbURL's
// database, its owner owner@example.com (password "a long pass phrase")
// and an API key, which it returns.
func newDashboardOwner(t *testing.T, dbURL string) string {
	t.Helper()
	return createKey(t, dbURL, newDashboardAccount(t, dbURL))
}

// newDashboardAccount creates the account "Northwind Plumbing" in dbURL's
// database and its owner Olive Owner, owner@example.com (password "a long
// pass phrase"), with the CLI; it returns the account's id.
func newDashboardAccount(t *testing.T, dbURL string) int64 {
	t.Helper()
	acct := createAccount(t, dbURL, "--name", "Northwind Plumbing")
	if res := runCLIInput(t, dbURL, "a long pass phrase\n", "users", "create", "--account", strconv.FormatInt(acct, 10),
		"--email", "owner@example.com", "--name", "Olive Owner", "--role", "owner"); res.code != 0 {
		t.Fatalf("users create: %d %s", res.code, res.stderr)
	}
	return acct
}

// TestDashboardPlanAccessibility: a plan's page in the dashboard scores
// 100 for accessibility in Lighthouse, with the options (pending) and with
// the schedule and its forms (active, once the customer chose in the
// portal).
func TestDashboardPlanAccessibility(t *testing.T) {
	t.Parallel()
	lighthouseBin(t) // fail at once when it is missing, before starting a server
	dbURL := pgtest.NewDatabase(t)
	key := newDashboardOwner(t, dbURL)
	base := "http://" + freeAddr(t)
	srv := startServer(t, dbURL, "HTTP_ADDR="+strings.TrimPrefix(base, "http://"), "PUBLIC_URL="+base, "DATA_DIR="+t.TempDir())
	status, body := call(t, http.MethodPost, base+"/api/v1/plans", key, portalRequest)
	if status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", status, body)
	}
	var created createdPlan
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	status, c := dashboardSignIn(t, srv.URL, "owner@example.com", "a long pass phrase")
	if status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in: %d", status)
	}
	page := base + "/dashboard/plans/" + strconv.FormatInt(created.PlanID, 10)
	checkAccessibility(t, page, c.Name+"="+c.Value)

	// The customer chooses the first option in the portal.
	link := created.CustomerPortalURL
	waitForPortal(t, link)
	_, portal := call(t, http.MethodGet, link, "", "")
	form := url.Values{}
	for _, m := range hiddenInput.FindAllSubmatch(portal, 3) {
		form.Set(string(m[1]), string(m[2]))
	}
	res, err := http.PostForm(link+"/select", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("choose an option: %d", res.StatusCode)
	}
	req, err := http.NewRequest(http.MethodGet, page, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	_, _ = html.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Contains(html.Bytes(), []byte(`data-action="extend"`)) {
		t.Fatalf("the plan page after the choice: %d, no extend form\n%s", res.StatusCode, html.Bytes())
	}
	checkAccessibility(t, page, c.Name+"="+c.Value)
}
