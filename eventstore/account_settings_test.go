package eventstore_test

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

func TestUpdateEmailSettings(t *testing.T) {
	t.Parallel()
	store := eventstore.New(pgtest.NewPool(t))
	ctx := t.Context()
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(acct.Emails, domain.EmailSettings{NotifyEmails: []string{}}) {
		t.Errorf("a new account's settings = %+v, want the defaults", acct.Emails)
	}
	name, addrs := "Acme Billing", []string{"ops@acme.example", "boss@acme.example"}
	got, err := store.UpdateEmailSettings(ctx, acct.ID, domain.EmailSettingsChange{SenderName: &name, NotifyEmails: &addrs,
		CustomerEmails: map[string]bool{"portal_link": false}})
	want := domain.EmailSettings{SenderName: name, NotifyEmails: addrs, CustomerEmailsOff: []domain.PlanEmailKind{domain.EmailPortalLink}}
	if err != nil || !reflect.DeepEqual(got.Emails, want) || got.Name != "Acme" {
		t.Fatalf("UpdateEmailSettings = %+v, %v; want %+v", got, err, want)
	}
	// Every reader of the account sees them: by id, by key, in the list.
	if s, err := store.EmailSettings(ctx, acct.ID); err != nil || !reflect.DeepEqual(s, want) {
		t.Errorf("EmailSettings = %+v, %v", s, err)
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	byKey, err := store.AccountByKeyHash(ctx, sha256.Sum256([]byte(key)))
	if err != nil || !reflect.DeepEqual(byKey.Emails, want) {
		t.Errorf("AccountByKeyHash settings = %+v, %v", byKey.Emails, err)
	}

	// A bad change changes nothing.
	bad := []string{"ops@acme.example", "nope"}
	_, err = store.UpdateEmailSettings(ctx, acct.ID, domain.EmailSettingsChange{NotifyEmails: &bad})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || ve.Fields["notify_emails.1"] == nil {
		t.Fatalf("bad address: %v, want a validation error on notify_emails.1", err)
	}
	if s, _ := store.EmailSettings(ctx, acct.ID); !reflect.DeepEqual(s, want) {
		t.Errorf("a refused change changed the settings: %+v", s)
	}
	if _, err := store.UpdateEmailSettings(ctx, 999999, domain.EmailSettingsChange{}); !errors.Is(err, eventstore.ErrNotFound) {
		t.Errorf("missing account: %v, want ErrNotFound", err)
	}
}
