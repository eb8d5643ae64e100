package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/domain"
	"goodplan/eventstore"
)

// quoteBodies are create bodies whose quote and create are compared: the
// seed's, every interval, uneven splits, JPY and KWD, month ends and a leap
// day, 96 installments, duplicates, numbers as strings.
var quoteBodies = []string{
	seedMinimal, seedFull, plan3,
	`{"customer":{"name":"Zoë Ñandú","email":"zoe@example.com"},"invoice":{"amount":"1.003","currency":"kwd"},"options":{"intervals":["biweekly"],"durations":[96],"first_payment_date":"2026-11-27"}}`,
	`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1e6,"currency":"JPY"},"options":{"durations":[7,3.0,7]}}`,
	`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"100.01"},"options":{"intervals":["monthly","weekly","biweekly","monthly"],"durations":[12,2,5],"first_payment_date":"2026-01-31"}}`,
	`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1000,"currency":"EUR","invoice_number":"INV-1","description":"two\nlines"},"options":{"durations":[11],"first_payment_date":"2026-02-28"}}`,
	`{"customer":{"name":"A","email":"a@b.co","phone":"+1 555 0100"},"invoice":{"amount":999999999999.99},"options":{"intervals":["weekly"],"durations":[2,3,4,5,6,7,8,9,10,11,12,13]},"send_introduction_email":true}`,
	// The largest plan: every interval, the twelve longest schedules, the
	// longest texts.
	`{"customer":{"name":"` + strings.Repeat("N", domain.MaxNameLen) + `","email":"a@b.co"},"invoice":{"amount":"999999999999.99","invoice_number":"` +
		strings.Repeat("I", domain.MaxInvoiceNumberLen) + `","description":"` + strings.Repeat("d", domain.MaxDescriptionLen) +
		`"},"options":{"intervals":["weekly","biweekly","monthly"],"durations":[85,86,87,88,89,90,91,92,93,94,95,96]}}`,
}

// quoteOptions returns the plan_options of a quote or create answer, each
// option's id checked (0 in a quote, positive in a create) and removed, so
// what is left is the options' shape, amounts and dates.
func quoteOptions(t *testing.T, res response, quote bool) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, res.body)
	}
	if quote && len(body) != 1 {
		t.Fatalf("quote answers more than plan_options: %s", res.body)
	}
	raw, ok := body["plan_options"].([]any)
	if !ok || len(raw) == 0 {
		t.Fatalf("no plan_options in %s", res.body)
	}
	opts := make([]map[string]any, len(raw))
	for i, o := range raw {
		opt, _ := o.(map[string]any)
		id, err := strconv.ParseInt(fmt.Sprint(opt["id"]), 10, 64)
		if err != nil || (quote && id != 0) || (!quote && id <= 0) {
			t.Fatalf("option %d has id %v (quote %v): %s", i, opt["id"], quote, res.body)
		}
		delete(opt, "id")
		opts[i] = opt
	}
	return opts
}

// compareQuoteAndCreate posts body to the quote and then to the create and
// fails unless both answer the same: a 200 whose plan_options are the
// 201's (ids aside), or the same error. The quote appends nothing. It
// reports whether the create succeeded.
func (e *testEnv) compareQuoteAndCreate(t *testing.T, body []byte) bool {
	t.Helper()
	before := e.eventCount(t)
	quote := e.do(t, "POST", "/api/v1/plans/quote", e.key, body)
	if n := e.eventCount(t); n != before {
		t.Fatalf("body %s: the quote appended %d events", body, n-before)
	}
	create := e.do(t, "POST", "/api/v1/plans", e.key, body)
	if create.status != http.StatusCreated {
		if quote.status != create.status || !bytes.Equal(quote.body, create.body) {
			t.Fatalf("body %s:\nquote  %d %s\ncreate %d %s", body, quote.status, quote.body, create.status, create.body)
		}
		return false
	}
	if quote.status != http.StatusOK || quote.header.Get("Content-Type") != "application/json" {
		t.Fatalf("body %s: quote %d %s, create 201", body, quote.status, quote.body)
	}
	if q, c := quoteOptions(t, quote, true), quoteOptions(t, create, false); !reflect.DeepEqual(q, c) {
		t.Fatalf("body %s:\nquote  %s\ncreate %s", body, quote.body, create.body)
	}
	return true
}

// TestQuoteMatchesCreate: for each body the quote's plan_options are the
// create's, and the quote appends nothing.
func TestQuoteMatchesCreate(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, body := range quoteBodies {
		if !env.compareQuoteAndCreate(t, []byte(body)) {
			t.Fatalf("body %s was refused", body)
		}
	}
	if n := env.eventCount(t); n != int64(len(quoteBodies)) {
		t.Fatalf("%d events, want one per create (%d)", n, len(quoteBodies))
	}
}

// TestQuoteBadInputLikeCreate: a body the create refuses gets the same
// status and body from the quote, and nothing is appended.
func TestQuoteBadInputLikeCreate(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, body := range []string{
		`{"customer":{"name":"John Doe","email":"john@"},"invoice":{"amount":0.5}}`,
		`{}`, `{"customer":`, `[1,2]`, `{"customer":"x","invoice":{"amount":5}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"abc"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10.001}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":1000.5,"currency":"JPY"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10,"currency":"XYZ"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"durations":[1,97]}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"intervals":["daily"],"durations":[2.5]}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"intervals":[],"durations":[]}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"options":{"first_payment_date":"2025-11-26"}}`,
		`{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":10},"send_introduction_email":"yes"}`,
		`{"customer":{"name":"E\u202egnp.exe","email":"a@b.co"},"invoice":{"amount":10,"description":"a\u0000b"}}`,
		`{"customer":{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`,
	} {
		if env.compareQuoteAndCreate(t, []byte(body)) {
			t.Fatalf("body %s was accepted", body)
		}
	}
	if n := env.eventCount(t); n != 0 {
		t.Fatalf("refused bodies appended %d events", n)
	}
	// Without a key, or with a malformed Idempotency-Key, as the create.
	for _, c := range []struct{ key, idem string }{{"", ""}, {env.key, "key\xff"}, {env.key, strings.Repeat("k", 256)}} {
		var headers []string
		if c.idem != "" {
			headers = []string{"Idempotency-Key", c.idem}
		}
		quote := env.do(t, "POST", "/api/v1/plans/quote", c.key, []byte(plan3), headers...)
		create := env.do(t, "POST", "/api/v1/plans", c.key, []byte(plan3), headers...)
		if quote.status != create.status || quote.status/100 != 4 || !bytes.Equal(quote.body, create.body) {
			t.Fatalf("key %q, Idempotency-Key %q:\nquote  %d %s\ncreate %d %s", c.key, c.idem,
				quote.status, quote.body, create.status, create.body)
		}
	}
}

// TestQuoteRecordsNothing: a quote takes nothing from the plan limit,
// records no Idempotency-Key (the key then serves a create of another
// body) and appends no event, so no email or webhook can follow.
func TestQuoteRecordsNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	limit := int64(1)
	_, key := env.account(t, eventstore.NewAccount{Name: "Small", PlanLimit: &limit})
	quote := func(idem string) response {
		t.Helper()
		res := env.do(t, "POST", "/api/v1/plans/quote", key, []byte(seedFull), "Idempotency-Key", idem)
		if res.status != http.StatusOK {
			t.Fatalf("quote: %d %s", res.status, res.body)
		}
		return res
	}
	for range 3 {
		quote("key-1")
	}
	if n := env.eventCount(t); n != 0 {
		t.Fatalf("quotes appended %d events", n)
	}
	var commands int64
	if err := env.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM commands`).Scan(&commands); err != nil || commands != 0 {
		t.Fatalf("quotes recorded %d commands (%v)", commands, err)
	}
	// The key the quotes carried is new to the create, with another body;
	// the limit of one plan is untouched by three quotes.
	create := env.do(t, "POST", "/api/v1/plans", key, []byte(plan3), "Idempotency-Key", "key-1")
	if create.status != http.StatusCreated || create.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("create after quotes: %d %s", create.status, create.body)
	}
	// A quote with the create's key is still a quote of its own body,
	// and the account at its limit may still quote.
	res := quote("key-1")
	if res.header.Get("Idempotent-Replayed") != "" || len(quoteOptions(t, res, true)) != 6 {
		t.Fatalf("quote with a used key: %v %s", res.header, res.body)
	}
	if res := env.do(t, "POST", "/api/v1/plans", key, []byte(plan3)); res.status != http.StatusForbidden {
		t.Fatalf("second create at a limit of 1: %d %s", res.status, res.body)
	}
	if n := env.eventCount(t); n != 1 {
		t.Fatalf("%d events, want the one create's", n)
	}
}

// randomCreateBody returns a create body drawn from rng, valid but for a
// few draws (a date past the 365 days, say): amounts in the currency's
// minor units as JSON numbers or strings, intervals and durations in any
// order with duplicates, or left out.
func randomCreateBody(rng *rand.Rand) []byte {
	type currency struct {
		code  string
		scale int
	}
	cur := []currency{{"USD", 2}, {"JPY", 0}, {"KWD", 3}, {"EUR", 2}, {"", 2}}[rng.IntN(5)]
	minor := []int64{1, 7, 100, 12345, 99999, 1_000_000, rng.Int64N(1e12)}[rng.IntN(7)]
	amount := strconv.FormatInt(minor, 10)
	for len(amount) <= cur.scale {
		amount = "0" + amount
	}
	if cur.scale > 0 {
		amount = amount[:len(amount)-cur.scale] + "." + amount[len(amount)-cur.scale:]
	}
	if amount[0] == '0' {
		amount = "1" + amount // at least one major unit
	}
	if rng.IntN(2) == 0 {
		amount = strconv.Quote(amount)
	}
	invoice := `{"amount":` + amount
	if cur.code != "" {
		invoice += `,"currency":"` + cur.code + `"`
	}
	invoice += "}"
	var opts []string
	if rng.IntN(4) > 0 {
		var ivs []string
		for range 1 + rng.IntN(4) {
			ivs = append(ivs, strconv.Quote([]string{"weekly", "biweekly", "monthly"}[rng.IntN(3)]))
		}
		opts = append(opts, `"intervals":[`+strings.Join(ivs, ",")+`]`)
	}
	if rng.IntN(4) > 0 {
		var ds []string
		for range 1 + rng.IntN(6) {
			ds = append(ds, strconv.Itoa(2+rng.IntN(95)))
		}
		opts = append(opts, `"durations":[`+strings.Join(ds, ",")+`]`)
	}
	if rng.IntN(3) > 0 {
		first := seedNow.AddDate(0, 0, rng.IntN(370)).Format(time.DateOnly)
		opts = append(opts, `"first_payment_date":"`+first+`"`)
	}
	return []byte(`{"customer":{"name":"Ann Lee","email":"ann@example.com"},"invoice":` + invoice +
		`,"options":{` + strings.Join(opts, ",") + `}}`)
}

// TestQuotePropertyMatchesCreate: over random create bodies, the quote
// answers what the create answers.
func TestQuotePropertyMatchesCreate(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 12))
	created := 0
	const runs = 60
	t.Logf("seed %d", seed)
	for range runs {
		if env.compareQuoteAndCreate(t, randomCreateBody(rng)) {
			created++
		}
	}
	// Most draws are valid: the comparison is not only of errors.
	if created < runs/2 {
		t.Fatalf("seed %d: only %d of %d random bodies were created", seed, created, runs)
	}
}

// FuzzQuoteMatchesCreate: for any body, the quote answers what the create
// answers (200 with its plan_options, ids aside, or the same error) and
// appends nothing.
func FuzzQuoteMatchesCreate(f *testing.F) {
	for _, s := range quoteBodies {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{}`, `[]`, `{"customer":{"name":"A","email":"a@b.co"},"invoice":{"amount":"NaN"}}`} {
		f.Add([]byte(s))
	}
	env := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		env.compareQuoteAndCreate(t, body)
	})
}
