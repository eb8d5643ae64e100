package templates

// DashboardPlanPage is a plan's page in the dashboard.
var DashboardPlanPage = dashboardPage[DashboardPlan]("dashboard/plan.html")

// DashboardPlan is a plan's page: everything about it, and a form for
// every command its state allows (Can, and the per-row flags), each
// posted to Action + "/" + the command's name with the plan's Version and
// a FormID.
type DashboardPlan struct {
	Shell   *DashboardShell
	PlanID  int64
	Version int64
	Action  string // the plan page's path; forms post to Action/{command}
	FormID  string
	Status  string // the plan status ("active")
	// Notice is what the last command did ("" for none), named by its
	// command (see plan.html); Problem is why the last form was refused,
	// ProblemAction its command and Problems the field messages.
	Notice        string
	Problem       string
	ProblemAction string
	Problems      []string

	CustomerName, CustomerEmail, CustomerPhone     string
	InvoiceNumber, Description, Amount, Currency   string
	CreatedAt, UpdatedAt, ActivatedAt, CompletedAt string
	ClosedAt, ClosedReason, Interval, Today        string
	// PortalURL is the plan's portal link, shown on the page a
	// portal-link form (a new link; Notice "portal-link") or a
	// copy-portal-link form (the current link; Notice "copy-portal-link")
	// leads to, that once only ("" on every other visit: the link is a
	// bearer secret of the customer's).
	PortalURL string

	Options   []DashboardPlanOption
	Schedule  []DashboardInstallment
	Ledger    DashboardLedger
	Payments  []DashboardPayment
	Proposals []DashboardProposal
	Consent   *DashboardConsent
	Emails    []DashboardEmail
	Webhooks  []DashboardWebhook
	Timeline  []DashboardEvent
	// OlderEvents is the link to the events before the ones shown ("" when
	// the first is shown).
	OlderEvents string
	Can         DashboardPlanCan
	Methods     []string // payment methods, for the record-payment form
	Intervals   []string // intervals, for the counter-offer form
}

// DashboardPlanCan is which plan-wide commands the plan's state allows.
type DashboardPlanCan struct {
	RecordPayment, Cancel, WriteOff, Reactivate, PortalLink, ResendIntroduction bool
	// CopyPortalLink: the current portal link works, so it may be shown
	// (once) to copy it; not a domain command, nothing is appended.
	CopyPortalLink bool
}

// DashboardPlanOption is one option offered; Chosen is the customer's.
type DashboardPlanOption struct {
	ID                                            int64
	Installments                                  int
	Interval, PaymentAmount, FirstDate, FinalDate string
	Chosen                                        bool
}

// DashboardInstallment is one installment of the schedule, with the
// commands allowed on it.
type DashboardInstallment struct {
	Number                                     int
	DueDate, Amount, Paid, Outstanding, Status string
	Overdue, Extend, Defer                     bool
	MinDueDate                                 string // the earliest date it may be extended to
}

// DashboardLedger is the plan's money: owed (the invoice), confirmed,
// reported (awaiting confirmation) and outstanding.
type DashboardLedger struct {
	Total, Paid, Reported, Outstanding string
}

// DashboardPayment is one payment, with the commands allowed on it.
type DashboardPayment struct {
	ID                                                      int64
	Status, Amount, PaidOn, Method, Reference, Source, When string
	Confirmed, RejectReason                                 string
	Confirm, Reject                                         bool
}

// DashboardProposal is one of the customer's proposals and the answers,
// with the commands allowed on it.
type DashboardProposal struct {
	ID                             int64
	Status, Terms, Amount, When    string
	Counter, Message               string
	Approve, CounterOffer, Decline bool
}

// DashboardConsent is the customer's agreement to the schedule.
type DashboardConsent struct {
	At, IP, UserAgent string
}

// DashboardEmail is an email of the plan (to the customer, or a
// notification to the merchant) and where it stands; To is its address
// ("" for the introduction and the notices, which go to the customer).
type DashboardEmail struct {
	What, Status, When, Detail string
	To                         string
}

// DashboardWebhook is one delivery of one of the plan's events.
type DashboardWebhook struct {
	EventType, EndpointURL, State, When, LastStatus, Latency, Excerpt string
	Attempts                                                          int
}

// DashboardEvent is one entry of the plan's history: what happened, who
// did it and when.
type DashboardEvent struct {
	Version    int64
	Type, What string
	Actor      string // "customer", "merchant", "scheduler", ...
	ActorName  string // who exactly: the dashboard user's email, "API key", ...
	When       string
}
