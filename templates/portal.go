package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

//go:embed portal/*.html portal/portal.css
var portalFiles embed.FS

// portalCSS is the portal's whole style sheet, inlined in every page.
var portalCSS = embeddedAsset(portalFiles, "portal/portal.css")

// PortalContentSecurityPolicy is the Content-Security-Policy header value
// for portal pages: no scripts, no images, no frames, forms posted only to
// the portal itself, and only the inline style sheet (by its hash).
var PortalContentSecurityPolicy = "default-src 'none'; style-src '" + portalCSSHash(portalCSS) +
	"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// embeddedAsset returns the embedded file name of files.
func embeddedAsset(files embed.FS, name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func portalCSSHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Parsed portal pages: each is the layout plus one page file.
var (
	portalPlanPage    = portalPage("portal/plan.html")
	portalMessagePage = portalPage("portal/message.html")
)

func portalPage(file string) *htmltemplate.Template {
	return layoutPage(portalFiles, portalFuncs, "portal/layout.html", file)
}

// layoutPage parses a page of files: the layout (whose base name is
// layout.html) and the page's files (the page file, after any file of
// parts it shares with other pages), with funcs; a missing key is an
// error.
func layoutPage(files embed.FS, funcs htmltemplate.FuncMap, layout string, pages ...string) *htmltemplate.Template {
	return htmltemplate.Must(htmltemplate.New("layout.html").Option("missingkey=error").Funcs(funcs).
		ParseFS(files, append([]string{layout}, pages...)...))
}

var portalFuncs = htmltemplate.FuncMap{
	// The style sheet is a constant of this package, never data.
	"css":               func() htmltemplate.CSS { return htmltemplate.CSS(portalCSS) },
	"money":             Money,
	"date":              portalDate,
	"every":             portalEvery,
	"title":             portalUpperFirst,
	"method":            func(m string) string { return portalLabel(portalMethodLabels, m) },
	"byMethod":          func(m string) string { return portalLabel(portalMethodPhrases, m) },
	"planStatus":        func(s string) string { return portalLabel(portalPlanStatusLabels, s) },
	"installmentStatus": func(s string) string { return portalLabel(portalInstallmentLabels, s) },
	"join":              func(msgs []string) string { return strings.Join(msgs, " ") },
}

// PortalPlan is what the plan page shows. Amounts are decimal text in the
// invoice's currency ("1200.00"), dates YYYY-MM-DD, statuses, intervals and
// methods the API's codes; the page formats and labels them.
type PortalPlan struct {
	Action        string // path the page's forms post under, e.g. "/plan/<token>"
	CSRF          string // value of every form's hidden csrf field
	FormID        string // value of every form's hidden form_id field
	Merchant      string
	Customer      string
	Amount        string
	Currency      string
	InvoiceNumber string
	Description   string
	Status        string // pending, active, completed, cancelled, written_off, abandoned
	StatusSince   string // date the plan completed or closed
	Notice        string // what the last form did: selected, payment, proposal, accepted
	Alert         string // why the last form was refused, shown at the top
	Options       []PortalOption
	Schedule      []PortalInstallment
	NextDue       *PortalInstallment // the first installment neither paid nor reported
	Ledger        PortalLedger
	Payments      []PortalPayment // newest first
	Proposal      *PortalProposal // the latest one
	CanPropose    bool            // the plan takes a proposal now
	PaymentForm   PortalForm
	ProposalForm  PortalForm
	Methods       []string // payment method codes, in display order
	Intervals     []string // interval codes, in display order
	Today         string   // earliest first payment date of a proposal
	MaxPaidOn     string   // latest date a payment may have been made
	MaxFirstDate  string   // latest first payment date of a proposal
}

// PortalOption is one schedule offered to the customer. PaymentAmount is
// the first (largest) payment; OtherAmount is set when the later payments
// are smaller.
type PortalOption struct {
	ID                                 int64
	Installments                       int
	Interval                           string
	PaymentAmount, OtherAmount         string
	FirstPaymentDate, FinalPaymentDate string
	Schedule                           []PortalInstallment
}

// PortalInstallment is one scheduled payment. Status is pending, reported,
// partially_paid or confirmed; Overdue marks one past its due date and not
// paid in full.
type PortalInstallment struct {
	Number                    int
	DueDate                   string
	Amount, Paid, Outstanding string
	Status                    string
	Overdue                   bool
}

// PortalLedger is the plan's money at a glance: Paid is confirmed,
// Reported awaits the merchant's confirmation (HasReported: it is not
// zero); PaidPercent is 0..100.
type PortalLedger struct {
	Total, Paid, Reported, Outstanding string
	HasReported                        bool
	PaidPercent                        int
}

// PortalPayment is one reported or recorded payment. Status is reported
// or confirmed; ConfirmedAmount is set once confirmed.
type PortalPayment struct {
	Amount, PaidOn, Method, Reference, Status, ConfirmedAmount string
}

// PortalTerms is the shape of a proposed schedule.
type PortalTerms struct {
	Installments     int
	Interval         string
	FirstPaymentDate string
}

// PortalProposal is a schedule the customer proposed and the merchant's
// answer. Status is pending, countered, declined, approved or
// counter_accepted; a countered one has Counter, CounterSchedule and the
// path its Accept form posts to.
type PortalProposal struct {
	ID              int64
	Status          string
	Terms           PortalTerms
	Amount          string
	Counter         *PortalTerms
	CounterSchedule []PortalInstallment
	Message         string
	AcceptAction    string
}

// PortalForm is a form's submitted values and its errors by field name, so
// a refused form is shown again as the customer filled it in.
type PortalForm struct {
	Values map[string]string
	Errors map[string][]string
}

// Value returns the submitted value of field ("" if none).
func (f PortalForm) Value(field string) string { return f.Values[field] }

// Error returns the messages for field (nil if none).
func (f PortalForm) Error(field string) []string { return f.Errors[field] }

// HasErrors reports whether any field has an error.
func (f PortalForm) HasErrors() bool { return len(f.Errors) > 0 }

// PortalMessageKind names a one-message portal page.
type PortalMessageKind string

// The one-message pages.
const (
	PortalNotFound   PortalMessageKind = "not_found"   // unknown, replaced or expired link (404)
	PortalForbidden  PortalMessageKind = "forbidden"   // a form without a valid csrf, or cross-origin (403)
	PortalBadRequest PortalMessageKind = "bad_request" // a form that cannot be read (400)
	PortalError      PortalMessageKind = "error"       // an error on our side (500)
)

// RenderPortalPlan writes the plan page for v. It returns an error only if
// the template fails to execute; nothing is written then.
func RenderPortalPlan(w io.Writer, v PortalPlan) error {
	return executeLayout(w, portalPlanPage, v)
}

// RenderPortalMessage writes the one-message page of kind. It returns an
// error only if the template fails to execute; nothing is written then.
func RenderPortalMessage(w io.Writer, kind PortalMessageKind) error {
	return executeLayout(w, portalMessagePage, struct{ Kind PortalMessageKind }{kind})
}

// executeLayout renders page t (a layout and one page file, portal or
// dashboard) into a buffer and writes it only if it executed completely.
func executeLayout(w io.Writer, t *htmltemplate.Template, v any) error {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	_, err := b.WriteTo(w)
	return err
}

// portalDate shows a YYYY-MM-DD date as "Dec 4, 2025"; anything else as
// it is.
func portalDate(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("Jan 2, 2006")
}

// portalEvery describes an interval: "monthly" is "every month".
func portalEvery(interval string) string {
	switch interval {
	case "weekly":
		return "every week"
	case "biweekly":
		return "every two weeks"
	case "monthly":
		return "every month"
	}
	return interval
}

func portalUpperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

var (
	portalMethodLabels = map[string]string{"e_transfer": "E-transfer", "check": "Check", "cash": "Cash",
		"bank_transfer": "Bank transfer", "other": "Other"}
	portalMethodPhrases = map[string]string{"e_transfer": "e-transfer", "check": "check", "cash": "cash",
		"bank_transfer": "bank transfer", "other": "another method"}
	portalPlanStatusLabels = map[string]string{"pending": "Awaiting your choice", "active": "Active",
		"completed": "Paid in full", "cancelled": "Cancelled", "written_off": "Closed", "abandoned": "Expired"}
	portalInstallmentLabels = map[string]string{"pending": "Upcoming", "reported": "Reported",
		"partially_paid": "Partly paid", "confirmed": "Paid"}
)

// portalLabel returns the label of code, or the code with spaces for
// underscores if it has none.
func portalLabel(labels map[string]string, code string) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return strings.ReplaceAll(code, "_", " ")
}
