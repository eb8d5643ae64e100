package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// fuzzForms are the portal's forms: the route after /plan/{token} ("%s" is
// the proposal id) and the plan state it is tried on.
var fuzzForms = []struct {
	path  string
	state fuzzState
}{
	{"/select", fuzzPending},
	{"/payments", fuzzActive},
	{"/proposals", fuzzPending},
	{"/proposals/%s/accept", fuzzCountered},
}

// TestFuzzFormsCoverEveryPortalForm keeps FuzzPortalForms complete: every
// POST route of the portal is one of fuzzForms.
func TestFuzzFormsCoverEveryPortalForm(t *testing.T) {
	r := chi.NewRouter()
	(&Server{}).portalRoutes(r)
	var routes, fuzzed []string
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodPost {
			routes = append(routes, strings.Replace(strings.TrimPrefix(route, "/plan/{token}"), "{id}", "%s", 1))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fuzzForms {
		fuzzed = append(fuzzed, c.path)
	}
	slices.Sort(routes)
	slices.Sort(fuzzed)
	if !slices.Equal(routes, fuzzed) {
		t.Fatalf("portal forms %q\nfuzzed forms %q", routes, fuzzed)
	}
}

// optionPlaceholder in a fuzzed portal form stands for the id of the
// plan's first option, which the fuzzer cannot guess.
const optionPlaceholder = "$OPTION"

// FuzzPortalForms: the portal's forms (select, report payment, propose,
// accept counter), posted through the router with a valid csrf field to a
// fresh plan in the read model, never panic and never answer 500: an
// unparsable form is a 400, a bad value a 422, a state that forbids the
// form a 409, and only success (303 back to the page) appends events, each
// storable in PostgreSQL's jsonb with every date a real YYYY-MM-DD from
// 0001 to 9999 (see FuzzLifecycleCommands). An empty param means the
// plan's own proposal.
func FuzzPortalForms(f *testing.F) {
	seeds := []struct {
		form        uint8
		param, body string
	}{
		{0, "", "option_id=" + optionPlaceholder},
		{0, "", "option_id=+" + optionPlaceholder + "+&form_id=AAAAAAAAAAAAAAAAAAAAAA"},
		{0, "", "option_id=1"},
		{1, "", "amount=400.00&method=cash&paid_on=0000-01-01"},
		{0, "", "option_id=-5&option_id=" + optionPlaceholder},
		{0, "", "option_id=%zz"},
		{0, "", "option_id=1;2"},
		{1, "", "amount=400.00&paid_on=2025-11-20&method=check&reference=CHK-1001"},
		{1, "", "amount=1200&method=cash"},
		{1, "", "amount=0.001&method=wire&paid_on=2025-02-29&reference=a%0Ab"},
		{1, "", "amount=400.00&method=e_transfer&paid_on=1000-01-01"},
		{1, "", "amount=%E2%82%AC400&method=other&reference=%C3%A9%E2%80%AE"},
		{2, "", "installments=2&interval=monthly&first_payment_date=2025-12-10"},
		{2, "", "installments=96&interval=weekly&first_payment_date=2026-11-27"},
		{2, "", "installments=0&interval=yearly&first_payment_date=2025-11-26"},
		{2, "", "installments=1e2&interval=&first_payment_date="},
		{3, "", ""},
		{3, "abc", ""},
		{3, "0", "form_id=short"},
	}
	for _, s := range seeds {
		f.Add(s.form, s.param, []byte(s.body))
	}
	env := newEnv(f)
	f.Fuzz(func(t *testing.T, form uint8, param string, body []byte) {
		c := fuzzForms[int(form)%len(fuzzForms)]
		fx := env.fuzzPlan(t, c.state)
		env.project(t, fx.id)
		if param == "" {
			param = strconv.FormatInt(max(fx.target, 1), 10)
		}
		path := "/plan/" + fx.token + c.path
		if strings.Contains(c.path, "%s") {
			path = "/plan/" + fx.token + fmt.Sprintf(c.path, url.PathEscape(param))
		}
		csrf, err := env.srv.portalCSRF(context.Background(), fx.token)
		if err != nil {
			t.Fatal(err)
		}
		p, _, _, err := env.store.LoadPlan(context.Background(), fx.id)
		if err != nil {
			t.Fatal(err)
		}
		option := strconv.FormatInt(p.Options()[0].ID, 10)
		posted := "csrf=" + csrf + "&" + strings.ReplaceAll(string(body), optionPlaceholder, option)
		input := fmt.Sprintf("POST %s %q", path, posted)
		res := env.do(t, "POST", path, "", []byte(posted),
			"Content-Type", "application/x-www-form-urlencoded", "User-Agent", portalUA)
		if !slices.Contains([]int{http.StatusSeeOther, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict,
			http.StatusUnprocessableEntity}, res.status) {
			t.Fatalf("%s: status %d:\n%s", input, res.status, res.body)
		}
		if res.status != http.StatusSeeOther && !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d answered %s, not a page", input, res.status, res.header.Get("Content-Type"))
		}
		env.checkFuzzOutcome(t, fx, res, res.status == http.StatusSeeOther, input)
	})
}
