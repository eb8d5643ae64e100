package api

import (
	"bytes"
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
	r.Post("/plans/{id}/resend-introduction", s.resendIntroduction)
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

// runCommand runs decide on the plan named in the route (see
// eventstore.Aggregate.Run) and answers status with the plan after it,
// rendered from what the runner returned. Another account's plan is a 404.
// With an Idempotency-Key, a retry of the same request (method, path and
// body) answers the first response's status (a command is recorded only
// when it succeeded) with the plan as it is now, without deciding again;
// the same key with another request, or on another plan, is a 422.
func (s *Server) runCommand(w http.ResponseWriter, r *http.Request, body []byte, status int, decide decision) {
	ctx := r.Context()
	acct := accountFrom(ctx)
	id, ok := planID(r)
	missing := notFound("Plan " + chi.URLParam(r, "id") + " was not found.")
	if !ok {
		s.writeError(w, r, missing)
		return
	}
	c := planCommand{ID: id, Meta: s.metadata(r, acct)}
	if err := idempotent(r, acct, routeRequestHash(r, body), &c); err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	c.Decide = func(p *domain.Plan) ([]domain.Event, error) {
		if p.AccountID() != acct.ID {
			return nil, missing
		}
		return decide(p, now)
	}
	out, err := s.runPlan(ctx, c)
	if errors.Is(err, eventstore.ErrNotFound) {
		err = missing
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	markReplayed(w, out)
	writeJSON(w, status, projections.DetailOf(out.State, s.publicURL))
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
	ids, err := s.newIDs(r.Context(), 1) // the payment's, before deciding
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.command(w, r, http.StatusCreated, func(f *fieldReader, obj jsonObject) decision {
		in := s.paymentInput(f, obj)
		in.PaymentID = ids[0]
		return recordPaymentDecision(in)
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

// confirmPayment is POST /plans/{id}/payments/{payment_id}/confirm with an
// optional amount (default: the amount reported).
func (s *Server) confirmPayment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "payment_id", "Payment", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		return confirmPaymentDecision(id, f.amount(obj, "amount", "amount"))
	})
}

// rejectPayment is POST /plans/{id}/payments/{payment_id}/reject with an
// optional reason: a reported payment that never arrived.
func (s *Server) rejectPayment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "payment_id", "Payment", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		return rejectPaymentDecision(id, f.str(obj, "reason", "reason"))
	})
}

// extendInstallment is POST /plans/{id}/installments/{number}/extend with
// due_date and optional shift_following.
func (s *Server) extendInstallment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "number", "Installment", http.StatusOK, func(n int64, f *fieldReader, obj jsonObject) decision {
		return extendDecision(n, f.str(obj, "due_date", "due_date"), f.boolean(obj, "shift_following", "shift_following", false))
	})
}

// deferInstallment is POST /plans/{id}/installments/{number}/defer.
func (s *Server) deferInstallment(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "number", "Installment", http.StatusOK, func(n int64, _ *fieldReader, _ jsonObject) decision {
		return deferDecision(n)
	})
}

// approveProposal is POST /plans/{id}/proposals/{proposal_id}/approve.
func (s *Server) approveProposal(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "proposal_id", "Proposal", http.StatusOK, func(id int64, _ *fieldReader, _ jsonObject) decision {
		return approveDecision(id)
	})
}

// declineProposal is POST /plans/{id}/proposals/{proposal_id}/decline with
// an optional reason shown to the customer.
func (s *Server) declineProposal(w http.ResponseWriter, r *http.Request) {
	s.withRouteInt(w, r, "proposal_id", "Proposal", http.StatusOK, func(id int64, f *fieldReader, obj jsonObject) decision {
		return declineDecision(id, f.str(obj, "reason", "reason"))
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
		return counterDecision(id, terms, f.str(obj, "message", "message"))
	})
}

// cancelPlan is POST /plans/{id}/cancel with an optional reason.
func (s *Server) cancelPlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(f *fieldReader, obj jsonObject) decision {
		return cancelDecision(f.str(obj, "reason", "reason"))
	})
}

// writeOffPlan is POST /plans/{id}/write-off with an optional reason.
func (s *Server) writeOffPlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(f *fieldReader, obj jsonObject) decision {
		return writeOffDecision(f.str(obj, "reason", "reason"))
	})
}

// reactivatePlan is POST /plans/{id}/reactivate.
func (s *Server) reactivatePlan(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(*fieldReader, jsonObject) decision { return reactivateDecision() })
}

// regeneratePortalLink is POST /plans/{id}/portal-link: a new portal link;
// the old one stops working at once. The response's customer_portal_url is
// the new link.
func (s *Server) regeneratePortalLink(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(*fieldReader, jsonObject) decision { return portalLinkDecision() })
}

// resendIntroduction is POST /plans/{id}/resend-introduction: the email
// worker sends the introduction email again (or for the first time, for a
// plan created without it), with the current options and portal link.
func (s *Server) resendIntroduction(w http.ResponseWriter, r *http.Request) {
	s.command(w, r, http.StatusOK, func(*fieldReader, jsonObject) decision { return resendIntroductionDecision() })
}

// The merchant's commands on a plan, one function each, given their input
// as read from a JSON body (the handlers above) or a dashboard form
// (dashboard_plan.go): both surfaces run the same decision through the
// same command path.

// recordPaymentDecision records payment in (its PaymentID allocated).
func recordPaymentDecision(in domain.PaymentInput) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		in.Now = now
		return p.RecordPayment(in)
	}
}

// confirmPaymentDecision confirms reported payment id for amount ("": the
// amount reported).
func confirmPaymentDecision(id int64, amount string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.ConfirmPayment(id, amount, now) }
}

// rejectPaymentDecision rejects reported payment id.
func rejectPaymentDecision(id int64, reason string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.RejectPayment(id, reason, now) }
}

// extendDecision moves installment n to due (and the later ones by as
// many days with shift).
func extendDecision(n int64, due string, shift bool) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.ExtendInstallment(int(n), due, shift, now)
	}
}

// deferDecision moves installment n to the end of the schedule.
func deferDecision(n int64) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.DeferInstallment(int(n), now)
	}
}

// approveDecision approves proposal id.
func approveDecision(id int64) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.ApproveProposal(id, now) }
}

// declineDecision declines proposal id.
func declineDecision(id int64, reason string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.DeclineProposal(id, reason, now) }
}

// counterDecision counters proposal id with terms and message.
func counterDecision(id int64, terms domain.TermsInput, message string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.CounterProposal(id, terms, message, now)
	}
}

// cancelDecision cancels the plan.
func cancelDecision(reason string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.Cancel(reason, now) }
}

// writeOffDecision writes off what is outstanding.
func writeOffDecision(reason string) decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.WriteOff(reason, now) }
}

// reactivateDecision reopens a closed plan.
func reactivateDecision() decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.Reactivate(now) }
}

// portalLinkDecision gives the plan a new portal link.
func portalLinkDecision() decision {
	secret := newPortalSecret() // one secret for every retry of the decision
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.RegeneratePortalLink(portalToken(p.ID(), secret), now)
	}
}

// resendIntroductionDecision asks for the introduction email again.
func resendIntroductionDecision() decision {
	return func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return p.ResendIntroduction(now) }
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
