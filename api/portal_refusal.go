package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// Why a customer's form was refused, in a customer's words: the domain's
// errors are shown by their type, field and code (never by matching their
// text), next to the fields of the form they concern.

// portalRefused shows the page as the plan now is with why the form was
// refused: field errors next to the fields with the input kept (422), a
// conflict or a state that forbids the form at the top (409).
func (s *Server) portalRefused(w http.ResponseWriter, r *http.Request, token string, cmd portalCommand, err error) {
	var (
		st portalState
		ve *domain.ValidationError
		ne *domain.NotFoundError
		se *domain.StateError
		ce *domain.ConflictError
	)
	status := http.StatusConflict
	switch {
	case errors.As(err, &ve):
		status = http.StatusUnprocessableEntity
		form := templates.PortalForm{Values: map[string]string{}, Errors: map[string][]string{}}
		fields := portalFormFields[cmd.form]
		for _, f := range fields {
			form.Values[f] = r.PostForm.Get(f)
		}
		for f, msgs := range ve.Fields {
			for i, m := range msgs {
				m = portalWording(f, ve.Problem(f, i), m)
				if slices.Contains(fields, f) {
					form.Errors[f] = append(form.Errors[f], m)
				} else {
					st.alert = strings.TrimSpace(st.alert + " " + m)
				}
			}
		}
		switch cmd.form {
		case portalPaymentForm:
			st.payment = form
		case portalProposalForm:
			st.proposal = form
		}
		if st.alert == "" {
			st.alert = "Please correct the highlighted fields below."
		}
	case errors.As(err, &ne):
		status, st.alert = http.StatusUnprocessableEntity, ne.Msg
	case errors.As(err, &se):
		st.alert = portalStateMessage(se)
	case errors.As(err, &ce):
		st.alert = ce.Msg + " This is your plan as it is now."
	case errors.Is(err, eventstore.ErrVersionConflict):
		st.alert = "Your plan was changed at the same moment by someone else. This is your plan as it is now; please try again if you still need to."
	default:
		s.portalFail(w, r, err)
		return
	}
	p, err := s.portalPlan(r.Context(), token)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	s.renderPortalPlan(w, r, p, token, status, st)
}

// portalWordings are the customer's words for some problems of the portal's
// form fields, chosen by field and code.
var portalWordings = map[string]map[domain.Code]string{
	"amount": {domain.CodeRequired: "Enter the amount you paid."},
	"method": {domain.CodeRequired: "Choose how you paid.",
		domain.CodeNotOneOf: "Choose one of the listed payment methods."},
	"installments": {domain.CodeRequired: "Enter the number of payments.",
		domain.CodeTooMany: "That is more payments than the amount still to pay allows."},
	"first_payment_date": {domain.CodeRequired: "Choose the date of your first payment."},
}

// portalFieldNames name the portal's form fields in a customer's words
// where the API's name would puzzle one.
var portalFieldNames = map[string]string{
	"installments":       "number of payments",
	"first_payment_date": "first payment date",
	"paid_on":            "payment date",
}

// portalWording is the message a customer reads for problem pr of field,
// whose domain message is msg: the portal's own words for it, or the
// domain's rule about the field named in the customer's words, or msg.
func portalWording(field string, pr domain.Problem, msg string) string {
	if w := portalWordings[field][pr.Code]; w != "" {
		return w
	}
	if name := portalFieldNames[field]; name != "" && pr.Rule != "" {
		return "The " + name + " " + pr.Rule
	}
	return msg
}

// portalStateMessage explains to the customer why the plan's status
// forbids a form.
func portalStateMessage(e *domain.StateError) string {
	why := map[domain.Status]string{
		domain.StatusPending:    "no schedule has been chosen for this plan yet",
		domain.StatusActive:     "this plan already has its schedule",
		domain.StatusCompleted:  "this plan is paid in full",
		domain.StatusCancelled:  "this plan was cancelled",
		domain.StatusWrittenOff: "this plan was closed",
		domain.StatusAbandoned:  "this plan expired",
	}[e.Status]
	if why == "" {
		why = "of this plan's status"
	}
	return "You can't " + e.Action + " because " + why + ". This is your plan as it is now."
}
