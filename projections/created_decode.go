package projections

import (
	"encoding/json"
	"unicode/utf8"

	"goodplan/domain"
)

// plan.created is nearly every event replay reads (one per plan), and
// encoding/json spent half of replay's Go time on it: reflection, a
// validating pass over the whole document, then a second pass to decode.
// decodeCreatedHead reads the compact form encoding/json writes for the
// event in one pass, leaving plan_options as its stored bytes (see
// foldEvent). It takes a strict subset of JSON: no white space, each known
// key at most once, keys without escapes, strings of valid UTF-8, integers
// in canonical form, plan_options an array. Anything else (a key it does
// not know, another spelling, a null) returns ok false, and the caller
// decodes with encoding/json, so both give the same result for every input
// (the property test checks this, fuzzed).

// decodeCreatedHead decodes data into a createdHead when it has the form
// above; ok is false otherwise (nothing is wrong with data then, it is
// just not the fast case).
func decodeCreatedHead(data []byte) (head createdHead, ok bool) {
	d := fastDecoder{b: data}
	var seen uint8
	parsed := d.object(func(key string) bool {
		bit, known := createdKeys[key]
		if !known || seen&bit != 0 {
			return false
		}
		seen |= bit
		c := &head.PlanCreated
		ok := true
		switch key {
		case "plan_id":
			c.PlanID, ok = d.int64()
		case "account_id":
			c.AccountID, ok = d.int64()
		case "portal_token":
			c.PortalToken, ok = d.string()
		case "customer":
			ok = d.customer(&c.Customer)
		case "invoice":
			ok = d.invoice(&c.Invoice)
		case "plan_options":
			if d.i >= len(d.b) || d.b[d.i] != '[' {
				return false
			}
			start := d.i
			if ok = d.skipValue(0); ok {
				head.Options = json.RawMessage(d.b[start:d.i])
			}
		case "send_introduction_email":
			c.SendIntroductionEmail, ok = d.bool()
		case "created_at":
			ok = d.unmarshaler(func(b []byte) error { return c.CreatedAt.UnmarshalJSON(b) })
		}
		return ok
	})
	return head, parsed && d.i == len(d.b)
}

// createdKeys are the keys of plan.created, each with its bit in a set of
// keys seen.
var createdKeys = map[string]uint8{"plan_id": 1, "account_id": 2, "portal_token": 4, "customer": 8,
	"invoice": 16, "plan_options": 32, "send_introduction_email": 64, "created_at": 128}

// fastDecoder reads the strict JSON subset described above from b at i.
type fastDecoder struct {
	b []byte
	i int
}

// object reads an object, calling field with each key once the decoder is
// at its value; field reads the value and returns whether it could.
func (d *fastDecoder) object(field func(key string) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	for {
		key, ok := d.stringBytes()
		if !ok || !d.byte(':') || !field(string(key)) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

func (d *fastDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// stringBytes reads a string without escapes or control characters, of
// valid UTF-8 (what encoding/json would decode to the same bytes).
func (d *fastDecoder) stringBytes() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start, ascii := d.i, true
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// string reads a string value; one with escapes is checked by skipString
// and unquoted by encoding/json itself.
func (d *fastDecoder) string() (string, bool) {
	start := d.i
	if s, ok := d.stringBytes(); ok {
		return string(s), true
	}
	d.i = start
	if !d.skipString() {
		return "", false
	}
	var s string
	if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
		return "", false
	}
	return s, true
}

// int64 reads an integer in canonical form (no sign but '-', no leading
// zero, at most 18 digits: it cannot overflow).
func (d *fastDecoder) int64() (int64, bool) {
	neg := d.byte('-')
	start := d.i
	var n int64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' && d.i-start < 18 {
		n = n*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || (digits > 1 && d.b[start] == '0') || (d.i < len(d.b) && isNumberByte(d.b[d.i])) {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func (d *fastDecoder) bool() (bool, bool) {
	switch {
	case d.literal("true"):
		return true, true
	case d.literal("false"):
		return false, true
	}
	return false, false
}

func (d *fastDecoder) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// unmarshaler reads a string value and hands its JSON text, quotes
// included, to unmarshal: the type's own UnmarshalJSON, as encoding/json
// would call it.
func (d *fastDecoder) unmarshaler(unmarshal func([]byte) error) bool {
	start := d.i
	if _, ok := d.stringBytes(); !ok {
		return false
	}
	return unmarshal(d.b[start:d.i]) == nil
}

func (d *fastDecoder) customer(c *domain.Customer) bool {
	var seen uint8
	return d.object(func(key string) bool {
		var bit uint8
		var ok bool
		switch key {
		case "id":
			bit = 1
			c.ID, ok = d.int64()
		case "name":
			bit = 2
			c.Name, ok = d.string()
		case "email":
			bit = 4
			c.Email, ok = d.string()
		case "phone":
			bit = 8
			c.Phone, ok = d.string()
		}
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

func (d *fastDecoder) invoice(inv *domain.Invoice) bool {
	var seen uint8
	return d.object(func(key string) bool {
		var bit uint8
		var ok bool
		switch key {
		case "id":
			bit = 1
			inv.ID, ok = d.int64()
		case "amount":
			bit = 2
			ok = d.unmarshaler(func(b []byte) error { return inv.Amount.UnmarshalJSON(b) })
		case "currency":
			bit = 4
			inv.Currency, ok = d.string()
		case "invoice_number":
			bit = 8
			inv.InvoiceNumber, ok = d.string()
		case "description":
			bit = 16
			inv.Description, ok = d.string()
		}
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}
