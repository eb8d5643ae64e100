// Package api is goodplan's HTTP surface: the JSON API that merchants'
// systems call (following Good Plan's API reference) and the customer
// portal (server-rendered pages at /plan/{token}). Both run their commands
// through one command path (commands.go, eventstore.Aggregate.Run).
package api

import (
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"goodplan/eventstore"
	"goodplan/projections"
)

// MaxBodyBytes is the largest request body accepted (64 KiB).
const MaxBodyBytes = 64 << 10

// Config is what the API needs.
type Config struct {
	Store     *eventstore.Store
	PublicURL string // base of portal links, e.g. https://pay.example.com
	Version   string // reported by GET /api/health
	Logger    *slog.Logger
	// Now is the clock (nil: time.Now, and the rate limits take their
	// time from the database, one clock for every replica).
	Now func() time.Time

	// IPRateLimit and IPBurst limit the requests per client IP (IPv6: per
	// /64) per minute and per second on the routes without an API key
	// (the portal's /plan/... and /api/health together); 0: no limit.
	// goodplan serve sets 60 and 10 (IP_RATE_LIMIT, IP_BURST).
	IPRateLimit int
	IPBurst     int
	// AuthFailureLimit is how many failed API authentications a client IP
	// may make per minute; past it, its requests with a key not already
	// known get 429 before any lookup. 0: no limit. goodplan serve sets 20
	// (AUTH_FAILURE_LIMIT).
	AuthFailureLimit int
	// TrustedProxies are the peers whose X-Forwarded-For is believed (see
	// clientAddr); none by default.
	TrustedProxies []netip.Prefix
	// HTTPWebhooks allows webhook endpoints with http:// URLs; otherwise
	// they must be https. goodplan serve sets it from
	// WEBHOOK_ALLOW_PRIVATE_NETWORKS.
	HTTPWebhooks bool

	// RequestLog, if set, gets one line per request (see observe); nil logs
	// none. goodplan serve sets its logger.
	RequestLog *slog.Logger
	// Metrics, if set, counts the requests (NewMetrics).
	Metrics *Metrics
	// MetricsHandler, if set, is served at GET /metrics behind
	// MetricsEndpoint(MetricsHandler, MetricsToken); goodplan serve sets it
	// when METRICS_ADDR is not.
	MetricsHandler http.Handler
	MetricsToken   string
	// TracerProvider traces the requests; nil: span contexts are made and
	// passed on, nothing is recorded or exported.
	TracerProvider trace.TracerProvider
}

// Server serves the API. Create it with New.
type Server struct {
	store     *eventstore.Store
	publicURL string
	version   string
	log       *slog.Logger
	now       func() time.Time
	// dbClock: the shared rate limits take their time from the
	// database (Config.Now is nil), one clock for every replica.
	dbClock bool
	// limiter is keyed by the API key's SHA-256.
	limiter *sharedLimiter
	keys    *keyCache
	// ipLimiter and authFailures are keyed by limitKey(client address).
	ipLimiter        *sharedLimiter
	authFailures     *sharedLimiter
	ipRateLimit      int
	ipBurst          int
	authFailureLimit int
	trustedProxies   []netip.Prefix
	httpWebhooks     bool
	plans            *projections.Plans
	catalogPlans     *projections.CatalogPlans
	planGroups       *projections.PlanGroups
	router           chi.Router
	keysMu           sync.Mutex        // guards instanceKeys
	instanceKeys     map[string][]byte // installation-wide keys by name, loaded on first use (instanceKey)
	dash             dashboardConfig   // the dashboard's paths, cookie and limits (dashboard.go)
	requestLog       *slog.Logger
	metrics          *Metrics
	metricsHandler   http.Handler
	tracer           trace.Tracer
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:     cfg.Store,
		publicURL: cfg.PublicURL,
		version:   cfg.Version,
		log:       cfg.Logger,
		now:       cfg.Now,

		ipRateLimit:      cfg.IPRateLimit,
		ipBurst:          cfg.IPBurst,
		authFailureLimit: cfg.AuthFailureLimit,
		trustedProxies:   cfg.TrustedProxies,
		httpWebhooks:     cfg.HTTPWebhooks,
		requestLog:       cfg.RequestLog,
		metrics:          cfg.Metrics,
	}
	if cfg.MetricsHandler != nil {
		s.metricsHandler = MetricsEndpoint(cfg.MetricsHandler, cfg.MetricsToken)
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = untracedProvider()
	}
	s.tracer = tp.Tracer("goodplan/api")
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now, s.dbClock = time.Now, true
	}
	// The rate limits hold for every replica on the database (the
	// rate_windows table, ratelimit_shared.go).
	s.limiter = s.newSharedLimiter("key", maxTrackedClients)
	s.keys = newKeyCache(s.now, s.log)
	s.ipLimiter = s.newSharedLimiter("ip", maxTrackedClients)
	s.authFailures = s.newSharedLimiter("auth_failure", maxTrackedClients)
	s.plans = projections.NewPlans(s.store)
	s.catalogPlans = projections.NewCatalogPlans(s.store)
	s.planGroups = projections.NewPlanGroups(s.store)
	s.dash = newDashboardConfig(s.publicURL, s.now)
	s.dash.loginByEmail = s.newSharedLimiter("login_email", maxTrackedClients)
	s.dash.loginByIP = s.newSharedLimiter("login_ip", maxTrackedClients)
	s.router = s.routes()
	if wrapRouter != nil {
		s.router = wrapRouter(s.router)
	}
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.observe, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, notFound("No route for "+r.Method+" "+r.URL.Path+"."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, &apiError{Title: "Method not allowed",
			Message: r.Method + " is not allowed on " + r.URL.Path + "."})
	})
	r.With(s.limitByIP).Get("/api/health", s.health)
	if s.metricsHandler != nil {
		r.Method(http.MethodGet, "/metrics", s.metricsHandler)
	}
	s.referenceRoutes(r)
	r.Group(func(r chi.Router) {
		r.Use(s.limitByIP)
		s.portalRoutes(r)
	})
	s.geeksRoutes(r)
	s.invoicedRoutes(r)
	s.planGroupDialectRoutes(r)
	s.paygenticRoutes(r)
	s.dashboardRoutes(r)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.authenticate)
		r.Post("/plans", s.createPlan)
		r.Post("/plans/quote", s.quotePlan)
		r.Get("/plans", s.listPlans)
		r.Get("/plans/{id}", s.getPlan)
		r.Get("/plans/{id}/events", s.getPlanEvents)
		s.lifecycleRoutes(r)
		s.catalogRoutes(r)
		s.planGroupRoutes(r)
		r.Post("/webhook-endpoints", s.createWebhookEndpoint)
		r.Get("/webhook-endpoints", s.listWebhookEndpoints)
		r.Get("/webhook-endpoints/{id}", s.getWebhookEndpoint)
		r.Delete("/webhook-endpoints/{id}", s.deleteWebhookEndpoint)
		r.Post("/webhook-endpoints/{id}/rotate-secret", s.rotateWebhookSecret)
		r.Post("/webhook-endpoints/{id}/pause", endpointRoute(s, http.StatusOK, endpointViewed(s.store.PauseEndpoint)))
		r.Post("/webhook-endpoints/{id}/resume", endpointRoute(s, http.StatusOK, endpointViewed(s.store.ResumeEndpoint)))
		r.Post("/webhook-endpoints/{id}/test", s.testWebhookEndpoint)
		r.Get("/webhook-endpoints/{id}/deliveries", s.listWebhookDeliveries)
		r.Post("/webhook-endpoints/{id}/deliveries/{delivery_id}/resend", s.resendWebhookDelivery)
	})
	return r
}

// recoverer turns a panic into a logged, plain JSON 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, &apiError{Title: "Internal server error",
					Message: "Something went wrong on our side; the request may be retried."})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type healthBody struct {
	Status    string `json:"status"`
	Version   string `json:"version"`
	Timestamp string `json:"timestamp"`
	// DeadLetters counts the unresolved dead letters (events a consumer
	// set aside); it does not change the status.
	DeadLetters *int64 `json:"dead_letters,omitempty"`
	// Error and Message are set on the 503 only, like every error body.
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

// health reports availability: 200 {"status":"ok"} when the database
// answers, with "dead_letters", the count of unresolved dead letters;
// 503 {"status":"unavailable"} with the usual "error" and "message" when
// it does not.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	body := healthBody{Status: "ok", Version: s.version, Timestamp: s.now().UTC().Format(time.RFC3339)}
	status := http.StatusOK
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "health: database not answering", "err", err)
		body.Status, status = "unavailable", http.StatusServiceUnavailable
		body.Error, body.Message = "Service unavailable", "The database is not answering."
	} else if n, err := s.store.UnresolvedDeadLetters(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "health: count dead letters", "err", err)
	} else {
		body.DeadLetters = &n
	}
	writeJSON(w, status, body)
}
