package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"goodplan/bench/internal/cluster"
)

// Fault kinds (the -faults flag).
const (
	killReplica = "kill-replica" // SIGKILL of a goodplan replica, restarted at once
	killLeader  = "kill-leader"  // SIGKILL of the replica whose relay is the leader
	killNATS    = "kill-nats"    // SIGKILL of a NATS node, restarted after a moment
	pause       = "pause"        // SIGSTOP of a replica for 2-4 s, then SIGCONT
	pgRestart   = "pg-restart"   // pg_ctlcluster restart: writes stop until it is back
)

var allFaults = []string{killReplica, killLeader, killNATS, pause, pgRestart}

// fault is one round's planned fault: the schedule is drawn from the seed
// alone, so the same seed replays the same schedule.
type fault struct {
	Round  int           `json:"round"`
	Kind   string        `json:"kind"`
	Target int           `json:"target"` // replica or NATS node index
	Hold   time.Duration `json:"hold"`   // pause length, or how long a node stays down
}

// schedule draws rounds faults from kinds with seed.
func schedule(seed uint64, rounds int, kinds []string) []fault {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([]fault, rounds)
	for i := range out {
		out[i] = fault{Round: i + 1, Kind: kinds[rng.IntN(len(kinds))], Target: rng.IntN(3),
			Hold: time.Duration(2000+rng.IntN(2001)) * time.Millisecond}
	}
	return out
}

// outcome is what a round's fault did.
type outcome struct {
	fault
	Target    string        `json:"target_name"`
	At        time.Time     `json:"at"`
	End       time.Time     `json:"end"`      // the fault was over (restart issued, SIGCONT, PostgreSQL up)
	API       time.Duration `json:"api"`      // fault -> first 2xx create through the proxy
	Pipeline  time.Duration `json:"pipeline"` // fault -> that plan in the read model
	Recovered bool          `json:"recovered"`
	Err       string        `json:"error,omitempty"`
	LeaderWas string        `json:"leader_was,omitempty"`
}

var leaderRE = regexp.MustCompile(`^time=(\S+) .*msg="relay is the leader"`)

// leader returns the index of the replica that most recently logged that
// its relay became the leader.
func leader(c *cluster.Cluster) int {
	best, bestAt := -1, ""
	for i, p := range c.Serve {
		b, err := os.ReadFile(p.LogPath)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := leaderRE.FindStringSubmatch(line); m != nil && m[1] > bestAt {
				best, bestAt = i, m[1]
			}
		}
	}
	return best
}

// inject applies f to the cluster and returns when the fault is over (the
// process restarted, resumed, or PostgreSQL answering).
func inject(ctx context.Context, c *cluster.Cluster, pg *pgCluster, f fault, o *outcome) error {
	switch f.Kind {
	case killReplica, killLeader:
		i := f.Target
		if f.Kind == killLeader {
			if i = leader(c); i < 0 {
				i = f.Target
			}
		}
		p := c.Serve[i]
		o.Target = p.Name
		if err := p.Kill(); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond) // its connections are gone; restart it
		o.End = time.Now()
		if err := p.Start(); err != nil {
			return err
		}
		return c.WaitHealthy(ctx, i, 2*time.Minute)
	case killNATS:
		p := c.NATS[f.Target]
		o.Target = p.Name
		if err := p.Kill(); err != nil {
			return err
		}
		time.Sleep(f.Hold)
		o.End = time.Now()
		if err := p.Start(); err != nil {
			return err
		}
		return c.WaitJetStream(ctx, 2*time.Minute)
	case pause:
		p := c.Serve[f.Target]
		o.Target = p.Name
		if err := p.Signal(syscall.SIGSTOP); err != nil {
			return err
		}
		time.Sleep(f.Hold)
		o.End = time.Now()
		return p.Signal(syscall.SIGCONT)
	case pgRestart:
		o.Target = "postgresql"
		err := pg.restart(ctx)
		o.End = time.Now()
		return err
	}
	return fmt.Errorf("unknown fault %q", f.Kind)
}

// percentiles returns the p50 and max of ds.
func percentiles(ds []time.Duration) (p50, maxd time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[len(s)-1]
}
