package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes (TRUSTED_PROXIES), e.g. "10.0.0.0/8, 127.0.0.1, ::1".
// Empty means no proxy is trusted.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", part)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", part)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted reports whether a is one of the configured proxies.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client a request comes from: the
// connection's peer, unless that peer is a trusted proxy; then the
// right-most X-Forwarded-For entry that is not itself a trusted proxy (the
// entries to its left were written by whoever the client is, so they prove
// nothing). If every entry is trusted, the left-most one; if an entry
// cannot be read, the hop to its right, the last one known. X-Forwarded-For
// from an untrusted peer is ignored. The zero Addr if RemoteAddr is not an
// address (an in-process caller).
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !s.trusted(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a := parseHostAddr(strings.TrimSpace(entries[j]))
			if !a.IsValid() {
				return addr
			}
			addr = a
			if !s.trusted(a) {
				return a
			}
		}
	}
	return addr
}

// clientIP is clientAddr as text, for event metadata ("" when neither the
// forwarded chain nor RemoteAddr holds an address).
func (s *Server) clientIP(r *http.Request) string {
	if a := s.clientAddr(r); a.IsValid() {
		return a.String()
	}
	return peerIP(r.RemoteAddr)
}

// parseHostAddr reads "1.2.3.4", "1.2.3.4:5", "::1", "[::1]" or "[::1]:5",
// returning the address unmapped and without a zone, or the zero Addr.
func parseHostAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// limitKey is the rate-limit key of a client address: the address itself
// for IPv4, its /64 for IPv6 (one subscriber's usual allocation, so a
// client cannot mint fresh addresses to escape the limit).
func limitKey(a netip.Addr) [32]byte {
	var k [32]byte
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	b := a.As16()
	copy(k[:], b[:])
	k[16] = 1 // never equal to a zero key
	return k
}
