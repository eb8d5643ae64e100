package projections

import (
	"encoding/json"
	"strconv"
	"time"

	"goodplan/domain"
)

// A plan's row holds its customer, invoice, introduction email, lifecycle
// and history as JSON, and encoding/json's reflection was a quarter of
// replay's Go time. rowJSON writes the same bytes as json.Marshal for these
// types by hand; a lifecycle with payments, proposals, notices or consent
// (rare, and many more types) goes through json.Marshal. The test compares
// both byte for byte over random values.

// rowJSON is json.Marshal(v), by hand for the row's hot types.
func rowJSON(v any) ([]byte, error) {
	w := jsonWriter{b: make([]byte, 0, 256), ok: true}
	switch v := v.(type) {
	case domain.Customer:
		w.customer(v)
	case domain.Invoice:
		w.invoice(v)
	case domain.IntroductionEmail:
		w.introEmail(v)
	case Lifecycle:
		w.lifecycle(v)
	default:
		w.ok = false
	}
	if w.ok {
		return w.b, nil
	}
	return json.Marshal(v)
}

// jsonWriter appends JSON to b; ok turns false when a value is not one it
// writes by hand (the caller then uses json.Marshal for the whole value).
type jsonWriter struct {
	b  []byte
	ok bool
}

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) int(n int64) { w.b = strconv.AppendInt(w.b, n, 10) }

// string writes s as encoding/json does: plain ASCII as it is, anything
// needing an escape (quotes, control characters, <, >, &, non-ASCII text
// with its U+2028/U+2029 and invalid UTF-8 rules) through encoding/json.
func (w *jsonWriter) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			w.b = append(w.b, b...)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) money(m domain.Money) {
	w.b = append(w.b, '"')
	w.b = append(w.b, m.String()...)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) date(d domain.Date) {
	b, err := d.MarshalJSON()
	if err != nil {
		w.ok = false
		return
	}
	w.b = append(w.b, b...)
}

// time writes t as time.Time.MarshalJSON does (RFC 3339 with nanoseconds);
// a time it would refuse, or one not in UTC, goes through MarshalJSON.
func (w *jsonWriter) time(t time.Time) {
	if _, off := t.Zone(); off != 0 || t.Year() < 0 || t.Year() > 9999 {
		b, err := t.MarshalJSON()
		if err != nil {
			w.ok = false
			return
		}
		w.b = append(w.b, b...)
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) timePtr(t *time.Time) {
	if t == nil {
		w.raw("null")
		return
	}
	w.time(*t)
}

func (w *jsonWriter) customer(c domain.Customer) {
	w.raw(`{"id":`)
	w.int(c.ID)
	w.raw(`,"name":`)
	w.string(c.Name)
	w.raw(`,"email":`)
	w.string(c.Email)
	if c.Phone != "" {
		w.raw(`,"phone":`)
		w.string(c.Phone)
	}
	w.raw(`}`)
}

func (w *jsonWriter) invoice(inv domain.Invoice) {
	w.raw(`{"id":`)
	w.int(inv.ID)
	w.raw(`,"amount":`)
	w.money(inv.Amount)
	w.raw(`,"currency":`)
	w.string(inv.Currency)
	if inv.InvoiceNumber != "" {
		w.raw(`,"invoice_number":`)
		w.string(inv.InvoiceNumber)
	}
	if inv.Description != "" {
		w.raw(`,"description":`)
		w.string(inv.Description)
	}
	w.raw(`}`)
}

func (w *jsonWriter) introEmail(e domain.IntroductionEmail) {
	w.raw(`{"status":`)
	w.string(string(e.Status))
	if e.MessageID != "" {
		w.raw(`,"message_id":`)
		w.string(e.MessageID)
	}
	if e.At != nil {
		w.raw(`,"at":`)
		w.time(*e.At)
	}
	if e.Reason != "" {
		w.raw(`,"reason":`)
		w.string(e.Reason)
	}
	if e.Resends != 0 {
		w.raw(`,"resends":`)
		w.int(int64(e.Resends))
	}
	w.raw(`}`)
}

// lifecycle writes l by hand unless it has payments, proposals, notices
// or consent.
func (w *jsonWriter) lifecycle(l Lifecycle) {
	if len(l.Payments) > 0 || len(l.Proposals) > 0 || len(l.Notifications) > 0 || l.Consent != nil ||
		l.Schedule == nil || l.Payments == nil || l.Proposals == nil || l.Notifications == nil {
		w.ok = false
		return
	}
	w.raw(`{`)
	if l.Interval != "" {
		w.raw(`"interval":`)
		w.string(string(l.Interval))
		w.raw(`,`)
	}
	w.raw(`"schedule":[`)
	for i, in := range l.Schedule {
		if i > 0 {
			w.raw(`,`)
		}
		w.raw(`{"number":`)
		w.int(int64(in.Number))
		w.raw(`,"due_date":`)
		w.date(in.DueDate)
		w.raw(`,"amount":`)
		w.money(in.Amount)
		w.raw(`,"paid":`)
		w.money(in.Paid)
		w.raw(`,"outstanding":`)
		w.money(in.Outstanding)
		w.raw(`,"status":`)
		w.string(string(in.Status))
		w.raw(`}`)
	}
	w.raw(`],"ledger":{"total":`)
	w.money(l.Ledger.Total)
	w.raw(`,"paid":`)
	w.money(l.Ledger.Paid)
	w.raw(`,"reported":`)
	w.money(l.Ledger.Reported)
	w.raw(`,"outstanding":`)
	w.money(l.Ledger.Outstanding)
	w.raw(`},"payments":[],"proposals":[],"consent":null,"notifications":[],"activated_at":`)
	w.timePtr(l.ActivatedAt)
	w.raw(`,"completed_at":`)
	w.timePtr(l.CompletedAt)
	w.raw(`,"closed_at":`)
	w.timePtr(l.ClosedAt)
	if l.ClosedReason != "" {
		w.raw(`,"closed_reason":`)
		w.string(l.ClosedReason)
	}
	w.raw(`}`)
}
