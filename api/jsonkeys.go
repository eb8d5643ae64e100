package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// duplicateKey returns the path of the first key that occurs twice in one
// object of body, such as "invoice.amount" or "items[2].name", and "" when
// every object's keys are distinct. encoding/json lets the last of
// duplicated keys win, and another parser may let the first win: a body
// that means different things to different readers is refused instead.
// body must be valid JSON (json.Valid); keys are compared after unescaping,
// so "a" and "\u0061" are the same key. It reads the tokens once, keeping
// one set of keys per open object.
func duplicateKey(body []byte) string {
	type frame struct {
		object  bool
		keys    map[string]struct{}
		path    string // of this container
		key     string // object: the key whose value comes next
		wantKey bool   // object: the next token is a key (or the end)
		index   int    // array: the index of the next element
	}
	var stack []*frame
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			if top.path == "" {
				return top.key
			}
			return top.path + "." + top.key
		}
		return top.path + "[" + strconv.Itoa(top.index) + "]"
	}
	// valueDone records that the top container got one whole value.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers are not converted, only skipped
	for {
		tok, err := dec.Token()
		if err != nil {
			return "" // io.EOF, or invalid JSON that parseObject reports
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.object && top.wantKey {
				if key, ok := tok.(string); ok {
					if _, seen := top.keys[key]; seen {
						top.key = key
						return childPath()
					}
					if top.keys == nil {
						top.keys = make(map[string]struct{})
					}
					top.keys[key] = struct{}{}
					top.key, top.wantKey = key, false
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, path: childPath(), wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: childPath()})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// invalidUTF8 reports whether the JSON text raw (valid JSON) holds
// invalid UTF-8 bytes or an escaped lone surrogate such as "\ud800":
// encoding/json silently decodes either as U+FFFD, and a command must refuse
// them instead (see domain.CheckText).
func invalidUTF8(raw []byte) bool {
	if !utf8.Valid(raw) {
		return true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character; only \uXXXX needs a look
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00: // a high surrogate: its low half must follow
			if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo := hex4(raw[i+3:]); lo >= 0xDC00 && lo < 0xE000 {
					i += 6
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
	}
	return false
}

// hex4 is the value of the four hex digits that start b (valid JSON).
func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v)
}
