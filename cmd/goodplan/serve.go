package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"goodplan/api"
	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/workers"
)

// shutdownTimeout bounds how long in-flight requests get to finish.
const shutdownTimeout = 10 * time.Second

func serve(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "on first start (no accounts yet), create a demo account and print an API key")
	if err := parseFlags(fs, args, stderr, "serve [--demo]", printEnvHelp); err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	log.Info("starting goodplan", "version", versionString(), "config", cfg)

	releaseDataDir, err := claimDataDir(cfg, log)
	if err != nil {
		return err
	}
	defer releaseDataDir()

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Pool().Close()
	obs, err := newObservability(cfg, store)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := obs.shutdown(sctx); err != nil {
			log.Warn("flush trace spans", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	mln, err := listenMetrics(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if mln != nil {
		defer mln.Close()
	}
	base := "http://" + ln.Addr().String()
	log.Info("listening", "addr", base)
	if *demo {
		if err := ensureDemoAccount(ctx, store, base, cfg.PublicURL, stdout); err != nil {
			ln.Close()
			return err
		}
	}

	handler := api.New(api.Config{
		Store: store, PublicURL: cfg.PublicURL, Version: versionString(), Logger: log, Now: cfg.clock(),
		IPRateLimit: cfg.IPRateLimit, IPBurst: cfg.IPBurst, AuthFailureLimit: cfg.AuthFailureLimit,
		TrustedProxies: cfg.TrustedProxies, HTTPWebhooks: cfg.WebhookAllowPrivateNetworks,
		RequestLog: log, Metrics: obs.api, MetricsHandler: mainMetrics(obs, mln), MetricsToken: cfg.MetricsToken,
		TracerProvider: obs.tracer,
	})
	srv := api.NewHTTPServer(handler, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	bus, err := workers.ConnectBus(workers.BusConfig{URL: cfg.NATSURL, DataDir: cfg.DataDir, Prefix: cfg.NATSPrefix, Replicas: cfg.NATSStreamReplicas})
	if err != nil {
		ln.Close()
		return err
	}
	defer bus.Close()

	sender, err := workers.NewSender(cfg.SMTPURL, cfg.DataDir, log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("SMTP_URL: %w", err)
	}
	defer sender.Close()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return handler.RunKeyRevocationListener(gctx) })
	now, afterStream := pipeline(store, bus, sender, cfg, log, obs)
	for _, w := range now {
		g.Go(func() error { return w(gctx) })
	}
	// The relay and the consumers need the event stream. A JetStream
	// cluster without a quorum for a moment (a node just killed) cannot
	// create it: wait for it, while the API (PostgreSQL only) serves.
	g.Go(func() error {
		if err := bus.WaitStream(gctx, log); err != nil {
			if gctx.Err() != nil {
				return nil // shutting down before the stream was there
			}
			return err
		}
		if err := bus.CheckMaxPayload(); err != nil {
			return err
		}
		log.Info("nats ready", "embedded", cfg.NATSURL == "", "stream", bus.Stream, "max_payload", bus.NC.MaxPayload())
		for _, w := range afterStream {
			g.Go(func() error { return w(gctx) })
		}
		return nil
	})
	if mln != nil {
		g.Go(func() error { return serveMetrics(gctx, mln, obs, cfg, log) })
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// pipeline is every background worker of serve: the webhook deliverer
// and the scheduler, which need PostgreSQL only (now), and the notifier
// that wakes the relay, the relay and the durable consumers (read model,
// customer emails, webhook fan-out), which need the event stream
// (afterStream).
func pipeline(store *eventstore.Store, bus *workers.Bus, sender workers.Sender, cfg config, log *slog.Logger, obs *observability) (now, afterStream []func(context.Context) error) {
	svc := newServices(store, bus.Prefix, sender, cfg, log, obs)
	relay := &workers.Relay{Store: store, Bus: bus, Log: log}
	afterStream = []func(context.Context) error{store.RunNotifier, relay.Run}
	var durables []string
	for _, c := range svc.consumers {
		c.Bus = bus
		afterStream = append(afterStream, c.Run)
		durables = append(durables, c.Durable)
	}
	if obs != nil {
		relay.Metrics = obs.workers
		obs.reg.MustRegister(&workers.PipelineCollector{Store: store, Bus: bus, Consumers: durables})
	}
	return []func(context.Context) error{svc.deliverer.Run, svc.scheduler.Run}, afterStream
}

// services are the workers of serve, built in one place so that
// `goodplan deadletters retry` runs the very handlers serve runs.
type services struct {
	deliverer *workers.WebhookDeliverer
	scheduler *workers.Scheduler
	consumers []*workers.Consumer // without their Bus
}

// newServices builds the workers; prefix is the NATS subject prefix of the
// consumers' filters; obs, if set, gives them metrics and a tracer.
func newServices(store *eventstore.Store, prefix string, sender workers.Sender, cfg config, log *slog.Logger, obs *observability) *services {
	plans := projections.NewPlans(store)
	email := &workers.EmailWorker{Store: store, Sender: sender, PublicURL: cfg.PublicURL, From: cfg.EmailFrom, Log: log, Now: cfg.clock()}
	deliverer := &workers.WebhookDeliverer{Store: store, AllowPrivate: cfg.WebhookAllowPrivateNetworks, Log: log}
	fanout := &workers.WebhookFanout{Store: store, PublicURL: cfg.PublicURL, Log: log, Notify: deliverer.Wake}
	// The email worker sends the introduction email of each new plan, the
	// notices the scheduler requests and the dashboard users' links, fed by
	// one durable per event type: a
	// consumer with several filter subjects needs nats-server 2.10.
	created := []string{prefix + ".events.*." + domain.EventPlanCreated}
	notices := []string{prefix + ".events.*." + domain.EventNotificationRequested}
	resends := []string{prefix + ".events.*." + domain.EventIntroductionEmailResendRequested}
	userEmails := []string{prefix + ".events.*." + eventstore.EventUserEmailRequested}
	catalogPlans := projections.NewCatalogPlans(store)
	catalogPlanEvents := []string{prefix + ".events.*.catalog_plan.>"}
	planGroups := projections.NewPlanGroups(store)
	planGroupEvents := []string{prefix + ".events.*.plan_group.>"}
	// Every replica runs a scheduler, and that is safe: each plan's tick is
	// a version-checked append and a notice is requested once per
	// installment and due date, so racing schedulers decide every event
	// exactly once (see workers.Scheduler).
	scheduler := &workers.Scheduler{Store: store, Plans: plans, Now: cfg.clock(), Interval: cfg.SchedulerInterval, Log: log}
	consumers := []*workers.Consumer{
		{Durable: "projection-plans", Handle: plans.Apply, BatchHandle: plans.ApplyBatch, Concurrency: 4, Batch: 64},
		{Durable: "introduction-email", Filter: created, Handle: email.Handle, Concurrency: 8, Batch: 2},
		{Durable: "notice-email", Filter: notices, Handle: email.Handle, Concurrency: 8, Batch: 2},
		// The emails a plan's event owes (a merchant's decision, a customer's
		// action, an abandoned plan): every event, the others acked at once.
		{Durable: "plan-email", Handle: email.HandlePlanEmail, Concurrency: 4, Batch: 16},
		{Durable: "introduction-resend-email", Filter: resends, Handle: email.Handle, Concurrency: 2, Batch: 2},
		{Durable: "user-email", Filter: userEmails, Handle: email.Handle, Concurrency: 2, Batch: 2},
		{Durable: "webhook-fanout", Handle: fanout.Handle, BatchHandle: fanout.HandleBatch, Concurrency: 2, Batch: 64},
		{Durable: "projection-catalog-plans", Filter: catalogPlanEvents, Handle: catalogPlans.Apply, Concurrency: 2, Batch: 16},
		{Durable: "projection-plan-groups", Filter: planGroupEvents, Handle: planGroups.Apply, Concurrency: 2, Batch: 16},
	}
	for _, c := range consumers {
		c.Store, c.DeadLetterAfter, c.Log = store, cfg.DeadLetterAfter, log
	}
	if obs != nil {
		email.Metrics, deliverer.Metrics = obs.workers, obs.workers
		for _, c := range consumers {
			c.Metrics = obs.workers
			if obs.tracer != nil {
				c.Tracer = obs.tracer.Tracer("goodplan/workers")
			}
		}
	}
	return &services{deliverer: deliverer, scheduler: scheduler, consumers: consumers}
}

// handlers maps each durable consumer's name to its handler.
func (s *services) handlers() map[string]workers.Handler {
	m := make(map[string]workers.Handler, len(s.consumers))
	for _, c := range s.consumers {
		m[c.Durable] = c.Handle
	}
	return m
}

// openStore creates the database if missing, migrates it and opens a pool.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (*eventstore.Store, error) {
	if err := eventstore.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	v, err := eventstore.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if log != nil {
		log.Info("database ready", "schema_version", v)
	}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !strings.Contains(cfg.DatabaseURL, "pool_max_conns") {
		pcfg.MaxConns = 24 // enough concurrent appends for group commit to pay off
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return eventstore.New(pool), nil
}

// demoEmail is the demo owner's sign-in email.
const demoEmail = "demo@example.com"

// ensureDemoAccount creates a demo account, an API key and a dashboard
// owner with a generated password when there is no account yet, and
// prints the key with a curl command that works as printed, and the
// dashboard's sign-in address (on PUBLIC_URL, the origin the dashboard
// accepts forms from) with the email and password. Both secrets are shown
// this once: only their hashes are stored.
func ensureDemoAccount(ctx context.Context, store *eventstore.Store, base, publicURL string, stdout io.Writer) error {
	accts, err := store.Accounts.List(ctx)
	if err != nil {
		return err
	}
	if len(accts) > 0 {
		fmt.Fprintf(stdout, "\nDemo: account %d (%s) exists already. A new key for it:\n  goodplan apikeys create --account %d\n\n",
			accts[0].ID, accts[0].Name, accts[0].ID)
		return nil
	}
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Demo Merchant", RateLimitPerMinute: 60, RateLimitBurst: 10})
	if err != nil {
		return err
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		return err
	}
	var raw [12]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand)
	password := base64.RawURLEncoding.EncodeToString(raw[:])
	if _, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: demoEmail, Name: "Demo Owner",
		Role: eventstore.RoleOwner, Password: password}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Demo account %d created. Its API key (shown only this once):

  export GOODPLAN_API_KEY=%s

Then try:

  curl -X POST %s/api/v1/plans \
    -H "Authorization: Bearer $GOODPLAN_API_KEY" \
    -H "Content-Type: application/json" \
    -d '{"customer":{"name":"John Doe","email":"john@example.com"},"invoice":{"amount":1200.00,"invoice_number":"INV-2024-001"}}'

The merchant dashboard (this password is shown only this once):

  %s/dashboard/login
  email:    %s
  password: %s

`, acct.ID, key, base, strings.TrimRight(publicURL, "/"), demoEmail, password)
	return nil
}

// newLogger is serve's logger on stderr, in LOG_FORMAT.
func newLogger(cfg config, stderr io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(stderr, nil))
	}
	return slog.New(slog.NewTextHandler(stderr, nil))
}

// mainMetrics is the exposition served at /metrics on HTTP_ADDR: nil when
// the metrics have their own listener (METRICS_ADDR).
func mainMetrics(obs *observability, own net.Listener) http.Handler {
	if own != nil {
		return nil
	}
	return obs.handler()
}
