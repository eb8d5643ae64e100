package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"goodplan/api"
	"goodplan/workers"
)

// config is every setting, read from the environment in one place.
type config struct {
	DatabaseURL                 string
	HTTPAddr                    string
	PublicURL                   string
	NATSURL                     string
	NATSPrefix                  string
	NATSStreamReplicas          int // 0: keep the stream's (1 for a new one)
	DataDir                     string
	SMTPURL                     string
	EmailFrom                   string
	WebhookAllowPrivateNetworks bool
	SchedulerInterval           time.Duration
	// DeadLetterAfter is how many deliveries a failing event gets before a
	// consumer sets it aside as a dead letter.
	DeadLetterAfter  int
	IPRateLimit      int            // per client IP per minute on the portal and /api/health
	IPBurst          int            // per client IP per second there
	AuthFailureLimit int            // failed API authentications per client IP per minute
	TrustedProxies   []netip.Prefix // peers whose X-Forwarded-For is believed
	MetricsAddr      string         // own listener for /metrics; empty: /metrics on HTTP_ADDR
	MetricsToken     string         // bearer token /metrics requires; empty: none
	OTLPEndpoint     string         // OTLP/HTTP base URL spans are exported to; empty: none
	LogFormat        string         // text or json

	// now is the clock of the API, the email worker and the scheduler; nil
	// is time.Now. Only in-process tests set it (never the environment), to
	// run time-driven behaviour without waiting.
	now func() time.Time
}

// clock returns c.now, or time.Now when it is not set.
func (c config) clock() func() time.Time {
	if c.now != nil {
		return c.now
	}
	return time.Now
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL: get("DATABASE_URL", "postgres://localhost:5432/goodplan?sslmode=disable"),
		HTTPAddr:    get("HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:   get("PUBLIC_URL", "http://localhost:8080"),
		NATSURL:     getenv("NATS_URL"),
		NATSPrefix:  get("NATS_SUBJECT_PREFIX", "goodplan"),
		DataDir:     get("DATA_DIR", "./data"),
		SMTPURL:     getenv("SMTP_URL"),
		EmailFrom:   get("EMAIL_FROM", "Good Plan <no-reply@localhost>"),

		MetricsAddr:  getenv("METRICS_ADDR"),
		MetricsToken: getenv("METRICS_TOKEN"),
		OTLPEndpoint: getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		LogFormat:    get("LOG_FORMAT", "text"),
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT=%q: want an http or https URL such as http://localhost:4318", c.OTLPEndpoint)
		}
	}
	if v := getenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE_NETWORKS=%q: want true or false", v)
		}
		c.WebhookAllowPrivateNetworks = b
	}
	if v := getenv("NATS_STREAM_REPLICAS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5 {
			return c, fmt.Errorf("NATS_STREAM_REPLICAS=%q: want a whole number of replicas from 1 to 5", v)
		}
		c.NATSStreamReplicas = n
	}
	c.SchedulerInterval = workers.DefaultSchedulerInterval
	if v := getenv("SCHEDULER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("SCHEDULER_INTERVAL=%q: want a positive duration such as 1m or 30s", v)
		}
		c.SchedulerInterval = d
	}
	c.DeadLetterAfter = workers.DefaultDeadLetterAfter
	if v := getenv("DEAD_LETTER_AFTER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("DEAD_LETTER_AFTER=%q: want a whole number of deliveries from 1 to 1000", v)
		}
		c.DeadLetterAfter = n
	}
	for _, l := range []struct {
		name string
		dst  *int
		def  int
	}{{"IP_RATE_LIMIT", &c.IPRateLimit, 60}, {"IP_BURST", &c.IPBurst, 10}, {"AUTH_FAILURE_LIMIT", &c.AuthFailureLimit, 20}} {
		*l.dst = l.def
		if v := getenv(l.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("%s=%q: want a whole number, 0 for no limit", l.name, v)
			}
			*l.dst = n
		}
	}
	tp, err := api.ParseTrustedProxies(getenv("TRUSTED_PROXIES"))
	if err != nil {
		return c, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	c.TrustedProxies = tp
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PUBLIC_URL=%q: want an absolute http or https URL", c.PublicURL)
	}
	return c, nil
}

// LogValue makes c log as a group of its settings under their environment
// names, with every secret masked (see maskURL); it implements
// slog.LogValuer, so the startup log never shows a password.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("DATABASE_URL", maskURL(c.DatabaseURL)),
		slog.String("HTTP_ADDR", c.HTTPAddr),
		slog.String("PUBLIC_URL", c.PublicURL),
		slog.String("NATS_URL", maskURL(c.NATSURL)),
		slog.String("NATS_SUBJECT_PREFIX", c.NATSPrefix),
		slog.Int("NATS_STREAM_REPLICAS", c.NATSStreamReplicas),
		slog.String("DATA_DIR", c.DataDir),
		slog.String("SMTP_URL", maskURL(c.SMTPURL)),
		slog.String("EMAIL_FROM", c.EmailFrom),
		slog.Bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", c.WebhookAllowPrivateNetworks),
		slog.Duration("SCHEDULER_INTERVAL", c.SchedulerInterval),
		slog.Int("DEAD_LETTER_AFTER", c.DeadLetterAfter),
		slog.Int("IP_RATE_LIMIT", c.IPRateLimit),
		slog.Int("IP_BURST", c.IPBurst),
		slog.Int("AUTH_FAILURE_LIMIT", c.AuthFailureLimit),
		slog.Any("TRUSTED_PROXIES", c.TrustedProxies),
		slog.String("METRICS_ADDR", c.MetricsAddr),
		slog.String("METRICS_TOKEN", maskSecret(c.MetricsToken)),
		slog.String("OTEL_EXPORTER_OTLP_ENDPOINT", maskURL(c.OTLPEndpoint)),
		slog.String("LOG_FORMAT", c.LogFormat),
	)
}

// maskURL returns s for the startup log with every secret replaced by
// "xxxxx": URL passwords, the user part of token-only NATS URLs (the token
// is the user), secret-ish query parameters and key=value DSN entries, in
// each URL of a comma-separated server list. Hosts, ports, paths and other
// parameters stay visible. Input it cannot take apart is "(hidden)".
func maskURL(s string) string {
	if s == "" {
		return ""
	}
	if !urlScheme.MatchString(s) && strings.Contains(s, "=") {
		return maskDSN(s)
	}
	// NATS takes a comma-separated list of servers; libpq a list of
	// hosts. Masking each piece covers both.
	parts := strings.Split(s, ",")
	scheme := ""
	for i, p := range parts {
		m, sch, ok := maskOneURL(p, scheme)
		if !ok {
			return "(hidden)"
		}
		if i == 0 {
			scheme = sch
		}
		parts[i] = m
	}
	return strings.Join(parts, ",")
}

const masked = "xxxxx"

// maskSecret is masked for a set secret, "" for none.
func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return masked
}

var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// tokenSchemes are the schemes whose URLs carry a bare token as the user.
var tokenSchemes = map[string]bool{"nats": true, "tls": true, "ws": true, "wss": true}

// maskOneURL masks one URL. A piece without a scheme (a further host of a
// list) is read as if it had defScheme.
func maskOneURL(s, defScheme string) (out, scheme string, ok bool) {
	lead := s[:len(s)-len(strings.TrimLeft(s, " \t"))]
	s = s[len(lead):]
	bare := !urlScheme.MatchString(s)
	raw := s
	if bare {
		raw = "//" + s
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", "", false
	}
	scheme = strings.ToLower(u.Scheme)
	if bare {
		scheme = defScheme
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), masked)
		} else if bare || tokenSchemes[scheme] {
			u.User = url.User(masked)
		}
	}
	if u.RawQuery != "" {
		q, ok := maskQuery(u.RawQuery)
		if !ok {
			return "", "", false
		}
		u.RawQuery = q
	}
	out = u.String()
	if bare {
		out = strings.TrimPrefix(out, "//")
	}
	return lead + out, scheme, true
}

// maskQuery replaces the values of secret-ish parameters, keeping the
// others (and their order and spelling) as they are.
func maskQuery(raw string) (string, bool) {
	params := strings.Split(raw, "&")
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return "", false
		}
		if secretName(name) {
			params[i] = k + "=" + masked
		}
	}
	return strings.Join(params, "&"), true
}

// secretName reports whether a parameter named name may hold a secret:
// password, sslpassword, pass, token, secret, key and their variants.
func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "token", "secret", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// maskDSN masks a libpq key=value connection string (host=db password=x),
// whose values may be single-quoted with backslash escapes.
func maskDSN(s string) string {
	var b strings.Builder
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if i == len(s) {
			return b.String()
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skipSpace()
		if key == "" || i == len(s) || s[i] != '=' {
			return "(hidden)"
		}
		i++ // '='
		skipSpace()
		start = i
		if i < len(s) && s[i] == '\'' {
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return "(hidden)" // unterminated quote
			}
			i++
		} else {
			for ; i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			i = min(i, len(s))
		}
		value := s[start:i]
		if secretName(key) {
			value = masked
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(key + "=" + value)
	}
}
