package workers

import "regexp"

// emailAddress matches what looks like an email address inside free text
// (an SMTP server's reply often quotes the recipient).
var emailAddress = regexp.MustCompile(`[^\s<>"'@,;:()\[\]]+@[^\s<>"'@,;:()\[\]]+`)

// redactedError is an error whose text has its email addresses replaced,
// for logs and recorded reasons; errors.Is and errors.As still see the
// original.
type redactedError struct{ err error }

func (e redactedError) Error() string {
	return emailAddress.ReplaceAllString(e.err.Error(), "[address]")
}

func (e redactedError) Unwrap() error { return e.err }

// redactAddresses returns err with the email addresses in its text hidden
// (nil stays nil): customer addresses are never written to logs, which
// name plans by id instead.
func redactAddresses(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err}
}
