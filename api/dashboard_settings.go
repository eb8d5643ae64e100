package api

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// The Settings pages: the account's name and email settings, which every
// user of the account sees and its owners change (eventstore.UpdateAccount,
// the checks of domain.EmailSettings.Change and its neighbours), and the
// owners' list of the account's users.

// customerEmailLabels says in words what each customer email is, in
// domain.CustomerEmailKinds order.
var customerEmailLabels = map[domain.PlanEmailKind]string{
	domain.EmailPaymentConfirmed:    "Payment confirmed",
	domain.EmailPaymentRejected:     "Payment rejected",
	domain.EmailExtensionGranted:    "Extension granted (the new date)",
	domain.EmailInstallmentDeferred: "Installment deferred (the new date)",
	domain.EmailProposalCountered:   "Counter-offer made (with a link to accept it)",
	domain.EmailProposalApproved:    "Proposal approved",
	domain.EmailProposalDeclined:    "Proposal declined",
	domain.EmailPortalLink:          "New portal link",
}

// dashboardSettingsRoutes registers the Settings pages (inside
// requireUser; the changes and the users' page are the owners').
func (s *Server) dashboardSettingsRoutes(r chi.Router) {
	r.Get("/settings", s.dashboardSettingsPage)
	r.Post("/settings/profile", s.dashboardUpdateProfile)
	r.Group(func(r chi.Router) {
		r.Use(s.requireOwner)
		r.Post("/settings/account", s.dashboardUpdateAccount)
		r.Post("/settings/emails", s.dashboardUpdateEmails)
		r.Get("/settings/users", s.dashboardUsersPage)
		r.Post("/settings/users/{id}/role", s.dashboardSetUserRole)
		r.Post("/settings/users/{id}/remove", s.dashboardRemoveUser)
	})
}

// dashboardSettingsPage is GET /dashboard/settings: the settings as
// stored (?saved=account|emails: the notice of a change just saved).
func (s *Server) dashboardSettingsPage(w http.ResponseWriter, r *http.Request) {
	u := dashboardUserOf(r)
	acct, err := s.store.AccountByID(r.Context(), u.AccountID)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v := settingsView(acct)
	if saved := r.URL.Query().Get("saved"); saved == "account" || saved == "emails" || saved == "profile" {
		v.Saved = saved
	}
	s.renderSettings(w, r, http.StatusOK, v)
}

// settingsView shows acct's settings as stored.
func settingsView(acct eventstore.Account) templates.DashboardSettings {
	v := templates.DashboardSettings{Name: acct.Name, SenderName: acct.Emails.SenderName,
		ReminderDays: strconv.Itoa(acct.ReminderDays)}
	for i, e := range acct.Emails.NotifyEmails {
		v.NotifyEmails = append(v.NotifyEmails, templates.DashboardNotifyEmail{N: i + 1, Address: e})
	}
	for _, k := range domain.CustomerEmailKinds {
		v.Switches = append(v.Switches, templates.DashboardEmailSwitch{Kind: string(k), Label: customerEmailLabels[k],
			On: acct.Emails.CustomerEmailOn(k)})
	}
	return v
}

// renderSettings writes the Settings page; an owner's form gets blank
// notification address inputs up to domain.MaxNotifyEmails.
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardSettings) {
	shell := s.settingsShell(w, r)
	if shell == nil {
		return
	}
	v.Shell = shell
	if v.UserNameErrors == nil {
		v.UserName = dashboardUserOf(r).Name
	}
	for shell.Owner && len(v.NotifyEmails) < domain.MaxNotifyEmails {
		v.NotifyEmails = append(v.NotifyEmails, templates.DashboardNotifyEmail{N: len(v.NotifyEmails) + 1})
	}
	renderDashboard(s, w, r, status, templates.DashboardSettingsPage, v)
}

// settingsShell is the shell of a page of the Settings section, or nil
// when it failed (having answered with the 500 page).
func (s *Server) settingsShell(w http.ResponseWriter, r *http.Request) *templates.DashboardShell {
	shell, err := s.dashboardShell(r, s.dash.root+"/settings")
	if err != nil {
		s.dashboardFail(w, r, err)
		return nil
	}
	return shell
}

// dashboardUpdateProfile is POST /dashboard/settings/profile (csrf, name;
// every user, for themselves): the signed-in user's display name, shown in
// the dashboard and in the plans' history. 303 back to Settings with the
// notice, or a 422 with the form and the message (nothing changed).
func (s *Server) dashboardUpdateProfile(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	name := r.PostForm.Get("name")
	_, err := s.store.SetUserName(r.Context(), u.AccountID, u.ID, name)
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		acct, aerr := s.store.AccountByID(r.Context(), u.AccountID)
		if aerr != nil {
			s.dashboardFail(w, r, aerr)
			return
		}
		v := settingsView(acct)
		v.UserName, v.UserNameErrors = name, ve.Fields[eventstore.UserFieldName]
		s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
	case err != nil:
		s.dashboardFail(w, r, err)
	default:
		http.Redirect(w, r, s.dash.root+"/settings?saved=profile", http.StatusSeeOther)
	}
}

// dashboardUpdateAccount is POST /dashboard/settings/account (csrf, name;
// owners): 303 back to Settings with the notice, or a 422 with the form
// and the messages (nothing changed).
func (s *Server) dashboardUpdateAccount(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	name := r.PostForm.Get("name")
	s.updateSettings(w, r, u, "account", eventstore.AccountChange{Name: &name}, func(v *templates.DashboardSettings, msgs []string) {
		v.Name, v.NameErrors = name, msgs
	})
}

// dashboardUpdateEmails is POST /dashboard/settings/emails (csrf,
// sender_name, reminder_days, notify_email (each input; blank ones are
// left out), customer_email (the kinds switched on; every other one is
// switched off); owners): as dashboardUpdateAccount.
func (s *Server) dashboardUpdateEmails(w http.ResponseWriter, r *http.Request) {
	u, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	sender, days := f.Get("sender_name"), f.Get("reminder_days")
	notify := slices.DeleteFunc(slices.Clone(f["notify_email"]), func(e string) bool { return strings.TrimSpace(e) == "" })
	on := map[string]bool{}
	for _, k := range domain.CustomerEmailKinds {
		on[string(k)] = slices.Contains(f["customer_email"], string(k))
	}
	change := eventstore.AccountChange{ReminderDays: &days,
		Emails: domain.EmailSettingsChange{SenderName: &sender, NotifyEmails: &notify, CustomerEmails: on}}
	s.updateSettings(w, r, u, "emails", change, func(v *templates.DashboardSettings, msgs []string) {
		v.SenderName, v.ReminderDays, v.EmailErrors = sender, days, msgs
		v.NotifyEmails = nil
		for i, e := range notify {
			v.NotifyEmails = append(v.NotifyEmails, templates.DashboardNotifyEmail{N: i + 1, Address: e})
		}
		for i := range v.Switches {
			v.Switches[i].On = on[v.Switches[i].Kind]
		}
	})
}

// updateSettings applies change to u's account: a 303 to Settings with
// the notice of form saved, or, for a refused change, a 422 with the
// stored settings, the form's values as typed and the messages put back
// by shown.
func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request, u dashboardUser, saved string,
	change eventstore.AccountChange, shown func(v *templates.DashboardSettings, msgs []string)) {
	_, err := s.store.UpdateAccount(r.Context(), u.AccountID, change)
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		acct, aerr := s.store.AccountByID(r.Context(), u.AccountID)
		if aerr != nil {
			s.dashboardFail(w, r, aerr)
			return
		}
		v := settingsView(acct)
		var msgs []string
		for _, f := range slices.Sorted(maps.Keys(ve.Fields)) {
			msgs = append(msgs, ve.Fields[f]...)
		}
		shown(&v, msgs)
		s.renderSettings(w, r, http.StatusUnprocessableEntity, v)
	case err != nil:
		s.dashboardFail(w, r, err)
	default:
		http.Redirect(w, r, s.dash.root+"/settings?saved="+saved, http.StatusSeeOther)
	}
}

// usersPageSize is how many users the users' page lists at a time.
const usersPageSize = 25

// dashboardUsersPage is GET /dashboard/settings/users[?after=id] (owners):
// the account's users, oldest first, a page at a time from the one after
// after (?done=role-changed|user-removed: the notice of a change just
// made).
func (s *Server) dashboardUsersPage(w http.ResponseWriter, r *http.Request) {
	v := templates.DashboardUsers{}
	if done := r.URL.Query().Get("done"); done == "role-changed" || done == "user-removed" {
		v.Notice = done
	}
	s.renderUsers(w, r, http.StatusOK, v)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardUsers) {
	shell := s.settingsShell(w, r)
	if shell == nil {
		return
	}
	var after int64
	if a := r.URL.Query().Get("after"); a != "" && r.Method == http.MethodGet {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 1 {
			s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
			return
		}
		after = n
	}
	users, more, err := s.store.AccountUsersPage(r.Context(), shell.AccountID, after, usersPageSize)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	if more && len(users) > 0 {
		v.NextHref = s.dash.root + "/settings/users?after=" + strconv.FormatInt(users[len(users)-1].ID, 10)
	}
	if after > 0 {
		v.FirstHref = s.dash.root + "/settings/users"
	}
	v.Shell = shell
	me := dashboardUserOf(r).ID
	for _, u := range users {
		v.Users = append(v.Users, templates.DashboardUserRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role,
			Created: dashTime(&u.CreatedAt), Self: u.ID == me})
	}
	renderDashboard(s, w, r, status, templates.DashboardUsersPage, v)
}

// dashboardSetUserRole is POST /dashboard/settings/users/{id}/role (csrf,
// role; owners).
func (s *Server) dashboardSetUserRole(w http.ResponseWriter, r *http.Request) {
	s.changeUser(w, r, "role-changed", func(owner dashboardUser, id int64) error {
		_, err := s.store.SetUserRole(r.Context(), owner.AccountID, id, r.PostForm.Get("role"))
		return err
	})
}

// dashboardRemoveUser is POST /dashboard/settings/users/{id}/remove (csrf;
// owners).
func (s *Server) dashboardRemoveUser(w http.ResponseWriter, r *http.Request) {
	s.changeUser(w, r, "user-removed", func(owner dashboardUser, id int64) error {
		return s.store.RemoveUser(r.Context(), owner.AccountID, id)
	})
}

// changeUser runs change on user {id} of the owner's account: a 303 to
// the users' page with the notice done (to Settings when owners changed
// themselves: they may be no owner any more, or no user), a 422 with the
// page and the refusal for the last owner or a bad role (nothing
// changed), a 404 for a user of another account or none.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request, done string, change func(owner dashboardUser, id int64) error) {
	owner, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err == nil {
		err = change(owner, id)
	} else {
		err = eventstore.ErrNotFound
	}
	var ve *domain.ValidationError
	switch {
	case errors.Is(err, eventstore.ErrLastOwner):
		s.renderUsers(w, r, http.StatusUnprocessableEntity, templates.DashboardUsers{
			Error: "The account's last owner can be neither made a member nor removed: make another user an owner first."})
	case errors.As(err, &ve):
		s.renderUsers(w, r, http.StatusUnprocessableEntity, templates.DashboardUsers{Error: "The role must be owner or member."})
	case errors.Is(err, eventstore.ErrNotFound):
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
	case err != nil:
		s.dashboardFail(w, r, err)
	case id == owner.ID:
		http.Redirect(w, r, s.dash.root+"/settings", http.StatusSeeOther)
	default:
		http.Redirect(w, r, s.dash.root+"/settings/users?done="+done, http.StatusSeeOther)
	}
}
