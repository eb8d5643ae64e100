package templates

// The dashboard's catalog pages: catalog plans (list, create, detail with
// a quote and the edit form) and plan groups (list, create and edit, the
// report), and the confirmation page of a delete. Values are display text
// made by the api package (amounts as decimal text, dates YYYY-MM-DD).

// catalogPage is a catalog page: the layout, the parts the catalog pages
// share (dashboard/catalog_parts.html) and file.
func catalogPage[V any](file string) DashboardPage[V] {
	return DashboardPage[V]{layoutPage(dashboardFiles, dashboardFuncs, "dashboard/layout.html",
		"dashboard/catalog_parts.html", file)}
}

// DashboardNotice says what was just done: Kind marks it (data-notice),
// Text says it.
type DashboardNotice struct {
	Kind, Text string
}

// The catalog pages.
var (
	DashboardCatalogListPage   = catalogPage[DashboardCatalogList]("dashboard/catalog_list.html")
	DashboardCatalogNewPage    = catalogPage[DashboardCatalogForm]("dashboard/catalog_new.html")
	DashboardCatalogPlanPage   = catalogPage[DashboardCatalogPlan]("dashboard/catalog_plan.html")
	DashboardConfirmDeletePage = catalogPage[DashboardConfirmDelete]("dashboard/confirm_delete.html")
	DashboardGroupListPage     = catalogPage[DashboardGroupList]("dashboard/group_list.html")
	DashboardGroupFormPage     = catalogPage[DashboardGroupForm]("dashboard/group_form.html")
	DashboardGroupReportPage   = catalogPage[DashboardGroupReport]("dashboard/group_report.html")
)

// DashboardCatalogList is the list of catalog plans: the filters as given
// (Currency, Interval, Active: "", "true" or "false"), a page of rows, the
// link to the next page ("" on the last), Error a refused filter's
// message and Notice what was just done ("deleted").
type DashboardCatalogList struct {
	Shell                      *DashboardShell
	Currency, Interval, Active string
	Intervals                  []string
	Items                      []DashboardCatalogRow
	Next                       string
	Error                      string
	Notice                     *DashboardNotice
}

// DashboardCatalogRow is one catalog plan of a list.
type DashboardCatalogRow struct {
	ID, Href, Name, Price, Every, PricingMode string
	Active                                    bool
}

// DashboardTierRow is one tier: its quantities and unit cost as text.
type DashboardTierRow struct {
	MinQty, MaxQty, UnitCost string
}

// DashboardMetaRow is one metadata entry.
type DashboardMetaRow struct {
	Key, Value string
}

// DashboardCatalogForm is the create form of a catalog plan, with the
// values shown again after a refusal (Errors, the problems found).
type DashboardCatalogForm struct {
	Shell                           *DashboardShell
	FormID                          string
	ID, Name, Description           string
	InvoiceDisplayName, CatalogItem string
	Currency, Amount, PricingMode   string
	Interval, IntervalCount         string
	Tiers                           []DashboardTierRow
	Metadata                        []DashboardMetaRow
	Active                          bool
	PricingModes, Intervals         []string
	Errors                          []string
}

// DashboardCatalogPlan is a catalog plan's page: the plan, the quote form
// (Quantity, and the Quote or QuoteError of a quantity asked for), and the
// edit form (Edit, with EditErrors after a refusal). Notice is what was
// just done ("created", "updated").
type DashboardCatalogPlan struct {
	Shell      *DashboardShell
	FormID     string
	Plan       DashboardCatalogDetail
	Quantity   string
	Quote      *DashboardQuote
	QuoteError string
	Edit       DashboardCatalogEdit
	EditErrors []string
	Notice     *DashboardNotice
}

// DashboardCatalogDetail is what a catalog plan's page shows of it.
type DashboardCatalogDetail struct {
	ID, Href, Name, Description, InvoiceDisplayName, CatalogItem string
	Currency, Price, PricingMode, QuantityType, Every            string
	Tiers                                                        []DashboardTierRow
	Metadata                                                     []DashboardMetaRow
	Active                                                       bool
	Created, Updated                                             string
	Quotable                                                     bool // it has a list price
}

// DashboardCatalogEdit is the edit form's values.
type DashboardCatalogEdit struct {
	Name, Description, InvoiceDisplayName string
	Metadata                              []DashboardMetaRow
	Active                                bool
}

// DashboardQuote is the price of a quantity: the total (rounded to the
// currency's minor units) and the exact lines.
type DashboardQuote struct {
	Quantity, Currency, Total string
	Lines                     []DashboardQuoteLine
}

// DashboardQuoteLine is one line of a quote; Tier is "" for per_unit.
type DashboardQuoteLine struct {
	Tier, Quantity, UnitCost, Amount string
}

// DashboardConfirmDelete asks to confirm a delete: of What ("catalog
// plan", "plan group") Name (ID), posted to Action with the submit button's
// data-action Command; Back is the page to return to.
type DashboardConfirmDelete struct {
	Shell                 *DashboardShell
	FormID                string
	What, Name, ID        string
	Action, Command, Back string
	Consequence           string
}

// DashboardGroupList is the list of plan groups: a page of rows, the link
// to the next page ("" on the last), and Notice what was just done
// ("deleted").
type DashboardGroupList struct {
	Shell  *DashboardShell
	Items  []DashboardGroupRow
	Next   string
	Notice *DashboardNotice
}

// DashboardGroupRow is one plan group of a list.
type DashboardGroupRow struct {
	ID, Href, Name, Updated    string
	CatalogPlans, PaymentPlans int
}

// DashboardGroupForm creates (Editing false) or edits a plan group: its
// name, the catalog plans to choose from, the payment plans' ids as typed,
// and Errors after a refusal. The form posts to Action.
type DashboardGroupForm struct {
	Shell        *DashboardShell
	FormID       string
	Action       string
	Editing      bool
	ID, Name     string
	Choices      []DashboardGroupChoice
	PaymentPlans string
	Errors       []string
}

// DashboardGroupChoice is a catalog plan offered as a member.
type DashboardGroupChoice struct {
	ID, Name, Detail string
	Checked          bool
}

// DashboardGroupReport is a plan group's page: its payment plans and the report
// of GET /api/v1/plan-groups/{id}/report. Notice is what was just done
// ("created", "updated").
type DashboardGroupReport struct {
	Shell        *DashboardShell
	ID, Name     string
	PaymentPlans []DashboardPlanLink
	Report       DashboardReport
	Notice       *DashboardNotice
}

// DashboardPlanLink links a payment plan's page.
type DashboardPlanLink struct {
	ID, Href string
}

// DashboardReport is a group report's figures as text.
type DashboardReport struct {
	PaymentPlans int
	ByCurrency   []DashboardReportCurrency
	CatalogPlans int
	Custom       int
	ByInterval   []DashboardReportInterval
	Catalog      []DashboardReportCatalog
}

// DashboardReportCurrency is the payment plans' figures in one currency;
// CureRate and MedianDays are "" when there is none.
type DashboardReportCurrency struct {
	Currency                                                 string
	Count                                                    int
	ByStatus                                                 []DashboardCount
	AmountOwed, Confirmed, Reported, Outstanding, WrittenOff string
	Completed, Closed                                        int
	CureRate, MedianDays                                     string
	ExtendedOrProposed                                       int
	ExtendedOrProposedShare                                  string
}

// DashboardCount is a labelled count.
type DashboardCount struct {
	Label string
	N     int
}

// DashboardReportInterval is the catalog plans of one interval and
// currency.
type DashboardReportInterval struct {
	Interval, Currency string
	Count, Custom      int
	MonthlyListPrice   string
}

// DashboardReportCatalog is one catalog plan's list prices ("" for custom
// pricing).
type DashboardReportCatalog struct {
	ID, Currency, PricingMode, Every string
	ListPrice, MonthlyListPrice      string
}
