package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// appendMetrics counts the store's appends. A nil *appendMetrics counts
// nothing, so a Store that was never instrumented pays one nil check.
type appendMetrics struct {
	appends   prometheus.Counter
	events    prometheus.Counter
	conflicts prometheus.Counter
}

// observe counts the outcome of one Append of n events.
func (m *appendMetrics) observe(n int, err error) {
	switch {
	case m == nil:
	case err == nil:
		m.appends.Inc()
		m.events.Add(float64(n))
	case errors.Is(err, ErrVersionConflict):
		m.conflicts.Inc()
	}
}

// Instrument registers the store's metrics on reg: the appends, events
// appended and version conflicts (goodplan_appends_total,
// goodplan_events_appended_total, goodplan_append_version_conflicts_total)
// and the connection pool's statistics (goodplan_db_pool_...). Call it once,
// before the store is used concurrently.
func (s *Store) Instrument(reg prometheus.Registerer) error {
	m := &appendMetrics{
		appends: prometheus.NewCounter(prometheus.CounterOpts{Name: "goodplan_appends_total",
			Help: "Appends that stored their events (one per command that changed a stream)."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "goodplan_events_appended_total",
			Help: "Events stored by appends."}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{Name: "goodplan_append_version_conflicts_total",
			Help: "Appends refused because another writer changed the stream first (retried by the command path)."}),
	}
	for _, c := range []prometheus.Collector{m.appends, m.events, m.conflicts, poolCollector{s.pool}} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register store metrics: %w", err)
		}
	}
	s.Events.metrics = m
	return nil
}

// poolCollector reports pgxpool.Stat at each scrape.
type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolAcquired = prometheus.NewDesc("goodplan_db_pool_acquired_connections", "Connections in use.", nil, nil)
	poolIdle     = prometheus.NewDesc("goodplan_db_pool_idle_connections", "Idle connections.", nil, nil)
	poolTotal    = prometheus.NewDesc("goodplan_db_pool_connections", "Open connections (acquired, idle and being opened).", nil, nil)
	poolMax      = prometheus.NewDesc("goodplan_db_pool_max_connections", "The pool's size limit.", nil, nil)
	poolAcquires = prometheus.NewDesc("goodplan_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolWaits    = prometheus.NewDesc("goodplan_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWaited   = prometheus.NewDesc("goodplan_db_pool_acquire_wait_seconds_total", "Time spent acquiring connections.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolWaits, poolWaited} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, st.AcquireDuration().Seconds())
}

// RelayBacklog counts the events committed after the checkpoint of the
// relay called name (all of them when it has none yet), up to limit: the
// events not yet published. It reads the (tx_id, global_position) index
// from the checkpoint on, so its cost grows with the backlog, never with
// the log.
func (s *Events) RelayBacklog(ctx context.Context, name string, limit int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var tx uint64
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT tx_id, position FROM relay_checkpoints WHERE name = $1`, name).Scan(&tx, &pos)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("relay backlog: %w", err)
	}
	var n int64
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM (
		SELECT 1 FROM events WHERE (tx_id, global_position) > ($1::xid8, $2::bigint) LIMIT $3) backlog`,
		tx, pos, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("relay backlog: %w", err)
	}
	return n, nil
}
