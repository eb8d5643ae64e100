package api

import (
	"errors"
	"net/http"
	"testing"

	"goodplan/domain"
	"goodplan/domain/domaintest"
	"goodplan/eventstore"
)

// createPlanEvents runs body through POST /api/v1/plans's decision, without
// the store: decodeCreatePlan, then CreatePlan with ids, the clock and a
// token filled in as the handler fills them, then mergeValidation. It
// returns the events to append or the error the handler would answer.
func createPlanEvents(body []byte) ([]domain.Event, error) {
	cmd, typeErrs, err := decodeCreatePlan(body)
	if err != nil {
		return nil, err
	}
	next := int64(100)
	nextID := func() int64 { next++; return next }
	cmd.PlanID, cmd.CustomerID, cmd.InvoiceID = nextID(), nextID(), nextID()
	cmd.AccountID = 1
	cmd.Now = seedNow
	for range cmd.OptionCount() {
		cmd.OptionIDs = append(cmd.OptionIDs, nextID())
	}
	cmd.PortalToken = "fuzz-portal-token"
	var plan domain.Plan
	events, err := plan.CreatePlan(cmd)
	if err = mergeValidation(typeErrs, err); err != nil {
		return nil, err
	}
	return events, nil
}

// FuzzCreatePlan: the create-plan decoder and decision never panic; a
// refused body is a 400 (not JSON, not an object, too big) or a validation
// error; an accepted one gives one plan.created that the event store can
// encode, that is storable in PostgreSQL's jsonb (valid UTF-8, no NUL, no
// \u0000) and decodes back equal, with every date a real YYYY-MM-DD from
// 0001 to 9999, and that folds into a pending plan.
func FuzzCreatePlan(f *testing.F) {
	for _, s := range []string{seedMinimal, seedFull, plan3,
		`{"customer":{"name":"Zoë Ñandú","email":"zoe@example.com","phone":"(555) 123-4567"},"invoice":{"amount":"1.003","currency":"kwd"},"options":{"intervals":["biweekly"],"durations":[96],"first_payment_date":"2026-11-27"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1e12,"currency":"JPY"},"options":{"durations":[2,3.0,2]}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"1","currency":"USD"},"options":{"intervals":[],"durations":[]}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1},"options":{"durations":[97,1,-1,1e7]}}`,
		`{"customer":{"name":"A\nB","email":"a@b.co"},"invoice":{"amount":10,"invoice_number":"X\tY"}}`,
		`{"customer":{"name":"\u0000","email":"a@b.co"},"invoice":{"amount":10}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"NaN"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"first_payment_date":"2025-02-29"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"first_payment_date":"9999-12-31"}}`,
		`{"customer":"x","invoice":[],"options":1,"send_introduction_email":"yes"}`,
		`{"customer":{"name":1,"email":true},"invoice":{"amount":{},"currency":1}}`,
		`{"customer":{"name":"A","name":"B","email":"a@b.co"},"invoice":{"amount":10}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10,"description":"a\u0000b"}}`,
		`{"customer":{"name":"E\u202egnp.exe","email":"a@b.co"},"invoice":{"amount":10}}`,
		`[]`, `null`, `"x"`, `{`, ``, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := createPlanEvents(body)
		if err != nil {
			var ae *apiError
			var ve *domain.ValidationError
			switch {
			case errors.As(err, &ae):
				if ae.Status != http.StatusBadRequest {
					t.Fatalf("body %q: status %d, want 400 or a validation error: %v", body, ae.Status, err)
				}
			case errors.As(err, &ve):
				if len(ve.Fields) == 0 {
					t.Fatalf("body %q: a validation error with no field", body)
				}
			default:
				t.Fatalf("body %q: error %v (%T) is neither a 400 nor a validation error", body, err, err)
			}
			return
		}
		if len(events) != 1 || events[0].EventType() != domain.EventPlanCreated {
			t.Fatalf("body %q: events %v, want one plan.created", body, events)
		}
		if _, err := eventstore.Encode(events); err != nil {
			t.Fatalf("body %q: encode: %v", body, err)
		}
		if err := domaintest.CheckStorable(events[0]); err != nil {
			t.Fatalf("body %q: accepted, but the event is not storable: %v", body, err)
		}
		var p domain.Plan
		p.Apply(events[0])
		if p.Status() != domain.StatusPending || len(p.Options()) == 0 {
			t.Fatalf("body %q: folds into a %s plan with %d options", body, p.Status(), len(p.Options()))
		}
	})
}
