package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// newLimitedEnv is newEnv with the abuse limits of cfg (Store, Now and
// PublicURL are filled in).
func newLimitedEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	store := eventstore.New(pgtest.NewPool(t))
	clock := &fakeClock{t: seedNow}
	env := &testEnv{store: store, clock: clock}
	cfg.Store, cfg.Now, cfg.PublicURL, cfg.Version = store, clock.now, "https://goodplan.test/", "test"
	env.srv = New(cfg)
	env.acct, env.key = env.account(t, eventstore.NewAccount{Name: "Acme"})
	return env
}

// doFrom is do with the connection's peer address set to remote.
func doFrom(t *testing.T, h http.Handler, method, path, remote, key string, body []byte, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.RemoteAddr = remote
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// want429 checks a 429 with a whole-second Retry-After of at least 1 and
// the usual JSON error body.
func want429(t *testing.T, what string, res response) {
	t.Helper()
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s, want 429", what, res.status, res.body)
	}
	if n, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("%s: Retry-After %q", what, res.header.Get("Retry-After"))
	}
	m := res.json(t)
	if m["error"] != "Too many requests" || m["message"] == "" || len(m) != 2 {
		t.Fatalf("%s: body %s", what, res.body)
	}
}

func TestIPRateLimitOnPortalAndHealth(t *testing.T) {
	t.Parallel()
	env := newLimitedEnv(t, Config{IPRateLimit: 5, IPBurst: 3})
	const a, b = "203.0.113.7:4000", "203.0.113.8:4000"
	// Portal and health share the allowance: 3 in the first second is the
	// burst.
	for i, path := range []string{"/api/health", "/plan/no-such-link", "/api/health"} {
		if res := doFrom(t, env.srv, "GET", path, a, "", nil); res.status == http.StatusTooManyRequests {
			t.Fatalf("request %d (%s) refused: %s", i, path, res.body)
		}
	}
	res := doFrom(t, env.srv, "GET", "/plan/no-such-link", a, "", nil)
	want429(t, "fourth in a second", res)
	if res.header.Get("Retry-After") != "1" {
		t.Errorf("burst Retry-After %q, want 1", res.header.Get("Retry-After"))
	}
	// Another address is not affected.
	if res := doFrom(t, env.srv, "GET", "/api/health", b, "", nil); res.status != http.StatusOK {
		t.Fatalf("other address: %d %s", res.status, res.body)
	}
	// Five a minute: two more after the second has passed, then 429 until
	// the first of them leaves the window.
	env.clock.advance(time.Second)
	for range 2 {
		if res := doFrom(t, env.srv, "GET", "/api/health", a, "", nil); res.status != http.StatusOK {
			t.Fatalf("within the minute: %d %s", res.status, res.body)
		}
	}
	res = doFrom(t, env.srv, "GET", "/api/health", a, "", nil)
	want429(t, "sixth in a minute", res)
	if res.header.Get("Retry-After") != "59" {
		t.Errorf("minute Retry-After %q, want 59", res.header.Get("Retry-After"))
	}
	// The API proper is not under the IP limit (the key's limit applies).
	if res := doFrom(t, env.srv, "GET", "/api/v1/plans", a, env.key, nil); res.status != http.StatusOK {
		t.Fatalf("API with a key: %d %s", res.status, res.body)
	}
	env.clock.advance(time.Minute)
	if res := doFrom(t, env.srv, "GET", "/api/health", a, "", nil); res.status != http.StatusOK {
		t.Fatalf("after the minute: %d %s", res.status, res.body)
	}
}

func TestIPRateLimitTrustedProxies(t *testing.T) {
	t.Parallel()
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	env := newLimitedEnv(t, Config{IPRateLimit: 2, TrustedProxies: proxies})
	const proxy, client = "10.1.2.3:5000", "198.51.100.9"
	// Through the trusted proxy, the client is the right-most untrusted
	// X-Forwarded-For entry; what the client wrote to its left is ignored.
	for i, xff := range []string{client, "192.0.2.77, " + client + ", 10.9.9.9"} {
		if res := doFrom(t, env.srv, "GET", "/api/health", proxy, "", nil, "X-Forwarded-For", xff); res.status != http.StatusOK {
			t.Fatalf("request %d through the proxy: %d %s", i, res.status, res.body)
		}
	}
	want429(t, "third of the client through the proxy", doFrom(t, env.srv, "GET", "/api/health", proxy, "", nil,
		"X-Forwarded-For", "203.0.113.200, "+client))
	// The same client directly: the same allowance.
	want429(t, "the client directly", doFrom(t, env.srv, "GET", "/api/health", client+":6000", "", nil))
	// Another client through the same proxy has its own.
	if res := doFrom(t, env.srv, "GET", "/api/health", proxy, "", nil, "X-Forwarded-For", "198.51.100.10"); res.status != http.StatusOK {
		t.Fatalf("other client through the proxy: %d %s", res.status, res.body)
	}
	// An untrusted peer's X-Forwarded-For is ignored: it cannot pose as a
	// fresh address, nor shift its count onto someone else.
	const spoofer = "192.0.2.50:7000"
	for i := range 2 {
		if res := doFrom(t, env.srv, "GET", "/api/health", spoofer, "", nil, "X-Forwarded-For", "198.51.100.1"+strconv.Itoa(i)); res.status != http.StatusOK {
			t.Fatalf("spoofer request %d: %d", i, res.status)
		}
	}
	want429(t, "spoofer with a new X-Forwarded-For", doFrom(t, env.srv, "GET", "/api/health", spoofer, "", nil,
		"X-Forwarded-For", "198.51.100.99"))
	if res := doFrom(t, env.srv, "GET", "/api/health", proxy, "", nil, "X-Forwarded-For", "198.51.100.11"); res.status != http.StatusOK {
		t.Fatalf("the address the spoofer named was charged: %d", res.status)
	}

	// The event metadata records the same client address.
	env.clock.advance(time.Minute)
	res := doFrom(t, env.srv, "POST", "/api/v1/plans", proxy, env.key, []byte(seedMinimal),
		"X-Forwarded-For", "192.0.2.1, 198.51.100.42")
	if res.status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", res.status, res.body)
	}
	planID := int64(res.json(t)["plan_id"].(float64))
	recs, _, err := env.store.Load(context.Background(), eventstore.PlanStream(planID))
	if err != nil || len(recs) == 0 {
		t.Fatalf("read events: %v (%d)", err, len(recs))
	}
	var meta eventstore.Metadata
	if err := json.Unmarshal(recs[0].Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.IP != "198.51.100.42" {
		t.Fatalf("metadata ip %q, want the client's 198.51.100.42", meta.IP)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies, err := ParseTrustedProxies("10.0.0.0/8,::1, 192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{trustedProxies: proxies}
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.1:1", []string{"198.51.100.1"}, "203.0.113.1"},                  // untrusted peer: header ignored
		{"10.0.0.1:1", nil, "10.0.0.1"},                                             // trusted peer, no header: the peer
		{"10.0.0.1:1", []string{"198.51.100.1"}, "198.51.100.1"},                    // one hop
		{"10.0.0.1:1", []string{"1.1.1.1, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"}, // right-most untrusted
		{"10.0.0.1:1", []string{"1.1.1.1", "198.51.100.1"}, "198.51.100.1"},         // several header lines
		{"10.0.0.1:1", []string{"10.0.0.3, 192.168.1.1"}, "10.0.0.3"},               // all trusted: left-most
		{"10.0.0.1:1", []string{"1.1.1.1, garbage, 10.0.0.2"}, "10.0.0.2"},          // unreadable: the last known hop
		{"[::1]:1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"10.0.0.1:1", []string{"[2001:db8::8]:443"}, "2001:db8::8"},
		{"[::ffff:10.0.0.1]:1", []string{"::ffff:198.51.100.3"}, "198.51.100.3"},
		{"192.168.1.2:1", []string{"198.51.100.1"}, "192.168.1.2"}, // a single address trusts only itself
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != netip.MustParseAddr(c.want) {
			t.Errorf("%s with %q: %v, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
	if _, err := ParseTrustedProxies("proxy.internal"); err == nil {
		t.Error("a host name was accepted")
	}
}

func TestFailedAuthenticationLimit(t *testing.T) {
	t.Parallel()
	env := newLimitedEnv(t, Config{AuthFailureLimit: 3})
	const a, b = "203.0.113.7:4000", "203.0.113.8:4000"
	guess := func(i int) string {
		return "gp_" + strconv.Itoa(1000+i) + "0000000000000000000000000000000000000000000000000000000000"
	}
	// A valid key used once, so it is cached.
	if res := doFrom(t, env.srv, "GET", "/api/v1/plans", b, env.key, nil); res.status != http.StatusOK {
		t.Fatalf("valid key: %d %s", res.status, res.body)
	}
	for i := range 3 {
		if res := doFrom(t, env.srv, "GET", "/api/v1/plans", a, guess(i), nil); res.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, res.status, res.body)
		}
	}
	before := env.srv.keys.lookups.Load()
	want429(t, "fourth failure", doFrom(t, env.srv, "GET", "/api/v1/plans", a, guess(3), nil))
	want429(t, "no key at all", doFrom(t, env.srv, "GET", "/api/v1/plans", a, "", nil))
	if n := env.srv.keys.lookups.Load() - before; n != 0 {
		t.Fatalf("a blocked address cost %d key lookups, want 0", n)
	}
	// A key already known still works from there; other addresses still
	// get their 401.
	if res := doFrom(t, env.srv, "GET", "/api/v1/plans", a, env.key, nil); res.status != http.StatusOK {
		t.Fatalf("cached valid key from the blocked address: %d %s", res.status, res.body)
	}
	if res := doFrom(t, env.srv, "GET", "/api/v1/plans", b, guess(4), nil); res.status != http.StatusUnauthorized {
		t.Fatalf("other address: %d %s", res.status, res.body)
	}
	env.clock.advance(time.Minute)
	if res := doFrom(t, env.srv, "GET", "/api/v1/plans", a, guess(5), nil); res.status != http.StatusUnauthorized {
		t.Fatalf("a minute later: %d %s", res.status, res.body)
	}
}

func TestUnknownKeysCachedBriefly(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	const unknown = "gp_00000000000000000000000000000000000000000000000000000000000000ff"
	before := env.srv.keys.lookups.Load()
	for range 5 {
		if res := env.do(t, "GET", "/api/v1/plans", unknown, nil); res.status != http.StatusUnauthorized {
			t.Fatalf("unknown key: %d", res.status)
		}
	}
	if n := env.srv.keys.lookups.Load() - before; n != 1 {
		t.Fatalf("5 requests with one unknown key made %d lookups, want 1", n)
	}
	env.clock.advance(unknownKeyTTL)
	env.do(t, "GET", "/api/v1/plans", unknown, nil)
	if n := env.srv.keys.lookups.Load() - before; n != 2 {
		t.Fatalf("after %v: %d lookups, want 2", unknownKeyTTL, n)
	}
	// Known keys are cached too: one lookup for many requests.
	before = env.srv.keys.lookups.Load()
	for range 5 {
		if res := env.do(t, "GET", "/api/v1/plans", env.key, nil); res.status != http.StatusOK {
			t.Fatalf("valid key: %d", res.status)
		}
	}
	if n := env.srv.keys.lookups.Load() - before; n > 1 {
		t.Fatalf("5 requests with a valid key made %d lookups", n)
	}
}
