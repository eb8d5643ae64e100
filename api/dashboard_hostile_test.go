package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"goodplan/eventstore"
)

// TestDashboardFormsRefuseHostileText: what the dashboard's forms accept,
// every consumer can process. NUL and other control characters, a bidi
// override, a lone invalid UTF-8 byte and an over-long value are refused
// with a 422 and append nothing, on each form that records text (a payment
// plan, a catalog plan, a plan group); a normal form right after each is
// accepted.
func TestDashboardFormsRefuseHostileText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.dashUser(t, e.acct, "owner@example.com", eventstore.RoleOwner)
	cookie := e.signIn(t, "owner@example.com")
	csrf := e.csrfOf(t, cookie)
	hostile := map[string]string{
		"NUL":           "Dana\x00Scully",
		"escape":        "Dana\x1b[31mScully",
		"bidi override": "Dana\u202eyllucS",
		"invalid UTF-8": "Dana\xffScully",
		"too long":      strings.Repeat("D", 256),
	}
	forms := []struct {
		path, field, accepted string
		form                  func() url.Values
	}{
		{"/dashboard/plans/new", "customer.name", "/dashboard/plans/", func() url.Values { return planCreateForm(csrf) }},
		{"/dashboard/catalog/new", "name", "/dashboard/catalog/", func() url.Values {
			return url.Values{"csrf": {csrf}, "form_id": {newFormID()}, "name": {"Starter"}, "currency": {"usd"},
				"amount": {"49"}, "pricing_mode": {"per_unit"}, "interval": {"month"}, "interval_count": {"1"}}
		}},
		{"/dashboard/plan-groups/new", "name", "/dashboard/plan-groups/", func() url.Values {
			return url.Values{"csrf": {csrf}, "form_id": {newFormID()}, "name": {"Collections"}}
		}},
	}
	for _, f := range forms {
		for what, value := range hostile {
			form := f.form()
			form.Set(f.field, value)
			before := e.eventCount(t)
			res := e.dashDo(t, http.MethodPost, f.path, dashClient, cookie, form)
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("%s with a %s %s: %d, want 422\n%s", f.path, what, f.field, res.status, res.body)
			}
			if n := e.eventCount(t); n != before {
				t.Fatalf("%s with a %s %s appended %d events", f.path, what, f.field, n-before)
			}
		}
		res := e.dashDo(t, http.MethodPost, f.path, dashClient, cookie, f.form())
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), f.accepted) {
			t.Fatalf("%s after the refusals: %d %s\n%s", f.path, res.status, res.header.Get("Location"), res.body)
		}
	}
}
