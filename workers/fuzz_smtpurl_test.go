package workers

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// canonicalSMTPURL is the one URL that says exactly cfg: smtps for
// implicit TLS, smtp with an explicit tls= otherwise, always a port.
func canonicalSMTPURL(cfg smtpConfig) string {
	u := url.URL{Scheme: "smtps", Host: net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))}
	if cfg.mode != tlsImplicit {
		u.Scheme, u.RawQuery = "smtp", "tls="+cfg.mode.String()
	}
	switch {
	case cfg.pass != "":
		u.User = url.UserPassword(cfg.user, cfg.pass)
	case cfg.user != "":
		u.User = url.User(cfg.user)
	}
	return u.String()
}

// secretMarker marks the passwords in FuzzParseSMTPURL's seeds: an error
// must not repeat it.
const secretMarker = "S3kr1t"

// FuzzParseSMTPURL: parseSMTPURL never panics; an error never repeats the
// URL's password (seeds mark it with secretMarker); an accepted URL has a host, a port from 1 to 65535 and a
// known TLS mode, and its canonical form parses to the same config.
func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{"smtp://user:pass@mail.example.com:587", "smtp://mail.example.com", "SMTP://mail.example.com:2525/",
		"smtps://mail.example.com", "smtps://u%40x.com:p%3Ass@mail.example.com:4650", "smtps://mail.example.com?tls=implicit",
		"smtp://127.0.0.1:1025?tls=none", "smtp://mail.example.com:25?tls=opportunistic", "smtp://mail.example.com?tls=STARTTLS",
		"smtp://[::1]:1025?tls=none", "smtp://[fe80::1%25en0]:25?tls=mandatory", " smtp://user@localhost:25?tls=none ",
		"smtp://user:@host", "smtp://:@host", "smtp://u:p@ss@host", "smtp://h%41st:25", "smtp://host:0025",
		"http://mail.example.com", "mail.example.com:587", "smtp:mail.example.com", "smtp://", "smtp://:25",
		"smtp://host:0", "smtp://host:70000", "smtp://host:", "smtp://host:abc", "smtp://host/path", "smtp://host?tls=maybe",
		"smtp://host?tsl=none", "smtp://host?tls=none&tls=starttls", "smtps://host?tls=none", "smtp://:secret@host",
		"smtp://user:s3cr%t@host",
		"smtp://user:S3kr1t@host:abc", "smtps://user:S3kr1t@host?tls=none", "smtp://:S3kr1t@host", "smtp://u:S3kr1t@host/p", "smtp://host#frag", "smtp://host?tls=none;x", "smtp://ho st", "smtp://host\x00:25", "", "smtp://::1", "smtp://a:b:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := parseSMTPURL(raw)
		if err != nil {
			if u, perr := url.Parse(strings.TrimSpace(raw)); perr == nil && u.User != nil && strings.Count(raw, secretMarker) == 1 {
				if pass, _ := u.User.Password(); strings.Contains(pass, secretMarker) && strings.Contains(err.Error(), secretMarker) {
					t.Fatalf("parseSMTPURL(%q) error %q reveals the password", raw, err)
				}
			}
			return
		}
		if cfg.host == "" {
			t.Fatalf("parseSMTPURL(%q) accepted it with no host", raw)
		}
		if cfg.port < 1 || cfg.port > 65535 {
			t.Fatalf("parseSMTPURL(%q) port %d", raw, cfg.port)
		}
		switch cfg.mode {
		case tlsStartTLS, tlsImplicit, tlsOpportunistic, tlsNone:
		default:
			t.Fatalf("parseSMTPURL(%q) TLS mode %d is not a known one", raw, cfg.mode)
		}
		canon := canonicalSMTPURL(cfg)
		again, err := parseSMTPURL(canon)
		if err != nil {
			t.Fatalf("parseSMTPURL(%q) = %+v, but its canonical form %q does not parse: %v", raw, cfg, canon, err)
		}
		if again != cfg {
			t.Fatalf("parseSMTPURL(%q) = %+v; its canonical form %q parses to %+v", raw, cfg, canon, again)
		}
	})
}
