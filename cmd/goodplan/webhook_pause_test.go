package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// TestWebhookTestEventAndPauseThroughServe: a test event goes out signed
// like every delivery (the Standard Webhooks library verifies it) and
// appends nothing to the event store; a paused endpoint is skipped by the
// fan-out (an event recorded while it is paused never reaches it, while
// another endpoint gets it) and refuses a test event; once resumed it gets
// the next events.
func TestWebhookTestEventAndPauseThroughServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Pause Hooks", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL, "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true")
	a, b := startHookSink(t), startHookSink(t)
	a.subscribe(t, srv.URL, key, `[]`)
	b.subscribe(t, srv.URL, key, `[]`)
	status, body := call(t, http.MethodGet, srv.URL+"/api/v1/webhook-endpoints", key, "")
	var list struct {
		Items []struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil || status != http.StatusOK || len(list.Items) != 2 {
		t.Fatalf("endpoints: %d %s", status, body)
	}
	var idA int64
	for _, e := range list.Items {
		if e.URL == a.srv.URL+"/hooks" {
			idA = e.ID
		}
	}
	epA := srv.URL + "/api/v1/webhook-endpoints/" + strconv.FormatInt(idA, 10)
	store := openTestStore(t, dbURL)
	countEvents := func() int {
		var n int
		if err := store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	got := func(h *hookSink) []hookDelivery {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.Clone(h.ok)
	}

	before := countEvents()
	status, body = call(t, http.MethodPost, epA+"/test", key, "")
	var brief struct {
		EventType string `json:"event_type"`
		State     string `json:"state"`
	}
	if err := json.Unmarshal(body, &brief); err != nil || status != http.StatusAccepted || brief.EventType != "webhook.test" || brief.State != "pending" {
		t.Fatalf("test event: %d %s", status, body)
	}
	pgtest.Every(50*time.Millisecond).WaitForNil(t, 30*time.Second, "the test event at endpoint A", func() error {
		if ds := got(a); len(ds) != 1 || ds[0].Event != "webhook.test" {
			return fmt.Errorf("A got %v", ds)
		}
		return nil
	})
	if n := countEvents(); n != before {
		t.Fatalf("a test event appended %d events", n-before)
	}
	if ds := got(b); len(ds) != 0 {
		t.Fatalf("B got the test event of A: %v", ds)
	}

	// Paused: skipped, not queued.
	status, body = call(t, http.MethodPost, epA+"/pause", key, "")
	var ep struct {
		PausedAt *string `json:"paused_at"`
	}
	if err := json.Unmarshal(body, &ep); err != nil || status != http.StatusOK || ep.PausedAt == nil {
		t.Fatalf("pause: %d %s", status, body)
	}
	if status, body := call(t, http.MethodPost, epA+"/test", key, ""); status != http.StatusConflict {
		t.Fatalf("test event to a paused endpoint: %d %s", status, body)
	}
	first := createMinimal(t, srv.URL, key)
	pgtest.Every(50*time.Millisecond).WaitForNil(t, 30*time.Second, "plan.created at B", func() error {
		if len(b.createdFor()[first]) == 0 {
			return fmt.Errorf("B got %v", got(b))
		}
		return nil
	})
	// B's delivery was enqueued by the same fan-out that skipped A.
	var queued int
	if err := store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1`, idA).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("deliveries queued for the paused endpoint: %d (the test event only, want 1) %v", queued, err)
	}

	status, body = call(t, http.MethodPost, epA+"/resume", key, "")
	if err := json.Unmarshal(body, &ep); err != nil || status != http.StatusOK || ep.PausedAt != nil {
		t.Fatalf("resume: %d %s", status, body)
	}
	second := createMinimal(t, srv.URL, key)
	pgtest.Every(50*time.Millisecond).WaitForNil(t, 30*time.Second, "plan.created at A after resuming", func() error {
		if len(a.createdFor()[second]) == 0 {
			return fmt.Errorf("A got %v", got(a))
		}
		return nil
	})
	if ids := a.createdFor()[first]; len(ids) != 0 {
		t.Fatalf("A got the event recorded while it was paused: %v", ids)
	}
	a.mu.Lock()
	bad := a.bad
	a.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d deliveries to A did not verify", bad)
	}
}
