package api

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
)

// The Paygentic dialect's errors. The seed documents no error body, so the
// dialect uses one shape for every error, in the seed's camelCase:
// {"error":{"code","message"}}, plus "details" (one {field, code, message}
// per problem, fields named as in the request) on a 422. The statuses:
// 400 a body that is not a JSON object (or too large, unreadable, a bad
// Idempotency-Key), 401 a missing or unknown key, 403 a merchantId of
// another merchant, 404 a plan that is not the caller's, 409 a conflict,
// 422 field problems (a missing or malformed merchantId, an unknown price
// id, a bad billingInterval...) or an Idempotency-Key reused with another
// body (code idempotency_key_reused, no details), 429 the key's rate
// limit, 500 our fault.

// paygenticError is the dialect's error body.
type paygenticError struct {
	Error paygenticErrorBody `json:"error"`
}

// paygenticErrorBody is its one key's value.
type paygenticErrorBody struct {
	Code    string                `json:"code"`
	Message string                `json:"message"`
	Details []paygenticFieldError `json:"details,omitempty"`
}

// paygenticFieldError is one field problem of a 422.
type paygenticFieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// paygenticCodes are the error codes by status.
var paygenticCodes = map[int]string{
	http.StatusBadRequest: "invalid_request", http.StatusUnauthorized: "unauthorized",
	http.StatusForbidden: "forbidden", http.StatusNotFound: "not_found",
	http.StatusMethodNotAllowed: "method_not_allowed", http.StatusConflict: "conflict",
	http.StatusRequestEntityTooLarge: "payload_too_large", http.StatusUnprocessableEntity: "validation_error",
	http.StatusTooManyRequests: "rate_limited", http.StatusServiceUnavailable: "unavailable",
}

// paygenticErrorOf is the body of an error with status and message.
func paygenticErrorOf(status int, msg string) paygenticError {
	code, ok := paygenticCodes[status]
	if !ok {
		code = "internal_error"
	}
	return paygenticError{Error: paygenticErrorBody{Code: code, Message: msg}}
}

// paygenticKeySource reads the gp_ key from Authorization: Bearer, as the
// seed's curl sends it, and answers in the dialect's shape.
var paygenticKeySource = keySource{
	key: func(r *http.Request) (string, bool) { return bearerKey(r.Header.Get("Authorization")) },
	unauthorized: func(w http.ResponseWriter) {
		writeJSON(w, http.StatusUnauthorized, paygenticErrorOf(http.StatusUnauthorized,
			"Invalid or missing API key: send it as Authorization: Bearer <key>."))
	},
	body: func(e *apiError) any { return paygenticErrorOf(http.StatusTooManyRequests, e.Message) },
}

// writePaygenticError answers err in the dialect's shape: validation
// errors 422 with details, anything else with writeError's status and
// message.
func (s *Server) writePaygenticError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		d := paygenticDetails(ve)
		msg := "The request has " + strconv.Itoa(len(d)) + " invalid field"
		if len(d) != 1 {
			msg += "s"
		}
		body := paygenticErrorOf(http.StatusUnprocessableEntity, msg+": see details.")
		body.Error.Details = d
		writeJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	status, msg := s.plainError(r, err)
	if id := chi.URLParam(r, "id"); status == http.StatusNotFound && id != "" {
		msg = "Plan " + strconv.Quote(id) + " was not found."
	}
	body := paygenticErrorOf(status, msg)
	if errors.Is(err, eventstore.ErrCommandReused) {
		body.Error.Code = "idempotency_key_reused"
	}
	writeJSON(w, status, body)
}

// paygenticFieldNames maps the domain's field names onto the request's.
var paygenticFieldNames = map[string]string{
	"invoice_display_name": "invoiceDisplayName", "catalog_item": "productId", "amount": "price",
	"interval": "billingInterval", "interval_count": "billingInterval",
	"payment_options.credits": "paymentOptions.credits", "standard_price_id": "price",
}

// paygenticFieldOrder is the order of the request's fields in details.
var paygenticFieldOrder = map[string]int{"name": 0, "merchantId": 1, "invoiceDisplayName": 2, "description": 3,
	"billingInterval": 4, "currency": 5, "productId": 6, "tax": 7, "prices": 8, "price": 9, "paymentOptions": 10}

// paygenticFields renames the domain's fields of err as the request names
// them; any other error is returned as it is.
func paygenticFields(err error) error {
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	fields := make([]string, 0, len(ve.Fields))
	for f := range ve.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	out := &domain.ValidationError{}
	for _, f := range fields {
		name, ok := paygenticFieldNames[f]
		if !ok {
			name = f
		}
		for i, msg := range ve.Fields[f] {
			pr := ve.Problem(f, i)
			switch {
			case f == "interval_count":
				out.AddRule(name, pr.Code, "must count 1 to "+strconv.Itoa(domain.MaxIntervalCount)+" periods (P1M to P"+
					strconv.Itoa(domain.MaxIntervalCount)+"M).")
			case pr.Rule != "":
				out.AddRule(name, pr.Code, pr.Rule)
			default:
				if rest, ok := strings.CutPrefix(msg, "The "+f+" "); ok {
					msg = "The " + name + " " + rest
				}
				out.Add(name, msg)
			}
		}
	}
	return out
}

// paygenticDetails lists ve's problems in the request's field order.
func paygenticDetails(ve *domain.ValidationError) []paygenticFieldError {
	fields := make([]string, 0, len(ve.Fields))
	for f := range ve.Fields {
		fields = append(fields, f)
	}
	rank := func(f string) int {
		top, _, _ := strings.Cut(f, ".")
		if r, ok := paygenticFieldOrder[top]; ok {
			return r
		}
		return len(paygenticFieldOrder)
	}
	sort.Slice(fields, func(i, j int) bool {
		if a, b := rank(fields[i]), rank(fields[j]); a != b {
			return a < b
		}
		return fields[i] < fields[j]
	})
	out := []paygenticFieldError{}
	for _, f := range fields {
		for i, msg := range ve.Fields[f] {
			out = append(out, paygenticFieldError{Field: f, Code: string(ve.Problem(f, i).Code), Message: msg})
		}
	}
	return out
}
