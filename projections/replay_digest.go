package projections

import (
	"encoding/binary"
	"hash/maphash"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Replay without --swap compares each rebuilt row with the live one by a
// digest of the row's values in PostgreSQL's binary format (what the live
// row reads as, column for column): the rebuilt values are encoded in
// that format in Go (normalized as PostgreSQL stores them: a numeric
// without its zero base-10000 digits, jsonb as its canonical text), so
// equal rows give equal digests without the rebuilt rows ever being
// written. A value this file cannot encode exactly makes the row a
// candidate, as does a digest that differs: candidates are compared again
// in SQL (see recheck), so an imperfect encoding costs time, never a
// wrong answer.

// rowDigest is 128 bits of two keyed hashes (seeds drawn per process, so
// no stored value can be crafted to collide).
type rowDigest [16]byte

var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func digestOf(b []byte) rowDigest {
	var d rowDigest
	binary.LittleEndian.PutUint64(d[:8], maphash.Bytes(digestSeeds[0], b))
	binary.LittleEndian.PutUint64(d[8:], maphash.Bytes(digestSeeds[1], b))
	return d
}

func (d *rowDigest) xor(o rowDigest) {
	for i := range d {
		d[i] ^= o[i]
	}
}

// PostgreSQL type oids of the columns replay digests.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt4        = 23
	oidText        = 25
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidJSONB       = 3802
	oidDateArray   = 1182
	oidNumArray    = 1231
)

// appendRawValue appends one live value as the digest sees it: its length
// (-1 for NULL) and its binary bytes.
func appendRawValue(buf, v []byte) []byte {
	if v == nil {
		return binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF)
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
	return append(buf, v...)
}

// appendValue appends the Go value v of a column of type oid as
// appendRawValue appends the same value read from PostgreSQL; ok is false
// when it cannot.
func appendValue(buf []byte, oid uint32, v any) ([]byte, bool) {
	lenAt := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	null := func() ([]byte, bool) {
		return binary.BigEndian.AppendUint32(buf[:lenAt], 0xFFFFFFFF), true
	}
	var ok bool
	switch v := v.(type) {
	case nil:
		return null()
	case *int64:
		if v == nil {
			return null()
		}
		buf, ok = appendInt(buf, oid, *v)
	case int64:
		buf, ok = appendInt(buf, oid, v)
	case string:
		ok = oid == oidText || oid == oidVarchar
		buf = append(buf, v...)
	case []byte:
		if v == nil {
			return null()
		}
		buf, ok = appendBytes(buf, oid, v)
	case bool:
		ok = oid == oidBool
		b := byte(0)
		if v {
			b = 1
		}
		buf = append(buf, b)
	case *time.Time:
		if v == nil {
			return null()
		}
		buf, ok = appendTime(buf, oid, *v)
	case time.Time:
		buf, ok = appendTime(buf, oid, v)
	case pgtype.Numeric:
		if !v.Valid {
			return null()
		}
		ok = oid == oidNumeric
		if ok {
			buf, ok = appendNumeric(buf, v)
		}
	case []time.Time:
		if v == nil {
			return null()
		}
		buf, ok = appendDates(buf, oid, v)
	case []pgtype.Numeric:
		if v == nil {
			return null()
		}
		buf, ok = appendNumerics(buf, oid, v)
	}
	binary.BigEndian.PutUint32(buf[lenAt:], uint32(len(buf)-lenAt-4))
	return buf, ok
}

// appendField is appendValue for a pointer to a row's field (planRow.dest):
// a pointer in an interface costs no allocation, where each of the values
// of planRow.args is boxed.
func appendField(buf []byte, oid uint32, p any) ([]byte, bool) {
	lenAt := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	null := func() ([]byte, bool) {
		return binary.BigEndian.AppendUint32(buf[:lenAt], 0xFFFFFFFF), true
	}
	var ok bool
	switch p := p.(type) {
	case *int64:
		buf, ok = appendInt(buf, oid, *p)
	case **int64:
		if *p == nil {
			return null()
		}
		buf, ok = appendInt(buf, oid, **p)
	case *string:
		ok = oid == oidText || oid == oidVarchar
		buf = append(buf, *p...)
	case *[]byte:
		if *p == nil {
			return null()
		}
		buf, ok = appendBytes(buf, oid, *p)
	case *bool:
		ok = oid == oidBool
		b := byte(0)
		if *p {
			b = 1
		}
		buf = append(buf, b)
	case **time.Time:
		if *p == nil {
			return null()
		}
		buf, ok = appendTime(buf, oid, **p)
	case *time.Time:
		buf, ok = appendTime(buf, oid, *p)
	case *pgtype.Numeric:
		if !p.Valid {
			return null()
		}
		ok = oid == oidNumeric
		if ok {
			buf, ok = appendNumeric(buf, *p)
		}
	case *[]time.Time:
		if *p == nil {
			return null()
		}
		buf, ok = appendDates(buf, oid, *p)
	case *[]pgtype.Numeric:
		if *p == nil {
			return null()
		}
		buf, ok = appendNumerics(buf, oid, *p)
	}
	binary.BigEndian.PutUint32(buf[lenAt:], uint32(len(buf)-lenAt-4))
	return buf, ok
}

func appendBytes(buf []byte, oid uint32, b []byte) ([]byte, bool) {
	switch oid {
	case oidJSONB:
		buf = append(buf, 1) // jsonb's binary format version
		return appendJSONBText(buf, b)
	case oidBytea, oidText:
		return append(buf, b...), true
	}
	return buf, false
}

func appendDates(buf []byte, oid uint32, ts []time.Time) ([]byte, bool) {
	buf = appendArrayHeader(buf, oidDate, len(ts))
	for _, t := range ts {
		buf = binary.BigEndian.AppendUint32(buf, 4)
		buf = binary.BigEndian.AppendUint32(buf, uint32(dateDays(t)))
	}
	return buf, oid == oidDateArray
}

func appendNumerics(buf []byte, oid uint32, ns []pgtype.Numeric) ([]byte, bool) {
	buf = appendArrayHeader(buf, oidNumeric, len(ns))
	for _, n := range ns {
		if !n.Valid {
			return buf, false
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		var ok bool
		if buf, ok = appendNumeric(buf, n); !ok {
			return buf, false
		}
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf, oid == oidNumArray
}

func appendInt(buf []byte, oid uint32, n int64) ([]byte, bool) {
	switch oid {
	case oidInt8:
		return binary.BigEndian.AppendUint64(buf, uint64(n)), true
	case oidInt4:
		return binary.BigEndian.AppendUint32(buf, uint32(int32(n))), n == int64(int32(n))
	}
	return buf, false
}

// pgEpoch is 2000-01-01 UTC, the epoch of PostgreSQL's dates and times.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func appendTime(buf []byte, oid uint32, t time.Time) ([]byte, bool) {
	switch oid {
	case oidTimestamptz:
		// As pgx encodes it: microseconds, the nanoseconds truncated.
		us := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000 - pgEpoch.Unix()*1_000_000
		return binary.BigEndian.AppendUint64(buf, uint64(us)), true
	case oidDate:
		return binary.BigEndian.AppendUint32(buf, uint32(dateDays(t))), true
	}
	return buf, false
}

// dateDays is t's calendar date (in t's location, as pgx encodes a date)
// in days since 2000-01-01.
func dateDays(t time.Time) int32 {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return int32((d.Unix() - pgEpoch.Unix()) / 86400)
}

// appendArrayHeader is array_send's header of a one-dimensional array of n
// elements without NULLs (an empty array has no dimension).
func appendArrayHeader(buf []byte, elem uint32, n int) []byte {
	if n == 0 {
		buf = binary.BigEndian.AppendUint32(buf, 0) // ndim
		buf = binary.BigEndian.AppendUint32(buf, 0) // flags: no NULL
		return binary.BigEndian.AppendUint32(buf, elem)
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = binary.BigEndian.AppendUint32(buf, elem)
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	return binary.BigEndian.AppendUint32(buf, 1) // lower bound
}

// appendNumeric appends n as numeric_send writes the value PostgreSQL
// stores for it: base-10000 digits without leading or trailing zero
// digits, the weight of the first, the sign, and the display scale (the
// number of decimals n was given with). Values beyond int64 are not
// handled.
func appendNumeric(buf []byte, n pgtype.Numeric) ([]byte, bool) {
	if n.NaN || n.InfinityModifier != pgtype.Finite || n.Int == nil || !n.Int.IsInt64() || n.Exp < -1000 || n.Exp > 18 {
		return buf, false
	}
	v := n.Int.Int64()
	neg := v < 0
	if neg {
		if v == -v {
			return buf, false
		}
		v = -v
	}
	dscale := 0
	var digits [40]byte
	s := strconv.AppendUint(digits[:0], uint64(v), 10)
	if n.Exp > 0 {
		for range n.Exp {
			s = append(s, '0')
		}
	} else {
		dscale = int(-n.Exp)
	}
	// Integer part s[:len(s)-dscale], fraction s[len(s)-dscale:] (padded).
	intLen := len(s) - dscale
	var frac []byte
	var whole []byte
	if intLen > 0 {
		whole, frac = s[:intLen], s[intLen:]
	} else {
		frac = append(make([]byte, 0, dscale), make([]byte, -intLen)...)
		for i := range frac {
			frac[i] = '0'
		}
		frac = append(frac, s...)
	}
	var groups [64]int16
	g := groups[:0]
	// Whole part grouped from the right.
	lead := len(whole) % 4
	if lead > 0 {
		g = append(g, int16(atoi(whole[:lead])))
	}
	for i := lead; i < len(whole); i += 4 {
		g = append(g, int16(atoi(whole[i:i+4])))
	}
	weight := len(g) - 1
	for i := 0; i < len(frac); i += 4 {
		end := min(i+4, len(frac))
		d := atoi(frac[i:end])
		for range 4 - (end - i) {
			d *= 10
		}
		g = append(g, int16(d))
		if len(g) == cap(groups) {
			return buf, false
		}
	}
	for len(g) > 0 && g[0] == 0 {
		g = g[1:]
		weight--
	}
	for len(g) > 0 && g[len(g)-1] == 0 {
		g = g[:len(g)-1]
	}
	sign := uint16(0)
	if len(g) == 0 {
		weight = 0
	} else if neg {
		sign = 0x4000
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(g)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	for _, d := range g {
		buf = binary.BigEndian.AppendUint16(buf, uint16(d))
	}
	return buf, true
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}
