package eventstore

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUnavailable reports whether err says PostgreSQL cannot be reached or
// will not take the connection right now (it is restarting or shutting
// down, a connection broke, too many clients), as opposed to a failure of
// the statement itself. The API answers such errors with 503 and
// Retry-After: a client retrying with the same Idempotency-Key is safe.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || // connection exception
			pe.Code == "53300" || // too_many_connections
			pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" // shutdown, crash shutdown, cannot connect now
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err)
}
