package domain

import "strconv"

// What one plan may accumulate is capped. Every event stays in the store
// forever, but the plan's state (what every command folds, what its read
// model row and its API body hold) grows only with these lists, so each is
// bounded far above any real plan's needs; a command past a cap is a
// *ConflictError (HTTP 409) naming it, and nothing is recorded. The
// history (every event) is not capped: it is read a page at a time, and no
// command folds it whole (see PlanSnapshotSchema).
const (
	// MaxPayments caps the payments of a plan, reported, recorded or
	// rejected: a plan has at most 96 installments, and each payment is
	// kept on the plan (and emails the customer when confirmed).
	MaxPayments = 500
	// MaxProposals caps the schedules a customer may propose for one
	// plan: each is kept with its schedule and answer.
	MaxProposals = 50
	// MaxDueDateChanges caps the extensions granted and installments
	// deferred on one plan: each emails the customer.
	MaxDueDateChanges = 200
	// MaxPortalLinks caps the portal links regenerated for one plan: each
	// emails the customer the new link and is kept with the plan's emails.
	MaxPortalLinks = 100
	// MaxIntroductionResends caps the introduction emails sent again.
	MaxIntroductionResends = 50
)

// capReached is the *ConflictError of a command that would go past cap
// (n things of what already on the plan), nil below it.
func capReached(n, cap int, what string) error {
	if n < cap {
		return nil
	}
	return &ConflictError{Msg: "This plan already has " + strconv.Itoa(n) + " " + what +
		", the most one plan may have (" + strconv.Itoa(cap) + ")."}
}
