package workers

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testSMTP is a real SMTP server on 127.0.0.1 that records what it
// receives and can be told to refuse the next messages.
type testSMTP struct {
	Addr string
	Host string
	Port int

	mu       sync.Mutex
	msgs     []receivedMail
	conns    map[*smtp.Conn]bool
	fails    []smtpFailure
	user     string // non-empty: AUTH PLAIN required with user/pass
	pass     string
	block    chan struct{} // non-nil: DATA waits until it is closed
	inData   chan struct{} // signalled when a DATA starts blocking
	implicit bool
}

// smtpFailure refuses one message at a stage ("rcpt" or "data").
type smtpFailure struct {
	stage string
	code  int
}

type receivedMail struct {
	From string
	To   []string
	Data []byte
}

type testSMTPOption func(*testSMTP, *smtp.Server)

// withTLS makes the server offer STARTTLS with cert.
func withTLS(cert tls.Certificate) testSMTPOption {
	return func(_ *testSMTP, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

// withImplicitTLS makes the server speak TLS from the first byte (smtps).
func withImplicitTLS(cert tls.Certificate) testSMTPOption {
	return func(ts *testSMTP, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ts.implicit = true
	}
}

// withAuth requires AUTH PLAIN with user and pass.
func withAuth(user, pass string) testSMTPOption {
	return func(ts *testSMTP, _ *smtp.Server) { ts.user, ts.pass = user, pass }
}

func newTestSMTP(t testing.TB, opts ...testSMTPOption) *testSMTP {
	t.Helper()
	ts := &testSMTP{conns: map[*smtp.Conn]bool{}}
	s := smtp.NewServer(ts)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.EnableSMTPUTF8 = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(ts, s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if ts.implicit {
		l = tls.NewListener(l, s.TLSConfig)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() {
		ts.mu.Lock()
		if ts.block != nil {
			select {
			case <-ts.block:
			default:
				close(ts.block)
			}
		}
		ts.mu.Unlock()
		_ = s.Close()
	})
	ts.Addr = l.Addr().String()
	ts.Host = "127.0.0.1"
	ts.Port = l.Addr().(*net.TCPAddr).Port
	return ts
}

// URL is the SMTP_URL of the server with tls=none.
func (ts *testSMTP) URL() string { return fmt.Sprintf("smtp://%s?tls=none", ts.Addr) }

// failNext makes the next n messages fail at stage with code.
func (ts *testSMTP) failNext(stage string, code, n int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for range n {
		ts.fails = append(ts.fails, smtpFailure{stage, code})
	}
}

func (ts *testSMTP) popFailure(stage, detail string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.fails) == 0 || ts.fails[0].stage != stage {
		return nil
	}
	f := ts.fails[0]
	ts.fails = ts.fails[1:]
	return &smtp.SMTPError{Code: f.code, EnhancedCode: smtp.EnhancedCode{f.code / 100, 0, 0},
		Message: fmt.Sprintf("test refusal %d at %s%s", f.code, f.stage, detail)}
}

// Messages returns the messages accepted so far.
func (ts *testSMTP) Messages() []receivedMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMail(nil), ts.msgs...)
}

// Sessions is the number of connections that greeted the server.
func (ts *testSMTP) Sessions() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.conns)
}

// dropConnections closes every open connection from the server side, as a
// server does with idle sessions.
func (ts *testSMTP) dropConnections() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for c := range ts.conns {
		_ = c.Conn().Close()
	}
}

func (ts *testSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.conns[c] = true
	return &testSession{ts: ts}, nil
}

type testSession struct {
	ts     *testSMTP
	authed bool
	from   string
	to     []string
}

func (s *testSession) AuthMechanisms() []string {
	if s.ts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	// Quoting the recipient, as real servers do ("<a@b>: Recipient
	// address rejected"), so tests see that logs hide it.
	if err := s.ts.popFailure("rcpt", " <"+to+">: recipient address rejected"); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	block, inData := s.ts.block, s.ts.inData
	s.ts.mu.Unlock()
	if block != nil {
		if inData != nil {
			inData <- struct{}{}
		}
		<-block
	}
	if err := s.ts.popFailure("data", ""); err != nil {
		return err
	}
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, receivedMail{From: s.from, To: s.to, Data: b})
	s.ts.mu.Unlock()
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

// parsedMail is a received message read back with net/mail.
type parsedMail struct {
	Header  mail.Header
	To      *mail.Address
	From    *mail.Address
	Subject string
	Text    string
	HTML    string
}

func parseMail(t testing.TB, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, data)
	}
	p := parsedMail{Header: m.Header}
	if p.To, err = mail.ParseAddress(m.Header.Get("To")); err != nil {
		t.Fatalf("parse To %q: %v", m.Header.Get("To"), err)
	}
	if p.From, err = mail.ParseAddress(m.Header.Get("From")); err != nil {
		t.Fatalf("parse From %q: %v", m.Header.Get("From"), err)
	}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode Subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		body, err := io.ReadAll(part) // quoted-printable is decoded by multipart
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")) // MIME text is CRLF on the wire
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s has charset %q, want UTF-8", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testEmail(i int) Email {
	return Email{
		MessageID:  fmt.Sprintf("<test-%d@goodplan.test>", i),
		FromHeader: "Good Plan <no-reply@localhost>",
		ToName:     "John Doe",
		ToAddress:  "john@example.com",
		Subject:    "Your payment plan options from Acme",
		Text:       "Hello John,\n\nhttp://localhost/plan/x\n",
		HTML:       `<p>Hello John, <a href="http://localhost/plan/x">open</a></p>`,
	}
}

func newTestSender(t testing.TB, smtpURL string) Sender {
	t.Helper()
	s, err := NewSender(smtpURL, t.TempDir(), quietLogger())
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url        string
		host       string
		port       int
		mode       tlsMode
		user, pass string
		wantErr    string
	}{
		{url: "smtp://user:pass@mail.example.com:587", host: "mail.example.com", port: 587, mode: tlsStartTLS, user: "user", pass: "pass"},
		{url: "smtp://mail.example.com", host: "mail.example.com", port: 587, mode: tlsStartTLS},
		{url: "SMTP://mail.example.com:2525/", host: "mail.example.com", port: 2525, mode: tlsStartTLS},
		{url: "smtps://mail.example.com", host: "mail.example.com", port: 465, mode: tlsImplicit},
		{url: "smtps://u%40x.com:p%3Ass@mail.example.com:4650", host: "mail.example.com", port: 4650, mode: tlsImplicit, user: "u@x.com", pass: "p:ss"},
		{url: "smtps://mail.example.com?tls=implicit", host: "mail.example.com", port: 465, mode: tlsImplicit},
		{url: "smtp://127.0.0.1:1025?tls=none", host: "127.0.0.1", port: 1025, mode: tlsNone},
		{url: "smtp://mail.example.com:25?tls=opportunistic", host: "mail.example.com", port: 25, mode: tlsOpportunistic},
		{url: "smtp://mail.example.com?tls=STARTTLS", host: "mail.example.com", port: 587, mode: tlsStartTLS},
		{url: "smtp://[::1]:1025?tls=none", host: "::1", port: 1025, mode: tlsNone},
		{url: " smtp://user@localhost:25?tls=none ", host: "localhost", port: 25, mode: tlsNone, user: "user"},

		{url: "http://mail.example.com", wantErr: "scheme"},
		{url: "mail.example.com:587", wantErr: "scheme"},
		{url: "smtp:mail.example.com", wantErr: "//"},
		{url: "smtp://", wantErr: "no host"},
		{url: "smtp://:25", wantErr: "no host"},
		{url: "smtp://host:0", wantErr: "port"},
		{url: "smtp://host:70000", wantErr: "port"},
		{url: "smtp://host:", wantErr: "port"},
		{url: "smtp://host:abc", wantErr: "valid URL"},
		{url: "smtp://host/path", wantErr: "path"},
		{url: "smtp://host?tls=maybe", wantErr: "tls="},
		{url: "smtp://host?tsl=none", wantErr: `"tsl"`},
		{url: "smtp://host?tls=none&tls=starttls", wantErr: "more than once"},
		{url: "smtps://host?tls=none", wantErr: "contradicts"},
		{url: "smtp://:secret@host", wantErr: "no user"},
		{url: "smtp://user:s3cr%t@host", wantErr: "valid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := parseSMTPURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "s3cr") {
					t.Errorf("error %q reveals the password", err)
				}
				if _, err := NewSender(tc.url, t.TempDir(), quietLogger()); err == nil {
					t.Error("NewSender accepted the bad URL")
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cfg.host != tc.host || cfg.port != tc.port || cfg.mode != tc.mode || cfg.user != tc.user || cfg.pass != tc.pass {
				t.Errorf("got host=%q port=%d mode=%s user=%q pass=%q, want %q %d %s %q %q",
					cfg.host, cfg.port, cfg.mode, cfg.user, cfg.pass, tc.host, tc.port, tc.mode, tc.user, tc.pass)
			}
		})
	}
}

func TestSMTPSendMessage(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	e := testEmail(1)
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := ts.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	if msgs[0].From != "no-reply@localhost" || len(msgs[0].To) != 1 || msgs[0].To[0] != "john@example.com" {
		t.Errorf("envelope from %q to %v", msgs[0].From, msgs[0].To)
	}
	p := parseMail(t, msgs[0].Data)
	if got := p.Header.Get("Message-Id"); got != e.MessageID {
		t.Errorf("Message-ID = %q, want %q", got, e.MessageID)
	}
	if p.From.Name != "Good Plan" || p.From.Address != "no-reply@localhost" {
		t.Errorf("From = %v", p.From)
	}
	if p.To.Name != "John Doe" || p.To.Address != "john@example.com" {
		t.Errorf("To = %v", p.To)
	}
	if p.Subject != e.Subject {
		t.Errorf("Subject = %q, want %q", p.Subject, e.Subject)
	}
	if p.Text != e.Text || p.HTML != e.HTML {
		t.Errorf("bodies differ:\ntext %q\nhtml %q", p.Text, p.HTML)
	}
	if p.Header.Get("Date") == "" || p.Header.Get("Mime-Version") != "1.0" {
		t.Errorf("missing Date or MIME-Version: %v", p.Header)
	}
}

// hostileNames are display names that must survive the To header intact.
var hostileNames = []string{
	`"Bobby" O'Brien`,
	`Émilie "Emmy" Dupont 😀`,
	"محمد",
	"محمد بن سلمان <admin@evil.example>",
	`<script>alert(1)</script>`,
	`back\slash "quote" , comma; semi: colon (paren) @at`,
	"Tanaka 田中 👩‍💻 and a fairly long name that goes on well past the usual seventy-eight character header line limit",
	"=?utf-8?q?not_an_encoded_word?=",
}

func TestSMTPHostileDisplayNames(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	for i, name := range hostileNames {
		e := testEmail(i)
		e.ToName = name
		e.Subject = "Options from " + name
		if err := s.Send(t.Context(), e); err != nil {
			t.Fatalf("Send to %q: %v", name, err)
		}
	}
	msgs := ts.Messages()
	if len(msgs) != len(hostileNames) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(hostileNames))
	}
	for i, m := range msgs {
		p := parseMail(t, m.Data)
		if p.To.Name != hostileNames[i] || p.To.Address != "john@example.com" {
			t.Errorf("To round trip: got name %q address %q, want %q", p.To.Name, p.To.Address, hostileNames[i])
		}
		if want := "Options from " + hostileNames[i]; p.Subject != want {
			t.Errorf("Subject round trip: got %q, want %q", p.Subject, want)
		}
		if len(m.To) != 1 || m.To[0] != "john@example.com" {
			t.Errorf("envelope recipients %v", m.To)
		}
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	e := testEmail(1)
	e.ToName = "Eve\r\nBcc: victim@example.com"
	e.Subject = "Hi\r\nBcc: victim@example.com\r\n\r\nbody"
	if err := s.Send(t.Context(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := ts.Messages()[0]
	p := parseMail(t, m.Data)
	if p.Header.Get("Bcc") != "" || len(m.To) != 1 {
		t.Fatalf("header injected: Bcc=%q rcpts=%v", p.Header.Get("Bcc"), m.To)
	}
	if p.To.Name != "Eve Bcc: victim@example.com" || p.Subject != "Hi Bcc: victim@example.com body" {
		t.Errorf("To name %q, Subject %q", p.To.Name, p.Subject)
	}
}

func TestSMTPInvalidMessagesArePermanent(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	for name, mod := range map[string]func(*Email){
		"bad to":         func(e *Email) { e.ToAddress = "not an address" },
		"to with name":   func(e *Email) { e.ToAddress = "Eve <eve@example.com>" },
		"bad from":       func(e *Email) { e.FromHeader = "nobody" },
		"no message id":  func(e *Email) { e.MessageID = "" },
		"bad message id": func(e *Email) { e.MessageID = "<a b@c>" },
	} {
		e := testEmail(1)
		mod(&e)
		err := s.Send(t.Context(), e)
		if err == nil || !IsPermanentSMTP(err) {
			t.Errorf("%s: err = %v, want a permanent error", name, err)
		}
	}
	if n := len(ts.Messages()); n != 0 {
		t.Errorf("server got %d messages", n)
	}
}

func TestSMTPReplyClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stage     string
		code      int
		permanent bool
	}{
		{"rcpt", 550, true},
		{"rcpt", 553, true},
		{"rcpt", 450, false},
		{"rcpt", 451, false},
		{"data", 554, true},
		{"data", 451, false},
		{"data", 452, false},
	}
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	for i, tc := range tests {
		ts.failNext(tc.stage, tc.code, 1)
		err := s.Send(t.Context(), testEmail(i))
		if err == nil {
			t.Fatalf("%d at %s: Send succeeded", tc.code, tc.stage)
		}
		if got := IsPermanentSMTP(err); got != tc.permanent {
			t.Errorf("%d at %s: IsPermanentSMTP = %v, want %v (err %v)", tc.code, tc.stage, got, tc.permanent, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(tc.code)) {
			t.Errorf("error %q does not name the reply code", err)
		}
	}
	// The session survives refusals: the next message goes through on it.
	if err := s.Send(t.Context(), testEmail(99)); err != nil {
		t.Fatalf("Send after refusals: %v", err)
	}
	if got := ts.Sessions(); got != 1 {
		t.Errorf("sessions = %d, want 1 (refusals should not cost the connection)", got)
	}
	if IsPermanentSMTP(nil) || IsPermanentSMTP(errors.New("x")) || IsPermanentSMTP(context.Canceled) {
		t.Error("IsPermanentSMTP true for a non-SMTP error")
	}
}

func TestSMTPNetworkErrorsAreTransient(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	s := newTestSender(t, "smtp://"+addr+"?tls=none")
	err = s.Send(t.Context(), testEmail(1))
	if err == nil || IsPermanentSMTP(err) {
		t.Fatalf("err = %v, want a transient error", err)
	}
}

func TestSMTPConnectionReuse(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	const n = 50
	for i := range n {
		if err := s.Send(t.Context(), testEmail(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if got := len(ts.Messages()); got != n {
		t.Fatalf("got %d messages, want %d", got, n)
	}
	if got := ts.Sessions(); got > 2 {
		t.Errorf("%d connections for %d messages, want the connection reused", got, n)
	}
}

func TestSMTPConcurrentSenders(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.Send(t.Context(), testEmail(w*each+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send: %v", err)
	}
	if got := len(ts.Messages()); got != workers*each {
		t.Fatalf("got %d messages, want %d", got, workers*each)
	}
	if got := ts.Sessions(); got > workers {
		t.Errorf("%d connections for %d concurrent senders", got, workers)
	}
	seen := map[string]bool{}
	for _, m := range ts.Messages() {
		id := parseMail(t, m.Data).Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("message %s received twice", id)
		}
		seen[id] = true
	}
}

func TestSMTPReconnectsAfterServerClosed(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	if err := s.Send(t.Context(), testEmail(1)); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	ts.dropConnections()
	if err := s.Send(t.Context(), testEmail(2)); err != nil {
		t.Fatalf("Send after the server closed the connection: %v", err)
	}
	if got := len(ts.Messages()); got != 2 {
		t.Errorf("got %d messages, want 2", got)
	}
	if got := ts.Sessions(); got != 2 {
		t.Errorf("sessions = %d, want 2", got)
	}
}

func TestSMTPHonoursContext(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s := newTestSender(t, ts.URL())
	ts.mu.Lock()
	ts.block, ts.inData = make(chan struct{}), make(chan struct{}, 1)
	ts.mu.Unlock()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, testEmail(1)) }()
	<-ts.inData // the server is holding the message
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || IsPermanentSMTP(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a transient cancellation", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send returned %v after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send ignored the cancelled context")
	}
	if err := s.Send(ctx, testEmail(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a done context: %v", err)
	}

	ts.mu.Lock()
	close(ts.block)
	ts.block = nil
	ts.mu.Unlock()
	if err := s.Send(t.Context(), testEmail(3)); err != nil {
		t.Fatalf("Send after a cancelled one: %v", err)
	}
}

func TestSMTPClose(t *testing.T) {
	t.Parallel()
	ts := newTestSMTP(t)
	s, err := NewSender(ts.URL(), t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Send(t.Context(), testEmail(2)); err == nil || IsPermanentSMTP(err) {
		t.Errorf("Send after Close: %v, want a transient error", err)
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "goodplan test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// tlsSender is a sender for smtpURL that trusts roots.
func tlsSender(t testing.TB, smtpURL string, roots *x509.CertPool) Sender {
	t.Helper()
	cfg, err := parseSMTPURL(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.tlsConfig = &tls.Config{RootCAs: roots, ServerName: cfg.host, MinVersion: tls.VersionTLS12}
	s, err := newSMTPSender(cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSMTPTLSAndAuth(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t)

	t.Run("starttls with auth", func(t *testing.T) {
		ts := newTestSMTP(t, withTLS(cert), withAuth("mailer", "p@ss:word"))
		s := tlsSender(t, fmt.Sprintf("smtp://mailer:p%%40ss%%3Aword@%s", ts.Addr), roots)
		for i := range 3 {
			if err := s.Send(t.Context(), testEmail(i)); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		if got := len(ts.Messages()); got != 3 {
			t.Errorf("got %d messages, want 3", got)
		}
	})
	t.Run("implicit tls", func(t *testing.T) {
		ts := newTestSMTP(t, withImplicitTLS(cert), withAuth("mailer", "secret"))
		s := tlsSender(t, fmt.Sprintf("smtps://mailer:secret@%s", ts.Addr), roots)
		if err := s.Send(t.Context(), testEmail(1)); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := len(ts.Messages()); got != 1 {
			t.Errorf("got %d messages, want 1", got)
		}
	})
	t.Run("opportunistic without starttls", func(t *testing.T) {
		ts := newTestSMTP(t)
		s := tlsSender(t, fmt.Sprintf("smtp://%s?tls=opportunistic", ts.Addr), roots)
		if err := s.Send(t.Context(), testEmail(1)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	})
	t.Run("starttls required but not offered", func(t *testing.T) {
		ts := newTestSMTP(t)
		s := tlsSender(t, fmt.Sprintf("smtp://%s", ts.Addr), roots)
		err := s.Send(t.Context(), testEmail(1))
		if err == nil || IsPermanentSMTP(err) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v, want a transient STARTTLS error", err)
		}
		if len(ts.Messages()) != 0 {
			t.Error("message sent in clear text")
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		ts := newTestSMTP(t, withTLS(cert))
		s := tlsSender(t, fmt.Sprintf("smtp://%s", ts.Addr), x509.NewCertPool())
		if err := s.Send(t.Context(), testEmail(1)); err == nil || IsPermanentSMTP(err) {
			t.Fatalf("err = %v, want a transient TLS error", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		ts := newTestSMTP(t, withAuth("mailer", "secret"))
		s := newTestSender(t, fmt.Sprintf("smtp://mailer:wrong@%s?tls=none", ts.Addr))
		err := s.Send(t.Context(), testEmail(1))
		if err == nil || IsPermanentSMTP(err) {
			t.Fatalf("err = %v, want a transient error (credentials are configuration, not the message)", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error %q reveals the password", err)
		}
	})
	t.Run("plain auth over tls=none to localhost", func(t *testing.T) {
		ts := newTestSMTP(t, withAuth("mailer", "secret"))
		s := newTestSender(t, fmt.Sprintf("smtp://mailer:secret@%s?tls=none", ts.Addr))
		if err := s.Send(t.Context(), testEmail(1)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	})
}

func TestOutboxSender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	s, err := NewSender("", dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	defer s.Close()
	outbox := filepath.Join(dir, "outbox")

	e1, e2 := testEmail(1), testEmail(2)
	e1.ToName = `Émilie "Emmy" Dupont`
	for _, e := range []Email{e1, e2, e1} { // e1 twice: still one file
		if err := s.Send(t.Context(), e); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	entries, err := os.ReadDir(outbox)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	want := []string{"test-1@goodplan.test.eml", "test-2@goodplan.test.eml"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("outbox holds %v, want %v", names, want)
	}
	data, err := os.ReadFile(filepath.Join(outbox, want[0]))
	if err != nil {
		t.Fatal(err)
	}
	p := parseMail(t, data)
	if p.Header.Get("Message-Id") != e1.MessageID || p.To.Name != e1.ToName || p.Text != e1.Text || p.HTML != e1.HTML {
		t.Errorf("outbox message: id %q to %v", p.Header.Get("Message-Id"), p.To)
	}
	if n := strings.Count(logs.String(), "email written to outbox"); n != 3 {
		t.Errorf("%d log lines, want 3:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), filepath.Join(outbox, want[0])) || strings.Contains(logs.String(), "john@example.com") {
		t.Errorf("log lacks the path or reveals the recipient:\n%s", logs.String())
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Send(ctx, testEmail(3)); err == nil {
		t.Error("Send with a cancelled context wrote the message")
	}
	bad := testEmail(4)
	bad.ToAddress = "nope"
	if err := s.Send(t.Context(), bad); !IsPermanentSMTP(err) {
		t.Errorf("invalid recipient: %v, want permanent", err)
	}
}

func TestOutboxName(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, id := range []string{
		"plan-7.introduction@goodplan.example",
		"a/b@c", "a_b@c", "../../etc/passwd", ".hidden@x", "..",
		strings.Repeat("x", 300) + "@y",
	} {
		name := outboxName(id)
		if strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".eml") || len(name) > 200 {
			t.Errorf("outboxName(%q) = %q is not a safe file name", id, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("ids %q and %q share file %q", other, id, name)
		}
		seen[name] = id
	}
	if got := outboxName("plan-7.introduction@goodplan.example"); got != "plan-7.introduction@goodplan.example.eml" {
		t.Errorf("plain id got name %q", got)
	}
}

// BenchmarkSMTPSend measures throughput to a local server with 8
// concurrent senders sharing one Sender.
func BenchmarkSMTPSend(b *testing.B) {
	ts := newTestSMTP(b)
	s := newTestSender(b, ts.URL())
	e := testEmail(1)
	e.Text = strings.Repeat("Hello, this is a realistic plain text body line.\n", 30)
	e.HTML = strings.Repeat("<p>Hello, this is a realistic HTML body paragraph.</p>\n", 60)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Send(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}
