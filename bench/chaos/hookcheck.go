package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// webhookChecks: every delivery succeeded, the receiver answered 2xx to it
// at least once, and the delivery log has the attempts the receiver saw.
// A 2xx the log lacks is allowed only as a delivery sent again within the
// crash window after a replica's SIGKILL (the killed replica sent it and
// died before recording it; another replica took its claim over), as for
// emails; how long after the kill each such re-send came is reported.
func webhookChecks(ctx context.Context, r *report, pool *pgxpool.Pool, hooks *hookSink, outs []outcome) {
	rows, err := pool.Query(ctx, `SELECT 'msg_' || d.event_id::text, d.state,
		(SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id),
		(SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.status_code BETWEEN 200 AND 299)
		FROM webhook_deliveries d`)
	if err != nil {
		r.add("webhook deliveries not succeeded", false, "error: %v", err)
		return
	}
	hooks.mu.Lock()
	defer hooks.mu.Unlock()
	total, notOK, unseen, logShort, logLong, okMismatch, resentAfterKill := 0, 0, 0, 0, 0, 0, 0
	var resendDelays []time.Duration
	for rows.Next() {
		var id, state string
		var logged, logged2xx int
		if rows.Scan(&id, &state, &logged, &logged2xx) != nil {
			continue
		}
		total++
		if state != "succeeded" {
			notOK++
		}
		seen, seen2xx, again2xxOutside := hooks.attempts[id], 0, false
		var last2xx time.Time
		for _, a := range seen {
			if a.Status >= 200 && a.Status < 300 {
				seen2xx++
				last2xx = a.At
				if seen2xx > 1 && !afterKill(a.At, outs) {
					again2xxOutside = true
				}
			}
		}
		if seen2xx == 0 {
			unseen++
		}
		switch {
		case logged < len(seen):
			logShort++
		case logged > len(seen):
			logLong++
		}
		switch {
		case logged2xx == seen2xx:
		case logged2xx < seen2xx && !again2xxOutside:
			resentAfterKill++
			if d, ok := sinceKill(last2xx, outs); ok {
				resendDelays = append(resendDelays, d)
			}
		default:
			okMismatch++
		}
	}
	rows.Close()
	r.add("webhook deliveries not succeeded", notOK == 0, "%d of %d", notOK, total)
	r.add("webhook deliveries the receiver never answered 2xx", unseen == 0, "%d", unseen)
	r.add("webhook deliveries whose logged 2xx count differs from the receiver's outside a crash window", okMismatch == 0, "%d", okMismatch)
	r.info("webhook deliveries answered 2xx again inside a crash window (sent, then the replica killed before its record)", "%d", resentAfterKill)
	if len(resendDelays) > 0 {
		p50, most := percentiles(resendDelays)
		r.info("their re-send after the kill (claims taken over once the dead replica's lock is missing for 5 s)", "p50 %v, max %v",
			p50.Round(100*time.Millisecond), most.Round(100*time.Millisecond))
	}
	r.info("delivery logs with fewer attempts than the receiver saw", "%d (an attempt cut by a SIGKILL is not logged)", logShort)
	r.add("delivery logs with attempts the receiver never saw", logLong == 0, "%d", logLong)
	r.add("webhook requests with a bad signature", hooks.badSig == 0, "%d", hooks.badSig)
}
