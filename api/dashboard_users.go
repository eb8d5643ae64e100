package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// Password resets and invitations: the pages of the one-time links the
// email worker sends (workers/email_user.go), the "forgot your password?"
// form, and an owner's invitation form.

// maxLinkToken bounds a link token worth looking up (real ones are 43
// characters).
const maxLinkToken = 64

// dashboardUserRoutes registers the signed-out pages (in the dashboard's
// route, outside requireUser).
func (s *Server) dashboardUserRoutes(r chi.Router) {
	r.Get("/forgot", s.dashboardForgotPage)
	r.Post("/forgot", s.dashboardForgot)
	r.Get("/{kind:reset|invite}/{token}", s.dashboardLinkPage)
	r.Post("/{kind:reset|invite}/{token}", s.dashboardSetPassword)
}

// dashboardOwnerUserRoutes registers the owner's user pages (inside
// requireOwner).
func (s *Server) dashboardOwnerUserRoutes(r chi.Router) {
	r.Get("/users/invite", s.dashboardInvitePage)
	r.Post("/users/invite", s.dashboardInvite)
}

// dashboardForgotPage is GET /dashboard/forgot.
func (s *Server) dashboardForgotPage(w http.ResponseWriter, r *http.Request) {
	s.renderForgot(w, r, http.StatusOK, templates.DashboardForgot{})
}

func (s *Server) renderForgot(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardForgot) {
	csrf, err := s.signedOutCSRF(w, r)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v.Root, v.CSRF = s.dash.root, csrf
	renderDashboard(s, w, r, status, templates.DashboardForgotPage, v)
}

// dashboardForgot is POST /dashboard/forgot (email, csrf): if a user has the
// email, the email worker sends them a reset link. The answer is the same
// page either way, so it does not tell whether the email is a user's.
// Requests count against the sign-in limits' numbers (per email and per
// client address, in a scope of their own): past them, a 429. A csrf
// field that is not the form cookie's is a 403 with the form, nothing
// counted or sent (signedOutForm).
func (s *Server) dashboardForgot(w http.ResponseWriter, r *http.Request) {
	valid, ok := s.signedOutForm(w, r)
	if !ok {
		return
	}
	email := formEmail(r)
	if !valid {
		s.renderForgot(w, r, http.StatusForbidden, templates.DashboardForgot{Email: email, Error: formErrExpired})
		return
	}
	keys := s.attemptKeysOf(r, "reset", email)
	if wait := s.attemptsBlocked(r.Context(), keys); wait > 0 {
		setRetryAfter(w, wait)
		noteRefusal(r, "dashboard_reset")
		s.renderForgot(w, r, http.StatusTooManyRequests, templates.DashboardForgot{Email: email, Error: resetErrLimited})
		return
	}
	s.countAttempt(r.Context(), keys)
	u, err := s.store.UserByEmail(r.Context(), email)
	if err == nil {
		meta := s.metadataFor(r, u.AccountID, domain.SourceMerchant)
		meta.User = &eventstore.ActorUser{ID: u.ID, Email: u.Email}
		_, err = s.store.RequestUserEmail(r.Context(), u, eventstore.TokenReset, s.now(), meta)
	}
	if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
		s.dashboardFail(w, r, err)
		return
	}
	s.renderForgot(w, r, http.StatusOK, templates.DashboardForgot{Sent: true})
}

// dashboardLink is the user a one-time link opens, or false (having
// answered with the "link gone" page).
func (s *Server) dashboardLink(w http.ResponseWriter, r *http.Request) (eventstore.User, bool) {
	kind, token := chi.URLParam(r, "kind"), chi.URLParam(r, "token")
	if len(token) > maxLinkToken {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardLinkGone)
		return eventstore.User{}, false
	}
	u, err := s.store.UserByToken(r.Context(), kind, token, s.now())
	if errors.Is(err, eventstore.ErrTokenInvalid) {
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardLinkGone)
		return eventstore.User{}, false
	}
	if err != nil {
		s.dashboardFail(w, r, err)
		return eventstore.User{}, false
	}
	return u, true
}

// dashboardLinkPage is GET /dashboard/{reset|invite}/{token}: the form to
// choose a password, or the "link gone" page. A GET changes nothing (mail
// scanners open links).
func (s *Server) dashboardLinkPage(w http.ResponseWriter, r *http.Request) {
	if u, ok := s.dashboardLink(w, r); ok {
		s.renderSetPassword(w, r, http.StatusOK, u, "")
	}
}

func (s *Server) renderSetPassword(w http.ResponseWriter, r *http.Request, status int, u eventstore.User, msg string) {
	csrf, err := s.signedOutCSRF(w, r)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	kind := chi.URLParam(r, "kind")
	v := templates.DashboardSetPassword{Action: s.dash.root + "/" + kind + "/" + chi.URLParam(r, "token"), Kind: kind,
		Email: u.Email, Error: msg, CSRF: csrf}
	if acct, err := s.store.AccountByID(r.Context(), u.AccountID); err == nil {
		v.AccountName = acct.Name
	}
	renderDashboard(s, w, r, status, templates.DashboardSetPasswordPage, v)
}

// dashboardSetPassword is POST /dashboard/{reset|invite}/{token}
// (password, csrf): the link is spent, the password set, the user's other
// sessions ended, and the user signed in (303 to the dashboard with a new
// session). A password too short or too long is a 422 with the form (the
// link still works); a used, expired or unknown link the "link gone" page;
// a csrf field that is not the form cookie's a 403 with the form, the link
// unspent (signedOutForm).
func (s *Server) dashboardSetPassword(w http.ResponseWriter, r *http.Request) {
	valid, ok := s.signedOutForm(w, r)
	if !ok {
		return
	}
	u, ok := s.dashboardLink(w, r)
	if !ok {
		return
	}
	if !valid {
		s.renderSetPassword(w, r, http.StatusForbidden, u, formErrExpired)
		return
	}
	_, err := s.store.SetPasswordWithToken(r.Context(), chi.URLParam(r, "kind"), chi.URLParam(r, "token"),
		r.PostForm.Get("password"), s.now())
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderSetPassword(w, r, http.StatusUnprocessableEntity, u, ve.Fields[eventstore.UserFieldPassword][0])
	case errors.Is(err, eventstore.ErrTokenInvalid): // used by a racing request
		s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardLinkGone)
	case err != nil:
		s.dashboardFail(w, r, err)
	default:
		s.startSession(w, r, u.ID)
	}
}

// dashboardInvitePage is GET /dashboard/users/invite (owners).
func (s *Server) dashboardInvitePage(w http.ResponseWriter, r *http.Request) {
	v := templates.DashboardInvite{}
	if sent := r.URL.Query().Get("sent"); domain.ValidEmail(sent) { // the notice shows nothing else from a URL
		v.Sent = sent
	}
	s.renderInvite(w, r, http.StatusOK, v)
}

func (s *Server) renderInvite(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardInvite) {
	shell := s.settingsShell(w, r)
	if shell == nil {
		return
	}
	v.Shell, v.FormID = shell, newFormID()
	renderDashboard(s, w, r, status, templates.DashboardInvitePage, v)
}

// dashboardInvite is POST /dashboard/users/invite (csrf, email, name,
// role; owners): the user is created without a password and the email
// worker sends them an invitation link; 303 back to the form with the
// notice. A refused form (bad email, taken email) is a 422 with the form.
// The same form posted twice invites once.
func (s *Server) dashboardInvite(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.dashboardForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	nu := eventstore.NewUser{AccountID: owner.AccountID, Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"),
		Role: r.PostForm.Get("role")}
	shown := templates.DashboardInvite{Email: nu.Email, Name: nu.Name, Role: nu.Role}
	meta := s.dashboardMetadata(r, owner)
	u, err := s.store.InviteUser(ctx, nu)
	if errors.Is(err, eventstore.ErrEmailTaken) && meta.CommandID != "" {
		if _, lerr := s.store.LookupCommand(ctx, meta.CommandID); lerr == nil {
			err = nil // this very form was applied already: answer as the first time
			u.Email = eventstore.NormalizeEmail(nu.Email)
		}
	} else if err == nil {
		_, err = s.store.RequestUserEmail(ctx, u, eventstore.TokenInvite, s.now(), meta)
	}
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		for _, f := range []string{eventstore.UserFieldEmail, eventstore.UserFieldName, eventstore.UserFieldRole} {
			if msgs := ve.Fields[f]; len(msgs) > 0 {
				shown.Error = msgs[0]
				break
			}
		}
		s.renderInvite(w, r, http.StatusUnprocessableEntity, shown)
	case errors.Is(err, eventstore.ErrEmailTaken):
		shown.Error = "A user with this email exists already."
		s.renderInvite(w, r, http.StatusUnprocessableEntity, shown)
	case err != nil:
		s.dashboardFail(w, r, err)
	default:
		http.Redirect(w, r, s.dash.root+"/users/invite?sent="+url.QueryEscape(u.Email), http.StatusSeeOther)
	}
}
