package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"

	"goodplan/domain"
)

// The 4Geeks dialect's error bodies: {"detail": [...]} for validation
// (FastAPI's shape), {"detail": "message"} for the rest.

// writeGeeksError answers err in the dialect's shape: validation errors
// (and malformed bodies) 422 with a detail list, others {"detail": message}.
func (s *Server) writeGeeksError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *domain.ValidationError
	var ae *apiError
	switch {
	case errors.As(err, &ve):
		writeJSON(w, http.StatusUnprocessableEntity, geeksError{Detail: geeksDetails(ve)})
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		// FastAPI's answer to a body that is not a JSON object.
		writeJSON(w, http.StatusUnprocessableEntity, geeksError{Detail: []geeksDetail{
			{Loc: []string{"body"}, Msg: ae.Message, Type: "value_error.jsondecode"}}})
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		writeJSON(w, http.StatusNotFound, geeksError{Detail: "Not found"})
	default:
		// Any other error (409, 413, 429, 500, ...) keeps its status and
		// says its message as the detail.
		status, detail := s.plainError(r, err)
		writeJSON(w, status, geeksError{Detail: detail})
	}
}

// errorBody is what writeError answers err with: the status and the
// body, for a dialect to reword.
func (s *Server) errorBody(r *http.Request, err error) (int, apiError) {
	rec := &bodyRecorder{header: http.Header{}}
	s.writeError(rec, r, err)
	var body apiError
	_ = json.Unmarshal(rec.body, &body)
	return rec.status, body
}

// plainError returns the status writeError answers err with and its
// message (its title when it has none), for a dialect that words its
// errors its own way.
func (s *Server) plainError(r *http.Request, err error) (int, string) {
	status, body := s.errorBody(r, err)
	if body.Message == "" {
		return status, body.Title
	}
	return status, body.Message
}

// bodyRecorder keeps what writeError writes, to be reworded.
type bodyRecorder struct {
	header http.Header
	status int
	body   []byte
}

func (b *bodyRecorder) Header() http.Header    { return b.header }
func (b *bodyRecorder) WriteHeader(status int) { b.status = status }
func (b *bodyRecorder) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}

// geeksFieldOrder is the order of the request's fields in a detail list.
var geeksFieldOrder = map[string]int{"product_id": 0, "amount": 1, "currency": 2, "interval": 3}

// geeksDetails maps a ValidationError onto the detail list: the domain's
// catalog_item is product_id, CodeRequired is value_error.missing, a
// problem recorded with a type_error code keeps it, the rest value_error.
func geeksDetails(ve *domain.ValidationError) []geeksDetail {
	fields := make([]string, 0, len(ve.Fields))
	for f := range ve.Fields {
		fields = append(fields, f)
	}
	name := func(f string) string {
		if f == "catalog_item" {
			return "product_id"
		}
		return f
	}
	sort.Slice(fields, func(i, j int) bool {
		a, aok := geeksFieldOrder[name(fields[i])]
		b, bok := geeksFieldOrder[name(fields[j])]
		if aok != bok {
			return aok
		}
		if aok {
			return a < b
		}
		return fields[i] < fields[j]
	})
	out := []geeksDetail{}
	for _, f := range fields {
		for i, msg := range ve.Fields[f] {
			d := geeksDetail{Loc: []string{"body", name(f)}, Msg: msg, Type: "value_error"}
			pr := ve.Problem(f, i)
			if pr.Rule != "" {
				d.Msg = "The " + name(f) + " " + pr.Rule
			} else if rest, ok := strings.CutPrefix(msg, "The "+f+" "); ok {
				d.Msg = "The " + name(f) + " " + rest
			}
			switch {
			case pr.Code == domain.CodeRequired:
				d.Msg, d.Type = "field required", "value_error.missing"
			case pr.Code == codeTypeInteger:
				d.Msg, d.Type = "value is not a valid integer", string(pr.Code)
			case pr.Code == codeTypeStr:
				d.Msg, d.Type = "str type expected", string(pr.Code)
			}
			out = append(out, d)
		}
	}
	return out
}
