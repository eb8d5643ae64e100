package domain_test

import (
	"testing"

	"goodplan/domain"
)

// TestSubscribesTo: no types means Good Plan's 16 alone, "*" every
// subscribable type (never an internal one), otherwise the types named.
func TestSubscribesTo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		events []string
		typ    string
		want   bool
	}{
		{nil, domain.EventPlanCreated, true},
		{nil, domain.EventProposalCounterAccepted, true},
		{nil, domain.EventCatalogPlanCreated, false},
		{[]string{}, domain.EventPlanGroupDeleted, false},
		{nil, domain.EventIntroductionEmailSent, false},
		{[]string{"*"}, domain.EventPlanCreated, true},
		{[]string{"*"}, domain.EventCatalogPlanUpdated, true},
		{[]string{"*"}, domain.EventPlanGroupCreated, true},
		{[]string{"*"}, domain.EventIntroductionEmailSent, false},
		{[]string{"*"}, "plan.exploded", false},
		{[]string{domain.EventPlanGroupCreated}, domain.EventPlanGroupCreated, true},
		{[]string{domain.EventPlanGroupCreated}, domain.EventPlanGroupUpdated, false},
		{[]string{domain.EventPlanGroupCreated}, domain.EventPlanCreated, false},
		{[]string{domain.EventPlanCreated}, domain.EventCatalogPlanCreated, false},
	} {
		if got := domain.SubscribesTo(c.events, c.typ); got != c.want {
			t.Errorf("SubscribesTo(%q, %s) = %v, want %v", c.events, c.typ, got, c.want)
		}
	}
	if len(domain.WebhookEventTypes) != 16 {
		t.Fatalf("Good Plan has 16 webhook types, not %d", len(domain.WebhookEventTypes))
	}
	for _, typ := range domain.CatalogWebhookEventTypes {
		if !domain.IsSubscribableEventType(typ) || domain.IsWebhookEventType(typ) {
			t.Errorf("%s: subscribable %v, a default type %v", typ, domain.IsSubscribableEventType(typ), domain.IsWebhookEventType(typ))
		}
	}
}
