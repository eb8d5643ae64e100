package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// dataDirLockFile is the file in DATA_DIR that a running serve holds
// locked (flock) and writes its process id into.
const dataDirLockFile = "goodplan.lock"

// errDataDirBusy is lockDataDir's answer when another process holds the
// lock.
var errDataDirBusy = errors.New("DATA_DIR in use")

// claimDataDir takes DATA_DIR for this serve: it returns the function that
// releases it. When another serve holds it, what that means decides the
// answer. With the embedded NATS (NATS_URL empty) DATA_DIR/jetstream is
// that server's file store, and nats-server takes no lock of its own: a
// second embedded server opens the same files (it then reads the first
// one's stream and both write to it), so starting is refused, naming the
// other process. With an external NATS only the dev outbox is shared (two
// instances may write the same .eml name for their own plan 1): a warning,
// and it starts.
func claimDataDir(cfg config, log *slog.Logger) (release func(), err error) {
	release, holder, err := lockDataDir(cfg.DataDir)
	if !errors.Is(err, errDataDirBusy) {
		return release, err
	}
	if cfg.NATSURL == "" {
		return nil, fmt.Errorf("DATA_DIR %s is in use by another goodplan serve (%s): its embedded NATS JetStream store "+
			"cannot be shared by two processes; stop that one, or give this one a DATA_DIR of its own (or an external NATS_URL)",
			cfg.DataDir, holder)
	}
	log.Warn("DATA_DIR is in use by another goodplan serve: both write their dev emails to its outbox "+
		"(give each instance a DATA_DIR of its own)", "data_dir", cfg.DataDir, "holder", holder)
	return func() {}, nil
}

// lockDataDir creates dir if missing and locks dir/goodplan.lock for
// this process until release is called (or the process ends: the kernel
// drops the lock of a killed process). It returns errDataDirBusy, with
// holder naming the process that has it ("pid N"), when the lock is
// taken.
func lockDataDir(dir string) (release func(), holder string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("DATA_DIR: %w", err)
	}
	path := filepath.Join(dir, dataDirLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("DATA_DIR: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, "", fmt.Errorf("DATA_DIR: lock %s: %w", path, err)
	}
	if !ok {
		b, _ := os.ReadFile(path)
		f.Close()
		holder = "pid unknown"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			holder = "pid " + strconv.Itoa(pid)
		}
		return nil, holder, errDataDirBusy
	}
	// The pid is only for the message above: the lock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, "", nil
}
