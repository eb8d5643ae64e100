// Package cluster starts goodplan's local cluster shape on one machine: a
// three-node NATS JetStream cluster, goodplan replicas on one PostgreSQL and
// a round-robin reverse proxy in front of them. `make cluster` (bench/cluster)
// and the chaos soak (bench/chaos) share it.
package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Proc is one child process: a nats-server or a goodplan replica. It can be
// killed, paused and started again with the same command line.
type Proc struct {
	Name    string   // "nats-1", "goodplan-2"
	Path    string   // the executable
	Args    []string // without the executable
	Env     []string // nil: the caller's
	LogPath string   // stdout and stderr are appended here
	// Detach starts the process in its own session, so it outlives the
	// caller (make cluster); otherwise it gets SIGKILL when the caller dies.
	Detach bool

	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts the process (again, after it exited or was killed).
func (p *Proc) Start() error {
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = log, log
	if p.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
	return nil
}

// Pid is the running process's id, 0 before Start.
func (p *Proc) Pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	if p.done == nil {
		return true
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s is not running", p.Name)
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Proc) Kill() error {
	if p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // a paused process dies as well
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	<-p.done
	return nil
}

// Stop sends SIGTERM and waits up to grace for the exit, then kills.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.Kill()
	}
}

// StopPid ends a detached process of an earlier run by its pid: SIGTERM,
// then SIGKILL after grace. It refuses a pid whose command line no longer
// names want (the pid was reused by another program).
func StopPid(pid int, want string, grace time.Duration) error {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return errNotRunning
	}
	if !strings.Contains(string(cmdline), want) {
		return fmt.Errorf("pid %d is no longer %s (%q): left alone", pid, want, strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return errNotRunning
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil || isZombie(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return nil
}

var errNotRunning = errors.New("not running")

// IsNotRunning reports whether StopPid found no such process.
func IsNotRunning(err error) bool { return errors.Is(err, errNotRunning) }

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}
