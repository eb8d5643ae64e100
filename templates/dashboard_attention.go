package templates

// DashboardHome is the landing page, Needs attention: one list per kind
// of plan that waits for the merchant (Lists, in page order), then the
// failing webhook endpoints (Endpoints; nil for a member, who cannot manage
// webhooks).
type DashboardHome struct {
	Shell     *DashboardShell
	Today     string // the day overdue is counted from (UTC), 2006-01-02
	Lists     []DashboardAttentionList
	Endpoints *DashboardAttentionList
}

// DashboardAttentionList is the first rows of one kind (Kind, the rows'
// data-attention mark) and how many there are in all; More links to all of
// them ("" when Rows are all there is).
type DashboardAttentionList struct {
	Kind        string
	Title       string // the section's heading
	SinceHeader string // the heading of the Since column
	Empty       string // what an empty list says
	Rows        []DashboardAttentionRow
	Total       string // "12", or "1000 or more"
	More        string
}

// DashboardAttentionRow is one row: a plan (PlanID) or, for a failing
// webhook endpoint, the endpoint (EndpointID; PlanID 0). Href is the one
// click to act on it.
type DashboardAttentionRow struct {
	PlanID     int64
	EndpointID int64
	Href       string
	Label      string // the link's text: "Plan 12", or the endpoint's URL
	Customer   string // name, and email below it
	Email      string
	Invoice    string
	Amount     string // with its currency, e.g. "150.00 USD"; for an endpoint, its failures
	Since      string // a date, 2006-01-02
	// PlanHref is, on an endpoint's row, the plan of its latest failed
	// delivery (PlanID), when that was a plan's event.
	PlanHref string
}

// DashboardOverview is the Overview page: the weekly chart of each
// currency (Cash), what is owed by plan status (Outstanding), the cure rate
// and the median days to completion. Every figure is text computed
// exactly (domain.BuildOverview); the charts' geometry too.
type DashboardOverview struct {
	Shell       *DashboardShell
	FirstWeek   string // the Monday of the first week shown
	LastWeek    string // the Sunday of the last week shown
	Cash        []DashboardCashChart
	Outstanding []DashboardStatusChart
	Plans       int
	Completed   int
	Closed      int
	CurePercent string // "" when no plan is closed
	MedianDays  string // "" when no plan completed
}

// DashboardCashChart is one currency's weekly bars: Width is the SVG's
// viewBox width; each week's two bars are at X (due) and X+BarWidth
// (collected), their heights percentages of the chart's top.
type DashboardCashChart struct {
	ID               string // unique on the page, for aria references
	Currency         string
	Width            int
	Weeks            []DashboardCashWeek
	Due, Collected   string
	CollectedPercent string // "" when nothing fell due
	Max              string
}

// DashboardCashWeek is one week of a cash chart.
type DashboardCashWeek struct {
	Week, Label                string // the Monday (2006-01-02) and its short label ("Nov 2")
	X, CollectedX              int
	Due, Collected             string
	DueHeight, CollectedHeight string // 0 to 100
}

// DashboardStatusChart is one currency's outstanding by status: one
// horizontal bar per status at Y, Width a percentage of the largest.
type DashboardStatusChart struct {
	ID          string
	Currency    string
	Height      int // the SVG's viewBox height
	Rows        []DashboardStatusRow
	Outstanding string
}

// DashboardStatusRow is one status of a status chart.
type DashboardStatusRow struct {
	Status, Label string
	Y, TextY      int
	Plans         int
	Outstanding   string
	Width         string // 0 to 100
}

// Geometry of the dashboard's charts (SVG user units).
const (
	DashboardCashWeekWidth = 30 // one week: two bars and a gap
	DashboardCashBarWidth  = 12
	DashboardStatusRowStep = 28 // one status bar and its gap
)
