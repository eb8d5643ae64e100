package domain

import (
	"maps"
	"slices"
)

// EventTypeNames returns every event type UnmarshalEvent knows, sorted, so
// the codec fuzz target can prove it builds each one.
func EventTypeNames() []string { return slices.Sorted(maps.Keys(decoders)) }

// ParseInstallmentFast is the hand-written fast path of
// Installment.UnmarshalJSON, for its differential fuzz target.
var ParseInstallmentFast = parseInstallment
