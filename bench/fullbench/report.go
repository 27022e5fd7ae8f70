package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sluice-dev/sluice/bench/benchreport"
)

// Targets of issue 4.
const (
	targetVsMydumper     = 1.0
	stretchVsMydumper    = 0.7
	targetVsMariadbDump  = 0.4
	targetWorkerRSSBytes = 300 * mib
	// targetETLOverhead: issue 6, the copy with a filter and transforms.
	targetETLOverhead = 1.3
)

// targetResult is one target, checked.
type targetResult struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit"`
	Baseline string  `json:"baseline,omitempty"`
	Pass     bool    `json:"pass"`
}

func (t targetResult) verdict() string {
	if t.Pass {
		return "PASS"
	}
	return "MISS"
}

// bestMydumper is baseline (b): the faster of the two mydumper runs that copied correctly.
func bestMydumper(results []*runResult) *runResult {
	var best *runResult
	for _, r := range results {
		if (r.Tool == toolMydumper || r.Tool == toolMydumperRows) && r.Verified && r.Seconds > 0 {
			if best == nil || r.Seconds < best.Seconds {
				best = r
			}
		}
	}
	return best
}

func find(results []*runResult, tool string) *runResult {
	for _, r := range results {
		if r.Tool == tool {
			return r
		}
	}
	return nil
}

// evaluateTargets checks what the runs allow: a ratio needs both runs, verified.
func evaluateTargets(results []*runResult) []targetResult {
	s := find(results, toolSluice)
	if s == nil || !s.Verified || s.Seconds <= 0 {
		return nil
	}
	var out []targetResult
	if b := bestMydumper(results); b != nil {
		ratio := s.Seconds / b.Seconds
		out = append(out,
			targetResult{Name: "sluice / (b) mydumper+myloader", Value: ratio, Limit: targetVsMydumper, Unit: "×",
				Baseline: fmt.Sprintf("%s %.2f s", label(b), b.Seconds), Pass: ratio <= targetVsMydumper},
			targetResult{Name: "sluice / (b) stretch", Value: ratio, Limit: stretchVsMydumper, Unit: "×",
				Baseline: fmt.Sprintf("%s %.2f s", label(b), b.Seconds), Pass: ratio <= stretchVsMydumper})
	}
	if c := find(results, toolMariadbDump); c != nil && c.Verified && c.Seconds > 0 {
		ratio := s.Seconds / c.Seconds
		out = append(out, targetResult{Name: "sluice / (c) mariadb-dump | mariadb", Value: ratio, Limit: targetVsMariadbDump, Unit: "×",
			Baseline: fmt.Sprintf("%.2f s", c.Seconds), Pass: ratio <= targetVsMariadbDump})
	}
	if e := find(results, toolSluiceETL); e != nil && e.Verified && e.Seconds > 0 {
		ratio := e.Seconds / s.Seconds
		out = append(out, targetResult{Name: "sluice with filter+transforms / sluice", Value: ratio, Limit: targetETLOverhead, Unit: "×",
			Baseline: fmt.Sprintf("sluice %.2f s", s.Seconds), Pass: ratio <= targetETLOverhead})
	}
	if s.WorkerPeakRSS > 0 {
		out = append(out, targetResult{Name: "worker peak RSS (VmHWM)", Value: float64(s.WorkerPeakRSS) / mib, Limit: targetWorkerRSSBytes / mib,
			Unit: "MiB", Pass: s.WorkerPeakRSS <= targetWorkerRSSBytes})
	}
	return out
}

// label names a run the way the results table does.
func label(r *runResult) string {
	switch r.Tool {
	case toolSluice:
		return "sluice (schema+full)"
	case toolSluiceETL:
		return "sluice, filter + 3 transforms"
	case toolMydumper:
		return "mydumper + myloader"
	case toolMydumperRows:
		return "mydumper --rows + myloader"
	case toolMariadbDump:
		return "mariadb-dump | mariadb"
	}
	return r.Tool
}

func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func writeText(w io.Writer, rep *report) {
	m := rep.Machine
	fmt.Fprintf(w, "\nMachine: %d cores (%s), %s RAM; MariaDB %s; %s; sluice %s; %s\n",
		m.Cores, m.CPU, m.MemTotal, m.MariaDB, orNone(m.Mydumper, "no mydumper"), orNone(m.Sluice, "not run"), m.Go)
	d := rep.Dataset
	fmt.Fprintf(w, "Dataset: %d × sbtest (%d rows), wide (%d rows, ~8 KB each), accounts (%d rows, composite string key)\n",
		d.SbtestTables, d.SbtestRows, d.WideRows, d.AccountRows)
	fmt.Fprintf(w, "Source: %d rows, data %s + indexes %s (information_schema DATA_LENGTH / INDEX_LENGTH); MiB/s below = data / time\n\n",
		rep.Source.Rows, humanBytes(rep.Source.DataBytes), humanBytes(rep.Source.IndexBytes))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "tool\tseconds\trows/s\tMiB/s\tpeak RSS\tcopy\t")
	base := bestMydumper(rep.Results)
	for _, r := range rep.Results {
		name := label(r)
		if r == base {
			name += " (b)"
		}
		if r.Tool == toolMariadbDump {
			name += " (c)"
		}
		rss := ""
		if r.WorkerPeakRSS > 0 {
			rss = fmt.Sprintf("%.0f MiB", float64(r.WorkerPeakRSS)/mib)
		}
		copyOK := "verified"
		if !r.Verified {
			copyOK = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%.1f\t%s\t%s\t\n", name, r.Seconds, benchreport.Thousands(r.RowsPerSec), r.MiBPerSec, rss, copyOK)
	}
	tw.Flush()

	fmt.Fprintln(w)
	for _, r := range rep.Results {
		if len(r.AllSeconds) > 1 {
			var all []string
			for _, x := range r.AllSeconds {
				all = append(all, fmt.Sprintf("%.2f", x))
			}
			rss := ""
			if len(r.AllPeakRSS) > 0 {
				var mibs []string
				for _, x := range r.AllPeakRSS {
					mibs = append(mibs, fmt.Sprintf("%.0f", float64(x)/mib))
				}
				rss = "; worker peak RSS " + strings.Join(mibs, ", ") + " MiB (the table shows the highest)"
			}
			var other []string
			for _, x := range r.AllOtherCPU {
				other = append(other, fmt.Sprintf("%.1f", x))
			}
			fmt.Fprintf(w, "%s: every run %s s (median shown)%s; rest-of-machine CPU %s s\n",
				label(r), strings.Join(all, ", "), rss, strings.Join(other, ", "))
		}
	}
	for _, r := range rep.Results {
		var parts []string
		for _, s := range r.Steps {
			parts = append(parts, fmt.Sprintf("%s %.2f s", s.Name, s.Seconds))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "%s: %s\n", label(r), strings.Join(parts, ", "))
		}
	}
	fmt.Fprintln(w, "\nCPU seconds during each run (capacity = cores × wall; \"other\" is the rest of the machine, this program included: high means a noisy run):")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "  %s (capacity %.1f): %s\n", label(r), float64(m.Cores)*r.Seconds, benchreport.CPUText(r.CPU))
	}
	if s := find(rep.Results, toolSluice); s != nil {
		if s.DevPeakRSS > 0 {
			fmt.Fprintf(w, "\nsluice-worker --dev (embedded Temporal server, idle task queue) peak RSS: %.0f MiB\n", float64(s.DevPeakRSS)/mib)
		}
		if s.Timeline != nil {
			writeTimeline(w, s.Seconds, s.Timeline)
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets (issue 4):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range rep.Targets {
			base := ""
			if t.Baseline != "" {
				base = "vs " + t.Baseline
			}
			fmt.Fprintf(tw, "  %s\t%.2f %s\t≤ %.1f %s\t%s\t%s\n", t.Name, t.Value, t.Unit, t.Limit, t.Unit, t.verdict(), base)
		}
		tw.Flush()
	}
	for _, r := range rep.Results {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "\n%s: %s", label(r), e)
		}
	}
	fmt.Fprintln(w)
}

func writeTimeline(w io.Writer, wall float64, t *timelineReport) {
	fmt.Fprintf(w, "\nsluice timeline (Temporal history): CLI %.2f s, workflow %.2f s, some activity running %.2f s\n",
		wall, t.WorkflowSec, t.ActiveSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  activity\tcount\tattempts\tbusy s\tfrom s\tto s\tworker RSS MiB\t")
	row := func(name string, p phaseStat) {
		rss := "-" // no 100 ms sample fell inside a short group
		if p.PeakRSSMiB > 0 {
			rss = fmt.Sprintf("%.0f", p.PeakRSSMiB)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%s\t\n", name, p.Count, p.Attempts, p.BusySec, p.FromSec, p.ToSec, rss)
	}
	for _, p := range t.ByType {
		row(p.Name, p)
	}
	for _, p := range t.ByTable {
		row("copy "+p.Name, p)
	}
	tw.Flush()
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
