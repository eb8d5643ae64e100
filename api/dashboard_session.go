package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"goodplan/eventstore"
	"goodplan/templates"
)

// Signing in and out of the dashboard, and the middleware that makes a
// page need a signed-in user.

const (
	// sessionCookie holds the session token. Only its SHA-256 is stored
	// (eventstore.Users.CreateSession).
	sessionCookie = "goodplan_session"
	// sessionTokenLen is the length of a token: 32 bytes, base64url.
	sessionTokenLen = 43
	// loginFailuresPerEmail and loginFailuresPerIP are how many failed
	// sign-ins an email address, and a client address (IPv6: its /64),
	// may have in a sliding minute; past either, sign-ins are refused with
	// a 429 (a right password too) until the minute has passed.
	loginFailuresPerEmail = 5
	loginFailuresPerIP    = 20
	// formCookie holds the random token of the signed-out forms' csrf
	// field (signedOutCSRF); formCookieMaxAge is its life, renewed each
	// time a signed-out form is shown.
	formCookie       = "goodplan_form"
	formCookieMaxAge = int(time.Hour / time.Second)
	// maxLoginEmail bounds the email field read (the password is bounded by
	// eventstore.MaxPasswordBytes, beyond which nothing is hashed).
	maxLoginEmail = 254
)

// The messages of a refused sign-in. The credentials message is the same
// for an unknown email and a wrong password.
const (
	loginErrCredentials = "The email or password is incorrect."
	loginErrLimited     = "Too many sign-in attempts. Please wait a minute, then try again."
	formErrExpired      = "This form has expired. Please try again."
	resetErrLimited     = "Too many requests for a new password. Please wait a minute, then try again."
)

// dashboardUser is the signed-in user of a request, put in its context by
// requireUser.
type dashboardUser struct {
	ID          int64
	AccountID   int64
	AccountName string
	Email       string
	Name        string
	Role        string // eventstore.RoleOwner or RoleMember
	sessionID   int64  // binds the csrf field (dashboardCSRF)
}

func (u dashboardUser) owner() bool { return u.Role == eventstore.RoleOwner }

type dashboardUserKey struct{}

// dashboardUserOf returns the user requireUser put in r's context; the
// zero user (no account, no role) if there is none.
func dashboardUserOf(r *http.Request) dashboardUser {
	u, _ := r.Context().Value(dashboardUserKey{}).(dashboardUser)
	return u
}

// requireUser lets through a request with a live session, with its user
// in the context (dashboardUserOf). Without one, a GET or HEAD is
// redirected (303) to the sign-in page and anything else gets the 403
// page, having changed nothing.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return s.requireSession(next, false)
}

// requireUserOrSignIn is requireUser for a POST that changes nothing (the
// create form's live preview): without a session it too is redirected
// (303) to the sign-in page.
func (s *Server) requireUserOrSignIn(next http.Handler) http.Handler {
	return s.requireSession(next, true)
}

func (s *Server) requireSession(next http.Handler, redirectAll bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.dashboardSession(r)
		if errors.Is(err, eventstore.ErrNotFound) {
			if redirectAll || r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, s.dash.root+"/login", http.StatusSeeOther)
				return
			}
			s.dashboardMessage(w, r, http.StatusForbidden, templates.DashboardForbidden)
			return
		}
		if err != nil {
			s.dashboardFail(w, r, err)
			return
		}
		u := dashboardUser{ID: sess.User.ID, AccountID: sess.User.AccountID, AccountName: sess.AccountName,
			Email: sess.User.Email, Name: sess.User.Name, Role: sess.User.Role, sessionID: sess.ID}
		noteAccount(r, u.AccountID)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), dashboardUserKey{}, u)))
	})
}

// requireOwner, after requireUser, lets only owners through; a member
// gets the 403 page.
func (s *Server) requireOwner(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !dashboardUserOf(r).owner() {
			s.dashboardMessage(w, r, http.StatusForbidden, templates.DashboardOwnerOnly)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// dashboardSession returns the live session of r's cookie, or ErrNotFound.
func (s *Server) dashboardSession(r *http.Request) (eventstore.Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != sessionTokenLen {
		return eventstore.Session{}, eventstore.ErrNotFound
	}
	return s.store.SessionByToken(r.Context(), c.Value, s.now())
}

// setSessionCookie gives the browser the session token (value "" with
// maxAge < 0 removes it). It is HttpOnly, SameSite=Lax, Secure when
// PUBLIC_URL is https, and sent only under the dashboard's path.
func (s *Server) setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: s.dash.root, MaxAge: maxAge,
		HttpOnly: true, Secure: s.dash.secureCookie, SameSite: http.SameSiteLaxMode})
}

// dashboardLoginPage is GET /dashboard/login: the sign-in form, or the
// dashboard for a user signed in already.
func (s *Server) dashboardLoginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.dashboardSession(r); err == nil {
		http.Redirect(w, r, s.dash.root, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, templates.DashboardLogin{})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v templates.DashboardLogin) {
	csrf, err := s.signedOutCSRF(w, r)
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	v.Root, v.Action, v.CSRF = s.dash.root, s.dash.root+"/login", csrf
	renderDashboard(s, w, r, status, templates.DashboardLoginPage, v)
}

// dashboardLogin is POST /dashboard/login (email, password, csrf). Success is a
// 303 to the dashboard with a new session's cookie. An unknown email and a
// wrong password get the same 401 page, set no cookie and take the same
// time (eventstore.Users.AuthenticateUser); past the failures allowed per
// email or per client address, a 429 before any password is checked. A
// cross-origin post is the 403 page, and so is a csrf field that is not
// the form cookie's (the form again, nothing counted); see signedOutForm.
func (s *Server) dashboardLogin(w http.ResponseWriter, r *http.Request) {
	valid, ok := s.signedOutForm(w, r)
	if !ok {
		return
	}
	email := formEmail(r)
	shown := templates.DashboardLogin{Email: email}
	if !valid {
		shown.Error, shown.ErrorKind = formErrExpired, "expired"
		s.renderLogin(w, r, http.StatusForbidden, shown)
		return
	}
	keys := s.attemptKeysOf(r, "login", email)
	if wait := s.attemptsBlocked(r.Context(), keys); wait > 0 {
		setRetryAfter(w, wait)
		shown.Error, shown.ErrorKind = loginErrLimited, "limited"
		noteRefusal(r, "dashboard_login")
		s.renderLogin(w, r, http.StatusTooManyRequests, shown)
		return
	}
	u, err := s.store.AuthenticateUser(r.Context(), email, r.PostForm.Get("password"))
	if errors.Is(err, eventstore.ErrBadCredentials) {
		s.countAttempt(r.Context(), keys)
		shown.Error, shown.ErrorKind = loginErrCredentials, "credentials"
		s.renderLogin(w, r, http.StatusUnauthorized, shown)
		return
	}
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	s.startSession(w, r, u.ID)
}

// startSession signs user userID in: a new session, its cookie, and a 303
// to the dashboard.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64) {
	token, _, err := s.store.CreateSession(r.Context(), userID, s.now())
	if err != nil {
		s.dashboardFail(w, r, err)
		return
	}
	s.setSessionCookie(w, token, int(eventstore.SessionMaxAge/time.Second))
	http.Redirect(w, r, s.dash.root, http.StatusSeeOther)
}

// sameOriginForm admits a form POST from the dashboard's own pages
// (sameOrigin): a cross-origin post gets the 403 page, an unreadable body
// (or one over MaxBodyBytes) the 400 page, and false; otherwise r.PostForm
// is parsed and it returns true. Signed-out forms go through
// signedOutForm, signed-in ones through dashboardForm.
func (s *Server) sameOriginForm(w http.ResponseWriter, r *http.Request) bool {
	if !s.sameOrigin(r) {
		s.dashboardMessage(w, r, http.StatusForbidden, templates.DashboardForbidden)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.dashboardMessage(w, r, http.StatusBadRequest, templates.DashboardBadRequest)
		return false
	}
	return true
}

// formEmail is the email field of r's form, normalised and cut to
// maxLoginEmail bytes (an email longer than that names nobody).
func formEmail(r *http.Request) string {
	email := eventstore.NormalizeEmail(r.PostForm.Get("email"))
	if len(email) > maxLoginEmail {
		email = email[:maxLoginEmail]
	}
	return email
}

// attemptKeys are the limiter keys of an attempt (a sign-in, a reset
// request) by scope for email, from r's client address.
type attemptKeys struct {
	email, ip [32]byte
	hasIP     bool
}

func (s *Server) attemptKeysOf(r *http.Request, scope, email string) attemptKeys {
	k := attemptKeys{email: sha256.Sum256([]byte("dashboard-" + scope + ":" + email))}
	if a := s.clientAddr(r); a.IsValid() {
		k.ip, k.hasIP = limitKey(a), true
	}
	return k
}

// attemptsBlocked returns how long until an attempt with keys is allowed
// (loginFailuresPerEmail, loginFailuresPerIP in a sliding minute), 0 if it
// is allowed now. It counts nothing: see countAttempt.
func (s *Server) attemptsBlocked(ctx context.Context, k attemptKeys) time.Duration {
	wait := s.dash.loginByEmail.peekOr(ctx, k.email, loginFailuresPerEmail, 0).retryAfter
	if k.hasIP {
		wait = max(wait, s.dash.loginByIP.peekOr(ctx, k.ip, loginFailuresPerIP, 0).retryAfter)
	}
	return wait
}

// countAttempt counts an attempt (a failed sign-in, a reset request)
// against keys.
func (s *Server) countAttempt(ctx context.Context, k attemptKeys) {
	s.dash.loginByEmail.allowOr(ctx, k.email, loginFailuresPerEmail, 0)
	if k.hasIP {
		s.dash.loginByIP.allowOr(ctx, k.ip, loginFailuresPerIP, 0)
	}
}

// dashboardLogout is POST /dashboard/logout (csrf): the session is deleted
// on the server, so its cookie opens nothing any more, and the browser is
// told to drop it; 303 to the sign-in page.
func (s *Server) dashboardLogout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.dashboardForm(w, r); !ok {
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.store.DeleteSession(r.Context(), c.Value); err != nil {
			s.dashboardFail(w, r, err)
			return
		}
	}
	s.setSessionCookie(w, "", -1)
	http.Redirect(w, r, s.dash.root+"/login", http.StatusSeeOther)
}

// signedOutCSRF returns the csrf field of the signed-out forms (sign-in,
// reset request, a one-time link's password): base64url(HMAC-SHA256(key,
// "dashboard-csrf-signed-out:" + token)), token being the random value of
// the form cookie. The cookie (HttpOnly, SameSite=Lax, Secure as the
// session cookie, under the dashboard's path) is reused when the browser
// has one, so forms open in two tabs both work, and given a new hour of
// life.
func (s *Server) signedOutCSRF(w http.ResponseWriter, r *http.Request) (string, error) {
	token := formCookieToken(r)
	if token == "" {
		var b [32]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		token = base64.RawURLEncoding.EncodeToString(b[:])
	}
	csrf, err := s.dashboardCSRFMAC(r.Context(), "dashboard-csrf-signed-out:"+token)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: token, Path: s.dash.root, MaxAge: formCookieMaxAge,
		HttpOnly: true, Secure: s.dash.secureCookie, SameSite: http.SameSiteLaxMode})
	return csrf, nil
}

// formCookieToken is the value of r's form cookie, "" if it has none of
// the right length.
func formCookieToken(r *http.Request) string {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == sessionTokenLen {
		return c.Value
	}
	return ""
}

// signedOutForm admits a signed-out form's POST: first sameOriginForm (a
// cross-origin post is the 403 page, and ok is false). Then the csrf
// field: valid is false when the field is there but is not the one of the
// form cookie (compared in constant time; no cookie matches nothing): the
// caller answers 403 with its form again (which renews the cookie) and
// does nothing else. A post with no csrf field at all is valid once the
// same-origin check has passed: the sign-in is documented as the fields
// email and password, which scripts post alone, and a browser (the only
// thing a foreign page could post through) sends Origin or Sec-Fetch-Site,
// which sameOrigin checks.
func (s *Server) signedOutForm(w http.ResponseWriter, r *http.Request) (valid, ok bool) {
	if !s.sameOriginForm(w, r) {
		return false, false
	}
	got, sent := r.PostForm["csrf"]
	if !sent {
		return true, true
	}
	token := formCookieToken(r)
	if token == "" || len(got) != 1 {
		return false, true
	}
	want, err := s.dashboardCSRFMAC(r.Context(), "dashboard-csrf-signed-out:"+token)
	if err != nil {
		s.dashboardFail(w, r, err)
		return false, false
	}
	if !hmac.Equal([]byte(got[0]), []byte(want)) {
		return false, true
	}
	return true, true
}
