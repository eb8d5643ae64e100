package api

import (
	"reflect"
	"strings"
	"testing"

	"goodplan/eventstore"
)

// checkKeyLimits checks that a dialect applies the per-key limits of the
// native API, answering in its own shape. send makes a read request of the
// dialect with key. A key limited to 2 requests a minute gets 200, 200,
// 429, each with X-RateLimit-Limit, then a 429 whose body starts with
// limited; on a server that allows 2 failed authentications a minute, 2
// unknown keys make the next request with a key not yet cached a 429 whose
// body starts with blocked.
func checkKeyLimits(t *testing.T, env *testEnv, send func(key string) response, limited, blocked string) {
	t.Helper()
	_, key := env.account(t, eventstore.NewAccount{Name: "Limited", RateLimitPerMinute: 2})
	var codes []int
	for range 3 {
		res := send(key)
		codes = append(codes, res.status)
		if got := res.header["X-RateLimit-Limit"]; len(got) != 1 || got[0] != "2" {
			t.Errorf("X-RateLimit-Limit %q", got)
		}
	}
	if !reflect.DeepEqual(codes, []int{200, 200, 429}) {
		t.Fatalf("rate limited statuses %v", codes)
	}
	if res := send(key); res.status != 429 || res.header.Get("Retry-After") == "" || !strings.HasPrefix(string(res.body), limited) {
		t.Fatalf("429: %d %s", res.status, res.body)
	}

	env.srv = New(Config{Store: env.store, Now: env.clock.now, AuthFailureLimit: 2})
	bad := "gp_" + strings.Repeat("1", 64)
	for i := range 2 {
		if res := send(bad); res.status != 401 {
			t.Fatalf("bad key %d: %d %s", i, res.status, res.body)
		}
	}
	if res := send(env.key); res.status != 429 || !strings.HasPrefix(string(res.body), blocked) {
		t.Fatalf("after 2 failures, an uncached key: %d %s", res.status, res.body)
	}
}
