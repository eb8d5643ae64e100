package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"clean URL unchanged", "postgres://localhost:5432/goodplan?sslmode=disable",
			"postgres://localhost:5432/goodplan?sslmode=disable"},
		{"clean user-only postgres URL unchanged", "postgres://gp@db:5432/goodplan?sslmode=require&connect_timeout=5",
			"postgres://gp@db:5432/goodplan?sslmode=require&connect_timeout=5"},
		{"URL password", "postgres://gp:s3cret@db:5432/goodplan", "postgres://gp:xxxxx@db:5432/goodplan"},
		{"escaped password with @", "postgres://gp:s3%40cret@db/goodplan", "postgres://gp:xxxxx@db/goodplan"},
		{"raw @ in password", "postgres://gp:s3@cret@db/goodplan", "postgres://gp:xxxxx@db/goodplan"},
		{"password query parameter", "postgres://gp@db/goodplan?password=s3cret",
			"postgres://gp@db/goodplan?password=xxxxx"},
		{"sslpassword among others", "postgres://gp@db/goodplan?sslmode=verify-full&sslpassword=s3cret&application_name=gp",
			"postgres://gp@db/goodplan?sslmode=verify-full&sslpassword=xxxxx&application_name=gp"},
		{"token, secret, key, pass parameters", "https://h/x?token=s3cretA&Secret=s3cretB&key=s3cretC&pass=s3cretD&x=1",
			"https://h/x?token=xxxxx&Secret=xxxxx&key=xxxxx&pass=xxxxx&x=1"},
		{"key=value DSN", "host=db user=gp password=s3cret dbname=goodplan",
			"host=db user=gp password=xxxxx dbname=goodplan"},
		{"key=value DSN quoted", "host=db password='s3 \\'cret' sslpassword = s3cret2 port=5432",
			"host=db password=xxxxx sslpassword=xxxxx port=5432"},
		{"key=value DSN unterminated quote", "host=db password='s3cret", "(hidden)"},
		{"key=value DSN without =", "host=db s3cret", "(hidden)"},
		{"NATS token as user", "nats://s3cretToken@nats:4222", "nats://xxxxx@nats:4222"},
		{"TLS token as user", "tls://s3cretToken@nats:4222", "tls://xxxxx@nats:4222"},
		{"NATS user and password", "nats://gp:s3cret@nats:4222", "nats://gp:xxxxx@nats:4222"},
		{"NATS clean URL unchanged", "nats://nats:4222", "nats://nats:4222"},
		{"NATS server list", "nats://a:s3cretB@n1:4222,nats://a:s3cretB@n2:4222",
			"nats://a:xxxxx@n1:4222,nats://a:xxxxx@n2:4222"},
		{"NATS list of tokens with spaces", "nats://s3cretA@n1:4222, s3cretB@n2:4222",
			"nats://xxxxx@n1:4222, xxxxx@n2:4222"},
		{"NATS without scheme", "s3cretToken@nats:4222", "xxxxx@nats:4222"},
		{"libpq host list", "postgres://gp:s3cret@h1:5432,h2:5432/goodplan?sslmode=disable",
			"postgres://gp:xxxxx@h1:5432,h2:5432/goodplan?sslmode=disable"},
		{"SMTP user and password", "smtp://user:s3cret@mail.example.com:587",
			"smtp://user:xxxxx@mail.example.com:587"},
		{"SMTPS with tls parameter", "smtps://user:s3cret@mail.example.com?tls=implicit",
			"smtps://user:xxxxx@mail.example.com?tls=implicit"},
		{"unparsable", "postgres://gp:s3%zzcret@db/goodplan", "(hidden)"},
		{"slash in raw password", "postgres://gp:s3/cret@db/goodplan", "(hidden)"},
		{"hash in raw password", "smtp://user:s3#cret@mail.example.com", "(hidden)"},
		{"bad query escape", "postgres://db/goodplan?pass%zz=s3cret", "(hidden)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := maskURL(tt.in)
			if got != tt.want {
				t.Errorf("maskURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if strings.Contains(got, "s3") {
				t.Errorf("maskURL(%q) = %q leaks a secret", tt.in, got)
			}
		})
	}
}

func TestConfigLogMasksSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(envOf(map[string]string{
		"DATABASE_URL":                "host=db user=gp password=s3cretDB",
		"NATS_URL":                    "nats://s3cretNATS@nats:4222",
		"SMTP_URL":                    "smtp://user:s3cretSMTP@mail:587",
		"METRICS_TOKEN":               "s3cretMetrics",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/?token=s3cretOTLP",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", cfg)
	if out := buf.String(); strings.Contains(out, "s3cret") || !strings.Contains(out, "host=db") ||
		!strings.Contains(out, "nats:4222") || !strings.Contains(out, "mail:587") ||
		!strings.Contains(out, "METRICS_TOKEN=xxxxx") || !strings.Contains(out, "collector:4318") {
		t.Fatalf("logged %s", out)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; empty for success
		check   func(config) bool
	}{
		{name: "defaults", env: nil, check: func(c config) bool {
			return c.PublicURL == "http://localhost:8080" && !c.WebhookAllowPrivateNetworks &&
				c.HTTPAddr == "127.0.0.1:8080" && c.NATSPrefix == "goodplan"
		}},
		{name: "private networks allowed", env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true"},
			check: func(c config) bool { return c.WebhookAllowPrivateNetworks }},
		{name: "https public URL", env: map[string]string{"PUBLIC_URL": "https://plans.example.com/base"},
			check: func(c config) bool { return c.PublicURL == "https://plans.example.com/base" }},
		{name: "bad private networks flag", env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "maybe"},
			wantErr: `WEBHOOK_ALLOW_PRIVATE_NETWORKS="maybe"`},
		{name: "public URL without scheme", env: map[string]string{"PUBLIC_URL": "plans.example.com"},
			wantErr: "PUBLIC_URL"},
		{name: "public URL with another scheme", env: map[string]string{"PUBLIC_URL": "ftp://plans.example.com"},
			wantErr: "PUBLIC_URL"},
		{name: "public URL without host", env: map[string]string{"PUBLIC_URL": "https://"},
			wantErr: "PUBLIC_URL"},
		{name: "unparsable public URL", env: map[string]string{"PUBLIC_URL": "http://[::1"},
			wantErr: "PUBLIC_URL"},
		{name: "abuse limit defaults", env: nil, check: func(c config) bool {
			return c.IPRateLimit == 60 && c.IPBurst == 10 && c.AuthFailureLimit == 20 && len(c.TrustedProxies) == 0
		}},
		{name: "abuse limits set", env: map[string]string{"IP_RATE_LIMIT": "120", "IP_BURST": "0", "AUTH_FAILURE_LIMIT": "5",
			"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, check: func(c config) bool {
			return c.IPRateLimit == 120 && c.IPBurst == 0 && c.AuthFailureLimit == 5 && len(c.TrustedProxies) == 2 &&
				c.TrustedProxies[1].String() == "127.0.0.1/32"
		}},
		{name: "negative IP limit", env: map[string]string{"IP_RATE_LIMIT": "-1"}, wantErr: "IP_RATE_LIMIT"},
		{name: "bad auth failure limit", env: map[string]string{"AUTH_FAILURE_LIMIT": "many"}, wantErr: "AUTH_FAILURE_LIMIT"},
		{name: "stream replicas", env: map[string]string{"NATS_STREAM_REPLICAS": "3"},
			check: func(c config) bool { return c.NATSStreamReplicas == 3 }},
		{name: "stream replicas unset keep the stream's", env: nil, check: func(c config) bool { return c.NATSStreamReplicas == 0 }},
		{name: "stream replicas out of range", env: map[string]string{"NATS_STREAM_REPLICAS": "7"}, wantErr: "NATS_STREAM_REPLICAS"},
		{name: "bad trusted proxy", env: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, wantErr: "TRUSTED_PROXIES"},
		{name: "observability defaults", env: nil, check: func(c config) bool {
			return c.MetricsAddr == "" && c.MetricsToken == "" && c.OTLPEndpoint == "" && c.LogFormat == "text"
		}},
		{name: "observability set", env: map[string]string{"METRICS_ADDR": "127.0.0.1:9090", "METRICS_TOKEN": "t",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "LOG_FORMAT": "json"}, check: func(c config) bool {
			return c.MetricsAddr == "127.0.0.1:9090" && c.MetricsToken == "t" && c.OTLPEndpoint == "http://collector:4318" && c.LogFormat == "json"
		}},
		{name: "bad log format", env: map[string]string{"LOG_FORMAT": "xml"}, wantErr: "LOG_FORMAT"},
		{name: "OTLP endpoint without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
			wantErr: "OTEL_EXPORTER_OTLP_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

// envOf is a getenv over m.
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}
