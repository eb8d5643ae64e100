package api

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"goodplan/eventstore"
)

var formIDMark = regexp.MustCompile(`action="/dashboard/developers/(api-keys|webhooks)"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="form_id" value="([^"]+)">`)

// formIDsOf returns the form_id of the generate-key and create-endpoint
// forms of a Developers page.
func formIDsOf(t *testing.T, body []byte) (key, endpoint string) {
	t.Helper()
	for _, m := range formIDMark.FindAllSubmatch(body, -1) {
		if string(m[1]) == "api-keys" {
			key = string(m[2])
		} else {
			endpoint = string(m[2])
		}
	}
	if !validFormID(key) || !validFormID(endpoint) || key == endpoint {
		t.Fatalf("form ids %q and %q in\n%s", key, endpoint, body)
	}
	return key, endpoint
}

// TestDashboardDoubleSubmitMakesOneKeyAndOneEndpoint: the Developers
// page's generate-key and create-endpoint forms, each sent twice with the
// same form_id (one after the other, then concurrently as a double click
// does), make one key and one endpoint; the repeated submit answers 303 to
// the page with a notice and shows no second key or secret. A fresh page
// has fresh form ids, so generating another key works.
func TestDashboardDoubleSubmitMakesOneKeyAndOneEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	keys := func() int {
		ks, err := e.store.APIKeys(ctx, e.acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ks)
	}
	endpoints := func() int {
		eps, err := e.store.Endpoints(ctx, e.acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(eps)
	}
	keys0 := keys()

	keyForm, endpointForm := formIDsOf(t, e.dashGet(t, "/dashboard/developers", owner).body)
	first := e.devPost(t, "/dashboard/developers/api-keys", owner, url.Values{"form_id": {keyForm}})
	if first.status != http.StatusOK || apiKeyMark.FindSubmatch(first.body) == nil {
		t.Fatalf("generate: %d\n%s", first.status, first.body)
	}
	again := e.devPost(t, "/dashboard/developers/api-keys", owner, url.Values{"form_id": {keyForm}})
	wantRedirect(t, "the same key form again", again, "/dashboard/developers?done=key-made-already")
	if anyKeyPattern.Match(again.body) || keys() != keys0+1 {
		t.Fatalf("the second submit: %d keys (were %d)\n%s", keys(), keys0, again.body)
	}
	wantPage(t, "the notice", e.dashGet(t, "/dashboard/developers?done=key-made-already", owner), http.StatusOK,
		`data-notice="key-made-already"`, "That form was sent twice")

	hook := url.Values{"form_id": {endpointForm}, "url": {"https://example.com/hooks"}, "events": {"plan.created"}}
	created := e.devPost(t, "/dashboard/developers/webhooks", owner, hook)
	if created.status != http.StatusOK || secretMark.FindSubmatch(created.body) == nil {
		t.Fatalf("create endpoint: %d\n%s", created.status, created.body)
	}
	again = e.devPost(t, "/dashboard/developers/webhooks", owner, hook)
	wantRedirect(t, "the same endpoint form again", again, "/dashboard/developers?done=endpoint-made-already")
	if strings.Contains(string(again.body), "whsec_") || endpoints() != 1 {
		t.Fatalf("the second submit: %d endpoints\n%s", endpoints(), again.body)
	}

	// Rotating the endpoint's secret: once per form.
	page := e.dashGet(t, "/dashboard/developers", owner).body
	rotate := regexp.MustCompile(`action="(/dashboard/developers/webhooks/\d+/rotate-secret)"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="form_id" value="([^"]+)">`).FindSubmatch(page)
	if rotate == nil {
		t.Fatalf("no rotate-secret form with a form_id:\n%s", page)
	}
	secretOf := func() string {
		eps, err := e.store.Endpoints(ctx, e.acct.ID)
		if err != nil || len(eps) != 1 {
			t.Fatalf("endpoints: %v %v", eps, err)
		}
		return eps[0].Secret
	}
	before := secretOf()
	rotated := e.devPost(t, string(rotate[1]), owner, url.Values{"form_id": {string(rotate[2])}})
	if rotated.status != http.StatusOK || secretMark.FindSubmatch(rotated.body) == nil {
		t.Fatalf("rotate: %d\n%s", rotated.status, rotated.body)
	}
	after := secretOf()
	again = e.devPost(t, string(rotate[1]), owner, url.Values{"form_id": {string(rotate[2])}})
	wantRedirect(t, "the same rotate form again", again, "/dashboard/developers?done=secret-rotated-already")
	if after == before || secretOf() != after || strings.Contains(string(again.body), "whsec_") {
		t.Fatalf("secrets: %q -> %q -> %q", before, after, secretOf())
	}

	// A double click: both submits of a fresh page's forms at once.
	keyForm, endpointForm = formIDsOf(t, e.dashGet(t, "/dashboard/developers", owner).body)
	hook.Set("form_id", endpointForm)
	hook.Set("url", "https://example.com/other")
	csrf := e.csrfOf(t, owner)
	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range 4 {
		path, form := "/dashboard/developers/api-keys", url.Values{"form_id": {keyForm}, "csrf": {csrf}}
		if i >= 2 {
			path, form = "/dashboard/developers/webhooks", url.Values{"csrf": {csrf}}
			for k, v := range hook {
				form[k] = v
			}
		}
		wg.Go(func() { statuses[i] = e.dashDo(t, http.MethodPost, path, dashClient, owner, form).status })
	}
	wg.Wait()
	for _, pair := range [][]int{statuses[:2], statuses[2:]} {
		if !(pair[0] == http.StatusOK && pair[1] == http.StatusSeeOther || pair[0] == http.StatusSeeOther && pair[1] == http.StatusOK) {
			t.Fatalf("concurrent submits answered %v, want one 200 and one 303 each", statuses)
		}
	}
	if keys() != keys0+2 || endpoints() != 2 {
		t.Fatalf("after a double click: %d keys (want %d), %d endpoints (want 2)", keys(), keys0+2, endpoints())
	}
}
