package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"goodplan/eventstore"
	"goodplan/templates"
)

// A merchant user's one-time link email (an invitation to the dashboard, a
// password reset), requested by a user_email.requested event on a stream
// of its own (eventstore.RequestUserEmail). The link's token is made here,
// just before the send, so it exists only in the email and, hashed, in the
// store; a retried send makes a new one. The outcome is recorded on the
// stream once (eventstore.RecordUserEmailOutcome).

// UserLinkPath is the path of a user's one-time link of kind under the
// dashboard: "/dashboard/{kind}/{token}" (kind is eventstore.TokenInvite or
// TokenReset), after PUBLIC_URL.
func UserLinkPath(kind, token string) string { return "/dashboard/" + kind + "/" + token }

// handleUserEmail sends the link a user_email.requested event asks for; see
// Handle for what it returns.
func (w *EmailWorker) handleUserEmail(ctx context.Context, rec eventstore.Record) error {
	var req eventstore.UserEmailRequest
	if err := json.Unmarshal(rec.Data, &req); err != nil {
		return Permanent(fmt.Errorf("user email %s: %w", rec.EventID, err))
	}
	account, err := AccountOf(rec)
	if err != nil {
		return Permanent(err)
	}
	const what = "user link email"
	release, claimed, err := w.Store.TryLock(ctx, "user-email:"+rec.StreamID)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, err)
	}
	if !claimed {
		return RetryAfter(fmt.Errorf("%s %s: another worker is sending it", what, rec.StreamID), 2*time.Second)
	}
	defer release()
	if _, _, done, err := w.Store.UserEmailOutcomeOf(ctx, rec.StreamID); err != nil || done {
		return err
	}
	meta := eventstore.Metadata{AccountID: account, Actor: emailActor}
	record := func(ctx context.Context, typ string, out eventstore.UserEmailOutcome) error {
		out.At = w.now().UTC()
		return w.Store.RecordUserEmailOutcome(ctx, rec.StreamID, typ, out, meta)
	}
	fail := func(reason string) error {
		return record(ctx, eventstore.EventUserEmailFailed, eventstore.UserEmailOutcome{Reason: reason, Attempts: DeliveryAttempt(ctx)})
	}
	// A request that waited longer than a link lasts is stale: whoever
	// asked has given up on it, or asked again.
	if w.now().Sub(req.RequestedAt) > eventstore.UserTokenLifetime {
		return fail("the request is older than a link's lifetime")
	}
	acct, err := w.Store.AccountByID(ctx, account)
	if err != nil && !errors.Is(err, eventstore.ErrNotFound) {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, err)
	}
	u, err := w.Store.UserByID(ctx, account, req.UserID)
	if errors.Is(err, eventstore.ErrNotFound) {
		return fail("the user no longer exists")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, err)
	}
	_, token, err := w.Store.CreateUserToken(ctx, u.ID, req.Kind, w.now())
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, err)
	}
	r, err := templates.UserLink(templates.UserLinkData{Kind: req.Kind, AccountName: acct.Name, UserName: u.Name,
		Email: u.Email, URL: strings.TrimRight(w.PublicURL, "/") + UserLinkPath(req.Kind, token)})
	if err != nil {
		return fail("cannot build the email: " + err.Error())
	}
	email := Email{MessageID: messageID(rec.StreamID, w.PublicURL), FromHeader: w.from(), ToName: u.Name, ToAddress: u.Email,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML}
	log := logWith(ctx, w.logger()).With("stream", rec.StreamID, "kind", req.Kind, "user_id", u.ID, "message_id", email.MessageID)

	// As for the customers' emails: a send under way, and its record, are
	// not cut short by a shutdown.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendAndRecordTimeout)
	defer cancel()
	err = redactAddresses(w.Sender.Send(sctx, email))
	if err == nil {
		w.failures.forget("user-email:" + rec.StreamID)
		if err := recordSent(ctx, log, what, func(ctx context.Context) error {
			return record(ctx, eventstore.EventUserEmailSent, eventstore.UserEmailOutcome{MessageID: email.MessageID})
		}); err != nil {
			return fmt.Errorf("record %s sent (%s): %w", what, rec.StreamID, err)
		}
		w.Metrics.email("sent")
		log.Info(what + " sent")
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, ctxErr)
	}
	retry, reason, attempt := w.sendFailed(ctx, log, what, "user-email:"+rec.StreamID, err)
	if retry != nil {
		return fmt.Errorf("%s %s: %w", what, rec.StreamID, retry)
	}
	return record(sctx, eventstore.EventUserEmailFailed, eventstore.UserEmailOutcome{Reason: reason, Attempts: attempt})
}
