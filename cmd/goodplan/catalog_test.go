package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore/pgtest"
)

// TestCatalogPlansThroughServe: a catalog plan created over HTTP reaches
// the catalog read model through the relay and the
// projection-catalog-plans consumer (it shows in the list, which reads
// only the read model), and replay and verify still exit 0 with catalog
// events in the store; a corrupted catalog row makes replay exit 1 with
// the diff, and replay --swap repairs it; a corrupted id reservation makes
// verify exit 1 naming the plan.
func TestCatalogPlansThroughServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Catalog Co", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL)
	createMinimal(t, srv.URL, key)
	status, body := call(t, http.MethodPost, srv.URL+"/api/v1/catalog/plans", key, `{"id":"starter","name":"Starter","amount":"49"}`)
	if status != http.StatusCreated {
		t.Fatalf("create catalog plan: %d %s", status, body)
	}
	if status, body = call(t, http.MethodPatch, srv.URL+"/api/v1/catalog/plans/starter", key, `{"name":"Starter 2"}`); status != http.StatusOK {
		t.Fatalf("patch catalog plan: %d %s", status, body)
	}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the catalog read model to list the plan", func() error {
		status, b := call(t, http.MethodGet, srv.URL+"/api/v1/catalog/plans", key, "")
		if status != http.StatusOK {
			t.Fatalf("list catalog plans: %d %s", status, b)
		}
		if !strings.Contains(string(b), `"name":"Starter 2"`) {
			return errors.New("not listed yet: " + string(b))
		}
		return nil
	})
	if res := runCLI(t, dbURL, "replay", "--wait", "5s"); res.code != 0 || !strings.Contains(res.stdout, "into 1 catalog plans") {
		t.Fatalf("replay with catalog events: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE catalog_plan_views SET active = false`); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, dbURL, "replay", "--wait", "1s")
	if res.code != 1 || !strings.Contains(res.stdout, "catalog plan starter (") || !strings.Contains(res.stdout, "    active:") {
		t.Fatalf("replay after corrupting a catalog row: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res = runCLI(t, dbURL, "replay", "--wait", "1s", "--swap"); res.code != 1 || !strings.Contains(res.stdout, "swapped") {
		t.Fatalf("replay --swap: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res = runCLI(t, dbURL, "replay", "--wait", "5s"); res.code != 0 {
		t.Fatalf("replay after the swap: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if res := runCLI(t, dbURL, "verify"); res.code != 0 || !strings.Contains(res.stdout, "1 catalog plans agree with their 1 id reservations") {
		t.Fatalf("verify with catalog events: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A reservation released while its plan lives: verify fails and says so.
	if _, err := conn.Exec(t.Context(), `UPDATE catalog_plan_ids SET released_at = now()`); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, dbURL, "verify")
	if res.code != 1 || !strings.Contains(res.stdout, `catalog: catalogplan-`) ||
		!strings.Contains(res.stdout, `catalog plan "starter" is not deleted but catalog_plan_ids released its id`) ||
		!strings.Contains(res.stderr, "the catalog disagrees with its events (1 problems") {
		t.Fatalf("verify with a corrupted reservation: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
