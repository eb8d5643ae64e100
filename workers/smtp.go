package workers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Email is one message to send. MessageID is required, with or without its
// angle brackets ("<plan-7.introduction@example.com>"); FromHeader is an
// RFC 5322 address such as "Good Plan <no-reply@localhost>"; ToName may be
// any text (it is encoded for the header); HTML may be empty for a
// text-only message.
type Email struct {
	MessageID, FromHeader, ToName, ToAddress, Subject, Text, HTML string
}

// Sender delivers emails. Implementations are safe for concurrent use.
// Send returns nil once the mail server (or the outbox) has accepted the
// message; use IsPermanentSMTP on its error to tell a refusal that no retry
// can fix from a transient failure.
type Sender interface {
	Send(ctx context.Context, e Email) error
	Close() error
}

// NewSender returns the Sender that SMTP_URL asks for. An empty smtpURL
// gives a development outbox that writes each message to
// dataDir/outbox/<message id>.eml. Otherwise smtpURL is one of
//
//	smtp://user:pass@host:587            STARTTLS required (port 587 by default)
//	smtps://user:pass@host:465           implicit TLS (port 465 by default)
//	smtp://host:25?tls=opportunistic     STARTTLS when the server offers it
//	smtp://127.0.0.1:1025?tls=none       no TLS (local test servers)
//
// User and password are optional and percent-decoded; AUTH is used only when
// a user is given (SCRAM, CRAM-MD5, PLAIN or LOGIN, whichever the server
// offers first in that order; PLAIN and LOGIN only over TLS or to
// localhost). A malformed URL is an error that never echoes the password.
// NewSender does not connect: the first Send does, and later ones reuse the
// connection.
func NewSender(smtpURL, dataDir string, log *slog.Logger) (Sender, error) {
	if log == nil {
		log = slog.Default()
	}
	if strings.TrimSpace(smtpURL) == "" {
		return newOutboxSender(filepath.Join(dataDir, "outbox"), log)
	}
	cfg, err := parseSMTPURL(smtpURL)
	if err != nil {
		return nil, err
	}
	return newSMTPSender(cfg, log)
}

// Tuning of the SMTP sender.
const (
	smtpTimeout = 15 * time.Second // per connection attempt and per message
	// An idle connection is checked with NOOP before reuse after idleCheck,
	// and dropped unchecked after idleMax (servers close idle sessions
	// after a few minutes).
	idleCheck = 5 * time.Second
	idleMax   = 2 * time.Minute
	maxIdle   = 64 // connections kept open for reuse
)

// errSenderClosed is returned by Send after Close.
var errSenderClosed = errors.New("sender is closed")

// smtpSender sends through an SMTP server, keeping connections open between
// messages. Each Send takes an idle connection (or dials one), so
// concurrent Sends use separate connections and a lone sender reuses one.
type smtpSender struct {
	cfg  smtpConfig
	opts []gomail.Option // for one go-mail Client per connection
	log  *slog.Logger

	mu     sync.Mutex
	idle   []*smtpConn // most recently used last
	closed bool
}

func newSMTPSender(cfg smtpConfig, log *slog.Logger) (*smtpSender, error) {
	s := &smtpSender{cfg: cfg, log: log}
	if s.cfg.tlsConfig == nil {
		s.cfg.tlsConfig = &tls.Config{ServerName: cfg.host, MinVersion: tls.VersionTLS12}
	}
	s.opts = []gomail.Option{
		gomail.WithPort(cfg.port),
		gomail.WithTimeout(smtpTimeout),
		gomail.WithTLSConfig(s.cfg.tlsConfig),
		gomail.WithDialContextFunc(s.dial),
		// We check idle connections ourselves (NOOP before every message
		// costs a round trip), and a completed DATA already ends the
		// transaction, so RSET is sent only after a failure (release).
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	switch cfg.mode {
	case tlsStartTLS:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsOpportunistic:
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default: // none, or implicit TLS done by dial
		s.opts = append(s.opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.user != "" {
		s.opts = append(s.opts, gomail.WithUsername(cfg.user), gomail.WithPassword(cfg.pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	if _, err := s.newClient(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *smtpSender) newClient() (*gomail.Client, error) {
	mc, err := gomail.NewClient(s.cfg.host, s.opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return mc, nil
}

// Send delivers e over a pooled connection. A connection that the server
// closed while idle is replaced and the message sent again on a new one.
// Cancelling ctx aborts the exchange by closing the connection.
func (s *smtpSender) Send(ctx context.Context, e Email) error {
	m, err := buildMessage(e)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &smtpError{op: "send", err: err}
		}
		conn, reused, err := s.acquire(ctx)
		if err != nil {
			return &smtpError{op: "connect", err: err}
		}
		err = s.sendOn(ctx, conn, m)
		if err == nil {
			s.release(conn, nil)
			return nil
		}
		if reused && attempt == 1 && !conn.broken && staleConnection(err) {
			s.drop(conn)
			continue
		}
		s.release(conn, err)
		if conn.broken {
			return &smtpError{op: "send", err: fmt.Errorf("%w (%v)", ctx.Err(), err)}
		}
		return classify(err)
	}
}

// sendOn runs one mail transaction on conn, closing the connection if ctx
// is done before it finishes.
func (s *smtpSender) sendOn(ctx context.Context, conn *smtpConn, m *gomail.Msg) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.raw.Close() })
	err := conn.mc.SendWithSMTPClient(conn.c, m)
	if !stop() {
		conn.broken = true // the message may still have been accepted: err says
	}
	return err
}

// Close ends every idle session. Sends in flight finish; later ones fail.
func (s *smtpSender) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, conn := range idle {
		s.quit(conn)
	}
	return nil
}
