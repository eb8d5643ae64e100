package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Event is something that happened to a plan. Events are immutable facts
// named in the past tense; their type names are stable (Good Plan's
// vocabulary) and are never renamed: a changed fact is a new event type.
type Event interface {
	// EventType returns the stable type name, e.g. "plan.created".
	EventType() string
}

// Event type names, as stored in the event store and used in NATS subjects
// and webhooks.
const (
	// EventPlanCreated is the type of PlanCreated.
	EventPlanCreated = "plan.created"
)

// PlanCreated records that a merchant created a plan for an invoice, with the
// schedule options offered to the customer. Its JSON form is the stored event
// data.
type PlanCreated struct {
	PlanID                int64     `json:"plan_id"`
	AccountID             int64     `json:"account_id"`
	PortalToken           string    `json:"portal_token"`
	Customer              Customer  `json:"customer"`
	Invoice               Invoice   `json:"invoice"`
	Options               []Option  `json:"plan_options"`
	SendIntroductionEmail bool      `json:"send_introduction_email"`
	CreatedAt             time.Time `json:"created_at"` // UTC, the command's Now
}

// EventType returns EventPlanCreated.
func (PlanCreated) EventType() string { return EventPlanCreated }

// WebhookEventTypes are the event types told to the outside world, Good
// Plan's vocabulary (DESIGN.md section 5): a webhook endpoint subscribes to
// some of them. Events of other types (introduction_email.sent,
// plan_email.requested, say) stay inside goodplan.
var WebhookEventTypes = []string{
	EventPlanCreated,
	EventPlanActivated,
	EventPlanCompleted,
	EventPlanAbandoned,
	EventPlanCancelled,
	EventPlanWrittenOff,
	EventPlanReactivated,
	EventInstallmentPaid,
	EventInstallmentConfirmed,
	EventInstallmentExtensionGranted,
	EventInstallmentDeferred,
	EventProposalCreated,
	EventProposalApproved,
	EventProposalCountered,
	EventProposalDeclined,
	EventProposalCounterAccepted,
}

// IsWebhookEventType reports whether typ is one of WebhookEventTypes.
func IsWebhookEventType(typ string) bool { return slices.Contains(WebhookEventTypes, typ) }

// decoders maps each known event type to a function decoding its data into
// the concrete (value) event type.
var decoders = map[string]func([]byte) (Event, error){
	EventPlanCreated:                      decode[PlanCreated],
	EventIntroductionEmailSent:            decode[IntroductionEmailSent],
	EventIntroductionEmailFailed:          decode[IntroductionEmailFailed],
	EventIntroductionEmailResendRequested: decode[IntroductionEmailResendRequested],

	EventPlanActivated:         decode[PlanActivated],
	EventPlanCompleted:         decode[PlanCompleted],
	EventPlanAbandoned:         decode[PlanAbandoned],
	EventPlanCancelled:         decode[PlanCancelled],
	EventPlanWrittenOff:        decode[PlanWrittenOff],
	EventPlanReactivated:       decode[PlanReactivated],
	EventPortalLinkRegenerated: decode[PortalLinkRegenerated],

	EventInstallmentPaid:             decode[InstallmentPaid],
	EventInstallmentConfirmed:        decode[InstallmentConfirmed],
	EventInstallmentExtensionGranted: decode[InstallmentExtensionGranted],
	EventInstallmentDeferred:         decode[InstallmentDeferred],
	EventPaymentRejected:             decode[PaymentRejected],

	EventProposalCreated:         decode[ProposalCreated],
	EventProposalApproved:        decode[ProposalApproved],
	EventProposalCountered:       decode[ProposalCountered],
	EventProposalDeclined:        decode[ProposalDeclined],
	EventProposalCounterAccepted: decode[ProposalCounterAccepted],

	EventNotificationRequested: decode[NotificationRequested],
	EventNotificationSent:      decode[NotificationSent],
	EventNotificationFailed:    decode[NotificationFailed],

	EventPlanEmailRequested: decode[PlanEmailRequested],
	EventPlanEmailSent:      decode[PlanEmailSent],
	EventPlanEmailFailed:    decode[PlanEmailFailed],

	EventCatalogPlanCreated: decode[CatalogPlanCreated],
	EventCatalogPlanUpdated: decode[CatalogPlanUpdated],
	EventCatalogPlanDeleted: decode[CatalogPlanDeleted],

	EventPlanGroupCreated: decode[PlanGroupCreated],
	EventPlanGroupUpdated: decode[PlanGroupUpdated],
	EventPlanGroupDeleted: decode[PlanGroupDeleted],
}

func decode[T Event](data []byte) (Event, error) {
	var e T
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return e, nil
}

// MarshalEvent returns the type name and the JSON data (encoding/json of the
// event struct) to store for e.
func MarshalEvent(e Event) (typ string, data []byte, err error) {
	if e == nil {
		return "", nil, errors.New("marshal event: nil event")
	}
	typ = e.EventType()
	data, err = json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("marshal %s: %w", typ, err)
	}
	return typ, data, nil
}

// UnmarshalEvent decodes data stored under typ into its concrete event type
// (a value, e.g. PlanCreated, not *PlanCreated). It returns an error wrapping
// ErrUnknownEventType, naming the type, for a type this version does not know.
func UnmarshalEvent(typ string, data []byte) (Event, error) {
	dec, ok := decoders[typ]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, typ)
	}
	e, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("unmarshal %s: %w", typ, err)
	}
	return e, nil
}
