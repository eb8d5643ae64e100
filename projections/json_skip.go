package projections

import "unicode/utf8"

// The fast decoder keeps plan.created's options as their stored bytes;
// these functions find where such a value ends and check on the way that
// it is JSON of the strict subset fastDecoder takes (no white space,
// strings of valid UTF-8 without control characters), so a value they
// take is one encoding/json takes too.

// skipValue reads any JSON value of the subset (strings may hold escapes
// here: their bytes are kept as they are, not decoded), checking it is
// well formed; depth bounds the nesting.
func (d *fastDecoder) skipValue(depth int) bool {
	if d.i >= len(d.b) || depth > 64 {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		if d.byte('}') {
			return true
		}
		for {
			if !d.skipString() || !d.byte(':') || !d.skipValue(depth+1) {
				return false
			}
			if d.byte('}') {
				return true
			}
			if !d.byte(',') {
				return false
			}
		}
	case c == '[':
		d.i++
		if d.byte(']') {
			return true
		}
		for {
			if !d.skipValue(depth + 1) {
				return false
			}
			if d.byte(']') {
				return true
			}
			if !d.byte(',') {
				return false
			}
		}
	case c == '"':
		return d.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	default:
		return d.literal("true") || d.literal("false") || d.literal("null")
	}
}

// skipString reads a string, escapes included (each checked), of valid
// UTF-8 without control characters.
func (d *fastDecoder) skipString() bool {
	if !d.byte('"') {
		return false
	}
	start, ascii := d.i, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return ascii || utf8.Valid(d.b[start:d.i-1])
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			ascii = false
			d.i++
		case c != '\\':
			d.i++
		case d.i+1 >= len(d.b):
			return false
		default:
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) {
					return false
				}
				if _, ok := hex4(d.b[d.i+2 : d.i+6]); !ok {
					return false
				}
				d.i += 6
			default:
				return false
			}
		}
	}
	return false
}

// skipNumber reads a number as JSON spells it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) skipNumber() bool {
	d.byte('-')
	digits := func() int {
		start := d.i
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
		}
		return d.i - start
	}
	if d.byte('0') {
		if d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			return false
		}
	} else if digits() == 0 {
		return false
	}
	if d.byte('.') && digits() == 0 {
		return false
	}
	if d.byte('e') || d.byte('E') {
		if !d.byte('+') {
			d.byte('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
