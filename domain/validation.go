package domain

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
)

// Field paths of CreatePlan, as the client sends them and as they key the
// 422 body's "errors" object.
const (
	fieldName          = "customer.name"
	fieldEmail         = "customer.email"
	fieldPhone         = "customer.phone"
	fieldAmount        = "invoice.amount"
	fieldCurrency      = "invoice.currency"
	fieldInvoiceNumber = "invoice.invoice_number"
	fieldDescription   = "invoice.description"
	fieldIntervals     = "options.intervals"
	fieldDurations     = "options.durations"
	fieldFirstDate     = "options.first_payment_date"
)

// Limits of CreatePlan fields besides the text limits in text.go.
const (
	maxDurations     = 12
	maxFirstDateDays = 365
)

// one is the smallest invoice amount, one major unit.
var one = apd.New(1, 0)

// createInput is a CreatePlan command after validation and normalisation.
type createInput struct {
	name, email, phone         string
	amount                     Money
	currency                   Currency
	invoiceNumber, description string
	intervals                  []Interval
	durations                  []int
	first                      Date
}

// validateCreatePlan checks every field of cmd, collecting all problems
// (Laravel-style messages) before returning them as one *ValidationError.
func validateCreatePlan(cmd CreatePlan) (createInput, error) {
	var ve ValidationError
	in := createInput{
		name: CheckText(&ve, fieldName, cmd.CustomerName, SingleLine, MaxNameLen),
		// validEmail and validPhone bound these two with their own message.
		email:         CheckText(&ve, fieldEmail, cmd.CustomerEmail, SingleLine, math.MaxInt),
		phone:         CheckText(&ve, fieldPhone, cmd.CustomerPhone, SingleLine, math.MaxInt),
		invoiceNumber: CheckText(&ve, fieldInvoiceNumber, cmd.InvoiceNumber, SingleLine, MaxInvoiceNumberLen),
		description:   CheckText(&ve, fieldDescription, cmd.Description, MultiLine, MaxDescriptionLen),
	}

	switch {
	case ve.Fields[fieldName] != nil:
	case in.name == "":
		ve.Add(fieldName, "The customer.name field is required.")
	case strings.Contains(in.name, "=?"):
		// The name goes into the email's To header, where some mail
		// clients decode "=?utf-8?b?...?=" even inside quotes.
		ve.AddRule(fieldName, CodeInvalid, `may not contain "=?" (it would read as an encoded email header).`)
	}
	switch {
	case ve.Fields[fieldEmail] != nil:
	case in.email == "":
		ve.Add(fieldEmail, "The customer.email field is required.")
	case !validEmail(in.email):
		ve.Add(fieldEmail, "The customer.email must be a valid email address.")
	}
	if in.phone != "" && ve.Fields[fieldPhone] == nil && !validPhone(in.phone) {
		ve.Add(fieldPhone, "The customer.phone must be a valid phone number.")
	}

	currency, currencyOK := validateCurrency(&ve, cmd.Currency)
	in.currency = currency
	amount, amountOK := validateAmount(&ve, cmd.Amount, currency, currencyOK)
	in.amount = amount
	in.intervals = validateIntervals(&ve, cmd.Intervals)
	in.durations = validateDurations(&ve, cmd.Durations)
	if amountOK {
		// Every installment must be at least one minor unit.
		tooMany := 0
		for _, n := range in.durations {
			if int64(n) > amount.Minor() {
				tooMany = max(tooMany, n)
			}
		}
		if tooMany > 0 {
			ve.Add(fieldDurations, fmt.Sprintf("The invoice.amount is too small to split into %d payments.", tooMany))
		}
	}
	in.first = validateFirstDate(&ve, cmd.FirstPaymentDate, DateOf(cmd.Now))
	if ve.Fields[fieldFirstDate] == nil && len(in.durations) > 0 {
		last := slices.Max(in.durations)
		for _, iv := range in.intervals {
			if !iv.DueDate(in.first, last-1).InRange() {
				ve.Add(fieldFirstDate, "The options.first_payment_date is too late: a schedule would end after "+MaxDate.String()+".")
				break
			}
		}
	}
	return in, ve.OrNil()
}

// ValidEmail reports whether s is an email address the service accepts
// (customers' and merchant users' alike); see validEmail.
func ValidEmail(s string) bool { return validEmail(s) }

// validEmail accepts a plain address (no display name, no comments) with
// exactly one @, a non-empty local part and a dotted domain without empty
// labels.
func validEmail(s string) bool {
	if utf8.RuneCountInString(s) > MaxEmailLen || strings.Count(s, "@") != 1 {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" {
			return false
		}
	}
	return true
}

// validPhone accepts up to 50 characters of digits, spaces and + - ( ) .,
// with at least one digit.
func validPhone(s string) bool {
	if utf8.RuneCountInString(s) > MaxPhoneLen {
		return false
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-().", r):
		default:
			return false
		}
	}
	return digits > 0
}

// validateCurrency returns the currency named by code (any letter case, ""
// for DefaultCurrency) and whether it is known.
func validateCurrency(ve *ValidationError, code string) (Currency, bool) {
	code = strings.TrimSpace(code)
	if code == "" {
		code = DefaultCurrency
	}
	if c, ok := LookupCurrency(strings.ToUpper(code)); ok && len(code) == 3 {
		return c, true
	}
	ve.Add(fieldCurrency, "The invoice.currency must be a valid ISO 4217 currency code.")
	return Currency{}, false
}

// validateAmount parses text as an invoice amount of at least one major unit
// in c. When the currency is unknown it checks what it can without it.
func validateAmount(ve *ValidationError, text string, c Currency, currencyOK bool) (Money, bool) {
	if text == "" {
		ve.Add(fieldAmount, "The invoice.amount field is required.")
		return Money{}, false
	}
	d, err := parseAmount(text)
	switch {
	case errors.Is(err, ErrAmountTooLarge) && strings.HasPrefix(text, "-"):
		ve.Add(fieldAmount, "The invoice.amount must be at least 1.")
		return Money{}, false
	case errors.Is(err, ErrAmountTooLarge):
		ve.Add(fieldAmount, "The invoice.amount may not be greater than 1000000000000.")
		return Money{}, false
	case err != nil:
		ve.Add(fieldAmount, "The invoice.amount must be a number.")
		return Money{}, false
	case d.Cmp(one) < 0:
		ve.Add(fieldAmount, "The invoice.amount must be at least 1.")
		return Money{}, false
	case !currencyOK:
		return Money{}, false
	}
	m, err := moneyFromDecimal(d, c, text)
	if err != nil {
		ve.Add(fieldAmount, fmt.Sprintf("The invoice.amount must have at most %d decimal places for %s.", c.MinorUnits, c.Code))
		return Money{}, false
	}
	return m, true
}

// validateIntervals returns the requested intervals, deduplicated in request
// order; nil means the default.
func validateIntervals(ve *ValidationError, raw []string) []Interval {
	if raw == nil {
		return defaultIntervals
	}
	if len(raw) == 0 {
		ve.Add(fieldIntervals, "The options.intervals must have at least 1 item.")
		return nil
	}
	var out []Interval
	bad := false
	for _, s := range raw {
		iv, ok := ParseInterval(s)
		if !ok {
			bad = true
			continue
		}
		if !slices.Contains(out, iv) {
			out = append(out, iv)
		}
	}
	if bad {
		ve.Add(fieldIntervals, "The options.intervals must contain only weekly, biweekly or monthly.")
	}
	return out
}

// validateDurations returns the requested installment counts within
// MinInstallments..MaxInstallments, deduplicated in request order; nil means
// the default.
func validateDurations(ve *ValidationError, raw []int) []int {
	if raw == nil {
		return defaultDurations
	}
	if len(raw) == 0 {
		ve.Add(fieldDurations, "The options.durations must have at least 1 item.")
		return nil
	}
	var distinct, out []int
	bad := false
	for _, n := range raw {
		if slices.Contains(distinct, n) {
			continue
		}
		distinct = append(distinct, n)
		if n < MinInstallments || n > MaxInstallments {
			bad = true
			continue
		}
		out = append(out, n)
	}
	if len(distinct) > maxDurations {
		ve.Add(fieldDurations, "The options.durations may not have more than 12 items.")
	}
	if bad {
		ve.Add(fieldDurations, "The options.durations must contain only numbers between 2 and 96.")
	}
	return out
}

// validateFirstDate returns the first payment date: s if it is a valid date
// from today to today + 365 days, or today + 7 days when s is empty.
func validateFirstDate(ve *ValidationError, s string, today Date) Date {
	s = strings.TrimSpace(s)
	if s == "" {
		return today.AddDays(defaultFirstPaymentDelay)
	}
	d, err := ParseDate(s)
	switch {
	case err != nil:
		ve.Add(fieldFirstDate, "The options.first_payment_date must be a date in YYYY-MM-DD format.")
	case d.Before(today):
		ve.Add(fieldFirstDate, "The options.first_payment_date must be today or later.")
	case !d.InRange():
		ve.Add(fieldFirstDate, "The options.first_payment_date must be between "+MinDate.String()+" and "+MaxDate.String()+".")
	case d.After(today.AddDays(maxFirstDateDays)):
		ve.Add(fieldFirstDate, "The options.first_payment_date must be within 365 days.")
	}
	return d
}
