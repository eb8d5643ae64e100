package main

import (
	"reflect"
	"testing"
	"time"
)

// The same seed draws the same schedule; another seed another one.
func TestScheduleIsReproducible(t *testing.T) {
	a, b := schedule(7, 200, allFaults), schedule(7, 200, allFaults)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("seed 7 drew two schedules")
	}
	if reflect.DeepEqual(a, schedule(8, 200, allFaults)) {
		t.Fatal("seeds 7 and 8 drew the same schedule")
	}
	kinds := map[string]int{}
	for _, f := range a {
		kinds[f.Kind]++
		if f.Target < 0 || f.Target > 2 || f.Hold < 2*time.Second || f.Hold > 4*time.Second {
			t.Fatalf("fault out of range: %+v", f)
		}
	}
	if len(kinds) != len(allFaults) {
		t.Fatalf("200 rounds drew only %v", kinds)
	}
}

// The rolling minute counts the most requests of one key that arrived
// and were answered within one 60 s; an answer held past the minute (its
// replica paused) is not certain to have been decided in it. Both clocks
// count alike while the wall clock is not stepped (and these times, from
// time.Unix, have no monotonic reading).
func TestRateRecorderRollingMinute(t *testing.T) {
	for _, wall := range []bool{false, true} {
		t0 := time.Unix(1000, 0)
		rr := &rateRecorder{byKey: map[string][]span{}}
		at := func(d time.Duration) span { return span{In: t0.Add(d), Out: t0.Add(d + 10*time.Millisecond)} }
		for i := range 90 { // one a second for 90 s: 60 in any minute
			rr.byKey["a"] = append(rr.byKey["a"], at(time.Duration(i)*time.Second))
		}
		for i := range 5 { // 5 more within a second
			rr.byKey["b"] = append(rr.byKey["b"], at(time.Duration(i)*time.Millisecond))
		}
		if most, total, _ := rr.maxPerMinute(wall); most != 60 || total != 95 {
			t.Fatalf("most %d total %d, want 60 and 95", most, total)
		}
		// 60 in the first minute, then one that arrived in it and was
		// answered 3 s after it: not certainly in the same minute.
		rr.byKey["c"] = append(rr.byKey["c"], span{In: t0, Out: t0.Add(63 * time.Second)})
		for i := range 60 {
			rr.byKey["c"] = append(rr.byKey["c"], at(time.Duration(i)*time.Second+500*time.Millisecond))
		}
		if most, _, _ := rr.maxPerMinute(wall); most != 60 {
			t.Fatalf("most %d with a held answer, want 60", most)
		}
		// One more answered in the minute breaks the limit.
		rr.byKey["c"] = append(rr.byKey["c"], at(59*time.Second+700*time.Millisecond))
		most, _, worst := rr.maxPerMinute(wall)
		if most != 61 || len(worst) != 61 {
			t.Fatalf("most %d (%d spans shown), want 61", most, len(worst))
		}
		if d := rr.clockDrift(); d != 0 {
			t.Fatalf("drift %s with no clock step", d)
		}
	}
}

// sinceKill measures from the latest replica kill (of either kind) before
// t, within the crash window; other faults and kills after t do not count.
func TestSinceKill(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	outs := []outcome{
		{fault: fault{Kind: killReplica}, At: t0},
		{fault: fault{Kind: pause}, At: t0.Add(10 * time.Second)},
		{fault: fault{Kind: killLeader}, At: t0.Add(20 * time.Second)},
		{fault: fault{Kind: killReplica}, At: t0.Add(40 * time.Second)},
	}
	for _, c := range []struct {
		at   time.Duration
		want time.Duration
		ok   bool
	}{
		{at: -time.Second, ok: false},
		{at: 6 * time.Second, want: 6 * time.Second, ok: true},
		{at: 15 * time.Second, want: 15 * time.Second, ok: true},
		{at: 26 * time.Second, want: 6 * time.Second, ok: true},
		{at: 40*time.Second + crashWindow, want: crashWindow, ok: true},
		{at: 41*time.Second + crashWindow, ok: false},
	} {
		got, ok := sinceKill(t0.Add(c.at), outs)
		if ok != c.ok || got != c.want {
			t.Errorf("sinceKill(t0+%v) = %v, %v; want %v, %v", c.at, got, ok, c.want, c.ok)
		}
	}
}
