package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/templates"
	"goodplan/workers"
)

// delivery is step 6: webhooks and emails.
func (r *runner) delivery(ctx context.Context) error {
	if err := r.webhooks(ctx); err != nil {
		return err
	}
	return r.emails(ctx)
}

// receiver is a webhook endpoint that answers 204 and counts.
type receiver struct {
	n           atomic.Int64
	mu          sync.Mutex
	first, last time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	now := time.Now()
	rc.mu.Lock()
	if rc.first.IsZero() {
		rc.first = now
	}
	rc.last = now
	rc.mu.Unlock()
	rc.n.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

func (r *runner) webhooks(ctx context.Context) error {
	dbURL, err := r.dbs.create(ctx, true)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, dbURL, 16)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool)
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Bench Merchant"})
	if err != nil {
		return err
	}
	rc := &receiver{}
	hs := httptest.NewServer(rc)
	defer hs.Close()

	// One realistic payload: the webhook body of a real plan.created.
	var ids atomic.Int64
	created, _, err := createPlanEvent(planSpec{n: 1, durations: []int{3, 6, 12}, now: time.Now()}, acct.ID, func() int64 { return ids.Add(1) })
	if err != nil {
		return err
	}
	var plan domain.Plan
	plan.Apply(created)
	payload, err := json.Marshal(workers.WebhookPayload{Event: domain.EventPlanCreated, Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
		Data: workers.WebhookData{Summary: projections.Summarize(&plan, "http://localhost:8080")}})
	if err != nil {
		return err
	}
	total := r.s.webhookEndpoints * r.s.webhooksPerEP
	progress("delivery: enqueueing %d webhook deliveries (%d endpoints x %d), untimed", total, r.s.webhookEndpoints, r.s.webhooksPerEP)
	for e := range r.s.webhookEndpoints {
		ep, err := store.CreateEndpoint(ctx, eventstore.NewWebhookEndpoint{AccountID: acct.ID, URL: fmt.Sprintf("%s/hooks/%d", hs.URL, e)})
		if err != nil {
			return err
		}
		for done := 0; done < r.s.webhooksPerEP; {
			batch := make([]eventstore.NewDelivery, 0, 2000)
			for ; done < r.s.webhooksPerEP && len(batch) < cap(batch); done++ {
				batch = append(batch, eventstore.NewDelivery{EndpointID: ep.ID, EventID: uuid.Must(uuid.NewV7()),
					EventType: domain.EventPlanCreated, Payload: payload})
			}
			if _, err := store.EnqueueDeliveries(ctx, batch); err != nil {
				return err
			}
		}
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := &workers.WebhookDeliverer{Store: store, AllowPrivate: true, PerEndpoint: 16, Log: quiet}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	progress("delivery: WebhookDeliverer (PerEndpoint 16) draining to a local receiver")
	start := time.Now()
	go func() { _ = d.Run(dctx); close(done) }()
	deadline := start.Add(3 * time.Minute)
	var states map[string]int
	for ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if rc.n.Load() < int64(total) {
			continue
		}
		if states, err = deliveryStates(ctx, store); err != nil || states[eventstore.DeliverySucceeded] >= total {
			break
		}
	}
	stop()
	<-done
	if err != nil {
		return err
	}
	if states, err = deliveryStates(ctx, store); err != nil {
		return err
	}
	rc.mu.Lock()
	span := rc.last.Sub(rc.first)
	rc.mu.Unlock()
	got := rc.n.Load()
	row := Row{Group: "delivery", Name: "webhook deliveries (4 endpoints, local receiver)", Value: float64(got) / span.Seconds(), Unit: "deliveries/s",
		Target: fmt.Sprintf(">= %s/s", commas(int64(targetWebhooks))),
		Note: fmt.Sprintf("%d requests received from first to last in %s (%s from start); delivery states %v",
			got, span.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), states)}
	ok := states[eventstore.DeliverySucceeded] == total && row.Value >= targetWebhooks
	row.Result = passMiss(ok)
	r.add(row)
	return nil
}

func deliveryStates(ctx context.Context, store *eventstore.Store) (map[string]int, error) {
	rows, err := store.Pool().Query(ctx, `SELECT state, count(*) FROM webhook_deliveries GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// smtpCounter is an SMTP backend that accepts and counts every message.
type smtpCounter struct {
	msgs, sessions atomic.Int64
}

func (c *smtpCounter) NewSession(*smtp.Conn) (smtp.Session, error) {
	c.sessions.Add(1)
	return &smtpSession{c: c}, nil
}

type smtpSession struct{ c *smtpCounter }

func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.c.msgs.Add(1)
	return nil
}

func (r *runner) emails(ctx context.Context) error {
	counter := &smtpCounter{}
	srv := smtp.NewServer(counter)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	n := r.s.emails
	progress("delivery: rendering %d introduction emails (untimed)", n)
	msgs := make([]workers.Email, n)
	for i := range msgs {
		id := int64(i + 1)
		rd, err := templates.Introduction(templates.IntroductionData{
			MerchantName: "Bench Merchant", CustomerName: fmt.Sprintf("Customer %d", id), Amount: amountOf(id), Currency: "USD",
			InvoiceNumber: fmt.Sprintf("INV-%d", id), PortalURL: "http://localhost:8080/plan/" + portalToken(id),
			Options: []templates.IntroductionOption{
				{Installments: 3, Interval: "monthly", PaymentAmount: "400.00", FirstPaymentDate: "2026-12-01", FinalPaymentDate: "2027-02-01"},
				{Installments: 6, Interval: "monthly", PaymentAmount: "200.00", FirstPaymentDate: "2026-12-01", FinalPaymentDate: "2027-05-01"},
			}})
		if err != nil {
			return err
		}
		msgs[i] = workers.Email{MessageID: workers.IntroductionMessageID(id, "http://localhost:8080"), FromHeader: "Good Plan <no-reply@localhost>",
			ToName: fmt.Sprintf("Customer %d", id), ToAddress: fmt.Sprintf("customer%d@example.com", id),
			Subject: rd.Subject, Text: rd.Text, HTML: rd.HTML}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender, err := workers.NewSender("smtp://"+ln.Addr().String()+"?tls=none", filepath.Join(r.tmp, "smtp"), quiet)
	if err != nil {
		return err
	}
	defer sender.Close()
	progress("delivery: sending %d emails from 8 goroutines to a local SMTP server", n)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := sender.Send(ctx, msgs[i]); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := counter.msgs.Load()
	row := Row{Group: "delivery", Name: "emails (8 senders, local SMTP server)", Value: float64(got) / elapsed.Seconds(), Unit: "emails/s",
		Target: fmt.Sprintf(">= %s/s", commas(int64(targetEmails))),
		Note: fmt.Sprintf("%d of %d accepted in %s over %d SMTP sessions; %d send errors", got, n, elapsed.Round(time.Millisecond),
			counter.sessions.Load(), failed.Load())}
	if e := firstErr.Load(); e != nil {
		row.Note += fmt.Sprintf(" (first: %s)", e)
	}
	row.Result = passMiss(got == int64(n) && failed.Load() == 0 && row.Value >= targetEmails)
	r.add(row)
	return ctx.Err()
}
