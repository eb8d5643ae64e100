package domain

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
)

// MaxTierQty bounds a tier's min_qty and max_qty, and a quoted quantity.
const MaxTierQty = 1_000_000_000_000

// MaxTiers is the most tiers a plan may have.
const MaxTiers = 100

// checkTiers validates the tiers: required (at least one) for volume and
// tiered, refused otherwise. The first starts at 0 or 1 (or leaves min_qty
// out, starting at 1); each next min_qty is the previous max_qty + 1; only
// the last leaves max_qty out; max_qty >= min_qty; unit_cost required, >= 0,
// at most 10 decimals.
func checkTiers(ve *ValidationError, in []TierInput, mode PricingMode) []Tier {
	if mode != Volume && mode != Tiered {
		if in != nil {
			ve.AddRule("tiers", CodeInvalid, "are only allowed when the pricing_mode is volume or tiered.")
		}
		return nil
	}
	switch {
	case len(in) == 0:
		ve.AddRule("tiers", CodeRequired, "are required when the pricing_mode is "+string(mode)+".")
		return nil
	case len(in) > MaxTiers:
		ve.AddRule("tiers", CodeTooMany, "may not have more than "+strconv.Itoa(MaxTiers)+" items.")
		return nil
	}
	out := make([]Tier, len(in))
	var prevMax *int64
	for i, t := range in {
		f := "tiers." + strconv.Itoa(i) + "."
		last := i == len(in)-1
		switch {
		case i == 0 && t.MinQty != nil && *t.MinQty != 0 && *t.MinQty != 1:
			ve.AddRule(f+"min_qty", CodeInvalid, "of the first tier must be 0 or 1.")
		case i > 0 && t.MinQty == nil:
			ve.Require(f + "min_qty")
		case i > 0 && prevMax != nil && *t.MinQty != *prevMax+1:
			ve.AddRule(f+"min_qty", CodeInvalid, "must be "+strconv.FormatInt(*prevMax+1, 10)+" (the previous tier's max_qty + 1).")
		}
		switch {
		case t.MaxQty == nil && !last:
			ve.AddRule(f+"max_qty", CodeRequired, "is required on every tier but the last.")
		case t.MaxQty != nil && (*t.MaxQty < 1 || *t.MaxQty > MaxTierQty):
			ve.AddRule(f+"max_qty", CodeInvalid, "must be between 1 and "+strconv.FormatInt(MaxTierQty, 10)+".")
		case t.MaxQty != nil && t.MinQty != nil && *t.MaxQty < *t.MinQty:
			ve.AddRule(f+"max_qty", CodeInvalid, "must be at least the tier's min_qty.")
		}
		if strings.TrimSpace(t.UnitCost) == "" {
			ve.Require(f + "unit_cost")
		} else if d, ok := checkDecimal(ve, f+"unit_cost", strings.TrimSpace(t.UnitCost)); ok {
			out[i].UnitCost = d
		}
		out[i].MinQty, out[i].MaxQty = clonePtr(t.MinQty), clonePtr(t.MaxQty)
		prevMax = t.MaxQty
	}
	return out
}

// CheckMetadata cleans a metadata map: at most MaxMetadataKeys entries,
// keys non-empty single lines of at most MaxMetadataKeyLen characters with
// no surrounding white space, values (trimmed) of at most
// MaxMetadataValueLen characters, line breaks allowed. It returns {} for an
// empty or nil map, never nil.
func CheckMetadata(ve *ValidationError, field string, m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	if len(m) > MaxMetadataKeys {
		ve.AddRule(field, CodeTooMany, "may not have more than "+strconv.Itoa(MaxMetadataKeys)+" keys.")
		return out
	}
	for k, v := range m {
		kf := field + "." + k
		if !utf8.ValidString(k) {
			kf = field // an invalid key cannot name the field
		}
		var kve ValidationError
		if ck := CheckText(&kve, kf, k, SingleLine, MaxMetadataKeyLen); ck != k || ck == "" {
			kve.AddRule(kf, CodeInvalid, "key must be 1 to "+strconv.Itoa(MaxMetadataKeyLen)+" characters without surrounding spaces.")
		}
		if kve.OrNil() != nil {
			ve.Merge(&kve)
			continue
		}
		out[k] = CheckText(ve, kf, v, MultiLine, MaxMetadataValueLen)
	}
	return out
}

// CheckJSONObject checks that raw is a JSON object of at most maxBytes
// whose every string (key or value) is storable text (valid UTF-8 without
// NUL) and every number fits PostgreSQL's numeric, and returns it compacted
// as encoding/json writes it (so it reads back byte for byte); {} for nil.
// Keys and their order are kept as given.
func CheckJSONObject(ve *ValidationError, field string, raw json.RawMessage, maxBytes int) json.RawMessage {
	if raw == nil {
		return json.RawMessage(`{}`)
	}
	if len(raw) > maxBytes {
		ve.AddRule(field, CodeInvalid, "may not be larger than "+strconv.Itoa(maxBytes)+" bytes.")
		return json.RawMessage(`{}`)
	}
	if !utf8.Valid(raw) || !json.Valid(raw) || bytes.IndexByte(raw, 0) >= 0 {
		ve.AddRule(field, CodeInvalid, "must be a JSON object.")
		return json.RawMessage(`{}`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	first := true
	for {
		tok, err := dec.Token()
		if err != nil {
			break // the end: raw is valid JSON
		}
		if first && tok != json.Delim('{') {
			ve.AddRule(field, CodeInvalid, "must be a JSON object.")
			return json.RawMessage(`{}`)
		}
		first = false
		if !storableJSONToken(tok) {
			ve.AddRule(field, CodeInvalid, "may not contain NUL characters, invalid text or out-of-range numbers.")
			return json.RawMessage(`{}`)
		}
	}
	out, err := json.Marshal(json.RawMessage(raw)) // compact, HTML-safe: what storing it writes
	if err != nil {
		ve.AddRule(field, CodeInvalid, "must be a JSON object.")
		return json.RawMessage(`{}`)
	}
	return out
}

// storableJSONToken reports whether jsonb can hold tok: a string without
// U+0000 or a U+FFFD that decoding put in place of a lone surrogate escape
// (jsonb refuses those), a number within numeric's exponent range.
func storableJSONToken(tok json.Token) bool {
	switch v := tok.(type) {
	case string:
		return !strings.ContainsRune(v, 0) && !strings.ContainsRune(v, utf8.RuneError)
	case json.Number:
		d, _, err := apd.NewFromString(string(v))
		return err == nil && d.Exponent > -16000 && d.Exponent < 16000 && int64(d.NumDigits())+int64(d.Exponent) < 130000
	}
	return true
}
