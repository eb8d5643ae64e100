package domain

import "slices"

// CatalogWebhookEventTypes are the catalog's event types a webhook endpoint
// may subscribe to, by naming them or with AllWebhookEvents. An endpoint
// that names no type does not get them: it keeps receiving exactly Good
// Plan's WebhookEventTypes.
var CatalogWebhookEventTypes = []string{
	EventCatalogPlanCreated,
	EventCatalogPlanUpdated,
	EventCatalogPlanDeleted,
	EventPlanGroupCreated,
	EventPlanGroupUpdated,
	EventPlanGroupDeleted,
}

// WebhookTestEvent is the type of a test delivery a merchant sends to one
// endpoint (dashboard, POST /api/v1/webhook-endpoints/{id}/test). It is
// never an event of the store and no endpoint subscribes to it.
const WebhookTestEvent = "webhook.test"

// AllWebhookEvents, named in an endpoint's events, subscribes it to every
// type of WebhookEventTypes and CatalogWebhookEventTypes.
const AllWebhookEvents = "*"

// IsSubscribableEventType reports whether a webhook endpoint may name typ:
// one of WebhookEventTypes or CatalogWebhookEventTypes.
func IsSubscribableEventType(typ string) bool {
	return IsWebhookEventType(typ) || slices.Contains(CatalogWebhookEventTypes, typ)
}

// SubscribesTo reports whether an endpoint whose events are events gets
// an event of typ: no events means Good Plan's WebhookEventTypes (what
// every endpoint got before the catalog existed); AllWebhookEvents means
// every subscribable type; otherwise the types named.
func SubscribesTo(events []string, typ string) bool {
	switch {
	case len(events) == 0:
		return IsWebhookEventType(typ)
	case slices.Contains(events, AllWebhookEvents):
		return IsSubscribableEventType(typ)
	}
	return slices.Contains(events, typ)
}
