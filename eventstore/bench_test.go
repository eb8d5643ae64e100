package eventstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// planSizedEvent is about the size of a plan.created event with 3 options.
var planSizedEvent = []byte(`{"items":[` + strings.Repeat(`{"k":"0123456789abcdef"},`, 59) + `{"k":"end"}]}`)

// BenchmarkAppend measures durable single-event appends to new streams by
// concurrent writers (writers = parallelism x GOMAXPROCS goroutines).
func BenchmarkAppend(b *testing.B) {
	for _, parallelism := range []int{1, 8} {
		b.Run(fmt.Sprintf("parallelism=%d", parallelism), func(b *testing.B) {
			store := eventstore.New(pgtest.NewPool(b))
			if err := store.Instrument(prometheus.NewRegistry()); err != nil { // as goodplan serve runs it
				b.Fatal(err)
			}
			meta := eventstore.Metadata{AccountID: 1, Actor: "bench"}
			ctx := context.Background()
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ev := []eventstore.NewEvent{{ID: uuid.New(), Type: "plan.created", Data: planSizedEvent}}
					if _, err := store.Append(ctx, "plan-"+uuid.NewString(), eventstore.Head{}, ev, meta); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
