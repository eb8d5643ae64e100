package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// account is one merchant of the soak.
type account struct {
	ID  string
	Key string
}

// response is one answer a client got (or a transport error, Status 0).
type response struct {
	At     time.Time
	Op     string
	Status int
	Body   string `json:",omitempty"` // the start of a 5xx other than 503
}

// ack is one create the service acknowledged with a 2xx.
type ack struct {
	Key     string // Idempotency-Key
	Invoice string // the request's invoice number, unique per key
	PlanID  int64
}

// load runs the clients and records what they were answered.
type load struct {
	base     string
	accounts []account
	client   *http.Client

	mu        sync.Mutex
	responses []response
	acks      []ack
	gaveUp    int // requests abandoned after 2 minutes of retries
	flows     int // create, choose, pay completed
}

func (l *load) record(op string, status int) { l.recordBody(op, status, nil) }

// recordBody records an answer, with the start of its body when it is a
// 5xx other than 503 (for the summary).
func (l *load) recordBody(op string, status int, body []byte) {
	x := response{At: time.Now(), Op: op, Status: status}
	if status >= 500 && status != 503 {
		x.Body = string(body[:min(len(body), 300)])
	}
	l.mu.Lock()
	l.responses = append(l.responses, x)
	l.mu.Unlock()
}

// do sends a request until it is answered below 500 and not 429 (the same
// Idempotency-Key on every retry), for up to 2 minutes.
func (l *load) do(ctx context.Context, op string, build func() (*http.Request, error)) (int, []byte, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		req, err := build()
		if err != nil {
			return 0, nil, err
		}
		res, err := l.client.Do(req.WithContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			l.record(op, 0)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		l.recordBody(op, res.StatusCode, b)
		if res.StatusCode == http.StatusTooManyRequests {
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(1, min(wait, 5))) * time.Second)
			continue
		}
		if res.StatusCode >= 500 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return res.StatusCode, b, nil
	}
	if ctx.Err() != nil {
		return 0, nil, ctx.Err() // the load stopped: not given up
	}
	l.mu.Lock()
	l.gaveUp++
	l.mu.Unlock()
	return 0, nil, fmt.Errorf("%s: no answer in 2 minutes", op)
}

// run is one client: create a plan, choose an option in the portal, record
// a payment; again until ctx ends.
func (l *load) run(ctx context.Context, id int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	for ctx.Err() == nil {
		a := l.accounts[rng.IntN(len(l.accounts))]
		_ = l.flow(ctx, a)
	}
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	formIDRE = regexp.MustCompile(`name="form_id" value="([^"]+)"`)
	optionRE = regexp.MustCompile(`name="option_id" value="([0-9]+)"`)
)

func (l *load) flow(ctx context.Context, a account) error {
	key := uuid.NewString()
	inv := "INV-" + key[:18]
	body := []byte(`{"customer":{"name":"Chaos Customer","email":"c-` + key[:8] + `@example.com"},` +
		`"invoice":{"amount":"900.00","invoice_number":"` + inv + `"},"options":{"intervals":["monthly"],"durations":[3,6]}}`)
	api := func(method, path string, body []byte, idem string) func() (*http.Request, error) {
		return func() (*http.Request, error) {
			req, err := http.NewRequest(method, l.base+path, bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+a.Key)
			req.Header.Set("Content-Type", "application/json")
			if idem != "" {
				req.Header.Set("Idempotency-Key", idem)
			}
			return req, nil
		}
	}
	status, b, err := l.do(ctx, "create", api("POST", "/api/v1/plans", body, key))
	if err != nil || status/100 != 2 {
		return err
	}
	var created struct {
		PlanID int64  `json:"plan_id"`
		Portal string `json:"customer_portal_url"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		return err
	}
	l.mu.Lock()
	l.acks = append(l.acks, ack{Key: key, Invoice: inv, PlanID: created.PlanID})
	l.mu.Unlock()

	// The customer opens the link and chooses the first option.
	_, page, err := l.do(ctx, "portal", func() (*http.Request, error) { return http.NewRequest("GET", created.Portal, nil) })
	if err != nil {
		return err
	}
	csrf, form, opt := csrfRE.FindSubmatch(page), formIDRE.FindSubmatch(page), optionRE.FindSubmatch(page)
	if csrf == nil || form == nil || opt == nil {
		return fmt.Errorf("plan %d: no option form on the portal page", created.PlanID)
	}
	vals := url.Values{"csrf": {html.UnescapeString(string(csrf[1]))}, "form_id": {string(form[1])}, "option_id": {string(opt[1])}}
	status, _, err = l.do(ctx, "choose", func() (*http.Request, error) {
		req, err := http.NewRequest("POST", created.Portal+"/select", bytes.NewBufferString(vals.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	})
	if err != nil || status != http.StatusSeeOther {
		return err
	}
	// The merchant records a payment.
	pay := []byte(`{"amount":"300.00","method":"check","reference":"CHK ` + key[:6] + `"}`)
	status, _, err = l.do(ctx, "pay", api("POST", "/api/v1/plans/"+strconv.FormatInt(created.PlanID, 10)+"/payments", pay, key+"-pay"))
	if err == nil && status/100 == 2 {
		l.mu.Lock()
		l.flows++
		l.mu.Unlock()
	}
	return err
}

// hammer sends GET /api/v1/plans with a's key every interval until ctx
// ends, far above the key's 60 a minute: the rate limit must refuse what
// exceeds it however the proxy spreads the requests over the replicas.
func (l *load) hammer(ctx context.Context, a account, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, "GET", l.base+"/api/v1/plans?limit=1", nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+a.Key)
		res, err := l.client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		l.record("hammer", res.StatusCode)
	}
}
