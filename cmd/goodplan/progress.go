package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/term"

	"goodplan/eventstore"
)

// progressLine redraws one status line on a terminal while a long command
// (replay, verify) runs: events read, of about how many, the rate and the
// time left, or the phase after the reading. It writes nothing when its
// writer is not a terminal (a pipe, a file, CI logs).
type progressLine struct {
	w     io.Writer
	label string
	total int64 // an estimate; 0 when unknown
	p     *eventstore.Progress
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress shows p on w every 200 ms when tty is true. Stop clears
// the line.
func startProgress(w io.Writer, tty bool, label string, total int64, p *eventstore.Progress) *progressLine {
	l := &progressLine{w: w, label: label, total: total, p: p, start: time.Now(), stop: make(chan struct{})}
	if !tty {
		return l
	}
	l.done.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				fmt.Fprint(l.w, "\r\x1b[K")
				return
			case now := <-tick.C:
				fmt.Fprint(l.w, "\r"+l.render(now)+"\x1b[K")
			}
		}
	})
	return l
}

// Stop ends the display and clears its line.
func (l *progressLine) Stop() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
}

// render is the status line at now.
func (l *progressLine) render(now time.Time) string {
	n, elapsed := l.p.Events(), now.Sub(l.start)
	if phase := l.p.Phase(); phase != "" {
		return fmt.Sprintf("%s: %s events read; %s (%s)", l.label, thousands(n), phase, elapsed.Round(time.Second))
	}
	s := fmt.Sprintf("%s: %s events", l.label, thousands(n))
	if l.total > 0 && n <= l.total {
		s = fmt.Sprintf("%s: %s of ~%s events (%d%%)", l.label, thousands(n), thousands(l.total), n*100/l.total)
	}
	if elapsed < time.Second || n == 0 {
		return s
	}
	rate := float64(n) / elapsed.Seconds()
	s += fmt.Sprintf(", %s events/s", thousands(int64(rate)))
	if l.total > n {
		left := time.Duration(float64(l.total-n) / rate * float64(time.Second))
		s += fmt.Sprintf(", about %s left", left.Round(time.Second))
	}
	return s
}

// thousands is n with comma separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// perSecond is n over d, 0 for no time at all.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
