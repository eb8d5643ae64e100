package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// The Developers pages (owners only): API keys and webhook endpoints. Each
// action runs the same code as its JSON API route or CLI command (keys:
// eventstore's CreateAPIKey and RevokeAPIKey, whose NOTIFY makes every
// replica refuse a revoked key at once; endpoints: createEndpoint,
// rotateEndpointSecret, sendTestEvent and the store's pause, resume,
// delete and resend, as in webhooks.go). A new key or secret is shown
// once, on the 200 answer to the POST that made it; every other action
// answers 303 to the page it belongs to.

// deliveriesPerPage is the delivery log's page size.
const deliveriesPerPage = 25

// dashboardDeveloperRoutes registers the Developers pages (inside
// requireOwner).
func (s *Server) dashboardDeveloperRoutes(r chi.Router) {
	r.Get("/developers", s.dashboardDevelopers)
	r.Post("/developers/api-keys", s.dashboardGenerateKey)
	r.Post("/developers/api-keys/{id}/revoke", s.dashboardRevokeKey)
	r.Post("/developers/webhooks", s.dashboardCreateEndpoint)
	r.Get("/developers/webhooks/{id}", s.dashboardDeliveries)
	r.Post("/developers/webhooks/{id}/rotate-secret", s.dashboardRotateSecret)
	r.Post("/developers/webhooks/{id}/pause", s.dashboardEndpointAction("endpoint-paused", s.store.PauseEndpoint))
	r.Post("/developers/webhooks/{id}/resume", s.dashboardEndpointAction("endpoint-resumed", s.store.ResumeEndpoint))
	r.Post("/developers/webhooks/{id}/delete", s.dashboardEndpointAction("endpoint-deleted",
		func(ctx context.Context, accountID, id int64) (eventstore.WebhookEndpoint, error) {
			return eventstore.WebhookEndpoint{}, s.store.DeleteEndpoint(ctx, accountID, id)
		}))
	r.Post("/developers/webhooks/{id}/test", s.dashboardEndpointAction("test-sent",
		func(ctx context.Context, accountID, id int64) (eventstore.WebhookEndpoint, error) {
			_, err := s.sendTestEvent(ctx, accountID, id)
			return eventstore.WebhookEndpoint{}, err
		}))
	r.Post("/developers/webhooks/{id}/deliveries/{delivery_id}/resend", s.dashboardResend)
}

// developersNotices are the notices the Developers page shows from its
// ?done= (anything else shows nothing).
var developersNotices = map[string]bool{"key-revoked": true, "endpoint-paused": true, "endpoint-resumed": true,
	"endpoint-deleted": true, "test-sent": true, "key-made-already": true, "endpoint-made-already": true,
	"secret-rotated-already": true}

// apiKeysPageSize is how many API keys the Developers page lists at a
// time.
const apiKeysPageSize = 25

// dashboardDevelopers is GET /dashboard/developers[?keys_before=id]: the
// page, its keys newest first from the one below keys_before.
func (s *Server) dashboardDevelopers(w http.ResponseWriter, r *http.Request) {
	v := templates.DashboardDevelopers{}
	if done := r.URL.Query().Get("done"); developersNotices[done] {
		v.Notice = done
	}
	s.renderDevelopers(w, r, http.StatusOK, v)
}

// keysBefore is the keys_before of r's query (0: none), false if it is
// not a positive id.
func keysBefore(r *http.Request) (int64, bool) {
	v := r.URL.Query().Get("keys_before")
	if v == "" || r.Method != http.MethodGet {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n > 0
}

// renderDevelopers writes the Developers page with v's one-time values,
// notice and form, and the account's keys and endpoints as they are now.
func (s *Server) renderDevelopers(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardDevelopers) {
	ctx, u := r.Context(), dashboardUserOf(r)
	shell, err := s.dashboardShell(r, s.dash.root+"/developers")
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	before, ok := keysBefore(r)
	if !ok {
		s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
		return
	}
	keys, older, err := s.store.APIKeysPage(ctx, u.AccountID, before, apiKeysPageSize)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	if older && len(keys) > 0 {
		v.OlderKeys = s.dash.root + "/developers?keys_before=" + strconv.FormatInt(keys[len(keys)-1].ID, 10) + "#api-keys"
	}
	if before > 0 {
		v.NewestKeys = s.dash.root + "/developers#api-keys"
	}
	eps, err := s.store.Endpoints(ctx, u.AccountID)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v.Shell, v.EndpointLimit = shell, eventstore.MaxWebhookEndpoints
	v.KeyFormID, v.RotateFormID = newFormID(), newFormID()
	if v.Form.FormID == "" {
		v.Form.FormID = newFormID()
	}
	v.EventTypes, v.CatalogTypes, v.AllEvents = domain.WebhookEventTypes, domain.CatalogWebhookEventTypes, domain.AllWebhookEvents
	v.Keys = make([]templates.DashboardAPIKey, len(keys))
	for i, k := range keys {
		v.Keys[i] = templates.DashboardAPIKey{ID: k.ID, Prefix: k.Prefix, Created: dashTime(&k.CreatedAt),
			LastUsed: dashTime(k.LastUsedAt), Revoked: dashTime(k.RevokedAt)}
	}
	v.Endpoints = make([]templates.DashboardEndpoint, len(eps))
	for i, e := range eps {
		v.Endpoints[i] = dashEndpoint(e)
	}
	renderDashboard(s, w, r, status, templates.DashboardDevelopersPage, v)
}

// dashTime formats t for the dashboard ("" for nil), in UTC.
func dashTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func dashEndpoint(e eventstore.WebhookEndpoint) templates.DashboardEndpoint {
	return templates.DashboardEndpoint{ID: e.ID, URL: e.URL, Events: e.Events, Created: dashTime(&e.CreatedAt),
		Paused: dashTime(e.PausedAt), Disabled: dashTime(e.DisabledAt), DisabledReason: e.DisabledReason}
}

// dashboardGenerateKey is POST /dashboard/developers/api-keys (csrf,
// form_id): a new key, the same as `goodplan apikeys create`, shown in the
// answer (200) and never again. It is not logged and never in a URL. The
// page's form makes one key: submitted again with the same form_id (a
// double click), it makes none and answers 303 to the page, whose notice
// says so. A POST without a form_id is not guarded.
func (s *Server) dashboardGenerateKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	var key string
	var err error
	if formID := r.PostForm.Get("form_id"); validFormID(formID) {
		key, err = s.store.CreateAPIKeyOnce(r.Context(), u.AccountID, formID)
	} else {
		key, err = s.store.CreateAPIKey(r.Context(), u.AccountID) // a script's POST without the page's form
	}
	if errors.Is(err, eventstore.ErrFormUsed) {
		http.Redirect(w, r, s.dash.root+"/developers?done=key-made-already", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	s.renderDevelopers(w, r, http.StatusOK, templates.DashboardDevelopers{NewKey: key})
}

// dashboardRevokeKey is POST /dashboard/developers/api-keys/{id}/revoke
// (csrf): the same revocation as `goodplan apikeys revoke`, announced to
// every replica (eventstore.APIKeyChannel); 303 to the page. A key revoked
// already answers the same; another account's key is the 404 page.
func (s *Server) dashboardRevokeKey(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	id, ok := endpointID(r) // the same {id} parsing
	if !ok {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	_, err := s.store.RevokeAPIKey(r.Context(), u.AccountID, strconv.FormatInt(id, 10))
	switch {
	case err == nil, errors.Is(err, eventstore.ErrKeyRevoked):
		http.Redirect(w, r, s.dash.root+"/developers?done=key-revoked", http.StatusSeeOther)
	case errors.Is(err, eventstore.ErrNotFound):
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
	default:
		s.dashboardFail(w, r, err)
	}
}

// dashboardCreateEndpoint is POST /dashboard/developers/webhooks (csrf,
// form_id, url, events: each checked type, "*" for all): the same creation
// as POST /api/v1/webhook-endpoints; the answer (200) shows the secret
// once. A refused form is a 422 with the form and its messages (and the
// same form_id, so it can be sent again once corrected). The page's form
// makes one endpoint: submitted again with the same form_id, it makes none
// and answers 303 to the page, whose notice says so. A POST without a
// form_id is not guarded.
func (s *Server) dashboardCreateEndpoint(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	form := templates.DashboardEndpointForm{URL: r.PostForm.Get("url"), Events: r.PostForm["events"],
		FormID: r.PostForm.Get("form_id")}
	var ve domain.ValidationError
	formID := r.PostForm.Get("form_id")
	if !validFormID(formID) {
		formID, form.FormID = "", "" // a script's POST without the page's form: no guard
	}
	ep, err := s.createEndpoint(r.Context(), u.AccountID, form.URL, form.Events, formID, &ve)
	if errors.Is(err, eventstore.ErrFormUsed) {
		http.Redirect(w, r, s.dash.root+"/developers?done=endpoint-made-already", http.StatusSeeOther)
		return
	}
	if errors.As(err, new(*domain.ValidationError)) {
		form.Errors = ve.Fields
		s.renderDevelopers(w, r, http.StatusUnprocessableEntity, templates.DashboardDevelopers{Form: form})
		return
	}
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	s.renderDevelopers(w, r, http.StatusOK, templates.DashboardDevelopers{
		NewSecret: &templates.DashboardNewSecret{EndpointID: ep.ID, URL: ep.URL, Secret: ep.Secret}})
}

// dashboardEndpointID is the {id} of a request for one of u's endpoints,
// or false (having answered with the 404 page).
func (s *Server) dashboardEndpointID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := endpointID(r)
	if !ok {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
	}
	return id, ok
}

// dashboardEndpointForm admits a form POST for one of the user's
// endpoints (dashboardForm) and returns the user and the endpoint's {id};
// false when it has answered (403, 400, or the 404 page).
func (s *Server) dashboardEndpointForm(w http.ResponseWriter, r *http.Request) (dashboardUser, int64, bool) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return dashboardUser{}, 0, false
	}
	id, ok := s.dashboardEndpointID(w, r)
	return u, id, ok
}

// dashboardEndpointError answers a refused endpoint action: another
// account's (or a deleted) endpoint is the 404 page; an endpoint that
// cannot be sent to, or a delivery still pending, is a 409 with the page
// (back, the Developers page or the endpoint's log) saying why.
func (s *Server) dashboardEndpointError(w http.ResponseWriter, r *http.Request, err error, back func(status int, msg string)) {
	var msg string
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	case errors.Is(err, eventstore.ErrEndpointPaused):
		msg = "The endpoint is paused: resume it first."
	case errors.Is(err, eventstore.ErrEndpointDisabled):
		msg = "The endpoint is disabled (it answered 410 Gone): nothing can be sent to it."
	case errors.Is(err, eventstore.ErrDeliveryPending):
		msg = "The delivery is still pending: it will be attempted on schedule."
	}
	if msg == "" || back == nil {
		s.dashboardFail(w, r, err)
		return
	}
	back(http.StatusConflict, msg)
}

// dashboardEndpointAction is a POST /dashboard/developers/webhooks/{id}/…
// (csrf) that runs act on the user's endpoint and answers 303 to the page
// with notice done.
func (s *Server) dashboardEndpointAction(done string, act func(ctx context.Context, accountID, id int64) (eventstore.WebhookEndpoint, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, id, ok := s.dashboardEndpointForm(w, r)
		if !ok {
			return
		}
		if _, err := act(r.Context(), u.AccountID, id); err != nil {
			s.dashboardEndpointError(w, r, err, func(status int, msg string) {
				s.renderDevelopers(w, r, status, templates.DashboardDevelopers{Error: msg})
			})
			return
		}
		http.Redirect(w, r, s.dash.root+"/developers?done="+done, http.StatusSeeOther)
	}
}

// dashboardRotateSecret is POST
// /dashboard/developers/webhooks/{id}/rotate-secret (csrf, form_id): the
// same rotation as the JSON API's; the answer (200) shows the new secret
// once. The page's form rotates once: sent again with the same form_id, it
// rotates nothing (a second rotation would end the secret the receiver
// still uses at once) and answers 303 to the page with a notice.
func (s *Server) dashboardRotateSecret(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.dashboardEndpointForm(w, r)
	if !ok {
		return
	}
	formID := r.PostForm.Get("form_id")
	if !validFormID(formID) {
		formID = "" // a script's POST without the page's form: no guard
	}
	rotated, err := s.rotateEndpointSecretFor(r.Context(), u.AccountID, id, formID)
	if errors.Is(err, eventstore.ErrFormUsed) {
		http.Redirect(w, r, s.dash.root+"/developers?done=secret-rotated-already", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.dashboardEndpointError(w, r, err, nil)
		return
	}
	s.renderDevelopers(w, r, http.StatusOK, templates.DashboardDevelopers{NewSecret: &templates.DashboardNewSecret{
		EndpointID: rotated.ID, URL: rotated.URL, Secret: rotated.Secret, Rotated: true,
		PreviousUntil: dashTime(&rotated.PreviousSecretExpiresAt)}})
}

// dashboardDeliveries is GET /dashboard/developers/webhooks/{id}
// ?before=: the endpoint's delivery log, newest first, deliveriesPerPage
// at a time (keyset: ?before= the last id shown).
func (s *Server) dashboardDeliveries(w http.ResponseWriter, r *http.Request) {
	v := templates.DashboardWebhookDeliveries{}
	if r.URL.Query().Get("done") == "resent" {
		v.Notice = "resent"
	}
	s.renderDeliveries(w, r, http.StatusOK, v)
}

func (s *Server) renderDeliveries(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardWebhookDeliveries) {
	ctx, u := r.Context(), dashboardUserOf(r)
	id, ok := s.dashboardEndpointID(w, r)
	if !ok {
		return
	}
	before, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if err != nil || before < 0 {
		before = 0
	}
	ep, err := s.store.Endpoint(ctx, u.AccountID, id)
	if err != nil {
		s.dashboardEndpointError(w, r, err, nil)
		return
	}
	ds, err := s.store.DeliveriesBefore(ctx, u.AccountID, id, before, deliveriesPerPage+1)
	if err != nil {
		s.dashboardEndpointError(w, r, err, nil)
		return
	}
	if v.Shell, err = s.dashboardShell(r, s.dash.root+"/developers"); err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	if len(ds) > deliveriesPerPage {
		ds = ds[:deliveriesPerPage]
		v.Before = ds[len(ds)-1].ID
	}
	v.Endpoint = dashEndpoint(ep)
	v.Deliveries = make([]templates.DashboardDelivery, len(ds))
	for i, d := range ds {
		dv := templates.DashboardDelivery{ID: d.ID, EventID: d.EventID.String(), EventType: d.EventType, State: d.State,
			Attempts: d.Attempts, Created: dashTime(&d.CreatedAt), Resendable: d.State != eventstore.DeliveryPending}
		if n := len(d.Log); n > 0 {
			last := d.Log[n-1]
			if last.StatusCode != 0 {
				dv.Status = strconv.Itoa(last.StatusCode)
			}
			dv.LatencyMS = strconv.FormatInt(last.Latency.Milliseconds(), 10)
			dv.Excerpt, dv.AttemptError = last.ResponseExcerpt, last.Error
		}
		v.Deliveries[i] = dv
	}
	renderDashboard(s, w, r, status, templates.DashboardWebhookDeliveriesPage, v)
}

// dashboardResend is POST
// /dashboard/developers/webhooks/{id}/deliveries/{delivery_id}/resend
// (csrf): the same resend as the JSON API's; 303 to the log.
func (s *Server) dashboardResend(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.dashboardEndpointForm(w, r)
	if !ok {
		return
	}
	deliveryID, err := strconv.ParseInt(chi.URLParam(r, "delivery_id"), 10, 64)
	if err != nil || deliveryID <= 0 {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		return
	}
	if _, err := s.store.Resend(r.Context(), u.AccountID, id, deliveryID); err != nil {
		s.dashboardEndpointError(w, r, err, func(status int, msg string) {
			s.renderDeliveries(w, r, status, templates.DashboardWebhookDeliveries{Error: msg})
		})
		return
	}
	http.Redirect(w, r, s.dash.root+"/developers/webhooks/"+strconv.FormatInt(id, 10)+"?done=resent", http.StatusSeeOther)
}
