package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// fuzzCommands are the merchant's lifecycle commands: the route after
// /api/v1/plans/{id} ("%s" is the route parameter), the plan state it is
// tried on, and its success status.
var fuzzCommands = []struct {
	path   string
	state  fuzzState
	status int
}{
	{"/payments", fuzzActive, http.StatusCreated},
	{"/payments/%s/confirm", fuzzReported, http.StatusOK},
	{"/payments/%s/reject", fuzzReported, http.StatusOK},
	{"/installments/%s/extend", fuzzActive, http.StatusOK},
	{"/installments/%s/defer", fuzzActive, http.StatusOK},
	{"/proposals/%s/approve", fuzzProposed, http.StatusOK},
	{"/proposals/%s/decline", fuzzProposed, http.StatusOK},
	{"/proposals/%s/counter", fuzzProposed, http.StatusOK},
	{"/cancel", fuzzActive, http.StatusOK},
	{"/write-off", fuzzActive, http.StatusOK},
	{"/reactivate", fuzzCancelled, http.StatusOK},
}

// TestFuzzCommandsCoverEveryRoute keeps FuzzLifecycleCommands complete:
// every POST route lifecycleRoutes registers, except portal-link and
// resend-introduction (they read no body), is one of fuzzCommands.
func TestFuzzCommandsCoverEveryRoute(t *testing.T) {
	r := chi.NewRouter()
	(&Server{}).lifecycleRoutes(r)
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	var routes, fuzzed []string
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimPrefix(route, "/plans/{id}")
		if method == http.MethodPost && route != "/portal-link" && route != "/resend-introduction" {
			routes = append(routes, param.ReplaceAllString(route, "%s"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fuzzCommands {
		fuzzed = append(fuzzed, c.path)
	}
	slices.Sort(routes)
	slices.Sort(fuzzed)
	if !slices.Equal(routes, fuzzed) {
		t.Fatalf("lifecycle routes %q\nfuzzed commands %q", routes, fuzzed)
	}
}

// FuzzLifecycleCommands: every lifecycle command's decoder (the handler's
// own, through the router, on a fresh plan in the state the command
// needs) never panics and never answers 500: a body that is not a JSON
// object or is too big is a 400, a value of the wrong type or a bad value
// a 422, a route parameter that names nothing a 404, a state that forbids
// the command a 409. Only success appends events, and each appended event
// is storable in PostgreSQL's jsonb (valid UTF-8, no NUL, no \u0000),
// decodes back equal, and has every date a real YYYY-MM-DD from 0001 to
// 9999. An empty param means the id of the plan's own payment, proposal
// or first installment.
func FuzzLifecycleCommands(f *testing.F) {
	seeds := []struct {
		cmd   uint8
		param string
		body  string
	}{
		{0, "", `{"amount":"400.00","paid_on":"2025-11-20","method":"check","reference":"CHK-1001"}`},
		{0, "", `{"amount":"400.00","method":"cash","paid_on":"0000-01-01"}`},
		{0, "", `{"amount":1200,"method":"cash"}`},
		{0, "", `{"amount":"1200.01","method":"wire","paid_on":"2025-11-29","reference":"a\tb"}`},
		{0, "", `{"amount":"0.001","method":"other","paid_on":"2025-02-29"}`},
		{0, "", `{"amount":"400.00","method":"bank_transfer","paid_on":"1000-01-01"}`},
		{0, "", `{"amount":true,"method":1,"paid_on":[],"reference":{}}`},
		{0, "", `{"amount":"400.00","method":"check","reference":"line\nbreak"}`},
		{1, "", `{}`},
		{1, "", `{"amount":"399.99"}`},
		{1, "", `{"amount":"-1"}`},
		{1, "999999999999", ``},
		{2, "", `{"reason":"It never arrived.\r\nPlease check."}`},
		{2, "abc", `{"reason":"x"}`},
		{2, "", `{"reason":"\u0007"}`},
		{3, "", `{"due_date":"2026-01-04","shift_following":true}`},
		{3, "", `{"due_date":"2025-12-04","shift_following":"yes"}`},
		{3, "2", `{"due_date":"9999-12-31"}`},
		{3, "-1", `{"due_date":"2026-01-04"}`},
		{4, "", ``},
		{4, "3", `null`},
		{5, "", ``},
		{5, "0", ``},
		{6, "", `{"reason":"Two payments are too few."}`},
		{7, "", `{"installments":3,"interval":"weekly","first_payment_date":"2025-12-10","message":"How about three?"}`},
		{7, "", `{"installments":"3.0","interval":"fortnightly","first_payment_date":"10/12/2025"}`},
		{7, "", `{"installments":1e9,"interval":"monthly","first_payment_date":"2026-12-31"}`},
		{8, "", `{"reason":"Customer paid another way."}`},
		{8, "", `[]`},
		{9, "", `{"reason":"` + strings.Repeat("é", 1001) + `"}`},
		{9, "", `{`},
		{10, "", ``},
		{10, "", `{"unexpected":"field"}`},
	}
	for _, s := range seeds {
		f.Add(s.cmd, s.param, []byte(s.body))
	}
	env := newEnv(f)
	f.Fuzz(func(t *testing.T, cmd uint8, param string, body []byte) {
		c := fuzzCommands[int(cmd)%len(fuzzCommands)]
		fx := env.fuzzPlan(t, c.state)
		if param == "" {
			param = strconv.FormatInt(max(fx.target, 1), 10)
		}
		path := fmt.Sprintf("/api/v1/plans/%d", fx.id)
		if strings.Contains(c.path, "%s") {
			path += fmt.Sprintf(c.path, url.PathEscape(param))
		} else {
			path += c.path
		}
		input := fmt.Sprintf("POST %s %q", path, body)
		res := env.do(t, "POST", path, env.key, body)
		if !slices.Contains([]int{c.status, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict,
			http.StatusUnprocessableEntity}, res.status) {
			t.Fatalf("%s: status %d: %s", input, res.status, res.body)
		}
		var out map[string]any
		if err := json.Unmarshal(res.body, &out); err != nil {
			t.Fatalf("%s: %d body is not a JSON object: %v\n%s", input, res.status, err, res.body)
		}
		if res.status != c.status {
			if _, ok := out["error"].(string); !ok {
				t.Fatalf("%s: %d body has no error: %s", input, res.status, res.body)
			}
		}
		env.checkFuzzOutcome(t, fx, res, res.status == c.status, input)
	})
}
