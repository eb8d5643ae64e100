package workers_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// An endpoint that hangs on some requests still gets its other deliveries:
// the hung attempts leave the endpoint's slots once they stall, rather than
// holding them for the client's whole timeout (here far longer than the
// test's wait, so only the stall can let the others through).
func TestWebhookHungAttemptsDoNotHoldTheirEndpointsSlots(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var hung, maxInFlight, inFlight atomic.Int32
	env := newWhEnv(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		if n <= 2 { // the first two requests hang until released
			hung.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	ep := env.endpoint(t, "/half-hung")
	for range 8 {
		env.enqueue(t, ep.ID)
	}
	d := env.deliverer()
	d.Client.Timeout = 10 * time.Minute
	d.Workers, d.PerEndpoint = 2, 2 // the two hung attempts take every slot and sender
	d.StallAfter = 50 * time.Millisecond
	whRun(t, d)
	succeeded := func() int {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND state = $2`,
			ep.ID, eventstore.DeliverySucceeded)
	}
	pgtest.WaitFor(t, 2*time.Minute, "the six deliveries that do not hang", func() bool { return succeeded() == 6 })
	if n := hung.Load(); n != 2 {
		t.Fatalf("%d hung requests, want 2", n)
	}
	if m := maxInFlight.Load(); m > 4 {
		t.Fatalf("%d requests in flight to one endpoint, cap 2 plus 2 hung", m)
	}
	close(release)
	pgtest.WaitFor(t, 2*time.Minute, "the hung deliveries once released", func() bool { return succeeded() == 8 })
}
