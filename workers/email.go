package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/projections"
	"goodplan/templates"
)

// DefaultEmailFrom is the sender of customer emails when EMAIL_FROM is unset.
const DefaultEmailFrom = "Good Plan <no-reply@localhost>"

// DefaultRetryDelays is how long EmailWorker waits before retrying after a
// transient failure: the n-th failure waits the n-th delay, the last one
// repeating.
var DefaultRetryDelays = []time.Duration{
	5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
}

// emailActor is the metadata actor of the events the worker records.
const emailActor = "email-worker"

// maxReasonLen bounds the reason stored in an introduction_email.failed event.
const maxReasonLen = 500

// EmailWorker sends each new plan's introduction email: a Handler for a
// durable consumer of plan.created events.
//
// It decides from the plan's current state in the store, not from the
// event, so a redelivered or replayed plan.created never sends a second
// email once the outcome (sent or failed) is recorded. The outcome is
// recorded under a deterministic command id per plan, so racing replicas
// record it once. Between a successful send and its record the email can
// go out twice (at-least-once); its Message-ID is the same both times.
type EmailWorker struct {
	Store       *eventstore.Store
	Sender      Sender
	PublicURL   string           // base of the portal link (projections.PortalURL) and the Message-ID domain
	From        string           // EMAIL_FROM; default DefaultEmailFrom
	MaxAttempts int              // default 10: after that many transient failures, record failed
	RetryDelays []time.Duration  // default DefaultRetryDelays
	Now         func() time.Time // default time.Now
	Log         *slog.Logger     // default slog.Default()
}

// Handle acts on plan.created and ignores every other event. It returns nil
// when the email was sent or its failure recorded (a 5xx refusal, or a
// transient failure on delivery attempt MaxAttempts); RetryAfter with a
// growing delay after a transient failure; Permanent for an event it can
// never handle (a stream id that is not a plan, a missing plan); and
// other errors (the store being unreachable) for the consumer's backoff.
func (w *EmailWorker) Handle(ctx context.Context, rec eventstore.Record) error {
	if rec.Type != domain.EventPlanCreated {
		return nil
	}
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		return Permanent(fmt.Errorf("stream %q is not a plan stream", rec.StreamID))
	}
	// A plan created without an introduction email needs nothing: tell from
	// the event itself, without loading the plan.
	var asked struct {
		Send *bool `json:"send_introduction_email"`
	}
	if json.Unmarshal(rec.Data, &asked) == nil && asked.Send != nil && !*asked.Send {
		return nil
	}
	plan, _, _, err := w.Store.LoadPlan(ctx, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return Permanent(fmt.Errorf("introduction email: %w", err))
	}
	if err != nil {
		return fmt.Errorf("introduction email: %w", err)
	}
	if plan.IntroductionEmail().Status != domain.EmailPending {
		return nil // not requested, or already sent or given up
	}
	// Claim the email: one worker at a time, across replicas, may send it.
	// A worker that gets the claim after another one released it sees the
	// recorded outcome on the reload below and stops there.
	release, claimed, err := w.Store.TryLock(ctx, "introduction-email:"+eventstore.PlanStream(id))
	if err != nil {
		return fmt.Errorf("introduction email for plan %d: %w", id, err)
	}
	if !claimed {
		return RetryAfter(fmt.Errorf("introduction email for plan %d: another worker is sending it", id), 2*time.Second)
	}
	defer release()
	if plan, _, _, err = w.Store.LoadPlan(ctx, id); err != nil {
		return fmt.Errorf("introduction email: %w", err)
	}
	if plan.IntroductionEmail().Status != domain.EmailPending {
		return nil
	}
	acct, err := w.Store.AccountByID(ctx, plan.AccountID())
	if errors.Is(err, eventstore.ErrNotFound) {
		return w.giveUp(ctx, plan, fmt.Sprintf("account %d not found", plan.AccountID()), DeliveryAttempt(ctx))
	}
	if err != nil {
		return fmt.Errorf("introduction email for plan %d: %w", id, err)
	}
	email, err := w.introduction(plan, acct)
	if err != nil {
		return w.giveUp(ctx, plan, "cannot build the email: "+err.Error(), DeliveryAttempt(ctx))
	}
	log := w.logger().With("plan_id", id, "message_id", email.MessageID)

	// Once sending starts, shutting down must not cut it short: a send cut
	// mid-DATA, or a sent email whose record is abandoned, would be sent
	// again after the restart. Both get their own bounded time instead.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendAndRecordTimeout)
	defer cancel()
	err = w.Sender.Send(sctx, email)
	if err == nil {
		if err := w.record(sctx, plan, "introduction-email-sent", func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent(email.MessageID, email.ToAddress, w.now())
		}); err != nil {
			// The email went out; a redelivery would send it again. Retrying
			// the record soon keeps that window short.
			return fmt.Errorf("record introduction email sent for plan %d: %w", id, err)
		}
		log.Info("introduction email sent", "to", email.ToAddress)
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("introduction email for plan %d: %w", id, ctxErr) // shutting down: redelivered later
	}

	attempt := DeliveryAttempt(ctx)
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	permanent := IsPermanentSMTP(err)
	if !permanent && attempt < maxAttempts {
		delay := w.retryDelay(attempt)
		log.Warn("introduction email failed; will retry", "attempt", attempt, "delay", delay, "err", err)
		return RetryAfter(fmt.Errorf("introduction email for plan %d: %w", id, err), delay)
	}
	reason := err.Error()
	if !permanent {
		reason = fmt.Sprintf("gave up after %d attempts: %s", attempt, reason)
	}
	log.Error("introduction email failed", "attempt", attempt, "permanent", permanent, "err", err)
	return w.giveUp(sctx, plan, reason, attempt)
}

// sendAndRecordTimeout bounds one send and the recording of its outcome,
// which run on even while the worker shuts down.
const sendAndRecordTimeout = 2 * time.Minute

// giveUp records that the introduction email failed for good.
func (w *EmailWorker) giveUp(ctx context.Context, plan *domain.Plan, reason string, attempt int) error {
	reason = strings.ToValidUTF8(truncate(reason, maxReasonLen), "")
	if err := w.record(ctx, plan, "introduction-email-failed", func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordIntroductionEmailFailed(reason, attempt, w.now())
	}); err != nil {
		return fmt.Errorf("record introduction email failed for plan %d: %w", plan.ID(), err)
	}
	return nil
}

// introduction builds the email for plan.
func (w *EmailWorker) introduction(plan *domain.Plan, acct eventstore.Account) (Email, error) {
	c, inv := plan.Customer(), plan.Invoice()
	data := templates.IntroductionData{
		MerchantName:  acct.Name,
		CustomerName:  c.Name,
		Amount:        inv.Amount.String(),
		Currency:      inv.Currency,
		InvoiceNumber: inv.InvoiceNumber,
		PortalURL:     projections.PortalURL(w.PublicURL, plan.PortalToken()),
	}
	for _, o := range plan.Options() {
		data.Options = append(data.Options, templates.IntroductionOption{
			Installments:     o.Installments,
			Interval:         string(o.Interval),
			PaymentAmount:    o.PaymentAmount.String(),
			FirstPaymentDate: o.FirstPaymentDate.String(),
			FinalPaymentDate: o.FinalPaymentDate.String(),
		})
	}
	r, err := templates.Introduction(data)
	if err != nil {
		return Email{}, fmt.Errorf("introduction email for plan %d: %w", plan.ID(), err)
	}
	from := w.From
	if from == "" {
		from = DefaultEmailFrom
	}
	return Email{
		MessageID:  IntroductionMessageID(plan.ID(), w.PublicURL),
		FromHeader: from,
		ToName:     c.Name,
		ToAddress:  c.Email,
		Subject:    r.Subject,
		Text:       r.Text,
		HTML:       r.HTML,
	}, nil
}

// IntroductionMessageID is the Message-ID of plan id's introduction email:
// "<plan-{id}.introduction@{host of publicURL}>" ("localhost" when
// publicURL has no plain ASCII host). The same plan always gets the same id, so a
// receiving system can recognise a duplicate.
func IntroductionMessageID(id int64, publicURL string) string {
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		h := strings.ToLower(u.Hostname())
		switch {
		case strings.ContainsFunc(h, func(r rune) bool {
			return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == ':')
		}):
			// Not an ASCII host name (an IDN, say): keep the id valid.
		case strings.Contains(h, ":"):
			host = "[" + h + "]" // IPv6 literal
		default:
			host = h
		}
	}
	return "<plan-" + strconv.FormatInt(id, 10) + ".introduction@" + host + ">"
}

// record appends the outcome decided by decide under the command id
// "{kind}:plan-{id}". A duplicate command means a replica or an earlier
// delivery already recorded it: success. A failing store is retried a few
// times at once: after a sent email, every failed record is a chance to
// send it twice.
func (w *EmailWorker) record(ctx context.Context, plan *domain.Plan, kind string, decide func(*domain.Plan) ([]domain.Event, error)) error {
	meta := eventstore.Metadata{
		AccountID: plan.AccountID(),
		Actor:     emailActor,
		CommandID: kind + ":" + eventstore.PlanStream(plan.ID()),
	}
	var err error
	for try := range recordTries {
		if try > 0 {
			sleep(ctx, time.Duration(try)*200*time.Millisecond)
		}
		_, err = w.Store.UpdatePlan(ctx, plan.ID(), meta, decide)
		if err == nil || errors.Is(err, eventstore.ErrDuplicateCommand) {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, domain.ErrNoIntroductionEmail) {
			break
		}
	}
	return err
}

// recordTries bounds record's immediate retries.
const recordTries = 3

// retryDelay is the wait after the attempt-th transient failure.
func (w *EmailWorker) retryDelay(attempt int) time.Duration {
	delays := w.RetryDelays
	if len(delays) == 0 {
		delays = DefaultRetryDelays
	}
	return delays[min(max(attempt, 1), len(delays))-1]
}

func (w *EmailWorker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *EmailWorker) logger() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}
