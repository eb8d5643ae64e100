package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
)

// Limits of the webhook endpoints API.
const (
	maxEndpointURL       = 2048
	defaultDeliveryLimit = 20
	maxDeliveryLimit     = 100
)

// endpointCreated is the 201 body of POST /api/v1/webhook-endpoints: the
// only response that carries the secret.
type endpointCreated struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"` // empty: Good Plan's types; ["*"]: every type
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
}

// endpointView is an endpoint as listed and read: never the secret.
type endpointView struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	CreatedAt      time.Time  `json:"created_at"`
	DisabledAt     *time.Time `json:"disabled_at"`
	DisabledReason *string    `json:"disabled_reason"`
	PausedAt       *time.Time `json:"paused_at"` // null: not paused
}

func viewEndpoint(e eventstore.WebhookEndpoint) endpointView {
	v := endpointView{ID: e.ID, URL: e.URL, Events: e.Events, CreatedAt: e.CreatedAt.UTC()}
	if v.Events == nil {
		v.Events = []string{}
	}
	if e.DisabledAt != nil {
		at, reason := e.DisabledAt.UTC(), e.DisabledReason
		v.DisabledAt, v.DisabledReason = &at, &reason
	}
	if e.PausedAt != nil {
		at := e.PausedAt.UTC()
		v.PausedAt = &at
	}
	return v
}

// deliveryBrief is a delivery's state: the 202 body of a resend.
type deliveryBrief struct {
	ID            int64      `json:"id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// deliveryView is a delivery with its attempt log, oldest attempt first.
type deliveryView struct {
	deliveryBrief
	AttemptsLog []attemptView `json:"attempts_log"`
}

type attemptView struct {
	Attempt         int       `json:"attempt"`
	StatusCode      *int      `json:"status_code"` // null: no response
	LatencyMS       int64     `json:"latency_ms"`
	ResponseExcerpt string    `json:"response_excerpt"` // the first 1 KiB of the body
	Error           *string   `json:"error"`
	AttemptedAt     time.Time `json:"attempted_at"`
}

type deliveryPage struct {
	Items      []deliveryView `json:"items"`
	TotalItems int            `json:"total_items"`
	Limit      int            `json:"limit"`
	Offset     int            `json:"offset"`
}

func briefDelivery(d eventstore.Delivery) deliveryBrief {
	b := deliveryBrief{ID: d.ID, EventID: d.EventID.String(), EventType: d.EventType, State: d.State, Attempts: d.Attempts}
	if d.NextAttemptAt != nil {
		t := d.NextAttemptAt.UTC()
		b.NextAttemptAt = &t
	}
	return b
}

func viewDelivery(d eventstore.DeliveryLog) deliveryView {
	v := deliveryView{deliveryBrief: briefDelivery(d.Delivery), AttemptsLog: make([]attemptView, len(d.Log))}
	for i, a := range d.Log {
		av := attemptView{Attempt: a.Number, LatencyMS: a.Latency.Milliseconds(), ResponseExcerpt: a.ResponseExcerpt,
			AttemptedAt: a.AttemptedAt.UTC()}
		if a.StatusCode != 0 {
			code := a.StatusCode
			av.StatusCode = &code
		}
		if a.Error != "" {
			msg := a.Error
			av.Error = &msg
		}
		v.AttemptsLog[i] = av
	}
	return v
}

// createWebhookEndpoint is POST /api/v1/webhook-endpoints {"url", "events"}.
func (s *Server) createWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	root, err := parseObject(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f fieldReader
	rawURL := f.str(root, "url", "url")
	events := f.strings(root, "events", "events")
	ep, err := s.createEndpoint(r.Context(), accountFrom(r.Context()).ID, rawURL, events, "", &f.errs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhook-endpoints/"+strconv.FormatInt(ep.ID, 10))
	writeJSON(w, http.StatusCreated, endpointCreated{ID: ep.ID, URL: ep.URL, Events: viewEndpoint(ep).Events,
		Secret: ep.Secret, CreatedAt: ep.CreatedAt.UTC()})
}

// createEndpoint creates an endpoint of account accountID for rawURL and
// events, as the JSON API and the dashboard ask for it (the dashboard
// with its form's formID: eventstore.ErrFormUsed for a second submit of
// the form; the API with ""): ve holds what
// reading the request refused already (a field's name in ve is not
// checked again); the url and events are validated into it, and if it
// then holds anything it is the error, with nothing created. An account
// at its endpoint limit is a validation error of "url".
func (s *Server) createEndpoint(ctx context.Context, accountID int64, rawURL string, events []string, formID string,
	ve *domain.ValidationError) (eventstore.WebhookEndpoint, error) {
	rawURL = strings.TrimSpace(rawURL)
	if _, bad := ve.Fields["url"]; !bad {
		validateEndpointURL(ve, rawURL, s.httpWebhooks)
	}
	if _, bad := ve.Fields["events"]; !bad {
		events = validateEventTypes(ve, events)
	}
	if err := ve.OrNil(); err != nil {
		return eventstore.WebhookEndpoint{}, err
	}
	ep, err := s.store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: accountID, URL: rawURL, Events: events,
		FormID: formID})
	if errors.Is(err, eventstore.ErrEndpointLimit) {
		ve.Add("url", "An account may have at most "+strconv.Itoa(eventstore.MaxWebhookEndpoints)+
			" webhook endpoints; delete one before adding another.")
		return eventstore.WebhookEndpoint{}, ve
	}
	return ep, err
}

// validateEndpointURL accepts an absolute https URL (or http when
// allowHTTP: WEBHOOK_ALLOW_PRIVATE_NETWORKS, for development) with a host,
// no user name or password, of at most 2048 characters, and no character
// domain.CheckText refuses in a single line.
func validateEndpointURL(ve *domain.ValidationError, raw string, allowHTTP bool) {
	const field = "url"
	if raw == "" {
		ve.Add(field, "The url field is required.")
		return
	}
	if utf8.RuneCountInString(raw) > maxEndpointURL {
		ve.Add(field, "The url may not be greater than "+strconv.Itoa(maxEndpointURL)+" characters.")
		return
	}
	var text domain.ValidationError
	if domain.CheckText(&text, field, raw, domain.SingleLine, maxEndpointURL); text.Fields[field] != nil {
		ve.Add(field, text.Fields[field][0])
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || u.Hostname() == "" {
		ve.Add(field, "The url must be an absolute URL starting with https:// or http://.")
		return
	}
	if u.Scheme != "https" && !allowHTTP {
		ve.Add(field, "The url must start with https://: deliveries carry customer data and are signed, and plain http would expose both.")
		return
	}
	if u.User != nil {
		ve.Add(field, "The url may not contain a user name or password.")
	}
}

// validateEventTypes returns the requested types without duplicates, in
// request order, adding an error naming each unknown one. Empty means Good
// Plan's types (domain.WebhookEventTypes); the catalog's types are
// received only by naming them, or with "*" (every type, which the list
// then is alone).
func validateEventTypes(ve *domain.ValidationError, events []string) []string {
	out := []string{}
	for _, e := range events {
		switch {
		case e != domain.AllWebhookEvents && !domain.IsSubscribableEventType(e):
			ve.Add("events", "The event type "+strconv.Quote(e)+" is not a webhook event type; name types such as "+
				"\"plan.created\" or \"catalog_plan.created\", or \"*\" for every type.")
		case !slices.Contains(out, e):
			out = append(out, e)
		}
	}
	if slices.Contains(out, domain.AllWebhookEvents) {
		return []string{domain.AllWebhookEvents}
	}
	return out
}

// listWebhookEndpoints is GET /api/v1/webhook-endpoints.
func (s *Server) listWebhookEndpoints(w http.ResponseWriter, r *http.Request) {
	eps, err := s.store.Endpoints(r.Context(), accountFrom(r.Context()).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]endpointView, len(eps))
	for i, e := range eps {
		items[i] = viewEndpoint(e)
	}
	writeJSON(w, http.StatusOK, struct {
		Items []endpointView `json:"items"`
	}{items})
}

// endpointID parses the {id} route parameter; ok is false when it cannot be
// an endpoint id.
func endpointID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

func endpointNotFound(r *http.Request) *apiError {
	return notFound("Webhook endpoint " + chi.URLParam(r, "id") + " was not found.")
}

// webhookError maps the webhook store errors, then falls back to writeError.
// Another account's endpoint is a 404, never a 403.
func (s *Server) webhookError(w http.ResponseWriter, r *http.Request, err error, missing *apiError) {
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		err = missing
	case errors.Is(err, eventstore.ErrEndpointDisabled):
		err = &apiError{Status: http.StatusConflict, Title: "Conflict",
			Message: "The webhook endpoint is disabled (it answered 410 Gone); nothing can be sent to it."}
	case errors.Is(err, eventstore.ErrEndpointPaused):
		err = &apiError{Status: http.StatusConflict, Title: "Conflict",
			Message: "The webhook endpoint is paused; resume it first (POST .../resume)."}
	case errors.Is(err, eventstore.ErrDeliveryPending):
		err = &apiError{Status: http.StatusConflict, Title: "Conflict",
			Message: "The delivery is still pending; it will be attempted at its next_attempt_at."}
	}
	s.writeError(w, r, err)
}

// getWebhookEndpoint is GET /api/v1/webhook-endpoints/{id}.
func (s *Server) getWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	id, ok := endpointID(r)
	if !ok {
		s.writeError(w, r, endpointNotFound(r))
		return
	}
	ep, err := s.store.Endpoint(r.Context(), accountFrom(r.Context()).ID, id)
	if err != nil {
		s.webhookError(w, r, err, endpointNotFound(r))
		return
	}
	writeJSON(w, http.StatusOK, viewEndpoint(ep))
}

// secretRotated is the 200 body of POST
// /api/v1/webhook-endpoints/{id}/rotate-secret: the endpoint and its new
// secret, shown this once.
type secretRotated struct {
	endpointView
	Secret                  string    `json:"secret"`
	PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at"`
}

// rotateWebhookSecret is POST /api/v1/webhook-endpoints/{id}/rotate-secret:
// a new secret, returned once. For 24 hours deliveries carry signatures
// with both the new and the previous secret, so the receiver can switch
// without losing any.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	endpointRoute(s, http.StatusOK, s.rotateEndpointSecret)(w, r)
}

// rotateEndpointSecret gives the account's endpoint id a new secret (see
// eventstore.WebhookEndpoints.RotateEndpointSecret), for the JSON API.
func (s *Server) rotateEndpointSecret(ctx context.Context, accountID, id int64) (secretRotated, error) {
	return s.rotateEndpointSecretFor(ctx, accountID, id, "")
}

// rotateEndpointSecretFor is rotateEndpointSecret for the dashboard's form
// formID ("" for none): once per form (eventstore.ErrFormUsed after).
func (s *Server) rotateEndpointSecretFor(ctx context.Context, accountID, id int64, formID string) (secretRotated, error) {
	now := s.now()
	rotate := s.store.RotateEndpointSecret
	if formID != "" {
		rotate = func(ctx context.Context, accountID, id int64, now time.Time) (eventstore.WebhookEndpoint, error) {
			return s.store.RotateEndpointSecretOnce(ctx, accountID, id, now, formID)
		}
	}
	ep, err := rotate(ctx, accountID, id, now)
	if err != nil {
		return secretRotated{}, err
	}
	return secretRotated{endpointView: viewEndpoint(ep), Secret: ep.Secret,
		PreviousSecretExpiresAt: now.Add(eventstore.WebhookSecretOverlap).UTC().Truncate(time.Microsecond)}, nil
}

// deleteWebhookEndpoint is DELETE /api/v1/webhook-endpoints/{id}: a soft
// delete; its pending deliveries stop.
func (s *Server) deleteWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	id, ok := endpointID(r)
	if !ok {
		s.writeError(w, r, endpointNotFound(r))
		return
	}
	if err := s.store.DeleteEndpoint(r.Context(), accountFrom(r.Context()).ID, id); err != nil {
		s.webhookError(w, r, err, endpointNotFound(r))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listWebhookDeliveries is GET /api/v1/webhook-endpoints/{id}/deliveries
// ?limit=&offset=: the delivery log, newest delivery first.
func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, ok := endpointID(r)
	if !ok {
		s.writeError(w, r, endpointNotFound(r))
		return
	}
	limit, offset, err := pageParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, total, err := s.store.ListDeliveries(r.Context(), accountFrom(r.Context()).ID, id, limit, offset)
	if err != nil {
		s.webhookError(w, r, err, endpointNotFound(r))
		return
	}
	page := deliveryPage{Items: make([]deliveryView, len(ds)), TotalItems: total, Limit: limit, Offset: offset}
	for i, d := range ds {
		page.Items[i] = viewDelivery(d)
	}
	writeJSON(w, http.StatusOK, page)
}

// pageParams reads ?limit= (1..100, default 20) and ?offset= (default 0).
func pageParams(r *http.Request) (limit, offset int, err error) {
	var ve domain.ValidationError
	q := r.URL.Query()
	limit, offset = defaultDeliveryLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveryLimit {
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxDeliveryLimit)+".")
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000_000 {
			ve.Add("offset", "The offset must be a non-negative integer.")
		}
		offset = n
	}
	return limit, offset, ve.OrNil()
}

// resendWebhookDelivery is POST
// /api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend: a finished
// delivery is sent again (same webhook-id), 202 with its new state.
func (s *Server) resendWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	missing := notFound("Delivery " + chi.URLParam(r, "delivery_id") + " of webhook endpoint " +
		chi.URLParam(r, "id") + " was not found.")
	id, ok := endpointID(r)
	deliveryID, err := strconv.ParseInt(chi.URLParam(r, "delivery_id"), 10, 64)
	if !ok || err != nil || deliveryID <= 0 {
		s.writeError(w, r, missing)
		return
	}
	d, err := s.store.Resend(r.Context(), accountFrom(r.Context()).ID, id, deliveryID)
	if err != nil {
		s.webhookError(w, r, err, missing)
		return
	}
	writeJSON(w, http.StatusAccepted, briefDelivery(d))
}

// endpointRoute is a POST /api/v1/webhook-endpoints/{id}/... that runs
// act on the account's endpoint {id} and answers status with what it
// returns; an id that cannot be an endpoint's, or another account's
// endpoint, is a 404 (webhookError maps the rest).
func endpointRoute[T any](s *Server, status int, act func(ctx context.Context, accountID, id int64) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := endpointID(r)
		if !ok {
			s.writeError(w, r, endpointNotFound(r))
			return
		}
		out, err := act(r.Context(), accountFrom(r.Context()).ID, id)
		if err != nil {
			s.webhookError(w, r, err, endpointNotFound(r))
			return
		}
		writeJSON(w, status, out)
	}
}

// endpointViewed adapts an endpoint action (pause, resume) to answer with
// the endpoint as viewed.
func endpointViewed(act func(ctx context.Context, accountID, id int64) (eventstore.WebhookEndpoint, error)) func(context.Context, int64, int64) (endpointView, error) {
	return func(ctx context.Context, accountID, id int64) (endpointView, error) {
		ep, err := act(ctx, accountID, id)
		return viewEndpoint(ep), err
	}
}

// testWebhookEndpoint is POST /api/v1/webhook-endpoints/{id}/test: a
// test delivery (sendTestEvent), 202 with its state.
func (s *Server) testWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	endpointRoute(s, http.StatusAccepted, func(ctx context.Context, accountID, id int64) (deliveryBrief, error) {
		d, err := s.sendTestEvent(ctx, accountID, id)
		return briefDelivery(d), err
	})(w, r)
}

// testEventData is the data of a test delivery.
type testEventData struct {
	EndpointID int64  `json:"endpoint_id"`
	Message    string `json:"message"`
}

// sendTestEvent queues a delivery of type domain.WebhookTestEvent to the
// account's endpoint id: body {"event":"webhook.test","timestamp":...,
// "data":{"endpoint_id":...,"message":...}}, a new webhook-id, signed,
// retried and logged like every delivery. It is not an event: nothing is
// appended to the event store and no other endpoint gets it. Refused
// (eventstore.ErrEndpointDisabled, ErrEndpointPaused) when nothing may be
// sent to the endpoint.
func (s *Server) sendTestEvent(ctx context.Context, accountID, id int64) (eventstore.Delivery, error) {
	body, err := json.Marshal(struct {
		Event     string        `json:"event"`
		Timestamp string        `json:"timestamp"`
		Data      testEventData `json:"data"`
	}{domain.WebhookTestEvent, s.now().UTC().Format(time.RFC3339Nano),
		testEventData{EndpointID: id, Message: "This is a test event from Good Plan; it changes nothing."}})
	if err != nil {
		return eventstore.Delivery{}, err
	}
	return s.store.EnqueueTest(ctx, accountID, eventstore.NewDelivery{EndpointID: id, EventID: uuid.New(),
		EventType: domain.WebhookTestEvent, Payload: body})
}
