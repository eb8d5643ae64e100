package api

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// headerTraceparent is the W3C trace context header.
const headerTraceparent = "Traceparent"

// requestInfo is what the handlers of one request tell the observe
// middleware: the account that acted and the limit that refused it. It
// travels in the request's context as a pointer, set by observe.
type requestInfo struct {
	accountID   int64
	limit       string // the rate limit that answered 429 ("" if none did)
	traceparent string // this request's span as a W3C traceparent
}

type requestInfoKey struct{}

// infoOf is r's requestInfo; a throwaway one outside observe.
func infoOf(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// noteAccount records the account a request acts for, for its log line.
func noteAccount(r *http.Request, id int64) { infoOf(r).accountID = id }

// noteRefusal records which limit answered 429, for
// goodplan_rate_limit_refusals_total{limit}.
func noteRefusal(r *http.Request, limit string) { infoOf(r).limit = limit }

// untracedProvider is the tracer of a server without an exporter: every
// request still gets a span context (a new span id, in the caller's trace
// or a new one) to record and pass on, but no span is recorded unless the
// caller's traceparent asks for sampling, and nothing is exported.
func untracedProvider() trace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
}

// observe runs around every request: it takes the caller's X-Request-Id
// when valid (cleanRequestID) or generates one, and echoes it; continues
// the caller's W3C traceparent (or starts a trace) with a server span whose
// traceparent is recorded in the events' metadata and echoed; and once the
// handler is done, counts the request (Metrics) and writes one log line
// (Config.RequestLog) naming the route pattern, never the path: a portal
// path holds the customer's token.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := cleanRequestID(r.Header.Get(headerRequestID))
		r.Header.Set(headerRequestID, id)
		w.Header().Set(headerRequestID, id)

		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		info := &requestInfo{traceparent: traceparent(span.SpanContext())}
		w.Header().Set(headerTraceparent, info.traceparent)
		ctx = context.WithValue(ctx, requestInfoKey{}, info)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)

		next.ServeHTTP(ww, r.WithContext(ctx))

		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		route := s.routeOf(ctx, r)
		method := methodLabel(r.Method)
		elapsed := time.Since(start)
		s.metrics.request(route, method, status, elapsed, info.limit)
		if span.IsRecording() {
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.request.method", method), attribute.String("http.route", route),
				attribute.Int("http.response.status_code", status), attribute.String("goodplan.request_id", id))
			if info.accountID != 0 {
				span.SetAttributes(attribute.Int64("goodplan.account_id", info.accountID))
			}
			if status >= 500 {
				span.SetStatus(otelcodes.Error, http.StatusText(status))
			}
		}
		span.End()
		if s.requestLog != nil {
			attrs := []slog.Attr{slog.String("method", method), slog.String("route", route), slog.Int("status", status),
				slog.Float64("duration_ms", math.Round(float64(elapsed.Microseconds()))/1000),
				slog.String("request_id", id), slog.String("trace_id", span.SpanContext().TraceID().String())}
			if info.accountID != 0 {
				attrs = append(attrs, slog.Int64("account_id", info.accountID))
			}
			s.requestLog.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}
	})
}

// routeOf is the route pattern r was served by, "unmatched" when none
// took it. A request that a group's middleware answered before routing
// (a 401 or a 429 of /api/v1/...) has only the group's pattern
// ("/api/v1/*"): it gets the pattern its path would have reached.
func (s *Server) routeOf(ctx context.Context, r *http.Request) string {
	rc := chi.RouteContext(ctx)
	if rc == nil || rc.RoutePattern() == "" {
		return "unmatched"
	}
	route := rc.RoutePattern()
	if strings.HasSuffix(route, "/*") {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		if m := chi.NewRouteContext(); s.router.Match(m, r.Method, path) && m.RoutePattern() != "" {
			route = m.RoutePattern()
		}
	}
	return route
}

// traceparent formats sc as a W3C traceparent header value.
func traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

// methodLabel is m when it is a method the service knows, else "OTHER":
// a metric label or log field must not take any string a client sends.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
