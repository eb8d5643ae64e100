package workers

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrAddressNotAllowed is returned (wrapped, naming the address) when a
// webhook connection would go to an address merchants must not reach: the
// service's own host or network (SSRF).
var ErrAddressNotAllowed = errors.New("address is not allowed for webhooks")

// blockedPrefixes are refused unless private networks are allowed, besides
// what netip's predicates cover (loopback, RFC 1918 and fc00::/7, link-local,
// multicast, unspecified).
var blockedPrefixes = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"}, // 0.x.y.z reaches the local host on Linux
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // includes 255.255.255.255
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	// Local-use NAT64 (RFC 8215): the operator's own translator, mapping
	// to whatever it is configured for, so no embedded address is trusted.
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	// Teredo: the client's IPv4 address is obfuscated and the relay is
	// arbitrary, so the real target cannot be checked.
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"}, // deprecated, still routed by some networks
}

// embeddedIPv4 prefixes carry an IPv4 address that a gateway may reach on
// the caller's behalf; the embedded address is checked too.
var embeddedIPv4 = []struct {
	prefix netip.Prefix
	at     int // byte offset of the IPv4 address in the IPv6 one
}{
	{netip.MustParsePrefix("::ffff:0:0:0/96"), 12}, // IPv4-translated ::ffff:0:a.b.c.d (SIIT, RFC 2765)
	{netip.MustParsePrefix("64:ff9b::/96"), 12},    // NAT64 well-known prefix (RFC 6052)
	{netip.MustParsePrefix("2002::/16"), 2},        // 6to4: bits 16-48
}

// CheckWebhookAddress returns nil if a webhook may connect to ip, or an
// error wrapping ErrAddressNotAllowed that names the address and its kind:
// loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10),
// unspecified, multicast, carrier-grade NAT (100.64/10), other special-use
// ranges (0/8, 192.0.0/24, 198.18/15, 240/4 and broadcast, site-local
// fec0::/10, Teredo 2001::/32, local-use NAT64 64:ff9b:1::/48), and
// IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 (64:ff9b::/96) and
// 6to4 forms of refused IPv4 addresses.
func CheckWebhookAddress(ip netip.Addr) error {
	if kind := blockedKind(ip); kind != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrAddressNotAllowed, ip, kind)
	}
	return nil
}

func blockedKind(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.Unmap().WithZone("")
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, b := range blockedPrefixes {
		if b.prefix.Contains(ip) {
			return b.what
		}
	}
	if ip.Is6() {
		for _, e := range embeddedIPv4 {
			if e.prefix.Contains(ip) {
				b := ip.As16()
				v4 := netip.AddrFrom4([4]byte(b[e.at : e.at+4]))
				if kind := blockedKind(v4); kind != "" {
					return kind + " (embedded in " + e.prefix.String() + ")"
				}
			}
		}
	}
	return ""
}

// WebhookDialControl is a net.Dialer Control function: it runs after DNS
// resolution, just before each connect, with the numeric address, so a host
// name that resolves (or rebinds) to a refused address is caught too. With
// allowPrivate it allows everything (development and tests).
func WebhookDialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot parse %q", ErrAddressNotAllowed, address)
		}
		return CheckWebhookAddress(ap.Addr())
	}
}
