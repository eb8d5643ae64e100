package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"goodplan/eventstore/pgtest"
)

// TestDashboardCatalogAccessibility: the catalog pages with the most
// controls (the create form, a plan's page with a quote and its edit
// form) and a plan group's report score 100 for accessibility in
// Lighthouse.
func TestDashboardCatalogAccessibility(t *testing.T) {
	t.Parallel()
	srv, key, cookie := startDashboardOwner(t)
	if status, body := call(t, http.MethodPost, srv.URL+"/api/v1/catalog/plans", key, `{"id":"volume","name":"Volume",
		"pricing_mode":"volume","metadata":{"team":"growth"},"tiers":[{"max_qty":10,"unit_cost":"2"},{"min_qty":11,"unit_cost":"1.5"}]}`); status != http.StatusCreated {
		t.Fatalf("create catalog plan: %d %s", status, body)
	}
	status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plan-groups", key, `{"name":"Volume plans","plans":["volume"]}`)
	var group struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(body, &group) != nil {
		t.Fatalf("create plan group: %d %s", status, body)
	}
	checkAccessibility(t, srv.URL+"/dashboard/catalog/new", cookie)
	checkAccessibility(t, srv.URL+"/dashboard/catalog/volume?quantity=12", cookie)
	checkAccessibility(t, srv.URL+"/dashboard/plan-groups/"+group.ID, cookie)
}

// startDashboardOwner starts a server (after checking that Lighthouse is
// installed) with an account, its API key and an owner signed in: the
// server, the key and the session's cookie ("name=value").
func startDashboardOwner(t *testing.T) (*runningServer, string, string) {
	t.Helper()
	lighthouseBin(t) // fail at once when it is missing, before starting a server
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Northwind Plumbing")
	key := createKey(t, dbURL, acct)
	if res := runCLIInput(t, dbURL, "a long pass phrase\n", "users", "create", "--account", strconv.FormatInt(acct, 10),
		"--email", "owner@example.com", "--name", "Olive Owner", "--role", "owner"); res.code != 0 {
		t.Fatalf("users create: %d %s", res.code, res.stderr)
	}
	srv := startServer(t, dbURL)
	status, c := dashboardSignIn(t, srv.URL, "owner@example.com", "a long pass phrase")
	if status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in: %d", status)
	}
	return srv, key, c.Name + "=" + c.Value
}
