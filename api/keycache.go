package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"goodplan/eventstore"
)

// Key cache lifetimes. A known key is served from memory for keyCacheTTL
// while the revocation listener is healthy (a revocation removes it within
// moments), else for keyCacheFallbackTTL, which is then the bound on how
// long a revoked key still works. An unknown key is remembered as unknown
// for unknownKeyTTL, so a flood of one guessed key costs one query.
const (
	keyCacheTTL         = 30 * time.Second
	keyCacheFallbackTTL = time.Second
	unknownKeyTTL       = 10 * time.Second
	// maxCachedKeys bounds each of the two maps; past it the map is
	// cleared (entries are only a saving, never needed).
	maxCachedKeys = 10000
	// touchEvery is how often a key's last_used_at is written at most.
	touchEvery = time.Minute
	// listenerGrace is how long after its last sign of life (LISTEN or a
	// ping) the listener still counts as healthy.
	listenerGrace = 10 * time.Second
)

// keyCache keeps recently used keys' accounts, and recently refused keys,
// for a short time so that an authenticated request, or a repeated guess,
// costs no database round trip.
type keyCache struct {
	now     func() time.Time
	log     *slog.Logger
	mu      sync.Mutex
	known   map[[32]byte]cachedAccount
	unknown map[[32]byte]time.Time // when the entry expires
	// gen counts invalidations: a lookup that raced one does not cache
	// what it read before it.
	gen uint64
	// healthyUntil is when the revocation listener stops counting as up
	// (real time, unix nanoseconds); 0: it never was.
	healthyUntil atomic.Int64
	// lookups counts database lookups, for tests.
	lookups atomic.Int64
}

type cachedAccount struct {
	acct    eventstore.Account
	fetched time.Time
	touched time.Time // when last_used_at was last written from here
}

func newKeyCache(now func() time.Time, log *slog.Logger) *keyCache {
	return &keyCache{now: now, log: log, known: make(map[[32]byte]cachedAccount), unknown: make(map[[32]byte]time.Time)}
}

// listenerHealthy reports whether revocations reach this process now.
func (c *keyCache) listenerHealthy() bool {
	return time.Now().UnixNano() < c.healthyUntil.Load()
}

// cached returns the account of a key known and fresh in memory.
func (c *keyCache) cached(sum [32]byte) (eventstore.Account, bool) {
	ttl := keyCacheFallbackTTL
	if c.listenerHealthy() {
		ttl = keyCacheTTL
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.known[sum]
	c.mu.Unlock()
	if ok && now.Before(e.fetched.Add(ttl)) {
		return e.acct, true
	}
	return eventstore.Account{}, false
}

// lookup returns the key's account from memory or the database, or
// ErrNotFound (remembered for unknownKeyTTL). A known key's last_used_at
// is written at most once per touchEvery from this process.
func (c *keyCache) lookup(ctx context.Context, store *eventstore.Store, sum [32]byte) (eventstore.Account, error) {
	if acct, ok := c.cached(sum); ok {
		return acct, nil
	}
	now := c.now()
	c.mu.Lock()
	exp, refused := c.unknown[sum]
	gen := c.gen
	c.mu.Unlock()
	if refused && now.Before(exp) {
		return eventstore.Account{}, eventstore.ErrNotFound
	}
	c.lookups.Add(1)
	acct, err := store.AccountByKeyHash(ctx, sum)
	if errors.Is(err, eventstore.ErrNotFound) {
		c.mu.Lock()
		if len(c.unknown) >= maxCachedKeys {
			clear(c.unknown)
		}
		c.unknown[sum] = now.Add(unknownKeyTTL)
		c.mu.Unlock()
		return eventstore.Account{}, err
	}
	if err != nil {
		return eventstore.Account{}, err
	}
	c.mu.Lock()
	prev := c.known[sum]
	touch := now.Sub(prev.touched) >= touchEvery
	if c.gen == gen {
		if len(c.known) >= maxCachedKeys {
			clear(c.known)
		}
		e := cachedAccount{acct: acct, fetched: now, touched: prev.touched}
		if touch {
			e.touched = now
		}
		c.known[sum] = e
	}
	c.mu.Unlock()
	if touch {
		// At most once a minute per key: cheap enough to do inline, and
		// a failure only leaves last_used_at a little behind.
		if err := store.TouchAPIKey(ctx, sum, now); err != nil {
			c.log.WarnContext(ctx, "record api key use", "err", err)
		}
	}
	return acct, nil
}

// forget drops a revoked key, and everything if sum is nil (the listener
// (re)connected and may have missed revocations).
func (c *keyCache) forget(sum *[32]byte) {
	c.mu.Lock()
	if sum == nil {
		clear(c.known)
	} else {
		delete(c.known, *sum)
	}
	c.gen++
	c.mu.Unlock()
}

// listenerPing is how often an idle listener checks its connection, so a
// silently dead one stops counting as healthy within listenerGrace.
const listenerPing = 3 * time.Second

// RunKeyRevocationListener keeps a connection LISTENing for API key
// revocations (eventstore.APIKeyChannel) and drops each revoked key from
// this server's cache, so a key revoked on any replica is refused here
// within moments. It reconnects after a loss, waiting retry between tries;
// while it is down, cached keys live keyCacheFallbackTTL (1 s) instead of
// 30 s, which bounds how long a revoked key still works. It returns nil
// when ctx is done.
func (s *Server) RunKeyRevocationListener(ctx context.Context) error {
	const retry = time.Second
	for {
		err := s.store.ListenAPIKeyRevocations(ctx, listenerPing, func() {
			if !s.keys.listenerHealthy() {
				// Back from being down: revocations may have been
				// missed, so nothing cached before counts.
				s.keys.forget(nil)
			}
			s.keys.healthyUntil.Store(time.Now().Add(listenerGrace).UnixNano())
		}, func(sum [sha256.Size]byte) {
			s.keys.forget(&sum)
		})
		s.keys.healthyUntil.Store(0)
		if ctx.Err() != nil {
			return nil
		}
		s.log.WarnContext(ctx, "api key revocation listener lost; cached keys now live 1 s; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
	}
}
