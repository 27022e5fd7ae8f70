package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/bench/benchdata"
	"github.com/sluice-dev/sluice/bench/benchreport"
)

func chunks() []ptChunk {
	return []ptChunk{
		{DB: "sbtest", Table: "sbtest1", Chunk: 1, Index: "PRIMARY", Lower: "1", Upper: "20000", CRC: "d3cc99b", Count: 20000},
		{DB: "sbtest", Table: "sbtest1", Chunk: 2, Index: "PRIMARY", Lower: "20001", Upper: "40000", CRC: "2e4ccded", Count: 20000},
		{DB: "sbtest", Table: "sbtest1", Chunk: 3, Index: "PRIMARY", Lower: "NULL", Upper: "1", CRC: "0", Count: 0},
	}
}

func TestComparePTChunks(t *testing.T) {
	if d := comparePTChunks(chunks(), chunks()); len(d) != 0 {
		t.Fatalf("identical chunks: %v", d)
	}
	dst := chunks()
	dst[0].CRC = "ffff"
	dst[1].Upper = "40001"
	dst = dst[:2]
	dst = append(dst, ptChunk{DB: "sbtest", Table: "sbtest2", Chunk: 1, CRC: "1", Count: 1})
	d := strings.Join(comparePTChunks(chunks(), dst), "\n")
	for _, want := range []string{
		"sbtest.sbtest1 chunk 1 [1, 20000]: 20000 rows crc d3cc99b on the source, 20000 rows crc ffff on the destination",
		"sbtest.sbtest1 chunk 2: boundaries differ",
		"sbtest.sbtest1 chunk 3: on the source only",
		"sbtest.sbtest2 chunk 1: on the destination only",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("differences lack %q:\n%s", want, d)
		}
	}
	if d := comparePTChunks(nil, nil); len(d) != 1 || !strings.Contains(d[0], "no chunk") {
		t.Fatalf("no chunks at all must not compare equal: %v", d)
	}
}

func TestCompareChecksums(t *testing.T) {
	src := []tableChecksum{{"sbtest.sbtest1", "123"}, {"sbtest.sbtest2", "456"}}
	if d := compareChecksums(src, src); len(d) != 0 {
		t.Fatalf("identical: %v", d)
	}
	dst := []tableChecksum{{"sbtest.sbtest1", "123"}, {"sbtest.sbtest2", "457"}}
	if d := compareChecksums(src, dst); len(d) != 1 || !strings.Contains(d[0], "sbtest.sbtest2: checksum 457 on the destination, 456 on the source") {
		t.Fatalf("one differing table: %v", d)
	}
	nulls := []tableChecksum{{"sbtest.nope", "NULL"}}
	if d := compareChecksums(nulls, nulls); len(d) != 1 || !strings.Contains(d[0], "NULL") {
		t.Fatalf("NULL on both sides is not equal: %v", d)
	}
}

func TestCheckVerifyReport(t *testing.T) {
	var rep verifyReport
	rep.Equal, rep.Done, rep.Rows = true, true, 100
	rep.Tables = append(rep.Tables, verifyTable{Table: "t", Rows: 100, Chunks: 5})
	for _, allowWhole := range []bool{true, false} {
		detail, counts, problems := checkVerifyReport(rep, 100, allowWhole)
		if detail != "100 rows in 5 ranges" || len(problems) != 0 || counts != (verifyCounts{Ranges: 5, Tables: 1}) {
			t.Fatalf("equal report (allowWhole %v): %q %+v %v", allowWhole, detail, counts, problems)
		}
	}

	// The fast path: a table CHECKSUM TABLE compared whole has no range.
	whole := rep
	whole.Rows = 150
	whole.Tables = append([]verifyTable{{Table: "w", Rows: 50, Whole: true}}, rep.Tables...)
	detail, counts, problems := checkVerifyReport(whole, 150, true)
	if detail != "150 rows in 5 ranges, 1 of 2 tables whole (CHECKSUM TABLE)" || len(problems) != 0 || counts != (verifyCounts{Ranges: 5, Whole: 1, Tables: 2}) {
		t.Fatalf("whole table allowed (sluice): %q %+v %v", detail, counts, problems)
	}
	// sluice-ranges (--no-table-checksum): a whole table is a problem.
	_, _, problems = checkVerifyReport(whole, 150, false)
	if len(problems) != 1 || !strings.Contains(problems[0], "w compared whole (CHECKSUM TABLE) despite --no-table-checksum") {
		t.Fatalf("whole table with --no-table-checksum: %v", problems)
	}

	rep.Equal, rep.Differences = false, 2
	rep.Tables[0].Failed = "range 3: boom"
	_, _, problems = checkVerifyReport(rep, 99, true)
	got := strings.Join(problems, "\n")
	for _, want := range []string{"t failed: range 3: boom", "not equal (2 differences)", "compared 100 rows, the dataset has 99"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

func TestCombineRunsAndTargets(t *testing.T) {
	runs := []*runResult{
		{Tool: toolPT, Seconds: 5, SequentialSeconds: 9, Equal: true, CPU: map[string]float64{otherCPU: 1}},
		{Tool: toolPT, Seconds: 3, SequentialSeconds: 6, Equal: true, CPU: map[string]float64{otherCPU: 0}},
		{Tool: toolPT, Seconds: 4, SequentialSeconds: 10, Equal: false, Errors: []string{"x"}, CPU: map[string]float64{}},
	}
	m := combineRuns(runs)
	if m.Seconds != 4 || m.SequentialSeconds != 9 || m.Equal || !reflect.DeepEqual(m.Errors, []string{"x"}) || len(m.AllSeconds) != 3 {
		t.Fatalf("median of 5, 3, 4 s: %+v", m)
	}
	if m := combineRuns(runs[:2]); m.Seconds != 3 || len(m.AllSeconds) != 2 {
		t.Fatalf("lower median of two: %+v", m)
	}

	sluice := &runResult{Tool: toolSluice, Seconds: 4, Equal: true}
	pt := &runResult{Tool: toolPT, Seconds: 5, Equal: true}
	ct := &runResult{Tool: toolChecksumTable, Seconds: 1, Equal: true}
	got := evaluateTargets([]*runResult{sluice, pt, ct})
	if len(got) != 2 || !got[0].Pass || got[0].Value != 1.25 || got[1].Pass || got[1].Value != 4 {
		t.Fatalf("targets: %+v", got)
	}
	for _, g := range got {
		if g.Run != toolSluice || g.Informative {
			t.Fatalf("sluice's targets are the issue's: %+v", g)
		}
	}

	// sluice-ranges: the same two targets again, informative, after sluice's.
	ranges := &runResult{Tool: toolSluiceRanges, Seconds: 2.5, Equal: true}
	got = evaluateTargets([]*runResult{sluice, ranges, pt, ct})
	if len(got) != 4 {
		t.Fatalf("targets of both sluice runs: %+v", got)
	}
	for i, want := range []struct {
		run        string
		name       string
		value      float64
		pass, info bool
	}{
		{toolSluice, "sluice rows/s ÷ pt-table-checksum rows/s", 1.25, true, false},
		{toolSluice, "sluice time ÷ CHECKSUM TABLE time", 4, false, false},
		{toolSluiceRanges, "sluice (ranges, as during replication) rows/s ÷ pt-table-checksum rows/s", 2, true, true},
		{toolSluiceRanges, "sluice (ranges, as during replication) time ÷ CHECKSUM TABLE time", 2.5, false, true},
	} {
		g := got[i]
		if g.Run != want.run || g.Name != want.name || g.Value != want.value || g.Pass != want.pass || g.Informative != want.info {
			t.Errorf("target %d = %+v, want %+v", i, g, want)
		}
	}
	// Only sluice-ranges (-only sluice-ranges,…): its targets alone.
	if got := evaluateTargets([]*runResult{ranges, pt}); len(got) != 1 || got[0].Run != toolSluiceRanges {
		t.Fatalf("sluice-ranges alone: %+v", got)
	}
	// A failed sluice run has no targets; the other run's remain.
	sluice.Equal = false
	if got := evaluateTargets([]*runResult{sluice, ranges, pt, ct}); len(got) != 2 || got[0].Run != toolSluiceRanges {
		t.Fatalf("failed sluice run: %+v", got)
	}
	sluice.Equal = true

	pt.Equal = false
	if got := evaluateTargets([]*runResult{sluice, pt, ct}); len(got) != 1 {
		t.Fatalf("a failed run has no ratio: %+v", got)
	}
}

func TestSluiceArgs(t *testing.T) {
	if got := sluiceArgs(toolSluice); len(got) != 0 {
		t.Errorf("sluice: %v, want none (the CHECKSUM TABLE fast path on)", got)
	}
	if got := sluiceArgs(toolSluiceRanges); !reflect.DeepEqual(got, []string{"--no-table-checksum"}) {
		t.Errorf("sluice-ranges: %v", got)
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tl := summarize(t0, at(1000), []activityRun{
		{Type: "Plan", Scheduled: at(0), Started: at(10), Close: at(50)},
		{Type: "Range", Scheduled: at(50), Started: at(70), Close: at(570)},
		{Type: "Range", Scheduled: at(60), Started: at(100), Close: at(400)},
	})
	if tl.WorkflowSec != 1 || len(tl.Phases) != 2 || tl.Phases[0].Type != "Plan" {
		t.Fatalf("timeline: %+v", tl)
	}
	r := tl.Phases[1]
	if r.Count != 2 || r.BusySec != 0.8 || r.MeanRunMs != 400 || r.MeanQueueMs != 30 || r.FromSec != 0.07 || r.ToSec != 0.57 {
		t.Fatalf("ranges: %+v", r)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-rows", "1000", "-tables", "2", "-only", "checksum-table, sluice"}, io.Discard)
	if err != nil || cfg.rows != 1000 || cfg.tables != 2 || !reflect.DeepEqual(cfg.only, []string{toolSluice, toolChecksumTable}) {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	cfg, err = parseFlags([]string{"-only", "pt-table-checksum,sluice-ranges"}, io.Discard)
	if err != nil || !reflect.DeepEqual(cfg.only, []string{toolSluiceRanges, toolPT}) {
		t.Fatalf("-only sluice-ranges: %+v, %v", cfg.only, err)
	}
	cfg, err = parseFlags(nil, io.Discard)
	if err != nil || !reflect.DeepEqual(cfg.only, []string{toolSluice, toolSluiceRanges, toolPT, toolChecksumTable}) {
		t.Fatalf("default runs: %+v, %v", cfg.only, err)
	}
	for _, bad := range [][]string{{"-rows", "0"}, {"-repeat", "0"}, {"-only", "mydumper"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func TestWriteText(t *testing.T) {
	rep := &report{Dataset: dataset{Tables: 4, RowsPerTable: 500000}, Source: benchdata.Size{Rows: 2000000}}
	rep.Results = []*runResult{
		{Tool: toolSluice, Seconds: 4, RowsPerSec: 500000, Equal: true, Detail: "2000000 rows in 100 ranges", CPU: map[string]float64{}},
		{Tool: toolPT, Seconds: 2, SequentialSeconds: 4, RowsPerSec: 1000000, Equal: true, CPU: map[string]float64{}},
	}
	rep.Targets = evaluateTargets(rep.Results)
	var buf bytes.Buffer
	writeText(&buf, rep)
	out := buf.String()
	for _, want := range []string{"sluice verify", "500,000", "pt-table-checksum, one server after the other (sum)", "0.50", "MISS"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ranges ×") || strings.Contains(out, "informative") {
		t.Errorf("no sluice-ranges run, yet:\n%s", out)
	}

	// Both sluice runs: a ratio column each, the ranges run's targets informative.
	rep.Results = []*runResult{
		{Tool: toolSluice, Seconds: 1, RowsPerSec: 2000000, Equal: true, Detail: "2000000 rows in 0 ranges, 4 of 4 tables whole (CHECKSUM TABLE)", CPU: map[string]float64{}},
		{Tool: toolSluiceRanges, Seconds: 4, RowsPerSec: 500000, Equal: true, Detail: "2000000 rows in 100 ranges", CPU: map[string]float64{},
			Timeline: &timeline{WorkflowSec: 3.9, Phases: []phase{{Type: "VerifyRange", Count: 20}}}},
		{Tool: toolPT, Seconds: 2, SequentialSeconds: 4, RowsPerSec: 1000000, Equal: true, CPU: map[string]float64{}},
	}
	rep.Targets = evaluateTargets(rep.Results)
	buf.Reset()
	writeText(&buf, rep)
	out = buf.String()
	for _, want := range []string{
		"sluice ×  ranges ×",
		"sluice verify --no-table-checksum (ranges)",
		"4 of 4 tables whole",
		"sluice verify --no-table-checksum (ranges) timeline",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	lines := map[string]string{} // first line starting with each prefix, fields joined by one space
	for _, line := range strings.Split(out, "\n") {
		f := strings.Join(strings.Fields(line), " ")
		for _, p := range []string{"pt-table-checksum, both servers at once 2.00", "sluice rows/s", "sluice (ranges, as during replication) rows/s"} {
			if _, ok := lines[p]; !ok && strings.HasPrefix(f, p) {
				lines[p] = f
			}
		}
	}
	for p, want := range map[string]string{
		// sluice × 2.00 (pt 2 s ÷ sluice 1 s), ranges × 0.50 (2 s ÷ 4 s)
		"pt-table-checksum, both servers at once 2.00": "pt-table-checksum, both servers at once 2.00 1,000,000 2.00 0.50 equal",
		"sluice rows/s": "sluice rows/s ÷ pt-table-checksum rows/s 2.00 × ≥ 1.0 × PASS",
		"sluice (ranges, as during replication) rows/s": "sluice (ranges, as during replication) rows/s ÷ pt-table-checksum rows/s 0.50 × ≥ 1.0 × MISS (informative)",
	} {
		if lines[p] != want {
			t.Errorf("line %q, want %q", lines[p], want)
		}
	}
	if got := benchreport.Thousands(1234567.6); got != "1,234,568" {
		t.Errorf("thousands = %q", got)
	}
	if got := redactConf([]string{"F=/tmp/x/source.cnf,h=127.0.0.1"}); got[0] != "F=source.cnf,h=127.0.0.1" {
		t.Errorf("redactConf = %v", got)
	}
}
