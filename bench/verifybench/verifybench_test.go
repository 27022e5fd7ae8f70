package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
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
	rep.Tables = append(rep.Tables, struct {
		Table  string `json:"table"`
		Rows   int64  `json:"rows"`
		Chunks int    `json:"chunks"`
		Failed string `json:"failed"`
	}{Table: "t", Rows: 100, Chunks: 5})
	detail, problems := checkVerifyReport(rep, 100)
	if detail != "100 rows in 5 ranges" || len(problems) != 0 {
		t.Fatalf("equal report: %q %v", detail, problems)
	}
	rep.Equal, rep.Differences = false, 2
	rep.Tables[0].Failed = "range 3: boom"
	_, problems = checkVerifyReport(rep, 99)
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
	pt.Equal = false
	if got := evaluateTargets([]*runResult{sluice, pt, ct}); len(got) != 1 {
		t.Fatalf("a failed run has no ratio: %+v", got)
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
	for _, bad := range [][]string{{"-rows", "0"}, {"-repeat", "0"}, {"-only", "mydumper"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	got, err := parseStatCPU("4242 (sluice (w) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0")
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("cpu = %v, %v; want 3.25s", got, err)
	}
}

func TestWriteText(t *testing.T) {
	rep := &report{Dataset: dataset{Tables: 4, RowsPerTable: 500000}, Source: sourceSize{Rows: 2000000}}
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
	if got := thousands(1234567.6); got != "1,234,568" {
		t.Errorf("thousands = %q", got)
	}
	if got := redactConf([]string{"F=/tmp/x/source.cnf,h=127.0.0.1"}); got[0] != "F=source.cnf,h=127.0.0.1" {
		t.Errorf("redactConf = %v", got)
	}
}
