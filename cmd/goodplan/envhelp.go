package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// envHelp says in one line what each environment variable of loadConfig
// does; `goodplan serve -h` lists them with their defaults. A variable
// loadConfig reads without a line here is listed as undocumented (and
// TestServeHelpListsEveryVariable fails), so a new setting cannot be
// added without saying what it is.
var envHelp = map[string]string{
	"DATABASE_URL":                   "PostgreSQL; created if missing and migrated on start (every command reads it)",
	"HTTP_ADDR":                      "API listen address (:0 picks a free port)",
	"PUBLIC_URL":                     "base of the portal links and the dashboard's origin",
	"NATS_URL":                       "empty: embedded NATS with JetStream in DATA_DIR/jetstream; else an external server",
	"NATS_SUBJECT_PREFIX":            "subjects <prefix>.events.<account_id>.<type>, stream <PREFIX>_EVENTS",
	"NATS_STREAM_REPLICAS":           "replicas of the event stream on a JetStream cluster (1 to 5); empty keeps an existing stream's count",
	"DATA_DIR":                       "embedded JetStream store and the dev email outbox; one serve per DATA_DIR",
	"SMTP_URL":                       "smtp://user:pass@host:587, smtps://host:465; empty: .eml files in DATA_DIR/outbox",
	"EMAIL_FROM":                     "sender of customer emails",
	"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true: webhooks to private addresses and http:// URLs (development only)",
	"SCHEDULER_INTERVAL":             "how often reminders, check-ins and abandoned plans are looked for",
	"DEAD_LETTER_AFTER":              "deliveries of a failing event before it is set aside as a dead letter (1 to 1000)",
	"IP_RATE_LIMIT":                  "requests per minute per client IP on the portal and /api/health (0: no limit)",
	"IP_BURST":                       "requests per second per client IP there (0: no cap)",
	"AUTH_FAILURE_LIMIT":             "failed API authentications per client IP per minute (0: no limit)",
	"TRUSTED_PROXIES":                "IPs and CIDR prefixes of reverse proxies whose X-Forwarded-For is believed",
	"METRICS_ADDR":                   "Prometheus /metrics and Go's /debug/pprof/ on their own listener (a bind failure stops the start); empty: /metrics on HTTP_ADDR, no profiler",
	"METRICS_TOKEN":                  "bearer token required for /metrics and /debug/pprof/ (empty: none)",
	"OTEL_EXPORTER_OTLP_ENDPOINT":    "OTLP/HTTP endpoint for trace spans (empty: nothing is exported)",
	"LOG_FORMAT":                     "text or json: the format of the log lines on stderr",
}

// configEnv returns the names of the environment variables loadConfig
// reads, in the order it reads them, and each one's default as the
// startup log shows it. It asks loadConfig itself, so a variable added
// there is listed without another edit.
func configEnv() (names []string, defaults map[string]string) {
	cfg, err := loadConfig(func(name string) string {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return ""
	})
	defaults = map[string]string{}
	if err != nil {
		return names, defaults // the defaults always load; nothing to show otherwise
	}
	for _, a := range cfg.LogValue().Group() {
		v := a.Value.Resolve()
		s := v.String()
		if v.Kind() == slog.KindAny {
			s = fmt.Sprint(v.Any())
		}
		if s == "[]" {
			s = ""
		}
		defaults[a.Key] = s
	}
	return names, defaults
}

// printEnvHelp writes the environment variables of serve with their
// meanings and defaults, in the layout of the flags' usage.
func printEnvHelp(w io.Writer) {
	names, defaults := configEnv()
	fmt.Fprintln(w, "Environment (README, Configuration, says more):")
	for _, name := range names {
		help, ok := envHelp[name]
		if !ok {
			help = "(undocumented)"
		}
		if def := defaults[name]; def != "" {
			help += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", name, help)
	}
}
