package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// What every dashboard form goes through: dashboardForm before anything is
// read or done, dashboardMetadata for the commands it runs.

// dashboardCSRFSecret names the installation-wide key of the dashboard's
// csrf fields (a key of its own: a portal field is worthless here).
const dashboardCSRFSecret = "dashboard-csrf"

// dashboardCSRF returns the csrf field of the forms of session sessionID:
// base64url(HMAC-SHA256(key, "dashboard-csrf:" + session id)). It is bound
// to the session, so it is worthless to another user and dies with the
// session.
func (s *Server) dashboardCSRF(ctx context.Context, sessionID int64) (string, error) {
	return s.dashboardCSRFMAC(ctx, "dashboard-csrf:"+strconv.FormatInt(sessionID, 10))
}

// dashboardCSRFMAC is base64url(HMAC-SHA256(key, msg)) with the key of
// the dashboard's csrf fields: a signed-in form's (dashboardCSRF) and a
// signed-out form's (signedOutCSRF), each with a prefix of its own.
func (s *Server) dashboardCSRFMAC(ctx context.Context, msg string) (string, error) {
	key, err := s.instanceKey(ctx, dashboardCSRFSecret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// sameOrigin reports whether r may be a form of the dashboard's own pages:
// a Sec-Fetch-Site other than same-origin (or none, a navigation the user
// typed) is refused, and so is an Origin that is neither PUBLIC_URL's
// origin nor the address the request was sent to (its Host: the service
// opened at another of its names, such as 127.0.0.1 rather than localhost,
// or a test server on a free port; the browser sets Origin, which a page
// cannot forge, and the session cookie is only ever sent to its own
// host). A request with neither header (not from a browser that sends
// them) passes; the csrf field still guards it.
func (s *Server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default: // cross-site, same-site (a sibling subdomain), or anything unknown
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || strings.EqualFold(o, s.dash.origin) {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// dashboardForm admits a dashboard form POST, behind requireUser: it must
// come from the same origin (sameOrigin) and carry the session's csrf
// field, or it gets the 403 page; a body that cannot be read (or is over
// MaxBodyBytes) gets the 400 page. It returns the signed-in user and true,
// with r.PostForm parsed; when it returns false it has answered and
// nothing may be done. Every dashboard form handler starts with it:
//
//	u, ok := s.dashboardForm(w, r)
//	if !ok {
//		return
//	}
func (s *Server) dashboardForm(w http.ResponseWriter, r *http.Request) (dashboardUser, bool) {
	u, signedIn := r.Context().Value(dashboardUserKey{}).(dashboardUser)
	if !signedIn {
		s.dashboardMessage(w, r, http.StatusForbidden, templates.DashboardForbidden)
		return dashboardUser{}, false
	}
	if !s.sameOriginForm(w, r) {
		return dashboardUser{}, false
	}
	want, err := s.dashboardCSRF(r.Context(), u.sessionID)
	if err != nil {
		s.dashboardFail(w, r, err)
		return dashboardUser{}, false
	}
	if got := r.PostForm.Get("csrf"); got == "" || !hmac.Equal([]byte(got), []byte(want)) {
		s.dashboardMessage(w, r, http.StatusForbidden, templates.DashboardForbidden)
		return dashboardUser{}, false
	}
	return u, true
}

// dashboardMetadata is the event metadata of a command that dashboard user
// u runs: the merchant acted ("actor":"merchant", as with an API key),
// namely this user ("user":{"id":..,"email":..}), from the request's
// address and user agent. A form posted with a well-formed form_id gets a
// command id derived from the user and the whole form, so a double submit
// is applied once. A dashboard command handler runs the same command the
// API does, through the same path:
//
//	u, ok := s.dashboardForm(w, r)
//	if !ok {
//		return
//	}
//	out, err := s.runPlan(ctx, planCommand{ID: id, Meta: s.dashboardMetadata(r, u),
//		Decide: func(p *domain.Plan) ([]domain.Event, error) {
//			if p.AccountID() != u.AccountID {
//				return nil, eventstore.ErrNotFound // another account's plan: 404
//			}
//			return p.Cancel(reason, s.now())
//		}})
func (s *Server) dashboardMetadata(r *http.Request, u dashboardUser) eventstore.Metadata {
	meta := s.metadataFor(r, u.AccountID, domain.SourceMerchant)
	meta.User = &eventstore.ActorUser{ID: u.ID, Email: u.Email}
	meta.CommandID = formCommandID(r, "dashboard:", "user:"+strconv.FormatInt(u.ID, 10)+"\n")
	return meta
}
