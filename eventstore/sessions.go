package eventstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// Lifetimes of a dashboard session, enforced when the session is read.
const (
	// SessionIdleTimeout ends a session unused for this long.
	SessionIdleTimeout = 12 * time.Hour
	// SessionMaxAge ends a session this long after sign-in, used or not.
	SessionMaxAge = 7 * 24 * time.Hour
	// sessionTouchEvery is how stale last_seen_at may get before a read
	// writes it again: a session in use costs one write a minute, not one
	// per request, and its idle timeout is exact to within this.
	sessionTouchEvery = time.Minute
)

// Session is a signed-in dashboard user: the user, the account's name (for
// the page header) and when the session began and was last seen.
type Session struct {
	ID          int64
	User        User
	AccountName string
	CreatedAt   time.Time
	LastSeenAt  time.Time
}

// secretTokenHash is what is stored of a session or link token: its
// SHA-256 (the token has 256 random bits, so no salt or slow hash is
// needed).
func secretTokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newSecretToken returns a session or link token: 32 random bytes,
// base64url (43 characters).
func newSecretToken() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// CreateSession signs user userID in at now: it returns a new session
// token (32 random bytes, base64url; only its SHA-256 is stored, so it is
// returned here once) and the session. The user's sessions that have
// expired by now are deleted on the way. ErrNotFound if there is no such
// user.
func (s *Users) CreateSession(ctx context.Context, userID int64, now time.Time) (string, Session, error) {
	token, err := newSecretToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("session token: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1 AND (created_at <= $2 OR last_seen_at <= $3)`,
		userID, now.Add(-SessionMaxAge), now.Add(-SessionIdleTimeout)); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO user_sessions (token_hash, user_id, created_at, last_seen_at)
		VALUES ($1, $2, $3, $3) RETURNING id`, secretTokenHash(token), userID, now).Scan(&id); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", interpretError(err))
	}
	sess, err := s.SessionByToken(ctx, token, now)
	if err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

// SessionByToken returns the session of token as of now, or ErrNotFound if
// there is none or it has expired (idle for SessionIdleTimeout, or begun
// SessionMaxAge ago). A read more than a minute after the last recorded
// one records now as the session's last use.
func (s *Users) SessionByToken(ctx context.Context, token string, now time.Time) (Session, error) {
	var sess Session
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, a.name, us.id, us.created_at, us.last_seen_at
		FROM user_sessions us JOIN users u ON u.id = us.user_id JOIN accounts a ON a.id = u.account_id
		WHERE us.token_hash = $1 AND us.created_at > $2 AND us.last_seen_at > $3`,
		secretTokenHash(token), now.Add(-SessionMaxAge), now.Add(-SessionIdleTimeout)),
		&sess.AccountName, &sess.ID, &sess.CreatedAt, &sess.LastSeenAt)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", interpretError(err))
	}
	sess.User = u
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if _, err := s.pool.Exec(ctx, `UPDATE user_sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`,
			sess.ID, now); err != nil {
			return Session{}, fmt.Errorf("session: record use: %w", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// DeleteSession ends the session of token (signing out). A token that
// opens no session is not an error: signing out twice is harmless.
func (s *Users) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_sessions WHERE token_hash = $1`, secretTokenHash(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
