package api

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"goodplan/domain"
)

// The 4Geeks dialect's problem codes for a value of the wrong JSON type,
// shown as the detail's type.
const (
	codeTypeInteger domain.Code = "type_error.integer"
	codeTypeStr     domain.Code = "type_error.str"
)

// jsonInteger is a JSON number without fraction or exponent.
var jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// decodeGeeksPlan turns POST /v1/plans's body into the create command (ids
// and time left to the caller): product_id, amount (an integer in the
// currency's minor units, converted exactly to the decimal amount),
// currency and interval, all required. Other keys are ignored, as the
// documented system does. The second result holds the missing fields and
// type errors; err is a body that is not a JSON object.
func decodeGeeksPlan(body []byte) (domain.CreateCatalogPlan, *domain.ValidationError, error) {
	root, err := parseObject(body)
	if err != nil {
		return domain.CreateCatalogPlan{}, nil, err
	}
	var errs domain.ValidationError
	str := func(key string) string {
		raw := root[key]
		if isNull(raw) {
			errs.Require(key)
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			errs.AddRule(key, codeTypeStr, "must be a string.")
			return ""
		}
		if invalidUTF8(raw) {
			errs.AddRule(key, domain.CodeInvalid, "must be valid UTF-8 text.")
			return ""
		}
		if strings.TrimSpace(s) == "" {
			errs.AddRule(key, domain.CodeInvalid, "may not be blank.")
		}
		return s
	}
	var cmd domain.CreateCatalogPlan
	cmd.CatalogItem = str("product_id")
	if errs.Fields["product_id"] != nil {
		// Reported as product_id; keep the domain from naming it again.
		cmd.CatalogItem = ""
	}
	cmd.Currency = str("currency")
	cmd.Interval = str("interval")
	var minor int64
	raw := bytes.TrimSpace(root["amount"])
	switch {
	case isNull(raw):
		errs.Require("amount")
	case !jsonInteger.Match(raw):
		errs.AddRule("amount", codeTypeInteger, "must be an integer.")
	default:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			errs.AddRule("amount", domain.CodeInvalid, "is too large.")
		}
		minor = n
	}
	if errs.Fields["amount"] == nil {
		// Exact: the minor units placed by the currency's exponent, never
		// a float. An unknown currency is the currency's problem alone.
		cmd.Amount = strconv.FormatInt(minor, 10)
		if c, ok := domain.LookupCurrency(strings.ToUpper(strings.TrimSpace(cmd.Currency))); ok {
			cmd.Amount = domain.MoneyFromMinor(minor, c).String()
		}
	}
	if len(errs.Fields) == 0 {
		return cmd, nil, nil
	}
	return cmd, &errs, nil
}
