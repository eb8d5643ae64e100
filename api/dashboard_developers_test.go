package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// The Developers pages: API keys and webhook endpoints, for owners only.

var (
	apiKeyMark    = regexp.MustCompile(`data-api-key>(gp_[0-9a-f]{64})<`)
	secretMark    = regexp.MustCompile(`value="(whsec_[^"]+)"[^>]*data-webhook-secret`)
	anyKeyPattern = regexp.MustCompile(`gp_[0-9a-f]{64}`)
)

// devPost posts form (with cookie's csrf unless form has one or noCSRF)
// to path.
func (e *testEnv) devPost(t *testing.T, path, cookie string, form url.Values) response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", e.csrfOf(t, cookie))
	}
	return e.dashDo(t, http.MethodPost, path, dashClient, cookie, form)
}

// wantPage checks res's status and that its body has each of marks.
func wantPage(t *testing.T, what string, res response, status int, marks ...string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: %d, want %d\n%s", what, res.status, status, res.body)
	}
	for _, m := range marks {
		if !strings.Contains(string(res.body), m) {
			t.Fatalf("%s: no %q in\n%s", what, m, res.body)
		}
	}
}

func wantRedirect(t *testing.T, what string, res response, to string) {
	t.Helper()
	if res.status != http.StatusSeeOther || res.header.Get("Location") != to {
		t.Fatalf("%s: %d %q, want 303 to %q\n%s", what, res.status, res.header.Get("Location"), to, res.body)
	}
}

func TestDashboardDevelopersMemberGets403Everywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "member@example.com", eventstore.RoleMember)
	ep, err := e.store.CreateEndpoint(context.Background(), eventstore.NewWebhookEndpoint{AccountID: e.acct.ID, URL: "https://example.com/h"})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := e.store.APIKeys(context.Background(), e.acct.ID)
	member := e.signIn(t, "member@example.com")
	csrf := e.csrfOf(t, member)
	epPath := "/dashboard/developers/webhooks/" + strconv.FormatInt(ep.ID, 10)
	for _, get := range []string{"/dashboard/developers", epPath} {
		wantPage(t, "member GET "+get, e.dashGet(t, get, member), http.StatusForbidden, `data-page="owner_only"`)
	}
	for _, post := range []string{"/dashboard/developers/api-keys", "/dashboard/developers/api-keys/" + strconv.FormatInt(keys[0].ID, 10) + "/revoke",
		"/dashboard/developers/webhooks", epPath + "/rotate-secret", epPath + "/pause", epPath + "/resume", epPath + "/delete",
		epPath + "/test", epPath + "/deliveries/1/resend"} {
		res := e.dashDo(t, http.MethodPost, post, dashClient, member, url.Values{"csrf": {csrf}, "url": {"https://example.com/x"}})
		wantPage(t, "member POST "+post, res, http.StatusForbidden, `data-page="owner_only"`)
	}
	after, _ := e.store.APIKeys(context.Background(), e.acct.ID)
	eps, _ := e.store.Endpoints(context.Background(), e.acct.ID)
	if len(after) != 1 || after[0].RevokedAt != nil || len(eps) != 1 || eps[0].Secret != ep.Secret || eps[0].PausedAt != nil {
		t.Fatalf("a member's posts changed something: keys %+v endpoints %+v", after, eps)
	}
}

// TestDashboardAPIKeys: a key generated in the dashboard is shown once,
// works with the API at once, is listed by its prefix with its last use,
// and once revoked is refused at once (the server caches keys; the
// revocation's NOTIFY evicts it); another account's key is a 404, and a
// form without csrf changes nothing.
func TestDashboardAPIKeys(t *testing.T) {
	t.Parallel()
	r := newReplica(t, pgtest.NewDatabase(t), true)
	e := &testEnv{srv: r.srv, store: r.store, clock: r.clock}
	e.acct, e.key = e.account(t, eventstore.NewAccount{Name: "Acme"})
	other, _ := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	ctx := context.Background()

	page := e.dashGet(t, "/dashboard/developers", owner)
	wantPage(t, "developers page", page, http.StatusOK, `data-page="developers"`, `data-action="generate-api-key"`,
		`data-action="revoke-api-key"`, `data-action="create-webhook-endpoint"`, `aria-current="page"`)
	if res := e.dashDo(t, http.MethodPost, "/dashboard/developers/api-keys", dashClient, owner, url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("generate without csrf: %d", res.status)
	}
	if ks, _ := e.store.APIKeys(ctx, e.acct.ID); len(ks) != 1 {
		t.Fatalf("a refused form made a key: %d keys", len(ks))
	}

	res := e.devPost(t, "/dashboard/developers/api-keys", owner, nil)
	m := apiKeyMark.FindSubmatch(res.body)
	if res.status != http.StatusOK || m == nil {
		t.Fatalf("generate: %d\n%s", res.status, res.body)
	}
	key := string(m[1])
	// The copy button's script runs under the page's policy: its hash is
	// the one the Content-Security-Policy allows.
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindSubmatch(res.body)
	if script == nil || !strings.Contains(string(res.body), `data-copy="new-api-key"`) {
		t.Fatalf("no copy script or button:\n%s", res.body)
	}
	sum := sha256.Sum256(script[1])
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Fatalf("the copy script's hash is not allowed by %q", csp)
	}
	if got := doFrom(t, e.srv, http.MethodGet, "/api/v1/plans", "192.0.2.1:1", key, nil); got.status != http.StatusOK {
		t.Fatalf("the new key with the API: %d %s", got.status, got.body)
	}
	// Listed by its prefix, with its use; the key itself never again.
	page = e.dashGet(t, "/dashboard/developers", owner)
	wantPage(t, "developers page after", page, http.StatusOK, "gp_"+key[3:11]+"…", "2025-11-27 01:15 UTC")
	if anyKeyPattern.Match(page.body) {
		t.Fatalf("a key is shown again:\n%s", page.body)
	}
	ks, _ := e.store.APIKeys(ctx, e.acct.ID)
	newest := ks[len(ks)-1]
	if newest.Prefix != key[3:11] || newest.LastUsedAt == nil {
		t.Fatalf("the new key: %+v", newest)
	}
	revoke := "/dashboard/developers/api-keys/" + strconv.FormatInt(newest.ID, 10) + "/revoke"

	if res := e.dashDo(t, http.MethodPost, revoke, dashClient, owner, url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("revoke without csrf: %d", res.status)
	}
	otherKeys, _ := e.store.APIKeys(ctx, other.ID)
	wantPage(t, "another account's key", e.devPost(t, "/dashboard/developers/api-keys/"+strconv.FormatInt(otherKeys[0].ID, 10)+"/revoke", owner, nil),
		http.StatusNotFound, `data-page="not_found"`)
	if ok, _ := e.store.APIKeys(ctx, other.ID); ok[0].RevokedAt != nil {
		t.Fatal("another account's key was revoked")
	}
	if got := doFrom(t, e.srv, http.MethodGet, "/api/v1/plans", "192.0.2.1:1", key, nil); got.status != http.StatusOK {
		t.Fatalf("the key after refused revocations: %d", got.status)
	}
	wantRedirect(t, "revoke", e.devPost(t, revoke, owner, nil), "/dashboard/developers?done=key-revoked")
	pgtest.WaitFor(t, 10*time.Second, "the revoked key to be refused", func() bool {
		return doFrom(t, e.srv, http.MethodGet, "/api/v1/plans", "192.0.2.1:1", key, nil).status == http.StatusUnauthorized
	})
	wantPage(t, "after revoking", e.dashGet(t, "/dashboard/developers?done=key-revoked", owner), http.StatusOK,
		`data-notice="key-revoked"`, "Revoked 2")
	// Revoking it again answers the same.
	wantRedirect(t, "revoke again", e.devPost(t, revoke, owner, nil), "/dashboard/developers?done=key-revoked")
}

// TestDashboardWebhookEndpoints: create (secret shown once), the form's
// refusals, rotate, pause, resume, a test event, the delivery log
// (escaped), resend, delete; another account's endpoint is a 404 and a
// form without csrf changes nothing.
func TestDashboardWebhookEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	other, otherKey := e.account(t, eventstore.NewAccount{Name: "Globex"})
	_ = otherKey
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")

	// Refused forms: 422 with the messages, nothing created.
	for _, tc := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"url": {"http://example.com/h"}}, "must start with https://"},
		{url.Values{"url": {""}}, "The url field is required."},
		{url.Values{"url": {"https://example.com/h"}, "events": {"plan.created", "nope.<b>"}}, `&#34;nope.&lt;b&gt;&#34; is not a webhook event type`},
	} {
		res := e.devPost(t, "/dashboard/developers/webhooks", owner, tc.form)
		wantPage(t, "refused endpoint "+tc.form.Encode(), res, http.StatusUnprocessableEntity, tc.msg, `class="field-error"`)
	}
	if eps, _ := e.store.Endpoints(ctx, e.acct.ID); len(eps) != 0 {
		t.Fatalf("refused forms created %d endpoints", len(eps))
	}
	if res := e.dashDo(t, http.MethodPost, "/dashboard/developers/webhooks", dashClient, owner, url.Values{"url": {"https://example.com/h"}}); res.status != http.StatusForbidden {
		t.Fatalf("create without csrf: %d", res.status)
	}

	res := e.devPost(t, "/dashboard/developers/webhooks", owner, url.Values{"url": {" https://example.com/hook "},
		"events": {domain.EventPlanCreated, domain.EventCatalogPlanCreated, domain.EventPlanCreated}})
	m := secretMark.FindSubmatch(res.body)
	if res.status != http.StatusOK || m == nil {
		t.Fatalf("create: %d\n%s", res.status, res.body)
	}
	secret := html.UnescapeString(string(m[1]))
	eps, _ := e.store.Endpoints(ctx, e.acct.ID)
	if len(eps) != 1 || eps[0].Secret != secret || eps[0].URL != "https://example.com/hook" ||
		!slices.Equal(eps[0].Events, []string{domain.EventPlanCreated, domain.EventCatalogPlanCreated}) {
		t.Fatalf("created: %+v", eps)
	}
	ep := eps[0]
	base := "/dashboard/developers/webhooks/" + strconv.FormatInt(ep.ID, 10)
	page := e.dashGet(t, "/dashboard/developers", owner)
	wantPage(t, "developers with an endpoint", page, http.StatusOK, `data-endpoint-id="`+strconv.FormatInt(ep.ID, 10)+`"`,
		"https://example.com/hook", `data-action="pause-webhook-endpoint"`)
	if strings.Contains(string(page.body), "whsec_") {
		t.Fatalf("a secret is shown again:\n%s", page.body)
	}

	// Rotate: a new secret, shown once.
	res = e.devPost(t, base+"/rotate-secret", owner, nil)
	m = secretMark.FindSubmatch(res.body)
	if res.status != http.StatusOK || m == nil || html.UnescapeString(string(m[1])) == secret {
		t.Fatalf("rotate: %d\n%s", res.status, res.body)
	}
	if got, _ := e.store.Endpoint(ctx, e.acct.ID, ep.ID); got.Secret != html.UnescapeString(string(m[1])) {
		t.Fatal("the rotated secret shown is not the stored one")
	}
	if page := e.dashGet(t, "/dashboard/developers", owner); strings.Contains(string(page.body), "whsec_") {
		t.Fatalf("a rotated secret is shown again:\n%s", page.body)
	}

	// Pause and resume; without csrf nothing changes.
	if res := e.dashDo(t, http.MethodPost, base+"/pause", dashClient, owner, url.Values{}); res.status != http.StatusForbidden {
		t.Fatalf("pause without csrf: %d", res.status)
	}
	wantRedirect(t, "pause", e.devPost(t, base+"/pause", owner, nil), "/dashboard/developers?done=endpoint-paused")
	if got, _ := e.store.Endpoint(ctx, e.acct.ID, ep.ID); got.PausedAt == nil {
		t.Fatal("not paused")
	}
	wantPage(t, "page of a paused endpoint", e.dashGet(t, "/dashboard/developers?done=endpoint-paused", owner), http.StatusOK,
		`data-notice="endpoint-paused"`, `data-action="resume-webhook-endpoint"`, "Paused")
	wantPage(t, "test event to a paused endpoint", e.devPost(t, base+"/test", owner, nil), http.StatusConflict, "The endpoint is paused")
	wantRedirect(t, "resume", e.devPost(t, base+"/resume", owner, nil), "/dashboard/developers?done=endpoint-resumed")
	if got, _ := e.store.Endpoint(ctx, e.acct.ID, ep.ID); got.PausedAt != nil {
		t.Fatal("still paused")
	}

	// A test event: a delivery of its own, no event in the store.
	wantRedirect(t, "test event", e.devPost(t, base+"/test", owner, nil), "/dashboard/developers?done=test-sent")
	ds, err := e.store.DeliveriesBefore(ctx, e.acct.ID, ep.ID, 0, 10)
	if err != nil || len(ds) != 1 || ds[0].EventType != domain.WebhookTestEvent || ds[0].State != eventstore.DeliveryPending {
		t.Fatalf("test delivery: %+v %v", ds, err)
	}
	var events int
	if err := e.store.Pool().QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil || events != 0 {
		t.Fatalf("a test event appended %d events (%v)", events, err)
	}
	// It is attempted (the receiver answers with markup), then logged.
	claimed, err := e.store.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	if err := e.store.RecordAttempt(ctx, eventstore.AttemptOutcome{Attempt: eventstore.Attempt{DeliveryID: claimed[0].ID, Number: 1,
		StatusCode: 500, Latency: 42 * time.Millisecond, ResponseExcerpt: `<script>alert("x")</script>`, AttemptedAt: seedNow},
		State: eventstore.DeliveryFailed, LeaseUntil: claimed[0].LeaseUntil}); err != nil {
		t.Fatal(err)
	}
	log := e.dashGet(t, base, owner)
	wantPage(t, "delivery log", log, http.StatusOK, `data-page="webhook-deliveries"`, domain.WebhookTestEvent, "HTTP 500", "42 ms",
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `data-action="resend-webhook-delivery"`)
	if strings.Contains(string(log.body), "<script>") {
		t.Fatalf("the response excerpt is not escaped:\n%s", log.body)
	}
	resend := base + "/deliveries/" + strconv.FormatInt(ds[0].ID, 10) + "/resend"
	wantRedirect(t, "resend", e.devPost(t, resend, owner, nil), base+"?done=resent")
	if ds, _ := e.store.DeliveriesBefore(ctx, e.acct.ID, ep.ID, 0, 10); ds[0].State != eventstore.DeliveryPending {
		t.Fatalf("resent delivery: %+v", ds[0])
	}
	wantPage(t, "resend of a pending delivery", e.devPost(t, resend, owner, nil), http.StatusConflict, "still pending")

	// Another account's endpoint: 404 everywhere, nothing changed.
	theirs, err := e.store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: other.ID, URL: "https://globex.example/h"})
	if err != nil {
		t.Fatal(err)
	}
	theirBase := "/dashboard/developers/webhooks/" + strconv.FormatInt(theirs.ID, 10)
	wantPage(t, "another account's log", e.dashGet(t, theirBase, owner), http.StatusNotFound, `data-page="not_found"`)
	for _, p := range []string{"/rotate-secret", "/pause", "/resume", "/delete", "/test", "/deliveries/1/resend"} {
		wantPage(t, "another account's endpoint "+p, e.devPost(t, theirBase+p, owner, nil), http.StatusNotFound, `data-page="not_found"`)
	}
	if got, err := e.store.Endpoint(ctx, other.ID, theirs.ID); err != nil || got.Secret != theirs.Secret || got.PausedAt != nil {
		t.Fatalf("another account's endpoint changed: %+v %v", got, err)
	}

	// Delete.
	wantRedirect(t, "delete", e.devPost(t, base+"/delete", owner, nil), "/dashboard/developers?done=endpoint-deleted")
	wantPage(t, "log of a deleted endpoint", e.dashGet(t, base, owner), http.StatusNotFound, `data-page="not_found"`)
	if eps, _ := e.store.Endpoints(ctx, e.acct.ID); len(eps) != 0 {
		t.Fatalf("not deleted: %+v", eps)
	}
}

// TestDashboardDeliveryLogPages: the log is paged newest first by id.
func TestDashboardDeliveryLogPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	ep, err := e.store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: e.acct.ID, URL: "https://example.com/h"})
	if err != nil {
		t.Fatal(err)
	}
	for range deliveriesPerPage + 2 {
		if _, err := e.srv.sendTestEvent(ctx, e.acct.ID, ep.ID); err != nil {
			t.Fatal(err)
		}
	}
	base := "/dashboard/developers/webhooks/" + strconv.FormatInt(ep.ID, 10)
	rows := regexp.MustCompile(`data-delivery-id="(\d+)"`)
	next := regexp.MustCompile(`\?before=(\d+)" rel="next"`)
	first := e.dashGet(t, base, owner)
	m := next.FindSubmatch(first.body)
	if first.status != http.StatusOK || len(rows.FindAll(first.body, -1)) != deliveriesPerPage || m == nil {
		t.Fatalf("first page: %d\n%s", first.status, first.body)
	}
	second := e.dashGet(t, base+"?before="+string(m[1]), owner)
	got := rows.FindAllSubmatch(second.body, -1)
	if second.status != http.StatusOK || len(got) != 2 || next.Match(second.body) {
		t.Fatalf("second page: %d\n%s", second.status, second.body)
	}
	if a, _ := strconv.ParseInt(string(got[0][1]), 10, 64); a >= mustInt(t, string(m[1])) {
		t.Fatalf("second page starts at %d, not below %s", a, m[1])
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDashboardAPIKeysPaged: the Developers page lists the account's keys
// newest first, apiKeysPageSize at a time, with links between the pages,
// and no other account's.
func TestDashboardAPIKeysPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	other, _ := e.account(t, eventstore.NewAccount{Name: "Globex"})
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	owner := e.signIn(t, "owner@example.com")
	for range apiKeysPageSize + 5 {
		if _, err := e.store.CreateAPIKey(ctx, e.acct.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateAPIKey(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
	}
	all, err := e.store.APIKeys(ctx, e.acct.ID) // oldest first
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(all)
	keyRow := regexp.MustCompile(`<tr data-api-key-id="(\d+)">`)
	listed := func(page response) []int64 {
		var ids []int64
		for _, m := range keyRow.FindAllSubmatch(page.body, -1) {
			id, _ := strconv.ParseInt(string(m[1]), 10, 64)
			ids = append(ids, id)
		}
		return ids
	}
	var want []int64
	for _, k := range all {
		want = append(want, k.ID)
	}
	first := e.dashGet(t, "/dashboard/developers", owner)
	wantPage(t, "first page", first, http.StatusOK, `data-page-link="older-keys"`)
	if got := listed(first); !slices.Equal(got, want[:apiKeysPageSize]) || strings.Contains(string(first.body), "newest-keys") {
		t.Fatalf("first page: %v, want %v", got, want[:apiKeysPageSize])
	}
	older := regexp.MustCompile(`href="([^"]+)" rel="next" data-page-link="older-keys"`).FindSubmatch(first.body)
	link, _, _ := strings.Cut(html.UnescapeString(string(older[1])), "#") // a browser keeps the fragment
	next := e.dashGet(t, link, owner)
	wantPage(t, "second page", next, http.StatusOK, `href="/dashboard/developers#api-keys" rel="prev" data-page-link="newest-keys"`)
	if got := listed(next); !slices.Equal(got, want[apiKeysPageSize:]) || strings.Contains(string(next.body), "older-keys") {
		t.Fatalf("second page: %v, want %v", got, want[apiKeysPageSize:])
	}
	for _, bad := range []string{"x", "0", "-3"} {
		wantPage(t, "keys_before="+bad, e.dashGet(t, "/dashboard/developers?keys_before="+bad, owner), http.StatusBadRequest)
	}
}
