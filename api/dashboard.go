package api

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"goodplan/templates"
)

// The merchant dashboard: server-rendered pages at /dashboard for the
// merchant's users, usable without JavaScript. Like the portal, a GET
// never changes state and every change is a form POST answered with a 303
// (Post/Redirect/Get). What guards it, once for every page:
//   - requireUser (dashboard_session.go): a signed-in user, from a
//     server-side session, or a 303 to the sign-in page (403 for a POST);
//     requireOwner for the owners' pages;
//   - dashboardForm (dashboard_forms.go): the csrf field of the session
//     and a same-origin request, before any form is read;
//   - dashboardMetadata (dashboard_forms.go): commands run through the
//     same command path as the API's, with the user as the actor.
//
// A new page is a handler registered in dashboardRoutes, inside the
// requireUser group (and requireOwner's when it is an owner's), rendering
// a template of templates/dashboard with s.dashboardShell as its Shell.

// dashboardConfig is what the dashboard derives from Config once.
type dashboardConfig struct {
	root         string // path of the dashboard: PUBLIC_URL's path + "/dashboard"
	origin       string // PUBLIC_URL's origin ("https://pay.example.com"), the only one a form may come from
	secureCookie bool   // PUBLIC_URL is https: the session cookie is Secure
	// loginByEmail and loginByIP count failed sign-ins (see loginBlocked);
	// New sets them, shared by every replica.
	loginByEmail *sharedLimiter
	loginByIP    *sharedLimiter
}

func newDashboardConfig(publicURL string, now func() time.Time) dashboardConfig {
	c := dashboardConfig{root: "/dashboard"}
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		c.root = strings.TrimRight(u.Path, "/") + "/dashboard"
		c.origin = strings.ToLower(u.Scheme + "://" + u.Host)
		c.secureCookie = u.Scheme == "https"
	}
	return c
}

// dashboardHeaders are the dashboard pages' headers: see pageHeaders. The
// Referer stays within the service (no token is ever in a dashboard URL).
var dashboardHeaders = pageHeaders(templates.DashboardContentSecurityPolicy, "same-origin")

// dashboardRoutes registers the dashboard (mounted from routes with this
// one call).
func (s *Server) dashboardRoutes(r chi.Router) {
	r.Route("/dashboard", func(r chi.Router) {
		r.Use(s.pageRecoverer("/dashboard/…", func(w http.ResponseWriter, r *http.Request) {
			s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
		}), dashboardHeaders)
		// An unknown address is the sign-in page's business first: without
		// a session every address of the dashboard leads there.
		r.NotFound(s.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.dashboardMessage(w, r, http.StatusNotFound, templates.DashboardNotFound)
		})).ServeHTTP)
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			s.dashboardMessage(w, r, http.StatusMethodNotAllowed, templates.DashboardBadRequest)
		})
		r.Get("/login", s.dashboardLoginPage)
		r.Post("/login", s.dashboardLogin)
		s.dashboardUserRoutes(r)
		s.dashboardPlanPreviewRoutes(r)
		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Post("/logout", s.dashboardLogout)
			s.dashboardSummaryRoutes(r)
			s.dashboardPlanRoutes(r)
			s.dashboardCatalogRoutes(r)
			s.dashboardPlanListRoutes(r)
			s.dashboardSettingsRoutes(r)
			r.Group(func(r chi.Router) {
				r.Use(s.requireOwner)
				// The owners' pages (developers, settings' users) go here.
				s.dashboardOwnerUserRoutes(r)
				s.dashboardDeveloperRoutes(r)
			})
		})
	})
}

// dashboardShell is the layout's part of a signed-in page whose section is
// current (a path under s.dash.root): the account, the user, the
// navigation and the csrf field of the page's forms. r must have passed
// requireUser.
func (s *Server) dashboardShell(r *http.Request, current string) (*templates.DashboardShell, error) {
	u := dashboardUserOf(r)
	csrf, err := s.dashboardCSRF(r.Context(), u.sessionID)
	if err != nil {
		return nil, err
	}
	return &templates.DashboardShell{Root: s.dash.root, Current: current, AccountID: u.AccountID,
		AccountName: u.AccountName, UserName: u.Name, UserEmail: u.Email, Owner: u.owner(), CSRF: csrf}, nil
}

// renderDashboard writes page for v with status, or a plain 500 (logged)
// if it fails to render.
func renderDashboard[V any](s *Server, w http.ResponseWriter, r *http.Request, status int, page templates.DashboardPage[V], v V) {
	s.writePage(w, r, status, "dashboard page", func(w io.Writer) error { return page.Render(w, v) })
}

// dashboardMessage writes a one-message page with status, with the
// signed-in layout when r has a user.
func (s *Server) dashboardMessage(w http.ResponseWriter, r *http.Request, status int, kind templates.DashboardMessageKind) {
	v := templates.DashboardMessage{Root: s.dash.root, Kind: kind}
	if _, ok := r.Context().Value(dashboardUserKey{}).(dashboardUser); ok {
		if shell, err := s.dashboardShell(r, ""); err == nil {
			v.Shell = shell
		}
	}
	renderDashboard(s, w, r, status, templates.DashboardMessagePage, v)
}

// dashboardFail answers a request that failed on our side: logged, and the
// 500 page.
func (s *Server) dashboardFail(w http.ResponseWriter, r *http.Request, err error) {
	path := r.URL.Path
	if token := chi.URLParam(r, "token"); token != "" {
		path = strings.ReplaceAll(path, token, "…") // a one-time link's token is a secret
	}
	if clientGone(r) {
		s.log.InfoContext(r.Context(), "request canceled by the client", "method", r.Method, "path", path, "err", err)
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	s.log.ErrorContext(r.Context(), "dashboard error", "method", r.Method, "path", path, "err", err)
	s.dashboardMessage(w, r, http.StatusInternalServerError, templates.DashboardError)
}
