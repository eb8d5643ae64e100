// Package domaintest holds checks the fuzz tests of several packages share
// about domain events. It is imported only by tests.
package domaintest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"goodplan/domain"
)

// isoDate is the only form a stored date may take.
var isoDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// CheckStorable returns an error unless e can be stored and read back
// exactly: its JSON is valid UTF-8 with no NUL byte and no \u0000 escape
// (PostgreSQL's jsonb refuses both, and the read models are jsonb), it
// decodes back to a value equal to e that encodes to the same bytes, every
// Date in it is a real date from 0001-01-01 to 9999-12-31 printed as
// YYYY-MM-DD, and every time is within years 1 to 9999.
func CheckStorable(e domain.Event) error {
	typ, data, err := domain.MarshalEvent(e)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := checkJSONText(data); err != nil {
		return fmt.Errorf("%s %s: %w", typ, data, err)
	}
	if err := CheckRoundTrip(e); err != nil {
		return err
	}
	if err := checkDates(reflect.ValueOf(e), typ); err != nil {
		return fmt.Errorf("%s %s: %w", typ, data, err)
	}
	return nil
}

// CheckRoundTrip returns an error unless e encodes (domain.MarshalEvent),
// decodes (domain.UnmarshalEvent) to a value equal to e, and that value
// encodes to the same bytes.
func CheckRoundTrip(e domain.Event) error {
	typ, data, err := domain.MarshalEvent(e)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	back, err := domain.UnmarshalEvent(typ, data)
	if err != nil {
		return fmt.Errorf("%s %s: decode: %w", typ, data, err)
	}
	if !reflect.DeepEqual(back, e) {
		return fmt.Errorf("%s %s: decodes to %#v, want %#v", typ, data, back, e)
	}
	_, again, err := domain.MarshalEvent(back)
	if err != nil || !bytes.Equal(again, data) {
		return fmt.Errorf("%s: encodes again as %s (%v), want %s", typ, again, err, data)
	}
	return nil
}

// checkJSONText checks what jsonb needs of a JSON text: valid UTF-8, no NUL
// byte, and no string (key or value) holding U+0000.
func checkJSONText(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("JSON is not valid UTF-8")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return errors.New("JSON has a NUL byte")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("JSON does not parse: %w", err)
		}
		if s, ok := tok.(string); ok && strings.ContainsRune(s, 0) {
			return fmt.Errorf("JSON string %q holds U+0000 (jsonb refuses \\u0000)", s)
		}
	}
}

var (
	dateType = reflect.TypeFor[domain.Date]()
	timeType = reflect.TypeFor[time.Time]()
)

// checkDates walks v's exported fields, pointers and slices and checks
// every non-zero Date and every time.Time.
func checkDates(v reflect.Value, path string) error {
	switch {
	case v.Type() == dateType:
		d := v.Interface().(domain.Date)
		if d.IsZero() {
			return nil
		}
		if d.Year() < 1 || d.Year() > 9999 || !isoDate.MatchString(d.String()) {
			return fmt.Errorf("%s: date %s is outside 0001-01-01..9999-12-31", path, d)
		}
		if p, err := domain.ParseDate(d.String()); err != nil || p != d {
			return fmt.Errorf("%s: date %s does not parse back (%v)", path, d, err)
		}
		return nil
	case v.Type() == timeType:
		t := v.Interface().(time.Time)
		if t.Year() < 1 || t.Year() > 9999 {
			return fmt.Errorf("%s: time %s is outside years 1..9999", path, t)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkDates(v.Elem(), path)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := checkDates(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				if err := checkDates(v.Field(i), path+"."+f.Name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
