package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"goodplan/domain"
)

// Request bodies of the Invoiced dialect: JSON, or form fields as the
// seed's curl sends them (-d id="starter" -d amount=49), with PHP's bracket
// forms for objects and arrays (metadata[key]=value, tiers[0][max_qty]=50).
// A form is turned into the JSON object it stands for, which then goes
// through the native API's field reader (createCatalogPlanOf,
// updateCatalogPlanOf): both encodings give the same command, and the
// same errors.

// Bounds of a form body (besides MaxBodyBytes): past any of them the body
// is a 400 before anything else is read from it.
const (
	// maxFormFields bounds the name=value pairs: a plan has 11 fields, 50
	// metadata keys and 100 tiers of 3 fields.
	maxFormFields = 512
	// maxFormKeyBytes bounds one decoded field name (metadata[<40
	// characters>] is at most 170 bytes).
	maxFormKeyBytes = 256
	// maxFormDepth is the most brackets after a name: tiers[0][max_qty].
	maxFormDepth = 2
	// maxFormIndex bounds an array index: tiers[99] is the last tier.
	maxFormIndex = domain.MaxTiers - 1
)

// formIndex is an array index as a form writes it: decimal, no sign, no
// leading zero.
var formIndex = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)

// formInteger is a form value that becomes a JSON integer where the field
// is one (interval_count, a tier's min_qty and max_qty).
var formInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})$`)

// invoicedFields is what a request body may hold.
type invoicedFields struct {
	allowed map[string]bool
	// refused is the message of a field not allowed.
	refused func(field string) string
}

// invoicedCreateFields are the seed's create attributes.
var invoicedCreateFields = invoicedFields{
	allowed: map[string]bool{"id": true, "catalog_item": true, "name": true, "currency": true, "amount": true,
		"pricing_mode": true, "quantity_type": true, "interval": true, "interval_count": true, "tiers": true, "metadata": true},
	refused: func(f string) string {
		return "Unknown parameter " + strconv.Quote(f) + ": a plan takes id, catalog_item, name, currency, amount, " +
			"pricing_mode, quantity_type, interval, interval_count, tiers and metadata."
	},
}

// invoicedUpdateFields are the seed's update attributes.
var invoicedUpdateFields = invoicedFields{
	allowed: map[string]bool{"name": true, "metadata": true},
	refused: func(f string) string {
		return "The " + f + " cannot be changed: only name and metadata can; for other updates, delete and recreate the plan."
	},
}

// readInvoicedBody reads the request's body as a JSON object or form
// fields (by Content-Type; without one, a body starting with "{" is
// JSON), refuses fields that fields does not allow, and returns the
// object. A JSON "metadata": [] is {} (PHP, Invoiced's own language,
// encodes an empty map so).
func readInvoicedBody(w http.ResponseWriter, r *http.Request, fields invoicedFields) (jsonObject, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	form := false
	switch ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct {
	case "application/json":
	case "application/x-www-form-urlencoded":
		form = true
	case "":
		form = !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))
	default:
		return nil, &invoicedError{status: http.StatusUnsupportedMediaType, Type: invoicedInvalidRequest,
			Message: "The request body must be JSON (Content-Type: application/json) or form fields (application/x-www-form-urlencoded)."}
	}
	var root jsonObject
	if form {
		root, err = parseInvoicedForm(body)
	} else if root, err = parseObject(body); err == nil && bytes.Equal(bytes.TrimSpace(root["metadata"]), []byte("[]")) {
		root["metadata"] = json.RawMessage(`{}`)
	}
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(root)) {
		if !fields.allowed[k] {
			return nil, invoicedBadParam(k, fields.refused(k))
		}
	}
	return root, nil
}

// invoicedRequestHash identifies a command request for Idempotency-Key by
// the command it reads as, so a retry in the other encoding, in another
// field order or with 49 for "49" is the same request.
func invoicedRequestHash(r *http.Request, cmd any) []byte {
	canon, _ := json.Marshal(cmd) // plain strings, numbers and maps: cannot fail
	return routeRequestHash(r, canon)
}

// formNode is a form field's value: text, or named children (an object,
// or an array when the names are indexes).
type formNode struct {
	text     *string
	children map[string]*formNode
}

// parseInvoicedForm parses a form body into the JSON object it stands
// for: a.b written a[b], a list written a[0], a[1]. A form beyond the
// bounds above, a name given twice, a name that is both a value and an
// object, an index out of order, invalid UTF-8 or a malformed name is a
// 400 naming the field.
func parseInvoicedForm(body []byte) (jsonObject, error) {
	root := &formNode{children: map[string]*formNode{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonObject{}, nil
	}
	if n := bytes.Count(body, []byte("&")) + 1; n > maxFormFields {
		return nil, invoicedBadRequest("The form has " + strconv.Itoa(n) + " fields; at most " + strconv.Itoa(maxFormFields) + " are read.")
	}
	for pair := range strings.SplitSeq(string(body), "&") {
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(rawKey)
		value, err2 := url.QueryUnescape(rawValue)
		switch {
		case err1 != nil || err2 != nil:
			return nil, invoicedBadRequest("The form field " + strconv.Quote(rawKey) + " is not valid URL encoding.")
		case len(key) > maxFormKeyBytes:
			return nil, invoicedBadRequest("A form field name is longer than " + strconv.Itoa(maxFormKeyBytes) + " bytes.")
		case !utf8.ValidString(key):
			return nil, invoicedBadRequest("A form field name is not valid UTF-8.")
		case !utf8.ValidString(value):
			return nil, invoicedBadParam(key, "The "+key+" must be valid UTF-8 text.")
		}
		path, err := formPath(key)
		if err != nil {
			return nil, err
		}
		if err := root.set(key, path, value); err != nil {
			return nil, err
		}
	}
	out := jsonObject{}
	for name, n := range root.children {
		raw, err := n.json(name, name, 0)
		if err != nil {
			return nil, err
		}
		out[name] = raw
	}
	return out, nil
}

// formPath splits "tiers[0][max_qty]" into its names.
func formPath(key string) ([]string, error) {
	name, rest, _ := strings.Cut(key, "[")
	bad := invoicedBadParam(key, "The form field name "+strconv.Quote(key)+
		" is malformed: write a name, then at most "+strconv.Itoa(maxFormDepth)+" [key] or [index] parts.")
	if name == "" || strings.Contains(name, "]") {
		return nil, bad
	}
	path := []string{name}
	if rest == "" && !strings.Contains(key, "[") {
		return path, nil
	}
	rest = "[" + rest
	for rest != "" {
		seg, after, ok := strings.Cut(rest, "]")
		if !ok || !strings.HasPrefix(seg, "[") || len(seg) < 2 || strings.Contains(seg[1:], "[") {
			return nil, bad
		}
		path = append(path, seg[1:])
		rest = after
		if len(path)-1 > maxFormDepth {
			return nil, bad
		}
	}
	return path, nil
}

// set stores value at path under n; key is the whole field name, for the
// errors.
func (n *formNode) set(key string, path []string, value string) error {
	for i, name := range path {
		if n.text != nil {
			return invoicedBadParam(key, "The "+path[0]+" is given both as a value and with [...] parts.")
		}
		child := n.children[name]
		if child == nil {
			child = &formNode{}
			if i < len(path)-1 {
				child.children = map[string]*formNode{}
			}
			n.children[name] = child
		}
		n = child
	}
	switch {
	case n.children != nil:
		return invoicedBadParam(key, "The "+path[0]+" is given both as a value and with [...] parts.")
	case n.text != nil:
		return invoicedBadParam(key, "The form field "+strconv.Quote(key)+" is given more than once.")
	}
	n.text = &value
	return nil
}

// formArrays are the fields that are arrays of objects, with the integer
// fields of their elements.
var formArrays = map[string]map[string]bool{"tiers": {"min_qty": true, "max_qty": true}}

// formIntegers are the top-level integer fields.
var formIntegers = map[string]bool{"interval_count": true}

// json returns the JSON value n stands for: text is a JSON string (a JSON
// integer in an integer field when it reads as one, so the field reader
// parses it as it would a JSON body's), children an object, or an array
// for a field of formArrays. name is the field's name in its parent, path
// its full form name, depth its number of brackets.
func (n *formNode) json(name, path string, depth int) (json.RawMessage, error) {
	if n.text != nil {
		integers := formIntegers
		if depth == 2 {
			integers = formArrays[strings.SplitN(path, "[", 2)[0]]
		}
		if integers[name] && formInteger.MatchString(*n.text) {
			return json.RawMessage(*n.text), nil
		}
		if depth == 0 && name == "metadata" && *n.text == "" {
			return json.RawMessage(`{}`), nil // metadata= clears it
		}
		return json.Marshal(*n.text)
	}
	if _, isArray := formArrays[name]; isArray && depth == 0 {
		return n.array(name)
	}
	obj := make(map[string]json.RawMessage, len(n.children))
	for k, c := range n.children {
		raw, err := c.json(k, path+"["+k+"]", depth+1)
		if err != nil {
			return nil, err
		}
		obj[k] = raw
	}
	return json.Marshal(obj)
}

// array returns the children of n, indexed 0 to len-1, as a JSON array.
func (n *formNode) array(name string) (json.RawMessage, error) {
	items := make([]json.RawMessage, len(n.children))
	for k, c := range n.children {
		i, err := strconv.Atoi(k)
		if !formIndex.MatchString(k) || err != nil || i > maxFormIndex {
			return nil, invoicedBadParam(name+"["+k+"]", "The "+name+" indexes must be 0 to "+strconv.Itoa(maxFormIndex)+
				", without sign or leading zeros.")
		}
		if i >= len(items) {
			return nil, invoicedBadParam(name+"["+k+"]", "The "+name+" indexes must run from 0 without gaps.")
		}
		if items[i], err = c.json(k, name+"["+k+"]", 1); err != nil {
			return nil, err
		}
	}
	return json.Marshal(items)
}
