package api

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxTrackedClients bounds the client addresses each limiter remembers in
// process memory (see rateLimiter.maxKeys, sharedLimiter.blocked).
const maxTrackedClients = 65536

// limitByIP applies the per-client-IP limit (Config.IPRateLimit, IPBurst)
// to the routes without an API key: 429 with Retry-After and the usual
// JSON error body past it.
func (s *Server) limitByIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ipRateLimit > 0 {
			if a := s.clientAddr(r); a.IsValid() {
				// When the store does not answer, this replica's own
				// windows decide, so the health check can still say so.
				d := s.ipLimiter.allowOr(r.Context(), limitKey(a), s.ipRateLimit, s.ipBurst)
				if !d.allowed {
					limits := strconv.Itoa(s.ipRateLimit) + " requests per minute"
					if s.ipBurst > 0 {
						limits += ", " + strconv.Itoa(s.ipBurst) + " per second"
					}
					noteRefusal(r, "client_ip")
					tooMany(w, "Rate limit exceeded: "+limits+" per client address.", d.retryAfter)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authBlocked reports whether the client of r has used up its failed
// authentications (Config.AuthFailureLimit) and, if so, answers 429.
func (s *Server) authBlocked(w http.ResponseWriter, r *http.Request) bool {
	return s.authBlockedAs(w, r, bearerSource.body)
}

// authBlockedAs is authBlocked with the 429 body worded by body (a
// surface's keySource.body).
func (s *Server) authBlockedAs(w http.ResponseWriter, r *http.Request, body func(*apiError) any) bool {
	if s.authFailureLimit <= 0 {
		return false
	}
	a := s.clientAddr(r)
	if !a.IsValid() {
		return false
	}
	d := s.authFailures.peekOr(r.Context(), limitKey(a), s.authFailureLimit, 0)
	if d.allowed {
		return false
	}
	noteRefusal(r, "auth_failures")
	tooManyAs(w, "Too many failed authentications from this address: at most "+
		strconv.Itoa(s.authFailureLimit)+" a minute.", d.retryAfter, body)
	return true
}

// authFailed counts a failed authentication against r's client.
func (s *Server) authFailed(r *http.Request) {
	if s.authFailureLimit <= 0 {
		return
	}
	if a := s.clientAddr(r); a.IsValid() {
		s.authFailures.allowOr(r.Context(), limitKey(a), s.authFailureLimit, 0)
	}
}

// tooMany writes the 429 with Retry-After in whole seconds (at least 1).
func tooMany(w http.ResponseWriter, msg string, retryAfter time.Duration) {
	tooManyAs(w, msg, retryAfter, bearerSource.body)
}

// tooManyAs is tooMany with the body worded by body.
func tooManyAs(w http.ResponseWriter, msg string, retryAfter time.Duration, body func(*apiError) any) {
	secs := setRetryAfter(w, retryAfter)
	writeJSON(w, http.StatusTooManyRequests, body(&apiError{Status: http.StatusTooManyRequests, Title: "Too many requests",
		Message: msg + " Retry after " + secs + " s."}))
}

// setRetryAfter sets Retry-After to retryAfter in whole seconds (at least
// 1) and returns the value.
func setRetryAfter(w http.ResponseWriter, retryAfter time.Duration) string {
	secs := strconv.Itoa(max(int(math.Ceil(retryAfter.Seconds())), 1))
	w.Header().Set("Retry-After", secs)
	return secs
}
