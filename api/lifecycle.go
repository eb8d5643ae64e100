package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
)

// lifecycleRoutes are the merchant's commands on one plan. Each answers with
// the plan as it is after the command (the GET /api/v1/plans/{id} shape),
// folded from the event store, so it is current even while the read model
// catches up.
func (s *Server) lifecycleRoutes(r chi.Router) {
	r.Post("/plans/{id}/payments", s.recordPayment)
	r.Post("/plans/{id}/payments/{payment_id}/confirm", s.confirmPayment)
	r.Post("/plans/{id}/payments/{payment_id}/reject", s.rejectPayment)
	r.Post("/plans/{id}/installments/{number}/extend", s.extendInstallment)
	r.Post("/plans/{id}/installments/{number}/defer", s.deferInstallment)
	r.Post("/plans/{id}/proposals/{proposal_id}/approve", s.approveProposal)
	r.Post("/plans/{id}/proposals/{proposal_id}/decline", s.declineProposal)
	r.Post("/plans/{id}/proposals/{proposal_id}/counter", s.counterProposal)
	r.Post("/plans/{id}/cancel", s.cancelPlan)
	r.Post("/plans/{id}/write-off", s.writeOffPlan)
	r.Post("/plans/{id}/reactivate", s.reactivatePlan)
	r.Post("/plans/{id}/portal-link", s.regeneratePortalLink)
}

// decision is a merchant command bound to its request: it decides on the
// current plan at the given time.
type decision func(p *domain.Plan, now time.Time) ([]domain.Event, error)

// command reads the request body, lets parse turn it into a decision, and
// runs it on the plan in the route (see runCommand).
func (s *Server) command(w http.ResponseWriter, r *http.Request, status int, parse func(*fieldReader, jsonObject) decision) {
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	obj := jsonObject{}
	if len(bytes.TrimSpace(body)) > 0 {
		if obj, err = parseObject(body); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	var f fieldReader
	decide := parse(&f, obj)
	if err := f.errs.OrNil(); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.runCommand(w, r, body, status, decide)
}

// runCommand appends what decide returns for the plan named in the route,
// with a version check (reloading and deciding again on a conflict), and
// answers status with the plan after it. Another account's plan is a 404.
// With an Idempotency-Key, a retry of the same request (method, path and
// body) answers the plan as it is now without deciding again, and the same
// key with another request is a 422.
func (s *Server) runCommand(w http.ResponseWriter, r *http.Request, body []byte, status int, decide decision) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	id, ok := planID(r)
	missing := notFound("Plan " + chi.URLParam(r, "id") + " was not found.")
	if !ok {
		s.writeError(w, r, missing)
		return
	}
	meta := s.metadata(r, acct)
	var opts []eventstore.AppendOption
	var reqHash []byte
	var err error
	if meta.CommandID, err = idempotencyCommandID(r, acct); err != nil {
		s.writeError(w, r, err)
		return
	}
	if meta.CommandID != "" {
		// The request is its method, path and canonical body.
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), requestHash(body)...))
		reqHash = sum[:]
		opts = append(opts, eventstore.WithRequestHash(reqHash))
		if s.replayCommand(w, r, id, meta.CommandID, reqHash, status) {
			return
		}
	}
	now := s.now()
	_, err = s.store.UpdatePlan(ctx, id, meta, func(p *domain.Plan) ([]domain.Event, error) {
		if p.AccountID() != acct.ID {
			return nil, missing
		}
		return decide(p, now)
	}, opts...)
	// A concurrent request with the same key may have won: its append is a
	// duplicate for this one, or this one decided again after it and was
	// refused (a payment already confirmed). Either way the retry is
	// answered as a replay.
	if err != nil && meta.CommandID != "" && s.replayCommand(w, r, id, meta.CommandID, reqHash, status) {
		return
	}
	if errors.Is(err, eventstore.ErrNotFound) {
		err = missing
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writePlan(w, r, id, status, false)
}

// replayCommand answers a request whose Idempotency-Key was used before:
// the first response's status (a command is recorded only when it
// succeeded) with the plan as it is now for the same request, a 422 for
// another one (or for a key first used on another plan). It returns false
// when the key is new.
func (s *Server) replayCommand(w http.ResponseWriter, r *http.Request, id int64, commandID string, reqHash []byte, status int) bool {
	cmd, err := s.store.LookupCommand(r.Context(), commandID)
	if errors.Is(err, eventstore.ErrNotFound) {
		return false
	}
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	if !bytes.Equal(cmd.RequestHash, reqHash) || cmd.StreamID != eventstore.PlanStream(id) {
		s.writeError(w, r, &apiError{Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused",
			Message: "This Idempotency-Key was already used with a different request."})
		return true
	}
	s.writePlan(w, r, id, status, true)
	return true
}

// writePlan answers status with plan id folded from the store.
func (s *Server) writePlan(w http.ResponseWriter, r *http.Request, id int64, status int, replayed bool) {
	p, recs, _, err := s.store.LoadPlan(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, status, projections.DetailOf(p, recs, s.publicURL))
}

// routeInt parses the route parameter name as a positive integer; a bad one
// is a 404 naming what.
func routeInt(r *http.Request, name, what string) (int64, error) {
	v, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || v <= 0 {
		return 0, notFound(what + " " + chi.URLParam(r, name) + " was not found on this plan.")
	}
	return v, nil
}

// withRouteInt runs the command parsed by parse with the route parameter
// name, or answers 404 when it is not a positive integer.
func (s *Server) withRouteInt(w http.ResponseWriter, r *http.Request, name, what string, status int,
	parse func(n int64, f *fieldReader, obj jsonObject) decision) {
	n, err := routeInt(r, name, what)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.command(w, r, status, func(f *fieldReader, obj jsonObject) decision { return parse(n, f, obj) })
}

// recordPayment is POST /plans/{id}/payments: a payment the merchant
// received, confirmed at once (installment.paid, installment.confirmed, and
// plan.completed when it pays the plan off).
func (s *Server) recordPayment(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusCreated, func(f *fieldReader, obj jsonObject) decision {
		in := s.paymentInput(f, obj)
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
			in.Now = now
			if err := s.allocate(r, &in.PaymentID); err != nil {
				return nil, err
			}
			return p.RecordPayment(in)
		}
	})
}

// paymentInput reads a payment's fields.
func (s *Server) paymentInput(f *fieldReader, obj jsonObject) domain.PaymentInput {
	return domain.PaymentInput{
		Amount:    f.amount(obj, "amount", "amount"),
		PaidOn:    f.str(obj, "paid_on", "paid_on"),
		Method:    f.str(obj, "method", "method"),
		Reference: f.str(obj, "reference", "reference"),
	}
}

// allocate gives *id a new entity id once (a retried decision keeps it).
func (s *Server) allocate(r *http.Request, id *int64) error {
	if *id != 0 {
		return nil
	}
	n, err := s.store.NextID(r.Context())
	*id = n
	return err
}

// confirmPayment is POST /plans/{id}/payments/{payment_id}/confirm with an
// optional amount (default: the amount reported).
func (s *Server) confirmPayment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "payment_id", "Payment", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		amount := f.amount(obj, "amount", "amount")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.ConfirmPayment(id, amount, now) }
	})
}

// rejectPayment is POST /plans/{id}/payments/{payment_id}/reject with an
// optional reason: a reported payment that never arrived.
func (s *Server) rejectPayment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "payment_id", "Payment", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		reason := f.str(obj, "reason", "reason")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.RejectPayment(id, reason, now) }
	})
}

// extendInstallment is POST /plans/{id}/installments/{number}/extend with
// due_date and optional shift_following.
func (s *Server) extendInstallment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "number", "Installment", http.StatusOK, func(n int64, f *fieldReader, obj jsonObject) decision {
		due := f.str(obj, "due_date", "due_date")
		shift := f.boolean(obj, "shift_following", "shift_following", false)
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
			return p.ExtendInstallment(int(n), due, shift, now)
		}
	})
}

// deferInstallment is POST /plans/{id}/installments/{number}/defer.
func (s *Server) deferInstallment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "number", "Installment", http.StatusOK, func(n int64, _ *fieldReader, _ jsonObject) decision {
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.DeferInstallment(int(n), now) }
	})
}

// approveProposal is POST /plans/{id}/proposals/{proposal_id}/approve.
func (s *Server) approveProposal(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "proposal_id", "Proposal", http.StatusOK, func(id int64, _ *fieldReader, _ jsonObject) decision {
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.ApproveProposal(id, now) }
	})
}

// declineProposal is POST /plans/{id}/proposals/{proposal_id}/decline with
// an optional reason shown to the customer.
func (s *Server) declineProposal(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "proposal_id", "Proposal", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		reason := f.str(obj, "reason", "reason")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.DeclineProposal(id, reason, now) }
	})
}

// counterProposal is POST /plans/{id}/proposals/{proposal_id}/counter with
// installments, interval, first_payment_date and an optional message.
func (s *Server) counterProposal(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "proposal_id", "Proposal", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		terms := domain.TermsInput{
			Installments:     f.amount(obj, "installments", "installments"),
			Interval:         f.str(obj, "interval", "interval"),
			FirstPaymentDate: f.str(obj, "first_payment_date", "first_payment_date"),
		}
		message := f.str(obj, "message", "message")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
			return p.CounterProposal(id, terms, message, now)
		}
	})
}

// cancelPlan is POST /plans/{id}/cancel with an optional reason.
func (s *Server) cancelPlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(f *fieldReader, obj jsonObject) decision {
		reason := f.str(obj, "reason", "reason")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.Cancel(reason, now) }
	})
}

// writeOffPlan is POST /plans/{id}/write-off with an optional reason.
func (s *Server) writeOffPlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(f *fieldReader, obj jsonObject) decision {
		reason := f.str(obj, "reason", "reason")
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.WriteOff(reason, now) }
	})
}

// reactivatePlan is POST /plans/{id}/reactivate.
func (s *Server) reactivatePlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(*fieldReader, jsonObject) decision {
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.Reactivate(now) }
	})
}

// regeneratePortalLink is POST /plans/{id}/portal-link: a new portal link;
// the old one stops working at once. The response's customer_portal_url is
// the new link.
func (s *Server) regeneratePortalLink(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(*fieldReader, jsonObject) decision {
		secret := newPortalSecret() // one secret for every retry of the decision
		return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
			return p.RegeneratePortalLink(portalToken(p.ID(), secret), now)
		}
	})
}

// stateMessage is a domain rule violation as a client sentence.
func stateMessage(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
