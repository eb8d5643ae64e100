package templates

import (
	"fmt"
	"slices"
	"strings"
)

// The customer emails after a merchant's decision, spelled as
// domain.PlanEmailKind spells them.
const (
	DecisionPaymentConfirmed    = "payment_confirmed"
	DecisionPaymentRejected     = "payment_rejected"
	DecisionExtensionGranted    = "extension_granted"
	DecisionInstallmentDeferred = "installment_deferred"
	DecisionProposalCountered   = "proposal_countered"
	DecisionProposalApproved    = "proposal_approved"
	DecisionProposalDeclined    = "proposal_declined"
	DecisionPortalLink          = "portal_link"
)

var decisionKinds = []string{
	DecisionPaymentConfirmed, DecisionPaymentRejected, DecisionExtensionGranted, DecisionInstallmentDeferred,
	DecisionProposalCountered, DecisionProposalApproved, DecisionProposalDeclined, DecisionPortalLink,
}

// decision is the customer email after a merchant's decision, one set of
// templates for every kind.
var decision = parseEmail("decision")

// DecisionData is what a customer email after a merchant's decision
// shows. Every string is plain text as stored; Decision escapes it for
// each output and keeps it on one line, except Note, whose lines are kept
// (each made one line). Which fields a kind shows:
//
//	payment_confirmed     Amount (confirmed), Outstanding ("" : paid off)
//	payment_rejected      Amount, PaidOn, Note (the merchant's reason)
//	extension_granted     Installment, DueDate (new), PreviousDueDate
//	installment_deferred  Installment, DueDate (new), PreviousDueDate
//	proposal_countered    Schedule (the offer), Note (the merchant's message)
//	proposal_approved     Schedule (the plan's schedule from now on)
//	proposal_declined     Note (the merchant's reason)
//	portal_link           PortalURL is the new link
//
// Amounts are in Currency; dates are YYYY-MM-DD. Empty MerchantName,
// CustomerName and InvoiceNumber are left out.
type DecisionData struct {
	Kind                                      string // one of the Decision* kinds
	MerchantName, CustomerName, InvoiceNumber string
	Amount, Currency, Outstanding, PaidOn     string
	Installment                               int
	DueDate, PreviousDueDate                  string
	Schedule                                  []ScheduleLine
	Note                                      string
	PortalURL                                 string
}

// ScheduleLine is one installment of a schedule shown in an email.
type ScheduleLine struct {
	Amount, DueDate string
}

// decisionView is what the decision templates execute on.
type decisionView struct {
	DecisionData
	NoteLines []string
	Subject   string
}

// Decision renders the customer's email after a merchant's decision, with
// the portal link. The subject never contains a line break or a control
// character, whatever the names hold; the HTML is escaped by
// html/template. It returns an error for an unknown kind or if a template
// fails to execute.
func Decision(d DecisionData) (Rendered, error) {
	if !slices.Contains(decisionKinds, d.Kind) {
		return Rendered{}, fmt.Errorf("render decision email: unknown kind %q", d.Kind)
	}
	v := decisionView{DecisionData: DecisionData{
		Kind:            d.Kind,
		MerchantName:    singleLine(d.MerchantName),
		CustomerName:    singleLine(d.CustomerName),
		InvoiceNumber:   singleLine(d.InvoiceNumber),
		Amount:          singleLine(d.Amount),
		Currency:        singleLine(d.Currency),
		Outstanding:     singleLine(d.Outstanding),
		PaidOn:          singleLine(d.PaidOn),
		Installment:     d.Installment,
		DueDate:         singleLine(d.DueDate),
		PreviousDueDate: singleLine(d.PreviousDueDate),
		PortalURL:       singleLine(d.PortalURL),
	}}
	for _, s := range d.Schedule {
		v.Schedule = append(v.Schedule, ScheduleLine{Amount: singleLine(s.Amount), DueDate: singleLine(s.DueDate)})
	}
	v.NoteLines = noteLines(d.Note)
	return decision.render(&v, func(s string) { v.Subject = s })
}

// noteLines splits a multi-line note into its non-empty lines, each made
// one line.
func noteLines(note string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(note, func(r rune) bool { return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' }) {
		if l = singleLine(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
