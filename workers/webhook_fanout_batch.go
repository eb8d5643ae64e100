package workers

import (
	"context"
	"fmt"

	"goodplan/domain"
	"goodplan/eventstore"
)

// HandleBatch is Handle for a fetched batch (Consumer.BatchHandle): which
// accounts of the batch have an endpoint is read in one query, and only
// the events of those accounts go through Handle; the others need no
// delivery. An error sends the batch through Handle one event at a time
// (Handle is idempotent by event id, so an event handled twice enqueues
// its deliveries once).
func (f *WebhookFanout) HandleBatch(ctx context.Context, recs []eventstore.Record) error {
	var accounts []int64
	of := make([]int64, len(recs))
	for i, rec := range recs {
		if !domain.IsSubscribableEventType(rec.Type) {
			continue
		}
		account, err := AccountOf(rec)
		if err != nil {
			return err
		}
		of[i] = account
		accounts = append(accounts, account)
	}
	if len(accounts) == 0 {
		return nil
	}
	with, err := f.Store.AccountsWithEndpoints(ctx, accounts)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		if of[i] == 0 || !with[of[i]] {
			continue
		}
		if err := f.Handle(ctx, rec); err != nil {
			return fmt.Errorf("webhook fan-out of %s: %w", rec.EventID, err)
		}
	}
	return nil
}
