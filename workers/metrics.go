package workers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"goodplan/eventstore"
)

// Metrics are the workers' Prometheus series. A nil *Metrics records
// nothing: every worker takes one optionally.
type Metrics struct {
	relayPublished  prometheus.Counter
	relayLag        prometheus.Histogram
	handled         *prometheus.CounterVec
	failed          *prometheus.CounterVec
	deadLettered    *prometheus.CounterVec
	consumerLag     *prometheus.HistogramVec
	webhookAttempts *prometheus.CounterVec
	takeovers       prometheus.Counter
	emails          *prometheus.CounterVec
}

// lagBuckets span a healthy pipeline (milliseconds) to a stuck one (minutes).
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// NewMetrics creates the workers' series and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		relayPublished: prometheus.NewCounter(prometheus.CounterOpts{Name: "goodplan_relay_published_events_total",
			Help: "Events the relay published to JetStream (counted at their PubAck)."}),
		relayLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "goodplan_relay_lag_seconds",
			Help: "Time from an event's append to its PubAck.", Buckets: lagBuckets}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_consumer_handled_total",
			Help: "Events a durable consumer handled (acked)."}, []string{"consumer"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_consumer_failed_total",
			Help: "Handler failures of a durable consumer (the event is redelivered or set aside)."}, []string{"consumer"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_consumer_dead_lettered_total",
			Help: "Events a durable consumer set aside as dead letters."}, []string{"consumer"}),
		consumerLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "goodplan_consumer_lag_seconds",
			Help: "Time from an event's publication by the relay to its handling by a consumer.", Buckets: lagBuckets},
			[]string{"consumer"}),
		webhookAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: succeeded (2xx), retrying (failed, another attempt scheduled), " +
				"failed (the last attempt failed), gone (410: endpoint disabled)."}, []string{"outcome"}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "goodplan_webhook_takeovers_total",
			Help: "Webhook deliveries this replica took over from another deliverer whose PostgreSQL lock was gone " +
				"for the grace (a replica that died with them claimed), rather than waiting for their lease."}),
		emails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goodplan_emails_total",
			Help: "Emails by outcome: sent, retrying (a transient failure, to be retried) or failed (given up)."}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.relayPublished, m.relayLag, m.handled, m.failed, m.deadLettered,
		m.consumerLag, m.webhookAttempts, m.takeovers, m.emails} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, o := range []string{"succeeded", "retrying", "failed", "gone"} {
		m.webhookAttempts.WithLabelValues(o)
	}
	for _, o := range []string{"sent", "retrying", "failed"} {
		m.emails.WithLabelValues(o)
	}
	return m, nil
}

// published counts recs after their PubAcks.
func (m *Metrics) published(recs []eventstore.Record, now time.Time) {
	if m == nil {
		return
	}
	m.relayPublished.Add(float64(len(recs)))
	for _, r := range recs {
		m.relayLag.Observe(now.Sub(r.RecordedAt).Seconds())
	}
}

// consumer returns the series of one durable consumer, created so that
// they show (at zero) before its first event.
func (m *Metrics) consumer(durable string) *consumerMetrics {
	if m == nil {
		return nil
	}
	return &consumerMetrics{handled: m.handled.WithLabelValues(durable), failed: m.failed.WithLabelValues(durable),
		deadLettered: m.deadLettered.WithLabelValues(durable), lag: m.consumerLag.WithLabelValues(durable)}
}

// webhookAttempt counts one delivery attempt's outcome.
func (m *Metrics) webhookAttempt(outcome string) {
	if m != nil {
		m.webhookAttempts.WithLabelValues(outcome).Inc()
	}
}

// webhookTakeovers counts n deliveries taken over from a dead deliverer.
func (m *Metrics) webhookTakeovers(n int) {
	if m != nil {
		m.takeovers.Add(float64(n))
	}
}

// email counts one email's outcome.
func (m *Metrics) email(outcome string) {
	if m != nil {
		m.emails.WithLabelValues(outcome).Inc()
	}
}

// consumerMetrics are one consumer's series; nil records nothing.
type consumerMetrics struct {
	handled, failed, deadLettered prometheus.Counter
	lag                           prometheus.Observer
}

func (c *consumerMetrics) ok(n int, published time.Time) {
	if c == nil {
		return
	}
	c.handled.Add(float64(n))
	if !published.IsZero() {
		c.lag.Observe(time.Since(published).Seconds())
	}
}

func (c *consumerMetrics) fail() {
	if c != nil {
		c.failed.Inc()
	}
}

func (c *consumerMetrics) setAside() {
	if c != nil {
		c.deadLettered.Inc()
	}
}

// backlogLimit bounds the relay backlog counted at a scrape.
const backlogLimit = 10_000_000

// PipelineCollector reports, at each scrape, how far behind the pipeline
// is: the relay's backlog (events appended but not yet published,
// goodplan_relay_backlog_events) and each durable consumer's messages not
// yet acked (goodplan_consumer_pending_messages{consumer}: waiting plus
// delivered and unacknowledged), read from the database and JetStream, and
// whether the event stream is there (goodplan_event_stream_ready: 0 while
// a replica waits for JetStream to create it, its relay and consumers not
// started yet).
type PipelineCollector struct {
	Store     *eventstore.Store
	Bus       *Bus
	Relay     string   // the relay's checkpoint name; default "relay"
	Consumers []string // durable names
}

var (
	backlogDesc = prometheus.NewDesc("goodplan_relay_backlog_events",
		"Events appended but not yet published by the relay (counted up to 10 million).", nil, nil)
	streamReadyDesc = prometheus.NewDesc("goodplan_event_stream_ready",
		"1 once the JetStream event stream was created or found and the relay and consumers could start; 0 while waiting for it.", nil, nil)
	pendingDesc = prometheus.NewDesc("goodplan_consumer_pending_messages",
		"Messages of the event stream a durable consumer has not acked yet: its lag behind the relay.", []string{"consumer"}, nil)
)

// Describe implements prometheus.Collector.
func (p *PipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- pendingDesc
	ch <- streamReadyDesc
}

// Collect implements prometheus.Collector. A series whose source does not
// answer within a few seconds is left out of that scrape (absent, not 0).
func (p *PipelineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := p.Relay
	if name == "" {
		name = "relay"
	}
	ready := 0.0
	if p.Bus.StreamReady() {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(streamReadyDesc, prometheus.GaugeValue, ready)
	if n, err := p.Store.RelayBacklog(ctx, name, backlogLimit); err == nil {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
	}
	for _, d := range p.Consumers {
		c, err := p.Bus.JS.Consumer(ctx, p.Bus.Stream, d)
		if err != nil {
			continue
		}
		info := c.CachedInfo()
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(info.NumPending)+float64(info.NumAckPending), d)
	}
}
