package workers_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"goodplan/eventstore"
	"goodplan/workers"
)

// headerBytes is the size of h on the wire, as NATS counts it against
// max_payload: "NATS/1.0\r\n", a "Key: value\r\n" line per value, "\r\n".
func headerBytes(h nats.Header) int {
	n := len("NATS/1.0\r\n") + 2
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

// TestEnvelopeHeadroom: the largest message the relay can publish, an
// event of eventstore.MaxEventBytes with the longest stream id and type the
// store holds (plan streams; 128 bytes of each, to spare) and the largest
// numbers, fits in MaxMessageBytes.
func TestEnvelopeHeadroom(t *testing.T) {
	t.Parallel()
	meta, err := json.Marshal(eventstore.Metadata{AccountID: math.MaxInt64, Actor: "merchant",
		CommandID:     "idempotency:" + strconv.FormatInt(math.MaxInt64, 10) + ":" + strings.Repeat("k", 255),
		CorrelationID: strings.Repeat("r", 128), Traceparent: "00-" + strings.Repeat("1", 32) + "-" + strings.Repeat("2", 16) + "-01", IP: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", UserAgent: strings.Repeat("u", 512)})
	if err != nil {
		t.Fatal(err)
	}
	fill := eventstore.MaxEventBytes - len(meta) - len(`{"s":""}`)
	rec := eventstore.Record{
		Position: math.MaxInt64, TxID: math.MaxUint64, StreamID: strings.Repeat("s", 128), Version: math.MaxInt64,
		EventID: uuid.New(), Type: strings.Repeat("t", 128), Data: []byte(`{"s":"` + strings.Repeat("x", fill) + `"}`),
		Metadata: meta, RecordedAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), Hash: make([]byte, 32),
	}
	if n := len(rec.Data) + len(rec.Metadata); n != eventstore.MaxEventBytes {
		t.Fatalf("test event of %d bytes, want %d", n, eventstore.MaxEventBytes)
	}
	subject := "goodplan.events." + strconv.FormatInt(math.MaxInt64, 10) + "." + rec.Type
	msg, err := workers.EventMsg(subject, rec)
	if err != nil {
		t.Fatal(err)
	}
	size := len(msg.Data) + headerBytes(msg.Header)
	t.Logf("largest message %d bytes: envelope %d of %d headroom", size, size-eventstore.MaxEventBytes, workers.EnvelopeHeadroom)
	if size > workers.MaxMessageBytes {
		t.Fatalf("largest message %d bytes, over MaxMessageBytes %d", size, workers.MaxMessageBytes)
	}
	if back, err := workers.DecodeRecord(msg.Data); err != nil || len(back.Data) != len(rec.Data) {
		t.Fatalf("decode the largest message: %v", err)
	}
}

// smallNATS is a bus on a NATS server of the test's own whose max_payload
// is maxPayload bytes (below what serve accepts: a server reconfigured after
// larger events were stored).
func smallNATS(t *testing.T, maxPayload int32) *workers.Bus {
	t.Helper()
	small, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), MaxPayload: maxPayload, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	small.Start()
	t.Cleanup(func() { small.Shutdown(); small.WaitForShutdown() })
	if !small.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus, err := workers.OpenBus(ctx, workers.BusConfig{URL: small.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	return bus
}

// TestCheckMaxPayload: a NATS server whose max_payload is below
// MaxMessageBytes is refused with both numbers named; the default (1 MiB,
// embedded and external alike) is accepted.
func TestCheckMaxPayload(t *testing.T) {
	t.Parallel()
	bus := smallNATS(t, 64<<10)
	err := bus.CheckMaxPayload()
	if err == nil || !strings.Contains(err.Error(), "65536") || !strings.Contains(err.Error(), strconv.Itoa(workers.MaxMessageBytes)) {
		t.Fatalf("max_payload 64 KiB: err = %v, want one naming 65536 and %d", err, workers.MaxMessageBytes)
	}

	for _, external := range []bool{false, true} {
		if err := relayBus(t, external).CheckMaxPayload(); err != nil {
			t.Fatalf("default max_payload (external=%v): %v", external, err)
		}
	}
}
