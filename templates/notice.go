package templates

import (
	"fmt"
	"slices"
)

// The kinds of scheduled notice, spelled as domain.NoticeKind spells them.
const (
	NoticeDueReminder     = "due_reminder"     // an installment falls due in a few days
	NoticeCheckin         = "checkin"          // an installment is due today: did you pay?
	NoticeCheckinReminder = "checkin_reminder" // the check-in got no answer
)

var noticeKinds = []string{NoticeDueReminder, NoticeCheckin, NoticeCheckinReminder}

// notice is the scheduled notice email, one set of templates for every kind.
var notice = parseEmail("notice")

// NoticeData is what a scheduled notice shows. Every string is plain text
// as stored; Notice escapes it for each output and keeps it on one line.
// Amount is what is outstanding on the installment, in Currency; DueDate
// is YYYY-MM-DD. Installment and InstallmentCount (its number and how many
// the plan has) are left out of the email when either is 0; so are empty
// MerchantName, CustomerName and InvoiceNumber.
type NoticeData struct {
	Kind                                      string // NoticeDueReminder, NoticeCheckin or NoticeCheckinReminder
	MerchantName, CustomerName, InvoiceNumber string
	Installment, InstallmentCount             int
	Amount, Currency, DueDate, PortalURL      string
}

// noticeView is what the notice templates execute on: the data made
// single-line, with the rendered subject for the HTML <title>.
type noticeView struct {
	NoticeData
	Subject string
}

// Notice renders a scheduled notice: a due reminder ("Your payment of X is
// due on D"), a check-in on the due date ("Your payment of X was due today
// — did you pay?") or a check-in reminder ("We have not heard about your
// payment of X due on D"), each with the portal link. The subject never
// contains a line break or a control character, whatever the names hold;
// the HTML is escaped by html/template. It returns an error for an unknown
// kind or if a template fails to execute.
func Notice(d NoticeData) (Rendered, error) {
	if !slices.Contains(noticeKinds, d.Kind) {
		return Rendered{}, fmt.Errorf("render notice: unknown kind %q", d.Kind)
	}
	v := noticeView{NoticeData: NoticeData{
		Kind:             d.Kind,
		MerchantName:     singleLine(d.MerchantName),
		CustomerName:     singleLine(d.CustomerName),
		InvoiceNumber:    singleLine(d.InvoiceNumber),
		Installment:      d.Installment,
		InstallmentCount: d.InstallmentCount,
		Amount:           singleLine(d.Amount),
		Currency:         singleLine(d.Currency),
		DueDate:          singleLine(d.DueDate),
		PortalURL:        singleLine(d.PortalURL),
	}}
	return notice.render(&v, func(s string) { v.Subject = s })
}
