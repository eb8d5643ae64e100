package eventstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "gp_"

// APIKeyChannel is the LISTEN/NOTIFY channel on which a revocation is
// announced, with the revoked key's SHA-256 in hex as the payload, so every
// replica drops the key from its cache at once.
const APIKeyChannel = "goodplan_api_keys"

// APIKeyListenerName is the application_name of the connections that
// ListenAPIKeyRevocations holds (seen in pg_stat_activity).
const APIKeyListenerName = "goodplan api key listener"

// APIKeyDisplayLen is how many characters after "gp_" are kept to tell keys
// apart in listings.
const APIKeyDisplayLen = 8

// ErrKeyRevoked: the key was revoked already.
var ErrKeyRevoked = errors.New("api key is already revoked")

// APIKey is an API key as listed: never the key, only its first characters.
type APIKey struct {
	ID        int64
	AccountID int64
	// Prefix is the first APIKeyDisplayLen characters after "gp_", or ""
	// for a key created before they were kept (only its SHA-256 is stored).
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// CreateAPIKey makes a new key for account: "gp_" and 64 lowercase hex
// characters from crypto/rand. Only its SHA-256 and its first
// APIKeyDisplayLen characters are stored, so the key is returned here once
// and never again. ErrNotFound if the account is missing.
func (s *Accounts) CreateAPIKey(ctx context.Context, accountID int64) (string, error) {
	return s.createAPIKey(ctx, accountID, nil)
}

// ErrFormUsed: the dashboard form (its form_id) made its key or endpoint
// already; a second submit of it makes nothing.
var ErrFormUsed = errors.New("the form was submitted already")

// CreateAPIKeyOnce is CreateAPIKey for the dashboard form formID: the
// account gets one key per form, and a second call with the same formID
// makes none and returns ErrFormUsed.
func (s *Accounts) CreateAPIKeyOnce(ctx context.Context, accountID int64, formID string) (string, error) {
	return s.createAPIKey(ctx, accountID, &formID)
}

func (s *Accounts) createAPIKey(ctx context.Context, accountID int64, formID *string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	secret := hex.EncodeToString(raw[:])
	key := APIKeyPrefix + secret
	sum := sha256.Sum256([]byte(key))
	tag, err := s.pool.Exec(ctx, `INSERT INTO api_keys (account_id, key_hash, prefix, form_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, form_id) WHERE form_id IS NOT NULL DO NOTHING`,
		accountID, sum[:], secret[:APIKeyDisplayLen], formID)
	if err != nil {
		return "", fmt.Errorf("create api key for account %d: %w", accountID, interpretError(err))
	}
	if tag.RowsAffected() == 0 {
		return "", fmt.Errorf("create api key for account %d: %w", accountID, ErrFormUsed)
	}
	return key, nil
}

// AccountByKeyHash returns the account owning the unrevoked key whose
// SHA-256 is sum, or ErrNotFound. Looking up by hash means the lookup's timing
// depends only on a hash the caller cannot steer, never on the key's bytes.
func (s *Accounts) AccountByKeyHash(ctx context.Context, sum [sha256.Size]byte) (Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT a.id, a.name, a.plan_limit, a.rate_limit_per_minute, a.rate_limit_burst,
			a.reminder_days, a.created_at, a.notify_emails, a.sender_name, a.customer_emails_off
		FROM api_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL`, sum[:]))
	if err != nil {
		return Account{}, fmt.Errorf("account by key: %w", interpretError(err))
	}
	return a, nil
}

// APIKeys returns the account's keys, revoked ones included, oldest first.
// ErrNotFound if the account does not exist.
func (s *Accounts) APIKeys(ctx context.Context, accountID int64) ([]APIKey, error) {
	if _, err := s.AccountByID(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, COALESCE(prefix, ''), created_at, last_used_at, revoked_at
		FROM api_keys WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := row.Scan(&k.ID, &k.AccountID, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// APIKeysPage returns at most limit of the account's keys, revoked ones
// included, newest first: those with an id below before (0: from the
// newest), and whether there are older ones past them. Keyset paging on
// the key's id, so every page costs the same.
func (s *Accounts) APIKeysPage(ctx context.Context, accountID, before int64, limit int) ([]APIKey, bool, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, COALESCE(prefix, ''), created_at, last_used_at, revoked_at
		FROM api_keys WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, accountID, before, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) {
		var k APIKey
		err := row.Scan(&k.ID, &k.AccountID, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
		return k, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list api keys: %w", err)
	}
	if len(keys) > limit {
		return keys[:limit], true, nil
	}
	return keys, false, nil
}

// RevokeAPIKey revokes one of the account's keys, named by the whole key
// ("gp_...") or by its id, and announces it on APIKeyChannel in the same
// transaction, so every listening replica forgets the key when the
// revocation commits. ErrNotFound if the account has no such key;
// ErrKeyRevoked (with the key) if it was revoked before.
func (s *Accounts) RevokeAPIKey(ctx context.Context, accountID int64, keyOrID string) (APIKey, error) {
	where, arg := "id = $2", any(nil)
	if strings.HasPrefix(keyOrID, APIKeyPrefix) {
		sum := sha256.Sum256([]byte(keyOrID))
		where, arg = "key_hash = $2", sum[:]
	} else if id, err := strconv.ParseInt(keyOrID, 10, 64); err == nil && id > 0 {
		arg = id
	} else {
		return APIKey{}, fmt.Errorf("revoke api key: %w", ErrNotFound)
	}
	var k APIKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var hash []byte
		err := tx.QueryRow(ctx, `SELECT id, account_id, COALESCE(prefix, ''), created_at, last_used_at, revoked_at, key_hash
			FROM api_keys WHERE account_id = $1 AND `+where+` FOR UPDATE`, accountID, arg).
			Scan(&k.ID, &k.AccountID, &k.Prefix, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt, &hash)
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return ErrKeyRevoked
		}
		if err := tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING revoked_at`,
			k.ID).Scan(&k.RevokedAt); err != nil {
			return err
		}
		// Delivered to listeners when (and only if) the transaction commits.
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, APIKeyChannel, hex.EncodeToString(hash))
		return err
	})
	if errors.Is(err, ErrKeyRevoked) {
		return k, fmt.Errorf("revoke api key %d: %w", k.ID, ErrKeyRevoked)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key: %w", interpretError(err))
	}
	return k, nil
}

// TouchAPIKey records that the key whose SHA-256 is sum was used at at,
// unless a use in the minute before at is recorded already: callers may
// call it freely, the row is written at most once a minute.
func (s *Accounts) TouchAPIKey(ctx context.Context, sum [sha256.Size]byte, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
		WHERE key_hash = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`, sum[:], at)
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// ListenAPIKeyRevocations holds a connection of its own LISTENing on
// APIKeyChannel: it calls alive once the LISTEN is in place and again after
// each successful check of the connection (every ping while idle), and
// revoked with each revoked key's SHA-256, until ctx is done (nil) or the
// connection is lost (the error). Callers reconnect by calling it again;
// revocations committed while no listener was in place are not replayed.
func (s *Accounts) ListenAPIKeyRevocations(ctx context.Context, ping time.Duration, alive func(), revoked func([sha256.Size]byte)) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = APIKeyListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("api key listener connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+APIKeyChannel); err != nil {
		return fmt.Errorf("api key listener: %w", err)
	}
	alive()
	for {
		wctx, cancel := context.WithTimeout(ctx, ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) && !timeout(err) {
				return fmt.Errorf("api key listener: %w", err)
			}
			// Idle: prove the connection still works, within the ping.
			pctx, cancel := context.WithTimeout(ctx, ping)
			err := conn.Ping(pctx)
			cancel()
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return fmt.Errorf("api key listener ping: %w", err)
			}
			alive()
			continue
		}
		var sum [sha256.Size]byte
		if b, err := hex.DecodeString(n.Payload); err == nil && len(b) == len(sum) {
			copy(sum[:], b)
			revoked(sum)
		}
	}
}

// timeout reports whether err is a timeout (pgconn reports a context
// deadline that interrupted a read as one).
func timeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
