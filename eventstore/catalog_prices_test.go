package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// TestCatalogPrices: a price is in catalog_prices exactly when the append
// that mints it is stored (a refused append records none), with its exact
// unit amount, and only its own account finds it.
func TestCatalogPrices(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	cp := eventstore.CatalogPlanAggregate
	create := func(publicID, priceID string) error {
		id, err := s.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cmd := domain.CreateCatalogPlan{CatalogPlanID: id, AccountID: 1, ID: publicID, Name: "Pro", Amount: "10.990",
			Currency: "eur", StandardPriceID: priceID, Now: now}
		evs, err := new(domain.CatalogPlan).Create(cmd)
		if err != nil {
			t.Fatal(err)
		}
		price := *evs[0].(domain.CatalogPlanCreated).StandardPrice
		_, err = cp.Run(ctx, s, eventstore.Cmd[*domain.CatalogPlan]{ID: id, Start: true,
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
	if len(got) != 1 || !ok || p.UnitAmount.String() != "10.990" || p.Currency != "EUR" || !p.CreatedAt.Equal(now) {
		t.Fatalf("prices %+v", got)
	}
	if other, err := s.CatalogPrices(ctx, 2, []string{"price_aaaaaaaaaaaaaa"}); err != nil || len(other) != 0 {
		t.Fatalf("another account's lookup: %v, %v", other, err)
	}
}
