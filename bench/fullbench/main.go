// Command fullbench is the full-copy benchmark of issue 4 (`make bench-full`): on one
// MariaDB pair and one dataset it times sluice (schema+full workflow), mydumper +
// myloader, and mariadb-dump | mariadb, verifies every copy with row counts and
// CHECKSUM TABLE on both servers, and prints the ratios against the targets.
// See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/benchdata"
	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/testenv"
)

const mib = 1 << 20

type config struct {
	rows           int
	keep           bool
	only           []string
	json           bool
	threads        int
	chunkRows      int
	bufferPool     string
	redoLog        string
	binDir         string
	sluiceParallel int
	ui             bool
	timeout        time.Duration
	repeat         int
	workerEnv      []string
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("fullbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.rows, "rows", 500_000, "rows per sbtest table (4 tables); the wide table gets rows/25, the composite-key table rows*3/5")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (server data, dumps, logs) and print its path")
	only := fs.String("only", "", "comma list of runs: "+strings.Join(allTools, ",")+" (default all)")
	fs.BoolVar(&cfg.json, "json", false, "print the results as JSON on stdout (progress still goes to stderr)")
	fs.IntVar(&cfg.threads, "threads", 4, "mydumper/myloader threads (-t)")
	fs.IntVar(&cfg.chunkRows, "chunk-rows", 100_000, "mydumper --rows for the mydumper-rows run")
	fs.StringVar(&cfg.bufferPool, "buffer-pool", "1G", "innodb_buffer_pool_size of both servers")
	fs.StringVar(&cfg.redoLog, "redo-log", "256M", "innodb_log_file_size of both servers")
	fs.StringVar(&cfg.binDir, "bin", "bin", "directory of the sluice and sluice-worker binaries (make build)")
	fs.IntVar(&cfg.sluiceParallel, "sluice-parallel", 0, "options.full.parallel of the workflow; 0 = sluice's default")
	fs.BoolVar(&cfg.ui, "ui", false, "start the Temporal Web UI of the dev server on a free port (to watch the sluice run)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "limit for each run")
	fs.IntVar(&cfg.repeat, "repeat", 1, "run every tool this many times (interleaved) and report each one's median run")
	var workerEnv listFlag
	fs.Var(&workerEnv, "worker-env", "KEY=VALUE added to the plain sluice-worker's environment (repeatable), e.g. GOMEMLIMIT=250MiB")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, kv := range workerEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, fmt.Errorf("-worker-env %q: want KEY=VALUE", kv)
		}
	}
	cfg.workerEnv = workerEnv
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.rows < 1 {
		return cfg, fmt.Errorf("-rows must be at least 1, got %d", cfg.rows)
	}
	if cfg.repeat < 1 {
		return cfg, fmt.Errorf("-repeat must be at least 1, got %d", cfg.repeat)
	}
	if cfg.threads < 1 {
		return cfg, fmt.Errorf("-threads must be at least 1, got %d", cfg.threads)
	}
	tools, err := parseOnly(*only)
	if err != nil {
		return cfg, err
	}
	cfg.only = tools
	return cfg, nil
}

// parseOnly turns -only into the runs to do, in the fixed run order.
func parseOnly(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return allTools, nil
	}
	want := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		known := false
		for _, a := range allTools {
			known = known || a == t
		}
		if !known {
			return nil, fmt.Errorf("-only: unknown run %q (want some of %s)", t, strings.Join(allTools, ","))
		}
		want[t] = true
	}
	var out []string
	for _, a := range allTools {
		if want[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-only names no run")
	}
	return out, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fullbench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdout, os.Stderr))
}

// bench is one benchmark: the servers, the tools found, where files go.
type bench struct {
	cfg     config
	dir     string
	logDir  string
	src     *testenv.Server
	dst     *testenv.Server
	srcPID  int
	dstPID  int
	srcConf string
	dstConf string

	sluiceBin, workerBin                           string
	mydumper, myloader, mariadbDump, mariadbClient string

	stderr  io.Writer
	started time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) wants(tool string) bool {
	for _, t := range b.cfg.only {
		if t == tool {
			return true
		}
	}
	return false
}

// run returns the exit status: 0 when every run succeeded and copied exactly, 1 otherwise.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	b := &bench{cfg: cfg, stderr: stderr, started: time.Now()}
	if err := b.findTools(); err != nil {
		fmt.Fprintf(stderr, "fullbench: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sluice-fullbench-")
	if err != nil {
		fmt.Fprintf(stderr, "fullbench: %v\n", err)
		return 1
	}
	b.dir, b.logDir = dir, filepath.Join(dir, "logs")
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stderr, "fullbench: kept %s (logs in %s)\n", dir, b.logDir)
			return
		}
		os.RemoveAll(dir)
	}()
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "fullbench: %v\n", err)
		return 1
	}
	rep, err := b.execute(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "fullbench: %v\n", err)
		if !cfg.keep {
			fmt.Fprintln(stderr, "fullbench: rerun with -keep to keep the logs")
		}
		return 1
	}
	if cfg.json {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "fullbench: %v\n", err)
			return 1
		}
	} else {
		writeText(stdout, rep)
	}
	if !rep.OK {
		fmt.Fprintln(stderr, "fullbench: FAILED: a run failed or its copy differs from the source (see above)")
		return 1
	}
	return 0
}

// findTools resolves the binaries the selected runs need, with install hints.
func (b *bench) findTools() error {
	var missing []string
	if b.wants(toolSluice) {
		b.sluiceBin = filepath.Join(b.cfg.binDir, "sluice")
		b.workerBin = filepath.Join(b.cfg.binDir, "sluice-worker")
		for _, p := range []string{b.sluiceBin, b.workerBin} {
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, p+" (run `make build`, or pass -bin DIR)")
			}
		}
		for _, p := range []*string{&b.sluiceBin, &b.workerBin} {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	look := func(dst *string, names ...string) {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				*dst = p
				return
			}
		}
		hint := "apt-get install -y mariadb-client"
		if names[0] == "mydumper" || names[0] == "myloader" {
			hint = "sudo make bench-deps, or apt-get install -y mydumper; or leave the mydumper runs out with -only"
		}
		missing = append(missing, names[0]+" ("+hint+")")
	}
	if b.wants(toolMydumper) || b.wants(toolMydumperRows) {
		look(&b.mydumper, "mydumper")
		look(&b.myloader, "myloader")
	}
	if b.wants(toolMariadbDump) {
		look(&b.mariadbDump, "mariadb-dump", "mysqldump")
		look(&b.mariadbClient, "mariadb", "mysql")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}

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

func (b *bench) execute(ctx context.Context) (*report, error) {
	rep := &report{Dataset: newDataset(b.cfg.rows), Parameters: map[string]any{
		"rows": b.cfg.rows, "threads": b.cfg.threads, "chunk_rows": b.cfg.chunkRows, "buffer_pool": b.cfg.bufferPool,
		"redo_log": b.cfg.redoLog, "sluice_parallel": b.cfg.sluiceParallel, "runs": b.cfg.only, "repeat": b.cfg.repeat, "worker_env": b.cfg.workerEnv,
	}}
	b.logf("starting the MariaDB pair in %s (buffer pool %s, redo log %s)", b.dir, b.cfg.bufferPool, b.cfg.redoLog)
	if err := b.startServers(ctx); err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range []*testenv.Server{b.src, b.dst} {
			if err := s.Stop(); err != nil {
				b.logf("%v", err)
			}
		}
	}()
	rep.Machine = b.machineInfo(ctx)

	d := rep.Dataset
	b.logf("generating %s on the source: %d × sbtest (%d rows), wide (%d rows), accounts (%d rows)",
		benchDB, d.SbtestTables, d.SbtestRows, d.WideRows, d.AccountRows)
	t0 := time.Now()
	if err := generate(ctx, b.src, d); err != nil {
		return nil, err
	}
	rep.GenerateS = time.Since(t0).Seconds()
	srcState, err := benchdata.Snapshot(ctx, b.src, benchDB)
	if err != nil {
		return nil, err
	}
	rep.Tables = srcState
	if rep.Source, err = benchdata.Measure(ctx, b.src, benchDB, srcState); err != nil {
		return nil, err
	}
	b.logf("source: %d rows, data %s + indexes %s (information_schema), generated in %.1f s",
		rep.Source.Rows, humanBytes(rep.Source.DataBytes), humanBytes(rep.Source.IndexBytes), rep.GenerateS)

	// Rounds interleave the tools, so a slow spell of a shared machine spreads over
	// all of them instead of hitting one tool's repeats.
	runs := map[string][]*runResult{}
	for round := 1; round <= b.cfg.repeat; round++ {
		for _, tool := range b.cfg.only {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r := &runResult{Tool: tool}
			runs[tool] = append(runs[tool], r)
			if err := b.dst.Exec(ctx, "DROP DATABASE IF EXISTS "+testenv.QuoteIdent(benchDB)); err != nil {
				return nil, fmt.Errorf("empty the destination: %w", err)
			}
			b.settle(ctx)
			if b.cfg.repeat > 1 {
				b.logf("run %s (round %d of %d)", tool, round, b.cfg.repeat)
			} else {
				b.logf("run %s", tool)
			}
			rctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
			switch tool {
			case toolSluice:
				b.runSluice(rctx, r, false)
			case toolSluiceETL:
				b.runSluice(rctx, r, true)
			case toolMydumper:
				b.runMydumper(rctx, r, 0)
			case toolMydumperRows:
				b.runMydumper(rctx, r, b.cfg.chunkRows)
			case toolMariadbDump:
				b.runMariadbDump(rctx, r)
			}
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			benchproc.SettleOther(r.CPU, otherCPU)
			if len(r.Errors) == 0 {
				b.verify(ctx, r, srcState, tool == toolSluiceETL)
			}
			status := "copy verified"
			if !r.Verified {
				status = "FAILED"
			}
			b.logf("  %s: %.2f s, %s", tool, r.Seconds, status)
			for _, e := range r.Errors {
				b.logf("  error: %s", e)
			}
		}
	}
	rep.OK = true
	for _, tool := range b.cfg.only {
		r := combineRuns(runs[tool])
		if r.Seconds > 0 {
			r.RowsPerSec = float64(rep.Source.Rows) / r.Seconds
			r.MiBPerSec = float64(rep.Source.DataBytes) / mib / r.Seconds
		}
		rep.OK = rep.OK && r.Verified
		rep.Results = append(rep.Results, r)
	}
	rep.Targets = evaluateTargets(rep.Results)
	return rep, nil
}

// settle lets the servers finish background flushing before a run.
func (b *bench) settle(ctx context.Context) {
	benchproc.SettleAll(ctx, []*testenv.Server{b.src, b.dst}, b.logf)
}

// verify compares the destination with the source, table by table; with etl
// the sbtest tables against what the filter and transforms define.
func (b *bench) verify(ctx context.Context, r *runResult, src []benchdata.TableState, withETL bool) {
	dst, err := benchdata.Snapshot(ctx, b.dst, benchDB)
	if err != nil {
		r.fail("verify: %v", err)
		return
	}
	if withETL {
		var plainSrc, plainDst []benchdata.TableState
		for _, t := range src {
			if !strings.HasPrefix(t.Table, "sbtest") {
				plainSrc = append(plainSrc, t)
			}
		}
		for _, t := range dst {
			if !strings.HasPrefix(t.Table, "sbtest") {
				plainDst = append(plainDst, t)
			}
		}
		if diffs := b.verifyETL(ctx, src); len(diffs) > 0 {
			for _, d := range diffs {
				r.fail("verify: %s", d)
			}
			return
		}
		src, dst = plainSrc, plainDst
	}
	diffs := benchdata.CompareStates(src, dst)
	for _, d := range diffs {
		r.fail("verify: %s", d)
	}
	if len(diffs) > 0 {
		for _, t := range src {
			if s, d := showCreate(ctx, b.src, t.Table), showCreate(ctx, b.dst, t.Table); s != d {
				b.logf("  %s differs in definition:\n  source:      %s\n  destination: %s", t.Table, s, d)
			}
		}
		return
	}
	r.Verified = true
}

// verifyETL compares each sbtest table's expected rows (computed on the source)
// with the destination's: count and a sum of row checksums.
func (b *bench) verifyETL(ctx context.Context, src []benchdata.TableState) []string {
	sdb, err := b.src.Open(benchDB)
	if err != nil {
		return []string{err.Error()}
	}
	defer sdb.Close()
	ddb, err := b.dst.Open(benchDB)
	if err != nil {
		return []string{err.Error()}
	}
	defer ddb.Close()
	var diffs []string
	for _, t := range src {
		if !strings.HasPrefix(t.Table, "sbtest") {
			continue
		}
		q := testenv.QuoteIdent(t.Table)
		var wn, gn int64
		var ws, gs string
		if err := sdb.QueryRowContext(ctx, fmt.Sprintf(etlExpected, q)).Scan(&wn, &ws); err != nil {
			return []string{fmt.Sprintf("%s: expected rows: %v", t.Table, err)}
		}
		if err := ddb.QueryRowContext(ctx, fmt.Sprintf(etlActual, q)).Scan(&gn, &gs); err != nil {
			return []string{fmt.Sprintf("%s: destination rows: %v", t.Table, err)}
		}
		if wn != gn || ws != gs {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows (sum %s) expected after filter and transforms, %d (sum %s) on the destination", t.Table, wn, ws, gn, gs))
		}
	}
	return diffs
}

func (b *bench) startServers(ctx context.Context) error {
	extra := []string{
		"--innodb-buffer-pool-size=" + b.cfg.bufferPool,
		"--innodb-log-file-size=" + b.cfg.redoLog,
	}
	opts := []testenv.ServerOptions{
		{Name: "source", Binlog: true, Dir: filepath.Join(b.dir, "source"), ExtraArgs: extra},
		{Name: "destination", Dir: filepath.Join(b.dir, "destination"), ExtraArgs: extra},
	}
	servers := make([]*testenv.Server, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = testenv.StartServer(ctx, opts[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range servers {
			if s != nil {
				_ = s.Stop()
			}
		}
		return err
	}
	b.src, b.dst = servers[0], servers[1]
	var err error
	if b.srcPID, err = benchproc.ServerPID(b.src); err != nil {
		b.logf("no CPU figures for the source: %v", err)
	}
	if b.dstPID, err = benchproc.ServerPID(b.dst); err != nil {
		b.logf("no CPU figures for the destination: %v", err)
	}
	b.srcConf, b.dstConf = filepath.Join(b.dir, "source.cnf"), filepath.Join(b.dir, "destination.cnf")
	if err := writeClientConf(b.srcConf, b.src); err != nil {
		return err
	}
	return writeClientConf(b.dstConf, b.dst)
}

// machineInfo records what the numbers were measured on.
type machineInfo struct {
	Cores    int    `json:"cores"`
	CPU      string `json:"cpu"`
	MemTotal string `json:"mem_total"`
	MariaDB  string `json:"mariadb"`
	Mydumper string `json:"mydumper,omitempty"`
	Sluice   string `json:"sluice,omitempty"`
	Go       string `json:"go"`
}

func (b *bench) machineInfo(ctx context.Context) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if s, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(s), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if s, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(s), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
				break
			}
		}
	}
	if db, err := b.src.Open(""); err == nil {
		_ = db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&m.MariaDB)
		db.Close()
	}
	firstLine := func(bin string, args ...string) string {
		if bin == "" {
			return ""
		}
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			return ""
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	m.Mydumper = firstLine(b.mydumper, "--version")
	m.Sluice = strings.TrimPrefix(firstLine(b.sluiceBin, "--version"), "sluice ")
	return m
}
