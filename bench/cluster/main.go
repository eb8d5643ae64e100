// Command cluster runs goodplan's cluster shape on one machine (make
// cluster): three nats-server processes as one JetStream cluster (routes on
// loopback, stores under DIR), three `goodplan serve` replicas on one
// PostgreSQL database with the event stream at 3 replicas, and a
// round-robin reverse proxy on one port in front of them. The processes
// outlive the command; their pids are in DIR/pids, and `stop` ends exactly
// those.
//
//	cluster up [-dir data/cluster] [-port 8080] [-db URL] [-goodplan bin/goodplan]
//	cluster stop [-dir data/cluster]
//	cluster proxy -listen ADDR -backends URL,URL,...   (started by up)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"goodplan/bench/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cluster up|stop|proxy [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(ctx, os.Args[2:])
	case "stop":
		err = down(os.Args[2:])
	case "proxy":
		err = proxy(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want up, stop or proxy", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster up", flag.ContinueOnError)
	dir := fs.String("dir", "data/cluster", "JetStream stores, replica data, logs and the pids file")
	port := fs.Int("port", 8080, "the proxy's port on 127.0.0.1")
	db := fs.String("db", "postgres://postgres@127.0.0.1:5432/goodplan_cluster?sslmode=disable", "the one PostgreSQL database")
	bin := fs.String("goodplan", "bin/goodplan", "the goodplan binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pidsFile := filepath.Join(*dir, "pids")
	if _, err := os.Stat(pidsFile); err == nil {
		return fmt.Errorf("%s exists: a cluster is running (make cluster-stop first)", pidsFile)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	goodplan, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	public := fmt.Sprintf("http://127.0.0.1:%d", *port)
	fmt.Fprintln(os.Stderr, "starting 3 NATS nodes and 3 goodplan replicas under", *dir)
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir, Goodplan: goodplan, DatabaseURL: *db, PublicURL: public,
		Detach: true, Env: []string{"SMTP_URL=", "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true"}})
	if err != nil {
		return err
	}
	px := &cluster.Proc{Name: "proxy", Path: self, Detach: true, LogPath: filepath.Join(*dir, "proxy.log"),
		Args: []string{"proxy", "-listen", fmt.Sprintf("127.0.0.1:%d", *port), "-backends", strings.Join(c.Backends, ",")}}
	if err := px.Start(); err != nil {
		c.Stop()
		return err
	}
	var lines []string
	for _, p := range append(c.Procs(), px) {
		lines = append(lines, fmt.Sprintf("%d %s %s", p.Pid(), p.Name, p.Path))
	}
	if err := os.WriteFile(pidsFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		c.Stop()
		px.Stop(5 * time.Second)
		return err
	}
	if err := waitHTTP(ctx, public+"/api/health", time.Minute); err != nil {
		return fmt.Errorf("proxy: %w (its log: %s; make cluster-stop ends the rest)", err, px.LogPath)
	}
	acct, err := c.Goodplan(ctx, "accounts", "create", "--name", "Cluster Demo")
	if err != nil {
		return fmt.Errorf("accounts create: %w: %s", err, acct)
	}
	key, err := c.Goodplan(ctx, "apikeys", "create", "--account", acct)
	if err != nil {
		return fmt.Errorf("apikeys create: %w: %s", err, key)
	}
	fmt.Printf("cluster up: proxy %s -> %s\n", public, strings.Join(c.Backends, " "))
	fmt.Printf("NATS: %s (stream GOODPLAN_EVENTS, 3 replicas)\n", strings.Join(c.NATSURLs, ","))
	fmt.Printf("pids: %s; logs: %s/*.log; stop: make cluster-stop\n", pidsFile, *dir)
	fmt.Printf("account %s, API key (shown once):\nexport GOODPLAN_API_KEY=%s\n", acct, key)
	fmt.Printf(`curl -X POST %s/api/v1/plans -H "Authorization: Bearer $GOODPLAN_API_KEY" -H "Content-Type: application/json" -d '{"customer":{"name":"Jane Doe","email":"jane@example.com"},"invoice":{"amount":"1200.00","invoice_number":"INV-1001"}}'`+"\n", public)
	return nil
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 in %s", url, limit)
}

// down ends the processes listed in DIR/pids, proxy and replicas first.
func down(args []string) error {
	fs := flag.NewFlagSet("cluster stop", flag.ContinueOnError)
	dir := fs.String("dir", "data/cluster", "the directory given to up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pidsFile := filepath.Join(*dir, "pids")
	b, err := os.ReadFile(pidsFile)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Println("no cluster running (no", pidsFile+")")
		return nil
	} else if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var failed []string
	for i := len(lines) - 1; i >= 0; i-- { // proxy, replicas, then NATS
		f := strings.Fields(lines[i])
		if len(f) != 3 {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		err := cluster.StopPid(pid, filepath.Base(f[2]), 20*time.Second)
		switch {
		case err == nil:
			fmt.Printf("stopped %s (pid %d)\n", f[1], pid)
		case cluster.IsNotRunning(err):
			fmt.Printf("%s (pid %d) was not running\n", f[1], pid)
		default:
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return os.Remove(pidsFile)
}

func proxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster proxy", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address")
	backends := fs.String("backends", "", "comma-separated replica URLs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := cluster.NewProxy(strings.Split(*backends, ","))
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
