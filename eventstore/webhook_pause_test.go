package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/eventstore"
)

// TestWebhookPauseSkipsAndResumes: pausing an endpoint stops its pending
// deliveries and leaves it out of the fan-out; a delivery enqueued anyway
// is failed when claimed, and a resend or a test delivery is refused, until
// it is resumed; another account cannot pause it.
func TestWebhookPauseSkipsAndResumes(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	acct, other := whAccount(t, s, "A"), whAccount(t, s, "B")
	ep, live := whEndpoint(t, s, acct), whEndpoint(t, s, acct)
	whEnqueue(t, s, ep.ID)

	if _, err := s.PauseEndpoint(ctx, other, ep.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("pause by another account: %v", err)
	}
	paused, err := s.PauseEndpoint(ctx, acct, ep.ID)
	if err != nil || paused.PausedAt == nil {
		t.Fatalf("pause: %+v %v", paused, err)
	}
	again, err := s.PauseEndpoint(ctx, acct, ep.ID)
	if err != nil || !again.PausedAt.Equal(*paused.PausedAt) {
		t.Fatalf("pause twice: %+v %v (keeps the first time)", again, err)
	}
	ds, err := s.DeliveriesBefore(ctx, acct, ep.ID, 0, 10)
	if err != nil || len(ds) != 1 || ds[0].State != eventstore.DeliveryFailed {
		t.Fatalf("the pending delivery was not stopped: %+v %v", ds, err)
	}
	got, err := s.EndpointsFor(ctx, acct, "plan.created")
	if err != nil || len(got) != 1 || got[0].ID != live.ID {
		t.Fatalf("fan-out endpoints while paused: %+v %v", got, err)
	}
	// A delivery enqueued by a fan-out that read the endpoint before the
	// pause is failed, not sent.
	whEnqueue(t, s, ep.ID)
	if claimed, err := s.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{}); err != nil || len(claimed) != 0 {
		t.Fatalf("claimed for a paused endpoint: %+v %v", claimed, err)
	}
	if _, err := s.Resend(ctx, acct, ep.ID, ds[0].ID); !errors.Is(err, eventstore.ErrEndpointPaused) {
		t.Fatalf("resend while paused: %v", err)
	}
	test := eventstore.NewDelivery{EndpointID: ep.ID, EventID: uuid.New(), EventType: "webhook.test", Payload: []byte(`{}`)}
	if _, err := s.EnqueueTest(ctx, acct, test); !errors.Is(err, eventstore.ErrEndpointPaused) {
		t.Fatalf("test delivery while paused: %v", err)
	}

	resumed, err := s.ResumeEndpoint(ctx, acct, ep.ID)
	if err != nil || resumed.PausedAt != nil {
		t.Fatalf("resume: %+v %v", resumed, err)
	}
	if got, _ := s.EndpointsFor(ctx, acct, "plan.created"); len(got) != 2 {
		t.Fatalf("fan-out endpoints after resuming: %+v", got)
	}
	if _, err := s.EnqueueTest(ctx, other, test); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("test delivery to another account's endpoint: %v", err)
	}
	d, err := s.EnqueueTest(ctx, acct, test)
	if err != nil || d.State != eventstore.DeliveryPending || d.EventType != "webhook.test" {
		t.Fatalf("test delivery: %+v %v", d, err)
	}
	if _, err := s.Resend(ctx, acct, ep.ID, ds[0].ID); err != nil {
		t.Fatalf("resend after resuming: %v", err)
	}
	if claimed, err := s.ClaimDue(ctx, 10, time.Now().Add(time.Second), time.Minute, eventstore.ClaimOptions{}); err != nil || len(claimed) != 2 {
		t.Fatalf("claimed after resuming: %d %v", len(claimed), err)
	}
	if _, err := s.ResumeEndpoint(ctx, other, ep.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("resume by another account: %v", err)
	}
}
