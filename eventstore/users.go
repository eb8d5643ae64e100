package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
)

// Users holds the merchants' dashboard users and their sessions (tables
// users and user_sessions). Like accounts and keys they are configuration,
// not plan history: what a user does to a plan is recorded in the events'
// metadata (Metadata.User).
type Users struct {
	pool *pgxpool.Pool
}

// The roles of a user. An owner manages the account's keys, webhooks and
// users; a member runs the plans.
const (
	RoleOwner  = "owner"
	RoleMember = "member"
)

// Fields of NewUser, as validation errors name them.
const (
	UserFieldEmail    = "email"
	UserFieldName     = "name"
	UserFieldPassword = "password"
	UserFieldRole     = "role"
)

var (
	// ErrEmailTaken: another user has the email already (emails are unique
	// across the installation); nothing was written.
	ErrEmailTaken = errors.New("a user with this email exists already")
	// ErrBadCredentials: no user has the email, or the password is wrong;
	// callers must not tell which.
	ErrBadCredentials = errors.New("email or password is incorrect")
)

// User is a merchant's dashboard user. The password hash never leaves the
// store.
type User struct {
	ID        int64
	AccountID int64
	Email     string // normalised: see NormalizeEmail
	Name      string
	Role      string // RoleOwner or RoleMember
	CreatedAt time.Time
}

// NewUser is what CreateUser needs. Password is the plain password, of
// MinPasswordBytes to MaxPasswordBytes bytes; only its argon2id hash is
// stored.
type NewUser struct {
	AccountID int64
	Email     string
	Name      string
	Role      string // "" is RoleMember
	Password  string
}

// NormalizeEmail is the form in which an email is stored and looked up:
// trimmed and in lower case. Lower-casing the local part too is a choice
// (RFC 5321 lets a server tell "Ann" from "ann"; no mail service in use
// does), so a user signs in however they type their address.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// validate cleans nu and returns its problems by field (a
// *domain.ValidationError), or nil. An invited user has no password yet.
func (nu *NewUser) validate(invited bool) error {
	var ve domain.ValidationError
	nu.Email = NormalizeEmail(domain.CheckText(&ve, UserFieldEmail, nu.Email, domain.SingleLine, domain.MaxEmailLen))
	if ve.Fields[UserFieldEmail] == nil && !domain.ValidEmail(nu.Email) {
		ve.Add(UserFieldEmail, "The email must be a valid email address.")
	}
	nu.Name = domain.CheckText(&ve, UserFieldName, nu.Name, domain.SingleLine, domain.MaxNameLen)
	if nu.Role == "" {
		nu.Role = RoleMember
	}
	if nu.Role != RoleOwner && nu.Role != RoleMember {
		ve.Add(UserFieldRole, "The role must be owner or member.")
	}
	if msg := checkPassword(nu.Password); msg != "" && !invited {
		ve.Add(UserFieldPassword, msg)
	}
	return ve.OrNil()
}

// rowQuerier is the pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const userColumns = `u.id, u.account_id, u.email, u.name, u.role, u.created_at`

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	err := row.Scan(append([]any{&u.ID, &u.AccountID, &u.Email, &u.Name, &u.Role, &u.CreatedAt}, extra...)...)
	return u, err
}

// CreateUser validates nu (a *domain.ValidationError naming the fields
// otherwise), hashes its password with argon2id and stores the user.
// ErrEmailTaken if the email is in use; ErrNotFound if the account is
// missing.
func (s *Users) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if err := nu.validate(false); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	return insertUser(ctx, s.pool, nu, hash)
}

// insertUser stores nu, validated, with the password hash given ("" for
// none yet).
func insertUser(ctx context.Context, q rowQuerier, nu NewUser, hash string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `INSERT INTO users AS u (account_id, email, name, password_hash, role)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+userColumns, nu.AccountID, nu.Email, nu.Name, hash, nu.Role))
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", interpretError(err))
	}
	return u, nil
}

// UserByID returns user id of account, or ErrNotFound (also when the user
// belongs to another account).
func (s *Users) UserByID(ctx context.Context, accountID, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.account_id = $1 AND u.id = $2`,
		accountID, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, interpretError(err))
	}
	return u, nil
}

// AccountUsers returns the account's users, oldest first.
func (s *Users) AccountUsers(ctx context.Context, accountID int64) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.account_id = $1 ORDER BY u.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) { return scanUser(row) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// AccountUsersPage returns at most limit of the account's users, oldest
// first, those with an id above after (0: from the first), and whether
// there are more past them: keyset paging on (account_id, id), the index
// of migration 014.
func (s *Users) AccountUsersPage(ctx context.Context, accountID, after int64, limit int) ([]User, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.account_id = $1 AND u.id > $2
		ORDER BY u.id LIMIT $3`, accountID, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) { return scanUser(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	if len(users) > limit {
		return users[:limit], true, nil
	}
	return users, false, nil
}

// AuthenticateUser returns the user whose email (normalised first) and
// password these are, or ErrBadCredentials. An unknown email costs the
// same argon2id computation as a wrong password (against a dummy hash),
// so neither the answer nor its timing tells whether the email exists.
func (s *Users) AuthenticateUser(ctx context.Context, email, password string) (User, error) {
	var hash string
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = $1`,
		NormalizeEmail(email)), &hash)
	err = interpretError(err)
	if errors.Is(err, ErrNotFound) || (err == nil && hash == "") { // no user, or invited and no password yet
		_, _ = passwordMatches(ctx, dummyHash(), password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := passwordMatches(ctx, hash, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate user %d: %w", u.ID, err)
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// SetUserPassword replaces the password of user id (of MinPasswordBytes
// to MaxPasswordBytes bytes; a *domain.ValidationError otherwise) and ends
// every session of the user. ErrNotFound if there is no such user.
func (s *Users) SetUserPassword(ctx context.Context, id int64, password string) error {
	hash, err := newPasswordHash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("set password of user %d: %w", id, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("set password: end sessions: %w", err)
		}
		return nil
	})
}

// newPasswordHash checks a new password (a *domain.ValidationError naming
// the password field if it is too short or too long) and hashes it.
func newPasswordHash(ctx context.Context, password string) (string, error) {
	if msg := checkPassword(password); msg != "" {
		var ve domain.ValidationError
		ve.Add(UserFieldPassword, msg)
		return "", &ve
	}
	return hashPassword(ctx, password)
}
