package domain_test

import (
	"encoding/json"
	"testing"

	"goodplan/domain"
)

// TestInstallmentJSON checks the hand-written installment codec against
// encoding/json's own reading of the same text, in the compact form it
// writes and in every other form a client or an old event might hold.
func TestInstallmentJSON(t *testing.T) {
	t.Parallel()
	in := domain.Installment{Number: 12, Amount: domain.MoneyFromMinor(40001, mustCurrency("USD")), DueDate: domain.NewDate(2026, 2, 28)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"number":12,"amount":"400.01","due_date":"2026-02-28"}` {
		t.Fatalf("encoded %s", b)
	}
	type plain struct { // encoding/json's view of the same tags
		Number  int          `json:"number"`
		Amount  domain.Money `json:"amount"`
		DueDate domain.Date  `json:"due_date"`
	}
	for _, text := range []string{
		string(b),
		`{"number":12,"amount":"400.01","due_date":null}`,
		`{ "number": 12, "amount": "400.01", "due_date": "2026-02-28" }`,
		`{"due_date":"2026-02-28","amount":"400.01","number":12}`,
		`{"number":12,"amount":400.01,"due_date":"2026-02-28"}`,
		`{"number":0,"amount":"-0.50","due_date":"2026-02-28"}`,
		`{"number":7,"amount":"1","due_date":"2026-02-28","extra":true}`,
		`{"amount": "400.01", "number": 12, "due_date": "2026-02-28"}`, // jsonb's output
		`{"number":12,"amount":"400.01"}`,
		`{"number":12,"amount":"40\u0030.01","due_date":"2026-02-28"}`,
		`{"number":1,"number":2,"amount":"400.01","due_date":"2026-02-28"}`,
		`{"number":-1,"amount":"400.01","due_date":"2026-02-28"}`,
	} {
		var got domain.Installment
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		var want plain
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatal(err)
		}
		if got != domain.Installment(want) {
			t.Errorf("%s: %+v, want %+v", text, got, want)
		}
	}
	for _, bad := range []string{
		`{"number":12,"amount":"4x0.01","due_date":"2026-02-28"}`,
		`{"number":12,"amount":"400.01","due_date":"2026-02-30"}`,
		`{"number":"12","amount":"400.01","due_date":"2026-02-28"}`,
		`{"number":012,"amount":"400.01","due_date":"2026-02-28"}`,
		`{"number":1.0,"amount":"400.01","due_date":"2026-02-28"}`,
		`[1]`,
	} {
		var got domain.Installment
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s decoded as %+v", bad, got)
		}
	}
}
