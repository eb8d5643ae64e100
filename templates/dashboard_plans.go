package templates

import "strings"

// The dashboard's plan pages of this file: the list (with its exports)
// and the create form with its preview.
var (
	DashboardPlansPage   = dashboardPage[DashboardPlans]("dashboard/plans.html")
	DashboardPlanNewPage = dashboardPage[DashboardPlanNew]("dashboard/plan_new.html")
)

// DashboardPlans is the plan list: the filters as given (Status, Search),
// the statuses to choose from, one page of plans newest first, and the
// links to the older and newer pages ("" when there is none) and to the
// exports of the same filters. Error says why a filter was refused (the
// list is then empty).
type DashboardPlans struct {
	Shell                *DashboardShell
	Status, Search       string
	Statuses             []string
	Attention            string            // a kind of Needs attention, or ""
	Attentions           []DashboardChoice // the kinds the attention filter offers
	Rows                 []DashboardPlanRow
	OlderHref, NewerHref string
	ExportPlansHref      string
	ExportPaymentsHref   string
	Error                string
	Filtered             bool // a status, an attention kind or a search is applied
}

// DashboardChoice is an option of a select: its value and what it says.
type DashboardChoice struct {
	Value, Label string
}

// DashboardPlanRow is one plan of the list; Amount and Outstanding are
// exact decimals with the currency ("1200.00 USD").
type DashboardPlanRow struct {
	ID                          int64
	CustomerName, CustomerEmail string
	InvoiceNumber               string
	Amount, Outstanding         string
	Status                      string
	Created                     string // YYYY-MM-DD (UTC)
}

// DashboardPlanNew is the create form: the values as typed, the field
// errors of the last submit or preview (by the API's field names:
// "customer.name", "invoice.amount", "options.durations", ...), and the
// options a preview computed. Its template "plan-preview" is the preview
// card's contents alone (the live preview's answer). FormID is the form's form_id (a double
// submit creates one plan).
type DashboardPlanNew struct {
	Shell  *DashboardShell
	FormID string
	Form   DashboardPlanForm
	Errors map[string][]string
	// Options are the options the plan would offer (Previewed: the
	// preview ran and the form was valid).
	Options   []DashboardPreviewOption
	Previewed bool
	Intervals []string // the intervals offered as checkboxes
	// Live is set for the live preview's answer (only the card's contents,
	// DashboardPlanNewPage.RenderPart(w, "plan-preview", v)): the card
	// then lists the field errors, which the page shows beside the fields.
	Live bool
}

// DashboardPlanForm is the create form's values as typed.
type DashboardPlanForm struct {
	CustomerName, CustomerEmail, CustomerPhone string
	Amount, Currency, InvoiceNumber            string
	Description                                string
	Intervals                                  []string
	Durations                                  string // "3, 6, 12"
	FirstPaymentDate                           string
	SendIntroductionEmail                      bool
}

// DashboardPreviewOption is one option of a preview.
type DashboardPreviewOption struct {
	Installments     int
	Interval         string
	PaymentAmount    string // with the currency
	FirstPaymentDate string
	FinalPaymentDate string
}

// Err is the message of field ("" when it has none), its messages joined.
func (v DashboardPlanNew) Err(field string) string { return strings.Join(v.Errors[field], " ") }

// HasErrors reports whether the last submit was refused.
func (v DashboardPlanNew) HasErrors() bool { return len(v.Errors) > 0 }

// Checked reports whether interval is among the form's intervals.
func (f DashboardPlanForm) Checked(interval string) bool {
	for _, iv := range f.Intervals {
		if iv == interval {
			return true
		}
	}
	return false
}
