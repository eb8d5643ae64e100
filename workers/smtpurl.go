package workers

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// tlsMode is how an SMTP connection is secured.
type tlsMode int

const (
	tlsStartTLS      tlsMode = iota // STARTTLS required
	tlsImplicit                     // TLS from the first byte (smtps)
	tlsOpportunistic                // STARTTLS if offered
	tlsNone                         // plain text
)

func (m tlsMode) String() string {
	switch m {
	case tlsStartTLS:
		return "starttls"
	case tlsImplicit:
		return "implicit"
	case tlsOpportunistic:
		return "opportunistic"
	default:
		return "none"
	}
}

// smtpConfig is a parsed SMTP_URL.
type smtpConfig struct {
	host       string
	port       int
	mode       tlsMode
	user, pass string
	// tlsConfig overrides the default (system roots, ServerName host);
	// tests set it to trust their own certificate.
	tlsConfig *tls.Config
}

// parseSMTPURL reads SMTP_URL. Errors name the problem but never include
// the URL itself, which may hold a password.
func parseSMTPURL(raw string) (smtpConfig, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return smtpConfig{}, fmt.Errorf("SMTP_URL is not a valid URL: %v", err)
	}
	var cfg smtpConfig
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		cfg.port, cfg.mode = 587, tlsStartTLS
	case "smtps":
		cfg.port, cfg.mode = 465, tlsImplicit
	case "":
		return smtpConfig{}, errors.New("SMTP_URL has no scheme: want smtp://host:port or smtps://host:port")
	default:
		return smtpConfig{}, fmt.Errorf("SMTP_URL scheme %q is not supported: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" {
		return smtpConfig{}, errors.New("SMTP_URL must look like smtp://host:port (missing //)")
	}
	if cfg.host = u.Hostname(); cfg.host == "" {
		return smtpConfig{}, errors.New("SMTP_URL has no host")
	}
	if strings.Contains(cfg.host, ":") && !strings.HasPrefix(u.Host, "[") {
		// smtp://::1 would read as host ":" port 1.
		return smtpConfig{}, errors.New("SMTP_URL host: write an IPv6 address in brackets, e.g. smtp://[::1]:25")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return smtpConfig{}, fmt.Errorf("SMTP_URL port %q is not a number from 1 to 65535", p)
		}
		cfg.port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return smtpConfig{}, errors.New("SMTP_URL has an empty port")
	}
	if u.Path != "" && u.Path != "/" {
		return smtpConfig{}, fmt.Errorf("SMTP_URL must not have a path (got %q)", u.Path)
	}
	if u.Fragment != "" {
		return smtpConfig{}, errors.New("SMTP_URL must not have a fragment")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return smtpConfig{}, fmt.Errorf("SMTP_URL query: %v", err)
	}
	for k, vs := range q {
		if k != "tls" {
			return smtpConfig{}, fmt.Errorf("SMTP_URL parameter %q is not supported (only tls=starttls|opportunistic|none|implicit)", k)
		}
		if len(vs) != 1 {
			return smtpConfig{}, errors.New("SMTP_URL gives tls more than once")
		}
		mode, ok := map[string]tlsMode{
			"starttls": tlsStartTLS, "mandatory": tlsStartTLS, "opportunistic": tlsOpportunistic,
			"none": tlsNone, "implicit": tlsImplicit,
		}[strings.ToLower(vs[0])]
		switch {
		case !ok:
			return smtpConfig{}, fmt.Errorf("SMTP_URL tls=%q is not one of starttls, opportunistic, none, implicit", vs[0])
		case cfg.mode == tlsImplicit && mode != tlsImplicit:
			return smtpConfig{}, fmt.Errorf("SMTP_URL: smtps always uses implicit TLS; tls=%s contradicts it", vs[0])
		}
		cfg.mode = mode
	}
	if u.User != nil {
		cfg.user = u.User.Username()
		cfg.pass, _ = u.User.Password()
		if cfg.user == "" && cfg.pass != "" {
			return smtpConfig{}, errors.New("SMTP_URL has a password but no user")
		}
	}
	return cfg, nil
}
