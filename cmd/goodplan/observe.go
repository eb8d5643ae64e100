package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"goodplan/api"
	"goodplan/eventstore"
	"goodplan/workers"
)

// observability is what serve measures and traces with: one Prometheus
// registry of its own (not the global one, so tests can run several servers
// in a process), the layers' metrics registered on it, and the tracer
// provider (exporting over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT
// is set).
type observability struct {
	reg     *prometheus.Registry
	api     *api.Metrics
	workers *workers.Metrics
	tracer  trace.TracerProvider // nil: requests are not traced (see api.Config)
	// shutdown flushes the spans not yet exported.
	shutdown func(context.Context) error
}

// newObservability registers the metrics of store and of the workers, the
// Go runtime and process collectors and goodplan_build_info on a new
// registry, and sets up tracing.
func newObservability(cfg config, store *eventstore.Store) (*observability, error) {
	o := &observability{reg: prometheus.NewRegistry(), shutdown: func(context.Context) error { return nil }}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: "goodplan_build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()}})
	buildInfo.Set(1)
	if err := o.reg.Register(buildInfo); err != nil {
		return nil, err
	}
	o.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := store.Instrument(o.reg); err != nil {
		return nil, err
	}
	var err error
	if o.api, err = api.NewMetrics(o.reg); err != nil {
		return nil, err
	}
	if o.workers, err = workers.NewMetrics(o.reg); err != nil {
		return nil, err
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := otlptracehttp.New(context.Background(),
			otlptracehttp.WithEndpointURL(strings.TrimRight(cfg.OTLPEndpoint, "/")+"/v1/traces"))
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "goodplan"),
				attribute.String("service.version", version))))
		o.tracer, o.shutdown = tp, tp.Shutdown
	}
	return o, nil
}

// handler is the Prometheus exposition of the registry.
func (o *observability) handler() http.Handler {
	return promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{Registry: o.reg})
}

// listenMetrics binds METRICS_ADDR, or returns nil when it is not set (the
// metrics are then served at /metrics on HTTP_ADDR).
func listenMetrics(cfg config) (net.Listener, error) {
	if cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	return ln, nil
}

// serveMetrics serves GET /metrics and Go's profiler at /debug/pprof/
// (both behind METRICS_TOKEN when set) on ln until ctx is done.
func serveMetrics(ctx context.Context, ln net.Listener, o *observability, cfg config, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.MetricsEndpoint(o.handler(), cfg.MetricsToken))
	// Go's profiler, on the operators' listener only (never on HTTP_ADDR),
	// behind the same token: `go tool pprof http://ADDR/debug/pprof/profile`.
	pprofMux := http.NewServeMux()
	pprofMux.HandleFunc("/debug/pprof/", pprof.Index)
	pprofMux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	pprofMux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	pprofMux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	pprofMux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", api.MetricsEndpoint(pprofMux, cfg.MetricsToken))
	// WriteTimeout leaves room for a CPU profile of up to two minutes.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 150 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	defer stop()
	log.Info("metrics listening", "addr", "http://"+ln.Addr().String()+"/metrics")
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
