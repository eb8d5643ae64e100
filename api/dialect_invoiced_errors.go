package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
)

// The Invoiced dialect's errors: {"type","message","param"} as Invoiced
// documents them, type "invalid_request" for every 4xx (the client's to
// fix: 400, 401, 404, 405, 409, 413, 415, 429) and "api" for every 5xx,
// param naming the request field at fault when there is one. Clients tell
// the cases apart by the HTTP status, as Invoiced's own libraries do.
// Validation problems, a duplicate id and a reused Idempotency-Key are
// 400s (the dialect knows no 422); a request beyond the body limit or a
// hostile form is a 400 too.

// The dialect's error types.
const (
	invoicedInvalidRequest = "invalid_request"
	invoicedAPIError       = "api"
)

// invoicedError is the dialect's error body, and an error carrying its
// status.
type invoicedError struct {
	status  int
	Type    string `json:"type"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

func (e *invoicedError) Error() string { return e.Type + ": " + e.Message }

// invoicedBadRequest is a 400 without a param.
func invoicedBadRequest(msg string) *invoicedError {
	return &invoicedError{status: http.StatusBadRequest, Type: invoicedInvalidRequest, Message: msg}
}

// invoicedBadParam is a 400 naming param.
func invoicedBadParam(param, msg string) *invoicedError {
	e := invoicedBadRequest(msg)
	e.Param = param
	return e
}

// errInvoicedNotFound is the 404 of the plan the route names (worded by
// writeInvoicedError).
var errInvoicedNotFound = notFound("The plan was not found.")

// invoicedErrorOf words a native client error in the dialect's shape: a
// 409 or 422 naming a field (a duplicate id) becomes a 400 naming it.
func invoicedErrorOf(ae *apiError) *invoicedError {
	e := &invoicedError{status: ae.Status, Type: invoicedInvalidRequest, Message: ae.Message}
	if e.Message == "" {
		e.Message = ae.Title + "."
	}
	if ae.Status >= 500 {
		e.Type = invoicedAPIError
	}
	if fields := slices.Sorted(maps.Keys(ae.Fields)); len(fields) > 0 {
		e.Param = invoicedParam(fields[0])
		if ae.Status == http.StatusConflict || ae.Status == http.StatusUnprocessableEntity {
			e.status = http.StatusBadRequest
		}
	}
	if e.status == http.StatusUnprocessableEntity {
		e.status = http.StatusBadRequest // a reused Idempotency-Key
	}
	return e
}

// writeInvoicedError answers err in the dialect's shape.
func (s *Server) writeInvoicedError(w http.ResponseWriter, r *http.Request, err error) {
	var ie *invoicedError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ie):
	case errors.As(err, &ve):
		ie = invoicedValidation(ve)
	default:
		ie = invoicedErrorOf(s.apiErrorOf(r, err))
	}
	if id := chi.URLParam(r, "id"); ie.status == http.StatusNotFound && id != "" {
		ie.Message = "Plan " + strconv.Quote(id) + " was not found."
	}
	writeJSON(w, ie.status, ie)
}

// invoicedFieldOrder is the seed's order of a plan's fields: the param of
// a validation error is its first field with a problem in this order.
var invoicedFieldOrder = []string{"id", "name", "catalog_item", "currency", "amount", "pricing_mode",
	"quantity_type", "interval", "interval_count", "tiers", "metadata"}

// invoicedValidation turns every problem of ve into one 400: param the
// first field at fault (as the form names it: tiers[0][max_qty]), message
// every problem, fields in request order.
func invoicedValidation(ve *domain.ValidationError) *invoicedError {
	rank := func(f string) int {
		top, _, _ := strings.Cut(f, ".")
		for i, name := range invoicedFieldOrder {
			if name == top {
				return i
			}
		}
		return len(invoicedFieldOrder)
	}
	fields := slices.Sorted(maps.Keys(ve.Fields))
	sort.SliceStable(fields, func(i, j int) bool { return rank(fields[i]) < rank(fields[j]) })
	var msgs []string
	for _, f := range fields {
		param := invoicedParam(f)
		for i, msg := range ve.Fields[f] {
			if pr := ve.Problem(f, i); pr.Rule != "" {
				msg = "The " + param + " " + pr.Rule
			} else if rest, ok := strings.CutPrefix(msg, "The "+f+" "); ok {
				msg = "The " + param + " " + rest
			}
			msgs = append(msgs, msg)
		}
	}
	e := invoicedBadParam("", strings.Join(msgs, " "))
	if len(fields) > 0 {
		e.Param = invoicedParam(fields[0])
	}
	return e
}

// invoicedParam writes a field path as a form names it: tiers.0.max_qty
// is tiers[0][max_qty], metadata.a.b (the key "a.b") metadata[a.b].
func invoicedParam(field string) string {
	n := 2
	if strings.HasPrefix(field, "tiers.") {
		n = -1
	}
	parts := strings.SplitN(field, ".", n)
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		b.WriteString("[" + p + "]")
	}
	return b.String()
}
