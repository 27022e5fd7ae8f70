package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/sluice-dev/sluice/bench/benchdata"
	"github.com/sluice-dev/sluice/bench/benchreport"
)

// Run names, as -only takes them, in run order.
const (
	toolSluice = "sluice"
	// toolSluiceRanges is sluice verify --no-table-checksum: every table range by
	// range, as verify compares while replication runs or with filters/transforms.
	toolSluiceRanges  = "sluice-ranges"
	toolPT            = "pt-table-checksum"
	toolChecksumTable = "checksum-table"
)

var allTools = []string{toolSluice, toolSluiceRanges, toolPT, toolChecksumTable}

// sluiceTools are the sluice runs, in run order.
var sluiceTools = []string{toolSluice, toolSluiceRanges}

func isSluice(tool string) bool { return tool == toolSluice || tool == toolSluiceRanges }

// Targets of issue 8.
const (
	targetVsPT            = 1.0 // sluice rows/s ÷ pt-table-checksum rows/s, at least
	targetVsChecksumTable = 2.0 // sluice seconds ÷ CHECKSUM TABLE seconds, at most
)

// report is everything the benchmark measured.
type report struct {
	Machine    machineInfo            `json:"machine"`
	Dataset    dataset                `json:"dataset"`
	Source     benchdata.Size         `json:"source"`
	Tables     []benchdata.TableState `json:"tables"`
	GenerateS  float64                `json:"generate_seconds"`
	Results    []*runResult           `json:"results"`
	Targets    []targetResult         `json:"targets"`
	OK         bool                   `json:"ok"`
	Parameters map[string]any         `json:"parameters"`
}

// step is one timed part of a run (one server's side).
type step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// runResult is one tool's run (or, after combineRuns, its median run).
type runResult struct {
	Tool    string  `json:"tool"`
	Command string  `json:"command"`
	Seconds float64 `json:"seconds"`
	// SequentialSeconds is the sum of both servers' times (pt-table-checksum,
	// CHECKSUM TABLE): what running one server after the other would take.
	SequentialSeconds float64 `json:"sequential_seconds,omitempty"`
	RowsPerSec        float64 `json:"rows_per_second"`
	// Rows is what the tool says it compared (CHECKSUM TABLE reports none).
	Rows int64 `json:"rows,omitempty"`
	// Ranges and WholeTables (sluice runs): ranges compared, and tables compared
	// whole by CHECKSUM TABLE (the fast path; always 0 for sluice-ranges).
	Ranges      int                `json:"ranges,omitempty"`
	WholeTables int                `json:"whole_tables,omitempty"`
	Steps       []step             `json:"steps,omitempty"`
	Equal       bool               `json:"equal"`
	Detail      string             `json:"detail,omitempty"`
	CPU         map[string]float64 `json:"cpu_seconds"`
	Errors      []string           `json:"errors,omitempty"`
	// Timeline is the sluice run's activities, from the Verify workflow's history.
	Timeline *timeline `json:"timeline,omitempty"`
	// AllSeconds, AllSequential and AllOtherCPU are every repeat's (-repeat > 1).
	AllSeconds    []float64 `json:"all_seconds,omitempty"`
	AllSequential []float64 `json:"all_sequential_seconds,omitempty"`
	AllOtherCPU   []float64 `json:"all_other_cpu_seconds,omitempty"`
}

func (r *runResult) fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

func (r *runResult) setRate(rows int64) {
	if r.Seconds > 0 {
		r.RowsPerSec = float64(rows) / r.Seconds
	}
}

// median is the lower median (of an even count, the lower middle value).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[(len(s)-1)/2]
}

// combineRuns reduces one tool's repeats to its median run (by wall time); Equal
// and Errors cover all runs, SequentialSeconds is the median of the sums.
func combineRuns(runs []*runResult) *runResult {
	sorted := append([]*runResult(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Seconds < sorted[j].Seconds })
	med := *sorted[(len(sorted)-1)/2]
	med.Errors, med.Equal = nil, true
	for _, r := range runs {
		med.AllSeconds = append(med.AllSeconds, r.Seconds)
		med.AllSequential = append(med.AllSequential, r.SequentialSeconds)
		med.AllOtherCPU = append(med.AllOtherCPU, r.CPU[otherCPU])
		med.Equal = med.Equal && r.Equal
		med.Errors = append(med.Errors, r.Errors...)
	}
	med.SequentialSeconds = median(med.AllSequential)
	if len(runs) == 1 {
		med.AllSeconds, med.AllSequential, med.AllOtherCPU = nil, nil, nil
	}
	return &med
}

// ptChunk is one row of pt-table-checksum's percona.checksums on one server.
type ptChunk struct {
	DB, Table    string
	Chunk        int
	Index        string
	Lower, Upper string // "NULL" for the open-ended chunks below and above the table
	CRC          string
	Count        int64
}

func (c ptChunk) name() string {
	return fmt.Sprintf("%s.%s chunk %d", c.DB, c.Table, c.Chunk)
}

// comparePTChunks compares two servers' results chunk by chunk ("compare per-chunk
// results"): each chunk must exist on both with the same boundaries (else the
// checksums cover different rows), count and CRC.
func comparePTChunks(src, dst []ptChunk) []string {
	key := func(c ptChunk) string { return fmt.Sprintf("%s\x00%s\x00%d", c.DB, c.Table, c.Chunk) }
	byKey := map[string]ptChunk{}
	for _, c := range dst {
		byKey[key(c)] = c
	}
	var diffs []string
	for _, s := range src {
		d, ok := byKey[key(s)]
		if !ok {
			diffs = append(diffs, s.name()+": on the source only")
			continue
		}
		delete(byKey, key(s))
		switch {
		case s.Index != d.Index || s.Lower != d.Lower || s.Upper != d.Upper:
			diffs = append(diffs, fmt.Sprintf("%s: boundaries differ (source %s [%s, %s], destination %s [%s, %s]): chunks do not compare",
				s.name(), s.Index, s.Lower, s.Upper, d.Index, d.Lower, d.Upper))
		case s.Count != d.Count || s.CRC != d.CRC:
			diffs = append(diffs, fmt.Sprintf("%s [%s, %s]: %d rows crc %s on the source, %d rows crc %s on the destination",
				s.name(), s.Lower, s.Upper, s.Count, s.CRC, d.Count, d.CRC))
		}
	}
	var extra []ptChunk
	for _, d := range byKey {
		extra = append(extra, d)
	}
	sort.Slice(extra, func(i, j int) bool { return key(extra[i]) < key(extra[j]) })
	for _, d := range extra {
		diffs = append(diffs, d.name()+": on the destination only")
	}
	if len(src) == 0 {
		diffs = append(diffs, "no chunk on the source")
	}
	return diffs
}

// tableChecksum is one row of CHECKSUM TABLE.
type tableChecksum struct {
	Table    string `json:"table"`
	Checksum string `json:"checksum"` // "NULL" when the server could not compute it
}

// compareChecksums compares the two servers' CHECKSUM TABLE rows.
func compareChecksums(src, dst []tableChecksum) []string {
	var a, b []benchdata.TableState
	for _, t := range src {
		a = append(a, benchdata.TableState{Table: t.Table, Checksum: t.Checksum})
	}
	for _, t := range dst {
		b = append(b, benchdata.TableState{Table: t.Table, Checksum: t.Checksum})
	}
	diffs := benchdata.CompareStates(a, b)
	for _, t := range src {
		if t.Checksum == "NULL" {
			diffs = append(diffs, t.Table+": NULL (table missing or not checksummable)")
		}
	}
	return diffs
}

// targetResult is one target, checked for one sluice run.
type targetResult struct {
	// Run is the sluice run it is evaluated for (sluice or sluice-ranges).
	Run   string  `json:"run"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	// AtLeast: Value must be ≥ Limit (else ≤).
	AtLeast bool `json:"at_least"`
	Pass    bool `json:"pass"`
	// Informative: evaluated for sluice-ranges, the path verify takes while
	// replication runs; the targets are sluice's.
	Informative bool `json:"informative,omitempty"`
}

func (t targetResult) verdict() string {
	if t.Pass {
		return "PASS"
	}
	return "MISS"
}

func find(results []*runResult, tool string) *runResult {
	for _, r := range results {
		if r.Tool == tool {
			return r
		}
	}
	return nil
}

// evaluateTargets checks what the runs allow: a ratio needs both runs, equal. The
// same two targets are evaluated for sluice and, informative, for sluice-ranges.
func evaluateTargets(results []*runResult) []targetResult {
	var out []targetResult
	for _, tool := range sluiceTools {
		s := find(results, tool)
		if s == nil || !s.Equal || s.Seconds <= 0 {
			continue
		}
		name, informative := "sluice", false
		if tool == toolSluiceRanges {
			name, informative = "sluice (ranges, as during replication)", true
		}
		if p := find(results, toolPT); p != nil && p.Equal && p.Seconds > 0 {
			v := p.Seconds / s.Seconds // = sluice rows/s ÷ pt rows/s
			out = append(out, targetResult{Run: tool, Name: name + " rows/s ÷ pt-table-checksum rows/s", Value: v,
				Limit: targetVsPT, AtLeast: true, Pass: v >= targetVsPT, Informative: informative})
		}
		if c := find(results, toolChecksumTable); c != nil && c.Equal && c.Seconds > 0 {
			v := s.Seconds / c.Seconds
			out = append(out, targetResult{Run: tool, Name: name + " time ÷ CHECKSUM TABLE time", Value: v,
				Limit: targetVsChecksumTable, Pass: v <= targetVsChecksumTable, Informative: informative})
		}
	}
	return out
}

// label names a run the way the results table does.
func label(tool string) string {
	switch tool {
	case toolSluice:
		return "sluice verify"
	case toolSluiceRanges:
		return "sluice verify --no-table-checksum (ranges)"
	case toolPT:
		return "pt-table-checksum, both servers at once"
	case toolChecksumTable:
		return "CHECKSUM TABLE, both servers at once"
	}
	return tool
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
		m.Cores, m.CPU, m.MemTotal, m.MariaDB, orNone(m.PT, "no pt-table-checksum"), orNone(m.Sluice, "not run"), m.Go)
	fmt.Fprintf(w, "Dataset: %d × sbtest (%s rows each) = %s rows, data %s + indexes %s on each server; equal (COUNT(*), CHECKSUM TABLE) before the runs\n\n",
		rep.Dataset.Tables, benchreport.Thousands(float64(rep.Dataset.RowsPerTable)), benchreport.Thousands(float64(rep.Source.Rows)),
		humanBytes(rep.Source.DataBytes), humanBytes(rep.Source.IndexBytes))

	// One ratio column per sluice run present: that run's rows/s ÷ the tool's.
	var refs []*runResult
	head := "tool\tseconds\trows/s\t"
	for _, tool := range sluiceTools {
		if s := find(rep.Results, tool); s != nil {
			refs = append(refs, s)
			head += map[string]string{toolSluice: "sluice ×", toolSluiceRanges: "ranges ×"}[tool] + "\t"
		}
	}
	ratios := func(seconds float64) string {
		var b strings.Builder
		for _, s := range refs {
			if s.Seconds <= 0 || seconds <= 0 {
				b.WriteString("-\t")
			} else {
				fmt.Fprintf(&b, "%.2f\t", seconds/s.Seconds)
			}
		}
		return b.String()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, head+"result\t")
	for _, r := range rep.Results {
		result := "equal"
		if !r.Equal {
			result = "FAILED"
		}
		if r.Detail != "" {
			result += ": " + r.Detail
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s%s\t\n", label(r.Tool), r.Seconds, benchreport.Thousands(r.RowsPerSec), ratios(r.Seconds), result)
		if !isSluice(r.Tool) && r.SequentialSeconds > 0 {
			name := strings.Replace(label(r.Tool), "both servers at once", "one server after the other (sum)", 1)
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t\n", name, r.SequentialSeconds, benchreport.Thousands(float64(rep.Source.Rows)/r.SequentialSeconds), ratios(r.SequentialSeconds))
		}
	}
	tw.Flush()
	legend := "sluice × = sluice's rows/s ÷ the tool's"
	if find(rep.Results, toolSluiceRanges) != nil {
		legend += ", ranges × = sluice-ranges' rows/s ÷ the tool's"
	}
	fmt.Fprintf(w, "(rows/s = the dataset's rows ÷ wall seconds; %s: above 1 sluice is faster)\n", legend)

	fmt.Fprintln(w)
	for _, r := range rep.Results {
		var parts []string
		for _, s := range r.Steps {
			parts = append(parts, fmt.Sprintf("%s %.2f s", s.Name, s.Seconds))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "%s: %s\n", label(r.Tool), strings.Join(parts, ", "))
		}
		if len(r.AllSeconds) > 1 {
			fmt.Fprintf(w, "%s: every run %s s (median shown); rest-of-machine CPU %s s\n",
				label(r.Tool), floats(r.AllSeconds, "%.2f"), floats(r.AllOtherCPU, "%.1f"))
		}
	}
	fmt.Fprintln(w, "\nCPU seconds during each (median) run (capacity = cores × wall; \"other\" is the rest of the machine, this program included: high means a noisy run):")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "  %s (capacity %.1f): %s\n", label(r.Tool), float64(m.Cores)*r.Seconds, benchreport.CPUText(r.CPU))
	}
	for _, tool := range sluiceTools {
		if s := find(rep.Results, tool); s != nil && s.Timeline != nil {
			writeTimeline(w, label(tool), s.Seconds, s.Timeline)
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets (issue 8):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range rep.Targets {
			op := "≤"
			if t.AtLeast {
				op = "≥"
			}
			note := ""
			if t.Informative {
				note = " (informative)"
			}
			fmt.Fprintf(tw, "  %s\t%.2f ×\t%s %.1f ×\t%s%s\n", t.Name, t.Value, op, t.Limit, t.verdict(), note)
		}
		tw.Flush()
	}
	for _, r := range rep.Results {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "\n%s: %s", label(r.Tool), e)
		}
	}
	fmt.Fprintln(w)
}

func writeTimeline(w io.Writer, name string, wall float64, t *timeline) {
	fmt.Fprintf(w, "\n%s timeline (Temporal history of the Verify workflow): CLI %.2f s, workflow %.2f s\n", name, wall, t.WorkflowSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  activity\tcount\tbusy s\tmean run ms\tmean queue ms\tfrom s\tto s\t")
	for _, p := range t.Phases {
		fmt.Fprintf(tw, "  %s\t%d\t%.2f\t%.1f\t%.1f\t%.2f\t%.2f\t\n", p.Type, p.Count, p.BusySec, p.MeanRunMs, p.MeanQueueMs, p.FromSec, p.ToSec)
	}
	tw.Flush()
}

func floats(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
