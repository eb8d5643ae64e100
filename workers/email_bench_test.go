package workers

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// BenchmarkEmailWorkerHandle measures the introduction-email path end to
// end (load the plan, claim, render, send over SMTP to a local server,
// record introduction_email.sent) at several handler concurrencies: b.N
// plans are created first, then handled by that many goroutines sharing
// one worker, as the consumer's fetch loops do. Compare its emails/s with
// BenchmarkSMTPSend (the transport alone) to see what bounds the worker.
//
// Each email in flight holds a pool connection for its advisory lock for
// the whole send and needs another to load and record the plan: at a
// concurrency of the pool's size (pgtest's pool: 4 on 2 cores) every
// connection is held by a lock and the handlers wait on each other, so the
// concurrencies here stay under it.
func BenchmarkEmailWorkerHandle(b *testing.B) {
	for _, conc := range []int{1, 3} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			store := eventstore.New(pgtest.NewPool(b))
			acct, err := store.CreateAccount(b.Context(), eventstore.NewAccount{Name: "Bench"})
			if err != nil {
				b.Fatal(err)
			}
			ts := newTestSMTP(b)
			w := &EmailWorker{Store: store, Sender: newTestSender(b, ts.URL()), PublicURL: testPublicURL,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			recs := make([]eventstore.Record, b.N)
			for i := range recs {
				recs[i] = createTestPlan(b, store, domain.CreatePlan{AccountID: acct.ID, Now: time.Now().UTC(),
					CustomerName: "Bench", CustomerEmail: "bench@example.com", SendIntroductionEmail: true})
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range conc {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(len(recs)) {
							return
						}
						if err := w.Handle(b.Context(), recs[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
		})
	}
}
