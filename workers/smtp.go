package workers

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
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
