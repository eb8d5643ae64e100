package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"

	"goodplan/domain"
)

// readBody reads at most MaxBodyBytes; a larger body or a read failure is a
// JSON 400.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, badRequest("Request body too large",
			"The request body may not be larger than "+strconv.Itoa(MaxBodyBytes)+" bytes.")
	}
	if err != nil {
		return nil, badRequest("Unreadable request body", "The request body could not be read.")
	}
	return body, nil
}

// jsonObject is one level of a request body: each key's raw JSON, so that a
// value of the wrong type becomes a field error rather than a 400.
type jsonObject map[string]json.RawMessage

// parseObject parses body as a JSON object: invalid JSON, a key twice in
// one object (at any depth) or another JSON type is a 400. Every JSON
// request body goes through it.
func parseObject(body []byte) (jsonObject, error) {
	if !json.Valid(body) {
		return nil, badRequest("Malformed JSON", "The request body is not valid JSON.")
	}
	if key := duplicateKey(body); key != "" {
		return nil, badRequest("Malformed JSON", "The request body has the key "+strconv.Quote(key)+
			" more than once; each key may appear only once in an object.")
	}
	var obj jsonObject
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, badRequest("Malformed JSON", "The request body must be a JSON object.")
	}
	return obj, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// fieldReader decodes typed values out of nested objects, collecting type
// errors under their field paths in a ValidationError.
type fieldReader struct{ errs domain.ValidationError }

// object returns the nested object at key (nil when missing or null).
func (f *fieldReader) object(parent jsonObject, key, path string) jsonObject {
	raw := parent[key]
	if isNull(raw) {
		return nil
	}
	var obj jsonObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		f.errs.Add(path, "The "+path+" must be an object.")
		return nil
	}
	return obj
}

// str returns the string at key ("" when missing or null).
func (f *fieldReader) str(obj jsonObject, key, path string) string {
	raw := obj[key]
	if isNull(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.errs.Add(path, "The "+path+" must be a string.")
	} else if invalidUTF8(raw) {
		f.errs.Add(path, "The "+path+" must be valid UTF-8 text.")
	}
	return s
}

// amount returns the decimal text of a JSON number, or of a string holding
// one ("" when missing or null). The text is never converted to a float.
func (f *fieldReader) amount(obj jsonObject, key, path string) string {
	raw := bytes.TrimSpace(obj[key])
	if isNull(raw) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		if s == "" {
			f.errs.Add(path, "The "+path+" must be a number.")
		}
		return s
	}
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		f.errs.Add(path, "The "+path+" must be a number.")
		return ""
	}
	return string(raw)
}

// boolean returns the boolean at key, or def when missing or null.
func (f *fieldReader) boolean(obj jsonObject, key, path string, def bool) bool {
	raw := obj[key]
	if isNull(raw) {
		return def
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		f.errs.Add(path, "The "+path+" field must be true or false.")
		return def
	}
	return b
}

// strings returns the array of strings at key (nil when missing or null).
func (f *fieldReader) strings(obj jsonObject, key, path string) []string {
	raw := obj[key]
	if isNull(raw) {
		return nil
	}
	out := []string{}
	if err := json.Unmarshal(raw, &out); err != nil {
		f.errs.Add(path, "The "+path+" must be an array of strings.")
		return nil
	}
	if invalidUTF8(raw) {
		f.errs.Add(path, "The "+path+" must be valid UTF-8 text.")
		return nil
	}
	return out
}

// ints returns the array of whole numbers at key (nil when missing or null).
func (f *fieldReader) ints(obj jsonObject, key, path string) []int {
	raw := obj[key]
	if isNull(raw) {
		return nil
	}
	var nums []json.Number
	if err := json.Unmarshal(raw, &nums); err != nil {
		f.errs.Add(path, "The "+path+" must be an array of integers.")
		return nil
	}
	out := make([]int, 0, len(nums))
	for _, n := range nums {
		v, err := strconv.ParseFloat(string(n), 64) // range check only; 3 and 3.0 are both 3
		if err != nil || v != math.Trunc(v) || math.Abs(v) > 1e6 {
			f.errs.Add(path, "The "+path+" must be an array of integers.")
			return nil
		}
		out = append(out, int(v))
	}
	return out
}

// decodeCreatePlan turns the seed's request body into the CreatePlan
// command's raw fields. Type errors are returned as a *ValidationError; the
// domain checks the values.
func decodeCreatePlan(body []byte) (domain.CreatePlan, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return domain.CreatePlan{}, nil, err
	}
	var f fieldReader
	customer := f.object(root, "customer", "customer")
	invoice := f.object(root, "invoice", "invoice")
	options := f.object(root, "options", "options")
	cmd := domain.CreatePlan{
		CustomerName:          f.str(customer, "name", "customer.name"),
		CustomerEmail:         f.str(customer, "email", "customer.email"),
		CustomerPhone:         f.str(customer, "phone", "customer.phone"),
		Amount:                f.amount(invoice, "amount", "invoice.amount"),
		Currency:              f.str(invoice, "currency", "invoice.currency"),
		InvoiceNumber:         f.str(invoice, "invoice_number", "invoice.invoice_number"),
		Description:           f.str(invoice, "description", "invoice.description"),
		Intervals:             f.strings(options, "intervals", "options.intervals"),
		Durations:             f.ints(options, "durations", "options.durations"),
		FirstPaymentDate:      f.str(options, "first_payment_date", "options.first_payment_date"),
		SendIntroductionEmail: f.boolean(root, "send_introduction_email", "send_introduction_email", true),
	}
	if len(f.errs.Fields) > 0 {
		return cmd, &f.errs, nil
	}
	return cmd, nil, nil
}
