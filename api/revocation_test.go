package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// replica is one API server on a database shared with others, with its own
// pool, clock and (optionally) revocation listener.
type replica struct {
	srv   *Server
	store *eventstore.Store
	clock *fakeClock
}

func newReplica(t *testing.T, dbURL string, listen bool) *replica {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := &replica{store: eventstore.New(pool), clock: &fakeClock{t: seedNow}}
	r.srv = New(Config{Store: r.store, PublicURL: "https://goodplan.test/", Now: r.clock.now})
	if listen {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.srv.RunKeyRevocationListener(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("listener: %v", err)
			}
		})
		pgtest.WaitFor(t, 10*time.Second, "the revocation listener", r.srv.keys.listenerHealthy)
	}
	return r
}

func (r *replica) status(t *testing.T, key string) int {
	t.Helper()
	return doFrom(t, r.srv, "GET", "/api/v1/plans", "192.0.2.1:1234", key, nil).status
}

// TestRevokedKeyRefusedByEveryReplica: two separately constructed servers
// on one database both cache a key (their clocks stand still, so only a
// notification can evict it); revoking it through the store makes both
// answer 401. The waits' bounds are liveness limits for a loaded machine,
// not latency claims: with the clocks still, no expiry can pass the test.
func TestRevokedKeyRefusedByEveryReplica(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	a, b := newReplica(t, dbURL, true), newReplica(t, dbURL, true)
	acct, err := a.store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := a.store.CreateAPIKey(context.Background(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.store.CreateAPIKey(context.Background(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*replica{a, b} {
		if s := r.status(t, key); s != http.StatusOK {
			t.Fatalf("before revocation: %d", s)
		}
		r.status(t, other)
	}
	lookups := b.srv.keys.lookups.Load()
	if s := b.status(t, key); s != http.StatusOK || b.srv.keys.lookups.Load() != lookups {
		t.Fatalf("the key is not served from the cache (status %d)", s)
	}

	revoked, err := a.store.RevokeAPIKey(context.Background(), acct.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*replica{"replica a": a, "replica b": b} {
		pgtest.WaitFor(t, 10*time.Second, name+" refuses the revoked key", func() bool { return r.status(t, key) == http.StatusUnauthorized })
		if s := r.status(t, other); s != http.StatusOK {
			t.Fatalf("%s: the account's other key: %d", name, s)
		}
	}
	if _, err := a.store.RevokeAPIKey(context.Background(), acct.ID, key); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	keys, err := a.store.APIKeys(context.Background(), acct.ID)
	if err != nil || len(keys) != 2 || keys[0].ID != revoked.ID || keys[0].RevokedAt == nil || keys[1].RevokedAt != nil {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	if keys[0].Prefix != key[3:11] {
		t.Fatalf("prefix %q, want %q", keys[0].Prefix, key[3:11])
	}
}

// TestRevokedKeyFallbackWithoutListener: with no listener, a cached key
// lives keyCacheFallbackTTL, which bounds how long a revoked key works.
func TestRevokedKeyFallbackWithoutListener(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	r := newReplica(t, dbURL, false)
	acct, err := r.store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := r.store.CreateAPIKey(context.Background(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.status(t, key); s != http.StatusOK {
		t.Fatalf("before revocation: %d", s)
	}
	if _, err := r.store.RevokeAPIKey(context.Background(), acct.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if s := r.status(t, key); s != http.StatusOK {
		t.Fatalf("within the fallback TTL the cached key still works here (got %d)", s)
	}
	r.clock.advance(keyCacheFallbackTTL)
	if s := r.status(t, key); s != http.StatusUnauthorized {
		t.Fatalf("after the fallback TTL: %d, want 401", s)
	}
}

// TestKeyLastUsedAtMostOnceAMinute: last_used_at follows use, written at
// most once a minute.
func TestKeyLastUsedAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	r := newReplica(t, pgtest.NewDatabase(t), false)
	acct, err := r.store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := r.store.CreateAPIKey(context.Background(), acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		keys, err := r.store.APIKeys(context.Background(), acct.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys %+v, %v", keys, err)
		}
		return keys[0].LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("an unused key has a last use")
	}
	t0 := r.clock.now()
	if s := r.status(t, key); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	if got := lastUsed(); got == nil || !got.Equal(t0) {
		t.Fatalf("last used %v, want %v", got, t0)
	}
	// Thirty seconds on (the cache entry has expired, so the key is read
	// again): not written again.
	r.clock.advance(30 * time.Second)
	r.status(t, key)
	if got := lastUsed(); !got.Equal(t0) {
		t.Fatalf("last used %v after 30 s, want still %v", got, t0)
	}
	r.clock.advance(31 * time.Second)
	r.status(t, key)
	if got := lastUsed(); !got.Equal(r.clock.now()) {
		t.Fatalf("last used %v after 61 s, want %v", got, r.clock.now())
	}
}

// TestRevocationListenerReconnects: when the listener's connection is
// killed, a revocation made meanwhile still takes effect (the listener
// reconnects and forgets what it cached), and later ones reach it again.
func TestRevocationListenerReconnects(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	r := newReplica(t, dbURL, true)
	ctx := context.Background()
	acct, err := r.store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := r.store.CreateAPIKey(ctx, acct.ID)
	k2, err := r.store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{k1, k2} {
		if s := r.status(t, k); s != http.StatusOK {
			t.Fatalf("before: %d", s)
		}
	}
	var killed int
	if err := r.store.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, eventstore.APIKeyListenerName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections: %v", killed, err)
	}
	if _, err := r.store.RevokeAPIKey(ctx, acct.ID, k1); err != nil {
		t.Fatal(err)
	}
	// The clock stands still, so only the reconnect can evict the key.
	pgtest.WaitFor(t, 5*time.Second, "the key revoked while the listener was down is refused",
		func() bool { return r.status(t, k1) == http.StatusUnauthorized })
	pgtest.WaitFor(t, 5*time.Second, "the listener back", r.srv.keys.listenerHealthy)
	r.status(t, k2) // cached again
	if _, err := r.store.RevokeAPIKey(ctx, acct.ID, k2); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, 10*time.Second, "a later revocation refused", func() bool { return r.status(t, k2) == http.StatusUnauthorized })
}
