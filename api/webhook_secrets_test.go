package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore"
)

func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	created := whCreate(t, env, env.key, `{"url":"https://hooks.example.com/rotate"}`)
	id := whID(created)
	old := created["secret"].(string)

	res := env.do(t, "POST", whPath+"/"+id+"/rotate-secret", env.key, nil)
	if res.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	m := res.json(t)
	secret, _ := m["secret"].(string)
	if !strings.HasPrefix(secret, eventstore.WebhookSecretPrefix) || secret == old || whID(m) != id {
		t.Fatalf("rotate body %s (old secret %s)", res.body, old)
	}
	wantUntil := seedNow.Add(24 * time.Hour).Format(time.RFC3339)
	if m["previous_secret_expires_at"] != wantUntil {
		t.Errorf("previous_secret_expires_at %v, want %s", m["previous_secret_expires_at"], wantUntil)
	}
	// Stored: the new secret, and the old one until a day later.
	var cur, prev string
	var until time.Time
	if err := env.store.Pool().QueryRow(context.Background(), `SELECT secret, previous_secret, previous_secret_expires_at
		FROM webhook_endpoints WHERE id = $1`, id).Scan(&cur, &prev, &until); err != nil {
		t.Fatal(err)
	}
	if cur != secret || prev != old || !until.Equal(seedNow.Add(24*time.Hour)) {
		t.Fatalf("stored secret %q previous %q until %v", cur, prev, until)
	}
	// Shown once: reads never carry a secret.
	if got := env.do(t, "GET", whPath+"/"+id, env.key, nil); strings.Contains(string(got.body), "whsec_") {
		t.Fatalf("GET shows a secret: %s", got.body)
	}
	// Another account's endpoint, a missing one, a malformed id: 404.
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Other"})
	for _, c := range []struct{ key, id string }{{otherKey, id}, {env.key, "999999"}, {env.key, "x"}} {
		if res := env.do(t, "POST", whPath+"/"+c.id+"/rotate-secret", c.key, nil); res.status != http.StatusNotFound {
			t.Errorf("rotate %s: %d %s", c.id, res.status, res.body)
		}
	}
	var still string
	_ = env.store.Pool().QueryRow(context.Background(), `SELECT secret FROM webhook_endpoints WHERE id = $1`, id).Scan(&still)
	if still != secret {
		t.Fatal("another account's rotation changed the secret")
	}
}

// TestWebhookHTTPAllowedForPrivateNetworks: plain http endpoints are for
// development, allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS.
func TestWebhookHTTPAllowedForPrivateNetworks(t *testing.T) {
	t.Parallel()
	env := newLimitedEnv(t, Config{HTTPWebhooks: true})
	whCreate(t, env, env.key, `{"url":"http://127.0.0.1:9000/hook"}`)
}
