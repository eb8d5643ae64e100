package api

import (
	"net/http"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestWebhookEndpointPauseResumeTestAPI: POST .../pause and .../resume
// answer the endpoint with paused_at; .../test answers 202 with a pending
// webhook.test delivery, 409 while paused; another account's endpoint is a
// 404 on each.
func TestWebhookEndpointPauseResumeTestAPI(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	_, otherKey := env.account(t, eventstore.NewAccount{Name: "Globex"})
	path := whPath + "/" + whID(whCreate(t, env, env.key, `{"url":"https://example.com/hook"}`))
	for _, action := range []string{"/pause", "/resume", "/test"} {
		if res := env.do(t, http.MethodPost, path+action, otherKey, nil); res.status != http.StatusNotFound {
			t.Fatalf("another account's %s: %d %s", action, res.status, res.body)
		}
	}
	res := env.do(t, http.MethodPost, path+"/pause", env.key, nil)
	if body := res.json(t); res.status != http.StatusOK || body["paused_at"] == nil {
		t.Fatalf("pause: %d %s", res.status, res.body)
	}
	if got := env.do(t, http.MethodGet, path, env.key, nil).json(t); got["paused_at"] == nil {
		t.Fatalf("GET of a paused endpoint: %v", got)
	}
	res = env.do(t, http.MethodPost, path+"/test", env.key, nil)
	if body := res.json(t); res.status != http.StatusConflict || body["error"] != "Conflict" {
		t.Fatalf("test event while paused: %d %s", res.status, res.body)
	}
	res = env.do(t, http.MethodPost, path+"/resume", env.key, nil)
	if body := res.json(t); res.status != http.StatusOK || body["paused_at"] != nil {
		t.Fatalf("resume: %d %s", res.status, res.body)
	}
	res = env.do(t, http.MethodPost, path+"/test", env.key, nil)
	if body := res.json(t); res.status != http.StatusAccepted || body["event_type"] != domain.WebhookTestEvent || body["state"] != "pending" {
		t.Fatalf("test event: %d %s", res.status, res.body)
	}
	if res := env.do(t, http.MethodPost, whPath+"/x/pause", env.key, nil); res.status != http.StatusNotFound {
		t.Fatalf("bad id: %d", res.status)
	}
}
