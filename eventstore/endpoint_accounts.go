package eventstore

import (
	"context"
	"fmt"
)

// AccountsWithEndpoints returns which of accounts have at least one
// webhook endpoint that may receive deliveries (not deleted, disabled or
// paused), in one query: the webhook fan-out's check for a whole batch of
// events, most of which belong to accounts without endpoints.
func (s *WebhookEndpoints) AccountsWithEndpoints(ctx context.Context, accounts []int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT account_id FROM webhook_endpoints
		WHERE account_id = ANY($1) AND deleted_at IS NULL AND disabled_at IS NULL AND paused_at IS NULL`, accounts)
	if err != nil {
		return nil, fmt.Errorf("accounts with webhook endpoints: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("accounts with webhook endpoints: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts with webhook endpoints: %w", err)
	}
	return out, nil
}
