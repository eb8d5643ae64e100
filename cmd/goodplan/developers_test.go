package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"goodplan/eventstore/pgtest"
)

// TestDashboardDevelopersAccessibility: the Developers page (with a key
// and an endpoint listed, and the new endpoint form's 22 checkboxes) and
// an endpoint's delivery log score 100 for accessibility in Lighthouse.
func TestDashboardDevelopersAccessibility(t *testing.T) {
	t.Parallel()
	lighthouseBin(t) // fail at once when it is missing, before starting a server
	dbURL := pgtest.NewDatabase(t)
	key := newDashboardOwner(t, dbURL)
	srv := startServer(t, dbURL)
	status, body := call(t, http.MethodPost, srv.URL+"/api/v1/webhook-endpoints", key, `{"url":"https://example.com/hooks","events":["plan.created"]}`)
	var ep struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &ep); err != nil || status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %s", status, body)
	}
	if status, body := call(t, http.MethodPost, srv.URL+"/api/v1/webhook-endpoints/"+strconv.FormatInt(ep.ID, 10)+"/test", key, ""); status != http.StatusAccepted {
		t.Fatalf("test event: %d %s", status, body)
	}
	status, c := dashboardSignIn(t, srv.URL, "owner@example.com", "a long pass phrase")
	if status != http.StatusSeeOther || c == nil {
		t.Fatalf("sign in: %d", status)
	}
	checkAccessibility(t, srv.URL+"/dashboard/developers", c.Name+"="+c.Value)
	checkAccessibility(t, srv.URL+"/dashboard/developers/webhooks/"+strconv.FormatInt(ep.ID, 10), c.Name+"="+c.Value)
}
