package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// percentile is the exact nearest-rank percentile (p in 0..100) of sorted d,
// in milliseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// latencies holds every latency of one measurement.
type latencies []time.Duration

func (l latencies) sorted() latencies {
	s := slices.Clone(l)
	slices.Sort(s)
	return s
}

// p50p99 returns the median and p99 in milliseconds (nil when empty).
func (l latencies) p50p99() (*float64, *float64) {
	if len(l) == 0 {
		return nil, nil
	}
	s := l.sorted()
	return f64(percentile(s, 50)), f64(percentile(s, 99))
}

// loadSpec is one load level: Clients goroutines issuing requests back to
// back for Warmup (not measured) and then Duration. With Rate > 0, requests
// are released by a pacer at Rate per second, evenly spread (open loop: a
// request waits for a free client, never for the previous one's answer).
type loadSpec struct {
	Clients  int
	Warmup   time.Duration
	Duration time.Duration
	Rate     float64
}

// request does one request for client c; it returns an error for a failed
// request (non-2xx as expected, or a transport error).
type request func(ctx context.Context, c int) error

// loadResult is what a load level measured: requests that started after the
// warm-up and finished within the measured window.
type loadResult struct {
	OK, Errors int
	Lat        latencies // every successful request's latency
	Elapsed    time.Duration
	TotalOK    int // successes including the warm-up and stragglers
	TotalErr   int
	ErrSamples []string
}

// Rate is successful requests per second in the measured window.
func (r loadResult) Rate() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

func runLoad(ctx context.Context, spec loadSpec, do request) loadResult {
	start := time.Now()
	warmEnd := start.Add(spec.Warmup)
	end := warmEnd.Add(spec.Duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stop := make(chan struct{}) // closed at the end of the window
	timer := time.AfterFunc(time.Until(end), func() { close(stop) })
	defer timer.Stop()
	var tokens chan struct{}
	if spec.Rate > 0 {
		tokens = make(chan struct{}, 1<<16)
		go pace(ctx, tokens, spec.Rate, end)
	}
	var mu sync.Mutex
	var res loadResult
	var totalOK, totalErr atomic.Int64
	var wg sync.WaitGroup
	for c := range spec.Clients {
		wg.Go(func() {
			var lat latencies
			ok, errs := 0, 0
			var samples []string
			for ctx.Err() == nil {
				if tokens != nil {
					select {
					case <-tokens:
					case <-stop:
					case <-ctx.Done():
					}
				}
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := do(ctx, c)
				t1 := time.Now()
				if err != nil {
					totalErr.Add(1)
				} else {
					totalOK.Add(1)
				}
				if t0.Before(warmEnd) || t1.After(end) {
					continue
				}
				if err != nil {
					errs++
					if len(samples) < 3 {
						samples = append(samples, err.Error())
					}
					continue
				}
				ok++
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			res.OK += ok
			res.Errors += errs
			res.Lat = append(res.Lat, lat...)
			if len(res.ErrSamples) < 5 {
				res.ErrSamples = append(res.ErrSamples, samples...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = spec.Duration
	res.TotalOK, res.TotalErr = int(totalOK.Load()), int(totalErr.Load())
	return res
}

// pace releases rate tokens per second, evenly spread, until end.
func pace(ctx context.Context, tokens chan<- struct{}, rate float64, end time.Time) {
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	sent := int64(0)
	for ctx.Err() == nil && time.Now().Before(end) {
		due := int64(time.Since(start)/interval) + 1
		for ; sent < due; sent++ {
			select {
			case tokens <- struct{}{}:
			default: // a backlog of 65k requests: the clients are far behind
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(sent) * interval)))
	}
}

// newHTTPClient returns a client for n concurrent clients over keep-alive
// connections to one host.
func newHTTPClient(n int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4 * n,
			MaxIdleConnsPerHost: 2 * n,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// describeErrors summarises a level's errors for a note.
func describeErrors(r loadResult) string {
	if r.Errors == 0 {
		return ""
	}
	return fmt.Sprintf("%d errors, e.g. %q", r.Errors, r.ErrSamples)
}
