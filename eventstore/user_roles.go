package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// ErrLastOwner: the change would leave the account without an owner;
// nothing was written.
var ErrLastOwner = errors.New("an account keeps at least one owner")

// SetUserRole gives user id of account the role (RoleOwner or RoleMember;
// a *domain.ValidationError naming the role field otherwise) and returns
// the user as it is after. ErrNotFound if the account has no such user;
// ErrLastOwner if it is the account's last owner and role is RoleMember.
// The user's sessions see the new role on their next request.
func (s *Users) SetUserRole(ctx context.Context, accountID, id int64, role string) (User, error) {
	if role != RoleOwner && role != RoleMember {
		var ve domain.ValidationError
		ve.Add(UserFieldRole, "The role must be owner or member.")
		return User{}, &ve
	}
	var out User
	err := s.withOwnersLocked(ctx, accountID, id, role == RoleMember, func(tx pgx.Tx) (err error) {
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users u SET role = $3 WHERE u.account_id = $1 AND u.id = $2
			RETURNING `+userColumns, accountID, id, role))
		return err
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// RemoveUser deletes user id of account, with its sessions and its links.
// ErrNotFound if the account has no such user; ErrLastOwner if it is the
// account's last owner. What the user did stays in the events' metadata.
func (s *Users) RemoveUser(ctx context.Context, accountID, id int64) error {
	return s.withOwnersLocked(ctx, accountID, id, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM users WHERE account_id = $1 AND id = $2`, accountID, id)
		return err
	})
}

// withOwnersLocked runs change in a transaction holding the account's
// owners' rows, so two changes cannot each leave the other the last owner
// and then both go through. If the user loses the owner role (losing), it
// must not be the last owner.
func (s *Users) withOwnersLocked(ctx context.Context, accountID, id int64, losing bool, change func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM users WHERE account_id = $1 AND role = 'owner' ORDER BY id FOR UPDATE`, accountID)
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if _, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.account_id = $1 AND u.id = $2 FOR UPDATE`,
			accountID, id)); err != nil {
			return interpretError(err)
		}
		if losing && len(owners) == 1 && slices.Contains(owners, id) {
			return ErrLastOwner
		}
		return change(tx)
	})
	var ve *domain.ValidationError
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrLastOwner) && !errors.As(err, &ve) {
		return fmt.Errorf("change user %d of account %d: %w", id, accountID, err)
	}
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return err
}

// SetUserName changes the display name of user id of account (what the
// dashboard and the plans' history show), cleaned and bounded as
// CreateUser does. A *domain.ValidationError (field "name") for a name it
// refuses; ErrNotFound if the account has no such user.
func (s *Users) SetUserName(ctx context.Context, accountID, id int64, name string) (User, error) {
	var ve domain.ValidationError
	name = domain.CheckText(&ve, UserFieldName, name, domain.SingleLine, domain.MaxNameLen)
	if err := ve.OrNil(); err != nil {
		return User{}, err
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `UPDATE users u SET name = $3 WHERE u.account_id = $1 AND u.id = $2
		RETURNING `+userColumns, accountID, id, name))
	if err != nil {
		return User{}, fmt.Errorf("set user %d name: %w", id, interpretError(err))
	}
	return u, nil
}
