package domain_test

import (
	"testing"

	"goodplan/domain"
)

func TestLookupCurrency(t *testing.T) {
	t.Parallel()
	want := map[string]int32{
		"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "JOD": 3,
		"OMR": 3, "TND": 3, "LYD": 3, "IQD": 3, "CLP": 0, "ISK": 0, "VND": 0, "UGX": 0,
		"PYG": 0, "XOF": 0, "XAF": 0, "XPF": 0, "VUV": 0, "BIF": 0, "DJF": 0, "GNF": 0,
		"KMF": 0, "RWF": 0, "CHF": 2, "CAD": 2, "AUD": 2, "INR": 2, "MRU": 2, "ZWG": 2,
		"SLE": 2, "XCG": 2, "STN": 2, "VES": 2,
	}
	for code, mu := range want {
		c, ok := domain.LookupCurrency(code)
		if !ok || c.Code != code || c.MinorUnits != mu {
			t.Errorf("LookupCurrency(%q) = %+v, %v; want minor units %d", code, c, ok, mu)
		}
	}
	for _, code := range []string{
		"", "US", "USDD", "usd", "Usd", "U$D", "XAU", "XAG", "XPT", "XPD", "XXX", "XTS",
		"XDR", "XSU", "XUA", "BOV", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "CHE", "CHW",
		"ZWL", "SLL", "HRK", "VEF", "MRO", "STD", "ABC",
	} {
		if c, ok := domain.LookupCurrency(code); ok {
			t.Errorf("LookupCurrency(%q) = %+v, want not found", code, c)
		}
	}
	if _, ok := domain.LookupCurrency(domain.DefaultCurrency); !ok {
		t.Errorf("DefaultCurrency %q is not a currency", domain.DefaultCurrency)
	}
}
