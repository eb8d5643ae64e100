package workers_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// lockedLog is a log sink safe for concurrent writes and reads.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePorts returns n loopback ports free at the time of the call.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		defer ln.Close()
	}
	return ports
}

// clusterNode starts node i (from 0) of a three-node JetStream cluster
// whose route ports are routes.
func clusterNode(t *testing.T, i int, routes []int, dir string) *server.Server {
	t.Helper()
	var urls []string
	for j, p := range routes {
		if j != i {
			urls = append(urls, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	s, err := server.NewServer(&server.Options{
		ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: server.RANDOM_PORT,
		JetStream: true, StoreDir: fmt.Sprintf("%s/n%d", dir, i+1),
		Cluster: server.ClusterOpts{Name: "gptest", Host: "127.0.0.1", Port: routes[i]},
		Routes:  server.RoutesFromStr(strings.Join(urls, ",")),
		NoSigs:  true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats node %d not ready", i+1)
	}
	return s
}

// TestWaitStreamOutlastsNoQuorum: a replica that connects to one node of
// a three-node JetStream cluster whose other two nodes are down cannot
// create the R3 event stream (no quorum: the request times out). It does
// not give up: WaitStream logs each failed attempt at WARN with its
// number, StreamReady stays false, and once the two nodes are back the
// stream is created with three replicas and WaitStream returns nil.
func TestWaitStreamOutlastsNoQuorum(t *testing.T) {
	t.Parallel()
	routes, dir := freePorts(t, 3), t.TempDir()
	first := clusterNode(t, 0, routes, dir)

	bus, err := workers.ConnectBus(workers.BusConfig{URL: first.ClientURL(), Prefix: "gpquorum", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	bus.StreamAttemptTimeout = time.Second
	logs := &lockedLog{}
	log := slog.New(slog.NewTextHandler(logs, nil))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- bus.WaitStream(ctx, log) }()

	pgtest.WaitFor(t, time.Minute, "two failed attempts logged", func() bool {
		return strings.Contains(logs.String(), "attempt=2")
	})
	select {
	case err := <-done:
		t.Fatalf("WaitStream returned %v without a quorum", err)
	default:
	}
	if bus.StreamReady() {
		t.Fatal("StreamReady true without a quorum")
	}
	line := logs.String()
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "nats stream not ready; retrying") {
		t.Fatalf("failed attempts not logged at WARN:\n%s", line)
	}

	clusterNode(t, 1, routes, dir)
	clusterNode(t, 2, routes, dir)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WaitStream after the quorum came back: %v\nlogs:\n%s", err, logs.String())
		}
	case <-ctx.Done():
		t.Fatalf("WaitStream still waiting after the quorum came back\nlogs:\n%s", logs.String())
	}
	if !bus.StreamReady() {
		t.Fatal("StreamReady false after WaitStream returned nil")
	}
	s, err := bus.JS.Stream(ctx, bus.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("stream replicas = %d, want 3", r)
	}
}

// TestWaitStreamEndsWithContext: without a quorum, WaitStream returns
// the last attempt's error once its context ends, naming the attempts.
func TestWaitStreamEndsWithContext(t *testing.T) {
	t.Parallel()
	routes := freePorts(t, 3)
	first := clusterNode(t, 0, routes, t.TempDir())
	bus, err := workers.ConnectBus(workers.BusConfig{URL: first.ClientURL(), Prefix: "gpquorum", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	bus.StreamAttemptTimeout = 200 * time.Millisecond
	logs := &lockedLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.WaitStream(ctx, slog.New(slog.NewTextHandler(logs, nil))) }()
	pgtest.WaitFor(t, time.Minute, "a failed attempt logged", func() bool {
		return strings.Contains(logs.String(), "attempt=1")
	})
	cancel()
	err = <-done
	if err == nil || !strings.Contains(err.Error(), "create stream") || !strings.Contains(err.Error(), "attempts)") {
		t.Fatalf("WaitStream after cancel = %v, want the stream error with the attempts", err)
	}
}
