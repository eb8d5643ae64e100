package api

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// newCluster returns n API servers, each with its own pool and limiters, on
// one database, all reading one fake clock (cfg's Store, Now and PublicURL
// are filled in).
func newCluster(t *testing.T, n int, cfg Config) ([]*Server, *eventstore.Store, *fakeClock) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	clock := &fakeClock{t: seedNow}
	var first *eventstore.Store
	srvs := make([]*Server, n)
	for i := range srvs {
		pool, err := pgxpool.New(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		c := cfg
		c.Store, c.Now, c.PublicURL = eventstore.New(pool), clock.now, "https://goodplan.test/"
		srvs[i] = New(c)
		if first == nil {
			first = c.Store
		}
	}
	return srvs, first, clock
}

// burstAcross sends n requests at once (the clock stands still), spread
// round-robin over srvs, and returns how many were not refused with 429.
func burstAcross(t *testing.T, srvs []*Server, n int, path, remote, key string) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := doFrom(t, srvs[i%len(srvs)], "GET", path, remote, key, nil)
			if res.status == http.StatusServiceUnavailable || res.status >= 500 {
				t.Errorf("request %d: %d %s", i, res.status, res.body)
			}
			if res.status != http.StatusTooManyRequests {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return accepted
}

// TestKeyRateLimitAcrossReplicas: three servers, each with its own limiter,
// share one key's 60 a minute and 10 a second. Concurrent bursts of 40
// spread over them get exactly 10 through per second until 60 have passed
// in the minute, then none until the first of those leaves the window.
func TestKeyRateLimitAcrossReplicas(t *testing.T) {
	t.Parallel()
	srvs, store, clock := newCluster(t, 3, Config{})
	ctx := context.Background()
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme", RateLimitPerMinute: 60, RateLimitBurst: 10})
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	const remote = "192.0.2.1:1234"
	total := 0
	for sec := range 7 {
		got := burstAcross(t, srvs, 40, "/api/v1/plans/1", remote, key)
		want := 10
		if sec == 6 {
			want = 0 // 60 in the minute already
		}
		if got != want {
			t.Fatalf("second %d: %d of 40 accepted across 3 replicas, want %d", sec, got, want)
		}
		total += got
		clock.advance(time.Second)
	}
	if total != 60 {
		t.Fatalf("%d accepted in the minute, want 60", total)
	}
	// Every replica tells the same: nothing left, retry when the first
	// second's requests leave the window (at seedNow + 60 s; it is now
	// seedNow + 7 s), reset a minute after the newest (seedNow + 5 s).
	for i, s := range srvs {
		res := doFrom(t, s, "GET", "/api/v1/plans/1", remote, key, nil)
		want429(t, "replica "+strconv.Itoa(i), res)
		if got := res.header.Get("Retry-After"); got != "53" {
			t.Errorf("replica %d: Retry-After %q, want 53", i, got)
		}
		if got := res.header["X-RateLimit-Remaining"]; len(got) != 1 || got[0] != "0" {
			t.Errorf("replica %d: X-RateLimit-Remaining %v, want 0", i, got)
		}
		if got, want := res.header["X-RateLimit-Reset"], strconv.FormatInt(seedNow.Add(65*time.Second).Unix(), 10); len(got) != 1 || got[0] != want {
			t.Errorf("replica %d: X-RateLimit-Reset %v, want %s", i, got, want)
		}
	}
	// The first second's ten leave the window together: ten more, and the
	// remaining count goes down by one per request whichever replica
	// answers.
	clock.advance(53 * time.Second)
	for i := range 10 {
		res := doFrom(t, srvs[i%3], "GET", "/api/v1/plans/1", remote, key, nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("after the minute, request %d: %d %s", i, res.status, res.body)
		}
		if got := res.header["X-RateLimit-Remaining"]; len(got) != 1 || got[0] != strconv.Itoa(9-i) {
			t.Fatalf("after the minute, request %d on replica %d: X-RateLimit-Remaining %v, want %d", i, i%3, got, 9-i)
		}
	}
	res := doFrom(t, srvs[1], "GET", "/api/v1/plans/1", remote, key, nil)
	want429(t, "the eleventh in the second", res)
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
}

// TestIPLimitsAcrossReplicas: the per-address limit of the portal and
// health check, and the failed-authentication limit, hold over three
// servers.
func TestIPLimitsAcrossReplicas(t *testing.T) {
	t.Parallel()
	srvs, _, clock := newCluster(t, 3, Config{IPRateLimit: 12, IPBurst: 5, AuthFailureLimit: 7})
	const a = "203.0.113.7:4000"
	if got := burstAcross(t, srvs, 30, "/api/health", a, ""); got != 5 {
		t.Fatalf("burst: %d of 30 accepted, want 5", got)
	}
	clock.advance(time.Second)
	if got := burstAcross(t, srvs, 30, "/plan/no-such-link", a, ""); got != 5 {
		t.Fatalf("second burst: %d of 30 accepted, want 5", got)
	}
	clock.advance(time.Second)
	if got := burstAcross(t, srvs, 30, "/api/health", a, ""); got != 2 {
		t.Fatalf("third second: %d of 30 accepted, want the 2 left of 12", got)
	}
	for i, s := range srvs {
		want429(t, "replica "+strconv.Itoa(i), doFrom(t, s, "GET", "/api/health", a, "", nil))
	}

	// Failed authentications: 7 a minute from one address in all.
	const b = "203.0.113.9:4000"
	unknown := "gp_" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	unauthorized := 0
	for i := range 12 {
		res := doFrom(t, srvs[i%3], "GET", "/api/v1/plans", b, unknown, nil)
		switch res.status {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("request %d: %d %s", i, res.status, res.body)
		}
	}
	if unauthorized != 7 {
		t.Fatalf("%d failed authentications answered before the limit, want 7", unauthorized)
	}
}

// TestRevocationSeenByEveryReplicaOnRealClocks: on real clocks (the limits
// on the database's clock), a key cached by two replicas is refused by
// both soon after it is revoked on one. The bound is a liveness limit for
// a loaded machine; the time it took is logged.
func TestRevocationSeenByEveryReplicaOnRealClocks(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	var reps []*replica
	for range 2 {
		r := newReplica(t, dbURL, false)
		r.srv = New(Config{Store: r.store, PublicURL: "https://goodplan.test/"})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.srv.RunKeyRevocationListener(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		pgtest.WaitFor(t, 30*time.Second, "the revocation listener", r.srv.keys.listenerHealthy)
		reps = append(reps, r)
	}
	ctx := context.Background()
	acct, err := reps[0].store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme", RateLimitPerMinute: 60, RateLimitBurst: 10})
	if err != nil {
		t.Fatal(err)
	}
	key, err := reps[0].store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		if s := r.status(t, key); s != http.StatusOK {
			t.Fatalf("replica %d before revocation: %d", i, s)
		}
	}
	start := time.Now()
	if _, err := reps[0].store.RevokeAPIKey(ctx, acct.ID, key); err != nil {
		t.Fatal(err)
	}
	for i, r := range reps {
		pgtest.WaitFor(t, 30*time.Second, "replica "+strconv.Itoa(i)+" refuses the revoked key",
			func() bool { return r.status(t, key) == http.StatusUnauthorized })
	}
	t.Logf("both replicas refused the revoked key %v after the revocation", time.Since(start))
}

// TestRateLimitStoreHung: when the database accepts connections but never
// answers, a request with a cached key gets a 503 with Retry-After once the
// limiter's timeout passes, instead of waiting for the database.
func TestRateLimitStoreHung(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+ln.Addr().String()+"/hung?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := New(Config{Store: eventstore.New(pool), PublicURL: "https://goodplan.test/"})
	const key = "gp_" + "00000000000000000000000000000000000000000000000000000000000000aa"
	s.keys.known[sha256.Sum256([]byte(key))] = cachedAccount{acct: eventstore.Account{ID: 1, RateLimitPerMinute: 60, RateLimitBurst: 10}, fetched: time.Now()}

	done := make(chan response, 1)
	go func() { done <- doFrom(t, s, "GET", "/api/v1/plans/1", "192.0.2.1:1234", key, nil) }()
	select {
	case res := <-done:
		if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "1" {
			t.Fatalf("%d %v %s, want 503 with Retry-After 1", res.status, res.header, res.body)
		}
		if m := res.json(t); m["error"] != "Service unavailable" {
			t.Fatalf("body %s", res.body)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no answer within 2 minutes: the request waits for the database")
	}
}
