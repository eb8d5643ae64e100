package api

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"goodplan/domain"
	"goodplan/projections"
)

// GET /plans: a bare JSON array of plans not deleted, newest first unless
// sort says otherwise, paged as Invoiced pages (page from 1, per_page up
// to 100, X-Total-Count and a Link header with rel self, first, previous,
// next and last). Parameters the dialect does not know are ignored (the
// libraries add their own, such as envelope=0); a known one with a bad
// value, or given twice, is a 400 naming it.

// maxInvoicedPage bounds page, so that the offset it makes stays small.
const maxInvoicedPage = 1_000_000

// maxUnixSeconds is 9999-12-31T23:59:59Z, the last second a date of
// goodplan can name.
const maxUnixSeconds = 253402300799

// invoicedFilters are the filter[field] fields, each with the check of its
// value; a check returns the value to match and ok.
var invoicedFilters = map[string]func(q *projections.CatalogSearch, v string) bool{
	"currency": func(q *projections.CatalogSearch, v string) bool {
		c, ok := domain.LookupCurrency(strings.ToUpper(v))
		q.Currency = c.Code
		return ok
	},
	"interval": func(q *projections.CatalogSearch, v string) bool {
		q.Interval = v
		return oneOf(v, domain.Day, domain.Week, domain.Month, domain.Year)
	},
	"interval_count": func(q *projections.CatalogSearch, v string) bool {
		n, err := strconv.Atoi(v)
		q.IntervalCount = n
		return err == nil && n >= 1 && n <= domain.MaxIntervalCount
	},
	"pricing_mode": func(q *projections.CatalogSearch, v string) bool {
		q.PricingMode = v
		return oneOf(v, domain.PerUnit, domain.Volume, domain.Tiered, domain.Custom)
	},
	"catalog_item": func(q *projections.CatalogSearch, v string) bool {
		q.CatalogItem = v
		return utf8.ValidString(v) && utf8.RuneCountInString(v) <= domain.MaxCatalogTextLen
	},
}

// oneOf reports whether v is one of words.
func oneOf[T ~string](v string, words ...T) bool {
	for _, w := range words {
		if string(w) == v {
			return true
		}
	}
	return false
}

// invoicedSearchOf reads the list's query parameters into a search of the
// account's plans.
func invoicedSearchOf(query url.Values, account int64) (projections.CatalogSearch, int, error) {
	q := projections.CatalogSearch{AccountID: account, Limit: maxPageSize}
	page := 1
	// In key order, so that of several bad parameters the same one is
	// named every time.
	for _, key := range slices.Sorted(maps.Keys(query)) {
		vals := query[key]
		field, isFilter := strings.CutPrefix(key, "filter[")
		known := isFilter || key == "filter" || key == "page" || key == "per_page" || key == "sort" ||
			key == "updated_after" || key == "metadata" || strings.HasPrefix(key, "metadata[")
		if !known {
			continue
		}
		if len(vals) > 1 {
			return q, 0, invoicedBadParam(key, "The "+key+" parameter is given more than once.")
		}
		v := vals[0]
		var ok bool
		switch {
		case key == "page":
			page, ok = intParam(v, 1, maxInvoicedPage)
		case key == "per_page":
			q.Limit, ok = intParam(v, 1, maxPageSize)
		case key == "sort":
			q.Sort, ok = sortParam(v)
		case key == "updated_after":
			var n int
			n, ok = intParam(v, 0, maxUnixSeconds)
			// After the given second: the first plan listed shows an
			// updated_at one above it.
			q.UpdatedSince = time.Unix(int64(n)+1, 0).UTC()
		case isFilter:
			field, closed := strings.CutSuffix(field, "]")
			check := invoicedFilters[field]
			if !closed || check == nil {
				return q, 0, invoicedBadParam(key, "Plans can be filtered by currency, interval, interval_count, pricing_mode "+
					"and catalog_item only, written filter[field]=value.")
			}
			ok = v != "" && check(&q, v)
		default: // filter without a field, metadata[...]
			return q, 0, invoicedBadParam(key, "Plans can be filtered by currency, interval, interval_count, pricing_mode "+
				"and catalog_item only, written filter[field]=value.")
		}
		if !ok {
			return q, 0, invoicedBadParam(key, invoicedParamRules[key]+strconv.Quote(v)+" is not one.")
		}
	}
	q.Offset = (page - 1) * q.Limit
	return q, page, nil
}

// invoicedParamRules say what each list parameter takes.
var invoicedParamRules = map[string]string{
	"page":                   "The page must be a whole number from 1 to " + strconv.Itoa(maxInvoicedPage) + "; ",
	"per_page":               "The per_page must be a whole number from 1 to " + strconv.Itoa(maxPageSize) + "; ",
	"sort":                   "The sort must be one to three columns of the plan, each with asc or desc, such as \"name asc\" or \"created_at desc\"; ",
	"updated_after":          "The updated_after must be a Unix timestamp (whole seconds); ",
	"filter[currency]":       "The filter[currency] must be an ISO 4217 currency code; ",
	"filter[interval]":       "The filter[interval] must be day, week, month or year; ",
	"filter[interval_count]": "The filter[interval_count] must be a whole number from 1 to " + strconv.Itoa(domain.MaxIntervalCount) + "; ",
	"filter[pricing_mode]":   "The filter[pricing_mode] must be per_unit, volume, tiered or custom; ",
	"filter[catalog_item]":   "The filter[catalog_item] must be an item id of at most " + strconv.Itoa(domain.MaxCatalogTextLen) + " characters; ",
}

// intParam parses a whole number within lo..hi.
func intParam(v string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}

// maxSortKeys bounds the columns of one sort.
const maxSortKeys = 3

// sortParam parses "name asc" or "amount desc, name" (a column alone is
// ascending): columns of the plan object, each at most once.
func sortParam(v string) ([]projections.CatalogSortKey, bool) {
	terms := strings.Split(v, ",")
	if len(terms) > maxSortKeys {
		return nil, false
	}
	var keys []projections.CatalogSortKey
	seen := map[string]bool{}
	for _, t := range terms {
		words := strings.Fields(t)
		if len(words) == 0 || len(words) > 2 || !projections.CatalogSortable(words[0]) || seen[words[0]] {
			return nil, false
		}
		seen[words[0]] = true
		k := projections.CatalogSortKey{Column: words[0]}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.Desc = true
			default:
				return nil, false
			}
		}
		keys = append(keys, k)
	}
	return keys, true
}

// listInvoicedPlans is GET /plans.
func (s *Server) listInvoicedPlans(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q, page, err := invoicedSearchOf(r.URL.Query(), accountFrom(ctx).ID)
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	items, total, err := s.catalogPlans.Search(ctx, q)
	if err != nil {
		s.writeInvoicedError(w, r, err)
		return
	}
	out := make([]invoicedPlan, len(items))
	for i, v := range items {
		out[i] = invoicedPlanOf(v)
	}
	h := w.Header()
	h.Set("X-Total-Count", strconv.Itoa(total))
	h.Set("Link", s.invoicedLinks(r, page, q.Limit, total))
	writeJSON(w, http.StatusOK, out)
}

// invoicedLinks is the Link header of a page: self, first, previous (past
// the first page), next (before the last) and last, each the request's
// URL under PUBLIC_URL with its page and per_page set.
func (s *Server) invoicedLinks(r *http.Request, page, perPage, total int) string {
	last := max((total+perPage-1)/perPage, 1)
	base := strings.TrimRight(s.publicURL, "/") + r.URL.Path
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return "<" + base + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	links := []string{link(page, "self"), link(1, "first")}
	if page > 1 {
		links = append(links, link(min(page-1, last), "previous"))
	}
	if page < last {
		links = append(links, link(page+1, "next"))
	}
	return strings.Join(append(links, link(last, "last")), ", ")
}
