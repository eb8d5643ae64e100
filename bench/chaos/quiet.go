package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/bench/internal/cluster"
)

// quiet is how the soak waited for the pipeline to settle.
type quiet struct {
	waited time.Duration
	note   string
	Done   bool `json:"done"`
}

// waitQuiet waits until the read model has every plan stream's version,
// every webhook delivery is out of pending, every plan's introduction email
// is recorded, and no email was accepted for s.emailIdle.
func waitQuiet(ctx context.Context, pool *pgxpool.Pool, c *cluster.Cluster, mail *smtpSink, hooks *hookSink, s settings) quiet {
	start := time.Now()
	var note string
	for time.Since(start) < s.quiet && ctx.Err() == nil {
		var behind, pending, plans, intros int
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM streams st LEFT JOIN plan_views v ON st.stream_id = 'plan-' || v.plan_id
			  WHERE st.stream_id LIKE 'plan-%' AND (v.version IS NULL OR v.version < st.version)),
			(SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'),
			(SELECT count(*) FROM events WHERE type = 'plan.created' AND convert_from(data, 'UTF8')::jsonb->>'send_introduction_email' = 'true'),
			(SELECT count(*) FROM events WHERE type IN ('introduction_email.sent', 'introduction_email.failed'))`).
			Scan(&behind, &pending, &plans, &intros)
		idle := time.Since(mail.lastAt())
		note = fmt.Sprintf("%d plan streams behind in the read model, %d webhook deliveries pending, %d of %d introduction emails recorded, last email %s ago",
			behind, pending, intros, plans, idle.Round(time.Second))
		if err == nil && behind == 0 && pending == 0 && intros >= plans && idle >= s.emailIdle {
			return quiet{waited: time.Since(start), note: note, Done: true}
		}
		if err != nil {
			note = err.Error()
		}
		time.Sleep(time.Second)
	}
	return quiet{waited: time.Since(start), note: "gave up: " + note}
}

func (s *smtpSink) lastAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() {
		return runStart
	}
	return s.last
}
