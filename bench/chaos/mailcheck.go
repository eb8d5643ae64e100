package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// crashWindow is how long after a replica's SIGKILL a second acceptance of
// one email is counted as the documented gap (the server's "250 OK" came,
// the sent event was not recorded; the restarted or another replica sends
// it again once the message is redelivered).
const crashWindow = 2 * time.Minute

// emailChecks: every email recorded as sent was accepted at least once,
// and more than once only in a crash window.
func emailChecks(ctx context.Context, r *report, pool *pgxpool.Pool, mail *smtpSink, outs []outcome) {
	rows, err := pool.Query(ctx, `SELECT convert_from(data, 'UTF8')::jsonb->>'message_id' FROM events
		WHERE type IN ('introduction_email.sent', 'plan_email.sent', 'notification.sent')`)
	if err != nil {
		r.add("emails recorded sent but never accepted", false, "error: %v", err)
		return
	}
	var sent []string
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			sent = append(sent, id)
		}
	}
	rows.Close()
	var failed int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type IN ('introduction_email.failed', 'plan_email.failed', 'notification.failed')`).Scan(&failed)
	mail.mu.Lock()
	defer mail.mu.Unlock()
	never := 0
	for _, id := range sent {
		if len(mail.accepted["<"+trimAngle(id)+">"]) == 0 && len(mail.accepted[id]) == 0 {
			never++
		}
	}
	inWindow, outside := 0, 0
	for _, at := range mail.accepted {
		for _, t := range at[1:] {
			if afterKill(t, outs) {
				inWindow++
			} else {
				outside++
			}
		}
	}
	r.add("emails recorded sent but never accepted by the SMTP server", never == 0, "%d of %d", never, len(sent))
	r.add("emails recorded failed", failed == 0, "%d", failed)
	r.add("emails accepted more than once outside a crash window", outside == 0, "%d", outside)
	r.info("emails accepted again inside a crash window", "%d (of %d distinct accepted; %d answered 451, %d connections dropped)",
		inWindow, len(mail.accepted), mail.refused, mail.dropped)
}

func trimAngle(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// sinceKill returns how long before t the latest replica kill within
// crashWindow of it was; false if none was.
func sinceKill(t time.Time, outs []outcome) (time.Duration, bool) {
	var d time.Duration
	found := false
	for _, o := range outs {
		if (o.Kind == killReplica || o.Kind == killLeader) && !t.Before(o.At) && t.Sub(o.At) <= crashWindow && (!found || t.Sub(o.At) < d) {
			d, found = t.Sub(o.At), true
		}
	}
	return d, found
}

// afterKill reports whether t is within crashWindow after a replica kill.
func afterKill(t time.Time, outs []outcome) bool {
	for _, o := range outs {
		if (o.Kind == killReplica || o.Kind == killLeader) && !t.Before(o.At) && t.Sub(o.At) <= crashWindow {
			return true
		}
	}
	return false
}
