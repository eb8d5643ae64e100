package api

import (
	"testing"

	"goodplan/domain"
)

// The portal words a domain problem by its field and code: a new wording
// of the domain's message cannot break it.
func TestPortalWordingByCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		field string
		pr    domain.Problem
		msg   string
		want  string
	}{
		{"installments", domain.Problem{Code: domain.CodeTooMany, Rule: "may exceed nothing, reworded."}, "The installments may exceed nothing, reworded.",
			"That is more payments than the amount still to pay allows."},
		{"installments", domain.Problem{Code: domain.CodeInvalid, Rule: "must be odd."}, "The installments must be odd.",
			"The number of payments must be odd."},
		{"amount", domain.Problem{Code: domain.CodeRequired, Rule: "is needed."}, "The amount is needed.", "Enter the amount you paid."},
		{"amount", domain.Problem{Code: domain.CodeInvalid, Rule: "must be a number."}, "The amount must be a number.", "The amount must be a number."},
		{"paid_on", domain.Problem{Code: domain.CodeInvalid}, "Hand-made message.", "Hand-made message."},
	} {
		if got := portalWording(c.field, c.pr, c.msg); got != c.want {
			t.Errorf("portalWording(%s, %+v) = %q, want %q", c.field, c.pr, got, c.want)
		}
	}
}
