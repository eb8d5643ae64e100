package main

import (
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// smtpSink is the soak's mail server: it answers 451 to some messages and
// drops the connection on others, and records every message it accepted by
// Message-ID.
type smtpSink struct {
	mu       sync.Mutex
	rng      *rand.Rand
	p451     float64
	pDrop    float64
	accepted map[string][]time.Time // Message-ID -> each acceptance
	refused  int                    // 451 answers
	dropped  int                    // connections dropped after DATA
	last     time.Time              // the last acceptance
}

func newSMTPSink(seed uint64, p451, pDrop float64) *smtpSink {
	return &smtpSink{rng: rand.New(rand.NewPCG(seed, 1)), p451: p451, pDrop: pDrop, accepted: map[string][]time.Time{}}
}

// Listen starts the server on a loopback port and returns its address.
func (s *smtpSink) Listen() (string, func(), error) {
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// NewSession implements smtp.Backend.
func (s *smtpSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: s, c: c}, nil
}

type smtpSession struct {
	s *smtpSink
	c *smtp.Conn
}

func (x *smtpSession) Reset()                               {}
func (x *smtpSession) Logout() error                        { return nil }
func (x *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *smtpSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, msg.Body)
	id := msg.Header.Get("Message-ID")
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := s.rng.Float64(); {
	case f < s.p451:
		s.refused++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later (chaos)"}
	case f < s.p451+s.pDrop:
		s.dropped++
		_ = x.c.Conn().Close()
		return io.ErrUnexpectedEOF
	}
	now := time.Now()
	s.accepted[id] = append(s.accepted[id], now)
	s.last = now
	return nil
}

// hookAttempt is one request the webhook receiver saw.
type hookAttempt struct {
	At     time.Time
	Status int // what it answered; 0 for a hang it gave up on
}

// hookSink is the soak's webhook receiver: it verifies every signature with
// the Standard Webhooks library, fails some first attempts with a 500 and
// hangs on a few past the sender's timeout, and records every attempt by
// webhook-id.
type hookSink struct {
	mu       sync.Mutex
	rng      *rand.Rand
	pFail    float64
	pHang    float64
	hang     time.Duration
	secrets  map[string]*standardwebhooks.Webhook // path -> verifier
	attempts map[string][]hookAttempt             // webhook-id -> attempts
	badSig   int
}

func newHookSink(seed uint64, pFail, pHang float64, hang time.Duration) *hookSink {
	return &hookSink{rng: rand.New(rand.NewPCG(seed, 2)), pFail: pFail, pHang: pHang, hang: hang,
		secrets: map[string]*standardwebhooks.Webhook{}, attempts: map[string][]hookAttempt{}}
}

// SetSecret registers the secret of the endpoint at path.
func (h *hookSink) SetSecret(path, secret string) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.secrets[path] = wh
	h.mu.Unlock()
	return nil
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	wh := h.secrets[r.URL.Path]
	if wh == nil || wh.Verify(body, r.Header) != nil || !strings.HasPrefix(id, "msg_") {
		h.badSig++
		h.attempts[id] = append(h.attempts[id], hookAttempt{At: time.Now(), Status: 401})
		h.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	first := len(h.attempts[id]) == 0
	status, hang := http.StatusNoContent, false
	if first {
		switch f := h.rng.Float64(); {
		case f < h.pHang:
			hang = true
		case f < h.pHang+h.pFail:
			status = http.StatusInternalServerError
		}
	}
	i := len(h.attempts[id])
	h.attempts[id] = append(h.attempts[id], hookAttempt{At: time.Now(), Status: status})
	h.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-time.After(h.hang):
		}
		h.mu.Lock()
		h.attempts[id][i].Status = 0
		h.mu.Unlock()
		http.Error(w, "too late", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(status)
}
