package projections

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// Replay compares rebuilt rows with live ones in Go (see replay_digest.go):
// PostgreSQL sends a jsonb value as its canonical text, so the rebuilt
// JSON is put in that same form first. jsonbText is that form, as
// PostgreSQL 15's JsonbToCString writes it: object keys sorted by length,
// then bytewise (duplicates are not handled); ": " after a key and ", "
// between members and elements; strings with only ", \, \b, \f, \n, \r, \t
// and other control characters (\u00XX) escaped, everything else as UTF-8;
// numbers as numeric prints them (a plain JSON number is kept as written,
// but for the sign of a zero).
//
// It returns ok false for anything it does not put in that form exactly
// (an exponent, a duplicate key, a \u0000 or a lone surrogate, invalid
// UTF-8, malformed JSON): the caller then leaves the comparison of that
// row to PostgreSQL. Equal output therefore always means equal jsonb;
// unequal output means "compare in SQL", never "different".

// appendJSONBText appends the canonical jsonb text of the JSON document src
// to dst.
func appendJSONBText(dst, src []byte) ([]byte, bool) {
	c := canonPool.Get().(*jsonbCanon)
	defer canonPool.Put(c)
	c.src, c.i, c.out, c.members, c.keys = src, 0, dst, c.members[:0], c.keys[:0]
	defer func() { c.src, c.out = nil, nil }()
	c.ws()
	if !c.value(0) {
		return dst, false
	}
	c.ws()
	if c.i != len(c.src) {
		return dst, false
	}
	return c.out, true
}

// canonPool keeps the scratch of appendJSONBText (a replay calls it five
// times per plan).
var canonPool = sync.Pool{New: func() any { return &jsonbCanon{} }}

type jsonbCanon struct {
	src     []byte
	i       int
	out     []byte
	members []jsonbMember // scratch, shared by every object (used as a stack)
	keys    []byte        // the members' decoded keys
}

// jsonbMember is one object member already written to out: its key (as
// decoded bytes, for the sort) and the span of its "key": value text.
type jsonbMember struct {
	keyOff, keyLen int // decoded key inside keys
	off, end       int // the member's canonical text inside out
}

func (c *jsonbCanon) ws() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

const maxJSONBDepth = 64

func (c *jsonbCanon) value(depth int) bool {
	if c.i >= len(c.src) || depth > maxJSONBDepth {
		return false
	}
	switch b := c.src[c.i]; {
	case b == '{':
		return c.object(depth)
	case b == '[':
		return c.array(depth)
	case b == '"':
		return c.str()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	}
	return false
}

func (c *jsonbCanon) literal(s string) bool {
	if !bytes.HasPrefix(c.src[c.i:], []byte(s)) {
		return false
	}
	c.i += len(s)
	c.out = append(c.out, s...)
	return true
}

// number copies a JSON number without an exponent; "-0", "-0.00" lose
// their sign as numeric prints them.
func (c *jsonbCanon) number() bool {
	start := c.i
	if c.src[c.i] == '-' {
		c.i++
	}
	digits := func() int {
		n := 0
		for c.i < len(c.src) && c.src[c.i] >= '0' && c.src[c.i] <= '9' {
			c.i++
			n++
		}
		return n
	}
	intStart := c.i
	n := digits()
	if n == 0 || (n > 1 && c.src[intStart] == '0') {
		return false
	}
	if c.i < len(c.src) && c.src[c.i] == '.' {
		c.i++
		if digits() == 0 {
			return false
		}
	}
	if c.i < len(c.src) && (c.src[c.i] == 'e' || c.src[c.i] == 'E') {
		return false
	}
	num := c.src[start:c.i]
	if num[0] == '-' && len(bytes.Trim(num[1:], "0.")) == 0 {
		num = num[1:] // a negative zero
	}
	c.out = append(c.out, num...)
	return true
}

func (c *jsonbCanon) array(depth int) bool {
	c.i++ // [
	c.out = append(c.out, '[')
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == ']' {
		c.i++
		c.out = append(c.out, ']')
		return true
	}
	for {
		c.ws()
		if !c.value(depth + 1) {
			return false
		}
		c.ws()
		if c.i >= len(c.src) {
			return false
		}
		switch c.src[c.i] {
		case ',':
			c.i++
			c.out = append(c.out, ", "...)
		case ']':
			c.i++
			c.out = append(c.out, ']')
			return true
		default:
			return false
		}
	}
}

// object writes each member's key and value as they come, after a copy of
// the member's decoded key (for the sort), then, unless they already came
// in jsonb's order, rewrites them in that order.
func (c *jsonbCanon) object(depth int) bool {
	c.i++ // {
	start := len(c.out)
	c.out = append(c.out, '{')
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == '}' {
		c.i++
		c.out = append(c.out, '}')
		return true
	}
	base := len(c.members)
	defer func() { c.members = c.members[:base] }()
	sorted := true
	for {
		c.ws()
		if c.i >= len(c.src) || c.src[c.i] != '"' {
			return false
		}
		if len(c.members) > base {
			c.out = append(c.out, ", "...)
		}
		m := jsonbMember{off: len(c.out)}
		if !c.str() {
			return false
		}
		// Keys sort by their decoded bytes: the written key without its
		// quotes, unescaped.
		m.keyOff = len(c.keys)
		c.keys = unescapeJSONB(c.keys, c.out[m.off+1:len(c.out)-1])
		m.keyLen = len(c.keys) - m.keyOff
		key := c.key(m)
		if len(c.members) > base {
			prev := c.members[len(c.members)-1]
			switch cmp := jsonbKeyCompare(c.key(prev), key); {
			case cmp == 0:
				return false // a duplicate key
			case cmp > 0:
				sorted = false
			}
		}
		c.ws()
		if c.i >= len(c.src) || c.src[c.i] != ':' {
			return false
		}
		c.i++
		c.out = append(c.out, ": "...)
		c.ws()
		if !c.value(depth + 1) {
			return false
		}
		m.end = len(c.out)
		c.members = append(c.members, m)
		c.ws()
		if c.i >= len(c.src) {
			return false
		}
		if c.src[c.i] == ',' {
			c.i++
			continue
		}
		if c.src[c.i] != '}' {
			return false
		}
		c.i++
		break
	}
	c.out = append(c.out, '}')
	if sorted {
		return true
	}
	ms := c.members[base:]
	// Insertion sort: objects here have a few members.
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && jsonbKeyCompare(c.key(ms[j-1]), c.key(ms[j])) > 0; j-- {
			ms[j-1], ms[j] = ms[j], ms[j-1]
		}
	}
	for i := 1; i < len(ms); i++ {
		if jsonbKeyCompare(c.key(ms[i-1]), c.key(ms[i])) == 0 {
			return false
		}
	}
	end := len(c.out)
	c.out = append(c.out, '{')
	for i, m := range ms {
		if i > 0 {
			c.out = append(c.out, ", "...)
		}
		c.out = append(c.out, c.out[m.off:m.end]...)
	}
	c.out = append(c.out, '}')
	n := copy(c.out[start:], c.out[end:])
	c.out = c.out[:start+n]
	return true
}

func (c *jsonbCanon) key(m jsonbMember) []byte { return c.keys[m.keyOff : m.keyOff+m.keyLen] }

// unescapeJSONB appends the text of a string as str wrote it (only the
// escapes jsonb prints) to dst, decoded.
func unescapeJSONB(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u': // \u00XX
			r, _ := hex4(s[i+2 : i+6])
			dst = append(dst, byte(r))
			s = s[i+6:]
			continue
		default: // \" and \\
			dst = append(dst, s[i+1])
		}
		s = s[i+2:]
	}
}

// jsonbKeyCompare orders keys as jsonb stores them: shorter first, then
// bytewise.
func jsonbKeyCompare(a, b []byte) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// str decodes a JSON string and writes it as jsonb prints it.
func (c *jsonbCanon) str() bool {
	c.i++ // "
	c.out = append(c.out, '"')
	for {
		// The plain run up to the next quote, backslash or control byte.
		j := c.i
		for j < len(c.src) {
			b := c.src[j]
			if b == '"' || b == '\\' || b < 0x20 {
				break
			}
			j++
		}
		run := c.src[c.i:j]
		if !utf8.Valid(run) {
			return false
		}
		c.out = append(c.out, run...)
		c.i = j
		if c.i >= len(c.src) {
			return false
		}
		switch b := c.src[c.i]; {
		case b == '"':
			c.i++
			c.out = append(c.out, '"')
			return true
		case b < 0x20:
			return false // a raw control character is not JSON
		}
		// An escape.
		if c.i+1 >= len(c.src) {
			return false
		}
		e := c.src[c.i+1]
		c.i += 2
		switch e {
		case '"':
			c.out = append(c.out, `\"`...)
		case '\\':
			c.out = append(c.out, `\\`...)
		case '/':
			c.out = append(c.out, '/')
		case 'b':
			c.out = append(c.out, `\b`...)
		case 'f':
			c.out = append(c.out, `\f`...)
		case 'n':
			c.out = append(c.out, `\n`...)
		case 'r':
			c.out = append(c.out, `\r`...)
		case 't':
			c.out = append(c.out, `\t`...)
		case 'u':
			if c.i+4 > len(c.src) {
				return false
			}
			r, ok := hex4(c.src[c.i : c.i+4])
			if !ok {
				return false
			}
			c.i += 4
			switch {
			case r == 0 || isLowSurrogate(r):
				return false
			case isHighSurrogate(r):
				if !lowAt(c.src, c.i) {
					return false
				}
				lo, _ := hex4(c.src[c.i+2 : c.i+6])
				c.i += 6
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			}
			c.appendRune(r)
		default:
			return false
		}
	}
}

// appendRune writes a decoded character as jsonb prints it.
func (c *jsonbCanon) appendRune(r rune) {
	switch r {
	case '"':
		c.out = append(c.out, `\"`...)
	case '\\':
		c.out = append(c.out, `\\`...)
	case '\b':
		c.out = append(c.out, `\b`...)
	case '\f':
		c.out = append(c.out, `\f`...)
	case '\n':
		c.out = append(c.out, `\n`...)
	case '\r':
		c.out = append(c.out, `\r`...)
	case '\t':
		c.out = append(c.out, `\t`...)
	default:
		if r < 0x20 {
			const hexd = "0123456789abcdef"
			c.out = append(c.out, '\\', 'u', '0', '0', hexd[r>>4], hexd[r&0xf])
			return
		}
		c.out = utf8.AppendRune(c.out, r)
	}
}
