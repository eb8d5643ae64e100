package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/bench/internal/cluster"
)

// pgCluster is the PostgreSQL cluster the soak writes to and restarts, in
// Debian's naming (pg_lsclusters, pg_ctlcluster): "main" is the machine's
// own, shared with everything else on it; any other name is a private
// cluster the soak creates on a free loopback port when it is missing (and
// drops at the end unless -keep), so a long soak's restarts stop nobody
// else's PostgreSQL.
type pgCluster struct {
	version, name string
	port          int
	created       bool
}

// openPGCluster finds (or creates) the cluster name and starts it when it
// is down.
func openPGCluster(ctx context.Context, name string) (*pgCluster, error) {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		return nil, fmt.Errorf("no /etc/postgresql (Debian's PostgreSQL packaging): %v", err)
	}
	p := &pgCluster{version: versions[0].Name(), name: name}
	port, online, found, err := p.status(ctx)
	if err != nil {
		return nil, err
	}
	if !found {
		if name == "main" {
			return nil, fmt.Errorf("PostgreSQL %s has no cluster main", p.version)
		}
		if port, err = cluster.FreePort(); err != nil {
			return nil, err
		}
		// Trust on loopback and the socket, like the machine's own; it
		// listens on localhost (the default).
		out, err := exec.CommandContext(ctx, "pg_createcluster", p.version, name, "-p", strconv.Itoa(port),
			"-o", "max_connections=200",
			"--", "--auth-local=trust", "--auth-host=trust").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("pg_createcluster %s %s: %v: %s", p.version, name, err, out)
		}
		p.created = true
	}
	p.port = port
	if !online {
		if out, err := p.ctl(ctx, "start"); err != nil {
			p.drop()
			return nil, fmt.Errorf("pg_ctlcluster start: %v: %s", err, out)
		}
	}
	if err := p.waitReady(ctx, time.Minute); err != nil {
		p.drop()
		return nil, err
	}
	return p, nil
}

// status reads the cluster's line of pg_lsclusters.
func (p *pgCluster) status(ctx context.Context) (port int, online, found bool, err error) {
	out, err := exec.CommandContext(ctx, "pg_lsclusters", "--no-header").Output()
	if err != nil {
		return 0, false, false, fmt.Errorf("pg_lsclusters: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[0] != p.version || f[1] != p.name {
			continue
		}
		port, err := strconv.Atoi(f[2])
		if err != nil {
			return 0, false, false, fmt.Errorf("pg_lsclusters: port %q", f[2])
		}
		return port, f[3] == "online", true, nil
	}
	return 0, false, false, nil
}

func (p *pgCluster) ctl(ctx context.Context, action string) ([]byte, error) {
	return exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", p.version, p.name, action).CombinedOutput()
}

// restart is the pg-restart fault: a clean (fast) restart of the cluster.
func (p *pgCluster) restart(ctx context.Context) error {
	if out, err := p.ctl(ctx, "restart"); err != nil {
		return fmt.Errorf("pg_ctlcluster restart: %v: %s", err, out)
	}
	return nil
}

// url is the connection string of database db on the cluster.
func (p *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

func (p *pgCluster) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgx.Connect(cctx, p.url("postgres"))
		if err == nil {
			err = conn.Ping(cctx)
			_ = conn.Close(cctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("PostgreSQL %s/%s on port %d not answering after %s: %w", p.version, p.name, p.port, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// drop removes a cluster the soak created (stopping it first); the
// machine's own and any cluster found already there are left alone.
func (p *pgCluster) drop() {
	if !p.created {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "pg_dropcluster", "--stop", p.version, p.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: pg_dropcluster %s %s: %v: %s\n", p.version, p.name, err, out)
	}
}
