package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"goodplan/eventstore"
)

type ctxKey int

const accountKey ctxKey = iota

// accountFrom returns the authenticated account of the request.
func accountFrom(ctx context.Context) eventstore.Account {
	a, _ := ctx.Value(accountKey).(eventstore.Account)
	return a
}

// keySource is where a surface reads its API key and how it words a 401.
type keySource struct {
	// key returns the request's gp_ key, ok false when missing or malformed.
	key func(r *http.Request) (string, bool)
	// unauthorized writes the surface's 401 body.
	unauthorized func(w http.ResponseWriter)
	// body words the key's 429 in the surface's shape.
	body func(e *apiError) any
}

// bearerSource is the native API's: the Authorization: Bearer header and
// the seed's 401 body.
var bearerSource = keySource{
	key:          func(r *http.Request) (string, bool) { return bearerKey(r.Header.Get("Authorization")) },
	unauthorized: func(w http.ResponseWriter) { writeJSON(w, http.StatusUnauthorized, errAPIKeyRequired) },
	body:         func(e *apiError) any { return e },
}

// authenticate checks the Bearer API key (authenticateBy(bearerSource)).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return s.authenticateBy(bearerSource)(next)
}

// authenticateBy checks the API key src reads, applies the key's rate
// limit and sets the X-RateLimit-* headers on every authenticated
// response. A missing, malformed, unknown or revoked key gets src's 401
// body and counts as a failed authentication of the client's address;
// past AuthFailureLimit of those a minute, the address gets 429 for any
// key not already cached.
func (s *Server) authenticateBy(src keySource) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return s.authenticated(src, next) }
}

func (s *Server) authenticated(src keySource, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := src.key(r)
		if !ok {
			if !s.authBlockedAs(w, r, src.body) {
				s.authFailed(r)
				src.unauthorized(w)
			}
			return
		}
		sum := sha256.Sum256([]byte(key))
		acct, known := s.keys.cached(sum)
		if !known {
			// A client that failed too often gets no lookup for a key
			// not already known: guessing costs it, not the database.
			if s.authBlockedAs(w, r, src.body) {
				return
			}
			var err error
			acct, err = s.keys.lookup(r.Context(), s.store, sum)
			if errors.Is(err, eventstore.ErrNotFound) {
				s.authFailed(r)
				src.unauthorized(w)
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if acct.RateLimitPerMinute > 0 {
			d, err := s.limiter.allow(r.Context(), sum, acct.RateLimitPerMinute, acct.RateLimitBurst)
			if err != nil && clientGone(r) {
				s.writeError(w, r, err) // 499, logged at INFO
				return
			}
			if err != nil {
				// The shared windows are in PostgreSQL, like everything
				// the request would do next: a quick 503, not a wait.
				s.limiter.warn(r.Context(), "shared rate limit unavailable; 503", err)
				h := w.Header()
				h.Set("Retry-After", "1")
				writeJSON(w, http.StatusServiceUnavailable, src.body(&apiError{Status: http.StatusServiceUnavailable,
					Title: "Service unavailable", Message: "The rate limit cannot be checked right now. Retry after 1 s."}))
				return
			}
			h := w.Header()
			// Assigned directly to keep the seed's spelling on the wire
			// (Header.Set would send X-Ratelimit-Limit).
			h["X-RateLimit-Limit"] = []string{strconv.Itoa(d.limit)}
			h["X-RateLimit-Remaining"] = []string{strconv.Itoa(d.remaining)}
			h["X-RateLimit-Reset"] = []string{strconv.FormatInt(d.reset.Unix(), 10)}
			if !d.allowed {
				secs := strconv.Itoa(max(int(math.Ceil(d.retryAfter.Seconds())), 1))
				h.Set("Retry-After", secs)
				limits := strconv.Itoa(acct.RateLimitPerMinute) + " requests per minute"
				if acct.RateLimitBurst > 0 {
					limits += ", " + strconv.Itoa(acct.RateLimitBurst) + " per second"
				}
				noteRefusal(r, "api_key")
				writeJSON(w, http.StatusTooManyRequests, src.body(&apiError{Status: http.StatusTooManyRequests, Title: "Too many requests",
					Message: "Rate limit exceeded: " + limits + ". Retry after " + secs + " s."}))
				return
			}
		}
		noteAccount(r, acct.ID)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accountKey, acct)))
	})
}

// bearerKey extracts a gp_ key from an Authorization header.
func bearerKey(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return apiKeyShape(key)
}

// apiKeyShape returns key trimmed, ok only when it has the shape of a gp_
// key.
func apiKeyShape(key string) (string, bool) {
	key = strings.TrimSpace(key)
	// Only the shape goodplan issues (gp_ and 64 lowercase hex digits): a
	// flood of random keys of any other shape costs no lookup.
	secret, ok := strings.CutPrefix(key, eventstore.APIKeyPrefix)
	if !ok || len(secret) != 64 || strings.ContainsFunc(secret, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
		return "", false
	}
	return key, true
}
