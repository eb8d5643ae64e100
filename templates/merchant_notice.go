package templates

import (
	"fmt"
	"slices"
)

// The merchant's notifications, spelled as domain.PlanEmailKind spells
// them.
const (
	MerchantPaymentReported   = "payment_reported"
	MerchantProposalReceived  = "proposal_received"
	MerchantCheckinUnanswered = "checkin_unanswered"
	MerchantPlanAbandoned     = "plan_abandoned"
)

var merchantKinds = []string{MerchantPaymentReported, MerchantProposalReceived, MerchantCheckinUnanswered, MerchantPlanAbandoned}

// merchantNotice is the merchant's notification, one set of templates for
// every kind, in the customer emails' frame with its own footer.
var merchantNotice = parseEmail("merchant_notice")

// MerchantNoticeData is what a merchant notification shows. Every string is
// plain text as stored; MerchantNotice escapes it and keeps it on one line.
// Which fields a kind shows:
//
//	payment_reported    Amount, Currency, PaidOn, Method, Reference
//	proposal_received   Terms ("3 monthly payments from 2025-12-10")
//	checkin_unanswered  Installment, Amount (outstanding), Currency, DueDate
//	plan_abandoned      PendingSince (a date)
//
// DashboardURL is the plan's page in the dashboard, the button's target.
// An empty Customer reads "Your customer".
type MerchantNoticeData struct {
	Kind                                   string // one of the Merchant* kinds
	AccountName, Customer, CustomerEmail   string
	PlanID                                 int64
	InvoiceNumber                          string
	Amount, Currency, PaidOn               string
	Method, Reference, Terms, PendingSince string
	Installment                            int
	DueDate, DashboardURL                  string
}

// merchantNoticeView is what the templates execute on: the layout's button
// link is PortalURL, here the dashboard's.
type merchantNoticeView struct {
	MerchantNoticeData
	MerchantName, PortalURL, Subject string
}

// MerchantNotice renders a notification to the merchant about one of its
// plans, with a button to the plan in the dashboard. The subject never
// contains a line break or a control character, whatever the names hold;
// the HTML is escaped by html/template. It returns an error for an unknown
// kind or if a template fails to execute.
func MerchantNotice(d MerchantNoticeData) (Rendered, error) {
	if !slices.Contains(merchantKinds, d.Kind) {
		return Rendered{}, fmt.Errorf("render merchant notification: unknown kind %q", d.Kind)
	}
	customer := singleLine(d.Customer)
	if customer == "" {
		customer = "Your customer"
	}
	v := merchantNoticeView{MerchantNoticeData: MerchantNoticeData{
		Kind:          d.Kind,
		AccountName:   singleLine(d.AccountName),
		Customer:      customer,
		CustomerEmail: singleLine(d.CustomerEmail),
		PlanID:        d.PlanID,
		InvoiceNumber: singleLine(d.InvoiceNumber),
		Amount:        singleLine(d.Amount),
		Currency:      singleLine(d.Currency),
		PaidOn:        singleLine(d.PaidOn),
		Method:        singleLine(d.Method),
		Reference:     singleLine(d.Reference),
		Terms:         singleLine(d.Terms),
		PendingSince:  singleLine(d.PendingSince),
		Installment:   d.Installment,
		DueDate:       singleLine(d.DueDate),
		DashboardURL:  singleLine(d.DashboardURL),
	}}
	v.MerchantName, v.PortalURL = v.AccountName, v.DashboardURL
	return merchantNotice.render(&v, func(s string) { v.Subject = s })
}
