package templates

import ()

// IntroductionData is what the introduction email shows. Every field is
// plain text as stored; Introduction escapes it for each output and keeps
// names on one line.
type IntroductionData struct {
	MerchantName, CustomerName, Amount, Currency, InvoiceNumber, PortalURL string
	Options                                                                []IntroductionOption
}

// IntroductionOption is one schedule offered in the introduction email.
// PaymentAmount is in the invoice's currency; dates are YYYY-MM-DD.
type IntroductionOption struct {
	Installments                                                int
	Interval, PaymentAmount, FirstPaymentDate, FinalPaymentDate string
}

// Rendered is a rendered email: a one-line subject, a plain-text body and an
// HTML body.
type Rendered struct {
	Subject, Text, HTML string
}

// introView is what the introduction templates execute on: the data with
// every string made single-line, each option carrying the currency, and the
// rendered subject for the HTML <title>.
type introView struct {
	MerchantName, CustomerName, Amount, Currency, InvoiceNumber, PortalURL string
	Options                                                                []optionView
	Subject                                                                string
}

type optionView struct {
	IntroductionOption
	Currency string
}

// Introduction renders the email that sends a customer the link to their
// payment plan options. The subject never contains a line break or a
// control character, whatever the names hold; the HTML is escaped by
// html/template. It returns an error only if a template fails to execute.
func Introduction(d IntroductionData) (Rendered, error) {
	v := introView{
		MerchantName:  singleLine(d.MerchantName),
		CustomerName:  singleLine(d.CustomerName),
		Amount:        singleLine(d.Amount),
		Currency:      singleLine(d.Currency),
		InvoiceNumber: singleLine(d.InvoiceNumber),
		PortalURL:     singleLine(d.PortalURL),
		Options:       make([]optionView, len(d.Options)),
	}
	for i, o := range d.Options {
		v.Options[i] = optionView{Currency: v.Currency, IntroductionOption: IntroductionOption{
			Installments:     o.Installments,
			Interval:         singleLine(o.Interval),
			PaymentAmount:    singleLine(o.PaymentAmount),
			FirstPaymentDate: singleLine(o.FirstPaymentDate),
			FinalPaymentDate: singleLine(o.FinalPaymentDate),
		}}
	}
	return intro.render(&v, func(s string) { v.Subject = s })
}
