package templates

// The Developers pages (owners only): API keys and webhook endpoints.

// The Developers pages.
var (
	DashboardDevelopersPage        = dashboardPage[DashboardDevelopers]("dashboard/developers.html")
	DashboardWebhookDeliveriesPage = dashboardPage[DashboardWebhookDeliveries]("dashboard/webhook_deliveries.html")
)

// DashboardDevelopers is the Developers page: the account's API keys and
// webhook endpoints, and the forms that manage them.
//
// NewKey and NewSecret are shown once: they are set only on the answer to
// the POST that made them (generating a key, creating an endpoint,
// rotating its secret), never from a URL, and are not kept anywhere the
// page could show them again.
type DashboardDevelopers struct {
	Shell *DashboardShell
	// Keys are a page of the account's keys, newest first; OlderKeys links
	// to the next page ("" on the last), NewestKeys back to the first (""
	// on it).
	Keys                  []DashboardAPIKey
	OlderKeys, NewestKeys string
	Endpoints             []DashboardEndpoint
	// NewKey is the key just generated ("gp_..."), or "".
	NewKey string
	// NewSecret is the secret of the endpoint just created or rotated.
	NewSecret *DashboardNewSecret
	// Form is the endpoint form (as posted, after a refusal).
	Form DashboardEndpointForm
	// EventTypes are Good Plan's types, CatalogTypes the catalog's, offered
	// as checkboxes; AllEvents is the value of "every type" ("*").
	EventTypes, CatalogTypes []string
	AllEvents                string
	// Notice names what the last action did (see the template), Error why
	// it was refused.
	Notice string
	Error  string
	// EndpointLimit is how many endpoints an account may have.
	EndpointLimit int
	// KeyFormID is the generate-key form's form_id: one key per form;
	// RotateFormID the rotate-secret forms': one rotation per endpoint and
	// page.
	KeyFormID, RotateFormID string
}

// DashboardAPIKey is an API key as listed: never the key, its first
// characters only. Times are formatted already; LastUsed is "" for a key
// never used, Revoked "" for a live key.
type DashboardAPIKey struct {
	ID                         int64
	Prefix                     string
	Created, LastUsed, Revoked string
}

// DashboardEndpoint is a webhook endpoint as listed (never its secret).
type DashboardEndpoint struct {
	ID      int64
	URL     string
	Events  []string // as subscribed; empty: Good Plan's types
	Created string
	Paused  string // when it was paused, or ""
	// Disabled is when it was disabled (it answered 410 Gone), or "", and
	// DisabledReason why.
	Disabled, DisabledReason string
}

// DashboardNewSecret is an endpoint's secret, shown once: after the
// endpoint was created (Rotated false) or its secret rotated (the previous
// one still signs deliveries until PreviousUntil).
type DashboardNewSecret struct {
	EndpointID    int64
	URL           string
	Secret        string
	Rotated       bool
	PreviousUntil string
}

// DashboardEndpointForm is the new endpoint form's values and refusals
// (Errors by field: "url", "events").
type DashboardEndpointForm struct {
	URL    string
	Events []string
	Errors map[string][]string
	// FormID is the form's form_id: one endpoint per form.
	FormID string
}

// Checked reports whether the form has typ among its events.
func (f DashboardEndpointForm) Checked(typ string) bool {
	for _, e := range f.Events {
		if e == typ {
			return true
		}
	}
	return false
}

// DashboardWebhookDeliveries is one endpoint's delivery log, newest first,
// paged by id (Before: the link to the next page's ?before=, 0 if none).
type DashboardWebhookDeliveries struct {
	Shell      *DashboardShell
	Endpoint   DashboardEndpoint
	Deliveries []DashboardDelivery
	Before     int64
	Notice     string
	Error      string
}

// DashboardDelivery is one delivery with its last attempt: Status is the
// HTTP status ("" if no response), LatencyMS the time it took, Excerpt the
// start of the response body (text, escaped when shown), AttemptError why
// no response arrived. Resendable is true when it has finished.
type DashboardDelivery struct {
	ID           int64
	EventID      string
	EventType    string
	State        string
	Attempts     int
	Created      string
	Status       string
	LatencyMS    string
	Excerpt      string
	AttemptError string
	Resendable   bool
}
