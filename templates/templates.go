// Package templates holds goodplan's embedded templates, parsed once when the
// package is loaded: email subjects and plain-text bodies with text/template,
// HTML bodies with html/template (contextual escaping everywhere).
//
// A template that does not parse is a programming error and panics at init,
// so a broken template can never reach a running service.
package templates

import (
	"embed"
	"strings"
	"unicode"
)

//go:embed email/*.tmpl
var files embed.FS

// intro is the introduction email.
var intro = parseEmail("introduction")

// singleLine makes s safe to place on one line of a header or a plain-text
// body: control characters (CR, LF, tab, NUL, C1 controls) and the Unicode
// line and paragraph separators become spaces, runs of white space collapse
// to one space, and the ends are trimmed. Format characters such as the
// zero-width joiner are kept, so emoji sequences and right-to-left text
// survive unchanged. Invalid UTF-8 becomes U+FFFD.
func singleLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
