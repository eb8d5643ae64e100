package projections

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"goodplan/domain"
)

// rowJSONStrings are texts encoding/json escapes in different ways, and
// plain ones.
var rowJSONStrings = []string{"", "Customer 42", "customer42@example.com", `Zoë "Q"`, `<O'Brien> & Søn`, "a\\b",
	"tab\there", "nul\x00", "bad \xff utf-8", "line\u2028sep\u2029", "日本", "\x7f", "merchant", "pending"}

func randomTime(rng *rand.Rand) time.Time {
	t := time.Unix(rng.Int64N(400_000_000_000)-100_000_000_000, rng.Int64N(1e9)).UTC()
	switch rng.IntN(6) {
	case 0:
		return t.In(time.FixedZone("X", 3600*rng.IntN(12)))
	case 1:
		return t.Truncate(time.Second)
	}
	return t
}

func randomMoney(rng *rand.Rand) domain.Money {
	cur, _ := domain.LookupCurrency([]string{"USD", "JPY", "KWD"}[rng.IntN(3)])
	m, err := domain.ParseMoney([]string{"0", "1200.00", "0.01", "-3.5", "99999.999", "7"}[rng.IntN(6)], cur)
	if err != nil {
		return domain.Money{}
	}
	return m
}

// randomRowValue is one of the values rowOf encodes, with random
// contents (some of them not ones rowJSON writes by hand).
func randomRowValue(rng *rand.Rand) any {
	str := func() string { return rowJSONStrings[rng.IntN(len(rowJSONStrings))] }
	tp := func() *time.Time {
		if rng.IntN(2) == 0 {
			return nil
		}
		t := randomTime(rng)
		return &t
	}
	switch rng.IntN(4) {
	case 0:
		return domain.Customer{ID: rng.Int64(), Name: str(), Email: str(), Phone: str()}
	case 1:
		return domain.Invoice{ID: -rng.Int64N(5), Amount: randomMoney(rng), Currency: str(), InvoiceNumber: str(), Description: str()}
	case 2:
		return domain.IntroductionEmail{Status: domain.EmailStatus(str()), MessageID: str(), At: tp(), Reason: str(), Resends: rng.IntN(3)}
	}
	l := Lifecycle{Interval: domain.Interval(str()), Ledger: domain.Ledger{Total: randomMoney(rng), Paid: randomMoney(rng),
		Reported: randomMoney(rng), Outstanding: randomMoney(rng)},
		Schedule: []domain.InstallmentState{}, Payments: []domain.Payment{}, Proposals: []domain.Proposal{}, Notifications: []domain.Notice{},
		ActivatedAt: tp(), CompletedAt: tp(), ClosedAt: tp(), ClosedReason: str()}
	for i := range rng.IntN(4) {
		d := domain.NewDate(1+rng.IntN(12000), time.Month(1+rng.IntN(12)), 1+rng.IntN(28))
		if rng.IntN(8) == 0 {
			d = domain.Date{}
		}
		l.Schedule = append(l.Schedule, domain.InstallmentState{Number: i + 1, DueDate: d, Amount: randomMoney(rng),
			Paid: randomMoney(rng), Outstanding: randomMoney(rng), Status: domain.InstallmentStatus(str())})
	}
	switch rng.IntN(6) {
	case 0:
		l.Payments = append(l.Payments, domain.Payment{ID: 1, Amount: randomMoney(rng)})
	case 1:
		l.Consent = &domain.Consent{}
	case 2:
		l.Schedule = nil
	}
	return l
}

// TestRowJSONIsEncodingJSON checks rowJSON writes exactly json.Marshal's
// bytes (or its error) over random values of every type it writes.
func TestRowJSONIsEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		v := randomRowValue(rng)
		got, gotErr := rowJSON(v)
		want, wantErr := json.Marshal(v)
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("rowJSON(%#v)\n= %s, %v\nencoding/json: %s, %v", v, got, gotErr, want, wantErr)
		}
	}
}
