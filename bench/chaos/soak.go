package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/bench/internal/cluster"
)

// soak runs the whole soak: setup, rounds, quiet, checks, summary.
func soak(ctx context.Context, s settings) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "goodplan-chaos-")
	if err != nil {
		return err
	}
	if !s.keep {
		defer os.RemoveAll(tmp)
	}
	progress("building goodplan")
	bin := filepath.Join(tmp, "goodplan")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/goodplan")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	pg, err := openPGCluster(ctx, s.pgCluster)
	if err != nil {
		return err
	}
	if !s.keep {
		defer pg.drop()
	}
	dbName := "goodplan_chaos_" + time.Now().UTC().Format("20060102t150405")
	dbURL := pg.url(dbName)
	if !s.keep {
		defer dropDatabase(pg, dbName)
	}

	mail := newSMTPSink(s.seed, 0.10, 0.05)
	smtpAddr, stopSMTP, err := mail.Listen()
	if err != nil {
		return err
	}
	defer stopSMTP()
	hooks := newHookSink(s.seed, 0.10, 0.02, 20*time.Second)
	hookSrv := &http.Server{Handler: hooks}
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = hookSrv.Serve(hookLn) }()
	defer hookSrv.Close()

	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	public := "http://" + proxyLn.Addr().String()
	progress("starting 3 NATS nodes, 3 replicas (database %s), proxy %s", dbName, public)
	c, err := cluster.Start(ctx, cluster.Options{Dir: tmp, Goodplan: bin, DatabaseURL: dbURL, PublicURL: public,
		Env: []string{"SMTP_URL=smtp://" + smtpAddr + "?tls=none", "WEBHOOK_ALLOW_PRIVATE_NETWORKS=true", "EMAIL_FROM=Chaos <chaos@localhost>"}})
	if err != nil {
		return err
	}
	defer c.Stop()
	px, err := cluster.NewProxy(c.Backends)
	if err != nil {
		return err
	}
	px.OnBackend = noteBackend
	rates := &rateRecorder{byKey: map[string][]span{}}
	proxySrv := &http.Server{Handler: rates.wrap(px)}
	go func() { _ = proxySrv.Serve(proxyLn) }()
	defer proxySrv.Close()

	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	accounts, probe, err := setupAccounts(ctx, c, s.accounts+1, public, "http://"+hookLn.Addr().String(), hooks)
	if err != nil {
		return err
	}
	hot := accounts[len(accounts)-1] // the rate limit's target, not in the flows
	accounts = accounts[:len(accounts)-1]
	rates.skip = probe.Key
	l := &load{base: public, accounts: accounts, client: &http.Client{Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range s.clients {
		wg.Go(func() { l.run(loadCtx, i, s.seed) })
	}
	if s.hammer > 0 {
		wg.Go(func() { l.hammer(loadCtx, hot, time.Second/time.Duration(s.hammer)) })
	}

	plan := schedule(s.seed, s.rounds, s.faults)
	var outcomes []outcome
	progress("%d rounds of %s (seed %d, faults %s), %d clients over %d merchants", s.rounds, s.round, s.seed, strings.Join(s.faults, ","), s.clients, s.accounts)
	roundsStart := time.Now()
	for _, f := range plan {
		if ctx.Err() != nil {
			break
		}
		if s.budget > 0 && time.Since(roundsStart) > s.budget {
			progress("-for %s is over after %d of %d rounds", s.budget, f.Round-1, len(plan))
			break
		}
		start := time.Now()
		o := runRound(ctx, c, pg, pool, l, probe, f)
		outcomes = append(outcomes, o)
		if f.Round%10 == 0 || !o.Recovered || f.Round == len(plan) {
			progress("round %d/%d %s %s: api %s pipeline %s %s", f.Round, len(plan), o.Kind, o.Target,
				o.API.Round(time.Millisecond), o.Pipeline.Round(time.Millisecond), o.Err)
		}
		if d := s.round - time.Since(start); d > 0 {
			time.Sleep(d)
		}
	}
	stopLoad()
	wg.Wait()
	loadStopped := time.Now()
	// An interrupt stops the rounds; quiet and the checks still run (the
	// wait for quiet is bounded by -quiet).
	ctx = context.WithoutCancel(ctx)
	progress("load stopped: %d plans acknowledged, %d flows completed; waiting for quiet", len(l.acks), l.flows)
	q := waitQuiet(ctx, pool, c, mail, hooks, s)
	progress("quiet after %s (%s)", q.waited.Round(time.Second), q.note)
	r := check(ctx, c, pool, l, mail, hooks, rates, outcomes)
	r.Settings = s.describe()
	r.Settings["git"] = gitDescribe(root)
	r.Settings["rounds run"] = fmt.Sprint(len(outcomes))
	r.Quiet = q
	r.EmailCatchUp = mail.lastAt().Sub(loadStopped)
	if r.EmailCatchUp < 0 {
		r.EmailCatchUp = 0
	}
	r.Outcomes = outcomes
	r.Recovery = recoveryTable(outcomes)
	md, err := r.write(s.out)
	if err != nil {
		return err
	}
	fmt.Print(md)
	if !r.Passed {
		return fmt.Errorf("checks failed: %s", strings.Join(r.Failed, "; "))
	}
	return nil
}

// runRound injects f while a probe creates a plan through the proxy and
// waits for it in the read model: the recovery times.
func runRound(ctx context.Context, c *cluster.Cluster, pg *pgCluster, pool *pgxpool.Pool, l *load, probe account, f fault) outcome {
	o := outcome{fault: f, At: time.Now()}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	type result struct{ api, pipe time.Duration }
	done := make(chan result, 1)
	go func() {
		var r result
		key := uuid.NewString()
		inv := "PROBE-" + key[:18]
		body := []byte(`{"customer":{"name":"Probe","email":"probe-` + key[:8] + `@example.com"},"invoice":{"amount":"100.00","invoice_number":"` + inv + `"},"send_introduction_email":false}`)
		var id int64
		for rctx.Err() == nil && id == 0 {
			req, _ := http.NewRequestWithContext(rctx, "POST", l.base+"/api/v1/plans", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+probe.Key)
			req.Header.Set("Idempotency-Key", key)
			res, err := l.client.Do(req)
			if err == nil {
				var b struct {
					PlanID int64 `json:"plan_id"`
				}
				_ = json.NewDecoder(res.Body).Decode(&b)
				res.Body.Close()
				l.record("probe", res.StatusCode)
				if res.StatusCode/100 == 2 {
					id = b.PlanID
					r.api = time.Since(o.At)
					l.mu.Lock()
					l.acks = append(l.acks, ack{Key: key, Invoice: inv, PlanID: id})
					l.mu.Unlock()
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		for rctx.Err() == nil && id != 0 {
			var n int
			if err := pool.QueryRow(rctx, `SELECT count(*) FROM plan_views WHERE plan_id = $1`, id).Scan(&n); err == nil && n == 1 {
				r.pipe = time.Since(o.At)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		done <- r
	}()
	if err := inject(rctx, c, pg, f, &o); err != nil {
		o.Err = err.Error()
	}
	select {
	case r := <-done:
		o.API, o.Pipeline = r.api, r.pipe
		o.Recovered = r.pipe > 0 && o.Err == ""
	case <-rctx.Done():
		o.Err = strings.TrimSpace(o.Err + " not recovered in 3 minutes")
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	return o
}

// setupAccounts creates the merchants (60 requests a minute each, the
// documented default), one probe merchant without a limit, and a webhook
// endpoint per merchant at the receiver.
func setupAccounts(ctx context.Context, c *cluster.Cluster, n int, public, hookBase string, hooks *hookSink) ([]account, account, error) {
	create := func(name string, extra ...string) (account, error) {
		id, err := c.Goodplan(ctx, append([]string{"accounts", "create", "--name", name}, extra...)...)
		if err != nil {
			return account{}, fmt.Errorf("accounts create: %w: %s", err, id)
		}
		key, err := c.Goodplan(ctx, "apikeys", "create", "--account", id)
		if err != nil {
			return account{}, fmt.Errorf("apikeys create: %w: %s", err, key)
		}
		return account{ID: id, Key: key}, nil
	}
	var out []account
	for i := range n {
		a, err := create(fmt.Sprintf("Chaos Merchant %d", i+1))
		if err != nil {
			return nil, account{}, err
		}
		path := "/hooks/" + a.ID
		body := `{"url":"` + hookBase + path + `","events":[]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", public+"/api/v1/webhook-endpoints", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, account{}, err
		}
		var ep struct {
			Secret string `json:"secret"`
		}
		err = json.NewDecoder(res.Body).Decode(&ep)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusCreated {
			return nil, account{}, fmt.Errorf("create webhook endpoint: %d %v", res.StatusCode, err)
		}
		if err := hooks.SetSecret(path, ep.Secret); err != nil {
			return nil, account{}, err
		}
		out = append(out, a)
	}
	probe, err := create("Chaos Probe", "--rate-limit", "0")
	return out, probe, err
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from inside the goodplan module")
	}
	return filepath.Dir(mod), nil
}

func dropDatabase(pg *pgCluster, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.url("postgres"))
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
}

// gitDescribe names the commit the soak built goodplan from (with -dirty
// when the work tree had changes), for the summary.
func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
