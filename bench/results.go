package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one measured number of the results table.
type Row struct {
	Group string  `json:"group"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// P50Ms and P99Ms are set where the row is a rate or count with a
	// latency distribution behind it (exact percentiles, nearest rank).
	P50Ms *float64 `json:"p50_ms,omitempty"`
	P99Ms *float64 `json:"p99_ms,omitempty"`
	// Ratio is Value over the baseline named in RatioTo.
	Ratio   *float64 `json:"ratio,omitempty"`
	RatioTo string   `json:"ratio_to,omitempty"`
	// Target is the target, e.g. ">= 0.70 x raw append, p99 <= 25 ms";
	// Result is PASS or MISS (empty when there is no target or it cannot be
	// evaluated in this run).
	Target string `json:"target,omitempty"`
	Result string `json:"result,omitempty"`
	// Errors counts failed requests in the measured window (non-2xx as
	// expected, or transport errors).
	Errors int    `json:"errors,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Machine is where the numbers were measured.
type Machine struct {
	NumCPU            int    `json:"nproc"`
	CPUModel          string `json:"cpu_model"`
	MemTotal          string `json:"mem_total"`
	GoVersion         string `json:"go_version"`
	PostgresVersion   string `json:"postgres_version"`
	SynchronousCommit string `json:"postgres_synchronous_commit"`
	SharedBuffers     string `json:"postgres_shared_buffers"`
	GitCommit         string `json:"git_commit"`
	GitDirty          bool   `json:"git_dirty"`
	Kernel            string `json:"kernel"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg at the start and the
	// end: a busy machine (other jobs on the same cores) skews every number.
	LoadAvgStart string `json:"loadavg_start"`
	LoadAvgEnd   string `json:"loadavg_end"`
}

// Report is a whole run, as written to the JSON file.
type Report struct {
	StartedAt   time.Time `json:"started_at"`
	WallSeconds float64   `json:"wall_seconds"`
	Args        []string  `json:"args"`
	Quick       bool      `json:"quick"`
	Groups      []string  `json:"groups"`
	Machine     Machine   `json:"machine"`
	Rows        []Row     `json:"rows"`
	Notes       []string  `json:"notes"`
}

func f64(v float64) *float64 { return &v }

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// fmtNum prints a value with thousands separators and sensible precision.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case math.Abs(v) >= 100:
		return commas(int64(math.Round(v)))
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtMs(p *float64) string {
	if p == nil {
		return ""
	}
	if *p >= 100 {
		return fmt.Sprintf("%.0f ms", *p)
	}
	return fmt.Sprintf("%.2f ms", *p)
}

func fmtRatio(r Row) string {
	if r.Ratio == nil {
		return ""
	}
	return fmt.Sprintf("%.2f x %s", *r.Ratio, r.RatioTo)
}

func tableCells(r Row) []string {
	return []string{r.Name, fmtNum(r.Value), r.Unit, fmtMs(r.P50Ms), fmtMs(r.P99Ms), fmtRatio(r), r.Target, r.Result}
}

var tableHeader = []string{"name", "value", "unit", "p50", "p99", "ratio", "target", "result"}

// writeText prints the table for a terminal.
func writeText(w io.Writer, rep *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t"))
	group := ""
	for _, r := range rep.Rows {
		if r.Group != group {
			group = r.Group
			fmt.Fprintf(tw, "[%s]\t\t\t\t\t\t\t\n", group)
		}
		fmt.Fprintln(tw, strings.Join(tableCells(r), "\t"))
	}
	tw.Flush()
	writeFooter(w, rep, "")
}

func writeFooter(w io.Writer, rep *Report, bullet string) {
	m := rep.Machine
	fmt.Fprintf(w, "\n%smachine: %d CPUs (%s), %s RAM, %s, PostgreSQL %s (synchronous_commit=%s, shared_buffers=%s), %s, git %s%s\n",
		bullet, m.NumCPU, m.CPUModel, m.MemTotal, m.GoVersion, m.PostgresVersion, m.SynchronousCommit, m.SharedBuffers,
		m.Kernel, shortCommit(m.GitCommit), map[bool]string{true: " (dirty)", false: ""}[m.GitDirty])
	fmt.Fprintf(w, "%sstarted %s, wall time %s, args %q, load average %s at the start, %s at the end\n", bullet,
		rep.StartedAt.Format(time.RFC3339), (time.Duration(rep.WallSeconds * float64(time.Second))).Round(time.Second), rep.Args,
		m.LoadAvgStart, m.LoadAvgEnd)
	for _, r := range rep.Rows {
		if r.Note != "" {
			fmt.Fprintf(w, "%s%s: %s\n", bullet, r.Name, r.Note)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "%s%s\n", bullet, n)
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// writeMarkdown writes the table as GitHub-flavoured Markdown.
func writeMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "# goodplan benchmark, %s\n\n", rep.StartedAt.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "| group | %s |\n|%s\n", strings.Join(tableHeader, " | "), strings.Repeat("---|", len(tableHeader)+1))
	for _, r := range rep.Rows {
		cells := tableCells(r)
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s | %s |\n", r.Group, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	writeFooter(w, rep, "- ")
}

// writeFiles writes <stamp>.json/.md and latest.json/.md into dir.
func writeFiles(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	js = append(js, '\n')
	var md strings.Builder
	writeMarkdown(&md, rep)
	stamp := rep.StartedAt.UTC().Format("20060102T150405Z")
	var written []string
	for _, base := range []string{stamp, "latest"} {
		for ext, body := range map[string][]byte{".json": js, ".md": []byte(md.String())} {
			p := filepath.Join(dir, base+ext)
			if err := os.WriteFile(p, body, 0o644); err != nil {
				return written, err
			}
			written = append(written, p)
		}
	}
	return written, nil
}

// joinNotes joins the non-empty parts with "; ".
func joinNotes(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
