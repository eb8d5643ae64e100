package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// What the chaos soak's PostgreSQL restart and connection exhaustion
// produce is "unavailable" (a 503); a statement's own failure is not.
func TestIsUnavailable(t *testing.T) {
	// A real connect error: nothing listens on port 1.
	_, connErr := pgx.Connect(context.Background(), "postgres://postgres@127.0.0.1:1/x?connect_timeout=5")
	if connErr == nil {
		t.Fatal("connected to port 1")
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connect error", connErr, true},
		{"too many clients", &pgconn.PgError{Code: "53300"}, true},
		{"admin shutdown", fmt.Errorf("append: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"connection cut", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, false},
		{"not found", ErrNotFound, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
