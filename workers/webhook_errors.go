package workers

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// Categories of failed webhook attempts, as merchants see them in the
// delivery log. The raw error can name internal addresses, resolvers or
// the service's network layout, so it is only logged.
const (
	WebhookErrRefused        = "connection refused"
	WebhookErrReset          = "connection reset"
	WebhookErrDNS            = "dns failure"
	WebhookErrRefusedAddress = "refused address"
	WebhookErrTimeout        = "timeout"
	WebhookErrTLS            = "tls error"
	WebhookErrInvalidURL     = "invalid url"
	WebhookErrInsecureURL    = "https required"
	WebhookErrOther          = "error"
)

// webhookErrorCategory says what kind of failure err is, in one of the
// WebhookErr* words.
func webhookErrorCategory(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, ErrAddressNotAllowed):
		return WebhookErrRefusedAddress
	case errors.Is(err, ErrInsecureURL):
		return WebhookErrInsecureURL
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return WebhookErrTimeout
		}
		return WebhookErrDNS
	case errors.As(err, &recErr), errors.As(err, &alert), errors.As(err, &verify),
		errors.As(err, &unknownAuth), errors.As(err, &hostname), errors.As(err, &invalid):
		return WebhookErrTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return WebhookErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return WebhookErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return WebhookErrReset
	}
	return WebhookErrOther
}
