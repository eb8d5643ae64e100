package workers_test

import (
	"context"
	"testing"

	"goodplan/eventstore"
	"goodplan/workers"
)

// TestWebhookFanoutBatch: a batch fans out exactly as its events one by
// one would: deliveries for the account with endpoints (once, also when
// the batch is handled again), none for an account without.
func TestWebhookFanoutBatch(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	ctx := context.Background()
	env.endpoint(t, "/all")
	env.endpoint(t, "/paid", "installment.paid")
	quiet, err := env.store.CreateAccount(ctx, eventstore.NewAccount{Name: "Quiet"})
	if err != nil {
		t.Fatal(err)
	}
	fan := &workers.WebhookFanout{Store: env.store, PublicURL: "https://goodplan.test/"}
	batch := []eventstore.Record{whPlan(t, env.store, quiet.ID), whPlan(t, env.store, env.acct), whPlan(t, env.store, quiet.ID), whPlan(t, env.store, env.acct)}
	for range 2 {
		if err := fan.HandleBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	pool := env.store.Pool()
	if n := whCount(t, pool, `SELECT count(*) FROM webhook_deliveries`); n != 2 {
		t.Fatalf("%d deliveries, want 2 (one per plan.created of the account with an endpoint for it)", n)
	}
	for i, rec := range batch {
		want := 0
		if i%2 == 1 {
			want = 1
		}
		if n := whCount(t, pool, `SELECT count(*) FROM webhook_deliveries WHERE event_id = $1`, rec.EventID); n != want {
			t.Errorf("event %d: %d deliveries, want %d", i, n, want)
		}
	}
}
