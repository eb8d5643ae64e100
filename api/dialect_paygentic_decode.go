package api

import (
	"regexp"
	"strconv"
	"strings"

	"goodplan/domain"
)

// The Paygentic dialect's request body (seed 002): camelCase keys, name
// and merchantId required, price a decimal string, billingInterval a word
// or an ISO 8601 duration. Keys the seed does not list are ignored, as
// the documented system does with keys it does not know.

// paygenticCreate is POST /v0/plans's body, decoded.
type paygenticCreate struct {
	// cmd has the plan's fields; ids, account and time are the caller's.
	cmd domain.CreateCatalogPlan
	// merchantID is merchantId as given ("" when missing).
	merchantID string
	// price says the body gave a price: the plan mints its standard price.
	price bool
}

// paygenticWords are billingInterval's words, each one period.
var paygenticWords = map[string]domain.BillingInterval{
	"daily": domain.Day, "weekly": domain.Week, "monthly": domain.Month, "yearly": domain.Year}

// isoDuration is the ISO 8601 duration of one designator: P1M, P3M, P1Y,
// P2W, P7D. Combined ones (P1Y2M) have no billing interval.
var isoDuration = regexp.MustCompile(`^P([0-9]{1,9})([DWMY])$`)

// isoDesignators maps a duration's designator to the interval.
var isoDesignators = map[string]domain.BillingInterval{"D": domain.Day, "W": domain.Week, "M": domain.Month, "Y": domain.Year}

// merchantIDPattern is the shape of a merchant id: org_ and an account id.
var merchantIDPattern = regexp.MustCompile(`^org_[1-9][0-9]{0,18}$`)

// merchantIDOf is the merchant id of an account.
func merchantIDOf(account int64) string { return "org_" + strconv.FormatInt(account, 10) }

// parseBillingInterval turns a billingInterval into the interval and its
// count (both zero for "": the defaults), ok false when it is neither a
// word nor a one-designator duration.
func parseBillingInterval(s string) (domain.BillingInterval, int64, bool) {
	if s == "" {
		return "", 0, true
	}
	if iv, ok := paygenticWords[s]; ok {
		return iv, 1, true
	}
	m := isoDuration.FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64) // at most 9 digits
	return isoDesignators[m[2]], n, true
}

// billingIntervalOf writes an interval back: the word for one period,
// else the ISO 8601 duration (month x 3 is P3M).
func billingIntervalOf(iv domain.BillingInterval, n int) string {
	if n == 1 {
		for w, v := range paygenticWords {
			if v == iv {
				return w
			}
		}
	}
	for d, v := range isoDesignators {
		if v == iv {
			return "P" + strconv.Itoa(n) + d
		}
	}
	return string(iv)
}

// decodePaygenticPlan decodes POST /v0/plans's body. The second result
// holds the type errors and the missing or malformed required fields
// (named as in the request); err is a body that is not a JSON object.
func decodePaygenticPlan(body []byte) (paygenticCreate, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return paygenticCreate{}, nil, err
	}
	var f fieldReader
	in := paygenticCreate{merchantID: f.str(root, "merchantId", "merchantId")}
	cmd := &in.cmd
	cmd.Name = f.str(root, "name", "name")
	cmd.InvoiceDisplayName = f.str(root, "invoiceDisplayName", "invoiceDisplayName")
	cmd.Description = f.str(root, "description", "description")
	cmd.Currency = f.str(root, "currency", "currency")
	cmd.CatalogItem = f.str(root, "productId", "productId")
	cmd.Prices = f.strings(root, "prices", "prices")
	if f.errs.Fields["name"] == nil && strings.TrimSpace(cmd.Name) == "" {
		f.errs.Require("name")
	}
	switch {
	case f.errs.Fields["merchantId"] != nil:
	case in.merchantID == "":
		f.errs.Require("merchantId")
	case !merchantIDPattern.MatchString(in.merchantID):
		f.errs.AddRule("merchantId", domain.CodeInvalid, "must be org_ followed by your account id, e.g. org_42.")
	}
	if iv := f.str(root, "billingInterval", "billingInterval"); f.errs.Fields["billingInterval"] == nil {
		interval, n, ok := parseBillingInterval(iv)
		if !ok {
			f.errs.AddRule("billingInterval", domain.CodeNotOneOf,
				"must be monthly, yearly, weekly, daily or an ISO 8601 duration such as P1M, P3M, P1Y, P2W or P7D.")
		} else if interval != "" {
			cmd.Interval, cmd.IntervalCount = string(interval), &n
		}
	}
	// A price makes a per-unit plan at that amount with a standard price;
	// without one the plan has no list price of its own (custom).
	cmd.PricingMode = string(domain.Custom)
	if !isNull(root["price"]) {
		in.price = true
		cmd.PricingMode, cmd.Amount = string(domain.PerUnit), f.amount(root, "price", "price")
	}
	cmd.Tax = rawJSON(root, "tax")
	cmd.PaymentOptions = f.paymentOptions(root, "paymentOptions",
		[5]string{"outOfBand", "payAsYouGo", "prePaid", "postPaid", "credits"})
	return in, f.typeErrors(), nil
}
