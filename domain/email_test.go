package domain_test

import (
	"errors"
	"reflect"
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
