package workers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// smtpConn is one open SMTP session. Each has its own go-mail Client:
// go-mail's opportunistic AUTH rewrites Client fields while dialing, so
// sharing one between concurrent dials would race.
type smtpConn struct {
	mc *gomail.Client
	c  *gosmtp.Client
	// raw is the TCP connection under c. Cancellation closes it directly:
	// go-mail's Client.Close waits for the mutex that a blocked read holds.
	raw    net.Conn
	last   time.Time // end of the last use
	broken bool      // closed under us (ctx cancelled)
}

// dialState lets dial hand the raw connection to connect, so that a
// cancelled or failed handshake never leaks it.
type dialState struct {
	mu      sync.Mutex
	conn    net.Conn
	aborted bool
}

type dialStateKey struct{}

func (d *dialState) set(c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn = c
	return !d.aborted
}

func (d *dialState) abort() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.aborted = true
	if d.conn != nil {
		_ = d.conn.Close()
	}
}

// dial connects to the configured server. It ignores go-mail's address
// (which does not bracket IPv6 literals) and does implicit TLS itself, so
// that a *tls.Conn reaches go-mail's smtp.Client, which then knows the
// session is encrypted (PLAIN and LOGIN require it).
func (s *smtpSender) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.cfg.host, strconv.Itoa(s.cfg.port)))
	if err != nil {
		return nil, err
	}
	if st, ok := ctx.Value(dialStateKey{}).(*dialState); ok && !st.set(conn) {
		_ = conn.Close()
		return nil, context.Canceled
	}
	if s.cfg.mode == tlsImplicit {
		tc := tls.Client(conn, s.cfg.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	return conn, nil
}

// connect opens, greets, secures and authenticates a new session.
func (s *smtpSender) connect(ctx context.Context) (*smtpConn, error) {
	mc, err := s.newClient()
	if err != nil {
		return nil, err
	}
	st := &dialState{}
	stop := context.AfterFunc(ctx, st.abort)
	c, err := mc.DialToSMTPClientWithContext(context.WithValue(ctx, dialStateKey{}, st))
	if !stop() || err != nil {
		st.abort() // go-mail does not close the connection when EHLO, TLS or AUTH fail
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return &smtpConn{mc: mc, c: c, raw: st.conn, last: time.Now()}, nil
}

// acquire returns an idle connection that still answers, or a new one.
func (s *smtpSender) acquire(ctx context.Context) (conn *smtpConn, reused bool, err error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, false, errSenderClosed
		}
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			break
		}
		conn = s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		idle := time.Since(conn.last)
		if idle > idleMax {
			s.drop(conn)
			continue
		}
		if idle > idleCheck {
			if err := conn.c.UpdateDeadline(smtpTimeout); err != nil || conn.c.Noop() != nil {
				s.drop(conn)
				continue
			}
		}
		return conn, true, nil
	}
	conn, err = s.connect(ctx)
	return conn, false, err
}

// release returns conn to the idle list after a send that ended with err,
// or closes it if it cannot be used again.
func (s *smtpSender) release(conn *smtpConn, err error) {
	if conn.broken || !conn.c.HasConnection() {
		s.drop(conn)
		return
	}
	if err != nil {
		// A reply error leaves the session usable once the transaction is
		// reset; anything else (a network error, 421) may not.
		var ge *gomail.SendError
		if !errors.As(err, &ge) || ge.ErrorCode() < 400 || ge.ErrorCode() == 421 || conn.c.Reset() != nil {
			s.drop(conn)
			return
		}
	}
	conn.last = time.Now()
	s.mu.Lock()
	if !s.closed && len(s.idle) < maxIdle {
		s.idle = append(s.idle, conn)
		conn = nil
	}
	s.mu.Unlock()
	if conn != nil {
		s.quit(conn)
	}
}

// drop closes a connection that is known or suspected to be dead.
func (s *smtpSender) drop(conn *smtpConn) {
	_ = conn.raw.Close()
	_ = conn.c.Close() // marks the client closed
}

// quit ends a healthy session politely, without waiting long for the reply.
func (s *smtpSender) quit(conn *smtpConn) {
	_ = conn.c.UpdateDeadline(2 * time.Second)
	if err := conn.c.Quit(); err != nil {
		_ = conn.c.Close()
	}
}

// staleConnection reports whether err means a reused connection had been
// closed by the server before this message started: it failed at the
// connection check or at MAIL FROM with no reply or with 421 (closing).
// Nothing of the message was sent, so it is safe to retry on a new one.
func staleConnection(err error) bool {
	var ge *gomail.SendError
	if !errors.As(err, &ge) {
		return false
	}
	code := ge.ErrorCode()
	return (ge.Reason == gomail.ErrConnCheck || ge.Reason == gomail.ErrSMTPMailFrom) && (code == 0 || code == 421)
}
