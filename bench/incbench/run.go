package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/binlog"
)

// backlog is what sysbench wrote while nothing replicated.
type backlog struct {
	Start    binlog.Position `json:"start"`
	End      binlog.Position `json:"end"`
	Txns     uint64          `json:"txns"`
	Bytes    int64           `json:"binlog_bytes"`
	Sysbench sysbenchResult  `json:"sysbench"`
}

// catchupResult is one applier catching up on the backlog.
type catchupResult struct {
	Name       string  `json:"name"`
	Seconds    float64 `json:"seconds"`
	Txns       uint64  `json:"txns"`
	Rows       uint64  `json:"rows"`
	TxnsPerSec float64 `json:"txns_per_second"`
	RowsPerSec float64 `json:"rows_per_second"`
	MiBPerSec  float64 `json:"binlog_mib_per_second"`
	// Epochs is the number of applier epochs (sluice only).
	Epochs int                `json:"epochs,omitempty"`
	CPU    map[string]float64 `json:"cpu_seconds"`
	// PeakRSS is the highest VmRSS of this process sampled during the run (sluice only).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
	// Server is what the applying server counted during the run (SHOW GLOBAL
	// STATUS deltas): statements and commits for sluice's destination; the
	// replica's SQL threads run no statements, only its commits and row handler
	// calls compare.
	Server   map[string]int64 `json:"server_status,omitempty"`
	Verified bool             `json:"verified"`
	Errors   []string         `json:"errors,omitempty"`
}

func (r *catchupResult) fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

// rssReport is ru_maxrss of this process at three points of its life.
type rssReport struct {
	BeforeApplier int64 `json:"before_applier_bytes"`
	AfterCatchUp  int64 `json:"after_catchup_bytes"`
	AfterSteady   int64 `json:"after_steady_bytes,omitempty"`
}

// report is everything the benchmark measured.
type report struct {
	Machine        machineInfo      `json:"machine"`
	Parameters     map[string]any   `json:"parameters"`
	PrepareSeconds float64          `json:"prepare_seconds"`
	CopySeconds    float64          `json:"copy_seconds"`
	Backlog        backlog          `json:"backlog"`
	RowsFrom       string           `json:"rows_from"`
	CatchUp        []*catchupResult `json:"catchup"`
	Steady         *steadyResult    `json:"steady,omitempty"`
	MaxRSS         rssReport        `json:"max_rss"`
	Targets        []targetResult   `json:"targets"`
	OK             bool             `json:"ok"`
}

func (b *bench) execute(ctx context.Context) (*report, error) {
	c := b.cfg
	rep := &report{Parameters: map[string]any{
		"tables": c.tables, "table_size": c.tableSize, "threads": c.threads, "backlog_seconds": c.backlog.Seconds(),
		"slots": c.slots, "native_threads": c.nativeThreads, "native_mode": c.nativeMode, "rate": c.rate,
		"steady_seconds": c.steady.Seconds(), "probe_every": c.probeEvery.String(), "probe_poll": c.probePoll.String(),
		"steady_native": c.steadyNative, "phases": c.only, "buffer_pool": c.bufferPool, "redo_log": c.redoLog,
		"epoch_txns": c.epochTxns, "epoch_bytes": c.epochBytes, "epoch_wait": c.epochWait.String(),
	}}
	b.logf("starting MariaDB servers in %s (buffer pool %s, redo log %s)", b.dir, c.bufferPool, c.redoLog)
	if err := b.startServers(ctx); err != nil {
		return nil, err
	}
	defer b.stopServers()
	rep.Machine = b.machineInfo(ctx)

	b.logf("sysbench oltp_write_only prepare: %d tables × %d rows on the source", c.tables, c.tableSize)
	t0 := time.Now()
	if err := b.prepare(ctx); err != nil {
		return nil, err
	}
	rep.PrepareSeconds = time.Since(t0).Seconds()
	srcDB, err := b.src.Open("")
	if err != nil {
		return nil, err
	}
	defer srcDB.Close()
	bl := &rep.Backlog
	if bl.Start, err = sourcePosition(ctx, srcDB); err != nil {
		return nil, err
	}
	b.logf("prepared in %.1f s; source at %s; copying (mariadb-dump | mariadb) to the destination%s", rep.PrepareSeconds, bl.Start,
		map[bool]string{true: " and the replica", false: ""}[b.replica != nil])
	t0 = time.Now()
	if err := b.copyToTargets(ctx); err != nil {
		return nil, err
	}
	rep.CopySeconds = time.Since(t0).Seconds()
	copies := b.servers()[1:]
	diffs, err := b.verify(ctx, copies...)
	if err != nil {
		return nil, err
	}
	for _, s := range copies {
		if len(diffs[s.Name]) > 0 {
			return nil, fmt.Errorf("the copy on the %s differs from the source before any replication: %v", s.Name, diffs[s.Name])
		}
	}
	b.logf("copied and verified in %.1f s", rep.CopySeconds)

	b.logf("backlog: sysbench oltp_write_only run, %d threads, %s, nothing replicating", c.threads, c.backlog)
	bl.Sysbench, err = b.runSysbench(ctx, "run", "sysbench-backlog.log",
		"--threads="+strconv.Itoa(c.threads), "--time="+strconv.Itoa(int(c.backlog.Seconds())), "--report-interval=10")
	if err != nil {
		return nil, err
	}
	if bl.End, err = sourcePosition(ctx, srcDB); err != nil {
		return nil, err
	}
	if bl.Txns, err = gtidDelta(bl.Start.GTID, bl.End.GTID); err != nil {
		return nil, err
	}
	if bl.Bytes, err = binlogBytes(ctx, srcDB, bl.Start, bl.End); err != nil {
		return nil, err
	}
	b.logf("backlog: %d transactions (sysbench %.0f tps), %s of binlog, up to %s", bl.Txns, bl.Sysbench.TPS, humanBytes(bl.Bytes), bl.End)

	rep.MaxRSS.BeforeApplier = selfMaxRSS()
	var conns *sluiceConns
	var sluiceRes, nativeRes *catchupResult
	if b.wants(phaseSluice) {
		if conns, err = b.openSluice(ctx); err != nil {
			return nil, err
		}
		defer conns.close()
		b.settleAll(ctx)
		b.logf("catch-up: sluice (applier, %d slots)", c.slots)
		sluiceRes = b.runSluice(ctx, conns, *bl)
		rep.CatchUp = append(rep.CatchUp, sluiceRes)
		b.logCatchUp(sluiceRes)
		rep.MaxRSS.AfterCatchUp = selfMaxRSS()
	}
	var replica *nativeReplica
	if b.wants(phaseNative) {
		if replica, err = b.openReplica(ctx); err != nil {
			return nil, err
		}
		defer replica.close()
		b.settleAll(ctx)
		b.logf("catch-up: native replica (slave_parallel_threads=%d, slave_parallel_mode=%s)", c.nativeThreads, c.nativeMode)
		nativeRes = b.runNative(ctx, replica, *bl)
		rep.CatchUp = append(rep.CatchUp, nativeRes)
		b.logCatchUp(nativeRes)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// Row changes: the applier's count of the backlog; without sluice, sysbench's
	// write statements (each changes one row in oltp_write_only).
	rows, from := uint64(bl.Sysbench.Writes), "sysbench write statements"
	if sluiceRes != nil && len(sluiceRes.Errors) == 0 {
		rows, from = sluiceRes.Rows, "row images applied by sluice"
	}
	rep.RowsFrom = from
	for _, r := range rep.CatchUp {
		r.Rows = rows
		if r.Seconds > 0 {
			r.TxnsPerSec = float64(r.Txns) / r.Seconds
			r.RowsPerSec = float64(r.Rows) / r.Seconds
			r.MiBPerSec = float64(bl.Bytes) / mib / r.Seconds
		}
	}
	// The source is quiet: every copy that caught up must equal it.
	var check []*catchupResult
	for _, r := range rep.CatchUp {
		if len(r.Errors) == 0 {
			check = append(check, r)
		}
	}
	if len(check) > 0 {
		b.logf("verifying the catch-up (COUNT(*) and CHECKSUM TABLE of every %s table)", benchDB)
		var servers = map[string]string{phaseSluice: b.dst.Name}
		if b.replica != nil {
			servers[phaseNative] = b.replica.Name
		}
		var targets = copies[:0:0]
		for _, r := range check {
			for _, s := range copies {
				if s.Name == servers[r.Name] {
					targets = append(targets, s)
				}
			}
		}
		diffs, err := b.verify(ctx, targets...)
		if err != nil {
			return nil, err
		}
		for _, r := range check {
			for _, d := range diffs[servers[r.Name]] {
				r.fail("verify %s: %s", servers[r.Name], d)
			}
			r.Verified = len(r.Errors) == 0
		}
	}
	nativeLive := replica != nil && nativeRes.Verified && c.steadyNative
	if replica != nil && !nativeLive {
		b.stopReplica(ctx, replica)
	}
	if b.wants(phaseSteady) {
		if sluiceRes.Verified {
			var n *nativeReplica
			if nativeLive {
				n = replica
			}
			b.settleAll(ctx)
			b.logf("steady state: sluice live%s", map[bool]string{true: ", native replica live too", false: ""}[n != nil])
			rep.Steady = b.runSteady(ctx, conns, n)
			for _, l := range rep.Steady.Lag {
				b.logf("  %s lag: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d probes)", l.Target, l.P50Ms, l.P99Ms, l.MaxMs, l.Received)
			}
			for _, e := range rep.Steady.Errors {
				b.logf("  error: %s", e)
			}
			rep.MaxRSS.AfterSteady = selfMaxRSS()
		} else {
			rep.Steady = &steadyResult{Errors: []string{"not run: sluice's catch-up failed"}}
		}
	}
	rep.Targets = evaluateTargets(rep)
	rep.OK = true
	for _, r := range rep.CatchUp {
		rep.OK = rep.OK && r.Verified
	}
	if rep.Steady != nil {
		rep.OK = rep.OK && rep.Steady.Verified
	}
	return rep, nil
}

func (b *bench) logCatchUp(r *catchupResult) {
	if len(r.Errors) > 0 {
		for _, e := range r.Errors {
			b.logf("  %s: error: %s", r.Name, e)
		}
		return
	}
	b.logf("  %s: %.2f s, %.0f txn/s", r.Name, r.Seconds, float64(r.Txns)/r.Seconds)
}
