package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The emails to a merchant's user (a password reset link, an invitation)
// go through the email worker like the customers' emails: the dashboard
// appends a request event to a stream of its own, the relay publishes it,
// and the worker mints the link's token when it sends (so the token lives
// only in the email and, hashed, in user_tokens) and records the outcome
// on the same stream, once, under a command id derived from the stream.

// Event types of a user email stream.
const (
	EventUserEmailRequested = "user_email.requested"
	EventUserEmailSent      = "user_email.sent"
	EventUserEmailFailed    = "user_email.failed"
)

// userEmailStreamPrefix starts every user email stream's id.
const userEmailStreamPrefix = "useremail-"

// UserEmailRequest is the data of EventUserEmailRequested: which user gets
// which link (Kind is TokenReset or TokenInvite).
type UserEmailRequest struct {
	UserID      int64     `json:"user_id"`
	Kind        string    `json:"kind"`
	RequestedAt time.Time `json:"requested_at"`
}

// UserEmailOutcome is the data of EventUserEmailSent (MessageID set) and
// EventUserEmailFailed (Reason and Attempts set).
type UserEmailOutcome struct {
	MessageID string    `json:"message_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	At        time.Time `json:"at"`
}

// IsUserEmailStream reports whether stream is a user email stream.
func IsUserEmailStream(stream string) bool { return strings.HasPrefix(stream, userEmailStreamPrefix) }

// RequestUserEmail asks the email worker to send user the link of kind
// (TokenReset or TokenInvite): one event on a new stream, with meta (whose
// AccountID must be the user's). It returns the stream's id.
func (s *Events) RequestUserEmail(ctx context.Context, u User, kind string, now time.Time, meta Metadata) (string, error) {
	if kind != TokenReset && kind != TokenInvite {
		return "", fmt.Errorf("request user email: unknown kind %q", kind)
	}
	data, err := json.Marshal(UserEmailRequest{UserID: u.ID, Kind: kind, RequestedAt: now.UTC()})
	if err != nil {
		return "", err
	}
	stream := userEmailStreamPrefix + uuid.NewString()
	if _, err := s.Append(ctx, stream, Head{}, []NewEvent{{ID: uuid.New(), Type: EventUserEmailRequested, Data: data}}, meta); err != nil {
		return "", fmt.Errorf("request user email: %w", err)
	}
	return stream, nil
}

// UserEmailOutcomeOf returns the recorded outcome of the user email stream
// (its type and data), or ok false while none is recorded.
func (s *Events) UserEmailOutcomeOf(ctx context.Context, stream string) (typ string, out UserEmailOutcome, ok bool, err error) {
	recs, _, err := s.Load(ctx, stream)
	if err != nil {
		return "", UserEmailOutcome{}, false, err
	}
	for _, r := range recs {
		if r.Type == EventUserEmailSent || r.Type == EventUserEmailFailed {
			if err := json.Unmarshal(r.Data, &out); err != nil {
				return "", UserEmailOutcome{}, false, fmt.Errorf("user email outcome %s: %w", r.EventID, err)
			}
			return r.Type, out, true, nil
		}
	}
	return "", UserEmailOutcome{}, false, nil
}

// RecordUserEmailOutcome appends the outcome (EventUserEmailSent or
// EventUserEmailFailed) to the user email stream, once: under a command id
// derived from the stream and after its request, so racing or repeated
// records append one event. A repeat is not an error.
func (s *Events) RecordUserEmailOutcome(ctx context.Context, stream, typ string, out UserEmailOutcome, meta Metadata) error {
	if typ != EventUserEmailSent && typ != EventUserEmailFailed {
		return fmt.Errorf("record user email outcome: unknown type %q", typ)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, head, err := s.Load(ctx, stream)
	if err != nil {
		return fmt.Errorf("record user email outcome: %w", err)
	}
	if head.Version != 1 {
		return nil // recorded already
	}
	meta.CommandID = "user-email-outcome:" + stream
	_, err = s.Append(ctx, stream, head, []NewEvent{{ID: uuid.New(), Type: typ, Data: data}}, meta)
	if errors.Is(err, ErrDuplicateCommand) || errors.Is(err, ErrVersionConflict) {
		return nil // recorded already (by this command, or a racing one)
	}
	if err != nil {
		return fmt.Errorf("record user email outcome: %w", err)
	}
	return nil
}
