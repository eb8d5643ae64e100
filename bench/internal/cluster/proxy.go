package cluster

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// maxReplayBody is the largest request body the proxy keeps to send again
// to the next replica when one refuses the connection (the API caps bodies
// at 64 KiB).
const maxReplayBody = 1 << 20

// Proxy is a round-robin reverse proxy over the replicas. A replica that
// refuses the connection (killed, restarting) is skipped for the next one;
// when every replica fails, or one dies in the middle of a request, the
// client gets a JSON 503 with Retry-After (a request is never sent twice
// once a replica may have read it).
type Proxy struct {
	// OnBackend, when set, is told the replica (host:port) that answered
	// each request.
	OnBackend func(r *http.Request, backend string)
	backends  []*url.URL
	next      atomic.Uint64
	rp        *httputil.ReverseProxy
}

// NewProxy returns a proxy over backends (http://host:port).
func NewProxy(backends []string) (*Proxy, error) {
	p := &Proxy{}
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			return nil, err
		}
		p.backends = append(p.backends, u)
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetXForwarded()
			r.Out.Host = r.In.Host // portal links and CSRF origin checks see the proxy's host
		},
		Transport: &failover{p: p, tr: tr},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":"Service unavailable","message":"No replica answered; retry the request."}`)
		},
	}
	return p, nil
}

// ServeHTTP proxies one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.rp.ServeHTTP(w, r) }

// failover sends a request to the next replica in turn, and to the one
// after it when the connection is refused.
type failover struct {
	p  *Proxy
	tr *http.Transport
}

func (f *failover) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	n := len(f.p.backends)
	start := f.p.next.Add(1)
	var last error
	for i := range n {
		u := f.p.backends[(int(start)+i)%n]
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.ContentLength = int64(len(body))
		}
		res, err := f.tr.RoundTrip(out)
		if err == nil {
			if f.p.OnBackend != nil {
				f.p.OnBackend(req, u.Host)
			}
			return res, nil
		}
		last = err
		if !refused(err) || req.Context().Err() != nil {
			return nil, err
		}
	}
	return nil, last
}

// refused reports an error that happened before the replica could read the
// request: connection refused or a dial timeout.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}
