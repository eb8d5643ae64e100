package api

import (
	"net/http"
	"strconv"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// Page sizes of GET /api/v1/plans/{id}/events.
const (
	defaultEventsPage = 100
	maxEventsPage     = 1000
)

// getPlanEvents is GET /api/v1/plans/{id}/events?after=&limit=: a page of
// the plan's history as stored, oldest first, with each event's hash so it
// can be checked: the events after version `after` (default 0, the
// start), at most `limit` (1-1000, default 100), and has_more when the
// stream goes on (the next page is after the last item's version). A page
// is read by the (stream_id, version) key: its cost does not depend on the
// plan's age.
func (s *Server) getPlanEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), defaultEventsPage
	var ve domain.ValidationError
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			ve.Add("after", "The after must be a non-negative integer (an event version).")
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventsPage {
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxEventsPage)+".")
		}
		limit = n
	}
	if err := ve.OrNil(); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, head, err := s.loadOwnPlan(r.Context(), r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var recs []eventstore.Record
	if last := min(after+int64(limit), head.Version); last > after {
		if recs, err = s.store.LoadRange(r.Context(), eventstore.PlanStream(p.ID()), after+1, last); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, projections.EventsView{PlanID: p.ID(), Items: projections.EventViews(recs),
		HasMore: after+int64(len(recs)) < head.Version})
}
