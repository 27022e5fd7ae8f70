package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// A real sysbench 1.0.20 oltp_write_only run summary (with --report-interval lines).
const sysbenchOut = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Running the test with following options:
Number of threads: 4
Target transaction rate: 200/sec
Report intermediate results every 10 second(s)
Initializing random number generator from current time


Initializing worker threads...

Threads started!

[ 10s ] thds: 4 tps: 199.10 qps: 1194.60 (r/w/o: 0.00/796.40/398.20) lat (ms,95%): 4.10 err/s: 0.00 reconn/s: 0.00
SQL statistics:
    queries performed:
        read:                            0
        write:                           23912
        other:                           11956
        total:                           35868
    transactions:                        5978   (199.21 per sec.)
    queries:                             35868  (1195.26 per sec.)
    ignored errors:                      3      (0.10 per sec.)
    reconnects:                          0      (0.00 per sec.)

General statistics:
    total time:                          30.0078s
    total number of events:              5978

Latency (ms):
         min:                                    0.98
         avg:                                    2.31
         max:                                   41.57
         95th percentile:                        4.18
         sum:                                13805.73

Threads fairness:
    events (avg/stddev):           1494.5000/10.12
    execution time (avg/stddev):   3.4514/0.04
`

func TestParseSysbench(t *testing.T) {
	var r sysbenchResult
	if err := parseSysbench(sysbenchOut, &r); err != nil {
		t.Fatal(err)
	}
	want := sysbenchResult{Transactions: 5978, TPS: 199.21, Writes: 23912, IgnoredErrors: 3, Seconds: 30.0078,
		LatencyAvgMs: 2.31, LatencyMaxMs: 41.57, LatencyP95Ms: 4.18}
	if r != want {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if err := parseSysbench("FATAL: connection creation failed\n", &r); err == nil {
		t.Error("output without a summary: no error")
	}
}

func TestGTIDDelta(t *testing.T) {
	for _, c := range []struct {
		from, to string
		want     uint64
		err      bool
	}{
		{"0-1-16", "0-1-28815", 28799, false},
		{"", "0-1-5", 5, false},
		{"0-1-10,1-2-5", "0-1-12,1-2-9", 6, false},
		{"0-1-10", "0-1-10,3-7-4", 4, false},
		{"0-1-10", "0-1-9", 0, true},
		{"0-1", "0-1-9", 0, true},
		{"0-1-x", "0-1-9", 0, true},
	} {
		got, err := gtidDelta(c.from, c.to)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("gtidDelta(%q, %q) = %d, %v; want %d, error %v", c.from, c.to, got, err, c.want, c.err)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 100 * time.Millisecond}, {99, 198 * time.Millisecond}, {100, 200 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
	// summarize sorts a copy: the caller's order is kept.
	in := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	s := summarize("destination", in)
	if s.P50Ms != 2 || s.MaxMs != 3 || s.MeanMs != 2 || s.Received != 3 || in[0] != 3*time.Millisecond {
		t.Errorf("summarize = %+v, input now %v", s, in)
	}
}

func TestParseOnly(t *testing.T) {
	if got, err := parseOnly(""); err != nil || strings.Join(got, ",") != "sluice,native,steady" {
		t.Errorf("default: %v, %v", got, err)
	}
	if got, err := parseOnly("native, sluice"); err != nil || strings.Join(got, ",") != "sluice,native" {
		t.Errorf("reordered: %v, %v", got, err)
	}
	for _, bad := range []string{"steady", "native,steady", "bogus", ","} {
		if _, err := parseOnly(bad); err == nil {
			t.Errorf("-only %q: no error", bad)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tables != 8 || cfg.tableSize != 100_000 || cfg.slots != 4 || cfg.nativeThreads != 4 || cfg.nativeMode != "optimistic" || cfg.rate != 200 {
		t.Errorf("defaults: %+v", cfg)
	}
	for _, bad := range [][]string{{"-slots", "0"}, {"-backlog", "500ms"}, {"-native-mode", "fast"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestEvaluateTargets(t *testing.T) {
	rep := &report{
		Parameters: map[string]any{"rate": 200},
		CatchUp: []*catchupResult{
			{Name: phaseSluice, Seconds: 10, TxnsPerSec: 1000, Verified: true},
			{Name: phaseNative, Seconds: 20, TxnsPerSec: 500, Verified: true},
		},
		Steady: &steadyResult{Verified: true, Lag: []lagStats{{Target: "destination", Received: 300, P99Ms: 1000}, {Target: "replica", Received: 300, P99Ms: 10}}},
		MaxRSS: rssReport{AfterCatchUp: 100 * mib, AfterSteady: 301 * mib},
	}
	got := map[string]targetResult{}
	for _, tr := range evaluateTargets(rep) {
		got[tr.Name] = tr
	}
	if tr := got["catch-up rate sluice / native"]; tr.Value != 2 || !tr.Pass {
		t.Errorf("ratio: %+v", tr)
	}
	// p99 of exactly 1 s misses "< 1 s"; 301 MiB misses "≤ 300 MiB".
	if tr := got["steady-state lag p99 (sluice)"]; tr.Value != 1 || tr.Pass {
		t.Errorf("lag: %+v", tr)
	}
	if tr := got["peak RSS (this process: applier + binlog reader)"]; tr.Value != 301 || tr.Pass {
		t.Errorf("rss: %+v", tr)
	}
	// A failed catch-up gives no ratio.
	rep.CatchUp[1].Verified = false
	for _, tr := range evaluateTargets(rep) {
		if strings.HasPrefix(tr.Name, "catch-up") {
			t.Errorf("ratio from an unverified run: %+v", tr)
		}
	}
}
