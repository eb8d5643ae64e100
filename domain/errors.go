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
	// Problems maps a field path to what each of its messages says, as
	// data (same order as Fields), so a surface can word a problem its own
	// way without matching the text. A message added without one (or to a
	// ValidationError built by hand) reads as CodeInvalid.
	Problems map[string][]Problem
}

// Code says which rule a field's value breaks.
type Code string

// The codes of field problems.
const (
	// CodeInvalid is any problem without a more precise code.
	CodeInvalid Code = "invalid"
	// CodeRequired: the field is missing or blank.
	CodeRequired Code = "required"
	// CodeNotOneOf: the value is not one of the listed choices.
	CodeNotOneOf Code = "not_one_of"
	// CodeTooMany: a count is over what the amount allows (more
	// installments than minor units outstanding).
	CodeTooMany Code = "too_many"
	// CodeUnknown: the value names something that does not exist (an
	// attached price id that no price of the account has).
	CodeUnknown Code = "unknown"
)

// Problem is one field problem as data.
type Problem struct {
	Code Code
	// Rule is the message without its subject when the message reads
	// "The {field} {Rule}" ("must be a date in YYYY-MM-DD format."), so a
	// surface can name the field in its own words; "" otherwise.
	Rule string
}

// Add records msg for field, after any messages already recorded for it,
// as a CodeInvalid problem.
func (e *ValidationError) Add(field, msg string) {
	e.add(field, msg, Problem{Code: CodeInvalid})
}

// AddRule records the message "The {field} {rule}" for field with code.
func (e *ValidationError) AddRule(field string, code Code, rule string) {
	e.add(field, "The "+field+" "+rule, Problem{Code: code, Rule: rule})
}

// Require records that field is required ("The {field} field is
// required.").
func (e *ValidationError) Require(field string) {
	e.AddRule(field, CodeRequired, "field is required.")
}

func (e *ValidationError) add(field, msg string, pr Problem) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	if e.Problems == nil {
		e.Problems = make(map[string][]Problem)
	}
	e.Fields[field] = append(e.Fields[field], msg)
	e.Problems[field] = append(e.Problems[field], pr)
}

// Problem returns what the i-th message of field says: CodeInvalid and no
// Rule for a message recorded without one.
func (e *ValidationError) Problem(field string, i int) Problem {
	if prs := e.Problems[field]; i < len(prs) && len(prs) == len(e.Fields[field]) {
		return prs[i]
	}
	return Problem{Code: CodeInvalid}
}

// Merge adds every problem of other to e, keeping their codes.
func (e *ValidationError) Merge(other *ValidationError) {
	if other == nil {
		return
	}
	for field, msgs := range other.Fields {
		for i, m := range msgs {
			e.add(field, m, other.Problem(field, i))
		}
	}
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
