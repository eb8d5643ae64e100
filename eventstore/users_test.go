package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

func newUserStore(t *testing.T) (*eventstore.Store, eventstore.Account) {
	t.Helper()
	store, _ := newStore(t)
	acct, err := store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return store, acct
}

func TestCreateUserValidatesAndHashes(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	ok := eventstore.NewUser{AccountID: acct.ID, Email: " Ann@Example.COM ", Name: "Ann", Password: "12345678"}
	for _, tc := range []struct {
		name  string
		edit  func(*eventstore.NewUser)
		field string
	}{
		{"no email", func(u *eventstore.NewUser) { u.Email = "" }, eventstore.UserFieldEmail},
		{"bad email", func(u *eventstore.NewUser) { u.Email = "ann@localhost" }, eventstore.UserFieldEmail},
		{"email with a line break", func(u *eventstore.NewUser) { u.Email = "ann@example.com\r\nBcc: x@y.z" }, eventstore.UserFieldEmail},
		{"name with a control character", func(u *eventstore.NewUser) { u.Name = "A\x00nn" }, eventstore.UserFieldName},
		{"name too long", func(u *eventstore.NewUser) { u.Name = strings.Repeat("n", domain.MaxNameLen+1) }, eventstore.UserFieldName},
		{"role", func(u *eventstore.NewUser) { u.Role = "admin" }, eventstore.UserFieldRole},
		{"short password", func(u *eventstore.NewUser) { u.Password = "1234567" }, eventstore.UserFieldPassword},
		{"long password", func(u *eventstore.NewUser) { u.Password = strings.Repeat("p", eventstore.MaxPasswordBytes+1) }, eventstore.UserFieldPassword},
	} {
		nu := ok
		tc.edit(&nu)
		_, err := store.CreateUser(ctx, nu)
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Fields[tc.field] == nil || len(ve.Fields) != 1 {
			t.Fatalf("%s: %v, want a problem with %s only", tc.name, err, tc.field)
		}
	}
	if n := count(t, store.Pool(), `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("refused users stored: %d", n)
	}

	u, err := store.CreateUser(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ann@example.com" || u.Role != eventstore.RoleMember || u.AccountID != acct.ID || u.Name != "Ann" {
		t.Fatalf("user %+v", u)
	}
	var hash string
	if err := store.Pool().QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, ok.Password) {
		t.Fatalf("stored hash %q", hash)
	}
	// Emails are unique across accounts, however they are written.
	other, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: other.ID, Email: "ANN@example.com", Password: "abcdefgh"}); !errors.Is(err, eventstore.ErrEmailTaken) {
		t.Fatalf("same email in another account: %v", err)
	}
	if _, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: 999999, Email: "bob@example.com", Password: "abcdefgh"}); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	if _, err := store.UserByID(ctx, other.ID, u.ID); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("user of another account by id: %v", err)
	}
	if users, err := store.AccountUsers(ctx, acct.ID); err != nil || len(users) != 1 || users[0] != u {
		t.Fatalf("account users %+v, %v", users, err)
	}
}

func TestAuthenticateUser(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	u, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: "ann@example.com", Role: eventstore.RoleOwner,
		Password: "s3cret password ü"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.AuthenticateUser(ctx, " ANN@example.com", "s3cret password ü")
	if err != nil || got != u {
		t.Fatalf("right password: %+v, %v", got, err)
	}
	for _, try := range [][2]string{{"ann@example.com", "s3cret password u"}, {"ann@example.com", ""},
		{"bob@example.com", "s3cret password ü"}, {"", ""},
		{"ann@example.com", "s3cret password ü" + strings.Repeat(" ", eventstore.MaxPasswordBytes)}} {
		if _, err := store.AuthenticateUser(ctx, try[0], try[1]); !errors.Is(err, eventstore.ErrBadCredentials) {
			t.Fatalf("%q: %v, want ErrBadCredentials", try, err)
		}
	}
	// A new password works, the old one no longer does, and every session
	// ends.
	token, _, err := store.CreateSession(ctx, u.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetUserPassword(ctx, u.ID, "short"); err == nil {
		t.Fatal("a short new password was accepted")
	}
	if err := store.SetUserPassword(ctx, u.ID, "another password"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AuthenticateUser(ctx, "ann@example.com", "s3cret password ü"); !errors.Is(err, eventstore.ErrBadCredentials) {
		t.Fatalf("old password after the change: %v", err)
	}
	if _, err := store.AuthenticateUser(ctx, "ann@example.com", "another password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := store.SessionByToken(ctx, token, time.Now()); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("session after a password change: %v", err)
	}
	if err := store.SetUserPassword(ctx, 999999, "another password"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	u, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: "ann@example.com", Name: "Ann",
		Role: eventstore.RoleOwner, Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	token, sess, err := store.CreateSession(ctx, u.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 || sess.User != u || sess.AccountName != "Acme" || !sess.CreatedAt.Equal(t0) {
		t.Fatalf("session %q %+v", token, sess)
	}
	// Only the token's hash is stored.
	if n := count(t, store.Pool(), `SELECT count(*) FROM user_sessions WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, token); n != 1 {
		t.Fatalf("sessions stored by the token's SHA-256: %d", n)
	}
	if n := count(t, store.Pool(), `SELECT count(*) FROM user_sessions WHERE position(convert_to($1, 'UTF8') in token_hash) > 0`, token); n != 0 {
		t.Fatal("the token itself is stored")
	}
	lastSeen := func() time.Time {
		var at time.Time
		if err := store.Pool().QueryRow(ctx, `SELECT last_seen_at FROM user_sessions WHERE id = $1`, sess.ID).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	// A use within a minute of the last recorded one writes nothing.
	if _, err := store.SessionByToken(ctx, token, t0.Add(59*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !lastSeen().Equal(t0) {
		t.Fatalf("last seen written within a minute: %s", lastSeen())
	}
	t1 := t0.Add(11 * time.Hour)
	if _, err := store.SessionByToken(ctx, token, t1); err != nil {
		t.Fatal(err)
	}
	if !lastSeen().Equal(t1) {
		t.Fatalf("last seen %s, want %s", lastSeen(), t1)
	}
	// Idle timeout from the last recorded use.
	if _, err := store.SessionByToken(ctx, token, t1.Add(eventstore.SessionIdleTimeout)); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("idle for 12 hours: %v", err)
	}
	if _, err := store.SessionByToken(ctx, "unknown-token", t1); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}

	// Absolute lifetime, however often the session is used.
	token2, _, err := store.CreateSession(ctx, u.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	at := t0
	for at = t0.Add(10 * time.Hour); at.Before(t0.Add(eventstore.SessionMaxAge)); at = at.Add(10 * time.Hour) {
		if _, err := store.SessionByToken(ctx, token2, at); err != nil {
			t.Fatalf("at %s: %v", at.Sub(t0), err)
		}
	}
	if _, err := store.SessionByToken(ctx, token2, t0.Add(eventstore.SessionMaxAge)); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("7 days after sign-in: %v", err)
	}

	// A new sign-in clears the user's expired sessions; signing out deletes.
	token3, _, err := store.CreateSession(ctx, u.ID, t0.Add(eventstore.SessionMaxAge+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, store.Pool(), `SELECT count(*) FROM user_sessions`); n != 1 {
		t.Fatalf("sessions after a sign-in with two expired: %d", n)
	}
	if err := store.DeleteSession(ctx, token3); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteSession(ctx, token3); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
	if n := count(t, store.Pool(), `SELECT count(*) FROM user_sessions`); n != 0 {
		t.Fatalf("sessions after sign-out: %d", n)
	}
}

func TestInvitationAndPasswordResetLinks(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	// An invited user cannot sign in until the link is used.
	invited, err := store.InviteUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: "Bea@example.com", Name: "Bea"})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := store.CreateUserToken(ctx, invited.ID, eventstore.TokenInvite, t0)
	if err != nil {
		t.Fatal(err)
	}
	if invited.Email != "bea@example.com" || invited.Role != eventstore.RoleMember || len(token) != 43 {
		t.Fatalf("invited %+v, token %q", invited, token)
	}
	if _, err := store.AuthenticateUser(ctx, "bea@example.com", ""); !errors.Is(err, eventstore.ErrBadCredentials) {
		t.Fatalf("invited user without a password signs in: %v", err)
	}
	if _, err := store.InviteUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: "bea@EXAMPLE.com"}); !errors.Is(err, eventstore.ErrEmailTaken) {
		t.Fatalf("inviting a taken email: %v", err)
	}
	if n := count(t, store.Pool(), `SELECT count(*) FROM user_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, token); n != 1 {
		t.Fatalf("tokens stored by their SHA-256: %d", n)
	}
	if u, err := store.UserByToken(ctx, eventstore.TokenInvite, token, t0.Add(59*time.Minute)); err != nil || u != invited {
		t.Fatalf("user by invitation: %+v, %v", u, err)
	}
	other := "x" // a token that differs from the real one in its first character
	if token[0] == 'x' {
		other = "y"
	}
	for _, tc := range []struct {
		name, purpose, token string
		at                   time.Time
	}{
		{"expired", eventstore.TokenInvite, token, t0.Add(eventstore.UserTokenLifetime)},
		{"another purpose", eventstore.TokenReset, token, t0},
		{"unknown", eventstore.TokenInvite, other + token[1:], t0},
	} {
		if _, err := store.UserByToken(ctx, tc.purpose, tc.token, tc.at); !errors.Is(err, eventstore.ErrTokenInvalid) {
			t.Fatalf("%s: UserByToken %v", tc.name, err)
		}
		if _, err := store.SetPasswordWithToken(ctx, tc.purpose, tc.token, "bea's password", tc.at); !errors.Is(err, eventstore.ErrTokenInvalid) {
			t.Fatalf("%s: SetPasswordWithToken %v", tc.name, err)
		}
	}
	// A refused password leaves the link working.
	var ve *domain.ValidationError
	if _, err := store.SetPasswordWithToken(ctx, eventstore.TokenInvite, token, "short", t0); !errors.As(err, &ve) {
		t.Fatalf("short password: %v", err)
	}
	if u, err := store.SetPasswordWithToken(ctx, eventstore.TokenInvite, token, "bea's password", t0.Add(time.Minute)); err != nil || u.ID != invited.ID {
		t.Fatalf("accept the invitation: %+v, %v", u, err)
	}
	if _, err := store.AuthenticateUser(ctx, "bea@example.com", "bea's password"); err != nil {
		t.Fatalf("sign in after the invitation: %v", err)
	}
	if _, err := store.SetPasswordWithToken(ctx, eventstore.TokenInvite, token, "another password", t0.Add(2*time.Minute)); !errors.Is(err, eventstore.ErrTokenInvalid) {
		t.Fatalf("the invitation used twice: %v", err)
	}

	// Reset: a reset spends every other link of the user and ends their
	// sessions.
	if _, err := store.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown email: %v", err)
	}
	if _, _, err := store.CreateUserToken(ctx, 999999, eventstore.TokenReset, t0); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("reset of an unknown user: %v", err)
	}
	if u, err := store.UserByEmail(ctx, " BEA@example.com"); err != nil || u != invited {
		t.Fatalf("user by email: %+v, %v", u, err)
	}
	_, first, err := store.CreateUserToken(ctx, invited.ID, eventstore.TokenReset, t0)
	if err != nil {
		t.Fatal(err)
	}
	u, second, err := store.CreateUserToken(ctx, invited.ID, eventstore.TokenReset, t0)
	if err != nil || u.ID != invited.ID || second == first {
		t.Fatalf("second reset: %+v %v", u, err)
	}
	session, _, err := store.CreateSession(ctx, invited.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetPasswordWithToken(ctx, eventstore.TokenReset, second, "a new password", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AuthenticateUser(ctx, "bea@example.com", "a new password"); err != nil {
		t.Fatalf("sign in after the reset: %v", err)
	}
	if _, err := store.SessionByToken(ctx, session, t0.Add(2*time.Minute)); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("session after the reset: %v", err)
	}
	if _, err := store.SetPasswordWithToken(ctx, eventstore.TokenReset, first, "yet another one", t0.Add(2*time.Minute)); !errors.Is(err, eventstore.ErrTokenInvalid) {
		t.Fatalf("an older reset link after a reset: %v", err)
	}
}

// TestResetLinkWorksOnce: racing uses of one link, one wins.
func TestResetLinkWorksOnce(t *testing.T) {
	t.Parallel()
	store, acct := newUserStore(t)
	ctx := context.Background()
	now := time.Now()
	ann, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: "ann@example.com", Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := store.CreateUserToken(ctx, ann.ID, eventstore.TokenReset, now)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := store.SetPasswordWithToken(ctx, eventstore.TokenReset, token, "new password "+string(rune('a'+i)), now)
			errs <- err
		}()
	}
	wins := 0
	for range 4 {
		switch err := <-errs; {
		case err == nil:
			wins++
		case !errors.Is(err, eventstore.ErrTokenInvalid):
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d uses of one link succeeded", wins)
	}
}
