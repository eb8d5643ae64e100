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
	RequestID   string // the request's id (see observe)
	Traceparent string // the request's span (see observe)
	IP          string // "" when the peer address is not an IP address
	UserAgent   string
}

// requestOrigin is the one place that decides what a request contributes
// to event metadata, for the API and the portal alike:
//   - X-Request-Id: as the observe middleware made it: the caller's when
//     valid (see cleanRequestID), else a generated one, echoed in the
//     response;
//   - traceparent: the request's server span (observe);
//   - User-Agent: control and invisible format characters and invalid
//     UTF-8 removed, then cut to at most 512 bytes on a character boundary;
//   - IP: the client address (clientIP: the peer, or behind TRUSTED_PROXIES
//     the forwarded client), zone dropped, or "" when none parses.
func (s *Server) requestOrigin(r *http.Request) origin {
	return origin{
		RequestID:   cleanRequestID(r.Header.Get(headerRequestID)),
		Traceparent: infoOf(r).traceparent,
		IP:          s.clientIP(r),
		UserAgent:   cleanUserAgent(r.UserAgent()),
	}
}

// metadataFor is the event metadata of a request by actor on account.
func (s *Server) metadataFor(r *http.Request, accountID int64, actor string) eventstore.Metadata {
	o := s.requestOrigin(r)
	return eventstore.Metadata{AccountID: accountID, Actor: actor, CorrelationID: o.RequestID, Traceparent: o.Traceparent,
		IP: o.IP, UserAgent: o.UserAgent}
}

// cleanRequestID returns id if it is a valid request id (1 to 128
// characters of A-Z, a-z, 0-9, '.', '_', ':' and '-') and a generated one
// (a random UUID) otherwise, a missing id included.
func cleanRequestID(id string) string {
	if len(id) == 0 || len(id) > maxRequestID || strings.ContainsFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-')
	}) {
		return uuid.NewString()
	}
	return id
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
