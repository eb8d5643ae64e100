package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// emailSettingsColumns are the columns of domain.EmailSettings in accounts
// (migration 013), in scanAccount's order.
const emailSettingsColumns = `notify_emails, sender_name, customer_emails_off`

// EmailSettings returns account id's email settings, or ErrNotFound.
func (s *Accounts) EmailSettings(ctx context.Context, id int64) (domain.EmailSettings, error) {
	a, err := s.AccountByID(ctx, id)
	return a.Emails, err
}

// UpdateEmailSettings applies c to account id's email settings and returns
// the account as it is after. It returns ErrNotFound for a missing account
// and c's *domain.ValidationError (nothing changed) for a bad change.
//
// Settings are a plain row, not an event stream, as the rest of the
// account is: they are configuration, and what they decide for a plan is
// recorded on the plan's own stream (plan_email.requested names the
// addresses it went to, and a customer email switched off is never
// requested), so each plan's history still says who was emailed what.
// settings_updated_at says when they last changed.
func (s *Accounts) UpdateEmailSettings(ctx context.Context, id int64, c domain.EmailSettingsChange) (Account, error) {
	var out Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("account %d: %w", id, interpretError(err))
		}
		next, err := a.Emails.Change(c)
		if err != nil {
			return err
		}
		off := make([]string, len(next.CustomerEmailsOff))
		for i, k := range next.CustomerEmailsOff {
			off[i] = string(k)
		}
		out, err = scanAccount(tx.QueryRow(ctx, `UPDATE accounts
			SET notify_emails = $2, sender_name = $3, customer_emails_off = $4, settings_updated_at = now()
			WHERE id = $1 RETURNING `+accountColumns, id, nonNilStrings(next.NotifyEmails), next.SenderName, off))
		return err
	})
	if err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrNotFound) {
			return Account{}, err
		}
		return Account{}, fmt.Errorf("update email settings of account %d: %w", id, err)
	}
	return out, nil
}

// nonNilStrings returns s, or an empty slice for nil (a NOT NULL array).
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
