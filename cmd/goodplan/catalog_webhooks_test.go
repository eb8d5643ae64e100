package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// TestCatalogEventsThroughServe: catalog plan and plan group commands over
// HTTP go relay -> NATS -> every consumer serve runs without a dead
// letter; an endpoint subscribed with "*" gets each of their six event
// types signed (and Good Plan's plan.created), the largest catalog plan the
// API accepts included, one that names no type gets
// plan.created alone; replay finds the group and catalog read models equal
// to their events and verify agrees.
func TestCatalogEventsThroughServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Catalog Hooks", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL, "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true")
	star, none := startHookSink(t), startHookSink(t)
	star.subscribe(t, srv.URL, key, `["*"]`)
	none.subscribe(t, srv.URL, key, `[]`)

	must := func(method, path, body string, want int) []byte {
		t.Helper()
		status, b := call(t, method, srv.URL+path, key, body)
		if status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
		}
		return b
	}
	must(http.MethodPost, "/api/v1/catalog/plans", `{"id":"starter","name":"Starter","amount":"49"}`, http.StatusCreated)
	must(http.MethodPatch, "/api/v1/catalog/plans/starter", `{"name":"Starter 2"}`, http.StatusOK)
	var group struct{ ID string }
	if err := json.Unmarshal(must(http.MethodPost, "/api/v1/plan-groups", `{"name":"Tiers","plans":["starter"]}`, http.StatusCreated), &group); err != nil {
		t.Fatal(err)
	}
	must(http.MethodPut, "/api/v1/plan-groups/"+group.ID, `{"name":"Tiers 2","plans":["starter"]}`, http.StatusOK)
	must(http.MethodDelete, "/api/v1/plan-groups/"+group.ID, "", http.StatusNoContent)
	must(http.MethodDelete, "/api/v1/catalog/plans/starter", "", http.StatusOK)
	// The largest catalog plan the API takes goes through the same way.
	must(http.MethodPost, "/api/v1/catalog/plans", bigCatalogPlan(), http.StatusCreated)
	createMinimal(t, srv.URL, key)

	events := func(h *hookSink) []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		var out []string
		for _, d := range h.ok {
			out = append(out, d.Event)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"catalog_plan.created", "catalog_plan.created", "catalog_plan.deleted", "catalog_plan.updated", "plan.created",
		"plan_group.created", "plan_group.deleted", "plan_group.updated"}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the * endpoint to get every event", func() error {
		if got := events(star); !slices.Equal(got, want) {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the endpoint naming no type to get plan.created", func() error {
		if got := events(none); len(got) == 0 {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
	// Every delivery was enqueued with those to the * endpoint: the one
	// naming no type has exactly plan.created, none of the catalog's.
	store := openTestStore(t, dbURL)
	var types []string
	if err := store.Pool().QueryRow(context.Background(), `SELECT coalesce(array_agg(d.event_type ORDER BY d.event_type), '{}')
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE cardinality(e.events) = 0`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(types, []string{"plan.created"}) || !slices.Equal(events(none), []string{"plan.created"}) {
		t.Fatalf("the endpoint naming no type: enqueued %v, received %v", types, events(none))
	}
	for _, h := range []*hookSink{star, none} {
		h.mu.Lock()
		bad := h.bad
		h.mu.Unlock()
		if bad != 0 {
			t.Fatalf("%d deliveries failed verification", bad)
		}
	}
	if n := healthDeadLetters(t, srv.URL); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
	if dls, err := store.DeadLetters.List(context.Background(), true); err != nil || len(dls) != 0 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	res := runCLI(t, dbURL, "replay", "--wait", "10s")
	if res.code != 0 || !strings.Contains(res.stdout, "into 2 catalog plans") || !strings.Contains(res.stdout, "into 1 plan groups") {
		t.Fatalf("replay: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := runCLI(t, dbURL, "verify"); res.code != 0 || !strings.Contains(res.stdout, "2 catalog plans agree with their 2 id reservations, 1 plan groups") {
		t.Fatalf("verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// bigCatalogPlan is a create body at the API's bounds (within its 64 KiB
// body): 100 tiers, 50 metadata entries of 40 and 500 characters, not all
// ASCII, a 4 KiB tax object, a 255-character name.
func bigCatalogPlan() string {
	tiers := make([]map[string]any, 100)
	for i := range tiers {
		tiers[i] = map[string]any{"min_qty": i*10 + 1, "max_qty": i*10 + 10, "unit_cost": "0.0000000001"}
	}
	delete(tiers[99], "max_qty")
	meta := map[string]string{}
	for i := range 50 {
		meta[fmt.Sprintf("%02d", i)+strings.Repeat("é", 38)] = strings.Repeat("x", 499) + "🎉"
	}
	tax := `{"rates":"` + strings.Repeat("x", 4096-len(`{"rates":""}`)) + `"}`
	body, err := json.Marshal(map[string]any{"id": "big", "name": strings.Repeat("é", 255), "pricing_mode": "tiered",
		"tiers": tiers, "metadata": meta, "tax": json.RawMessage(tax)})
	if err != nil {
		panic(err)
	}
	return string(body)
}
