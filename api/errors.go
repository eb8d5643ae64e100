package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"goodplan/domain"
	"goodplan/eventstore"
)

// apiError is what a client sees: a status, the "error" title and a message.
// The error logged for operators is separate and never shown.
type apiError struct {
	Status  int                 `json:"-"`
	Title   string              `json:"error"`
	Message string              `json:"message,omitempty"`
	Fields  map[string][]string `json:"errors,omitempty"`
}

func (e *apiError) Error() string { return e.Title + ": " + e.Message }

// The seed's bodies, reproduced byte for byte.
var (
	errAPIKeyRequired = &apiError{Status: http.StatusUnauthorized, Title: "API key required",
		Message: "Please provide an API key in the Authorization header"}
	errPlanLimit = &apiError{Status: http.StatusForbidden, Title: "Plan limit reached",
		Message: "Your subscription plan limit has been reached."}
)

func badRequest(title, msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Title: title, Message: msg}
}

func notFound(msg string) *apiError {
	return &apiError{Status: http.StatusNotFound, Title: "Not found", Message: msg}
}

// codes maps store and domain sentinels to client errors; anything else is
// an internal error (benbjohnson/wtf's codes map).
var codes = []struct {
	err error
	api *apiError
}{
	{eventstore.ErrPlanLimitReached, errPlanLimit},
	{eventstore.ErrVersionConflict, &apiError{Status: http.StatusConflict, Title: "Conflict",
		Message: "The plan was changed by another request; retry with its current state."}},
	{eventstore.ErrCommandReused, &apiError{Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused",
		Message: "This Idempotency-Key was already used with a different request."}},
	{domain.ErrPlanExists, &apiError{Status: http.StatusConflict, Title: "Conflict", Message: "The plan already exists."}},
	{eventstore.ErrEventTooLarge, &apiError{Status: http.StatusRequestEntityTooLarge, Title: "Event too large",
		Message: "This request would record an event larger than " + strconv.Itoa(eventstore.MaxEventBytes>>10) +
			" KiB (its data and metadata); nothing was recorded. Send shorter values."}},
}

// statusClientClosedRequest is nginx's 499: the client went away before
// the answer (its request's context was canceled). Nothing reaches the
// client; the status is for the request log and the metrics, so a client
// giving up is not counted as a failure of ours.
const statusClientClosedRequest = 499

var errClientClosed = &apiError{Status: statusClientClosedRequest, Title: "Client closed request",
	Message: "The client went away before the answer."}

// clientGone reports whether r's client went away: the server cancels a
// request's context when its connection closes, and whatever the handler
// was waiting on then fails with context.Canceled (or a driver error
// wrapping it).
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// writeError sends err as the JSON error body. Validation errors become the
// seed's 422 body; unknown errors are logged and shown as a plain 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.apiErrorOf(r, err)
	if ae.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, ae.Status, ae)
}

// apiErrorOf is the client error writeError answers err with (a dialect
// rewords it in its own shape); an unknown error is logged here and
// becomes a plain 500.
func (s *Server) apiErrorOf(r *http.Request, err error) *apiError {
	var ae *apiError
	var ve *domain.ValidationError
	var se *domain.StateError
	var ce *domain.ConflictError
	var ne *domain.NotFoundError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &se):
		ae = &apiError{Status: http.StatusConflict, Title: "Invalid state", Message: stateMessage(se)}
	case errors.As(err, &ce):
		ae = &apiError{Status: http.StatusConflict, Title: "Conflict", Message: stateMessage(ce)}
	case errors.As(err, &ne):
		ae = &apiError{Status: http.StatusNotFound, Title: "Not found", Message: stateMessage(ne)}
	case errors.As(err, &ve):
		// The seed's 422 body has no "message": {"error":"Validation failed","errors":{...}}.
		ae = &apiError{Status: http.StatusUnprocessableEntity, Title: "Validation failed", Fields: ve.Fields}
	default:
		for _, c := range codes {
			if errors.Is(err, c.err) {
				ae = c.api
				break
			}
		}
	}
	if ae == nil && clientGone(r) {
		s.log.InfoContext(r.Context(), "request canceled by the client", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = errClientClosed
	}
	if ae == nil && eventstore.IsUnavailable(err) {
		s.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusServiceUnavailable, Title: "Service unavailable",
			Message: "The database is not answering right now; retry the request shortly (with the same Idempotency-Key)."}
	}
	if ae == nil {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Title: "Internal server error",
			Message: "Something went wrong on our side; the request may be retried."}
	}
	return ae
}

// writeJSON writes v as compact JSON with status. API responses carry
// private data, so no cache may keep them, and they are never to be
// sniffed as another content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"error":"Internal server error","message":"The response could not be encoded."}`)
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes writes b, JSON, as writeJSON writes a value.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
