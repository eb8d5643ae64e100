package projections

import (
	"bytes"
	"unicode/utf8"

	"goodplan/eventstore"
)

// PostgreSQL refuses some text that Go strings and JSON allow: a text
// column takes no NUL and only valid UTF-8; jsonb also refuses the escape
// \u0000 and unpaired UTF-16 surrogate escapes. Stored events are immutable
// and may hold such text (they were accepted before the input boundary
// cleaned it), so the read model makes what it writes storable: each of
// these becomes U+FFFD. The check is a byte scan with no decoding; only
// text that needs it is rewritten.

const replacement = `\ufffd`

// storableText is s with NUL and invalid UTF-8 replaced by U+FFFD.
var storableText = eventstore.StorableText

// storableJSON is the JSON document b with raw NUL bytes, invalid UTF-8,
// \u0000 escapes and unpaired surrogate escapes replaced by U+FFFD. b is
// returned as it is when it has none of them.
func storableJSON(b []byte) []byte {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	} else if bytes.IndexByte(b, 0) < 0 && !badEscapes(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == 0:
			out = append(out, replacement...)
			i++
		case c != '\\' || i+1 >= len(b):
			out = append(out, c)
			i++
		case b[i+1] != 'u' || i+6 > len(b):
			out = append(out, b[i:i+2]...) // an escape of one character, \\ included
			i += 2
		default:
			v, ok := hex4(b[i+2 : i+6])
			switch {
			case !ok:
				out = append(out, b[i:i+6]...)
				i += 6
			case v == 0 || isLowSurrogate(v):
				out = append(out, replacement...)
				i += 6
			case isHighSurrogate(v):
				if lowAt(b, i+6) {
					out = append(out, b[i:i+12]...)
					i += 12
				} else {
					out = append(out, replacement...)
					i += 6
				}
			default:
				out = append(out, b[i:i+6]...)
				i += 6
			}
		}
	}
	return out
}

// badEscapes reports whether b has a \u0000 or an unpaired surrogate
// escape. Outside JSON strings there are no backslashes, so taking each
// backslash with the character after it, from the start, finds every escape.
func badEscapes(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
		if i+1 >= len(b) {
			return false
		}
		if b[i+1] != 'u' || i+6 > len(b) {
			i += 2
			continue
		}
		v, ok := hex4(b[i+2 : i+6])
		switch {
		case !ok:
		case v == 0 || isLowSurrogate(v):
			return true
		case isHighSurrogate(v):
			if !lowAt(b, i+6) {
				return true
			}
			i += 6 // the low half is fine
		}
		i += 6
	}
}

// lowAt reports whether b has a low surrogate escape at i.
func lowAt(b []byte, i int) bool {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return false
	}
	v, ok := hex4(b[i+2 : i+6])
	return ok && isLowSurrogate(v)
}

func isHighSurrogate(v rune) bool { return v >= 0xD800 && v < 0xDC00 }
func isLowSurrogate(v rune) bool  { return v >= 0xDC00 && v < 0xE000 }

func hex4(b []byte) (rune, bool) {
	var v rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
