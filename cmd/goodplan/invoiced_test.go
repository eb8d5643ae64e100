package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// seedInvoicedCurl is the Invoiced seed's create example as printed
// (seeds/003), run by sh after replacing its host and {API_KEY}.
const seedInvoicedCurl = `curl "https://api.invoiced.com/plans" \
-u {API_KEY}: \
-d id="starter" \
-d name="Starter" \
-d catalog_item="software-subscription" \
-d amount=49 \
-d interval="month" \
-d interval_count=1 \
-d pricing_mode="per_unit"`

// TestInvoicedSeedCurlThroughServe: the Invoiced seed's curl create
// example, adapted only in host and key, works against goodplan serve
// and answers the seed's plan object; the plan then reaches the read
// model (GET /plans lists it) through the relay and the projection.
func TestInvoicedSeedCurlThroughServe(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("this test runs the seed's curl example and needs curl on PATH: %v", err)
	}
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Invoiced Co", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL)
	script := strings.NewReplacer("https://api.invoiced.com", srv.URL, "{API_KEY}", key).Replace(seedInvoicedCurl)
	cmd := exec.CommandContext(t.Context(), "sh", "-c", script)
	// A bare environment: no proxy variable may send curl elsewhere.
	cmd.Env = []string{"PATH=" + strings.TrimSuffix(curl, "/curl")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var plan map[string]any
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if err := dec.Decode(&plan); err != nil {
		t.Fatalf("curl printed no JSON object: %v\n%s", err, stdout.String())
	}
	// created_at is the command's time, updated_at the time its event was
	// recorded: both Unix seconds, the second not before the first.
	updated, _ := plan["updated_at"].(json.Number)
	created, _ := plan["created_at"].(json.Number)
	c, err1 := created.Int64()
	u, err2 := updated.Int64()
	if err1 != nil || err2 != nil || u < c || c < time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Fatalf("created_at %q, updated_at %q: want Unix seconds", created, updated)
	}
	want := map[string]any{"amount": json.Number("49"), "catalog_item": "software-subscription", "created_at": created,
		"currency": "usd", "id": "starter", "interval": "month", "interval_count": json.Number("1"),
		"metadata": map[string]any{}, "name": "Starter", "object": "plan", "pricing_mode": "per_unit",
		"quantity_type": "constant", "tiers": nil, "updated_at": updated}
	if !reflect.DeepEqual(plan, want) {
		t.Fatalf("curl's answer\n got %v\nwant %v", plan, want)
	}
	// The list reads the read model only: wait for the projection.
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "GET /plans to list the plan", func() error {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/plans", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(key, "")
		resp, err := apiClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var items []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&items); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /plans: %d %v", resp.StatusCode, err)
		}
		if len(items) != 1 || items[0]["id"] != "starter" || resp.Header.Get("X-Total-Count") != "1" {
			return errors.New("not listed yet")
		}
		return nil
	})
}
