package workers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"goodplan/eventstore"
)

// Webhook delivery limits.
const (
	// WebhookTimeout bounds one attempt: connect, TLS, request and response.
	WebhookTimeout = 15 * time.Second
	// WebhookMaxRead is the most of a response body ever read.
	WebhookMaxRead = 64 << 10
	// WebhookExcerptBytes is how much of the response body the log keeps.
	WebhookExcerptBytes = 1 << 10
	// WebhookUserAgent is sent with every delivery.
	WebhookUserAgent = "goodplan-webhooks/1"
)

// NewWebhookClient returns the HTTP client deliveries use: 15 s in total per
// attempt, no redirects followed (a 3xx is the answer, and a failure), no
// proxy, and, unless allowPrivate, connections to loopback, private,
// link-local and other special-use addresses refused at connect time (after
// DNS resolution; see CheckWebhookAddress).
func NewWebhookClient(allowPrivate bool) *http.Client {
	client := newWebhookClient(allowPrivate)
	if !allowPrivate {
		// Endpoints are created https-only outside development, but one
		// made before that rule (or while private networks were allowed)
		// must not get signed customer data in plain text either.
		client.Transport = httpsOnly{client.Transport}
	}
	return client
}

// webhookStopGrace is how long an attempt under way may still take once the
// deliverer is stopping (serve's shutdown waits for it).
const webhookStopGrace = 5 * time.Second

// ErrInsecureURL is a delivery to a plain-http endpoint while private
// networks are not allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS=false).
var ErrInsecureURL = errors.New("webhook endpoint is not https")

// httpsOnly refuses every request that is not https, without connecting.
// A target whose addresses are refused anyway (loopback, private, ...) is
// refused as such (ErrAddressNotAllowed), as a connection would be, so the
// delivery log names the bigger problem.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "https" {
		return h.next.RoundTrip(r)
	}
	host := r.URL.Hostname()
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, a)
	} else if found, err := net.DefaultResolver.LookupNetIP(r.Context(), "ip", host); err == nil {
		addrs = found
	}
	for _, a := range addrs {
		if err := CheckWebhookAddress(a.Unmap()); err != nil {
			return nil, err
		}
	}
	return nil, ErrInsecureURL
}

func newWebhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   WebhookDialControl(allowPrivate),
	}
	return &http.Client{
		Timeout: WebhookTimeout,
		Transport: &http.Transport{
			Proxy:                  nil, // never through a proxy: the address check must see the real target
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           1024,
			MaxIdleConnsPerHost:    256,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// attemptResult is what one HTTP attempt produced.
type attemptResult struct {
	status    int
	excerpt   string
	err       string // a category (webhookErrorCategory): shown to merchants
	raw       error  // the error itself: logged only
	latency   time.Duration
	cancelled bool // the deliverer is stopping: nothing to record
}

// send makes one signed POST of c's payload.
func (r *deliveryRun) send(parent context.Context, c eventstore.DueDelivery, at time.Time) attemptResult {
	msgID := WebhookMessageID(c.EventID)
	ts := at.Unix()
	sig, err := webhookSignatures(c, msgID, ts, at)
	if err != nil {
		return attemptResult{err: WebhookErrOther, raw: err}
	}
	// An attempt under way when the deliverer stops gets stopGrace to
	// finish: cut off at once, a receiver that had already taken it would
	// get it again after the restart (the claim is released unrecorded).
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	stopGrace := context.AfterFunc(parent, func() { time.AfterFunc(webhookStopGrace, cancel) })
	defer stopGrace()
	if r.reqTimeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, r.reqTimeout)
		defer cancelTimeout()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return attemptResult{err: WebhookErrInvalidURL, raw: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", WebhookUserAgent)
	// Standard Webhooks header names are lowercase; set directly so they
	// are sent as written.
	h["webhook-id"] = []string{msgID}
	h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
	h["webhook-signature"] = []string{sig}
	// The receiver may follow the request that caused the event; neither
	// header is covered by the signature.
	if c.RequestID != "" {
		h[HeaderRequestID] = []string{c.RequestID}
	}
	if c.Traceparent != "" {
		h[HeaderTraceparent] = []string{c.Traceparent}
	}

	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		if parent.Err() != nil && errors.Is(err, context.Canceled) {
			return attemptResult{cancelled: true} // cut off after the grace
		}
		return attemptResult{err: webhookErrorCategory(err), raw: err, latency: time.Since(start)}
	}
	// Read a bounded amount: enough to reuse the connection for normal
	// answers, never a whole hostile stream.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, WebhookMaxRead))
	_ = resp.Body.Close()
	res := attemptResult{status: resp.StatusCode, latency: time.Since(start)}
	res.excerpt = string(body[:min(len(body), WebhookExcerptBytes)])
	if readErr != nil {
		res.err, res.raw = "reading response: "+webhookErrorCategory(readErr), readErr
	}
	return res
}
