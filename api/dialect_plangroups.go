package api

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/projections"
)

// The plan groups dialect (seed 001): /data/plan-groups over the same plan
// groups as the native API (the same commands, plan_groups.go), Bearer
// authentication, the seed's bodies. A group's plans are written
// [{"id": "starter"}] (catalog plans by public id) and, goodplan's
// extension, {"id": "42", "type": "payment_plan"}. The seed documents no
// error body; every error here is
// {"success": false, "error": title, "message": text} with, on a 422,
// "errors": {field: [messages]} (fields as the body names them:
// "plans.1.id").

// dataCatalogPlan is a catalog plan in a group, exactly the seed's keys.
type dataCatalogPlan struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	BillingFreq      string `json:"billing_freq"`
	BillingFreqCount int    `json:"billing_freq_count"`
	ProductName      string `json:"product_name"`
	Currency         string `json:"currency"`
}

// dataPaymentPlan is a payment plan in a group: name is the invoice
// number, else the customer's name; amount the invoice amount.
type dataPaymentPlan struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
	Status   string `json:"status"`
}

// dataGroup is a group in the seed's list.
type dataGroup struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Plans []any  `json:"plans"`
}

// dataGroupList is GET /data/plan-groups's body.
type dataGroupList struct {
	Result struct {
		Count int         `json:"count"`
		List  []dataGroup `json:"list"`
	} `json:"result"`
}

// dataSuccess answers the commands.
type dataSuccess struct {
	Success bool   `json:"success"`
	ID      string `json:"id"`
}

// dataError is the dialect's error body.
type dataError struct {
	Success bool                `json:"success"`
	Error   string              `json:"error"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

// dataErrorOf words e in the dialect's shape; a 422's message is its
// problems, field by field.
func dataErrorOf(e *apiError) dataError {
	d := dataError{Error: e.Title, Message: e.Message, Errors: e.Fields}
	if d.Message == "" && len(e.Fields) > 0 {
		fields := make([]string, 0, len(e.Fields))
		for f := range e.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		msgs := make([]string, 0, len(fields))
		for _, f := range fields {
			msgs = append(msgs, e.Fields[f]...)
		}
		d.Message = strings.Join(msgs, " ")
	}
	if d.Message == "" {
		d.Message = e.Title + "."
	}
	return d
}

// dataKeySource reads the Bearer key; a missing or unknown key is a 401 in
// the dialect's shape.
var dataKeySource = keySource{
	key: bearerSource.key,
	unauthorized: func(w http.ResponseWriter) {
		writeJSON(w, http.StatusUnauthorized, dataErrorOf(&apiError{Title: "API key required",
			Message: "Send the API key in the Authorization header: Bearer YOUR_API_KEY."}))
	},
	body: func(e *apiError) any { return dataErrorOf(e) },
}

// planGroupDialectRoutes mounts the dialect at /data.
func (s *Server) planGroupDialectRoutes(r chi.Router) {
	r.Route("/data", func(r chi.Router) {
		r.Use(s.authenticateBy(dataKeySource))
		r.Get("/plan-groups", s.listDataGroups)
		r.Post("/plan-groups", s.createDataGroup)
		r.Put("/plan-groups/{id}", s.replaceDataGroup)
		r.Delete("/plan-groups/{id}", s.deleteDataGroup)
		r.Delete("/plans", s.deleteDataGroupByBody)
	})
}

// writeDataError answers err in the dialect's shape, with writeError's
// status.
func (s *Server) writeDataError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.errorBody(r, err)
	writeJSON(w, status, dataErrorOf(&body))
}

// answerData answers a command: 200 {"success": true, "id"}, or err.
func (s *Server) answerData(w http.ResponseWriter, r *http.Request, out groupOutcome, err error) {
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	markReplayed(w, out)
	writeJSON(w, http.StatusOK, dataSuccess{Success: true, ID: out.State.PublicID().String()})
}

// dataDefaultLimit is GET /data/plan-groups's limit when none is given.
const dataDefaultLimit = 100

// listDataGroups is GET /data/plan-groups?limit=N: the account's groups
// not deleted, newest first, at most limit (1..100, default 100); count is
// all of them.
func (s *Server) listDataGroups(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	acct := accountFrom(ctx).ID
	limit := dataDefaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			var ve domain.ValidationError
			ve.Add("limit", "The limit must be an integer between 1 and "+strconv.Itoa(maxPageSize)+".")
			s.writeDataError(w, r, &ve)
			return
		}
		limit = n
	}
	count, err := s.planGroups.Count(ctx, acct)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	groups, _, err := s.planGroups.List(ctx, acct, limit, uuid.Nil)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	list, err := s.dataGroups(r, acct, groups)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	var body dataGroupList
	body.Result.Count, body.Result.List = count, list
	writeJSON(w, http.StatusOK, body)
}

// dataGroups shows groups in the dialect's shape, members in their order.
func (s *Server) dataGroups(r *http.Request, account int64, groups []projections.PlanGroup) ([]dataGroup, error) {
	ctx := r.Context()
	entries, err := s.planGroups.Entries(ctx, account, groups)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, es := range entries {
		for _, e := range es {
			if e.Payment > 0 {
				ids = append(ids, e.Payment)
			}
		}
	}
	payments, err := s.groupPaymentPlans(ctx, account, ids)
	if err != nil {
		return nil, err
	}
	out := make([]dataGroup, 0, len(groups))
	for i, g := range groups {
		v := dataGroup{ID: g.PublicID.String(), Name: g.Name, Plans: []any{}}
		for _, e := range entries[i] {
			if e.Payment == 0 {
				p := e.Catalog
				v.Plans = append(v.Plans, dataCatalogPlan{ID: p.ID, Name: p.Name, BillingFreq: string(p.Interval),
					BillingFreqCount: p.IntervalCount, ProductName: p.CatalogItem, Currency: strings.ToLower(p.Currency)})
				continue
			}
			p, ok := payments[e.Payment]
			if !ok {
				continue
			}
			name := p.InvoiceNumber
			if name == "" {
				name = p.CustomerName
			}
			v.Plans = append(v.Plans, dataPaymentPlan{ID: strconv.FormatInt(p.ID, 10), Type: string(domain.PaymentPlanMember),
				Name: name, Currency: strings.ToLower(p.Currency), Amount: p.Total.String(), Status: string(p.Status)})
		}
		out = append(out, v)
	}
	return out, nil
}

// createDataGroup is POST /data/plan-groups: 200 {"success": true, "id"}.
func (s *Server) createDataGroup(w http.ResponseWriter, r *http.Request) {
	body, req, err := readDataGroup(w, r)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	out, err := s.runCreateGroup(r, body, req)
	s.answerData(w, r, out, err)
}

// replaceDataGroup is PUT /data/plan-groups/{id}: name and plans replaced.
func (s *Server) replaceDataGroup(w http.ResponseWriter, r *http.Request) {
	body, req, err := readDataGroup(w, r)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	out, err := s.runReplaceGroup(r, body, chi.URLParam(r, "id"), req)
	s.answerData(w, r, out, err)
}

// deleteDataGroup is DELETE /data/plan-groups/{id}; the plans stay.
func (s *Server) deleteDataGroup(w http.ResponseWriter, r *http.Request) {
	out, err := s.runDeleteGroup(r, nil, chi.URLParam(r, "id"))
	s.answerData(w, r, out, err)
}

// deleteDataGroupByBody is the seed's literal DELETE /data/plans with
// {"id": "<group id>"}: the group is deleted, its plans stay.
func (s *Server) deleteDataGroupByBody(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	root, err := parseObject(body)
	if err != nil {
		s.writeDataError(w, r, err)
		return
	}
	var f fieldReader
	id := f.str(root, "id", "id")
	if id == "" && f.errs.Fields["id"] == nil {
		f.errs.Require("id")
	}
	if err := f.typeErrors(); err != nil {
		s.writeDataError(w, r, err)
		return
	}
	out, err := s.runDeleteGroup(r, body, id)
	s.answerData(w, r, out, err)
}
