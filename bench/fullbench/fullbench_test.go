package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseOnly(t *testing.T) {
	got, err := parseOnly(" mariadb-dump, sluice ")
	if err != nil || !reflect.DeepEqual(got, []string{toolSluice, toolMariadbDump}) {
		t.Fatalf("got %v, %v; want run order sluice, mariadb-dump", got, err)
	}
	if got, _ := parseOnly(""); !reflect.DeepEqual(got, allTools) {
		t.Fatalf("empty -only = %v, want all", got)
	}
	if _, err := parseOnly("sluice,mysqldump"); err == nil {
		t.Fatal("unknown tool: want an error")
	}
	if _, err := parseOnly(","); err == nil {
		t.Fatal("no tool: want an error")
	}
}

func TestEvaluateTargets(t *testing.T) {
	results := []*runResult{
		{Tool: toolSluice, Seconds: 18, Verified: true, WorkerPeakRSS: 310 * mib},
		{Tool: toolMydumper, Seconds: 24, Verified: true},
		{Tool: toolMydumperRows, Seconds: 20, Verified: true},
		{Tool: toolMariadbDump, Seconds: 40, Verified: true},
	}
	got := map[string]targetResult{}
	for _, tr := range evaluateTargets(results) {
		got[tr.Name] = tr
	}
	// The faster mydumper run is the baseline: 18/20 = 0.9.
	if tr := got["sluice / (b) mydumper+myloader"]; tr.Value != 0.9 || !tr.Pass || !strings.Contains(tr.Baseline, "--rows") {
		t.Errorf("vs mydumper: %+v", tr)
	}
	if tr := got["sluice / (b) stretch"]; tr.Pass {
		t.Errorf("stretch 0.9 ≤ 0.7 must miss: %+v", tr)
	}
	if tr := got["sluice / (c) mariadb-dump | mariadb"]; tr.Value != 0.45 || tr.Pass {
		t.Errorf("vs mariadb-dump: %+v", tr)
	}
	if tr := got["worker peak RSS (VmHWM)"]; tr.Pass || tr.Value != 310 {
		t.Errorf("RSS: %+v", tr)
	}
	// A baseline that copied wrongly is no baseline.
	results[2].Verified = false
	for _, tr := range evaluateTargets(results) {
		if tr.Name == "sluice / (b) mydumper+myloader" && tr.Value != 0.75 {
			t.Errorf("unverified mydumper-rows used as baseline: %+v", tr)
		}
	}
	// A failed sluice run has no ratios at all.
	results[0].Verified = false
	if got := evaluateTargets(results); len(got) != 0 {
		t.Errorf("failed sluice run: targets %+v", got)
	}
}

func TestCombineRuns(t *testing.T) {
	runs := []*runResult{
		{Tool: toolSluice, Seconds: 30, Verified: true, WorkerPeakRSS: 100, CPU: map[string]float64{otherCPU: 4}},
		{Tool: toolSluice, Seconds: 10, Verified: true, WorkerPeakRSS: 300},
		{Tool: toolSluice, Seconds: 20, Verified: false, WorkerPeakRSS: 200, Errors: []string{"bad"}},
	}
	c := combineRuns(runs)
	if c.Seconds != 20 || c.Verified || c.WorkerPeakRSS != 300 || len(c.Errors) != 1 ||
		!reflect.DeepEqual(c.AllSeconds, []float64{30, 10, 20}) || !reflect.DeepEqual(c.AllPeakRSS, []int64{100, 300, 200}) ||
		!reflect.DeepEqual(c.AllOtherCPU, []float64{4, 0, 0}) {
		t.Fatalf("combined: %+v", c)
	}
	if one := combineRuns(runs[:1]); one.AllSeconds != nil || one.AllPeakRSS != nil || one.AllOtherCPU != nil || !one.Verified || one.Seconds != 30 {
		t.Fatalf("single run: %+v", one)
	}
}

func TestUnionSeconds(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	acts := []activityRun{
		{Started: at(5), Closed: at(7)},
		{Started: at(0), Closed: at(2)},
		{Started: at(1), Closed: at(3)}, // overlaps the previous: 0..3
		{Started: at(6), Closed: at(6.5)},
	}
	if got := unionSeconds(acts); got != 5 {
		t.Fatalf("union = %v, want 5 (0..3 and 5..7)", got)
	}
	if got := unionSeconds(nil); got != 0 {
		t.Fatalf("empty union = %v", got)
	}
}

func TestGroupActivities(t *testing.T) {
	t0 := time.Unix(1000, 0)
	acts := []activityRun{
		{Type: "CopyRange", Summary: "table `db`.`a` chunk 1/2", Started: t0.Add(time.Second), Closed: t0.Add(3 * time.Second), Attempts: 1},
		{Type: "CopyRange", Summary: "table `db`.`a` chunk 2/2", Started: t0.Add(2 * time.Second), Closed: t0.Add(5 * time.Second), Attempts: 2, Failed: false},
		{Type: "Precheck", Started: t0, Closed: t0.Add(time.Second / 2), Attempts: 1},
	}
	rep := summarize(&timeline{WorkflowStart: t0, WorkflowEnd: t0.Add(6 * time.Second), Activities: acts})
	if len(rep.ByTable) != 1 || rep.ByTable[0].Name != "`db`.`a`" || rep.ByTable[0].Count != 2 || rep.ByTable[0].Attempts != 3 ||
		rep.ByTable[0].BusySec != 5 || rep.ByTable[0].FromSec != 1 || rep.ByTable[0].ToSec != 5 {
		t.Fatalf("by table: %+v", rep.ByTable)
	}
	if len(rep.ByType) != 2 || rep.WorkflowSec != 6 || rep.ActiveSec != 4.5 {
		t.Fatalf("report: %+v", rep)
	}
}
