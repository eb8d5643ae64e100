package domain_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"goodplan/domain"
)

func TestIntroductionEmailOutcome(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 11, 27, 2, 0, 0, 0, time.UTC)
	sent := domain.IntroductionEmailSent{MessageID: "<m@x>", To: "john@example.com", SentAt: at}
	failed := domain.IntroductionEmailFailed{Reason: "550 no such user", Attempts: 1, FailedAt: at}
	withIntro := created(seedMonthly3())
	withIntro.SendIntroductionEmail = true
	noIntro := created(seedMonthly3())
	noIntro.SendIntroductionEmail = false

	cases := []struct {
		name       string
		given      []domain.Event
		when       func(*domain.Plan) ([]domain.Event, error)
		want       []domain.Event
		wantErr    error
		wantStatus domain.EmailStatus
	}{
		{"sent", []domain.Event{withIntro}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent("<m@x>", "john@example.com", at)
		}, []domain.Event{sent}, nil, domain.EmailSent},
		{"sent twice records once", []domain.Event{withIntro, sent}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent("<m@x>", "john@example.com", at)
		}, nil, nil, domain.EmailSent},
		{"failed", []domain.Event{withIntro}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailFailed("550 no such user", 1, at)
		}, []domain.Event{failed}, nil, domain.EmailFailed},
		{"failed after sent changes nothing", []domain.Event{withIntro, sent}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailFailed("late", 3, at)
		}, nil, nil, domain.EmailSent},
		{"no email requested", []domain.Event{noIntro}, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent("<m@x>", "john@example.com", at)
		}, nil, domain.ErrNoIntroductionEmail, domain.EmailNotRequested},
		{"no plan", nil, func(p *domain.Plan) ([]domain.Event, error) {
			return p.RecordIntroductionEmailSent("<m@x>", "john@example.com", at)
		}, nil, domain.ErrPlanNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var p domain.Plan
			for _, e := range c.given {
				p.Apply(e)
			}
			got, err := c.when(&p)
			if !errors.Is(err, c.wantErr) || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, %v; want %v, %v", got, err, c.want, c.wantErr)
			}
			for _, e := range got {
				p.Apply(e)
			}
			if p.IntroductionEmail().Status != c.wantStatus {
				t.Fatalf("status %q, want %q", p.IntroductionEmail().Status, c.wantStatus)
			}
		})
	}
}

func TestSingleLineFieldsRejectControlCharacters(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ field, name, number string }{
		{"customer.name", "Ann\r\nBcc: x@evil.test", ""},
		{"customer.name", "Ann\x00", ""},
		{"invoice.invoice_number", "Ann", "INV-1\n2"},
	} {
		var p domain.Plan
		_, err := p.CreatePlan(domain.CreatePlan{PlanID: 1, OptionIDs: slices.Repeat([]int64{2}, domain.MaxOptions), Now: time.Now(),
			CustomerName: c.name, CustomerEmail: "ann@example.com", Amount: "10", InvoiceNumber: c.number})
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields[c.field]) == 0 {
			t.Errorf("%q/%q: %v, want an error on %s", c.name, c.number, err, c.field)
		}
	}
	// Emoji, quotes and right-to-left text are fine.
	var p domain.Plan
	if _, err := p.CreatePlan(domain.CreatePlan{PlanID: 1, OptionIDs: slices.Repeat([]int64{2}, domain.MaxOptions), Now: time.Now(),
		CustomerName: `محمد "Mo" 😀`, CustomerEmail: "mo@example.com", Amount: "10"}); err != nil {
		t.Fatal(err)
	}
}
