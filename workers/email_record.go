package workers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"goodplan/domain"
)

// recordSentFor bounds how long the worker keeps trying to record an email
// it has sent, measured from the send's end, and recordSentTry one try.
// PostgreSQL restarting, or a pool of connections it just dropped, fails a
// few tries in a row; giving up then would leave the email owed and send it
// again on the redelivery. The consumer keeps the event's message alive
// (InProgress) meanwhile.
const (
	recordSentFor = 2 * time.Minute
	recordSentTry = 15 * time.Second
)

// recordSent runs rec, the record of an email that went out, until it
// succeeds, fails for good (a domain refusal: the plan no longer owes the
// email), or recordSentFor has passed; each try has its own timeout, and
// each failure is logged at WARN with its attempt number. The context is
// ctx's values without its cancellation: a shutdown does not cut it short.
func recordSent(ctx context.Context, log *slog.Logger, what string, rec func(context.Context) error) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordSentFor)
	defer cancel()
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tctx, tcancel := context.WithTimeout(bg, recordSentTry)
		err := rec(tctx)
		tcancel()
		if err == nil || permanentRecordError(err) || bg.Err() != nil {
			return err
		}
		log.Warn("record "+what+" sent failed; retrying", "attempt", attempt, "delay", delay, "err", err)
		sleep(bg, delay)
		delay = min(2*delay, 2*time.Second)
	}
}

// permanentRecordError reports whether recording an email's outcome failed
// for a reason a retry cannot change.
func permanentRecordError(err error) bool {
	return errors.Is(err, domain.ErrNoIntroductionEmail) || errors.Is(err, domain.ErrNoticeNotRequested) ||
		errors.Is(err, domain.ErrPlanEmailNotRequested)
}
