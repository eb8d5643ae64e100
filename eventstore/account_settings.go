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
	return s.UpdateAccount(ctx, id, AccountChange{Emails: c})
}

// AccountChange is a change of an account's settings as typed by a person
// (the dashboard's Settings page): a nil field leaves it as it is.
type AccountChange struct {
	Name         *string // checked by domain.CheckAccountName (field "name")
	ReminderDays *string // checked by domain.CheckReminderDays (field "reminder_days")
	Emails       domain.EmailSettingsChange
}

// UpdateAccount applies c to account id and returns the account as it is
// after. Every problem of c is reported at once in a
// *domain.ValidationError, and then nothing changed; ErrNotFound for a
// missing account. See UpdateEmailSettings for why this is a row update
// rather than an event.
func (s *Accounts) UpdateAccount(ctx context.Context, id int64, c AccountChange) (Account, error) {
	var out Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("account %d: %w", id, interpretError(err))
		}
		var ve domain.ValidationError
		if c.Name != nil {
			a.Name = domain.CheckAccountName(&ve, "name", *c.Name)
		}
		if c.ReminderDays != nil {
			a.ReminderDays = domain.CheckReminderDays(&ve, "reminder_days", *c.ReminderDays)
		}
		next, err := a.Emails.Change(c.Emails)
		var eve *domain.ValidationError
		if errors.As(err, &eve) {
			ve.Merge(eve)
		} else if err != nil {
			return err
		}
		if err := ve.OrNil(); err != nil {
			return err
		}
		off := make([]string, len(next.CustomerEmailsOff))
		for i, k := range next.CustomerEmailsOff {
			off[i] = string(k)
		}
		out, err = scanAccount(tx.QueryRow(ctx, `UPDATE accounts
			SET name = $2, reminder_days = $3, notify_emails = $4, sender_name = $5, customer_emails_off = $6,
			    settings_updated_at = now()
			WHERE id = $1 RETURNING `+accountColumns, id, a.Name, a.ReminderDays, nonNilStrings(next.NotifyEmails),
			next.SenderName, off))
		return err
	})
	if err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrNotFound) {
			return Account{}, err
		}
		return Account{}, fmt.Errorf("update account %d: %w", id, err)
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
