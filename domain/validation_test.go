package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"goodplan/domain"
)

type fields = map[string][]string

func TestCreatePlanValidation(t *testing.T) {
	t.Parallel()
	const (
		nameRequired   = "The customer.name field is required."
		nameMax        = "The customer.name may not be greater than 255 characters."
		emailRequired  = "The customer.email field is required."
		emailInvalid   = "The customer.email must be a valid email address."
		phoneInvalid   = "The customer.phone must be a valid phone number."
		amountRequired = "The invoice.amount field is required."
		amountNumber   = "The invoice.amount must be a number."
		amountMin      = "The invoice.amount must be at least 1."
		amountMax      = "The invoice.amount may not be greater than 1000000000000."
		currencyBad    = "The invoice.currency must be a valid ISO 4217 currency code."
		numberMax      = "The invoice.invoice_number may not be greater than 255 characters."
		descriptionMax = "The invoice.description may not be greater than 2000 characters."
		intervalsMin   = "The options.intervals must have at least 1 item."
		intervalsIn    = "The options.intervals must contain only weekly, biweekly or monthly."
		durationsMin   = "The options.durations must have at least 1 item."
		durationsMax   = "The options.durations may not have more than 12 items."
		durationsIn    = "The options.durations must contain only numbers between 2 and 96."
		dateFormat     = "The options.first_payment_date must be a date in YYYY-MM-DD format."
		dateToday      = "The options.first_payment_date must be today or later."
		dateWithin     = "The options.first_payment_date must be within 365 days."
	)
	tests := []struct {
		name    string
		when    func(*domain.CreatePlan) // applied to the seed's minimal command, on a new plan
		wantErr fields                   // nil: the command must succeed
	}{
		{"name missing", func(c *domain.CreatePlan) { c.CustomerName = "" }, fields{"customer.name": {nameRequired}}},
		{"name blank", func(c *domain.CreatePlan) { c.CustomerName = " \t " }, fields{"customer.name": {nameRequired}}},
		{"name too long", func(c *domain.CreatePlan) { c.CustomerName = strings.Repeat("a", 256) }, fields{"customer.name": {nameMax}}},
		{"name 255 characters", func(c *domain.CreatePlan) { c.CustomerName = strings.Repeat("é", 255) }, nil},
		{"name an encoded email word", func(c *domain.CreatePlan) { c.CustomerName = "=?utf-8?b?QWRtaW4gPGFkbWluQGV2aWwuY29tPg==?=" },
			fields{"customer.name": {`The customer.name may not contain "=?" (it would read as an encoded email header).`}}},
		{"email missing", func(c *domain.CreatePlan) { c.CustomerEmail = "  " }, fields{"customer.email": {emailRequired}}},
		{"email no at", func(c *domain.CreatePlan) { c.CustomerEmail = "not-an-email" }, fields{"customer.email": {emailInvalid}}},
		{"email display name", func(c *domain.CreatePlan) { c.CustomerEmail = "John <john@example.com>" }, fields{"customer.email": {emailInvalid}}},
		{"email no dot in domain", func(c *domain.CreatePlan) { c.CustomerEmail = "john@localhost" }, fields{"customer.email": {emailInvalid}}},
		{"email two ats", func(c *domain.CreatePlan) { c.CustomerEmail = "john@doe@example.com" }, fields{"customer.email": {emailInvalid}}},
		{"email empty local part", func(c *domain.CreatePlan) { c.CustomerEmail = "@example.com" }, fields{"customer.email": {emailInvalid}}},
		{"email empty label", func(c *domain.CreatePlan) { c.CustomerEmail = "john@example..com" }, fields{"customer.email": {emailInvalid}}},
		{"email leading dot domain", func(c *domain.CreatePlan) { c.CustomerEmail = "john@.example.com" }, fields{"customer.email": {emailInvalid}}},
		{"email trailing dot domain", func(c *domain.CreatePlan) { c.CustomerEmail = "john@example.com." }, fields{"customer.email": {emailInvalid}}},
		{"email space", func(c *domain.CreatePlan) { c.CustomerEmail = "john doe@example.com" }, fields{"customer.email": {emailInvalid}}},
		{"email quoted local part", func(c *domain.CreatePlan) { c.CustomerEmail = `"john doe"@example.com` }, fields{"customer.email": {emailInvalid}}},
		{"email too long", func(c *domain.CreatePlan) { c.CustomerEmail = strings.Repeat("a", 243) + "@example.com" }, fields{"customer.email": {emailInvalid}}},
		{"email plus tag", func(c *domain.CreatePlan) { c.CustomerEmail = "john.doe+plans@mail.example.co.uk" }, nil},
		{"phone letters", func(c *domain.CreatePlan) { c.CustomerPhone = "call me" }, fields{"customer.phone": {phoneInvalid}}},
		{"phone too long", func(c *domain.CreatePlan) { c.CustomerPhone = strings.Repeat("1", 51) }, fields{"customer.phone": {phoneInvalid}}},
		{"phone no digits", func(c *domain.CreatePlan) { c.CustomerPhone = "+-()" }, fields{"customer.phone": {phoneInvalid}}},
		{"phone formats", func(c *domain.CreatePlan) { c.CustomerPhone = "+1 (555) 123.45-67" }, nil},
		{"amount missing", func(c *domain.CreatePlan) { c.Amount = "" }, fields{"invoice.amount": {amountRequired}}},
		{"amount not a number", func(c *domain.CreatePlan) { c.Amount = "twelve" }, fields{"invoice.amount": {amountNumber}}},
		{"amount NaN", func(c *domain.CreatePlan) { c.Amount = "NaN" }, fields{"invoice.amount": {amountNumber}}},
		{"amount zero", func(c *domain.CreatePlan) { c.Amount = "0" }, fields{"invoice.amount": {amountMin}}},
		{"amount below one", func(c *domain.CreatePlan) { c.Amount = "0.99" }, fields{"invoice.amount": {amountMin}}},
		{"amount negative", func(c *domain.CreatePlan) { c.Amount = "-5" }, fields{"invoice.amount": {amountMin}}},
		{"amount hugely negative", func(c *domain.CreatePlan) { c.Amount = "-1e13" }, fields{"invoice.amount": {amountMin}}},
		{"amount too many decimals USD", func(c *domain.CreatePlan) { c.Amount = "10.001" }, fields{"invoice.amount": {"The invoice.amount must have at most 2 decimal places for USD."}}},
		{"amount too many decimals JPY", func(c *domain.CreatePlan) { c.Amount, c.Currency = "10.5", "JPY" }, fields{"invoice.amount": {"The invoice.amount must have at most 0 decimal places for JPY."}}},
		{"amount too many decimals KWD", func(c *domain.CreatePlan) { c.Amount, c.Currency = "10.0001", "kwd" }, fields{"invoice.amount": {"The invoice.amount must have at most 3 decimal places for KWD."}}},
		{"amount too large", func(c *domain.CreatePlan) { c.Amount = "1000000000000.01" }, fields{"invoice.amount": {amountMax}}},
		{"amount at the maximum", func(c *domain.CreatePlan) { c.Amount = "1e12" }, nil},
		{"currency unknown", func(c *domain.CreatePlan) { c.Currency = "ABC" }, fields{"invoice.currency": {currencyBad}}},
		{"currency metal", func(c *domain.CreatePlan) { c.Currency = "XAU" }, fields{"invoice.currency": {currencyBad}}},
		{"currency too short", func(c *domain.CreatePlan) { c.Currency = "US" }, fields{"invoice.currency": {currencyBad}}},
		{"currency too long", func(c *domain.CreatePlan) { c.Currency = "usdd" }, fields{"invoice.currency": {currencyBad}}},
		{"currency unknown hides decimals", func(c *domain.CreatePlan) { c.Currency, c.Amount = "ZZZ", "10.001" }, fields{"invoice.currency": {currencyBad}}},
		{"currency unknown and amount too small", func(c *domain.CreatePlan) { c.Currency, c.Amount = "ZZZ", "0" }, fields{"invoice.currency": {currencyBad}, "invoice.amount": {amountMin}}},
		{"currency mixed case", func(c *domain.CreatePlan) { c.Currency = "eUr" }, nil},
		{"invoice number too long", func(c *domain.CreatePlan) { c.InvoiceNumber = strings.Repeat("x", 256) }, fields{"invoice.invoice_number": {numberMax}}},
		{"description too long", func(c *domain.CreatePlan) { c.Description = strings.Repeat("x", 2001) }, fields{"invoice.description": {descriptionMax}}},
		{"description at the limit", func(c *domain.CreatePlan) { c.Description = strings.Repeat("ü", 2000) }, nil},
		{"intervals empty", func(c *domain.CreatePlan) { c.Intervals = []string{} }, fields{"options.intervals": {intervalsMin}}},
		{"intervals unknown, reported once", func(c *domain.CreatePlan) { c.Intervals = []string{"daily", "monthly", "Yearly"} }, fields{"options.intervals": {intervalsIn}}},
		{"durations empty", func(c *domain.CreatePlan) { c.Durations = []int{} }, fields{"options.durations": {durationsMin}}},
		{"durations out of range, reported once", func(c *domain.CreatePlan) { c.Durations = []int{1, 3, 97, 0} }, fields{"options.durations": {durationsIn}}},
		{"durations more than 12", func(c *domain.CreatePlan) { c.Durations = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14} }, fields{"options.durations": {durationsMax}}},
		{"durations 12 distinct with duplicates", func(c *domain.CreatePlan) { c.Durations = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 2, 3} }, nil},
		{"durations too many and out of range", func(c *domain.CreatePlan) { c.Durations = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 100} }, fields{"options.durations": {durationsMax, durationsIn}}},
		{"amount too small to split", func(c *domain.CreatePlan) { c.Amount, c.Currency, c.Durations = "50", "JPY", []int{3, 60, 96, 51} }, fields{"options.durations": {"The invoice.amount is too small to split into 96 payments."}}},
		{"amount too small to split and out of range", func(c *domain.CreatePlan) { c.Amount, c.Currency, c.Durations = "5", "JPY", []int{99, 6} }, fields{"options.durations": {durationsIn, "The invoice.amount is too small to split into 6 payments."}}},
		{"amount exactly one unit per payment", func(c *domain.CreatePlan) { c.Amount, c.Currency, c.Durations = "96", "JPY", []int{96} }, nil},
		{"first payment date malformed", func(c *domain.CreatePlan) { c.FirstPaymentDate = "12/04/2025" }, fields{"options.first_payment_date": {dateFormat}}},
		{"first payment date impossible", func(c *domain.CreatePlan) { c.FirstPaymentDate = "2025-02-30" }, fields{"options.first_payment_date": {dateFormat}}},
		{"first payment date yesterday", func(c *domain.CreatePlan) { c.FirstPaymentDate = "2025-11-26" }, fields{"options.first_payment_date": {dateToday}}},
		{"first payment date 366 days ahead", func(c *domain.CreatePlan) { c.FirstPaymentDate = "2026-11-28" }, fields{"options.first_payment_date": {dateWithin}}},
		{"seed 422 body", func(c *domain.CreatePlan) { c.CustomerEmail, c.Amount = "john.example.com", "0" }, fields{"customer.email": {emailInvalid}, "invoice.amount": {amountMin}}},
		{
			"everything wrong at once",
			func(c *domain.CreatePlan) {
				*c = domain.CreatePlan{
					Now: seedNow, OptionIDs: ids(1), CustomerPhone: "x", Currency: "???",
					InvoiceNumber: strings.Repeat("n", 300), Description: strings.Repeat("d", 3000),
					Intervals: []string{"hourly"}, Durations: []int{}, FirstPaymentDate: "tomorrow",
				}
			},
			fields{
				"customer.name":              {nameRequired},
				"customer.email":             {emailRequired},
				"customer.phone":             {phoneInvalid},
				"invoice.amount":             {amountRequired},
				"invoice.currency":           {currencyBad},
				"invoice.invoice_number":     {numberMax},
				"invoice.description":        {descriptionMax},
				"options.intervals":          {intervalsIn},
				"options.durations":          {durationsMin},
				"options.first_payment_date": {dateFormat},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p domain.Plan
			events, err := p.CreatePlan(with(tt.when))
			if tt.wantErr == nil {
				if err != nil || len(events) != 1 {
					t.Fatalf("CreatePlan = %v, %v; want one event", events, err)
				}
				return
			}
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("CreatePlan error = %v, want *ValidationError", err)
			}
			if events != nil {
				t.Errorf("CreatePlan returned events %v with a validation error", events)
			}
			if !reflect.DeepEqual(ve.Fields, map[string][]string(tt.wantErr)) {
				t.Errorf("fields =\n%q\nwant\n%q", ve.Fields, tt.wantErr)
			}
		})
	}
}

func TestValidationError(t *testing.T) {
	t.Parallel()
	var ve domain.ValidationError
	if ve.OrNil() != nil {
		t.Errorf("empty OrNil() != nil")
	}
	var nilVE *domain.ValidationError
	if err := nilVE.OrNil(); err != nil {
		t.Errorf("nil OrNil() = %#v, want untyped nil", err)
	}
	ve.Add("b", "second field.")
	ve.Add("a", "first.")
	ve.Add("a", "again.")
	if got := ve.Fields["a"]; !reflect.DeepEqual(got, []string{"first.", "again."}) {
		t.Errorf("messages of a = %q, want in order added", got)
	}
	err := ve.OrNil()
	if err == nil || err.Error() != "validation failed: a: first. again.; b: second field." {
		t.Errorf("Error() = %v", err)
	}
}
