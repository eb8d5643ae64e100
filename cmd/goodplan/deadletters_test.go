package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"goodplan/domain"
	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// openTestStore is an in-process store on dbURL, to put events in below
// the API (as events stored before the input boundary cleaned them are).
func openTestStore(t *testing.T, dbURL string) *eventstore.Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return eventstore.New(pool)
}

// appendNULPlan appends a plan.created whose customer name holds a NUL
// escape, straight to the store, and returns the plan id.
func appendNULPlan(t *testing.T, store *eventstore.Store, account int64) int64 {
	t.Helper()
	ctx := context.Background()
	next := func() int64 {
		id, err := store.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	var p domain.Plan
	evs, err := p.CreatePlan(domain.CreatePlan{PlanID: next(), AccountID: account, CustomerID: next(), InvoiceID: next(),
		OptionIDs: []int64{next(), next(), next()}, PortalToken: uuid.NewString(), Now: time.Now(), CustomerName: "ANNNAME", CustomerEmail: "ann@example.com",
		Amount: "300.00", Description: "DESCRIPTION"})
	if err != nil {
		t.Fatal(err)
	}
	ne, err := eventstore.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	ne[0].Data = bytes.Replace(ne[0].Data, []byte(`"ANNNAME"`), []byte(`"Ann\u0000"`), 1)
	ne[0].Data = bytes.Replace(ne[0].Data, []byte(`"DESCRIPTION"`), []byte(`"nul \u0000 here"`), 1)
	id := evs[0].(domain.PlanCreated).PlanID
	if _, err := store.Append(ctx, eventstore.PlanStream(id), eventstore.Head{}, ne, eventstore.Metadata{AccountID: account}); err != nil {
		t.Fatal(err)
	}
	return id
}

func createMinimal(t *testing.T, base, key string) int64 {
	t.Helper()
	status, body := call(t, http.MethodPost, base+"/api/v1/plans", key, minimalRequest)
	if status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", status, body)
	}
	return checkCreated(t, body).PlanID
}

func healthDeadLetters(t *testing.T, base string) int64 {
	t.Helper()
	status, body := call(t, http.MethodGet, base+"/api/health", "", "")
	var h struct {
		Status      string `json:"status"`
		DeadLetters *int64 `json:"dead_letters"`
	}
	if err := json.Unmarshal(body, &h); err != nil || status != 200 || h.Status != "ok" || h.DeadLetters == nil {
		t.Fatalf("health: %d %s (%v)", status, body, err)
	}
	return *h.DeadLetters
}

// TestDeadLettersEndToEnd: a plan event the projection cannot fold is set
// aside after DEAD_LETTER_AFTER deliveries while later plans keep flowing;
// health counts it; `deadletters list` shows it; `deadletters retry` runs
// serve's handler again (resolving what now succeeds, reporting what still
// fails); a NUL in stored text is projected and replayed; and replay
// reports the stream it cannot fold, rebuilds the others and exits 1.
func TestDeadLettersEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	acct := createAccount(t, dbURL, "--name", "Poison Co", "--rate-limit", "0", "--burst", "0")
	key := createKey(t, dbURL, acct)
	srv := startServer(t, dbURL, "DEAD_LETTER_AFTER=2")
	store := openTestStore(t, dbURL)

	a := createMinimal(t, srv.URL, key)
	nul := appendNULPlan(t, store, acct)
	waitForList(t, srv.URL, key, map[int64]bool{a: true, nul: false})
	status, body := call(t, http.MethodGet, planURL(srv.URL, nul), key, "")
	if status != 200 || !strings.Contains(string(body), "\"name\":\"Ann\uFFFD\"") {
		t.Fatalf("plan with a NUL: %d %s", status, body)
	}
	if res := runCLI(t, dbURL, "replay", "--wait", "5s"); res.code != 0 || !strings.Contains(res.stdout, "into 2 plans") ||
		!strings.Contains(res.stdout, " 0 differences, 0 streams not rebuilt") {
		t.Fatalf("replay with a NUL plan: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// Poison plan a: a second event that cannot be decoded.
	recs, head, err := store.Load(ctx, eventstore.PlanStream(a))
	if err != nil || len(recs) == 0 {
		t.Fatalf("load plan %d: %v", a, err)
	}
	poison, err := store.Append(ctx, eventstore.PlanStream(a), head, []eventstore.NewEvent{{ID: uuid.New(),
		Type: domain.EventIntroductionEmailSent, Data: []byte(`{"sent_at":`)}}, eventstore.Metadata{AccountID: acct})
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Every(100*time.Millisecond).WaitForNil(t, 30*time.Second, "a dead letter", func() error {
		if healthDeadLetters(t, srv.URL) != 1 {
			return fmt.Errorf("none yet; server log:\n%s", srv.logs)
		}
		return nil
	})
	b := createMinimal(t, srv.URL, key)
	waitForList(t, srv.URL, key, map[int64]bool{b: true}) // later plans flow

	dls, err := store.DeadLetters.List(ctx, false)
	if err != nil || len(dls) != 1 || dls[0].EventID != poison[0].EventID || dls[0].Consumer != "projection-plans" || dls[0].Attempts != 2 {
		t.Fatalf("dead letters: %+v, %v", dls, err)
	}
	poisonDL := dls[0].ID
	list := mustRunCLI(t, dbURL, "deadletters", "list").stdout
	line := regexp.MustCompile(`(?m)^` + strconv.FormatInt(poisonDL, 10) + `\s+projection-plans\s+` + poison[0].EventID.String() +
		`\s+plan-` + strconv.FormatInt(a, 10) + `\s+introduction_email.sent\s+2\s+\S+\s+\S+\s+-\s+.*unexpected end of JSON input`)
	if !line.MatchString(list) || strings.Count(list, "\n") != 2 {
		t.Fatalf("deadletters list:\n%s", list)
	}

	// Plan b's row lost and its event set aside, as if its projection had
	// failed: a retry runs the projection's handler and resolves it.
	if _, err := store.Pool().Exec(ctx, `DELETE FROM plan_views WHERE plan_id = $1`, b); err != nil {
		t.Fatal(err)
	}
	bRecs, _, err := store.Load(ctx, eventstore.PlanStream(b))
	if err != nil {
		t.Fatal(err)
	}
	bLast := bRecs[len(bRecs)-1]
	bDL, err := store.RecordDeadLetter(ctx, eventstore.NewDeadLetter{EventID: bLast.EventID, StreamID: bLast.StreamID,
		EventType: bLast.Type, Consumer: "projection-plans", Attempts: 5, Err: "lost"})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRunCLI(t, dbURL, "deadletters", "retry", "--id", strconv.FormatInt(bDL, 10))
	if !strings.Contains(res.stdout, fmt.Sprintf("dead letter %d (projection-plans, event %s): processed, resolved", bDL, bLast.EventID)) {
		t.Fatalf("retry: %s", res.stdout)
	}
	var version int64
	if err := store.Pool().QueryRow(ctx, `SELECT version FROM plan_views WHERE plan_id = $1`, b).Scan(&version); err != nil || version != int64(len(bRecs)) {
		t.Fatalf("plan %d row after the retry: version %d, %v; want %d", b, version, err, len(bRecs))
	}
	if res := mustRunCLI(t, dbURL, "deadletters", "retry", "--id", strconv.FormatInt(bDL, 10)); !strings.Contains(res.stdout, "resolved at") {
		t.Fatalf("retry of a resolved one: %s", res.stdout)
	}
	// The poison still fails: reported, exit 1, one more attempt recorded.
	for _, args := range [][]string{{"--id", strconv.FormatInt(poisonDL, 10)}, {"--all"}} {
		res := runCLI(t, dbURL, append([]string{"deadletters", "retry"}, args...)...)
		if res.code != 1 || !strings.Contains(res.stdout, fmt.Sprintf("dead letter %d (projection-plans, event %s): still failing", poisonDL, poison[0].EventID)) ||
			!strings.Contains(res.stderr, "1 of 1 still failing") {
			t.Fatalf("retry %v of the poison: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
		}
	}
	if d, err := store.DeadLetterByID(ctx, poisonDL); err != nil || d.Attempts != 4 || d.ResolvedAt != nil {
		t.Fatalf("poison after two failed retries: %+v, %v", d, err)
	}
	if list := mustRunCLI(t, dbURL, "deadletters", "list").stdout; strings.Count(list, "\n") != 2 {
		t.Fatalf("list after the retry:\n%s", list)
	}
	all := mustRunCLI(t, dbURL, "deadletters", "list", "--all").stdout
	if strings.Count(all, "\n") != 3 || !regexp.MustCompile(`(?m)^`+strconv.FormatInt(bDL, 10)+`\s.*\s\d{4}-\d\d-\d\dT\S+Z\s+lost$`).MatchString(all) {
		t.Fatalf("list --all:\n%s", all)
	}
	if n := healthDeadLetters(t, srv.URL); n != 1 {
		t.Fatalf("health counts %d dead letters, want 1", n)
	}

	// Replay: the poisoned stream is reported, the other three are rebuilt.
	res = runCLI(t, dbURL, "replay", "--wait", "5s")
	if res.code != 1 || !strings.Contains(res.stdout, fmt.Sprintf("cannot rebuild plan-%d: version %d: ", a, poison[0].Version)) ||
		!strings.Contains(res.stdout, "into 2 plans") || !strings.Contains(res.stdout, "1 streams not rebuilt") ||
		!strings.Contains(res.stderr, "replay: 1 streams could not be rebuilt") {
		t.Fatalf("replay with a poisoned stream: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// The operator gives up on the poison: resolved without a retry, the
	// health count drops to zero.
	if res := mustRunCLI(t, dbURL, "deadletters", "resolve", "--id", strconv.FormatInt(poisonDL, 10)); !strings.Contains(res.stdout, "resolved without a retry") {
		t.Fatalf("resolve: %s", res.stdout)
	}
	if d, err := store.DeadLetterByID(ctx, poisonDL); err != nil || d.ResolvedAt == nil || d.Attempts != 4 {
		t.Fatalf("poison after resolve: %+v, %v", d, err)
	}
	if n := healthDeadLetters(t, srv.URL); n != 0 {
		t.Fatalf("health counts %d dead letters after resolve, want 0", n)
	}
	if res := runCLI(t, dbURL, "deadletters", "resolve", "--id", "999999"); res.code != 1 || !strings.Contains(res.stderr, "does not exist") {
		t.Fatalf("resolve of an unknown id: exit %d %s", res.code, res.stderr)
	}

	// Usage.
	for _, args := range [][]string{{"deadletters"}, {"deadletters", "drop"}, {"deadletters", "retry"},
		{"deadletters", "retry", "--id", "1", "--all"}, {"deadletters", "list", "x"}, {"deadletters", "resolve"}} {
		if res := runCLI(t, unreachableDB, args...); res.code != 2 || res.stderr == "" {
			t.Errorf("goodplan %v: exit %d, stderr %q; want 2 and a message", args, res.code, res.stderr)
		}
	}
	for _, sub := range []string{"list", "retry", "resolve"} {
		if res := runCLI(t, unreachableDB, "deadletters", sub, "-h"); res.code != 0 || !strings.Contains(res.stderr, "Usage: goodplan deadletters "+sub) {
			t.Errorf("deadletters %s -h: exit %d, %q", sub, res.code, res.stderr)
		}
	}
}

func TestDeadLetterAfterConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 5, false},
		{"1", 1, false},
		{"20", 20, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"1001", 0, true},
		{"five", 0, true},
	} {
		cfg, err := loadConfig(envOf(map[string]string{"DEAD_LETTER_AFTER": tc.value}))
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), "DEAD_LETTER_AFTER")):
			t.Errorf("DEAD_LETTER_AFTER=%q: error %v, want one naming the variable", tc.value, err)
		case !tc.wantErr && (err != nil || cfg.DeadLetterAfter != tc.want):
			t.Errorf("DEAD_LETTER_AFTER=%q: %d, %v; want %d", tc.value, cfg.DeadLetterAfter, err, tc.want)
		}
	}
}
