package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
)

// quietRequest creates a plan that sends no email: its stream stays at
// one event.
const quietRequest = `{"customer": {"name": "John Doe", "email": "john@example.com"}, "invoice": {"amount": 1200.00},
  "send_introduction_email": false}`

// jsonKeys is the sorted keys of a JSON object.
func jsonKeys(t *testing.T, out string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestReplayAndVerifySummaries runs both commands as CI would (stderr is a
// pipe, not a terminal): no progress is drawn, the text summary is one line,
// and --json prints one JSON document of the documented shape, for a
// store that verifies and for one that does not.
func TestReplayAndVerifySummaries(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	key := createKey(t, dbURL, createAccount(t, dbURL, "--name", "Summary Test", "--rate-limit", "0"))
	srv := startServer(t, dbURL)
	var ids []int64
	for i := range 3 {
		status, body := call(t, http.MethodPost, srv.URL+"/api/v1/plans", key, quietRequest)
		if status != http.StatusCreated {
			t.Fatalf("plan %d: %d %s, want 201", i, status, body)
		}
		ids = append(ids, checkCreated(t, body).PlanID)
	}
	// The projection has every plan before the server stops (the list
	// reads the read model alone).
	pgtest.WaitForNil(t, 2*time.Minute, fmt.Sprintf("the read model to list the %d plans", len(ids)), func() error {
		_, body := call(t, http.MethodGet, srv.URL+"/api/v1/plans", key, "")
		var list struct {
			Total int `json:"total_items"`
		}
		if json.Unmarshal(body, &list) == nil && list.Total == len(ids) {
			return nil
		}
		return fmt.Errorf("the list says %s", body)
	})
	srv.stop(t)

	res := mustRunCLI(t, dbURL, "replay", "--wait", "30s")
	if res.stderr != "" || strings.Count(res.stdout, "\n") != 1 ||
		!strings.HasPrefix(res.stdout, "replayed 3 events into 3 plans,") || !strings.Contains(res.stdout, " events/s): 0 differences") {
		t.Fatalf("goodplan replay: stdout %q, stderr %q; want one summary line and a quiet stderr", res.stdout, res.stderr)
	}
	res = mustRunCLI(t, dbURL, "replay", "--wait", "30s", "--json")
	if res.stderr != "" {
		t.Fatalf("goodplan replay --json wrote to stderr: %q", res.stderr)
	}
	wantReplay := []string{"catalog_events", "catalog_plans", "command", "differences", "diffs", "events", "events_per_second",
		"failed", "group_events", "groups", "not_rebuilt", "ok", "plans", "seconds", "swapped"}
	if got := jsonKeys(t, res.stdout); !reflect.DeepEqual(got, wantReplay) {
		t.Fatalf("goodplan replay --json keys %v, want %v", got, wantReplay)
	}
	var rs replaySummary
	if err := json.Unmarshal([]byte(res.stdout), &rs); err != nil {
		t.Fatal(err)
	}
	if rs.Command != "replay" || !rs.OK || rs.Events != 3 || rs.Plans != 3 || rs.Differences != 0 || rs.Seconds <= 0 ||
		rs.EventsPerSecond <= 0 || rs.Diffs == nil || rs.Failed == nil {
		t.Fatalf("goodplan replay --json: %+v", rs)
	}

	res = mustRunCLI(t, dbURL, "verify")
	if res.stderr != "" || strings.Count(res.stdout, "\n") != 1 || !verifyLine.MatchString(res.stdout) {
		t.Fatalf("goodplan verify: stdout %q, stderr %q; want one summary line and a quiet stderr", res.stdout, res.stderr)
	}
	res = mustRunCLI(t, dbURL, "verify", "--json")
	wantVerify := []string{"catalog_plans", "catalog_problems", "command", "events", "events_per_second", "first_bad_event",
		"ok", "plan_groups", "prices", "reservations", "seconds", "streams"}
	if got := jsonKeys(t, res.stdout); res.stderr != "" || !reflect.DeepEqual(got, wantVerify) {
		t.Fatalf("goodplan verify --json keys %v (stderr %q), want %v", got, res.stderr, wantVerify)
	}
	var vs verifySummary
	if err := json.Unmarshal([]byte(res.stdout), &vs); err != nil {
		t.Fatal(err)
	}
	if vs.Command != "verify" || !vs.OK || vs.Events < 3 || vs.Streams < 3 || vs.FirstBadEvent != nil || vs.CatalogProblems == nil {
		t.Fatalf("goodplan verify --json: %+v", vs)
	}

	// A tampered event: exit 1, the JSON names it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var eventID string
	if err := conn.QueryRow(ctx, `SET session_replication_role = replica;`).Scan(); err != nil && err != pgx.ErrNoRows {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `UPDATE events SET metadata = metadata || '\x20'::bytea
		WHERE global_position = (SELECT max(global_position) FROM events WHERE stream_id LIKE 'plan-%')
		RETURNING event_id::text`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, dbURL, "verify", "--json")
	if err := json.Unmarshal([]byte(res.stdout), &vs); err != nil || res.code != 1 || vs.OK || vs.FirstBadEvent == nil ||
		vs.FirstBadEvent.EventID != eventID || !strings.Contains(res.stderr, "first bad event") {
		t.Fatalf("goodplan verify --json after tampering with %s: exit %d, %+v (%v)\nstdout:\n%s\nstderr:\n%s",
			eventID, res.code, vs, err, res.stdout, res.stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	p := &eventstore.Progress{}
	p.Add(250_000)

	var quiet syncBuffer
	startProgress(&quiet, false, "replay", 1_000_000, p).Stop()
	if quiet.String() != "" {
		t.Fatalf("progress on a non-terminal wrote %q, want nothing", quiet.String())
	}

	var tty syncBuffer
	line := startProgress(&tty, true, "replay", 1_000_000, p)
	pgtest.WaitFor(t, time.Minute, "the status line to be drawn", func() bool { return strings.Contains(tty.String(), "\r") })
	line.Stop()
	out := tty.String()
	if !strings.Contains(out, "replay: 250,000 of ~1,000,000 events (25%)") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Fatalf("progress on a terminal wrote %q, want the status line redrawn and cleared at the end", out)
	}

	l := &progressLine{label: "verify", total: 1_000_000, p: p, start: time.Unix(0, 0)}
	if got, want := l.render(time.Unix(5, 0)), "verify: 250,000 of ~1,000,000 events (25%), 50,000 events/s, about 15s left"; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
	p.SetPhase("comparing")
	if got, want := l.render(time.Unix(7, 0)), "verify: 250,000 events read; comparing (7s)"; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
	l.total = 0
	p.SetPhase("")
	if got, want := l.render(time.Unix(5, 0)), "verify: 250,000 events, 50,000 events/s"; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
}
