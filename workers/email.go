package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
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

// maxReasonLen bounds the reason stored in an introduction_email.failed or
// notification.failed event.
const maxReasonLen = 500

// EmailWorker sends the customer's emails: each new plan's introduction
// email and the scheduled notices the Scheduler requests (Handle, for a
// durable consumer of plan.created and notification.requested events),
// and the emails a plan's events owe the customer or the merchant
// (HandlePlanEmail, see email_plan.go). Customer emails carry the
// account's sender name.
//
// It decides from the plan's current state in the store, not from the
// event, so a redelivered or replayed event never sends a second email once
// the outcome (sent or failed) is recorded, and a notice made moot since it
// was requested (the installment reported, paid or moved, the plan no
// longer active) is not sent at all. Each email is claimed with an advisory
// lock while it is sent and its outcome is recorded under a deterministic
// command id, so racing replicas send and record it once. Between a
// successful send and its record the email can go out twice
// (at-least-once) only if the process dies there: the record of a sent
// email is retried until it sticks (recordSent); its Message-ID is the
// same both times.
type EmailWorker struct {
	Store       *eventstore.Store
	Sender      Sender
	PublicURL   string           // base of the portal link (projections.PortalURL) and the Message-ID domain
	From        string           // EMAIL_FROM; default DefaultEmailFrom
	MaxAttempts int              // default 10: after that many transient failures, record failed
	RetryDelays []time.Duration  // default DefaultRetryDelays
	Now         func() time.Time // default time.Now
	Log         *slog.Logger     // default slog.Default()
	Metrics     *Metrics         // if set, counts the emails by outcome

	failures emailFailureCounts // transient SMTP failures per email, for the retry delay
}

// emailJob is one email the worker may owe a plan: when it is owed, how it
// is built and how its outcome is recorded.
type emailJob struct {
	what string // for logs and errors: "introduction email", "checkin notice"
	// name keys the claim ("{name}:plan-{id}{key}") and the command ids of
	// the outcome ("{name}-sent:plan-{id}{key}", "{name}-failed:...").
	name, key string
	attrs     []any // logged with every line about the email
	owed      func(*domain.Plan) bool
	build     func(*domain.Plan, eventstore.Account) (Email, error)
	sent      func(p *domain.Plan, e Email, at time.Time) ([]domain.Event, error)
	failed    func(p *domain.Plan, reason string, attempts int, at time.Time) ([]domain.Event, error)
}

func (j *emailJob) id(prefix string, plan int64) string {
	return prefix + ":" + eventstore.PlanStream(plan) + j.key
}

// Handle acts on plan.created and introduction_email.resend_requested (the
// introduction email),
// notification.requested (a scheduled notice) and user_email.requested (a
// merchant user's invitation or password reset link, email_user.go) and
// ignores every other event. It returns nil when the email was sent or its failure recorded (a
// 5xx refusal, or a transient failure on delivery attempt MaxAttempts), or
// when it is not owed (any more); RetryAfter with a growing delay after a
// transient failure; Permanent for an event it can never handle (a stream
// id that is not a plan, a missing plan, unreadable event data); and other
// errors (the store being unreachable) for the consumer's backoff.
func (w *EmailWorker) Handle(ctx context.Context, rec eventstore.Record) error {
	var job *emailJob
	switch rec.Type {
	case domain.EventPlanCreated:
		// A plan created without an introduction email needs nothing: tell
		// from the event itself, without loading the plan.
		var asked struct {
			Send *bool `json:"send_introduction_email"`
		}
		if json.Unmarshal(rec.Data, &asked) == nil && asked.Send != nil && !*asked.Send {
			return nil
		}
		job = w.introductionJob(0)
	case domain.EventIntroductionEmailResendRequested:
		var e domain.IntroductionEmailResendRequested
		if err := json.Unmarshal(rec.Data, &e); err != nil || e.Resend < 1 {
			return Permanent(fmt.Errorf("introduction email resend %s: %v", rec.EventID, err))
		}
		job = w.introductionJob(e.Resend)
	case domain.EventNotificationRequested:
		var e domain.NotificationRequested
		if err := json.Unmarshal(rec.Data, &e); err != nil {
			return Permanent(fmt.Errorf("notice %s: %w", rec.EventID, err))
		}
		job = w.noticeJob(e.NoticeKey)
	case eventstore.EventUserEmailRequested:
		return w.handleUserEmail(ctx, rec)
	default:
		return nil
	}
	id, ok := eventstore.PlanIDOf(rec.StreamID)
	if !ok {
		return Permanent(fmt.Errorf("stream %q is not a plan stream", rec.StreamID))
	}
	return w.deliver(ctx, id, job)
}

// deliver sends job's email for plan id if it is owed, and records the
// outcome; see Handle for what it returns.
func (w *EmailWorker) deliver(ctx context.Context, id int64, job *emailJob) error {
	plan, _, err := w.Store.CurrentPlan(ctx, id)
	if errors.Is(err, eventstore.ErrNotFound) {
		return Permanent(fmt.Errorf("%s: %w", job.what, err))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", job.what, err)
	}
	if !job.owed(plan) {
		return nil // not requested, moot, or already sent or given up
	}
	// Claim the email: one worker at a time, across replicas, may send it.
	// A worker that gets the claim after another one released it sees the
	// recorded outcome on the reload below and stops there.
	release, claimed, err := w.Store.TryLock(ctx, job.id(job.name, id))
	if err != nil {
		return fmt.Errorf("%s for plan %d: %w", job.what, id, err)
	}
	if !claimed {
		return RetryAfter(fmt.Errorf("%s for plan %d: another worker is sending it", job.what, id), 2*time.Second)
	}
	defer release()
	if plan, _, err = w.Store.CurrentPlan(ctx, id); err != nil {
		return fmt.Errorf("%s: %w", job.what, err)
	}
	if !job.owed(plan) {
		return nil
	}
	acct, err := w.Store.AccountByID(ctx, plan.AccountID())
	if errors.Is(err, eventstore.ErrNotFound) {
		return w.giveUp(ctx, plan, job, fmt.Sprintf("account %d not found", plan.AccountID()), DeliveryAttempt(ctx))
	}
	if err != nil {
		return fmt.Errorf("%s for plan %d: %w", job.what, id, err)
	}
	email, err := job.build(plan, acct)
	if err != nil {
		return w.giveUp(ctx, plan, job, "cannot build the email: "+redactAddresses(err).Error(), DeliveryAttempt(ctx))
	}
	log := logWith(ctx, w.logger()).With("plan_id", id, "message_id", email.MessageID).With(job.attrs...)

	// Once sending starts, shutting down must not cut it short: a send cut
	// mid-DATA, or a sent email whose record is abandoned, would be sent
	// again after the restart. Both get their own bounded time instead.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendAndRecordTimeout)
	defer cancel()
	// The SMTP server's reply may quote the recipient: every use of err
	// below (logs, the consumer's logs, the recorded reason) sees it
	// without addresses.
	err = redactAddresses(w.Sender.Send(sctx, email))
	if err == nil {
		// The email went out: a redelivery before its record would send
		// it again, so the record is retried, on its own time, until it
		// sticks.
		w.failures.forget(job.id(job.name, id))
		if err := recordSent(ctx, log, job.what, func(ctx context.Context) error {
			return w.record(ctx, plan, job.id(job.name+"-sent", id), func(p *domain.Plan) ([]domain.Event, error) {
				return job.sent(p, email, w.now())
			})
		}); err != nil {
			return fmt.Errorf("record %s sent for plan %d: %w", job.what, id, err)
		}
		w.Metrics.email("sent")
		log.Info(job.what + " sent") // plan_id names it; the address is not logged
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s for plan %d: %w", job.what, id, ctxErr) // shutting down: redelivered later
	}

	retry, reason, attempt := w.sendFailed(ctx, log, job.what, job.id(job.name, id), err)
	if retry != nil {
		return fmt.Errorf("%s for plan %d: %w", job.what, id, retry)
	}
	return w.giveUp(sctx, plan, job, reason, attempt)
}

// sendFailed decides what the failed send of an email (what, for logs;
// key names the email) leads to: a RetryAfter error while attempts remain
// after a transient failure, or else (nil and) the reason to record the
// failure for good, with the attempt it happened on. The attempts are the
// event's deliveries (MaxAttempts gives up on them); the delay follows the
// email's own SMTP failures, so deliveries spent while the database was
// down or a replica died do not make its first 451 wait ten minutes.
func (w *EmailWorker) sendFailed(ctx context.Context, log *slog.Logger, what, key string, err error) (retry error, reason string, attempt int) {
	attempt = DeliveryAttempt(ctx)
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	permanent := IsPermanentSMTP(err)
	if !permanent && attempt < maxAttempts {
		failures := w.failures.add(key, w.now())
		delay := w.retryDelay(failures)
		w.Metrics.email("retrying")
		log.Warn(what+" failed; will retry", "attempt", attempt, "smtp_failures", failures, "delay", delay, "err", err)
		return RetryAfter(err, delay), "", attempt
	}
	w.failures.forget(key)
	reason = err.Error()
	if !permanent {
		reason = fmt.Sprintf("gave up after %d attempts: %s", attempt, reason)
	}
	w.Metrics.email("failed")
	log.Error(what+" failed", "attempt", attempt, "permanent", permanent, "err", err)
	return nil, strings.ToValidUTF8(truncate(reason, maxReasonLen), ""), attempt
}

// sendAndRecordTimeout bounds one send and the recording of its outcome,
// which run on even while the worker shuts down.
const sendAndRecordTimeout = 2 * time.Minute

// giveUp records that job's email failed for good.
func (w *EmailWorker) giveUp(ctx context.Context, plan *domain.Plan, job *emailJob, reason string, attempt int) error {
	reason = strings.ToValidUTF8(truncate(reason, maxReasonLen), "")
	if err := w.record(ctx, plan, job.id(job.name+"-failed", plan.ID()), func(p *domain.Plan) ([]domain.Event, error) {
		return job.failed(p, reason, attempt, w.now())
	}); err != nil {
		return fmt.Errorf("record %s failed for plan %d: %w", job.what, plan.ID(), err)
	}
	return nil
}

// email addresses r to plan's customer, from the worker's sender under
// the account's sender name, if it has one.
func (w *EmailWorker) email(plan *domain.Plan, acct eventstore.Account, messageID string, r templates.Rendered) Email {
	from := w.from()
	if name := acct.Emails.SenderName; name != "" {
		if addr, err := mail.ParseAddress(from); err == nil {
			addr.Name = name // String quotes or encodes it
			from = addr.String()
		}
	}
	c := plan.Customer()
	return Email{
		MessageID:  messageID,
		FromHeader: from,
		ToName:     c.Name,
		ToAddress:  c.Email,
		Subject:    r.Subject,
		Text:       r.Text,
		HTML:       r.HTML,
	}
}

// from is the worker's sender: EMAIL_FROM, or DefaultEmailFrom.
func (w *EmailWorker) from() string {
	if w.From == "" {
		return DefaultEmailFrom
	}
	return w.From
}

// messageID is "<{local}@{host of publicURL}>", the host being "localhost"
// when publicURL has no plain ASCII host.
func messageID(local, publicURL string) string {
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
	return "<" + local + "@" + host + ">"
}

// record appends the outcome decided by decide under command id command. A
// replayed or duplicate command means a replica or an earlier delivery
// already recorded it: success. A failing store is retried a few times at once:
// after a sent email, every failed record is a chance to send it twice.
func (w *EmailWorker) record(ctx context.Context, plan *domain.Plan, command string, decide func(*domain.Plan) ([]domain.Event, error)) error {
	o := OriginFrom(ctx) // the request behind the event that owed the email
	meta := eventstore.Metadata{
		AccountID:     plan.AccountID(),
		Actor:         emailActor,
		CommandID:     command,
		CorrelationID: o.RequestID,
		Traceparent:   o.Traceparent,
	}
	var err error
	for try := range recordTries {
		if try > 0 {
			sleep(ctx, time.Duration(try)*200*time.Millisecond)
		}
		_, err = eventstore.PlanAggregate.Run(ctx, w.Store, eventstore.Cmd[*domain.Plan]{ID: plan.ID(), Meta: meta, Decide: decide})
		if err == nil || errors.Is(err, eventstore.ErrDuplicateCommand) {
			return nil
		}
		if ctx.Err() != nil || permanentRecordError(err) {
			break
		}
	}
	return err
}

// recordTries bounds record's immediate retries.
const recordTries = 3

// retryDelay is the wait after the n-th transient SMTP failure.
func (w *EmailWorker) retryDelay(n int) time.Duration {
	delays := w.RetryDelays
	if len(delays) == 0 {
		delays = DefaultRetryDelays
	}
	return delays[min(max(n, 1), len(delays))-1]
}

// emailFailureCounts counts each email's transient SMTP failures in this
// process (another replica that takes the email over starts from the
// first delay: it retries sooner, never later). An email's count goes
// when it is sent or given up; counts untouched for emailFailureTTL are
// dropped, so emails that moved to other replicas do not pile up.
type emailFailureCounts struct {
	mu sync.Mutex
	m  map[string]emailFailureCount
}

type emailFailureCount struct {
	n    int
	last time.Time
}

// emailFailureTTL outlasts the longest retry delay.
const emailFailureTTL = 3 * time.Hour

// add counts a failure of the email key at now and returns its count.
func (f *emailFailureCounts) add(key string, now time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]emailFailureCount{}
	}
	if len(f.m) >= 1024 {
		for k, v := range f.m {
			if now.Sub(v.last) > emailFailureTTL {
				delete(f.m, k)
			}
		}
	}
	e := f.m[key]
	if now.Sub(e.last) > emailFailureTTL {
		e.n = 0
	}
	e.n++
	e.last = now
	f.m[key] = e
	return e.n
}

// forget drops the email key's count.
func (f *emailFailureCounts) forget(key string) {
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
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
