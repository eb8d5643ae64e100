package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// roleUser creates a user of acct with role.
func roleUser(t *testing.T, store *eventstore.Store, acct eventstore.Account, email, role string) eventstore.User {
	t.Helper()
	u, err := store.CreateUser(context.Background(), eventstore.NewUser{AccountID: acct.ID, Email: email, Role: role,
		Password: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestUserRolesKeepAnOwner: roles change and users go, but never the
// account's last owner, not even with two owners demoted at once; another
// account's user is not found; a removed user's sessions end.
func TestUserRolesKeepAnOwner(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	ann := roleUser(t, store, acct, "ann@example.com", eventstore.RoleOwner)
	bob := roleUser(t, store, acct, "bob@example.com", eventstore.RoleMember)
	other, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	eve := roleUser(t, store, other, "eve@example.com", eventstore.RoleOwner)

	var ve *domain.ValidationError
	if _, err := store.SetUserRole(ctx, acct.ID, bob.ID, "admin"); !errors.As(err, &ve) || ve.Fields[eventstore.UserFieldRole] == nil {
		t.Fatalf("role admin: %v", err)
	}
	if _, err := store.SetUserRole(ctx, acct.ID, ann.ID, eventstore.RoleMember); !errors.Is(err, eventstore.ErrLastOwner) {
		t.Fatalf("demote the last owner: %v", err)
	}
	if err := store.RemoveUser(ctx, acct.ID, ann.ID); !errors.Is(err, eventstore.ErrLastOwner) {
		t.Fatalf("remove the last owner: %v", err)
	}
	if _, err := store.SetUserRole(ctx, acct.ID, eve.ID, eventstore.RoleMember); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("another account's user: %v", err)
	}
	if err := store.RemoveUser(ctx, acct.ID, eve.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("remove another account's user: %v", err)
	}
	if u, err := store.SetUserRole(ctx, acct.ID, bob.ID, eventstore.RoleOwner); err != nil || u.Role != eventstore.RoleOwner {
		t.Fatalf("promote bob: %+v %v", u, err)
	}

	// Two owners demoted at once: one of them stays an owner.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []int64{ann.ID, bob.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = store.SetUserRole(ctx, acct.ID, id, eventstore.RoleMember)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), eventstore.ErrLastOwner) {
		t.Fatalf("two owners demoted at once: %v", errs)
	}
	users, err := store.AccountUsers(ctx, acct.ID)
	if err != nil || len(users) != 2 || (users[0].Role == eventstore.RoleOwner) == (users[1].Role == eventstore.RoleOwner) {
		t.Fatalf("after the race: %+v %v", users, err)
	}

	// The member goes, with their session.
	member := users[0]
	if member.Role == eventstore.RoleOwner {
		member = users[1]
	}
	token, _, err := store.CreateSession(ctx, member.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RemoveUser(ctx, acct.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SessionByToken(ctx, token, time.Now()); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("a removed user's session: %v", err)
	}
	if err := store.RemoveUser(ctx, acct.ID, member.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("remove again: %v", err)
	}
}
