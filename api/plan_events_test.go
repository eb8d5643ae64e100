package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// eventsPage is a page of GET /api/v1/plans/{id}/events.
type eventsPage struct {
	PlanID int64 `json:"plan_id"`
	Items  []struct {
		Version  int64  `json:"version"`
		Type     string `json:"type"`
		Metadata struct {
			Actor string `json:"actor"`
		} `json:"metadata"`
	} `json:"items"`
	HasMore bool `json:"has_more"`
}

// eventsPage GETs a page of plan id's events with query (e.g.
// "?after=2&limit=3").
func (e *testEnv) eventsPage(t *testing.T, id int64, query string) eventsPage {
	t.Helper()
	res := e.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d/events%s", id, query), e.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("events%s: %d %s", query, res.status, res.body)
	}
	var p eventsPage
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// The plan's history is read a page at a time from its events; the plan
// itself carries none.
func TestPlanEventsArePaged(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	id := d.PlanID
	for range 4 {
		env.postPlan(t, id, "/portal-link", "", http.StatusOK) // versions 2..5
	}
	res := env.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d", id), env.key, nil)
	if res.status != http.StatusOK || strings.Contains(string(res.body), `"history"`) {
		t.Fatalf("plan: %d %s", res.status, res.body)
	}
	var versions []int64
	after := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("more pages than events")
		}
		p := env.eventsPage(t, id, "?limit=2"+after)
		if p.PlanID != id || len(p.Items) == 0 || len(p.Items) > 2 {
			t.Fatalf("page %d: %+v", pages, p)
		}
		for _, it := range p.Items {
			versions = append(versions, it.Version)
		}
		if !p.HasMore {
			break
		}
		after = fmt.Sprintf("&after=%d", p.Items[len(p.Items)-1].Version)
	}
	if fmt.Sprint(versions) != "[1 2 3 4 5]" {
		t.Fatalf("versions %v", versions)
	}
	if p := env.eventsPage(t, id, "?after=5"); len(p.Items) != 0 || p.HasMore {
		t.Fatalf("after the last: %+v", p)
	}
	if p := env.eventsPage(t, id, ""); len(p.Items) != 5 || p.Items[0].Type != "plan.created" || p.HasMore {
		t.Fatalf("default page: %+v", p)
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x", "?after=-1", "?after=1.5"} {
		res := env.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d/events%s", id, q), env.key, nil)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", q, res.status, res.body)
		}
	}
	_, other := env.account(t, eventstore.NewAccount{Name: "Other"})
	if res := env.do(t, "GET", fmt.Sprintf("/api/v1/plans/%d/events", id), other, nil); res.status != http.StatusNotFound {
		t.Fatalf("another account's events: %d %s", res.status, res.body)
	}
}

// A plan at a cap refuses the command that would go past it with a 409
// naming the cap, and records nothing.
func TestPlanCapIsAConflict(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	d := env.createPlan(t)
	ctx := context.Background()
	p, _, head, err := env.store.LoadPlan(ctx, d.PlanID)
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Event
	for i := range domain.MaxPortalLinks {
		evs = append(evs, domain.PortalLinkRegenerated{PortalToken: fmt.Sprintf("%d.tok%d", p.ID(), i), RegeneratedAt: env.clock.now()})
	}
	enc, err := eventstore.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.Append(ctx, eventstore.PlanStream(d.PlanID), head, enc, eventstore.Metadata{AccountID: env.acct.ID, Actor: "merchant"}); err != nil {
		t.Fatal(err)
	}
	before := env.eventCount(t)
	res := env.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/portal-link", d.PlanID), env.key, nil)
	if res.status != http.StatusConflict ||
		!strings.Contains(string(res.body), "This plan already has 100 portal links regenerated, the most one plan may have (100).") {
		t.Fatalf("past the cap: %d %s", res.status, res.body)
	}
	if after := env.eventCount(t); after != before {
		t.Fatalf("%d events recorded past the cap", after-before)
	}
}
