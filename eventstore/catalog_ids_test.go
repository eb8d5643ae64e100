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

// TestCatalogPlanIDReservation: a public id is reserved by the append that
// creates the plan and released by the one that deletes it; a second live
// plan with the id is refused with nothing written, and another account
// may use the same id.
func TestCatalogPlanIDReservation(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cp := eventstore.CatalogPlanAggregate
	create := func(account int64) (int64, error) {
		id, err := s.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: id, Start: true,
			Meta:    eventstore.Metadata{AccountID: account, Actor: "test"},
			Options: []eventstore.AppendOption{eventstore.WithCatalogPlanID(account, "starter", id)},
			Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
				return p.Create(domain.CreateCatalogPlan{CatalogPlanID: id, AccountID: account, ID: "starter",
					Name: "Starter", Amount: "49", Now: now})
			}})
		return id, err
	}
	first, err := create(1)
	if err != nil {
		t.Fatal(err)
	}
	dup, err := create(1)
	if !errors.Is(err, eventstore.ErrCatalogIDTaken) {
		t.Fatalf("second live plan with the id: %v", err)
	}
	if recs, _, err := s.Load(ctx, cp.Stream(dup)); err != nil || len(recs) != 0 {
		t.Fatalf("refused create wrote %d events (%v)", len(recs), err)
	}
	if _, err := create(2); err != nil {
		t.Fatalf("another account's plan with the same id: %v", err)
	}
	if got, err := s.CatalogPlanIDOf(ctx, 1, "starter"); err != nil || got != first {
		t.Fatalf("CatalogPlanIDOf = %d, %v; want %d", got, err, first)
	}
	if _, err := s.CatalogPlanIDOf(ctx, 1, "nope"); !errors.Is(err, eventstore.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: first,
		Meta:    eventstore.Metadata{AccountID: 1, Actor: "test"},
		Options: []eventstore.AppendOption{eventstore.WithCatalogPlanRelease(first)},
		Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) {
			return p.Delete(domain.DeleteCatalogPlan{Now: now})
		}}); err != nil {
		t.Fatal(err)
	}
	// Deleted, the plan is still found by its id until the id is reused.
	if got, err := s.CatalogPlanIDOf(ctx, 1, "starter"); err != nil || got != first {
		t.Fatalf("CatalogPlanIDOf after delete = %d, %v; want %d", got, err, first)
	}
	reused, err := create(1)
	if err != nil {
		t.Fatalf("reuse of a deleted plan's id: %v", err)
	}
	if got, err := s.CatalogPlanIDOf(ctx, 1, "starter"); err != nil || got != reused {
		t.Fatalf("CatalogPlanIDOf after reuse = %d, %v; want %d", got, err, reused)
	}
}

// TestCatalogPrices: a price is in catalog_prices exactly when the append
// that mints it is stored (a refused append records none), with its exact
// unit amount, and only its own account finds it; VerifyCatalog finds the
// table as the events record it and lists a changed, missing or stray row.
func TestCatalogPrices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.UTC) // timestamptz keeps microseconds
	create := func(publicID, priceID string) error {
		cmd := domain.CreateCatalogPlan{AccountID: 1, ID: publicID, Name: "Pro", Amount: "10.990",
			Currency: "eur", StandardPriceID: priceID, Now: now}
		id, err := s.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cmd.CatalogPlanID = id
		evs, err := new(domain.CatalogPlan).Create(cmd)
		if err != nil {
			t.Fatal(err)
		}
		price := *evs[0].(domain.CatalogPlanCreated).StandardPrice
		_, err = eventstore.CatalogPlanAggregate.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: id, Start: true,
			Meta: eventstore.Metadata{AccountID: 1, Actor: "test"},
			Options: []eventstore.AppendOption{eventstore.WithCatalogPlanID(1, publicID, id),
				eventstore.WithCatalogPrice(1, id, price)},
			Decide: func(p *domain.CatalogPlan) ([]domain.Event, error) { return p.Create(cmd) }})
		return err
	}
	if err := create("pro", "price_aaaaaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if err := create("pro", "price_bbbbbbbbbbbbbb"); !errors.Is(err, eventstore.ErrCatalogIDTaken) {
		t.Fatalf("second plan with the id: %v", err)
	}
	got, err := s.CatalogPrices(ctx, 1, []string{"price_aaaaaaaaaaaaaa", "price_bbbbbbbbbbbbbb", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := got["price_aaaaaaaaaaaaaa"]
	if len(got) != 1 || !ok || p.UnitAmount.String() != "10.990" || p.Currency != "EUR" || !p.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("prices %+v", got)
	}
	if other, err := s.CatalogPrices(ctx, 2, []string{"price_aaaaaaaaaaaaaa"}); err != nil || len(other) != 0 {
		t.Fatalf("another account's lookup: %v, %v", other, err)
	}
	if res, err := s.VerifyCatalog(ctx); err != nil || res.Prices != 1 || len(res.Problems) != 0 {
		t.Fatalf("VerifyCatalog = %+v, %v", res, err)
	}
	for _, c := range []struct{ damage, repair, want string }{
		{`UPDATE catalog_prices SET unit_amount = 10.99`, `UPDATE catalog_prices SET unit_amount = 10.990`,
			"catalog_prices has price price_aaaaaaaaaaaaaa as 10.99 EUR of catalog plan "},
		{`UPDATE catalog_prices SET account_id = 2`, `UPDATE catalog_prices SET account_id = 1`, "in account 2 at "},
		{`CREATE TABLE prices_copy AS SELECT * FROM catalog_prices; DELETE FROM catalog_prices`,
			`INSERT INTO catalog_prices SELECT * FROM prices_copy`, "its catalog_plan.created mints price price_aaaaaaaaaaaaaa, which has no row"},
		{`INSERT INTO catalog_prices VALUES ('price_stray', 1, 99, 1, 'USD', now())`, `DELETE FROM catalog_prices WHERE price_id = 'price_stray'`,
			"catalog_prices has price price_stray (account 1, catalog plan 99), which no catalog_plan.created mints"},
	} {
		if _, err := pool.Exec(ctx, c.damage); err != nil {
			t.Fatal(err)
		}
		if res, err := s.VerifyCatalog(ctx); err != nil || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, c.want) {
			t.Fatalf("after %s: %+v, %v; want %q", c.damage, res.Problems, err, c.want)
		}
		if _, err := pool.Exec(ctx, c.repair); err != nil {
			t.Fatal(err)
		}
		if res, err := s.VerifyCatalog(ctx); err != nil || len(res.Problems) != 0 {
			t.Fatalf("after %s: %+v, %v", c.repair, res.Problems, err)
		}
	}
}
