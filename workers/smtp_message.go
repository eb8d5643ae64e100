package workers

import (
	"encoding/base64"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// oneLine removes control characters and line breaks from a header value
// and collapses white space, so it cannot start a new header line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp)
	}), " ")
}

// subjectHeader makes subject one line. go-mail encodes only non-ASCII
// text, so a subject that contains something like an encoded word ("=?")
// is encoded here, whole, or readers would decode it into other text.
func subjectHeader(subject string) string {
	subject = oneLine(subject)
	if !strings.Contains(subject, "=?") {
		return subject
	}
	// Words of at most 45 bytes (60 in base64), whole runes each, keep
	// every encoded word within RFC 2047's 75 characters.
	var words []string
	for rest := subject; rest != ""; {
		n := min(len(rest), 45)
		for n < len(rest) && !utf8.RuneStart(rest[n]) {
			n--
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(rest[:n]))+"?=")
		rest = rest[n:]
	}
	return strings.Join(words, " ")
}

// bareMessageID returns id without its angle brackets, or an error if it
// is empty or could break a header or a file name.
func bareMessageID(id string) (string, error) {
	bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if bare == "" || strings.ContainsFunc(bare, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '<' || r == '>'
	}) {
		return "", permanentf("invalid message id %q", id)
	}
	return bare, nil
}

// buildMessage makes the MIME message for e: multipart/alternative with the
// text and HTML bodies, quoted-printable UTF-8, and the given Message-ID.
// Errors are permanent: the same Email would fail again.
func buildMessage(e Email) (*gomail.Msg, error) {
	id, err := bareMessageID(e.MessageID)
	if err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(e.FromHeader)
	if err != nil {
		return nil, permanentf("invalid from address %q: %v", e.FromHeader, err)
	}
	to, err := mail.ParseAddress(e.ToAddress)
	if err != nil || to.Name != "" || to.Address != strings.TrimSpace(e.ToAddress) {
		return nil, permanentf("invalid recipient address %q", e.ToAddress)
	}
	// net/mail's Address.String (used by go-mail for the header) quotes
	// the display name or RFC 2047-encodes it when it is not plain ASCII.
	to.Name = oneLine(e.ToName)

	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(from)
	m.ToMailAddress(to)
	m.SetMessageIDWithValue(id)
	m.Subject(subjectHeader(e.Subject))
	m.SetDate()
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	return m, nil
}
