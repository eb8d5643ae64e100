package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"goodplan/eventstore/pgtest"
)

// TestDataDirLock: one holder at a time; the second is told who holds
// it; embedded NATS refuses, an external NATS only warns; a released lock
// can be taken again.
func TestDataDirLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, _, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, holder, err := lockDataDir(dir)
	if !errors.Is(err, errDataDirBusy) || holder != "pid "+strconv.Itoa(os.Getpid()) {
		t.Fatalf("second lock: %v, holder %q", err, holder)
	}
	if _, err := claimDataDir(config{DataDir: dir}, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "in use by another goodplan serve (pid "+strconv.Itoa(os.Getpid())+")") {
		t.Fatalf("embedded NATS on a held DATA_DIR: %v, want a refusal naming the holder", err)
	}
	var logs bytes.Buffer
	rel2, err := claimDataDir(config{DataDir: dir, NATSURL: "nats://127.0.0.1:4222"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "DATA_DIR is in use") {
		t.Fatalf("external NATS on a held DATA_DIR: %v, log %q", err, logs.String())
	}
	rel2()
	release()
	release, _, err = lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release()
}

// TestSecondServeOnOneDataDir: a second serve on the DATA_DIR of a
// running one (embedded NATS) exits 1 naming the first one's pid, and
// the first one keeps serving.
func TestSecondServeOnOneDataDir(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	dataDir := t.TempDir()
	first := startServer(t, db, "DATA_DIR="+dataDir)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goodplanBin, "serve")
	cmd.Env = cliEnv("DATABASE_URL="+db, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+dataDir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	want := "is in use by another goodplan serve (pid " + strconv.Itoa(first.cmd.Process.Pid) + ")"
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), want) {
		t.Fatalf("second serve: %v, want exit 1 with %q\n%s", err, want, out)
	}
	if status, _ := call(t, "GET", first.URL+"/api/health", "", ""); status != 200 {
		t.Fatalf("the first serve answers /api/health with %d after the second one gave up", status)
	}
}
