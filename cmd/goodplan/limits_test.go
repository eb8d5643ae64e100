package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// TestServeRefusesASmallMaxPayload: serve does not start on a NATS whose
// max_payload is below the largest event message, and says why with both
// numbers.
func TestServeRefusesASmallMaxPayload(t *testing.T) {
	t.Parallel()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), MaxPayload: 128 << 10, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	vars := map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t), "HTTP_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "NATS_URL": ns.ClientURL(),
	}
	cfg, err := loadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = serve(ctx, cfg, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "max_payload is 131072 bytes") ||
		!strings.Contains(err.Error(), strconv.Itoa(workers.MaxMessageBytes)) {
		t.Fatalf("serve: %v, want a refusal naming 131072 and %d", err, workers.MaxMessageBytes)
	}
}
