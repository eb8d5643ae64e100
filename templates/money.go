package templates

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Money is how every page and email shows an amount to a person (the
// portal, the dashboard, the customer's and the merchant's emails): the
// exact decimal with thousands separators and its currency code, "1200.00",
// "USD" is "1,200.00 USD" and "120000", "JPY" is "120,000 JPY". The API's
// JSON keeps the plain decimal string. Text that is not a plain decimal is
// shown as it is.
func Money(amount, currency string) string {
	sign, digits := "", amount
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	intPart, frac, hasFrac := strings.Cut(digits, ".")
	if intPart == "" || strings.ContainsFunc(intPart, func(r rune) bool { return r < '0' || r > '9' }) {
		return strings.TrimSpace(amount + " " + currency)
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	if currency != "" {
		b.WriteString(" " + currency)
	}
	return b.String()
}

// emailTextFuncs and emailHTMLFuncs are the functions of the email
// templates: money is Money, as in the portal.
var (
	emailTextFuncs = texttemplate.FuncMap{"money": Money}
	emailHTMLFuncs = htmltemplate.FuncMap{"money": Money}
)
