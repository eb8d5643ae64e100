package eventstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Account is a merchant using the API. Accounts and keys are configuration,
// not plan history, so they are plain tables rather than event streams.
type Account struct {
	ID                 int64
	Name               string
	PlanLimit          *int64 // nil: unlimited
	RateLimitPerMinute int    // 0: unlimited
	RateLimitBurst     int    // requests per second at most; 0: no burst cap
	CreatedAt          time.Time
}

// NewAccount is what CreateAccount needs.
type NewAccount struct {
	Name               string
	PlanLimit          *int64
	RateLimitPerMinute int
	RateLimitBurst     int
}

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "gp_"

const accountColumns = `id, name, plan_limit, rate_limit_per_minute, rate_limit_burst, created_at`

// CreateAccount stores a new account and returns it.
func (s *Store) CreateAccount(ctx context.Context, a NewAccount) (Account, error) {
	var out Account
	err := s.pool.QueryRow(ctx, `INSERT INTO accounts (name, plan_limit, rate_limit_per_minute, rate_limit_burst)
		VALUES ($1, $2, $3, $4) RETURNING `+accountColumns,
		a.Name, a.PlanLimit, a.RateLimitPerMinute, a.RateLimitBurst).
		Scan(&out.ID, &out.Name, &out.PlanLimit, &out.RateLimitPerMinute, &out.RateLimitBurst, &out.CreatedAt)
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", interpretError(err))
	}
	return out, nil
}

// Accounts returns every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.ID, &a.Name, &a.PlanLimit, &a.RateLimitPerMinute, &a.RateLimitBurst, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateAPIKey makes a new key for account: "gp_" and 64 lowercase hex
// characters from crypto/rand. Only its SHA-256 is stored, so the key is
// returned here once and never again. ErrNotFound if the account is missing.
func (s *Store) CreateAPIKey(ctx context.Context, accountID int64) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	key := APIKeyPrefix + hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(key))
	if _, err := s.pool.Exec(ctx, `INSERT INTO api_keys (account_id, key_hash) VALUES ($1, $2)`, accountID, sum[:]); err != nil {
		return "", fmt.Errorf("create api key for account %d: %w", accountID, interpretError(err))
	}
	return key, nil
}

// AccountByKeyHash returns the account owning the unrevoked key whose
// SHA-256 is sum, or ErrNotFound. Looking up by hash means the lookup's timing
// depends only on a hash the caller cannot steer, never on the key's bytes.
func (s *Store) AccountByKeyHash(ctx context.Context, sum [sha256.Size]byte) (Account, error) {
	var a Account
	err := s.pool.QueryRow(ctx, `SELECT a.id, a.name, a.plan_limit, a.rate_limit_per_minute, a.rate_limit_burst, a.created_at
		FROM api_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, sum[:]).
		Scan(&a.ID, &a.Name, &a.PlanLimit, &a.RateLimitPerMinute, &a.RateLimitBurst, &a.CreatedAt)
	if err != nil {
		return Account{}, fmt.Errorf("account by key: %w", interpretError(err))
	}
	return a, nil
}

// AccountByID returns account id, or ErrNotFound.
func (s *Store) AccountByID(ctx context.Context, id int64) (Account, error) {
	var a Account
	err := s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.PlanLimit, &a.RateLimitPerMinute, &a.RateLimitBurst, &a.CreatedAt)
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, interpretError(err))
	}
	return a, nil
}
