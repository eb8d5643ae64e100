package domain

import (
	"errors"
	"sort"
	"strings"
)

// Sentinel errors for rule violations. Callers compare with errors.Is; the api
// package maps them to HTTP statuses in one place.
var (
	// ErrPlanExists is returned by CreatePlan when the plan already has events.
	ErrPlanExists = errors.New("plan already exists")
	// ErrPlanNotFound is returned by commands on a plan that does not exist.
	ErrPlanNotFound = errors.New("plan not found")

	// ErrInvalidAmount is returned by ParseMoney when the text is not a finite
	// decimal number (empty, malformed, NaN or infinite).
	ErrInvalidAmount = errors.New("invalid amount")

	// ErrTooManyDecimals is returned by ParseMoney when the amount has a nonzero
	// digit beyond the currency's minor units (e.g. "10.001" USD, "10.5" JPY).
	ErrTooManyDecimals = errors.New("too many decimal places for currency")

	// ErrAmountTooLarge is returned by ParseMoney when the absolute value of the
	// amount is above MaxAmountMajor major units.
	ErrAmountTooLarge = errors.New("amount too large")

	// ErrInvalidDate is returned by ParseDate when the text is not a valid
	// calendar date in strict YYYY-MM-DD form.
	ErrInvalidDate = errors.New("invalid date")

	// ErrDateOutOfRange is returned by Date.MarshalJSON for a year that
	// YYYY-MM-DD cannot hold; commands keep their dates within
	// MinDate..MaxDate.
	ErrDateOutOfRange = errors.New("date out of range")

	// ErrUnknownEventType is returned (wrapped with the type name) by
	// UnmarshalEvent for an event type this version does not know.
	ErrUnknownEventType = errors.New("unknown event type")
)

// ValidationError lists every field problem of a command at once, keyed by the
// field path as the client sent it (e.g. "customer.email"). It is rendered as
// the 422 body's "errors" object.
type ValidationError struct {
	// Fields maps a field path to its messages, in the order they were added.
	Fields map[string][]string
}

// Add records msg for field, after any messages already recorded for it.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Error returns the messages of all fields, fields sorted by path, so the text
// is deterministic.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("validation failed")
	for i, k := range keys {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// OrNil returns e as an error when it holds at least one message, and an
// untyped nil otherwise (so `err != nil` works as expected; a nil
// *ValidationError is also safe).
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// StateError is returned by a command that the plan's status does not
// allow, such as cancelling a completed plan. The api package shows it as a
// 409 whose message names the state.
type StateError struct {
	Action string // what was attempted, e.g. "cancel the plan"
	Status Status // the status that forbids it
}

// Error reads "cannot cancel the plan: the plan is completed".
func (e *StateError) Error() string {
	return "cannot " + e.Action + ": the plan is " + strings.ReplaceAll(string(e.Status), "_", " ")
}

// ConflictError is returned by a command that conflicts with the plan's
// current state in a way other than its status (a payment already
// confirmed, a proposal already answered). Msg is safe to show a client.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// NotFoundError is returned by a command naming a part of the plan that does
// not exist (an installment, payment, proposal or option). Msg is safe to
// show a client.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }
