package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/testenv"
)

// Task queues: the --dev process polls one nobody uses, so every activity runs
// in the plain worker (as a deployed worker would), measured on its own.
const (
	benchTaskQueue = "sluice-bench"
	idleTaskQueue  = "sluice-bench-idle"
	workflowName   = "verifybench"
)

// verifyReport is the part of `sluice verify --output`'s JSON (workflows.VerifyReport)
// the benchmark checks. Decoded here rather than imported: the benchmark reads what
// the CLI writes, as a user's script would.
type verifyReport struct {
	Equal       bool          `json:"equal"`
	Done        bool          `json:"done"`
	Rows        int64         `json:"rows"`
	Differences int64         `json:"differences"`
	Tables      []verifyTable `json:"tables"`
}

// verifyTable is one table's line of the report (workflows.TableVerify).
type verifyTable struct {
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
	Chunks int    `json:"chunks"`
	// Whole: compared by CHECKSUM TABLE on both servers (the fast path), no range.
	Whole  bool   `json:"whole"`
	Failed string `json:"failed"`
}

// verifyCounts sums up how a report compared its tables.
type verifyCounts struct {
	Ranges, Whole, Tables int
}

// checkVerifyReport says whether a report found every row equal: equal, done, no
// table failed, and rows compared = the dataset's rows; with allowWhole false
// (--no-table-checksum) also that no table was compared whole by CHECKSUM TABLE.
// detail sums it up.
func checkVerifyReport(rep verifyReport, wantRows int64, allowWhole bool) (detail string, counts verifyCounts, problems []string) {
	counts.Tables = len(rep.Tables)
	for _, t := range rep.Tables {
		counts.Ranges += t.Chunks
		if t.Whole {
			counts.Whole++
			if !allowWhole {
				problems = append(problems, fmt.Sprintf("sluice verify: %s compared whole (CHECKSUM TABLE) despite --no-table-checksum", t.Table))
			}
		}
		if t.Failed != "" {
			problems = append(problems, fmt.Sprintf("sluice verify: %s failed: %s", t.Table, t.Failed))
		}
	}
	detail = fmt.Sprintf("%d rows in %d ranges", rep.Rows, counts.Ranges)
	if counts.Whole > 0 {
		detail += fmt.Sprintf(", %d of %d tables whole (CHECKSUM TABLE)", counts.Whole, counts.Tables)
	}
	if !rep.Done {
		problems = append(problems, "sluice verify: the report is not done")
	}
	if !rep.Equal {
		problems = append(problems, fmt.Sprintf("sluice verify: not equal (%d differences)", rep.Differences))
	}
	if rep.Rows != wantRows {
		problems = append(problems, fmt.Sprintf("sluice verify: compared %d rows, the dataset has %d", rep.Rows, wantRows))
	}
	return detail, counts, problems
}

// sluiceArgs are the extra `sluice verify` arguments of a sluice run: the
// sluice-ranges run turns the CHECKSUM TABLE fast path off, so every table is
// compared range by range (what verify does while replication runs, or with a
// filter or transform).
func sluiceArgs(tool string) []string {
	if tool == toolSluiceRanges {
		return []string{"--no-table-checksum"}
	}
	return nil
}

// runSluice starts `sluice-worker --dev` (embedded Temporal) and a plain worker on the
// real task queue (before the clock, as a deployed service would be), then times
// `sluice verify -f FILE [extra...]` from exec to exit. r.Tool names its files
// (logs, report); only the sluice run may compare a table whole.
func (b *bench) runSluice(ctx context.Context, r *runResult, round int, wantRows int64, extra ...string) {
	// File names: worker-1.log, sluice-verify-1.json, … for the sluice run;
	// worker-ranges-1.log, sluice-verify-ranges-1.json, … for sluice-ranges.
	suffix := strconv.Itoa(round)
	if r.Tool != toolSluice {
		suffix = strings.TrimPrefix(r.Tool, toolSluice+"-") + "-" + suffix
	}
	port, err := freePort()
	if err != nil {
		r.fail("%v", err)
		return
	}
	address := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dataDir := filepath.Join(b.dir, "temporal")
	if err := os.RemoveAll(dataDir); err != nil {
		r.fail("%v", err)
		return
	}
	// Inherit nothing that could point a worker elsewhere (TEMPORAL_ADDRESS, SLUICE_*).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "SLUICE_") {
			env = append(env, kv)
		}
	}
	dev, err := benchproc.StartProc("sluice-worker --dev", filepath.Join(b.logDir, "dev-worker-"+suffix+".log"), env, b.workerBin,
		"--dev", "--address", address, "--ui-port", "0", "--data-dir", dataDir,
		"--task-queue", idleTaskQueue, "--log-format", "json")
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer func() {
		if err := dev.Stop(time.Minute); err != nil {
			b.logf("  %v", err)
		}
	}()
	if err := dev.WaitForLog(ctx, `"worker started"`, 3*time.Minute); err != nil {
		r.fail("%v", err)
		return
	}
	// The worker resolves ${NAME} passwords from its own environment, as in production.
	wenv := append(env, "BENCH_SRC_PASSWORD="+b.src.RootPassword, "BENCH_DST_PASSWORD="+b.dst.RootPassword)
	w, err := benchproc.StartProc("sluice-worker", filepath.Join(b.logDir, "worker-"+suffix+".log"), wenv, b.workerBin,
		"--address", address, "--task-queue", benchTaskQueue, "--log-format", "json")
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer func() {
		if err := w.Stop(time.Minute); err != nil {
			b.logf("  %v", err)
		}
	}()
	if err := w.WaitForLog(ctx, `"worker started"`, 2*time.Minute); err != nil {
		r.fail("%v", err)
		return
	}

	file := filepath.Join(b.dir, workflowName+".yaml")
	if err := os.WriteFile(file, []byte(b.workflowFile()), 0o600); err != nil {
		r.fail("write the workflow file: %v", err)
		return
	}
	out := filepath.Join(b.dir, "sluice-verify-"+suffix+".json")
	args := []string{"verify", "-f", file, "--output", out, "--chunk-rows", strconv.Itoa(b.cfg.chunkRows),
		"--address", address, "--task-queue", benchTaskQueue}
	args = append(args, extra...)
	r.Command = "sluice " + strings.Join(args, " ")

	meter := b.serverMeter()
	meter.Add("sluice-worker", w.PID())
	meter.Add("sluice-worker --dev", dev.PID())
	meter.Start()
	c, err := benchproc.StartCommand(ctx, filepath.Join(b.logDir, "sluice-verify-"+suffix+".log"), env, b.sluiceBin, args...)
	if err != nil {
		r.fail("%v", err)
		return
	}
	wall, cliCPU, runErr := c.Wait()
	meter.Stop(r.CPU)
	r.CPU["sluice (CLI)"] = cliCPU
	r.Seconds = wall.Seconds()
	if runErr != nil {
		// Exit 1 also means "not equal": the report says which.
		r.fail("%v", runErr)
	}
	if tl, err := readTimeline(ctx, address, "sluice-"+workflowName+"-verify"); err != nil {
		b.logf("  timeline from Temporal history: %v", err)
	} else {
		r.Timeline = tl
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		r.fail("sluice verify wrote no report: %v", err)
		return
	}
	var rep verifyReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		r.fail("sluice verify's report: %v", err)
		return
	}
	detail, counts, problems := checkVerifyReport(rep, wantRows, r.Tool == toolSluice)
	r.Rows, r.Detail, r.Ranges, r.WholeTables = rep.Rows, detail, counts.Ranges, counts.Whole
	for _, p := range problems {
		r.fail("%s", p)
	}
	r.Equal = runErr == nil && len(problems) == 0
}

// workflowFile is the benchmark's workflow file: the whole sbtest database,
// passwords from the worker's environment.
func (b *bench) workflowFile() string {
	opts := ""
	if b.cfg.sluiceParallel > 0 {
		opts = fmt.Sprintf("options:\n  full: {parallel: %d}\n", b.cfg.sluiceParallel)
	}
	return fmt.Sprintf(`name: %s
source:
  host: %s
  port: %d
  user: %s
  password: "${BENCH_SRC_PASSWORD}"
destination:
  host: %s
  port: %d
  user: %s
  password: "${BENCH_DST_PASSWORD}"
types: [schema, full]
objects:
  - database: %s
    tables: ["*"]
%s`, workflowName, b.src.Host, b.src.Port, b.src.RootUser, b.dst.Host, b.dst.Port, b.dst.RootUser, benchDB, opts)
}

// ptArgs are pt-table-checksum's arguments for one server: fixed chunks (the same
// boundaries on both servers, so their chunks compare one to one), no replica
// discovery (there is no replication between the two), results in percona.checksums
// of that server. The password comes from the option file (F=), never the command line.
func (b *bench) ptArgs(s *testenv.Server, conf string) []string {
	return []string{
		"--no-version-check",
		"--recursion-method=none",
		"--no-check-replication-filters",
		"--no-check-binlog-format",
		"--replicate=percona.checksums",
		"--databases=" + benchDB,
		"--chunk-size=" + strconv.Itoa(b.cfg.chunkRows),
		"--chunk-time=0",
		fmt.Sprintf("F=%s,h=%s,P=%d,u=%s", conf, s.Host, s.Port, s.RootUser),
	}
}

// runPT runs pt-table-checksum on both servers at once, then compares their
// percona.checksums chunk by chunk.
func (b *bench) runPT(ctx context.Context, r *runResult, wantRows int64) {
	for _, s := range []*testenv.Server{b.src, b.dst} {
		// Fresh results: a chunk left from an earlier run must not compare.
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS percona"); err != nil {
			r.fail("%v", err)
			return
		}
	}
	srcArgs, dstArgs := b.ptArgs(b.src, b.srcConf), b.ptArgs(b.dst, b.dstConf)
	r.Command = "pt-table-checksum " + strings.Join(redactConf(srcArgs), " ") + " & (the same against the destination)"
	meter := b.serverMeter()
	meter.Start()
	type result struct {
		wall time.Duration
		cpu  float64
		err  error
	}
	var res [2]result
	var wg sync.WaitGroup
	for i, args := range [][]string{srcArgs, dstArgs} {
		name := []string{"source", "destination"}[i]
		c, err := benchproc.StartCommand(ctx, filepath.Join(b.logDir, fmt.Sprintf("pt-table-checksum-%s.log", name)), os.Environ(), b.ptBin, args...)
		if err != nil {
			res[i].err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].wall, res[i].cpu, res[i].err = c.Wait()
		}()
	}
	wg.Wait()
	meter.Stop(r.CPU)
	for i, name := range []string{"source", "destination"} {
		r.Steps = append(r.Steps, step{name, res[i].wall.Seconds()})
		r.CPU["pt-table-checksum ("+name+")"] = res[i].cpu
		r.Seconds = max(r.Seconds, res[i].wall.Seconds())
		r.SequentialSeconds += res[i].wall.Seconds()
		if res[i].err != nil {
			r.fail("%s: %v", name, res[i].err)
		}
	}
	if len(r.Errors) > 0 {
		return
	}
	srcChunks, err := readPTChunks(ctx, b.src)
	if err != nil {
		r.fail("%v", err)
		return
	}
	dstChunks, err := readPTChunks(ctx, b.dst)
	if err != nil {
		r.fail("%v", err)
		return
	}
	diffs := comparePTChunks(srcChunks, dstChunks)
	for _, d := range diffs {
		r.fail("pt-table-checksum: %s", d)
	}
	for _, c := range srcChunks {
		r.Rows += c.Count
	}
	r.Detail = fmt.Sprintf("%d rows in %d chunks per server", r.Rows, len(srcChunks))
	if r.Rows != wantRows {
		r.fail("pt-table-checksum: counted %d rows, the dataset has %d", r.Rows, wantRows)
	}
	r.Equal = len(r.Errors) == 0
}

// readPTChunks reads one server's percona.checksums rows of the benchmark database.
func readPTChunks(ctx context.Context, s *testenv.Server) ([]ptChunk, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT db, tbl, chunk, COALESCE(chunk_index, ''), lower_boundary, upper_boundary, this_crc, this_cnt
FROM percona.checksums WHERE db = ? ORDER BY db, tbl, chunk`, benchDB)
	if err != nil {
		return nil, fmt.Errorf("%s: read percona.checksums: %w", s.Name, err)
	}
	defer rows.Close()
	var out []ptChunk
	for rows.Next() {
		var c ptChunk
		var lo, hi sql.NullString
		if err := rows.Scan(&c.DB, &c.Table, &c.Chunk, &c.Index, &lo, &hi, &c.CRC, &c.Count); err != nil {
			return nil, fmt.Errorf("%s: read percona.checksums: %w", s.Name, err)
		}
		c.Lower, c.Upper = nullText(lo), nullText(hi)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read percona.checksums: %w", s.Name, err)
	}
	return out, nil
}

func nullText(s sql.NullString) string {
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

// runChecksumTable runs one CHECKSUM TABLE of every table on both servers at once
// (connections opened before the clock).
func (b *bench) runChecksumTable(ctx context.Context, r *runResult) {
	var names []string
	for t := 1; t <= b.cfg.tables; t++ {
		names = append(names, testenv.QuoteIdent(benchDB)+"."+testenv.QuoteIdent(fmt.Sprintf("sbtest%d", t)))
	}
	q := "CHECKSUM TABLE " + strings.Join(names, ", ")
	r.Command = q + " (on both servers at once)"
	var conns [2]*sql.Conn
	for i, s := range []*testenv.Server{b.src, b.dst} {
		db, err := s.Open("")
		if err != nil {
			r.fail("%v", err)
			return
		}
		defer db.Close()
		if conns[i], err = db.Conn(ctx); err != nil {
			r.fail("%s: %v", s.Name, err)
			return
		}
		defer conns[i].Close()
	}
	var sums [2][]tableChecksum
	var walls [2]time.Duration
	var errs [2]error
	meter := b.serverMeter()
	meter.Start()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			sums[i], errs[i] = checksumTables(ctx, conns[i], q)
			walls[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	meter.Stop(r.CPU)
	for i, name := range []string{"source", "destination"} {
		r.Steps = append(r.Steps, step{name, walls[i].Seconds()})
		r.Seconds = max(r.Seconds, walls[i].Seconds())
		r.SequentialSeconds += walls[i].Seconds()
		if errs[i] != nil {
			r.fail("%s: %v", name, errs[i])
		}
	}
	if len(r.Errors) > 0 {
		return
	}
	for _, d := range compareChecksums(sums[0], sums[1]) {
		r.fail("CHECKSUM TABLE: %s", d)
	}
	if len(sums[0]) != b.cfg.tables {
		r.fail("CHECKSUM TABLE: %d tables in the result, want %d", len(sums[0]), b.cfg.tables)
	}
	r.Detail = fmt.Sprintf("%d tables (no row count: the dataset's)", len(sums[0]))
	r.Equal = len(r.Errors) == 0
}

func checksumTables(ctx context.Context, conn *sql.Conn, q string) ([]tableChecksum, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tableChecksum
	for rows.Next() {
		var t tableChecksum
		var sum sql.NullString
		if err := rows.Scan(&t.Table, &sum); err != nil {
			return nil, err
		}
		t.Checksum = nullText(sum)
		out = append(out, t)
	}
	return out, rows.Err()
}

// redactConf shortens option-file paths in printed commands.
func redactConf(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.HasPrefix(a, "F=") {
			if conf, rest, ok := strings.Cut(a[2:], ","); ok {
				a = "F=" + filepath.Base(conf) + "," + rest
			}
		}
		out[i] = a
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
