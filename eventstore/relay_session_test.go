package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

func openRelaySession(t *testing.T, s *eventstore.Store, name string) *eventstore.RelaySession {
	t.Helper()
	session, err := s.OpenRelaySession(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(session.Close)
	return session
}

// One session leads at a time; closing it frees the lock for another.
func TestRelaySessionLeadership(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	first := openRelaySession(t, s, "relay")
	second := openRelaySession(t, s, "relay")
	if ok, err := first.TryLead(ctx); err != nil || !ok {
		t.Fatalf("first session: lead %v, %v; want the lock", ok, err)
	}
	if ok, err := second.TryLead(ctx); err != nil || ok {
		t.Fatalf("second session: lead %v, %v; want standby", ok, err)
	}
	// The server frees the lock when it has ended the first session, a
	// moment after Close returns.
	first.Close()
	pgtest.WaitForNil(t, 10*time.Second, "the second session to take the lock after the first closed", func() error {
		ok, err := second.TryLead(ctx)
		if err == nil && !ok {
			err = errors.New("standby")
		}
		return err
	})
}

// The checkpoint starts missing, the publishing mark is durable, and a save
// only moves the checkpoint forward and clears the mark.
func TestRelaySessionCheckpoint(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	session := openRelaySession(t, s, "relay")
	if _, _, err := session.Checkpoint(ctx); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("checkpoint before any save: %v, want ErrNotFound", err)
	}
	if err := session.MarkPublishing(ctx); err != nil {
		t.Fatal(err)
	}
	if c, publishing, err := session.Checkpoint(ctx); err != nil || !publishing || c != (eventstore.Cursor{}) {
		t.Fatalf("after the mark: %+v publishing %v, %v", c, publishing, err)
	}
	at := eventstore.Cursor{TxID: 900, Position: 12}
	if err := session.SaveCheckpoint(ctx, at); err != nil {
		t.Fatal(err)
	}
	if err := session.SaveCheckpoint(ctx, eventstore.Cursor{TxID: 900, Position: 11}); err != nil {
		t.Fatal(err)
	}
	if c, publishing, err := session.Checkpoint(ctx); err != nil || publishing || c != at {
		t.Fatalf("after saves at %+v then behind it: %+v publishing %v, %v", at, c, publishing, err)
	}
	other := openRelaySession(t, s, "other")
	if _, _, err := other.Checkpoint(ctx); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("another relay's checkpoint: %v, want ErrNotFound", err)
	}
}

// IsEventAt holds only for the event's own id at its own place.
func TestRelaySessionIsEventAt(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	recs, err := s.Append(ctx, "plan-1", eventstore.Head{}, events(2, "t.a"), eventstore.Metadata{AccountID: 1})
	if err != nil {
		t.Fatal(err)
	}
	session := openRelaySession(t, s, "relay")
	for _, tc := range []struct {
		id   string
		at   eventstore.Cursor
		want bool
	}{
		{recs[1].EventID.String(), recs[1].Cursor(), true},
		{recs[0].EventID.String(), recs[1].Cursor(), false},
		{recs[1].EventID.String(), eventstore.Cursor{TxID: recs[1].TxID, Position: recs[1].Position + 1}, false},
		{recs[1].EventID.String(), eventstore.Cursor{TxID: recs[1].TxID + 1, Position: recs[1].Position}, false},
	} {
		if got, err := session.IsEventAt(ctx, tc.id, tc.at); err != nil || got != tc.want {
			t.Errorf("IsEventAt(%s, %+v) = %v, %v; want %v", tc.id, tc.at, got, err, tc.want)
		}
	}
}
