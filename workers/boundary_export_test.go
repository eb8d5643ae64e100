package workers

import (
	"context"
	"io"

	"goodplan/domain"
	"goodplan/eventstore"
)

// WebhookPayloadOf is the body the fan-out would deliver for rec (for the
// boundary property test).
func (f *WebhookFanout) WebhookPayloadOf(ctx context.Context, rec eventstore.Record) ([]byte, error) {
	return f.payload(ctx, rec)
}

// IntroductionMIME builds plan's introduction email and writes it as the
// MIME message a mail server would get (for the boundary property test).
func (w *EmailWorker) IntroductionMIME(p *domain.Plan, acct eventstore.Account, out io.Writer) error {
	e, err := w.introductionJob(0).build(p, acct)
	if err != nil {
		return err
	}
	m, err := buildMessage(e)
	if err != nil {
		return err
	}
	_, err = m.WriteTo(out)
	return err
}
