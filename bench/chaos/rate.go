package main

import (
	"net/http"
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
	byKey map[string][]time.Time
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
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || key == rr.skip || sw.status == http.StatusTooManyRequests || !strings.HasPrefix(r.URL.Path, "/api/v1/") ||
			sw.Header().Get("X-RateLimit-Limit") == "" {
			return
		}
		rr.mu.Lock()
		rr.byKey[key] = append(rr.byKey[key], time.Now())
		rr.mu.Unlock()
	})
}

// maxPerMinute is the most requests accepted for one key in any rolling
// minute, and the total accepted.
func (rr *rateRecorder) maxPerMinute() (most, total int) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for _, ts := range rr.byKey {
		total += len(ts)
		j := 0
		for i := range ts {
			for ts[i].Sub(ts[j]) >= time.Minute {
				j++
			}
			most = max(most, i-j+1)
		}
	}
	return most, total
}
