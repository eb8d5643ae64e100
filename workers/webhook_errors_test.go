package workers

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestWebhookErrorCategory(t *testing.T) {
	t.Parallel()
	op := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.example.com/x",
			Err: &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 443}, Err: err}}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{op(fmt.Errorf("%w: 10.1.2.3 is a private address", ErrAddressNotAllowed)), WebhookErrRefusedAddress},
		{op(&net.DNSError{Err: "no such host", Name: "hooks.example.com", Server: "10.0.0.53:53", IsNotFound: true}), WebhookErrDNS},
		{op(&net.DNSError{Err: "i/o timeout", Name: "hooks.example.com", Server: "10.0.0.53:53", IsTimeout: true}), WebhookErrTimeout},
		{op(os.NewSyscallError("connect", syscall.ECONNREFUSED)), WebhookErrRefused},
		{op(os.NewSyscallError("read", syscall.ECONNRESET)), WebhookErrReset},
		{fmt.Errorf("post: %w", io.EOF), WebhookErrReset},
		{&url.Error{Op: "Post", URL: "u", Err: context.DeadlineExceeded}, WebhookErrTimeout},
		{op(x509.UnknownAuthorityError{}), WebhookErrTLS},
		{op(x509.HostnameError{Host: "10.1.2.3"}), WebhookErrTLS},
		{errors.New("something else at 10.1.2.3"), WebhookErrOther},
	} {
		got := webhookErrorCategory(c.err)
		if got != c.want {
			t.Errorf("%v: category %q, want %q", c.err, got, c.want)
		}
		if strings.Contains(got, "10.") {
			t.Errorf("category %q reveals an address", got)
		}
	}
}
