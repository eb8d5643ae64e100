package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/templates"
)

// The customer portal: server-rendered pages at /plan/{token}, no
// JavaScript. A GET never changes state (mail scanners prefetch links);
// every change is a form POST carrying a token-bound CSRF field, behind
// net/http's cross-origin protection, answered with a 303 back to the page
// (Post/Redirect/Get). Pages are rendered from the plan folded from the
// event store, so the page after a POST is current.

// Notices shown after a successful form (?done=...).
const (
	noticeSelected = "selected"
	noticePayment  = "payment"
	noticeProposal = "proposal"
	noticeAccepted = "accepted"
)

var portalNotices = []string{noticeSelected, noticePayment, noticeProposal, noticeAccepted}

const (
	// maxPortalToken bounds a token worth looking up (real ones are 43
	// characters).
	maxPortalToken = 128
	// portalCSRFSecret names the installation-wide CSRF key.
	portalCSRFSecret = "portal-csrf"
	// formIDLen is the length of a form_id: 16 random bytes, base64url.
	formIDLen = 22
)

// errPortalLinkGone: the token opens no plan (unknown, replaced or expired).
var errPortalLinkGone = errors.New("portal link opens no plan")

// portalRoutes registers the portal outside the authenticated API.
func (s *Server) portalRoutes(r chi.Router) {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.portalMessage(w, r, http.StatusForbidden, templates.PortalForbidden)
	}))
	notFound := func(w http.ResponseWriter, r *http.Request) {
		s.portalMessage(w, r, http.StatusNotFound, templates.PortalNotFound)
	}
	// A link cut short by a mail client still gets the friendly page.
	r.With(portalHeaders).Get("/plan", notFound)
	r.With(portalHeaders).Get("/plan/", notFound)
	r.Route("/plan/{token}", func(r chi.Router) {
		r.Use(s.portalRecoverer, portalHeaders)
		r.NotFound(notFound)
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			s.portalMessage(w, r, http.StatusMethodNotAllowed, templates.PortalBadRequest)
		})
		r.Get("/", s.portalPage)
		r.Head("/", s.portalPage)
		// A form's address opened with GET (a bookmark, a reload after a
		// refused form) goes back to the page and changes nothing.
		for _, path := range []string{"/select", "/payments", "/proposals", "/proposals/{id}/accept"} {
			r.Get(path, s.portalBackToPage)
		}
		r.Group(func(r chi.Router) {
			r.Use(cop.Handler)
			r.Post("/select", s.portalSelect)
			r.Post("/payments", s.portalReportPayment)
			r.Post("/proposals", s.portalPropose)
			r.Post("/proposals/{id}/accept", s.portalAcceptCounter)
		})
	})
}

// portalHeaders keeps portal pages out of shared caches, keeps the token
// out of Referer headers and forbids framing, scripts and foreign form
// targets.
var portalHeaders = pageHeaders(templates.PortalContentSecurityPolicy, "no-referrer")

// pageHeaders are the headers of every HTML page (portal and dashboard):
// no caching anywhere (the pages are personal), the given
// Content-Security-Policy and Referrer-Policy, no framing, no MIME
// sniffing, no indexing.
func pageHeaders(csp, referrerPolicy string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("Referrer-Policy", referrerPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Robots-Tag", "noindex, nofollow")
			next.ServeHTTP(w, r)
		})
	}
}

// portalRecoverer turns a panic in a portal handler into the HTML error
// page (the API's recoverer answers JSON). The path holds the token, a
// secret: it is not logged.
func (s *Server) portalRecoverer(next http.Handler) http.Handler {
	return s.pageRecoverer("/plan/…", func(w http.ResponseWriter, r *http.Request) {
		s.portalMessage(w, r, http.StatusInternalServerError, templates.PortalError)
	})(next)
}

// pageRecoverer turns a panic into page, an HTML 500, logging logPath as
// the request's path.
func (s *Server) pageRecoverer(logPath string, page http.HandlerFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", logPath, "panic", v)
					page(w, r)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// portalPage is GET /plan/{token}.
func (s *Server) portalPage(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	p, err := s.portalPlan(r.Context(), token)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	var st portalState
	if done := r.URL.Query().Get("done"); slices.Contains(portalNotices, done) {
		st.notice = done
	}
	s.renderPortalPlan(w, r, p, token, http.StatusOK, st)
}

// portalBackToPage sends a GET of a form's address to the page.
func (s *Server) portalBackToPage(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.portalPath(chi.URLParam(r, "token")), http.StatusSeeOther)
}

// portalPlan returns the plan token opens now: the plan id in the token
// (or, for a link made before ids were put in tokens, the read model) finds
// the plan, and the plan's own events decide whether the token still works,
// so a link opens the moment its event is committed and a replaced one stops
// at once. errPortalLinkGone otherwise.
func (s *Server) portalPlan(ctx context.Context, token string) (*domain.Plan, error) {
	if token == "" || len(token) > maxPortalToken {
		return nil, errPortalLinkGone
	}
	id, ok := planIDOfToken(token)
	if !ok {
		var err error
		id, err = s.plans.PlanIDByToken(ctx, token)
		if errors.Is(err, eventstore.ErrNotFound) {
			return nil, errPortalLinkGone
		}
		if err != nil {
			return nil, err
		}
	}
	p, _, err := s.store.CurrentPlan(ctx, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, errPortalLinkGone
	}
	if err != nil {
		return nil, err
	}
	if !p.PortalLinkWorks(token, s.now()) {
		return nil, errPortalLinkGone
	}
	return p, nil
}

// portalSelect is POST /plan/{token}/select (option_id): the customer's
// choice, with consent, activates the plan.
func (s *Server) portalSelect(w http.ResponseWriter, r *http.Request) {
	s.portalPost(w, r, portalCommand{done: noticeSelected,
		decide: func(p *domain.Plan, in portalInput) ([]domain.Event, error) {
			id, err := strconv.ParseInt(strings.TrimSpace(in.form.Get("option_id")), 10, 64)
			if err != nil || id <= 0 {
				return nil, &domain.NotFoundError{Msg: "Please choose one of the options below."}
			}
			return p.SelectOption(domain.SelectOption{OptionID: id, Consent: in.consent})
		}})
}

// portalReportPayment is POST /plan/{token}/payments (amount, paid_on,
// method, reference).
func (s *Server) portalReportPayment(w http.ResponseWriter, r *http.Request) {
	s.portalPost(w, r, portalCommand{done: noticePayment, form: portalPaymentForm, newID: true,
		decide: func(p *domain.Plan, in portalInput) ([]domain.Event, error) {
			return p.ReportPayment(domain.PaymentInput{PaymentID: in.id, Amount: in.form.Get("amount"),
				PaidOn: in.form.Get("paid_on"), Method: in.form.Get("method"), Reference: in.form.Get("reference"),
				Now: in.consent.At})
		}})
}

// portalPropose is POST /plan/{token}/proposals (installments, interval,
// first_payment_date).
func (s *Server) portalPropose(w http.ResponseWriter, r *http.Request) {
	s.portalPost(w, r, portalCommand{done: noticeProposal, form: portalProposalForm, newID: true,
		decide: func(p *domain.Plan, in portalInput) ([]domain.Event, error) {
			return p.ProposeSchedule(in.id, domain.TermsInput{Installments: in.form.Get("installments"),
				Interval: in.form.Get("interval"), FirstPaymentDate: in.form.Get("first_payment_date")}, in.consent)
		}})
}

// portalAcceptCounter is POST /plan/{token}/proposals/{id}/accept: the
// customer accepts the merchant's counter-offer, with consent.
func (s *Server) portalAcceptCounter(w http.ResponseWriter, r *http.Request) {
	raw := chi.URLParam(r, "id")
	s.portalPost(w, r, portalCommand{done: noticeAccepted,
		decide: func(p *domain.Plan, in portalInput) ([]domain.Event, error) {
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || id <= 0 {
				return nil, &domain.NotFoundError{Msg: "That proposal was not found on this plan."}
			}
			return p.AcceptCounter(id, in.consent)
		}})
}

// The forms whose fields are shown again, with their errors, when refused.
const (
	portalPaymentForm  = "payment"
	portalProposalForm = "proposal"
)

var portalFormFields = map[string][]string{
	portalPaymentForm:  {"amount", "paid_on", "method", "reference"},
	portalProposalForm: {"installments", "interval", "first_payment_date"},
}

// portalCommand is one customer form: decide returns the events for the
// plan as loaded; done is the notice shown after it; form names the form
// whose fields carry validation errors ("" shows them at the top); newID
// allocates an id for the payment or proposal it creates.
type portalCommand struct {
	done   string
	form   string
	newID  bool
	decide func(*domain.Plan, portalInput) ([]domain.Event, error)
}

// portalInput is what a decision gets from the request.
type portalInput struct {
	form    url.Values
	consent domain.Consent // At is the decision time
	id      int64
}

// portalPost runs a customer's form: a missing or wrong csrf field is a 403
// page, a link that opens no plan the 404 page, and nothing is appended in
// either case. A form posted twice (a double click, a retried request) is
// applied once. Success redirects to the page with a notice; a refusal
// shows the page as the plan now is, with the reason.
func (s *Server) portalPost(w http.ResponseWriter, r *http.Request, cmd portalCommand) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		s.portalMessage(w, r, http.StatusBadRequest, templates.PortalBadRequest)
		return
	}
	token := chi.URLParam(r, "token")
	ok, err := s.portalCSRFValid(ctx, token, r.PostForm.Get("csrf"))
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	if !ok {
		s.portalMessage(w, r, http.StatusForbidden, templates.PortalForbidden)
		return
	}
	p, err := s.portalPlan(ctx, token)
	if err != nil {
		s.portalFail(w, r, err)
		return
	}
	meta := s.portalMetadata(r, p.AccountID())
	in := portalInput{form: r.PostForm, consent: domain.Consent{At: s.now().UTC(), IP: meta.IP, UserAgent: meta.UserAgent}}
	if cmd.newID {
		ids, err := s.newIDs(ctx, 1)
		if err != nil {
			s.portalFail(w, r, err)
			return
		}
		in.id = ids[0]
	}
	// The command id is the form's (see portalMetadata): the same form
	// posted again, or twice at once, is answered as the first one was.
	_, err = s.runPlan(ctx, planCommand{ID: p.ID(), Meta: meta, Decide: func(p *domain.Plan) ([]domain.Event, error) {
		if !p.PortalLinkWorks(token, in.consent.At) {
			return nil, errPortalLinkGone // replaced since the lookup
		}
		return cmd.decide(p, in)
	}})
	if err == nil || errors.Is(err, eventstore.ErrDuplicateCommand) || errors.Is(err, eventstore.ErrCommandReused) {
		s.portalDone(w, r, token, cmd.done)
		return
	}
	s.portalRefused(w, r, token, cmd, err)
}

// portalDone redirects to the page with the notice of a successful form.
func (s *Server) portalDone(w http.ResponseWriter, r *http.Request, token, done string) {
	http.Redirect(w, r, s.portalPath(token)+"?done="+done, http.StatusSeeOther)
}

// portalFail answers a request that cannot show the plan: the friendly 404
// for a link that opens no plan, the 500 page (logged) for anything else.
func (s *Server) portalFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errPortalLinkGone) || errors.Is(err, eventstore.ErrNotFound) {
		s.portalMessage(w, r, http.StatusNotFound, templates.PortalNotFound)
		return
	}
	// The path holds the token, a secret: it is not logged.
	if clientGone(r) {
		s.log.InfoContext(r.Context(), "portal: request canceled by the client", "method", r.Method, "err", err)
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	if eventstore.IsUnavailable(err) {
		s.log.WarnContext(r.Context(), "portal: database unavailable", "method", r.Method, "err", err)
		w.Header().Set("Retry-After", "1")
		s.portalMessage(w, r, http.StatusServiceUnavailable, templates.PortalError)
		return
	}
	s.log.ErrorContext(r.Context(), "portal error", "method", r.Method, "err", err)
	s.portalMessage(w, r, http.StatusInternalServerError, templates.PortalError)
}

// portalMessage writes a one-message page with status.
func (s *Server) portalMessage(w http.ResponseWriter, r *http.Request, status int, kind templates.PortalMessageKind) {
	s.writePage(w, r, status, "portal message", func(w io.Writer) error { return templates.RenderPortalMessage(w, kind) })
}

// writePage writes the HTML page render produces with status, or, if it
// fails (logged as what), a plain 500: the page that failed is the error
// page itself, or one whose error page would fail the same way.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, what string, render func(io.Writer) error) {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		s.log.ErrorContext(r.Context(), "render "+what, "err", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, b.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
