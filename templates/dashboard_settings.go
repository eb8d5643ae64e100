package templates

// The Settings pages: the account's name and email settings (every user
// sees them; owners change them) and the account's users (owners only).
var (
	DashboardSettingsPage = dashboardPage[DashboardSettings]("dashboard/settings.html")
	DashboardUsersPage    = dashboardPage[DashboardUsers]("dashboard/users.html")
)

// DashboardSettings is the Settings page. Each form's values are as
// stored, or as typed after a refusal (with the refusal's messages in
// NameErrors or EmailErrors). Saved names the form whose change was just
// stored ("account" or "emails"). A member (Shell.Owner false) sees the
// values without forms.
type DashboardSettings struct {
	Shell *DashboardShell
	Saved string
	// UserName is the signed-in user's display name (their own form).
	UserName       string
	UserNameErrors []string
	Name           string
	NameErrors     []string
	SenderName     string
	ReminderDays   string
	// NotifyEmails has one entry per input of the form (the addresses,
	// then blanks up to the most an account may have).
	NotifyEmails []DashboardNotifyEmail
	Switches     []DashboardEmailSwitch
	EmailErrors  []string
}

// DashboardEmailSwitch is the switch of one customer email: its kind
// (the form's value), what it is in words, and whether it is on.
type DashboardEmailSwitch struct {
	Kind, Label string
	On          bool
}

// DashboardNotifyEmail is one input of the notification addresses: its
// number (from 1) and its address ("" for a blank one).
type DashboardNotifyEmail struct {
	N       int
	Address string
}

// DashboardUsers is the owners' list of the account's users, each with
// the forms that change its role and remove it. Notice names the change
// just made ("role-changed" or "user-removed"); Error is why the last
// change was refused.
type DashboardUsers struct {
	Shell *DashboardShell
	Users []DashboardUserRow // a page, oldest first
	// NextHref links to the next page ("" on the last), FirstHref back to
	// the first ("" on it).
	NextHref, FirstHref string
	Notice              string
	Error               string
}

// DashboardUserRow is one user of the account; Self marks the signed-in
// user.
type DashboardUserRow struct {
	ID                         int64
	Name, Email, Role, Created string
	Self                       bool
}
