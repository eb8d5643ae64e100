package eventstore_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// A DATABASE_URL with the pool's own parameters (pool_max_conns, which the
// README documents) is accepted by EnsureDatabase and Migrate too: before,
// PostgreSQL refused the parameter and `serve` could not start (found by
// the chaos soak's cluster, which sizes each replica's pool).
func TestMigrateAcceptsPoolParameters(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u := pgtest.NewDatabase(t) + "&pool_max_conns=5&pool_min_conns=1"
	if err := eventstore.EnsureDatabase(ctx, u); err != nil {
		t.Fatalf("EnsureDatabase: %v", err)
	}
	v, err := eventstore.Migrate(ctx, u)
	if err != nil || v == 0 {
		t.Fatalf("Migrate: version %d, %v", v, err)
	}
	// A missing database is created through the same URL shape.
	name := "goodplan_test_pool_" + time.Now().UTC().Format("150405000000")
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	mu, err := url.Parse(pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	mu.Path = "/" + name
	q := mu.Query()
	q.Set("pool_max_conns", "5")
	mu.RawQuery = q.Encode()
	missing := mu.String()
	if err := eventstore.EnsureDatabase(ctx, missing); err != nil {
		t.Fatalf("EnsureDatabase of a missing database: %v", err)
	}
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("database %s: %d, %v", name, n, err)
	}
}
