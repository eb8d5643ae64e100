package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBinary builds cmd/goodplan into dir and returns its path.
func buildBinary(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "goodplan")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/goodplan")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/goodplan: %w\n%s", err, out)
	}
	return bin, nil
}

// goodplanEnv is the harness's environment without any goodplan setting,
// plus env (KEY=value).
func goodplanEnv(env ...string) []string {
	drop := map[string]bool{"DATABASE_URL": true, "HTTP_ADDR": true, "PUBLIC_URL": true, "NATS_URL": true,
		"NATS_SUBJECT_PREFIX": true, "DATA_DIR": true, "SMTP_URL": true, "EMAIL_FROM": true,
		"WEBHOOK_ALLOW_PRIVATE_NETWORKS": true}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// runCLI runs the binary to completion and returns its stdout; a non-zero
// exit is an error carrying stderr.
func runCLI(ctx context.Context, bin string, env []string, args ...string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return stdout.String(), elapsed, fmt.Errorf("goodplan %s: %w\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), err, lastBytes(stdout.String(), 2000), lastBytes(stderr.String(), 2000))
	}
	return stdout.String(), elapsed, nil
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// serveProc is a running `goodplan serve`.
type serveProc struct {
	cmd  *exec.Cmd
	Base string // http://127.0.0.1:port
	done chan struct{}
	err  error // the exit status, once done is closed

	mu      sync.Mutex
	tail    []string // its last log lines
	metrics string   // http://host:port of its METRICS_ADDR listener, once logged
}

var (
	listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)
	metricsRE   = regexp.MustCompile(`msg="metrics listening" addr=(\S+)/metrics`)
)

// startServe starts `goodplan serve` and waits for its listening log line.
func startServe(ctx context.Context, bin string, env []string) (*serveProc, error) {
	p := &serveProc{cmd: exec.Command(bin, "serve"), done: make(chan struct{})}
	p.cmd.Env = env
	// If the harness dies without stopping it, the server goes too.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start goodplan serve: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			p.mu.Lock()
			if m := metricsRE.FindStringSubmatch(line); m != nil {
				p.metrics = m[1]
			}
			p.tail = append(p.tail, line)
			if len(p.tail) > 40 {
				p.tail = p.tail[len(p.tail)-40:]
			}
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.Base = <-addr:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("goodplan serve exited before listening: %v\n%s", p.err, p.Tail())
	case <-time.After(2 * time.Minute):
		p.Stop()
		return nil, fmt.Errorf("goodplan serve did not log msg=listening in 2 minutes\n%s", p.Tail())
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

// MetricsBase is the http://host:port of the metrics listener (serve
// started with METRICS_ADDR), waiting up to 10 s for its log line; "" if
// none was logged.
func (p *serveProc) MetricsBase() string {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		m := p.metrics
		p.mu.Unlock()
		if m != "" || time.Now().After(deadline) {
			return m
		}
	}
}

// Tail returns the last log lines.
func (p *serveProc) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// Alive returns an error if the process has exited.
func (p *serveProc) Alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("goodplan serve exited unexpectedly: %v\n%s", p.err, p.Tail())
	default:
		return nil
	}
}

// Stop sends SIGTERM, waits up to 20 s for a graceful exit, then kills.
// It returns the exit error of a process that did not exit cleanly.
func (p *serveProc) Stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("goodplan serve did not stop within 20 s of SIGTERM; killed")
	}
}
