package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// Bounds of what a request's headers put into event metadata.
const (
	// headerRequestID carries the caller's correlation id.
	headerRequestID = "X-Request-Id"
	// maxRequestID is the longest request id kept as it is.
	maxRequestID = 128
	// maxUserAgent bounds the user agent recorded, in bytes.
	maxUserAgent = 512
)

// origin is who acted and from where, cleaned for event metadata: every
// event's metadata goes into a jsonb column and a NATS message, so a header
// must never make it unbounded or unstorable.
type origin struct {
	RequestID string // "" when the request carried none
	IP        string // "" when the peer address is not an IP address
	UserAgent string
}

// requestOrigin is the one place that decides what a request contributes
// to event metadata, for the API and the portal alike:
//   - X-Request-Id: kept if it is 1 to 128 printable ASCII characters
//     (space to tilde); anything else (longer, control or non-ASCII bytes)
//     is replaced by a generated id (a random UUID), which the requestID
//     middleware also returns in the response's X-Request-Id;
//   - User-Agent: control and invisible format characters and invalid
//     UTF-8 removed, then cut to at most 512 bytes on a character boundary;
//   - IP: the client address (clientIP: the peer, or behind TRUSTED_PROXIES
//     the forwarded client), zone dropped, or "" when none parses.
func (s *Server) requestOrigin(r *http.Request) origin {
	return origin{
		RequestID: cleanRequestID(r.Header.Get(headerRequestID)),
		IP:        s.clientIP(r),
		UserAgent: cleanUserAgent(r.UserAgent()),
	}
}

// metadataFor is the event metadata of a request by actor on account.
func (s *Server) metadataFor(r *http.Request, accountID int64, actor string) eventstore.Metadata {
	o := s.requestOrigin(r)
	return eventstore.Metadata{AccountID: accountID, Actor: actor, CorrelationID: o.RequestID, IP: o.IP, UserAgent: o.UserAgent}
}

// cleanRequestID returns id if it is a valid request id, "" for none, and a
// generated id otherwise.
func cleanRequestID(id string) string {
	if id == "" {
		return ""
	}
	if len(id) > maxRequestID || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r > '~' }) {
		return uuid.NewString()
	}
	return id
}

// requestID makes the request's X-Request-Id valid for everything after it
// (see requestOrigin) and echoes it in the response, so a caller whose id
// was replaced learns the one recorded.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw := r.Header.Get(headerRequestID); raw != "" {
			id := cleanRequestID(raw)
			r.Header.Set(headerRequestID, id)
			w.Header().Set(headerRequestID, id)
		}
		next.ServeHTTP(w, r)
	})
}

// peerIP is the IP address of a RemoteAddr ("host:port" or a bare host),
// or "" when it is not one.
func peerIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	return addr.WithZone("").String()
}

// cleanUserAgent drops invalid UTF-8, control and format characters from
// ua and cuts it to at most maxUserAgent bytes without splitting a
// character.
func cleanUserAgent(ua string) string {
	var b strings.Builder
	for i, r := range ua {
		if r == utf8.RuneError && !strings.HasPrefix(ua[i:], "\uFFFD") {
			continue // an invalid byte
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxUserAgent {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
