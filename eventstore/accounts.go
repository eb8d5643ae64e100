package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
)

// Accounts holds the merchant accounts and their API keys.
type Accounts struct {
	pool *pgxpool.Pool
}

// Account is a merchant using the API. Accounts and keys are configuration,
// not plan history, so they are plain tables rather than event streams.
type Account struct {
	ID                 int64
	Name               string
	PlanLimit          *int64 // nil: unlimited
	RateLimitPerMinute int    // 0: unlimited
	RateLimitBurst     int    // requests per second at most; 0: no burst cap
	ReminderDays       int    // days before a due date the customer is reminded; 0: never
	CreatedAt          time.Time
	// Emails are the account's email settings (see account_settings.go).
	Emails domain.EmailSettings
}

// NewAccount is what CreateAccount needs.
type NewAccount struct {
	Name               string
	PlanLimit          *int64
	RateLimitPerMinute int
	RateLimitBurst     int
	// ReminderDays is days before each due date the customer is reminded
	// (0..30); nil means domain.DefaultReminderDays.
	ReminderDays *int
}

const accountColumns = `id, name, plan_limit, rate_limit_per_minute, rate_limit_burst, reminder_days, created_at, ` +
	emailSettingsColumns

// scanAccount reads accountColumns.
func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	var off []string
	err := row.Scan(&a.ID, &a.Name, &a.PlanLimit, &a.RateLimitPerMinute, &a.RateLimitBurst, &a.ReminderDays, &a.CreatedAt,
		&a.Emails.NotifyEmails, &a.Emails.SenderName, &off)
	for _, k := range off {
		a.Emails.CustomerEmailsOff = append(a.Emails.CustomerEmailsOff, domain.PlanEmailKind(k))
	}
	return a, err
}

// CreateAccount stores a new account and returns it.
func (s *Accounts) CreateAccount(ctx context.Context, a NewAccount) (Account, error) {
	days := domain.DefaultReminderDays
	if a.ReminderDays != nil {
		days = *a.ReminderDays
	}
	out, err := scanAccount(s.pool.QueryRow(ctx, `INSERT INTO accounts (name, plan_limit, rate_limit_per_minute, rate_limit_burst, reminder_days)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+accountColumns,
		a.Name, a.PlanLimit, a.RateLimitPerMinute, a.RateLimitBurst, days))
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", interpretError(err))
	}
	return out, nil
}

// List returns every account, oldest first.
func (s *Accounts) List(ctx context.Context) ([]Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AccountByID returns account id, or ErrNotFound.
func (s *Accounts) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, interpretError(err))
	}
	return a, nil
}
