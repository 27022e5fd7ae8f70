// Command verifybench is the verification benchmark of issue 8 (`make bench-verify`):
// on one MariaDB pair holding the same sbtest dataset it times `sluice verify`,
// pt-table-checksum (run on each server, its per-chunk results compared) and
// CHECKSUM TABLE on both servers, checks that each says "equal", and prints rows/s
// and the ratios against the targets. See bench/README.md.
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

type config struct {
	rows           int
	tables         int
	repeat         int
	json           bool
	keep           bool
	binDir         string
	timeout        time.Duration
	chunkRows      int
	sluiceParallel int
	only           []string
	bufferPool     string
	redoLog        string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("verifybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.rows, "rows", 500_000, "rows per sbtest table")
	fs.IntVar(&cfg.tables, "tables", 4, "sbtest tables")
	fs.IntVar(&cfg.repeat, "repeat", 1, "rounds (tools interleave within a round); each tool's median run is reported")
	fs.BoolVar(&cfg.json, "json", false, "print the results as JSON on stdout (progress still goes to stderr)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (server data, logs, workflow file, reports) and print its path")
	fs.StringVar(&cfg.binDir, "bin", "bin", "directory of the sluice and sluice-worker binaries (make build)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "limit for each run")
	fs.IntVar(&cfg.chunkRows, "chunk-rows", 20000, "rows per range: sluice verify --chunk-rows and pt-table-checksum --chunk-size")
	fs.IntVar(&cfg.sluiceParallel, "sluice-parallel", 0, "options.full.parallel of the workflow (ranges compared at once); 0 = sluice's default")
	only := fs.String("only", "", "comma list of runs: "+strings.Join(allTools, ",")+" (default all)")
	fs.StringVar(&cfg.bufferPool, "buffer-pool", "1G", "innodb_buffer_pool_size of both servers")
	fs.StringVar(&cfg.redoLog, "redo-log", "256M", "innodb_log_file_size of both servers")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case cfg.rows < 1:
		return cfg, fmt.Errorf("-rows must be at least 1, got %d", cfg.rows)
	case cfg.tables < 1:
		return cfg, fmt.Errorf("-tables must be at least 1, got %d", cfg.tables)
	case cfg.repeat < 1:
		return cfg, fmt.Errorf("-repeat must be at least 1, got %d", cfg.repeat)
	case cfg.chunkRows < 1:
		return cfg, fmt.Errorf("-chunk-rows must be at least 1, got %d", cfg.chunkRows)
	}
	var err error
	cfg.only, err = parseOnly(*only)
	return cfg, err
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
		fmt.Fprintf(os.Stderr, "verifybench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdout, os.Stderr))
}

// bench is one benchmark: the servers, the tools found, where files go.
type bench struct {
	cfg              config
	dir, logDir      string
	src, dst         *testenv.Server
	srcPID, dstPID   int
	srcConf, dstConf string

	sluiceBin, workerBin, ptBin string

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

// run returns the exit status: 0 when every run succeeded and said "equal", 1 otherwise.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	b := &bench{cfg: cfg, stderr: stderr, started: time.Now()}
	if err := b.findTools(); err != nil {
		fmt.Fprintf(stderr, "verifybench: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sluice-verifybench-")
	if err != nil {
		fmt.Fprintf(stderr, "verifybench: %v\n", err)
		return 1
	}
	b.dir, b.logDir = dir, filepath.Join(dir, "logs")
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stderr, "verifybench: kept %s (logs in %s)\n", dir, b.logDir)
			return
		}
		os.RemoveAll(dir)
	}()
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "verifybench: %v\n", err)
		return 1
	}
	rep, err := b.execute(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "verifybench: %v\n", err)
		if !cfg.keep {
			fmt.Fprintln(stderr, "verifybench: rerun with -keep to keep the logs")
		}
		return 1
	}
	if cfg.json {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "verifybench: %v\n", err)
			return 1
		}
	} else {
		writeText(stdout, rep)
	}
	if !rep.OK {
		fmt.Fprintln(stderr, "verifybench: FAILED: a run failed or did not find the copies equal (see above)")
		return 1
	}
	return 0
}

// findTools resolves the binaries the selected runs need, with install hints.
func (b *bench) findTools() error {
	var missing []string
	if b.wants(toolSluice) || b.wants(toolSluiceRanges) {
		for _, p := range []*string{&b.sluiceBin, &b.workerBin} {
			name := "sluice"
			if p == &b.workerBin {
				name = "sluice-worker"
			}
			*p = filepath.Join(b.cfg.binDir, name)
			if _, err := os.Stat(*p); err != nil {
				missing = append(missing, *p+" (run `make build`, or pass -bin DIR)")
			}
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	if b.wants(toolPT) {
		p, err := exec.LookPath("pt-table-checksum")
		if err != nil {
			missing = append(missing, "pt-table-checksum (sudo make bench-deps, or apt-get install -y percona-toolkit; or leave it out with -only)")
		}
		b.ptBin = p
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}

func (b *bench) execute(ctx context.Context) (*report, error) {
	rep := &report{Dataset: dataset{Tables: b.cfg.tables, RowsPerTable: b.cfg.rows}, Parameters: map[string]any{
		"rows": b.cfg.rows, "tables": b.cfg.tables, "repeat": b.cfg.repeat, "chunk_rows": b.cfg.chunkRows,
		"sluice_parallel": b.cfg.sluiceParallel, "runs": b.cfg.only, "buffer_pool": b.cfg.bufferPool, "redo_log": b.cfg.redoLog,
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

	b.logf("generating %s on both servers: %d × sbtest (%d rows each)", benchDB, b.cfg.tables, b.cfg.rows)
	t0 := time.Now()
	if err := generateBoth(ctx, b.src, b.dst, b.cfg.tables, b.cfg.rows); err != nil {
		return nil, err
	}
	rep.GenerateS = time.Since(t0).Seconds()
	// Also warms both buffer pools: every run reads rows that are in memory.
	srcState, err := benchdata.Snapshot(ctx, b.src, benchDB)
	if err != nil {
		return nil, err
	}
	dstState, err := benchdata.Snapshot(ctx, b.dst, benchDB)
	if err != nil {
		return nil, err
	}
	if diffs := benchdata.CompareStates(srcState, dstState); len(diffs) > 0 {
		return nil, fmt.Errorf("the generated copies differ before any run:\n  %s", strings.Join(diffs, "\n  "))
	}
	rep.Tables = srcState
	if rep.Source, err = benchdata.Measure(ctx, b.src, benchDB, srcState); err != nil {
		return nil, err
	}
	b.logf("both servers: %d rows, data %s + indexes %s each; COUNT(*) and CHECKSUM TABLE equal; generated in %.1f s",
		rep.Source.Rows, humanBytes(rep.Source.DataBytes), humanBytes(rep.Source.IndexBytes), rep.GenerateS)

	runs := map[string][]*runResult{}
	for round := 1; round <= b.cfg.repeat; round++ {
		for _, tool := range b.cfg.only {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r := &runResult{Tool: tool, CPU: map[string]float64{}}
			runs[tool] = append(runs[tool], r)
			b.settle(ctx)
			if b.cfg.repeat > 1 {
				b.logf("run %s (round %d of %d)", tool, round, b.cfg.repeat)
			} else {
				b.logf("run %s", tool)
			}
			rctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
			switch tool {
			case toolSluice, toolSluiceRanges:
				b.runSluice(rctx, r, round, rep.Source.Rows, sluiceArgs(tool)...)
			case toolPT:
				b.runPT(rctx, r, rep.Source.Rows)
			case toolChecksumTable:
				b.runChecksumTable(rctx, r)
			}
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			benchproc.SettleOther(r.CPU, otherCPU)
			status := "equal"
			if !r.Equal || len(r.Errors) > 0 {
				status = "FAILED"
			}
			b.logf("  %s: %.2f s, %s %s", tool, r.Seconds, status, r.Detail)
			for _, e := range r.Errors {
				b.logf("  error: %s", e)
			}
		}
	}
	rep.OK = true
	for _, tool := range b.cfg.only {
		r := combineRuns(runs[tool])
		r.setRate(rep.Source.Rows)
		rep.OK = rep.OK && r.Equal && len(r.Errors) == 0
		rep.Results = append(rep.Results, r)
	}
	rep.Targets = evaluateTargets(rep.Results)
	return rep, nil
}

// settle lets the servers finish background flushing before a run.
func (b *bench) settle(ctx context.Context) {
	benchproc.SettleAll(ctx, []*testenv.Server{b.src, b.dst}, b.logf)
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

// writeClientConf writes a [client] option file so no password is on a command line.
func writeClientConf(path string, s *testenv.Server) error {
	conf := fmt.Sprintf("[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\n", s.Host, s.Port, s.RootUser, s.RootPassword)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// machineInfo records what the numbers were measured on.
type machineInfo struct {
	Cores    int    `json:"cores"`
	CPU      string `json:"cpu"`
	MemTotal string `json:"mem_total"`
	MariaDB  string `json:"mariadb"`
	PT       string `json:"pt_table_checksum,omitempty"`
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
	m.PT = firstLine(b.ptBin, "--version")
	m.Sluice = strings.TrimPrefix(firstLine(b.sluiceBin, "--version"), "sluice ")
	return m
}
