package workers

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"goodplan/eventstore"
)

// Headers the relay copies from an event's metadata onto its message, so a
// request can be followed from the HTTP call to the workers that act on it.
const (
	HeaderRequestID   = "X-Request-Id"
	HeaderTraceparent = "traceparent"
)

// Origin is the request behind an event: its X-Request-Id and W3C
// traceparent, as the API recorded them in the event's metadata. Both are
// empty for events no request caused (the scheduler's, say).
type Origin struct {
	RequestID   string
	Traceparent string
}

type originKey struct{}

// WithOrigin returns ctx carrying o, for the handlers and their logs.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom is the request behind the event being handled, from ctx.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// LogAttrs are o's log attributes: request_id and trace_id, each only when
// known.
func (o Origin) LogAttrs() []any {
	var a []any
	if o.RequestID != "" {
		a = append(a, "request_id", o.RequestID)
	}
	if sc := o.spanContext(); sc.IsValid() {
		a = append(a, "trace_id", sc.TraceID().String())
	}
	return a
}

// logWith is log with ctx's origin attributes.
func logWith(ctx context.Context, log *slog.Logger) *slog.Logger {
	if a := OriginFrom(ctx).LogAttrs(); a != nil {
		return log.With(a...)
	}
	return log
}

// spanContext parses o.Traceparent (invalid when absent or malformed).
func (o Origin) spanContext() trace.SpanContext {
	if o.Traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{HeaderTraceparent: o.Traceparent})
	return trace.SpanContextFromContext(ctx)
}

// eventMeta is what the relay reads from an event's metadata.
type eventMeta struct {
	AccountID     int64  `json:"account_id"`
	CorrelationID string `json:"correlation_id"`
	Traceparent   string `json:"traceparent"`
}

// setOriginHeaders puts o on msg (only what is known).
func setOriginHeaders(msg *nats.Msg, o Origin) {
	// Assigned directly: the keys stay spelt as the W3C and common usage
	// spell them, whatever nats.Header.Set does with case.
	if o.RequestID != "" {
		msg.Header[HeaderRequestID] = []string{o.RequestID}
	}
	if o.Traceparent != "" {
		msg.Header[HeaderTraceparent] = []string{o.Traceparent}
	}
}

// originOfMsg reads the origin headers of a message.
func originOfMsg(h nats.Header) Origin {
	first := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return Origin{RequestID: first(HeaderRequestID), Traceparent: first(HeaderTraceparent)}
}

// OriginOf reads the origin of rec from its metadata (the zero Origin when
// it has none or cannot be read).
func OriginOf(rec eventstore.Record) Origin {
	var m eventMeta
	_ = json.Unmarshal(rec.Metadata, &m)
	return Origin{RequestID: m.CorrelationID, Traceparent: m.Traceparent}
}

// startSpan starts a span named name as a child of ctx's origin when tracer
// is set; otherwise it returns ctx and a no-op end.
func startSpan(ctx context.Context, tracer trace.Tracer, name string, kind trace.SpanKind) (context.Context, func(error)) {
	if tracer == nil {
		return ctx, func(error) {}
	}
	if sc := OriginFrom(ctx).spanContext(); sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(kind))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
		}
		span.End()
	}
}
