package eventstore

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors of the store. Callers test them with errors.Is.
var (
	// ErrNotFound: the stream, command, account or key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrVersionConflict: the stream is not at the expected version; nothing was written.
	ErrVersionConflict = errors.New("version conflict")
	// ErrDuplicateCommand: the command id was already appended; nothing was
	// written. LookupCommand returns the first result.
	ErrDuplicateCommand = errors.New("command already applied")
	// ErrPlanLimitReached: the account's plan limit is used up; nothing was written.
	ErrPlanLimitReached = errors.New("plan limit reached")
	// ErrEventTooLarge: one event's data and metadata together are over
	// MaxEventBytes; nothing was written.
	ErrEventTooLarge = errors.New("event too large")
	// ErrCatalogIDTaken: a catalog plan not deleted of the account already
	// has the public id (see WithCatalogPlanID); nothing was written.
	ErrCatalogIDTaken = errors.New("catalog plan id already taken")
	// ErrNoEvents: Append was called with no events.
	ErrNoEvents = errors.New("no events to append")
)

// interpretError maps driver errors to the store's sentinels, once, by
// SQLSTATE and constraint name. Unknown errors are returned unchanged.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		switch pgErr.ConstraintName {
		case "commands_pkey":
			return ErrDuplicateCommand
		case "events_stream_version_key", "streams_pkey":
			return ErrVersionConflict
		case "catalog_plan_ids_live_key":
			return ErrCatalogIDTaken
		case "users_email_key":
			return ErrEmailTaken
		}
	case "23514": // check_violation
		if pgErr.ConstraintName == "accounts_plan_quota_check" {
			return ErrPlanLimitReached
		}
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %s", ErrNotFound, pgErr.Detail)
	}
	return err
}
