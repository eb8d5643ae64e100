package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"goodplan/domain"
	"goodplan/domain/domaintest"
)

func applyAll(t *testing.T, g *domain.PlanGroup, evs []domain.Event) {
	t.Helper()
	for _, e := range evs {
		if err := domaintest.CheckStorable(e); err != nil {
			t.Fatal(err)
		}
		if err := g.ApplyStored(e, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlanGroupLifecycle(t *testing.T) {
	id := uuid.New()
	var g domain.PlanGroup
	evs, err := g.Create(domain.CreatePlanGroup{PlanGroupID: 9, AccountID: 1, ID: id, Name: " Premium ",
		Members: []domain.MemberInput{{Ref: "starter", ID: 7}, {Kind: "payment_plan", Ref: "42", ID: 42}}, Now: catalogNow})
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, &g, evs)
	want := []domain.GroupMember{{Kind: domain.CatalogPlanMember, ID: 7, PublicID: "starter"}, {Kind: domain.PaymentPlanMember, ID: 42}}
	if g.Name() != "Premium" || g.PublicID() != id || g.ID() != 9 || !slices.Equal(g.Members(), want) {
		t.Fatalf("group %+v", g)
	}
	later := catalogNow.Add(time.Minute)
	evs, err = g.Update(domain.UpdatePlanGroup{Name: "Basic", Members: []domain.MemberInput{{Kind: "payment_plan", Ref: "42", ID: 42}}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, &g, evs)
	if g.Name() != "Basic" || len(g.Members()) != 1 || !g.UpdatedAt().Equal(later) {
		t.Fatalf("after update %+v", g)
	}
	if evs, err := g.Update(domain.UpdatePlanGroup{Name: "Basic", Members: []domain.MemberInput{{Kind: "payment_plan", Ref: "42", ID: 42}}, Now: later}); err != nil || evs != nil {
		t.Fatalf("no-op update = %v, %v", evs, err)
	}
	evs, err = g.Delete(domain.DeletePlanGroup{Now: later})
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, &g, evs)
	var nf *domain.NotFoundError
	if _, err := g.Update(domain.UpdatePlanGroup{Name: "x", Now: later}); !errors.As(err, &nf) || !g.Deleted() {
		t.Fatalf("update of a deleted group: %v", err)
	}
	if _, err := (&domain.PlanGroup{}).Delete(domain.DeletePlanGroup{Now: later}); !errors.Is(err, domain.ErrPlanGroupNotFound) {
		t.Fatalf("delete of no group: %v", err)
	}
}

func TestPlanGroupValidation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      uuid.UUID
		gname   string
		members []domain.MemberInput
		field   string
		code    domain.Code
	}{
		{"no id", uuid.Nil, "g", nil, "id", domain.CodeRequired},
		{"no name", uuid.New(), "  ", nil, "name", domain.CodeRequired},
		{"name too long", uuid.New(), strings.Repeat("n", 256), nil, "name", domain.CodeInvalid},
		{"name with a line break", uuid.New(), "a\nb", nil, "name", domain.CodeInvalid},
		{"unknown plan", uuid.New(), "g", []domain.MemberInput{{Ref: "gold"}}, "plans.0.id", domain.CodeInvalid},
		{"member without id", uuid.New(), "g", []domain.MemberInput{{Ref: "", ID: 3}}, "plans.0.id", domain.CodeRequired},
		{"unknown kind", uuid.New(), "g", []domain.MemberInput{{Kind: "invoice", Ref: "1", ID: 1}}, "plans.0.type", domain.CodeNotOneOf},
		{"listed twice", uuid.New(), "g", []domain.MemberInput{{Ref: "a", ID: 1}, {Ref: "a", ID: 1}}, "plans.1.id", domain.CodeInvalid},
		{"too many", uuid.New(), "g", make([]domain.MemberInput, domain.MaxGroupMembers+1), "plans", domain.CodeTooMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g domain.PlanGroup
			_, err := g.Create(domain.CreatePlanGroup{ID: tc.id, Name: tc.gname, Members: tc.members, Now: catalogNow})
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Create: %v", err)
			}
			if got := ve.Problems[tc.field]; len(got) == 0 || got[0].Code != tc.code {
				t.Fatalf("problems %v, want %s on %s", ve.Problems, tc.code, tc.field)
			}
		})
	}
	// A payment plan and a catalog plan with the same number are different members.
	var g domain.PlanGroup
	if _, err := g.Create(domain.CreatePlanGroup{ID: uuid.New(), Name: "g", Now: catalogNow,
		Members: []domain.MemberInput{{Ref: "a", ID: 1}, {Kind: "payment_plan", Ref: "1", ID: 1}}}); err != nil {
		t.Fatal(err)
	}
}
