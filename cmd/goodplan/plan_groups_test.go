package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// TestPlanGroupsThroughServe: a plan group appended straight to the store
// (below the API, which writes the read model itself) reaches the plan
// group read model through the relay and the projection-plan-groups
// consumer: it shows in the list, which reads only the read model.
func TestPlanGroupsThroughServe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Groups Co", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL)
	if status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plan-groups", key, `{"name":"Via API"}`); status != http.StatusCreated {
		t.Fatalf("create plan group: %d %s", status, body)
	}
	store := openTestStore(t, dbURL)
	ctx := context.Background()
	id, err := store.NextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gid := uuid.New()
	_, err = eventstore.PlanGroupAggregate.Run(ctx, store, eventstore.Cmd[*domain.PlanGroup]{ID: id, Start: true,
		Meta: eventstore.Metadata{AccountID: acct, Actor: "test", CommandID: "test-group"},
		Decide: func(g *domain.PlanGroup) ([]domain.Event, error) {
			return g.Create(domain.CreatePlanGroup{PlanGroupID: id, AccountID: acct, ID: gid, Name: "Below the API", Now: time.Now()})
		}})
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "the plan group read model to list the group", func() error {
		status, b := call(t, http.MethodGet, srv.URL+"/api/v1/plan-groups", key, "")
		if status != http.StatusOK {
			t.Fatalf("list plan groups: %d %s", status, b)
		}
		if !strings.Contains(string(b), `"id":"`+gid.String()+`","name":"Below the API"`) {
			return errors.New("not listed yet: " + string(b))
		}
		return nil
	})
}
