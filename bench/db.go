package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/eventstore"
)

// defaultAdminURL is the server the harness creates its databases on when
// BENCH_DATABASE_URL is not set.
const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// databases creates the harness's databases (goodplan_bench_<unix>_<n>) and
// drops every one of them at the end, also after a failure or an interrupt.
type databases struct {
	admin string
	stamp int64
	n     atomic.Int64

	mu      sync.Mutex
	created []string
}

func newDatabases() *databases {
	admin := os.Getenv("BENCH_DATABASE_URL")
	if admin == "" {
		admin = defaultAdminURL
	}
	return &databases{admin: admin, stamp: time.Now().Unix()}
}

// urlFor returns the URL of database name on the admin URL's server.
func (d *databases) urlFor(name string) (string, error) {
	u, err := url.Parse(d.admin)
	if err != nil {
		return "", fmt.Errorf("BENCH_DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// create makes a new empty database, registered for dropping, and returns
// its URL. With migrate, the goodplan schema is applied.
func (d *databases) create(ctx context.Context, migrate bool) (string, error) {
	name := fmt.Sprintf("goodplan_bench_%d_%d", d.stamp, d.n.Add(1))
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL at BENCH_DATABASE_URL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	d.mu.Lock()
	d.created = append(d.created, name)
	d.mu.Unlock()
	dbURL, err := d.urlFor(name)
	if err != nil {
		return "", err
	}
	if migrate {
		if _, err := eventstore.Migrate(ctx, dbURL); err != nil {
			return "", fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return dbURL, nil
}

// dropAll drops every database created, forcibly (open sessions are ended).
func (d *databases) dropAll() {
	d.mu.Lock()
	names := d.created
	d.created = nil
	d.mu.Unlock()
	if len(names) == 0 {
		return
	}
	if os.Getenv("BENCH_KEEP_DATABASES") != "" {
		progress("cleanup: BENCH_KEEP_DATABASES is set; kept %v", names)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		progress("cleanup: cannot connect to drop %v: %v", names, err)
		return
	}
	defer conn.Close(context.Background())
	for _, name := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			progress("cleanup: drop %s: %v", name, err)
		}
	}
	progress("cleanup: dropped %d bench databases", len(names))
}

// openPool opens a pool of at most maxConns connections on dbURL.
func openPool(ctx context.Context, dbURL string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return pool, nil
}

// serverInfo reads what the results record about PostgreSQL.
func serverInfo(ctx context.Context, admin string) (version, syncCommit, sharedBuffers string, err error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", "", "", fmt.Errorf("connect to PostgreSQL at BENCH_DATABASE_URL: %w", err)
	}
	defer conn.Close(context.Background())
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('synchronous_commit'),
		current_setting('shared_buffers')`).Scan(&version, &syncCommit, &sharedBuffers)
	return version, syncCommit, sharedBuffers, err
}
