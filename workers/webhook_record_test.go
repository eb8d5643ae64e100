package workers_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// A successful attempt whose record fails (here: the delivery's row is
// held locked by another transaction, so the write runs past its deadline,
// as it did in the chaos soak with "record webhook attempts: context
// deadline exceeded") is recorded once the write goes through, not
// dropped: the receiver sees the delivery once, the log holds one 2xx
// attempt, and each failed write is logged at WARN with its attempt.
func TestWebhookRecordRetriedNotResent(t *testing.T) {
	t.Parallel()
	locked := make(chan pgx.Tx, 1)
	var env *whEnv
	var requests atomic.Int32
	env = newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			// The claim has committed: lock the row its outcome updates.
			tx, err := env.store.Pool().Begin(context.Background())
			if err != nil {
				t.Error(err)
			} else if _, err := tx.Exec(context.Background(), `SELECT 1 FROM webhook_deliveries FOR UPDATE`); err != nil {
				t.Error(err)
			}
			locked <- tx
		}
		w.WriteHeader(http.StatusOK)
	})
	ep := env.endpoint(t, "/record")
	env.enqueue(t, ep.ID)
	logs := &lockedLog{}
	d := env.deliverer()
	d.Log = slog.New(slog.NewTextHandler(logs, nil))
	d.RecordTimeout = 100 * time.Millisecond
	whRun(t, d)

	tx := <-locked
	pgtest.WaitFor(t, time.Minute, "two failed writes logged", func() bool {
		return strings.Contains(logs.String(), "attempt=2")
	})
	if !strings.Contains(logs.String(), "level=WARN msg=\"record webhook attempts failed; retrying\"") {
		t.Fatalf("failed writes not logged at WARN:\n%s", logs.String())
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, time.Minute, "the delivery recorded succeeded", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = $1`, eventstore.DeliverySucceeded) == 1
	})
	if n := requests.Load(); n != 1 {
		t.Fatalf("receiver saw %d requests, want 1", n)
	}
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts WHERE status_code = 200`); n != 1 {
		t.Fatalf("%d 2xx attempts logged, want 1", n)
	}
	if strings.Contains(logs.String(), "giving up") || strings.Contains(logs.String(), "claim was lost") {
		t.Fatalf("unexpected log:\n%s", logs.String())
	}
}
