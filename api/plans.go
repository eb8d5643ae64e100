package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// createPlan is POST /api/v1/plans: the seed's request, its 201 body.
func (s *Server) createPlan(w http.ResponseWriter, r *http.Request) {
	out, created, err := s.runCreatePlan(w, r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	w.Header().Set("Location", "/api/v1/plans/"+strconv.FormatInt(created.PlanID, 10))
	writeJSON(w, http.StatusCreated, s.summary(created))
}

// planQuote is POST /api/v1/plans/quote's answer.
type planQuote struct {
	PlanOptions []projections.OptionBrief `json:"plan_options"`
}

// quotePlan is POST /api/v1/plans/quote: the create's body, answered 200
// with the plan_options the create would answer (each option's id 0: ids
// are given when a plan is created). It is the create command run dry
// (eventstore.Cmd.DryRun): the same decoder, decision and errors, and
// nothing recorded, neither event, email, Idempotency-Key (checked for
// shape only) nor plan of the account's plan limit.
func (s *Server) quotePlan(w http.ResponseWriter, r *http.Request) {
	_, created, err := s.runCreatePlan(w, r, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, planQuote{PlanOptions: s.summary(created).PlanOptions})
}

// runCreatePlan runs the create command of r's body, for real or dry (a
// quote: no id allocated, nothing appended), and returns its outcome and
// the plan.created it decided.
func (s *Server) runCreatePlan(w http.ResponseWriter, r *http.Request, dry bool) (planOutcome, domain.PlanCreated, error) {
	acct := accountFrom(r.Context())
	body, err := readBody(w, r)
	if err != nil {
		return planOutcome{}, domain.PlanCreated{}, err
	}
	// A malformed body is refused before anything else, a replay included:
	// its canonical hash could match another body's.
	cmd, typeErrs, err := decodeCreatePlan(body)
	if err != nil {
		return planOutcome{}, domain.PlanCreated{}, err
	}
	c := planCommand{Start: true, DryRun: dry, Meta: s.metadata(r, acct)}
	if err := idempotent(r, acct, requestHash(body), &c); err != nil {
		return planOutcome{}, domain.PlanCreated{}, err
	}
	return s.runCreate(r.Context(), acct, cmd, typeErrs, c)
}

// runCreate runs the create command cmd for account acct, with typeErrs
// (the decoder's, or nil) added to the domain's field errors, as c says
// (its metadata, command id and request hash, DryRun): the one create
// path of the API, its quote and the dashboard's form.
func (s *Server) runCreate(ctx context.Context, acct eventstore.Account, cmd domain.CreatePlan,
	typeErrs *domain.ValidationError, c planCommand) (planOutcome, domain.PlanCreated, error) {
	c.Start = true
	if acct.PlanLimit != nil {
		c.Options = append(c.Options, eventstore.WithPlanQuota(acct.ID))
	}
	cmd.AccountID = acct.ID
	cmd.Now = s.now()
	// Every id the plan needs is allocated before deciding: the plan's,
	// the customer's, the invoice's and one per option. A quote's are 0.
	ids := make([]int64, 3+cmd.OptionCount())
	if !c.DryRun {
		var err error
		if ids, err = s.newIDs(ctx, len(ids)); err != nil {
			return planOutcome{}, domain.PlanCreated{}, err
		}
	}
	cmd.PlanID, cmd.CustomerID, cmd.InvoiceID, cmd.OptionIDs = ids[0], ids[1], ids[2], ids[3:]
	cmd.PortalToken = portalToken(cmd.PlanID, newPortalSecret())
	c.ID = cmd.PlanID
	c.Decide = func(p *domain.Plan) ([]domain.Event, error) {
		events, err := p.CreatePlan(cmd)
		return events, mergeValidation(typeErrs, err)
	}
	out, err := s.runPlan(ctx, c)
	if errors.Is(err, eventstore.ErrCommandReused) {
		// Create has one body and no path to differ: say so, as before.
		err = &apiError{Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused",
			Message: "This Idempotency-Key was already used with a different request body."}
	}
	if err != nil {
		return planOutcome{}, domain.PlanCreated{}, err
	}
	created, err := createdOf(out)
	return out, created, err
}

// createdOf returns the plan.created event a create command decided (or,
// replayed, first decided).
func createdOf(out planOutcome) (domain.PlanCreated, error) {
	if len(out.Events) == 0 {
		return domain.PlanCreated{}, errors.New("create command has no events")
	}
	created, ok := out.Events[0].(domain.PlanCreated)
	if !ok {
		return domain.PlanCreated{}, fmt.Errorf("create command's first event is %T, not plan.created", out.Events[0])
	}
	return created, nil
}

// mergeValidation adds the domain's field errors to the decoder's type
// errors, keeping the type error where both name the same field.
func mergeValidation(typeErrs *domain.ValidationError, err error) error {
	if typeErrs == nil {
		return err
	}
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		for field, msgs := range ve.Fields {
			if _, taken := typeErrs.Fields[field]; !taken {
				for _, m := range msgs {
					typeErrs.Add(field, m)
				}
			}
		}
	}
	return typeErrs
}

// newPortalSecret returns 256 random bits, URL-safe (43 characters).
func newPortalSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// portalToken is the portal token of plan planID with secret: the plan id,
// a dot and the secret ("42.Z3wh7c..."). The id in front lets the portal
// fold the plan from the event store the moment its event is committed, on
// any replica, without waiting for the read model; the secret is checked
// against the plan's current token.
func portalToken(planID int64, secret string) string {
	return strconv.FormatInt(planID, 10) + "." + secret
}

// planIDOfToken returns the plan id a token made by portalToken names,
// and false for a token of another shape (links sent before ids were put in
// tokens: 43 characters, found through the read model).
func planIDOfToken(token string) (int64, bool) {
	head, secret, ok := strings.Cut(token, ".")
	if !ok || len(secret) != 43 || head == "" || len(head) > 19 || head[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(head) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(head, 10, 64)
	return id, err == nil
}

// metadata records that the merchant acted, and from where (see
// requestOrigin).
func (s *Server) metadata(r *http.Request, acct eventstore.Account) eventstore.Metadata {
	return s.metadataFor(r, acct.ID, "merchant")
}

// planID parses the {id} route parameter.
func planID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return id, err == nil && id > 0
}

// loadOwnPlan loads the plan named in the route, as it is now, with its
// stream head, if it belongs to the authenticated account. Another
// account's plan is a 404, never a 403.
func (s *Server) loadOwnPlan(ctx context.Context, r *http.Request) (*domain.Plan, eventstore.Head, error) {
	id, ok := planID(r)
	missing := notFound("Plan " + chi.URLParam(r, "id") + " was not found.")
	if !ok {
		return nil, eventstore.Head{}, missing
	}
	p, head, err := s.store.CurrentPlan(ctx, id)
	if errors.Is(err, eventstore.ErrNotFound) || (err == nil && p.AccountID() != accountFrom(ctx).ID) {
		return nil, eventstore.Head{}, missing
	}
	return p, head, err
}

// getPlan is GET /api/v1/plans/{id}, served from the read model. A plan the
// projection has not reached yet (it was created a moment ago) is folded from
// the event store instead, so a merchant can always read what it just wrote.
func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := planID(r)
	if !ok {
		s.writeError(w, r, notFound("Plan "+chi.URLParam(r, "id")+" was not found."))
		return
	}
	d, err := s.plans.Get(ctx, accountFrom(ctx).ID, id, s.publicURL)
	if errors.Is(err, eventstore.ErrNotFound) {
		var p *domain.Plan
		if p, _, err = s.loadOwnPlan(ctx, r); err == nil {
			d = projections.DetailOf(p, s.publicURL)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// summary renders a just-created plan as the seed's 201 body.
func (s *Server) summary(e domain.PlanCreated) projections.Summary {
	var p domain.Plan
	p.Apply(e)
	return projections.Summarize(&p, s.publicURL)
}
