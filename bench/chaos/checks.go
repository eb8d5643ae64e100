package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"goodplan/bench/internal/cluster"
	"goodplan/workers"
)

// figure is one printed check: a number and whether it passes.
type figure struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	OK    bool   `json:"ok"`
	Note  string `json:"note,omitempty"`
	Info  bool   `json:"info,omitempty"` // reported, never failing
}

func (r *report) add(name string, ok bool, format string, args ...any) {
	r.Figures = append(r.Figures, figure{Name: name, Value: fmt.Sprintf(format, args...), OK: ok})
	if !ok {
		r.Failed = append(r.Failed, name)
	}
}

func (r *report) info(name, format string, args ...any) {
	r.Figures = append(r.Figures, figure{Name: name, Value: fmt.Sprintf(format, args...), OK: true, Info: true})
}

// check runs every check after quiet.
func check(ctx context.Context, c *cluster.Cluster, pool *pgxpool.Pool, l *load, mail *smtpSink, hooks *hookSink, rates *rateRecorder, outs []outcome) *report {
	r := &report{}
	fail := func(name string, err error) { r.add(name, false, "error: %v", err) }

	// Every acknowledged create is in the events once.
	created := map[string][]string{}
	rows, err := pool.Query(ctx, `SELECT convert_from(data, 'UTF8')::jsonb->'invoice'->>'invoice_number', stream_id FROM events WHERE type = 'plan.created'`)
	if err == nil {
		for rows.Next() {
			var inv, stream string
			if err = rows.Scan(&inv, &stream); err != nil {
				break
			}
			created[inv] = append(created[inv], stream)
		}
		rows.Close()
	}
	if err != nil {
		fail("acknowledged creates in the events", err)
	} else {
		lost, dup, wrong := 0, 0, 0
		for _, a := range l.acks {
			switch s := created[a.Invoice]; {
			case len(s) == 0:
				lost++
			case len(s) > 1:
				dup++
			case s[0] != fmt.Sprintf("plan-%d", a.PlanID):
				wrong++
			}
		}
		r.add("acknowledged creates lost", lost == 0, "%d of %d", lost, len(l.acks))
		r.add("idempotency keys with more than one plan", dup == 0, "%d", dup)
		r.add("acknowledged plan id differs from the stored one", wrong == 0, "%d", wrong)
		r.info("plans created in all", "%d (%d flows create+choose+pay completed; %d requests given up after 2 minutes)", len(created), l.flows, l.gaveUp)
	}

	// 5xx: only 503, and only while PostgreSQL was down or a replica was
	// killed under a request.
	byStatus := map[int]int{}
	bad := 0
	for _, x := range l.responses {
		byStatus[x.Status]++
		if x.Status >= 500 && x.Status != 503 {
			bad++
		}
	}
	out503 := 0
	for _, x := range l.responses {
		if x.Status == 503 && !duringFault(x.At, outs) {
			out503++
		}
	}
	r.add("5xx answers other than 503", bad == 0, "%d (answers by status: %v; status 0 = transport error)", bad, byStatus)
	for _, x := range l.responses {
		if x.Body != "" {
			r.info("a 5xx other than 503", "%s %s %d: %s", x.At.UTC().Format(time.RFC3339Nano), x.Op, x.Status, strings.ReplaceAll(x.Body, "|", "/"))
			break
		}
	}
	r.add("503 answers outside a fault window", out503 == 0, "%d of %d", out503, byStatus[503])

	// Replay and verify.
	if out, err := c.Goodplan(ctx, "replay"); err != nil {
		r.add("goodplan replay exits 0", false, "%v: %s", err, tail(out))
	} else {
		r.add("goodplan replay exits 0", true, "yes")
	}
	if out, err := c.Goodplan(ctx, "verify"); err != nil {
		r.add("goodplan verify exits 0", false, "%v: %s", err, tail(out))
	} else {
		r.add("goodplan verify exits 0", true, "yes")
	}

	// The stream holds every event once by Nats-Msg-Id.
	if missing, twice, extra, total, err := streamCheck(ctx, c, pool); err != nil {
		fail("events missing from the JetStream stream", err)
	} else {
		r.add("events missing from the JetStream stream", missing == 0, "%d of %d", missing, total)
		r.add("events twice in the stream (by Nats-Msg-Id)", twice == 0, "%d", twice)
		r.add("stream messages that are no event", extra == 0, "%d", extra)
	}

	emailChecks(ctx, r, pool, mail, outs)
	webhookChecks(ctx, r, pool, hooks, outs)

	// The limiter's minute is PostgreSQL's wall clock: counted on it, more
	// than 60 is a broken limit. Counted on the monotonic clock it is the
	// same unless the wall clock was stepped during the run (a forward
	// step of s seconds ends every window s seconds early, letting about
	// s seconds' worth of requests more into one real minute); that is
	// reported, and fails only when the clock did not move.
	most, total, worst := rates.maxPerMinute(true)
	monoMost, _, monoWorst := rates.maxPerMinute(false)
	drift := rates.clockDrift()
	switch {
	case most > 60:
		r.RateWindow = worst
	case monoMost > 60:
		r.RateWindow = monoWorst
	}
	r.add("most requests accepted per key in a rolling minute of the limiter's (wall) clock (limit 60)", most <= 60, "%d (of %d accepted merchant requests)", most, total)
	monoName := "most requests accepted per key in a rolling minute of the monotonic clock"
	monoFormat := "%d; the wall clock moved %s against the monotonic clock during the run"
	if drift < 50*time.Millisecond {
		r.add(monoName, monoMost <= 60, monoFormat, monoMost, drift.Round(time.Millisecond))
	} else {
		r.info(monoName, monoFormat, monoMost, drift.Round(time.Millisecond))
	}
	r.Passed = len(r.Failed) == 0
	return r
}

// duringFault reports whether t falls in a fault's window: from its start
// to the end of its recovery plus 5 s.
func duringFault(t time.Time, outs []outcome) bool {
	for _, o := range outs {
		end := o.End
		if rec := o.At.Add(o.Pipeline); rec.After(end) {
			end = rec
		}
		if !t.Before(o.At) && t.Before(end.Add(5*time.Second)) {
			return true
		}
	}
	return false
}

func streamCheck(ctx context.Context, c *cluster.Cluster, pool *pgxpool.Pool) (missing, twice, extra, total int, err error) {
	ids := map[string]int{}
	rows, err := pool.Query(ctx, `SELECT event_id::text FROM events`)
	if err != nil {
		return
	}
	for rows.Next() {
		var id string
		if err = rows.Scan(&id); err != nil {
			rows.Close()
			return
		}
		ids[id] = 0
	}
	rows.Close()
	total = len(ids)
	nc, err := nats.Connect(strings.Join(c.NATSURLs, ","))
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	stream, err := js.Stream(ctx, workers.StreamName(workers.DefaultSubjectPrefix))
	if err != nil {
		return
	}
	n := int(stream.CachedInfo().State.Msgs)
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return
	}
	for seen := 0; seen < n; {
		batch, ferr := cons.Fetch(500, jetstream.FetchMaxWait(10*time.Second))
		if ferr != nil {
			return 0, 0, 0, 0, ferr
		}
		got := 0
		for m := range batch.Messages() {
			got++
			id := m.Headers().Get("Nats-Msg-Id")
			if _, ok := ids[id]; ok {
				ids[id]++
			} else {
				extra++
			}
		}
		if got == 0 {
			return 0, 0, 0, 0, fmt.Errorf("stream read stopped at %d of %d messages", seen, n)
		}
		seen += got
	}
	for _, k := range ids {
		if k == 0 {
			missing++
		} else if k > 1 {
			twice++
		}
	}
	return missing, twice, extra, total, nil
}

func tail(s string) string {
	if len(s) > 400 {
		return "..." + s[len(s)-400:]
	}
	return s
}
