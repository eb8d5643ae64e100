package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"goodplan/domain"
	"goodplan/projections"
)

// Page sizes of GET /api/v1/plans.
const (
	defaultPageSize = 20
	maxPageSize     = 100
	// maxOffset bounds offset paging: a page at offset n reads n index
	// entries before it (a few hundred milliseconds at 500,000), so deeper
	// pages are paged with starting_after, which costs the same at any
	// depth.
	maxOffset = 10_000
	// maxSearchLength bounds each search parameter.
	maxSearchLength = 200
)

// appendPlanList appends GET /api/v1/plans's body for page:
// {"items":[...],"total_items":N,"limit":L,"offset":O,"has_more":B}, the
// items as the read model gives them (the JSON of each projections.Detail,
// written as it is: decoding and encoding them again was most of a page's
// cost). Offset is 0 for a page chosen by starting_after or ending_before.
func appendPlanList(b []byte, page projections.ListPageJSON, limit, offset int) []byte {
	b = append(b, `{"items":[`...)
	for i, item := range page.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	b = append(b, `],"total_items":`...)
	b = strconv.AppendInt(b, page.Total, 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(limit), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(offset), 10)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, page.HasMore)
	return append(b, '}')
}

// listPlans is GET /api/v1/plans?limit=&offset=&starting_after=&ending_before=
// &status=&updated_after=&email=&customer_name=&invoice_number=, newest
// first, from the read model. Paging follows Stripe's convention:
// starting_after (a plan id) is the page after that plan, ending_before the
// page before it; has_more says whether there are more in that direction.
// A cursor that names no plan of the account is a 400 (Stripe's
// resource_missing); both cursors, or a cursor with an offset, a 400.
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	lq := projections.ListQuery{AccountID: accountFrom(ctx).ID, Limit: defaultPageSize}
	var ve domain.ValidationError
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxPageSize)+".")
		}
		lq.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 0:
			ve.Add("offset", "The offset must be a non-negative integer.")
		case n > maxOffset:
			ve.Add("offset", "The offset must be at most "+strconv.Itoa(maxOffset)+
				"; page further with starting_after (the last plan_id of a page).")
		}
		lq.Offset = n
	}
	lq.StartingAfter = cursorParam(q.Get("starting_after"), "starting_after", &ve)
	lq.EndingBefore = cursorParam(q.Get("ending_before"), "ending_before", &ve)
	if v := q.Get("status"); v != "" {
		if !domain.IsStatus(v) {
			ve.Add("status", "The status must be one of "+strings.Join(domain.StatusNames(), ", ")+".")
		}
		lq.Status = v
	}
	if v := q.Get("updated_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			ve.Add("updated_after", "The updated_after must be an RFC 3339 timestamp, e.g. 2025-11-27T01:15:30Z.")
		}
		lq.UpdatedAfter = t
	}
	lq.Email = searchParam(q, "email", &ve)
	lq.CustomerName = searchParam(q, "customer_name", &ve)
	lq.InvoiceNumber = searchParam(q, "invoice_number", &ve)
	if err := ve.OrNil(); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case lq.StartingAfter > 0 && lq.EndingBefore > 0:
		s.writeError(w, r, badRequest("Conflicting parameters",
			"Give starting_after or ending_before, not both."))
		return
	case (lq.StartingAfter > 0 || lq.EndingBefore > 0) && q.Get("offset") != "":
		s.writeError(w, r, badRequest("Conflicting parameters",
			"Give offset or a cursor (starting_after, ending_before), not both."))
		return
	}
	page, err := s.plans.PageJSON(ctx, lq, s.publicURL)
	var ce *projections.CursorError
	if errors.As(err, &ce) {
		err = &apiError{Status: http.StatusBadRequest, Title: "Resource missing",
			Message: "No such plan: " + strconv.FormatInt(ce.PlanID, 10) + " (" + ce.Param + ")."}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	size := 100
	for _, item := range page.Items {
		size += len(item) + 1
	}
	writeJSONBytes(w, http.StatusOK, appendPlanList(make([]byte, 0, size), page, lq.Limit, lq.Offset))
}

// cursorParam parses a starting_after or ending_before value (a plan id),
// or adds its field error to ve; 0 when absent.
func cursorParam(v, name string, ve *domain.ValidationError) int64 {
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		ve.Add(name, "The "+name+" must be a plan_id (a positive integer).")
		return 0
	}
	return id
}

// searchParam is the search parameter name of q, trimmed, or adds its
// field error to ve (too long, or not text that can be stored).
func searchParam(q map[string][]string, name string, ve *domain.ValidationError) string {
	vs := q[name]
	if len(vs) == 0 {
		return ""
	}
	v := strings.TrimSpace(vs[0])
	switch {
	case len(vs) == 1 && vs[0] == "":
		return ""
	case v == "":
		ve.Add(name, "The "+name+" must not be blank.")
	case len(v) > maxSearchLength:
		ve.Add(name, "The "+name+" must be at most "+strconv.Itoa(maxSearchLength)+" bytes.")
	case !utf8Text(v):
		ve.Add(name, "The "+name+" must be text (UTF-8, no control characters).")
	}
	return v
}

// utf8Text reports whether v is valid UTF-8 without control characters
// (PostgreSQL's text refuses NUL).
func utf8Text(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}
