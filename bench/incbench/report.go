package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sluice-dev/sluice/bench/benchreport"
)

// Targets of issue 5.
const (
	targetVsNative  = 1.0 // sluice's catch-up rate / native's, at least
	targetLagP99Sec = 1.0 // steady-state p99 lag, below
	targetRSSBytes  = 300 * mib
)

// targetResult is one target, checked.
type targetResult struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Op    string  `json:"op"` // how Value must compare with Limit: ">=", "<", "<="
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	Note  string  `json:"note,omitempty"`
	Pass  bool    `json:"pass"`
}

func (t targetResult) verdict() string {
	if t.Pass {
		return "PASS"
	}
	return "MISS"
}

func find(rs []*catchupResult, name string) *catchupResult {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// evaluateTargets checks what the phases allow: a ratio needs both catch-ups verified.
func evaluateTargets(rep *report) []targetResult {
	var out []targetResult
	s, n := find(rep.CatchUp, phaseSluice), find(rep.CatchUp, phaseNative)
	if s != nil && n != nil && s.Verified && n.Verified && s.Seconds > 0 && n.Seconds > 0 {
		ratio := n.Seconds / s.Seconds // the same transactions: rates are inverse to times
		out = append(out, targetResult{Name: "catch-up rate sluice / native", Value: ratio, Op: ">=", Limit: targetVsNative, Unit: "×",
			Note: fmt.Sprintf("%.0f vs %.0f txn/s", s.TxnsPerSec, n.TxnsPerSec), Pass: ratio >= targetVsNative})
	}
	if st := rep.Steady; st != nil && st.Verified {
		for _, l := range st.Lag {
			if l.Target == "destination" && l.Received > 0 {
				out = append(out, targetResult{Name: "steady-state lag p99 (sluice)", Value: l.P99Ms / 1000, Op: "<", Limit: targetLagP99Sec, Unit: "s",
					Note: fmt.Sprintf("%d probes at sysbench --rate=%v", l.Received, rep.Parameters["rate"]), Pass: l.P99Ms/1000 < targetLagP99Sec})
			}
		}
	}
	peak := max(rep.MaxRSS.AfterCatchUp, rep.MaxRSS.AfterSteady)
	if s != nil && s.Verified && peak > 0 {
		out = append(out, targetResult{Name: "peak RSS (this process: applier + binlog reader)", Value: float64(peak) / mib, Op: "<=", Limit: targetRSSBytes / mib,
			Unit: "MiB", Note: "getrusage ru_maxrss", Pass: peak <= targetRSSBytes})
	}
	return out
}

func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func label(name string, rep *report) string {
	switch name {
	case phaseSluice:
		return fmt.Sprintf("sluice (applier, %v slots)", rep.Parameters["slots"])
	case phaseNative:
		return fmt.Sprintf("native replica (%v threads, %v)", rep.Parameters["native_threads"], rep.Parameters["native_mode"])
	}
	return name
}

func writeText(w io.Writer, rep *report) {
	m := rep.Machine
	p := rep.Parameters
	fmt.Fprintf(w, "\nMachine: %d cores (%s), %s RAM; MariaDB %s; %s; %s\n", m.Cores, m.CPU, m.MemTotal, m.MariaDB, m.Sysbench, m.Go)
	fmt.Fprintf(w, "Dataset: sysbench oltp_write_only, %v tables × %v rows (prepared in %.1f s, copied with mariadb-dump | mariadb in %.1f s)\n",
		p["tables"], p["table_size"], rep.PrepareSeconds, rep.CopySeconds)
	bl := rep.Backlog
	fmt.Fprintf(w, "Backlog: sysbench run, %v threads, %.0f s (%.0f tps, p95 %.1f ms): %s transactions, %s row changes (%s), %s of binlog, %s → %s\n\n",
		p["threads"], bl.Sysbench.Seconds, bl.Sysbench.TPS, bl.Sysbench.LatencyP95Ms, benchreport.Thousands(float64(bl.Txns)), rowsOf(rep), rep.RowsFrom,
		humanBytes(bl.Bytes), bl.Start, bl.End)

	if len(rep.CatchUp) > 0 {
		fmt.Fprintln(w, "Catch-up (same backlog, same servers, one at a time):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "applier\tseconds\ttxn/s\trows/s\tbinlog MiB/s\tpeak RSS\tresult\t")
		for _, r := range rep.CatchUp {
			rss := "-"
			if r.PeakRSS > 0 {
				rss = fmt.Sprintf("%.0f MiB", float64(r.PeakRSS)/mib)
			}
			res := "verified"
			if !r.Verified {
				res = "FAILED"
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%.1f\t%s\t%s\t\n", label(r.Name, rep), r.Seconds, benchreport.Thousands(r.TxnsPerSec), benchreport.Thousands(r.RowsPerSec), r.MiBPerSec, rss, res)
		}
		tw.Flush()
		s, n := find(rep.CatchUp, phaseSluice), find(rep.CatchUp, phaseNative)
		if s != nil && n != nil && s.Seconds > 0 && n.Seconds > 0 {
			fmt.Fprintf(w, "ratio sluice / native (rate): %.2f×\n", n.Seconds/s.Seconds)
		}
		if s != nil && s.Epochs > 0 {
			fmt.Fprintf(w, "sluice: %d epochs, %.0f transactions per epoch\n", s.Epochs, float64(s.Txns)/float64(s.Epochs))
		}
		fmt.Fprintln(w, "Server work per source transaction (SHOW GLOBAL STATUS deltas; the replica's SQL threads run row events, not statements):")
		for _, r := range rep.CatchUp {
			if r.Server != nil && r.Txns > 0 {
				fmt.Fprintf(w, "  %s: %s\n", label(r.Name, rep), perTxn(r.Server, r.Txns))
			}
		}
		fmt.Fprintln(w, "CPU seconds during each catch-up (capacity = cores × wall; \"other\" high means a noisy run):")
		for _, r := range rep.CatchUp {
			fmt.Fprintf(w, "  %s (capacity %.1f): %s\n", label(r.Name, rep), float64(m.Cores)*r.Seconds, benchreport.CPUText(r.CPU))
		}
	}
	if st := rep.Steady; st != nil {
		sb := st.Sysbench
		fmt.Fprintf(w, "\nSteady state: sysbench --rate=%v, %v threads, %.0f s: %.1f tps achieved (p95 %.1f ms); %d probes (one every %v, destinations polled every %v)\n",
			p["rate"], p["threads"], sb.Seconds, sb.TPS, sb.LatencyP95Ms, st.Probes, p["probe_every"], p["probe_poll"])
		if len(st.Lag) > 0 {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "lag of\tprobes\tp50 ms\tp90 ms\tp99 ms\tmax ms\tmean ms\t")
			for _, l := range st.Lag {
				name := "sluice (destination)"
				if l.Target == "replica" {
					name = "native replica"
				}
				fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", name, l.Received, l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs, l.MeanMs)
			}
			tw.Flush()
		}
		if st.Epochs > 0 {
			fmt.Fprintf(w, "sluice: %d transactions in %d epochs; peak RSS during the phase %.0f MiB\n", st.Txns, st.Epochs, float64(st.PeakRSS)/mib)
		}
		if st.CPU != nil {
			fmt.Fprintf(w, "CPU seconds: %s\n", benchreport.CPUText(st.CPU))
		}
		res := "verified"
		if !st.Verified {
			res = "FAILED"
		}
		fmt.Fprintf(w, "copies after the steady state: %s\n", res)
	}
	r := rep.MaxRSS
	fmt.Fprintf(w, "\nPeak RSS of this process (getrusage ru_maxrss; the whole process, which runs sluice's applier and binlog reader in-process; sysbench and the MariaDB tools are children, not counted): before the applier %.0f MiB, after the catch-up %.0f MiB",
		float64(r.BeforeApplier)/mib, float64(r.AfterCatchUp)/mib)
	if r.AfterSteady > 0 {
		fmt.Fprintf(w, ", after the steady state %.0f MiB", float64(r.AfterSteady)/mib)
	}
	fmt.Fprintln(w)
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets (issue 5):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range rep.Targets {
			op := map[string]string{">=": "≥", "<": "<", "<=": "≤"}[t.Op]
			fmt.Fprintf(tw, "  %s\t%.2f %s\t%s %.1f %s\t%s\t%s\n", t.Name, t.Value, t.Unit, op, t.Limit, t.Unit, t.verdict(), t.Note)
		}
		tw.Flush()
	}
	for _, r := range rep.CatchUp {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "\n%s: %s", label(r.Name, rep), e)
		}
	}
	if rep.Steady != nil {
		for _, e := range rep.Steady.Errors {
			fmt.Fprintf(w, "\nsteady state: %s", e)
		}
	}
	fmt.Fprintln(w)
}

// perTxn prints the counters that matter, per source transaction.
func perTxn(st map[string]int64, txns uint64) string {
	var parts []string
	for _, k := range []string{"Questions", "Com_insert", "Com_replace", "Com_delete", "Handler_commit", "Handler_write", "Handler_update", "Handler_delete", "Handler_read_key"} {
		if v, ok := st[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(v)/float64(txns)))
		}
	}
	if v, ok := st["Bytes_received"]; ok {
		parts = append(parts, fmt.Sprintf("Bytes_received %.0f", float64(v)/float64(txns)))
	}
	// Totals, not per transaction: slots waiting on each other's locks.
	for _, k := range []string{"Handler_rollback", "Innodb_row_lock_waits", "Innodb_deadlocks"} {
		if v, ok := st[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d (total)", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

func rowsOf(rep *report) string {
	if len(rep.CatchUp) == 0 {
		return "?"
	}
	return benchreport.Thousands(float64(rep.CatchUp[0].Rows))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
