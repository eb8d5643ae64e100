// Package workers runs goodplan's asynchronous side: the relay that publishes
// committed events to NATS JetStream, and the durable consumers that act on
// them (projections, introduction emails, webhooks).
package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"goodplan/eventstore"
)

// DefaultSubjectPrefix starts every subject: goodplan.events.<account>.<type>.
const DefaultSubjectPrefix = "goodplan"

// Stream limits. The duplicate window (Nats-Msg-Id = event id) only has to
// outlast a relay restart: on start the relay resumes from the later of its
// checkpoint and the stream's last message.
const (
	duplicateWindow = 10 * time.Minute
	streamMaxAge    = 7 * 24 * time.Hour
)

// Message headers set by the relay besides Nats-Msg-Id.
const (
	HeaderStreamID = "Goodplan-Stream-Id"
	HeaderVersion  = "Goodplan-Version"
	HeaderPosition = "Goodplan-Position"
	HeaderTxID     = "Goodplan-Tx-Id"
	HeaderType     = "Goodplan-Type"
)

// BusConfig says which NATS to use.
type BusConfig struct {
	URL     string // empty: an embedded in-process server with no TCP listener
	DataDir string // the embedded server keeps JetStream in DataDir/jetstream
	Prefix  string // subject prefix; default DefaultSubjectPrefix
	// Replicas is the event stream's replica count on a JetStream cluster
	// (3 for R3). 0 keeps an existing stream's count and creates a new
	// stream with 1, so a replica started without it never scales an R3
	// stream down.
	Replicas int
}

// Bus is a connection to NATS JetStream and the event stream's names.
type Bus struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	Prefix   string
	Stream   string
	replicas int // BusConfig.Replicas
	embedded *server.Server
	streamMu sync.Mutex  // one EnsureStream creation at a time
	ready    atomic.Bool // the stream's configuration was written (StreamReady)
	// StreamAttemptTimeout bounds one attempt of WaitStream; default
	// defaultStreamAttemptTimeout.
	StreamAttemptTimeout time.Duration
}

// OpenBus connects to NATS (starting the embedded server when cfg.URL is
// empty) and creates or updates the event stream, once: a command that
// runs and exits (replay, deadletters) reports a failure. serve uses
// ConnectBus and WaitStream instead, which do not give up.
func OpenBus(ctx context.Context, cfg BusConfig) (*Bus, error) {
	b, err := ConnectBus(cfg)
	if err != nil {
		return nil, err
	}
	if err := b.createOrUpdateStream(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// ConnectBus connects to NATS (starting the embedded server when cfg.URL
// is empty) without touching the event stream: call WaitStream before
// the relay or a consumer starts. An external NATS that does not answer
// yet is connected to in the background (the client retries forever).
func ConnectBus(cfg BusConfig) (*Bus, error) {
	b := &Bus{Prefix: cfg.Prefix, replicas: cfg.Replicas}
	if b.Prefix == "" {
		b.Prefix = DefaultSubjectPrefix
	}
	b.Stream = StreamName(b.Prefix)
	var err error
	if cfg.URL == "" {
		b.embedded, err = server.NewServer(&server.Options{
			ServerName: "goodplan-embedded",
			DontListen: true, // in-process only: never collides with a NATS on 4222
			JetStream:  true,
			StoreDir:   filepath.Join(cfg.DataDir, "jetstream"),
			NoSigs:     true,
			NoLog:      true,
		})
		if err != nil {
			return nil, fmt.Errorf("embedded nats: %w", err)
		}
		b.embedded.Start()
		if !b.embedded.ReadyForConnections(30 * time.Second) {
			b.embedded.Shutdown()
			return nil, errors.New("embedded nats: not ready after 30s")
		}
		b.NC, err = nats.Connect(nats.DefaultURL, nats.InProcessServer(b.embedded), nats.Name("goodplan"))
	} else {
		b.NC, err = nats.Connect(cfg.URL, nats.Name("goodplan"), nats.MaxReconnects(-1),
			nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	if b.JS, err = jetstream.New(b.NC); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return b, nil
}

// defaultStreamAttemptTimeout bounds one attempt to write the stream's
// configuration: JetStream's own API timeout.
const defaultStreamAttemptTimeout = 5 * time.Second

// streamBackoff is WaitStream's wait after the n-th failure (from 0),
// doubling from 250 ms to at most 5 s.
func streamBackoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for ; n > 0 && d < 5*time.Second; n-- {
		d *= 2
	}
	return min(d, 5*time.Second)
}

// WaitStream creates or updates the event stream, retrying with backoff
// until it succeeds or ctx ends; each failure is logged at WARN with its
// attempt number. A JetStream cluster without a quorum for a moment (a
// node just killed, a meta leader being elected) answers nothing and the
// request times out: a replica starting then must wait, not exit, while
// its HTTP API already serves (it only needs PostgreSQL).
func (b *Bus) WaitStream(ctx context.Context, log *slog.Logger) error {
	timeout := b.StreamAttemptTimeout
	if timeout <= 0 {
		timeout = defaultStreamAttemptTimeout
	}
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := b.createOrUpdateStream(actx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("nats stream created", "stream", b.Stream, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
		delay := streamBackoff(attempt - 1)
		log.Warn("nats stream not ready; retrying", "stream", b.Stream, "attempt", attempt, "delay", delay, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %d attempts)", err, attempt)
		case <-time.After(delay):
		}
	}
}

// StreamReady reports whether the event stream's configuration was
// written (by OpenBus, WaitStream or EnsureStream).
func (b *Bus) StreamReady() bool { return b.ready.Load() }

// EnsureStream creates the event stream if the server does not have it (it
// lost it, or another process has not created it yet). A stream that exists
// is left alone: updating it while consumers are being created races inside
// nats-server (seen with the race detector), so the configuration is only
// written by OpenBus, before any consumer starts, and here when the stream is
// missing, one caller at a time.
func (b *Bus) EnsureStream(ctx context.Context) error {
	_, err := b.JS.Stream(ctx, b.Stream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s: %w", b.Stream, err)
	}
	b.streamMu.Lock()
	defer b.streamMu.Unlock()
	return b.createOrUpdateStream(ctx)
}

// createOrUpdateStream writes the event stream's configuration.
func (b *Bus) createOrUpdateStream(ctx context.Context) error {
	replicas := b.replicas
	if replicas == 0 {
		replicas = 1
		if s, err := b.JS.Stream(ctx, b.Stream); err == nil && s.CachedInfo().Config.Replicas > 0 {
			replicas = s.CachedInfo().Config.Replicas
		}
	}
	_, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       b.Stream,
		Subjects:   []string{b.Prefix + ".events.>"},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		MaxAge:     streamMaxAge,
		Duplicates: duplicateWindow,
		Replicas:   replicas,
	})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", b.Stream, err)
	}
	b.ready.Store(true)
	return nil
}

// StreamName is the JetStream stream for a subject prefix: GOODPLAN_EVENTS
// for the default one.
func StreamName(prefix string) string {
	r := strings.NewReplacer(".", "_", "-", "_", "*", "_", ">", "_")
	return strings.ToUpper(r.Replace(prefix)) + "_EVENTS"
}

// Subject is where an event of typ for account is published.
func (b *Bus) Subject(accountID int64, typ string) string {
	return b.Prefix + ".events." + strconv.FormatInt(accountID, 10) + "." + typ
}

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.NC != nil {
		_ = b.NC.Drain()
		b.NC.Close()
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
		b.embedded.WaitForShutdown()
	}
}

// Envelope is a published event: the stored record with its data and
// metadata inline as JSON.
type Envelope struct {
	EnvelopeHead
	Data     json.RawMessage `json:"data"`
	Metadata json.RawMessage `json:"metadata"`
}

// EnvelopeHead is every field of an Envelope but the event's own JSON.
type EnvelopeHead struct {
	EventID    uuid.UUID `json:"event_id"`
	StreamID   string    `json:"stream_id"`
	Version    int64     `json:"version"`
	Position   int64     `json:"position"`
	TxID       uint64    `json:"tx_id,string"`
	Type       string    `json:"type"`
	RecordedAt time.Time `json:"recorded_at"`
	Hash       []byte    `json:"hash"`
}

// EncodeRecord is the message body for rec: the Envelope's JSON. The event
// data and metadata are spliced in as stored (compact JSON written by
// encoding/json), not re-validated: on the relay's hot path that pass cost
// as much as the rest of the encoding.
func EncodeRecord(rec eventstore.Record) ([]byte, error) {
	head, err := json.Marshal(EnvelopeHead{rec.EventID, rec.StreamID, rec.Version, rec.Position, rec.TxID, rec.Type, rec.RecordedAt, rec.Hash})
	if err != nil {
		return nil, err
	}
	data, meta := rec.Data, rec.Metadata
	if len(data) == 0 {
		data = []byte("null")
	}
	if len(meta) == 0 {
		meta = []byte("null")
	}
	b := make([]byte, 0, len(head)+len(data)+len(meta)+24)
	b = append(b, head[:len(head)-1]...) // without the closing brace
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"metadata":`...)
	b = append(b, meta...)
	return append(b, '}'), nil
}

// DecodeRecord reads a message body written by EncodeRecord. Every
// consumer decodes every message, so the layout EncodeRecord writes is cut
// apart without scanning the event data (its consumer decodes it anyway):
// only the small head and the metadata are parsed. A body of any other
// layout is decoded as plain JSON.
func DecodeRecord(body []byte) (eventstore.Record, error) {
	if rec, ok := splitRecord(body); ok {
		return rec, nil
	}
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return eventstore.Record{}, fmt.Errorf("decode event message: %w", err)
	}
	return recordOf(e.EnvelopeHead, e.Data, e.Metadata), nil
}

var (
	dataKey     = []byte(`,"data":`)
	metadataKey = []byte(`,"metadata":`)
)

// splitRecord takes apart head, `,"data":` data, `,"metadata":` metadata
// and the closing brace. Outside JSON strings quotes are bare and inside
// them escaped, so the first data key is the head's end (the head has no
// data field) and the last metadata key the data's end (metadata is a
// flat object).
func splitRecord(body []byte) (eventstore.Record, bool) {
	d, m := bytes.Index(body, dataKey), bytes.LastIndex(body, metadataKey)
	if d <= 0 || m <= d || body[len(body)-1] != '}' {
		return eventstore.Record{}, false
	}
	data, meta := body[d+len(dataKey):m], body[m+len(metadataKey):len(body)-1]
	if !json.Valid(meta) {
		return eventstore.Record{}, false
	}
	var head EnvelopeHead
	if err := json.Unmarshal(append(body[:d:d], '}'), &head); err != nil {
		return eventstore.Record{}, false
	}
	return recordOf(head, data, meta), true
}

func recordOf(h EnvelopeHead, data, meta json.RawMessage) eventstore.Record {
	return eventstore.Record{EventID: h.EventID, StreamID: h.StreamID, Version: h.Version, Position: h.Position,
		TxID: h.TxID, Type: h.Type, RecordedAt: h.RecordedAt, Data: data, Metadata: meta, Hash: h.Hash}
}

// AccountOf reads the account id from an event's metadata.
func AccountOf(rec eventstore.Record) (int64, error) {
	var m struct {
		AccountID int64 `json:"account_id"`
	}
	if err := json.Unmarshal(rec.Metadata, &m); err != nil {
		return 0, fmt.Errorf("event %s metadata: %w", rec.EventID, err)
	}
	return m.AccountID, nil
}
