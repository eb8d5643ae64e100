package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"goodplan/api"
	"goodplan/eventstore"
)

// rateLimitKeys is how many keys the limited load spreads over, so that
// each stays far under 60 a minute and 10 a second: the rows measure the
// decision every accepted request pays, not refusals.
const rateLimitKeys = 2000

// rateLimitClients is the load's concurrency.
const rateLimitClients = 8

// rateLimitGroup measures what the cluster-wide per-key rate limit (the
// rate_windows table, one rate_take call per request) costs a request:
// the cheapest authenticated request (GET of a plan that does not exist,
// a 404) on an in-process API server, with keys that have no limit and
// with keys limited to 60 a minute and 10 a second; and the 429s of one
// hammered key, which a replica answers from the store's remembered
// refusal.
func (r *runner) rateLimitGroup(ctx context.Context) error {
	dbURL, err := r.dbs.create(ctx, true)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, dbURL, 2*rateLimitClients)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool)
	srv := api.New(api.Config{Store: store, PublicURL: "http://127.0.0.1/", Version: "bench",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	keysOf := func(na eventstore.NewAccount, n int) ([]string, error) {
		acct, err := store.CreateAccount(ctx, na)
		if err != nil {
			return nil, err
		}
		keys := make([]string, n)
		for i := range keys {
			if keys[i], err = store.CreateAPIKey(ctx, acct.ID); err != nil {
				return nil, err
			}
		}
		return keys, nil
	}
	progress("ratelimit: %d keys", rateLimitKeys)
	free, err := keysOf(eventstore.NewAccount{Name: "Unlimited"}, rateLimitKeys)
	if err != nil {
		return err
	}
	limited, err := keysOf(eventstore.NewAccount{Name: "Limited", RateLimitPerMinute: 60, RateLimitBurst: 10}, rateLimitKeys)
	if err != nil {
		return err
	}
	client := newHTTPClient(rateLimitClients)
	get := func(keys []string, want int) request {
		next := make([]int, rateLimitClients)
		return func(ctx context.Context, c int) error {
			// Client c uses keys c, c+clients, ...: no two clients share one.
			key := keys[(c+next[c]*rateLimitClients)%len(keys)]
			next[c]++
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/plans/1", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			// want 0: 429, or 404 for the ten a second the hammered key
			// still gets through.
			if resp.StatusCode != want && (want != 0 || resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusNotFound) {
				return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
			}
			return nil
		}
	}
	spec := loadSpec{Clients: rateLimitClients, Warmup: r.s.warmup, Duration: r.s.duration}
	progress("ratelimit: GET 404 without a limit")
	base0 := runLoad(ctx, spec, get(free, http.StatusNotFound))
	progress("ratelimit: GET 404 limited cluster-wide")
	lim := runLoad(ctx, spec, get(limited, http.StatusNotFound))
	progress("ratelimit: 429s of one hammered key")
	hammered := runLoad(ctx, spec, get(limited[:1], 0))

	name0 := fmt.Sprintf("GET 404, key without a limit (%d clients)", rateLimitClients)
	p50, p99 := base0.Lat.p50p99()
	r.add(Row{Group: "ratelimit", Name: name0, Value: base0.Rate(), Unit: "req/s", P50Ms: p50, P99Ms: p99,
		Errors: base0.Errors, Note: describeErrors(base0)})
	lp50, lp99 := lim.Lat.p50p99()
	r.add(Row{Group: "ratelimit", Name: fmt.Sprintf("GET 404, key limited cluster-wide 60/min 10/s (%d clients)", rateLimitClients),
		Value: lim.Rate(), Unit: "req/s", P50Ms: lp50, P99Ms: lp99, Ratio: ratioOf(lim.Rate(), base0.Rate()), RatioTo: name0,
		Errors: lim.Errors, Note: joinNotes(fmt.Sprintf("%d keys, each far under its limit; one rate_take round trip per request", rateLimitKeys),
			describeErrors(lim))})
	if p50 != nil && lp50 != nil {
		r.add(Row{Group: "ratelimit", Name: "rate limit cost per accepted request (p50 difference)", Value: *lp50 - *p50, Unit: "ms",
			Note: fmt.Sprintf("per request at %d clients: %.0f µs more wall time (1/rate difference x clients)",
				rateLimitClients, (1/lim.Rate()-1/base0.Rate())*rateLimitClients*1e6)})
	}
	hp50, hp99 := hammered.Lat.p50p99()
	r.add(Row{Group: "ratelimit", Name: "one hammered key (429s, and 404s for the 10/s it may send)", Value: hammered.Rate(), Unit: "req/s", P50Ms: hp50, P99Ms: hp99,
		Ratio: ratioOf(hammered.Rate(), base0.Rate()), RatioTo: name0, Errors: hammered.Errors,
		Note: joinNotes("answered from the store's refusal remembered until its Retry-After, no round trip", describeErrors(hammered))})
	return nil
}

// ratioOf is a / b, nil when b is 0.
func ratioOf(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return f64(a / b)
}
