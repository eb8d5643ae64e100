package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// report is the soak's summary.
type report struct {
	Settings     map[string]string `json:"settings"`
	Quiet        quiet             `json:"quiet"`
	EmailCatchUp time.Duration     `json:"email_catch_up_ns"`
	Recovery     []recoveryRow     `json:"recovery"`
	Figures      []figure          `json:"figures"`
	Outcomes     []outcome         `json:"rounds"`
	Passed       bool              `json:"passed"`
	Failed       []string          `json:"failed,omitempty"`
	// RateWindow is, when the rate limit broke, the busiest minute's
	// accepted requests of its key.
	RateWindow []span `json:"rate_window,omitempty"`
}

// recoveryRow is one fault kind's recovery times.
type recoveryRow struct {
	Kind                     string        `json:"kind"`
	Rounds                   int           `json:"rounds"`
	NotRecovered             int           `json:"not_recovered"`
	APIP50, APIMax           time.Duration `json:"-"`
	PipelineP50, PipelineMax time.Duration `json:"-"`
	APIP50ms                 int64         `json:"api_p50_ms"`
	APIMaxms                 int64         `json:"api_max_ms"`
	PipelineP50ms            int64         `json:"pipeline_p50_ms"`
	PipelineMaxms            int64         `json:"pipeline_max_ms"`
}

func recoveryTable(outs []outcome) []recoveryRow {
	var rows []recoveryRow
	for _, kind := range allFaults {
		var api, pipe []time.Duration
		row := recoveryRow{Kind: kind}
		for _, o := range outs {
			if o.Kind != kind {
				continue
			}
			row.Rounds++
			if !o.Recovered {
				row.NotRecovered++
				continue
			}
			api, pipe = append(api, o.API), append(pipe, o.Pipeline)
		}
		if row.Rounds == 0 {
			continue
		}
		row.APIP50, row.APIMax = percentiles(api)
		row.PipelineP50, row.PipelineMax = percentiles(pipe)
		row.APIP50ms, row.APIMaxms = row.APIP50.Milliseconds(), row.APIMax.Milliseconds()
		row.PipelineP50ms, row.PipelineMaxms = row.PipelineP50.Milliseconds(), row.PipelineMax.Milliseconds()
		rows = append(rows, row)
	}
	return rows
}

func (s settings) describe() map[string]string {
	return map[string]string{"rounds": fmt.Sprint(s.rounds), "seed": fmt.Sprint(s.seed), "faults": strings.Join(s.faults, ","),
		"round": s.round.String(), "clients": fmt.Sprint(s.clients), "accounts": fmt.Sprint(s.accounts), "hammer": fmt.Sprint(s.hammer), "pg-cluster": s.pgCluster}
}

// write puts the summary in dir as chaos-<timestamp>.md and .json and
// returns the Markdown.
func (r *report) write(dir string) (string, error) {
	var b strings.Builder
	st := r.Settings
	fmt.Fprintf(&b, "# Chaos soak %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "%s of %s rounds run (seed %s, round %s, faults %s), %s clients over %s merchants, one more merchant sending %s requests/s at the rate limit; 3 NATS JetStream nodes (stream R3), 3 goodplan replicas, one PostgreSQL, a round-robin proxy. Recovery: from the fault to the first 2xx create through the proxy (api) and to that plan in the read model (pipeline).\n\n",
		st["rounds run"], st["rounds"], st["seed"], st["round"], st["faults"], st["clients"], st["accounts"], st["hammer"])
	fmt.Fprintf(&b, "Built from git %s; PostgreSQL cluster %s.\n\n", st["git"], st["pg-cluster"])
	fmt.Fprintf(&b, "| fault | rounds | not recovered | api p50 | api max | pipeline p50 | pipeline max |\n|---|---|---|---|---|---|---|\n")
	for _, x := range r.Recovery {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s |\n", x.Kind, x.Rounds, x.NotRecovered, ms(x.APIP50), ms(x.APIMax), ms(x.PipelineP50), ms(x.PipelineMax))
	}
	fmt.Fprintf(&b, "\nQuiet after the load stopped: %s (%s). Email catch-up (load stop to the last email accepted): %s.\n\n",
		r.Quiet.waited.Round(time.Second), r.Quiet.note, r.EmailCatchUp.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "| check | value | result |\n|---|---|---|\n")
	for _, f := range r.Figures {
		res := "ok"
		switch {
		case f.Info:
			res = "info"
		case !f.OK:
			res = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Name, f.Value, res)
	}
	if r.Passed {
		fmt.Fprintf(&b, "\nEvery check passed.\n")
	} else {
		fmt.Fprintf(&b, "\nFailed: %s.\n", strings.Join(r.Failed, "; "))
	}
	if len(r.RateWindow) > 0 {
		fmt.Fprintf(&b, "\nThe busiest minute of one key (%d requests accepted), each with the replica that answered and the X-RateLimit-Remaining it sent, and the fault rounds running:\n\n| arrived | answered | replica | remaining | request | faults |\n|---|---|---|---|---|---|\n", len(r.RateWindow))
		for _, s := range r.RateWindow {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s %s %d | %s |\n", s.In.UTC().Format("15:04:05.000"), s.Out.UTC().Format("15:04:05.000"),
				s.Replica, s.Remaining, s.Method, s.Path, s.Status, faultsAt(s.In, s.Out, r.Outcomes))
		}
	}
	md := b.String()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return md, err
	}
	base := filepath.Join(dir, "chaos-"+time.Now().UTC().Format("20060102T150405Z"))
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return md, err
	}
	if err := os.WriteFile(base+".json", js, 0o644); err != nil {
		return md, err
	}
	return md, os.WriteFile(base+".md", []byte(md), 0o644)
}

func ms(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// faultsAt names the rounds whose fault window (duringFault's) overlaps
// [in, out].
func faultsAt(in, out time.Time, outs []outcome) string {
	var names []string
	for _, o := range outs {
		end := o.End
		if rec := o.At.Add(o.Pipeline); rec.After(end) {
			end = rec
		}
		if !out.Before(o.At) && in.Before(end.Add(5*time.Second)) {
			names = append(names, fmt.Sprintf("%d %s %s", o.Round, o.Kind, o.Target))
		}
	}
	return strings.Join(names, ", ")
}
