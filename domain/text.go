package domain

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextKind says which characters a free-text field may hold.
type TextKind int

// Kinds of free text.
const (
	// SingleLine is a name, number or reference: it ends up in email
	// headers, subjects and one-line displays, so it may hold no control
	// character at all, no line or paragraph separator and no invisible
	// Unicode format character (category Cf, such as the right-to-left
	// override U+202E that makes "exe.pdf" read "fdp.exe"), except the
	// zero-width joiner and non-joiner that Persian and Indic names need.
	SingleLine TextKind = iota
	// MultiLine is a description, message or reason: line breaks (a CRLF
	// becomes LF) and tabs are kept, every other control character is
	// refused.
	MultiLine
)

// Character limits of free-text fields, counted in characters (runes)
// after trimming.
const (
	MaxNameLen          = 255  // customer.name
	MaxEmailLen         = 254  // customer.email
	MaxPhoneLen         = 50   // customer.phone
	MaxInvoiceNumberLen = 255  // invoice.invoice_number
	MaxDescriptionLen   = 2000 // invoice.description
	MaxReferenceLen     = 255  // a payment's reference
	MaxReasonLen        = 1000 // reasons of cancel, write-off, reject, decline; a counter's message
)

// CheckText cleans a free-text value of a command and adds to ve at most one
// problem under field: the value is trimmed of surrounding white space (and
// a MultiLine value's CRLF line breaks become LF), then it must be valid
// UTF-8 (invalid bytes are refused, never replaced), at most maxLen
// characters long, and hold only the characters kind allows (NUL is never
// allowed: PostgreSQL's jsonb and text refuse it). It returns the cleaned
// value, which is what a command records.
//
// Every command of every surface (API, portal, dashboard) checks its free
// text here, so that whatever is accepted can be stored, projected,
// emailed and replayed.
func CheckText(ve *ValidationError, field, value string, kind TextKind, maxLen int) string {
	if kind == MultiLine {
		value = strings.ReplaceAll(value, "\r\n", "\n")
	}
	value = strings.TrimSpace(value)
	if msg := textProblem(field, value, kind, maxLen); msg != "" {
		ve.Add(field, msg)
	}
	return value
}

// textProblem is the message for the first problem of value, or "".
func textProblem(field, value string, kind TextKind, maxLen int) string {
	if !utf8.ValidString(value) {
		return "The " + field + " must be valid UTF-8 text."
	}
	if utf8.RuneCountInString(value) > maxLen {
		return "The " + field + " may not be greater than " + strconv.Itoa(maxLen) + " characters."
	}
	for _, r := range value {
		switch {
		case unicode.IsControl(r): // C0, DEL and C1, NUL included
			if kind == MultiLine && (r == '\n' || r == '\t') {
				continue
			}
			if kind == SingleLine {
				return "The " + field + " may not contain control characters or line breaks."
			}
			return "The " + field + " may not contain control characters."
		case kind == SingleLine && (r == '\u2028' || r == '\u2029'):
			return "The " + field + " may not contain control characters or line breaks."
		case kind == SingleLine && unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d':
			return fmt.Sprintf("The %s may not contain invisible formatting characters (such as U+%04X).", field, r)
		}
	}
	return ""
}

// scrubText is CheckText for text a worker reports rather than a person
// types (a mail server's error reply): instead of refusing it, which would
// leave the outcome unrecorded, it drops invalid UTF-8 and the characters
// kind does not allow and cuts the rest to maxLen characters.
func scrubText(value string, kind TextKind, maxLen int) string {
	if kind == MultiLine {
		value = strings.ReplaceAll(value, "\r\n", "\n")
	}
	value = strings.ToValidUTF8(value, "")
	var b strings.Builder
	n := 0
	for _, r := range value {
		if textProblem("", string(r), kind, 1) != "" {
			continue
		}
		if n == maxLen {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
