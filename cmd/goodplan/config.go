package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
)

// config is every setting, read from the environment in one place.
type config struct {
	DatabaseURL                 string
	HTTPAddr                    string
	PublicURL                   string
	NATSURL                     string
	NATSPrefix                  string
	DataDir                     string
	SMTPURL                     string
	EmailFrom                   string
	WebhookAllowPrivateNetworks bool
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
	}
	if v := getenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE_NETWORKS=%q: want true or false", v)
		}
		c.WebhookAllowPrivateNetworks = b
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("PUBLIC_URL=%q: want an absolute http or https URL", c.PublicURL)
	}
	return c, nil
}

// logValue logs the configuration with passwords masked.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("DATABASE_URL", maskURL(c.DatabaseURL)),
		slog.String("HTTP_ADDR", c.HTTPAddr),
		slog.String("PUBLIC_URL", c.PublicURL),
		slog.String("NATS_URL", maskURL(c.NATSURL)),
		slog.String("NATS_SUBJECT_PREFIX", c.NATSPrefix),
		slog.String("DATA_DIR", c.DataDir),
		slog.String("SMTP_URL", maskURL(c.SMTPURL)),
		slog.String("EMAIL_FROM", c.EmailFrom),
		slog.Bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", c.WebhookAllowPrivateNetworks),
	)
}

// maskURL hides the password of a URL (and of a key=value DSN it cannot parse).
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable, hidden)"
		}
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
