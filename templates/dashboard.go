package templates

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
)

// The merchant dashboard's pages: server-rendered, usable without
// JavaScript, one layout (dashboard/layout.html) around one page file each.
// A new page adds its file and a DashboardPage var below; its value type
// has a Shell field (see DashboardShell).

//go:embed dashboard/*.html dashboard/dashboard.css dashboard/copy.js dashboard/preview.js
var dashboardFiles embed.FS

// dashboardCSS is the dashboard's whole style sheet, inlined in every page.
var dashboardCSS = embeddedAsset(dashboardFiles, "dashboard/dashboard.css")

// dashboardCopyJS is a script of the dashboard, inlined where a secret
// is shown once: it reveals the "Copy" buttons (data-copy="{id of the
// field}") and copies the field on a click. Without it the read-only field
// is selected and copied by hand.
var dashboardCopyJS = embeddedAsset(dashboardFiles, "dashboard/copy.js")

// dashboardPreviewJS is the other script, inlined in the create-plan form:
// the live preview of the options (it posts the form to the form's
// data-preview-action as it is typed and puts the answer in the preview
// card). Without it the "Preview the options" button does the same.
var dashboardPreviewJS = embeddedAsset(dashboardFiles, "dashboard/preview.js")

// DashboardContentSecurityPolicy is the Content-Security-Policy header
// value of dashboard pages: no images, no frames, forms posted only to the
// service itself, only the inline style sheet and the two scripts (by
// their hashes), and a script may only fetch from the service itself (the
// live preview).
var DashboardContentSecurityPolicy = "default-src 'none'; style-src '" + portalCSSHash(dashboardCSS) +
	"'; script-src '" + portalCSSHash(dashboardCopyJS) + "' '" + portalCSSHash(dashboardPreviewJS) +
	"'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// The dashboard's pages, each rendered from values of its own type.
var (
	DashboardLoginPage       = dashboardPage[DashboardLogin]("dashboard/login.html")
	DashboardHomePage        = dashboardPage[DashboardHome]("dashboard/home.html")
	DashboardOverviewPage    = dashboardPage[DashboardOverview]("dashboard/overview.html")
	DashboardMessagePage     = dashboardPage[DashboardMessage]("dashboard/message.html")
	DashboardForgotPage      = dashboardPage[DashboardForgot]("dashboard/forgot.html")
	DashboardSetPasswordPage = dashboardPage[DashboardSetPassword]("dashboard/set_password.html")
	DashboardInvitePage      = dashboardPage[DashboardInvite]("dashboard/invite.html")
)

// DashboardPage is a parsed dashboard page (the layout and one page file)
// that shows values of type V.
type DashboardPage[V any] struct {
	t *htmltemplate.Template
}

func dashboardPage[V any](file string) DashboardPage[V] {
	return DashboardPage[V]{layoutPage(dashboardFiles, dashboardFuncs, "dashboard/layout.html", file)}
}

// Render writes the page for v. It returns an error only if the template
// fails to execute; nothing is written then.
func (p DashboardPage[V]) Render(w io.Writer, v V) error {
	return executeLayout(w, p.t, v)
}

// RenderPart writes only the page's template name for v (a fragment a
// script puts into the page, such as the create form's "plan-preview").
// It returns an error only if the template fails to execute; nothing is
// written then.
func (p DashboardPage[V]) RenderPart(w io.Writer, name string, v V) error {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err := b.WriteTo(w)
	return err
}

var dashboardFuncs = htmltemplate.FuncMap{
	// The style sheet is a constant of this package, never data.
	"css": func() htmltemplate.CSS { return htmltemplate.CSS(dashboardCSS) },
	// The copy script is a constant of this package too.
	"copyjs": func() htmltemplate.JS { return htmltemplate.JS(dashboardCopyJS) },
	// And so is the live preview's.
	"previewjs": func() htmltemplate.JS { return htmltemplate.JS(dashboardPreviewJS) },
	// An amount for people, as everywhere: Money.
	"money": Money,
}

// DashboardShell is what the layout of every signed-in page shows: the
// account and the user in the header, the navigation with the current
// page marked, and the sign-out form. CSRF is the value of the hidden csrf
// field of every form on the page, the sign-out form's included.
type DashboardShell struct {
	Root        string // path of the dashboard, e.g. "/dashboard"
	Current     string // path of the page's section, e.g. Root+"/plans"; Root for the landing page
	AccountID   int64
	AccountName string
	UserName    string
	UserEmail   string
	Owner       bool // the user is an owner (sees the owner-only sections)
	CSRF        string
}

// DashboardNavLink is one entry of the dashboard's navigation.
type DashboardNavLink struct {
	Href, Label string
	Current     bool
}

// Nav returns the navigation: Needs attention, Overview, Plans, Catalog, Plan
// groups, Developers (owners only) and Settings, the one whose path is
// Current marked.
func (s *DashboardShell) Nav() []DashboardNavLink {
	links := []DashboardNavLink{
		{Href: s.Root, Label: "Needs attention"},
		{Href: s.Root + "/overview", Label: "Overview"},
		{Href: s.Root + "/plans", Label: "Plans"},
		{Href: s.Root + "/catalog", Label: "Catalog"},
		{Href: s.Root + "/plan-groups", Label: "Plan groups"},
	}
	if s.Owner {
		links = append(links, DashboardNavLink{Href: s.Root + "/developers", Label: "Developers"})
	}
	links = append(links, DashboardNavLink{Href: s.Root + "/settings", Label: "Settings"})
	for i := range links {
		links[i].Current = links[i].Href == s.Current
	}
	return links
}

// DashboardLogin is the sign-in page. Action is the path the form posts to;
// Email is shown again after a refusal; Error is the refusal's message and
// ErrorKind its kind ("credentials" or "limited").
type DashboardLogin struct {
	Shell     *DashboardShell // always nil: nobody is signed in
	Root      string          // path of the dashboard (the "forgot" link is under it)
	Action    string
	CSRF      string // the signed-out forms' csrf field (its cookie set with the page)
	Email     string
	Error     string
	ErrorKind string
}

// DashboardMessageKind names a one-message dashboard page.
type DashboardMessageKind string

// The one-message pages.
const (
	DashboardForbidden  DashboardMessageKind = "forbidden"   // a form without a valid csrf, or cross-origin (403)
	DashboardOwnerOnly  DashboardMessageKind = "owner_only"  // a member on an owner's page (403)
	DashboardNotFound   DashboardMessageKind = "not_found"   // no such page (404)
	DashboardLinkGone   DashboardMessageKind = "link_gone"   // a one-time link used, expired or unknown (404)
	DashboardBadRequest DashboardMessageKind = "bad_request" // a form that cannot be read (400)
	DashboardError      DashboardMessageKind = "error"       // an error on our side (500)
)

// DashboardMessage is a one-message page. Shell is nil when nobody is
// signed in; Root is the dashboard's path, linked from the page.
type DashboardMessage struct {
	Shell *DashboardShell
	Root  string
	Kind  DashboardMessageKind
}

// DashboardForgot is the "forgot your password?" page: the email form, or
// (Sent) the answer, the same whether or not a user has the email.
type DashboardForgot struct {
	Shell *DashboardShell // always nil
	Root  string
	CSRF  string // as DashboardLogin's
	Email string
	Error string
	Sent  bool
}

// DashboardSetPassword is the page of a one-time link (Kind "invite" or
// "reset"): the form that sets the password of the user with Email, posted
// to Action (the link's own path).
type DashboardSetPassword struct {
	Shell       *DashboardShell // always nil
	Action      string
	Kind        string
	AccountName string
	Email       string
	Error       string
	CSRF        string // as DashboardLogin's
}

// DashboardInvite is an owner's form to invite a user: the values shown
// again after a refusal (Error), and Sent, the email of the invitation
// just sent. FormID is the form's form_id (a double submit invites once).
type DashboardInvite struct {
	Shell             *DashboardShell
	FormID            string
	Email, Name, Role string
	Sent              string
	Error             string
}
