package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// One-time links to set a password: a reset the user asks for by email,
// and the invitation of a new user. The store makes and redeems them; the
// link's page and its email are the dashboard's and the email worker's.

// What a one-time link is for.
const (
	TokenReset  = "reset"
	TokenInvite = "invite"
)

// UserTokenLifetime is how long a one-time link works.
const UserTokenLifetime = time.Hour

// ErrTokenInvalid: the link's token is unknown, used already, expired, or
// for another purpose; nothing was changed.
var ErrTokenInvalid = errors.New("the link is not valid any more")

// InviteUser creates the user nu, validated as CreateUser does but
// without a password: nobody can sign in as them until they set one with
// an invitation link (CreateUserToken with TokenInvite, which the email
// worker calls when it sends the invitation). ErrEmailTaken if the email
// is in use; ErrNotFound if the account is missing.
func (s *Users) InviteUser(ctx context.Context, nu NewUser) (User, error) {
	if err := nu.validate(true); err != nil {
		return User{}, err
	}
	return insertUser(ctx, s.pool, nu, "")
}

// UserByEmail returns the user with email (normalised first), or
// ErrNotFound.
func (s *Users) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, NormalizeEmail(email)))
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", interpretError(err))
	}
	return u, nil
}

// CreateUserToken makes a one-time link token of purpose (TokenReset or
// TokenInvite) for user userID, valid UserTokenLifetime from now, and
// returns the user and the token, once: only its SHA-256 is stored.
// ErrNotFound if there is no such user.
func (s *Users) CreateUserToken(ctx context.Context, userID int64, purpose string, now time.Time) (User, string, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, userID))
	if err != nil {
		return User{}, "", fmt.Errorf("%s token: user %d: %w", purpose, userID, interpretError(err))
	}
	token, err := newUserToken(ctx, s.pool, u.ID, purpose, now)
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

func newUserToken(ctx context.Context, q rowQuerier, userID int64, purpose string, now time.Time) (string, error) {
	token, err := newSecretToken()
	if err != nil {
		return "", fmt.Errorf("%s token: %w", purpose, err)
	}
	var id int64
	if err := q.QueryRow(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, secretTokenHash(token), userID, purpose, now, now.Add(UserTokenLifetime)).
		Scan(&id); err != nil {
		return "", fmt.Errorf("%s token: %w", purpose, interpretError(err))
	}
	return token, nil
}

// UserByToken returns the user whose purpose link token is, if the link
// still works at now (not used, not expired); ErrTokenInvalid otherwise. It
// changes nothing: the link's page shows the form with it.
func (s *Users) UserByToken(ctx context.Context, purpose, token string, now time.Time) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM user_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > $3`,
		secretTokenHash(token), purpose, now))
	if errors.Is(interpretError(err), ErrNotFound) {
		return User{}, ErrTokenInvalid
	}
	if err != nil {
		return User{}, fmt.Errorf("user by %s token: %w", purpose, err)
	}
	return u, nil
}

// SetPasswordWithToken redeems a purpose link token at now: the user's
// password becomes password (MinPasswordBytes to MaxPasswordBytes bytes; a
// *domain.ValidationError otherwise, and the link still works), every
// unused link of the user is spent, and every session of the user ends,
// all in one transaction. A link works once: ErrTokenInvalid if it is
// unknown, used (even by a racing call), expired or for another purpose.
func (s *Users) SetPasswordWithToken(ctx context.Context, purpose, token, password string, now time.Time) (User, error) {
	hash, err := newPasswordHash(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `UPDATE user_tokens SET used_at = $3
			WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id`,
			secretTokenHash(token), purpose, now).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if u, err = scanUser(tx.QueryRow(ctx, `UPDATE users u SET password_hash = $2 WHERE u.id = $1 RETURNING `+userColumns,
			userID, hash)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE user_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, userID)
		return err
	})
	if errors.Is(err, ErrTokenInvalid) {
		return User{}, ErrTokenInvalid
	}
	if err != nil {
		return User{}, fmt.Errorf("set password with %s token: %w", purpose, err)
	}
	return u, nil
}
