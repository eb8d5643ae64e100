package workers

import (
	"errors"
	"fmt"

	gomail "github.com/wneessen/go-mail"
)

// IsPermanentSMTP reports whether err, returned by a Sender, is a failure
// that retrying cannot fix: a 5xx reply to the mail transaction (MAIL FROM,
// RCPT TO, DATA) or a message that cannot be built (an invalid address).
// 4xx replies, network errors, timeouts, cancellation and every failure
// while connecting (greeting, STARTTLS, AUTH, whatever its code: those are
// about the server or our configuration, not this message) are transient.
func IsPermanentSMTP(err error) bool {
	var se *smtpError
	return errors.As(err, &se) && se.permanent
}

// smtpError is a failed Send: what failed, the server's reply code (0 when
// the server did not answer) and whether a retry can never succeed.
type smtpError struct {
	op        string
	code      int
	permanent bool
	err       error
}

func (e *smtpError) Error() string {
	if e.code != 0 {
		return fmt.Sprintf("smtp %s (reply %d): %v", e.op, e.code, e.err)
	}
	return fmt.Sprintf("smtp %s: %v", e.op, e.err)
}

func (e *smtpError) Unwrap() error { return e.err }

func permanentf(format string, args ...any) error {
	return &smtpError{op: "build message", permanent: true, err: fmt.Errorf(format, args...)}
}

// classify wraps an error of go-mail's send path. go-mail's own IsTemp only
// looks for a leading "4" and so calls a dropped connection permanent; the
// reply code is what decides here.
func classify(err error) *smtpError {
	se := &smtpError{op: "send", err: err}
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		se.code = ge.ErrorCode()
		switch ge.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			se.permanent = true // the message itself is unsendable
		default:
			se.permanent = se.code >= 500 && se.code <= 599
		}
	}
	return se
}
