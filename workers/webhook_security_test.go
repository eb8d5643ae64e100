package workers_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// TestWebhookAttemptErrorsAreCategories: what merchants see of a failed
// attempt is a category, never the raw error with addresses in it.
func TestWebhookAttemptErrorsAreCategories(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/hook"
	_ = l.Close()
	// A TLS server whose certificate nobody trusts.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(tlsSrv.Close)
	// A server that hangs up on every request.
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = c.Close()
		}
	}))
	t.Cleanup(reset.Close)

	cases := []struct {
		url, want string
	}{
		{closed, workers.WebhookErrRefused},
		{tlsSrv.URL + "/hook", workers.WebhookErrTLS},
		{reset.URL + "/hook", workers.WebhookErrReset},
	}
	var ids []int64
	for _, c := range cases {
		ep, err := env.store.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: env.acct, URL: c.url})
		if err != nil {
			t.Fatal(err)
		}
		env.enqueue(t, ep.ID)
		ids = append(ids, ep.ID)
	}
	whRun(t, env.deliverer())
	for i, c := range cases {
		pgtest.WaitFor(t, 10*time.Second, "attempt to "+c.url, func() bool { return len(env.deliveries(t, ids[i])[0].Log) >= 1 })
		a := env.deliveries(t, ids[i])[0].Log[0]
		if a.Error != c.want {
			t.Errorf("%s: error %q, want %q", c.url, a.Error, c.want)
		}
	}
}

// TestWebhookSecretRotationSignsWithBoth: after a rotation, deliveries
// verify with the new secret and, for 24 hours, with the previous one too;
// after that only with the new one. The deliverer's clock is injected.
func TestWebhookSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	ep := env.endpoint(t, "/rotating")
	old := ep.Secret
	rotatedAt := time.Now()
	rot, err := env.store.RotateEndpointSecret(context.Background(), env.acct, ep.ID, rotatedAt)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Secret == old || !strings.HasPrefix(rot.Secret, eventstore.WebhookSecretPrefix) {
		t.Fatalf("rotated secret %q (old %q)", rot.Secret, old)
	}
	if _, err := env.store.RotateEndpointSecret(context.Background(), env.acct+1000, ep.ID, rotatedAt); err == nil {
		t.Fatal("another account rotated the endpoint's secret")
	}

	var offset atomic.Int64 // the deliverer's clock is real time plus this
	d := env.deliverer()
	d.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	whRun(t, d)

	verifies := func(secret string, h whHit) bool {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return wh.VerifyIgnoringTimestamp(h.body, h.header) == nil
	}
	hitsAt := func(n int) whHit {
		t.Helper()
		var h []whHit
		pgtest.WaitFor(t, 10*time.Second, "delivery", func() bool {
			env.recv.mu.Lock()
			defer env.recv.mu.Unlock()
			h = append([]whHit(nil), env.recv.hits...)
			return len(h) >= n
		})
		return h[n-1]
	}

	// Within the overlap (one hour later): two signatures, newest first.
	offset.Store(int64(time.Hour))
	env.enqueue(t, ep.ID)
	h := hitsAt(1)
	sigs := strings.Fields(h.header.Get("webhook-signature"))
	if len(sigs) != 2 || !verifies(rot.Secret, h) || !verifies(old, h) {
		t.Fatalf("within the overlap: signatures %q; new verifies %v, old verifies %v", sigs, verifies(rot.Secret, h), verifies(old, h))
	}
	newOnly := h.header.Clone()
	newOnly["Webhook-Signature"] = []string{sigs[0]}
	if wh, _ := standardwebhooks.NewWebhook(rot.Secret); wh.VerifyIgnoringTimestamp(h.body, newOnly) != nil {
		t.Errorf("the first signature is not the new secret's")
	}

	// Past the overlap (25 hours later): the new secret only.
	offset.Store(int64(25 * time.Hour))
	env.enqueue(t, ep.ID)
	h = hitsAt(2)
	if sigs := strings.Fields(h.header.Get("webhook-signature")); len(sigs) != 1 || !verifies(rot.Secret, h) || verifies(old, h) {
		t.Fatalf("after the overlap: signatures %q; new verifies %v, old verifies %v", sigs, verifies(rot.Secret, h), verifies(old, h))
	}
}

// TestPlainHTTPEndpointGetsNothing: an endpoint stored with an http URL
// (before the https rule, or while private networks were allowed) gets no
// delivery once private networks are not allowed: the attempt fails as
// "https required" before any connection is made.
func TestPlainHTTPEndpointGetsNothing(t *testing.T) {
	t.Parallel()
	env := newWhEnv(t, nil)
	// Nothing is dialled (nor resolved, for an address): the refusal comes
	// before any connection, so this address (TEST-NET-1, documentation only)
	// sees no traffic.
	ep, err := env.store.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: env.acct, URL: "http://192.0.2.10/hook"})
	if err != nil {
		t.Fatal(err)
	}
	env.enqueue(t, ep.ID)
	d := env.deliverer()
	d.Client = workers.NewWebhookClient(false)
	whRun(t, d)
	pgtest.WaitFor(t, 10*time.Second, "an attempt to the http endpoint", func() bool { return len(env.deliveries(t, ep.ID)[0].Log) >= 1 })
	if a := env.deliveries(t, ep.ID)[0].Log[0]; a.Error != workers.WebhookErrInsecureURL || a.StatusCode != 0 {
		t.Fatalf("attempt %+v, want %q and no status", a, workers.WebhookErrInsecureURL)
	}
}
