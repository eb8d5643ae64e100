package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// rateRecorder counts, at the receiver of requests (the proxy), every API
// request the cluster's rate limit accepted, per API key: answered other
// than 429 with the X-RateLimit-Limit header, which a replica sets once the
// limiter decided. A 503 because the limit could not be checked
// (PostgreSQL down) or a proxy error for a killed replica carries none:
// the limit let nothing through, and counting them (as the first soaks
// did) showed up to 88 "accepted" in a minute around PostgreSQL restarts.
type rateRecorder struct {
	mu    sync.Mutex
	skip  string // the probe's key (no limit)
	byKey map[string][]span
}

// span is when an accepted request reached the proxy and when its answer
// left it (the limiter decided it somewhere in between), with what the
// replica that answered said was left of the minute: the evidence to read
// when the count breaks the limit.
type span struct {
	In        time.Time `json:"in"`
	Out       time.Time `json:"out"`
	Replica   string    `json:"replica"`
	Remaining string    `json:"remaining"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
}

// backendKey carries, in a request's context, where the proxy writes the
// replica it sent the request to.
type backendKey struct{}

// noteBackend is the proxy's OnBackend: it records the replica for wrap.
func noteBackend(r *http.Request, backend string) {
	if p, ok := r.Context().Value(backendKey{}).(*string); ok {
		*p = backend
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (rr *rateRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		replica := new(string)
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), backendKey{}, replica)))
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == rr.skip || sw.status == http.StatusTooManyRequests || !strings.HasPrefix(r.URL.Path, "/api/v1/") ||
			sw.Header().Get("X-RateLimit-Limit") == "" {
			return
		}
		rr.mu.Lock()
		rr.byKey[key] = append(rr.byKey[key], span{In: in, Out: time.Now(), Replica: *replica,
			Remaining: sw.Header().Get("X-RateLimit-Remaining"), Method: r.Method, Path: r.URL.Path, Status: sw.status})
		rr.mu.Unlock()
	})
}

// maxPerMinute is the most requests accepted for one key that were
// certainly decided within one rolling minute, and the total accepted. A
// request was decided between its arrival at the proxy and its answer, and
// an answer can leave long after the decision (a replica paused by
// SIGSTOP right after deciding): counting answers by when they left, as
// the first soaks did, could put 61 in a minute whose decisions spanned
// more. So a minute counts the requests that both arrived and were
// answered within it; more than 60 of them is a limit broken for sure.
//
// wall measures the minutes on the wall clock, the limiter's own
// (PostgreSQL's clock_timestamp(); X-RateLimit-Reset is a Unix time);
// otherwise on this process's monotonic clock. The two differ only when
// the wall clock is stepped, and then a minute of one is not a minute of
// the other (see clockDrift).
//
// worst is the busiest minute's requests, in order of arrival.
func (rr *rateRecorder) maxPerMinute(wall bool) (most, total int, worst []span) {
	at := func(t time.Time) time.Time {
		if wall {
			return t.Round(0) // drops the monotonic reading
		}
		return t
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for _, ss := range rr.byKey {
		total += len(ss)
		slices.SortFunc(ss, func(a, b span) int { return at(a.In).Compare(at(b.In)) })
		// The busiest window can start at some request's arrival.
		for i := range ss {
			end, n := at(ss[i].In).Add(time.Minute), 0
			for j := i; j < len(ss) && at(ss[j].In).Before(end); j++ {
				if at(ss[j].Out).Before(end) {
					n++
				}
			}
			if n > most {
				most, worst = n, nil
				for j := i; j < len(ss) && at(ss[j].In).Before(end); j++ {
					if at(ss[j].Out).Before(end) {
						worst = append(worst, ss[j])
					}
				}
			}
		}
	}
	return most, total, worst
}

// clockDrift is how far the wall clock moved against the monotonic clock
// over the recorded requests: the largest minus the smallest of (wall -
// monotonic) time since the first request. Zero when nobody stepped the
// clock (NTP slewing moves both alike); a step (a settimeofday, a virtual
// machine's clock resynchronised after a pause) shows here.
func (rr *rateRecorder) clockDrift() time.Duration {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	var base time.Time
	var lo, hi time.Duration
	first := true
	for _, ss := range rr.byKey {
		for _, s := range ss {
			if first {
				base, first = s.In, false
			}
			off := s.In.Round(0).Sub(base.Round(0)) - s.In.Sub(base)
			lo, hi = min(lo, off), max(hi, off)
		}
	}
	return hi - lo
}
