package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"time"

	"goodplan/api"
	"goodplan/eventstore"
	"goodplan/eventstore/dashdata"
	"goodplan/projections"
)

// targetDashboardP99Ms is issue 12's target for every dashboard page at
// 100,000 plans in the account.
const targetDashboardP99Ms = 50.0

// dashboardGroup is the dashboard row (issue 12): dashdata's fixture of
// 100,000 plans (10,000 with -quick) in one account, loaded with COPY, a
// few catalog plans and a plan group made through the API, everything
// projected by replay's code path (`goodplan replay --swap`'s); then the
// API as serve wires it (api.New) on a 127.0.0.1 listener, without the
// relay, scheduler and workers (they would replay the seeded events and
// tick 100,000 plans during the measurement), and one signed-in client
// GETs each page back to back, warm-up requests first: the exact p50 and
// p99 of each page are its row.
func (r *runner) dashboardGroup(ctx context.Context) error {
	plans, requests, warmups := 100_000, 200, 20
	if r.s.quick {
		plans, requests, warmups = 10_000, 40, 5
	}
	dbURL, err := r.dbs.create(ctx, true)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, dbURL, 16)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := eventstore.New(pool)
	acct, err := store.CreateAccount(ctx, eventstore.NewAccount{Name: "Bench Merchant"})
	if err != nil {
		return err
	}
	progress("dashboard: seeding %d plans in account %d, untimed", plans, acct.ID)
	start := time.Now()
	events, err := dashdata.Seed(ctx, pool, acct.ID, plans, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("dashboard fixture: %w", err)
	}
	const email, password = "owner@bench.example", "bench dashboard pass phrase"
	if _, err := store.CreateUser(ctx, eventstore.NewUser{AccountID: acct.ID, Email: email, Name: "Bench Owner",
		Role: eventstore.RoleOwner, Password: password}); err != nil {
		return err
	}
	key, err := store.CreateAPIKey(ctx, acct.ID)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.New(api.Config{Store: store, PublicURL: "http://localhost:8080", Version: "bench",
		Logger: slog.New(slog.DiscardHandler)}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}()
	base := "http://" + ln.Addr().String()
	apiClient := newAPIClient(base, key, 1)
	for _, body := range []string{`{"id":"starter","name":"Starter","amount":49}`, `{"id":"pro","name":"Pro","amount":99}`} {
		if _, err := apiClient.do(ctx, http.MethodPost, "/api/v1/catalog/plans", []byte(body), http.StatusCreated); err != nil {
			return err
		}
	}
	group := fmt.Sprintf(`{"name":"Premium","plans":["starter","pro"],"payment_plans":[%d,%d]}`,
		dashdata.PlanID(1), dashdata.PlanID(2))
	made, err := apiClient.do(ctx, http.MethodPost, "/api/v1/plan-groups", []byte(group), http.StatusCreated)
	if err != nil {
		return err
	}
	var g struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(made, &g); err != nil || g.ID == nil {
		return fmt.Errorf("plan group: %s", lastBytes(string(made), 200))
	}
	res, err := projections.Replay(ctx, store, projections.ReplayOptions{Swap: true, CatchUpWait: time.Second})
	if err == nil && (!res.Swapped || res.Plans != int64(plans) || len(res.Failed) > 0) {
		err = fmt.Errorf("%d plans, %d failed, swapped %v", res.Plans, len(res.Failed), res.Swapped)
	}
	if err != nil {
		return fmt.Errorf("dashboard fixture: replay --swap: %w", err)
	}
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return err
	}
	r.note("dashboard fixture: %d plans (%d events) of one account, 2 catalog plans and a plan group, seeded and "+
		"projected in %s, not timed", plans, events, time.Since(start).Round(100*time.Millisecond))

	client, err := dashboardSignIn(ctx, base, email, password)
	if err != nil {
		return err
	}
	mid := plans / 2
	for _, pg := range []struct{ name, path string }{
		{"Needs attention", "/dashboard"},
		{"Overview", "/dashboard/overview"},
		{"plans, newest", "/dashboard/plans"},
		{"plans, status=active", "/dashboard/plans?status=active"},
		{"plans, a page halfway", "/dashboard/plans?after=" + strconv.FormatInt(dashdata.PlanID(mid), 10)},
		{"plans, search a name", "/dashboard/plans?q=" + url.QueryEscape(dashdata.CustomerName(mid/10))},
		{"plans, search every name", "/dashboard/plans?q=customer"},
		{"plans, search an email", "/dashboard/plans?q=" + dashdata.CustomerEmail(mid)},
		{"plans, search an invoice", "/dashboard/plans?q=" + dashdata.InvoiceNumber(mid)},
		{"a plan's page", "/dashboard/plans/" + strconv.FormatInt(dashdata.PlanID(mid+3), 10)},
		{"catalog", "/dashboard/catalog"},
		{"plan groups", "/dashboard/plan-groups"},
		{"a group's report", "/dashboard/plan-groups/" + fmt.Sprint(g.ID)},
		{"developers", "/dashboard/developers"},
		{"settings", "/dashboard/settings"},
	} {
		var lat latencies
		for i := range warmups + requests {
			t0 := time.Now()
			if err := dashboardGet(ctx, client, base+pg.path); err != nil {
				return fmt.Errorf("dashboard %s: %w", pg.name, err)
			}
			if i >= warmups {
				lat = append(lat, time.Since(t0))
			}
		}
		var total time.Duration
		for _, d := range lat {
			total += d
		}
		p50, p99 := lat.p50p99()
		r.add(Row{Group: "dashboard", Name: fmt.Sprintf("GET %s (%s), %s plans", pg.path, pg.name, commas(int64(plans))),
			Value: float64(len(lat)) / total.Seconds(), Unit: "requests/s", P50Ms: p50, P99Ms: p99,
			Target: fmt.Sprintf("p99 < %.0f ms", targetDashboardP99Ms), Result: passMiss(*p99 < targetDashboardP99Ms),
			Note: fmt.Sprintf("1 signed-in client, %d requests back to back after %d warm-ups", requests, warmups)})
	}
	return nil
}

// dashboardSignIn signs in at base's /dashboard/login and returns a client
// that carries the session cookie.
func dashboardSignIn(ctx context.Context, base, email, password string) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := newHTTPClient(1)
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	form := url.Values{"email": {email}, "password": {password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/dashboard/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", benchUserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("dashboard sign-in: status %d, want 303", resp.StatusCode)
	}
	return c, nil
}

// dashboardGet GETs a dashboard page, whole, and wants a 200.
func dashboardGet(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", benchUserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return err
}
