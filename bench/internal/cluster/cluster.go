package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options shape a cluster.
type Options struct {
	Dir         string // JetStream stores, replica data dirs, logs
	Goodplan    string // the goodplan binary
	NATSServer  string // the nats-server binary; default /usr/sbin/nats-server
	DatabaseURL string // one PostgreSQL database for every replica
	PublicURL   string // the proxy's URL: base of portal links
	NATSNodes   int    // default 3
	Replicas    int    // goodplan replicas, default 3
	Detach      bool   // processes outlive the caller (make cluster)
	Env         []string
}

// Cluster is the running processes.
type Cluster struct {
	Opts     Options
	NATS     []*Proc
	NATSURLs []string
	Serve    []*Proc
	Backends []string // http://127.0.0.1:port of each replica
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// Start starts the NATS nodes, waits for JetStream, migrates the database
// and starts the goodplan replicas (the first creates the event stream with
// NATS_STREAM_REPLICAS=3), each waited for on /api/health.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.NATSServer == "" {
		o.NATSServer = "/usr/sbin/nats-server"
	}
	if o.NATSNodes == 0 {
		o.NATSNodes = 3
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	c := &Cluster{Opts: o}
	ports, err := freePorts(2*o.NATSNodes + o.Replicas)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := range o.NATSNodes {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[o.NATSNodes+i]))
		c.NATSURLs = append(c.NATSURLs, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for i := range o.NATSNodes {
		name := fmt.Sprintf("nats-%d", i+1)
		store := filepath.Join(o.Dir, name)
		if err := os.MkdirAll(store, 0o755); err != nil {
			return nil, err
		}
		p := &Proc{Name: name, Path: o.NATSServer, LogPath: filepath.Join(o.Dir, name+".log"), Detach: o.Detach,
			Args: []string{"-n", name, "-a", "127.0.0.1", "-p", strconv.Itoa(ports[i]), "-js", "-sd", store,
				"--cluster_name", "goodplan", "--cluster", routes[i], "--routes", strings.Join(routes, ",")}}
		if err := p.Start(); err != nil {
			c.Stop()
			return nil, err
		}
		c.NATS = append(c.NATS, p)
	}
	if err := c.WaitJetStream(ctx, 2*time.Minute); err != nil {
		c.Stop()
		return nil, err
	}
	env := append(append(envWithout(goodplanVars...), o.Env...), "DATABASE_URL="+o.DatabaseURL)
	serveURL := o.DatabaseURL
	if !strings.Contains(serveURL, "pool_max_conns") {
		// Three replicas at the default 24 (plus the relay's, listener's and
		// consumers' sessions) come near PostgreSQL's default 100 clients.
		sep := "?"
		if strings.Contains(serveURL, "?") {
			sep = "&"
		}
		serveURL += sep + "pool_max_conns=12"
	}
	if out, err := runOut(ctx, o.Goodplan, env, "migrate"); err != nil {
		c.Stop()
		return nil, fmt.Errorf("goodplan migrate: %w\n%s", err, out)
	}
	for i := range o.Replicas {
		port := ports[2*o.NATSNodes+i]
		name := fmt.Sprintf("goodplan-%d", i+1)
		data := filepath.Join(o.Dir, name)
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		renv := append(append([]string{}, env...), "DATABASE_URL="+serveURL,
			"HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port), "PUBLIC_URL="+o.PublicURL,
			"NATS_URL="+strings.Join(c.NATSURLs, ","), "NATS_STREAM_REPLICAS=3", "DATA_DIR="+data,
			"TRUSTED_PROXIES=127.0.0.1/32")
		p := &Proc{Name: name, Path: o.Goodplan, Args: []string{"serve"}, Env: renv,
			LogPath: filepath.Join(o.Dir, name+".log"), Detach: o.Detach}
		c.Serve = append(c.Serve, p)
		c.Backends = append(c.Backends, "http://127.0.0.1:"+strconv.Itoa(port))
		if err := p.Start(); err != nil {
			c.Stop()
			return nil, err
		}
		// The first replica creates the stream before the others start.
		if i == 0 {
			if err := c.WaitHealthy(ctx, i, 2*time.Minute); err != nil {
				c.Stop()
				return nil, err
			}
		}
	}
	for i := range c.Serve {
		if err := c.WaitHealthy(ctx, i, 2*time.Minute); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// WaitJetStream waits until JetStream answers through the cluster (a meta
// leader is elected).
func (c *Cluster) WaitJetStream(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		nc, err := nats.Connect(strings.Join(c.NATSURLs, ","), nats.Timeout(2*time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			actx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = js.AccountInfo(actx)
			cancel()
			nc.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("jetstream cluster not ready in %s: %v", limit, last)
}

// WaitHealthy waits until replica i answers GET /api/health with 200.
func (c *Cluster) WaitHealthy(ctx context.Context, i int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	// /api/health is limited per client address (IP_RATE_LIMIT, shared by
	// the cluster) and every client here is 127.0.0.1: polling as that
	// address spent the portal's budget and then waited up to a minute
	// on 429s for a replica that had been up for seconds. The replicas
	// trust 127.0.0.1 as a proxy, so this wait names an address of its
	// own (198.18.0.0/15, set aside for benchmarks).
	xff := fmt.Sprintf("198.18.%d.%d", rand.IntN(256), 1+rand.IntN(254))
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c.Serve[i].Exited() {
			return fmt.Errorf("%s exited; its log: %s", c.Serve[i].Name, c.Serve[i].LogPath)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Backends[i]+"/api/health", nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-Forwarded-For", xff)
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not healthy in %s; its log: %s", c.Serve[i].Name, limit, c.Serve[i].LogPath)
}

// Stop ends every process: goodplan replicas first (SIGTERM), then NATS.
func (c *Cluster) Stop() {
	for _, p := range c.Serve {
		p.Stop(20 * time.Second)
	}
	for _, p := range c.NATS {
		p.Stop(10 * time.Second)
	}
}

// Procs is every process, NATS first.
func (c *Cluster) Procs() []*Proc { return append(append([]*Proc{}, c.NATS...), c.Serve...) }
