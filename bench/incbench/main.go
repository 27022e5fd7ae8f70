// Command incbench is the incremental-replication benchmark of issue 5
// (`make bench-incremental`): on one set of MariaDB servers it builds a binlog
// backlog with sysbench oltp_write_only, then times sluice's applier (in process:
// binlog.Stream + applier) and a native MariaDB replica (parallel, optimistic)
// applying the same backlog, verifies both with CHECKSUM TABLE, measures sluice's
// end-to-end lag at a steady sysbench rate with probe rows, and reports the
// process's peak RSS. See bench/README.md.
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

	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/testenv"
)

const mib = 1 << 20

// Phases, as -only takes them, in run order.
const (
	phaseSluice = "sluice" // catch-up by sluice's applier
	phaseNative = "native" // catch-up by a MariaDB replica
	phaseSteady = "steady" // sluice's lag at a fixed rate (needs sluice)
)

var allPhases = []string{phaseSluice, phaseNative, phaseSteady}

type config struct {
	tables        int
	tableSize     int
	threads       int
	backlog       time.Duration
	slots         int
	nativeThreads int
	nativeMode    string
	rate          int
	steady        time.Duration
	probeEvery    time.Duration
	probePoll     time.Duration
	steadyNative  bool
	only          []string
	json          bool
	keep          bool
	bufferPool    string
	redoLog       string
	timeout       time.Duration
	cpuProfile    string
	memProfile    string
	epochTxns     int
	epochBytes    int
	epochWait     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("incbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.tables, "tables", 8, "sysbench --tables")
	fs.IntVar(&cfg.tableSize, "table-size", 100_000, "sysbench --table-size (rows per table)")
	fs.IntVar(&cfg.threads, "threads", 4, "sysbench --threads of the backlog and steady-state runs")
	fs.DurationVar(&cfg.backlog, "backlog", 30*time.Second, "how long sysbench writes while nothing replicates (the catch-up backlog)")
	fs.IntVar(&cfg.slots, "slots", 4, "sluice applier slots (parallel destination connections)")
	fs.IntVar(&cfg.nativeThreads, "native-threads", 4, "slave_parallel_threads of the native replica")
	fs.StringVar(&cfg.nativeMode, "native-mode", "optimistic", "slave_parallel_mode of the native replica (optimistic, conservative, aggressive, minimal, none)")
	fs.IntVar(&cfg.rate, "rate", 200, "sysbench --rate (transactions/s) of the steady-state run")
	fs.DurationVar(&cfg.steady, "steady", 30*time.Second, "duration of the steady-state run")
	fs.DurationVar(&cfg.probeEvery, "probe-every", 100*time.Millisecond, "steady state: one probe row inserted on the source this often")
	fs.DurationVar(&cfg.probePoll, "probe-poll", 10*time.Millisecond, "steady state: how often the destination is polled for new probe rows (the lag's resolution)")
	fs.BoolVar(&cfg.steadyNative, "steady-native", true, "keep the native replica running during the steady state and measure its lag with the same probes")
	only := fs.String("only", "", "comma list of phases: "+strings.Join(allPhases, ",")+" (default all; steady needs sluice)")
	fs.BoolVar(&cfg.json, "json", false, "print the results as JSON on stdout (progress still goes to stderr)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (server data, dump, logs) and print its path")
	fs.StringVar(&cfg.bufferPool, "buffer-pool", "1G", "innodb_buffer_pool_size of every server")
	fs.StringVar(&cfg.redoLog, "redo-log", "256M", "innodb_log_file_size of every server")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "limit of each catch-up run and of the steady-state phase")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of sluice's catch-up (this process) to FILE (go tool pprof FILE)")
	fs.StringVar(&cfg.memProfile, "memprofile", "", "write a heap profile taken at the end of sluice's catch-up to FILE")
	fs.IntVar(&cfg.epochTxns, "epoch-txns", 0, "applier Config.EpochTxns (0 = the applier's default)")
	fs.IntVar(&cfg.epochBytes, "epoch-bytes", 0, "applier Config.EpochBytes (0 = the applier's default)")
	fs.DurationVar(&cfg.epochWait, "epoch-wait", 0, "applier Config.EpochWait (0 = the applier's default)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"-tables", cfg.tables}, {"-table-size", cfg.tableSize}, {"-threads", cfg.threads}, {"-slots", cfg.slots}, {"-native-threads", cfg.nativeThreads}, {"-rate", cfg.rate}} {
		if c.v < 1 {
			return cfg, fmt.Errorf("%s must be at least 1, got %d", c.name, c.v)
		}
	}
	if cfg.backlog < time.Second || cfg.steady < time.Second {
		return cfg, errors.New("-backlog and -steady must be at least 1s (sysbench --time counts whole seconds)")
	}
	if cfg.probeEvery <= 0 || cfg.probePoll <= 0 {
		return cfg, errors.New("-probe-every and -probe-poll must be positive")
	}
	switch cfg.nativeMode {
	case "optimistic", "conservative", "aggressive", "minimal", "none":
	default:
		return cfg, fmt.Errorf("-native-mode %q: want optimistic, conservative, aggressive, minimal or none", cfg.nativeMode)
	}
	phases, err := parseOnly(*only)
	if err != nil {
		return cfg, err
	}
	cfg.only = phases
	return cfg, nil
}

// parseOnly turns -only into the phases to run, in the fixed run order.
func parseOnly(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return allPhases, nil
	}
	want := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		known := false
		for _, a := range allPhases {
			known = known || a == p
		}
		if !known {
			return nil, fmt.Errorf("-only: unknown phase %q (want some of %s)", p, strings.Join(allPhases, ","))
		}
		want[p] = true
	}
	if want[phaseSteady] && !want[phaseSluice] {
		return nil, errors.New("-only: steady needs sluice (the steady state continues from sluice's catch-up)")
	}
	var out []string
	for _, a := range allPhases {
		if want[a] {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-only names no phase")
	}
	return out, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "incbench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, os.Stdout, os.Stderr))
}

// bench is one benchmark: the servers, the tools, where files go.
type bench struct {
	cfg     config
	dir     string
	logDir  string
	src     *testenv.Server
	dst     *testenv.Server
	replica *testenv.Server // nil without the native phase
	pids    map[string]int  // mariadbd pids by server name, for CPU figures

	sysbench, mariadbDump, mariadbClient string
	sbConf                               string // sysbench --config-file (connection options, 0600)

	stderr  io.Writer
	started time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) wants(phase string) bool {
	for _, p := range b.cfg.only {
		if p == phase {
			return true
		}
	}
	return false
}

// run returns the exit status: 0 when every phase ran and verified, 1 otherwise.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	b := &bench{cfg: cfg, stderr: stderr, started: time.Now(), pids: map[string]int{}}
	if err := b.findTools(); err != nil {
		fmt.Fprintf(stderr, "incbench: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sluice-incbench-")
	if err != nil {
		fmt.Fprintf(stderr, "incbench: %v\n", err)
		return 1
	}
	b.dir, b.logDir = dir, filepath.Join(dir, "logs")
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stderr, "incbench: kept %s (logs in %s)\n", dir, b.logDir)
			return
		}
		os.RemoveAll(dir)
	}()
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		fmt.Fprintf(stderr, "incbench: %v\n", err)
		return 1
	}
	rep, err := b.execute(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "incbench: %v\n", err)
		if !cfg.keep {
			fmt.Fprintln(stderr, "incbench: rerun with -keep to keep the logs")
		}
		return 1
	}
	if cfg.json {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "incbench: %v\n", err)
			return 1
		}
	} else {
		writeText(stdout, rep)
	}
	if !rep.OK {
		fmt.Fprintln(stderr, "incbench: FAILED: a phase failed or a copy differs from the source (see above)")
		return 1
	}
	return 0
}

// findTools resolves sysbench and the MariaDB client tools, with install hints.
func (b *bench) findTools() error {
	var missing []string
	look := func(dst *string, hint string, names ...string) {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				*dst = p
				return
			}
		}
		missing = append(missing, names[0]+" ("+hint+")")
	}
	look(&b.sysbench, "run `make bench-deps` (root), or apt-get install -y sysbench", "sysbench")
	look(&b.mariadbDump, "apt-get install -y mariadb-client, or `make mariadb`", "mariadb-dump", "mysqldump")
	look(&b.mariadbClient, "apt-get install -y mariadb-client, or `make mariadb`", "mariadb", "mysql")
	if len(missing) > 0 {
		return fmt.Errorf("missing:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}

// startServers starts the source (binlog), sluice's destination and, for the
// native phase, the replica, in parallel, with the same InnoDB sizes.
func (b *bench) startServers(ctx context.Context) error {
	extra := []string{
		"--innodb-buffer-pool-size=" + b.cfg.bufferPool,
		"--innodb-log-file-size=" + b.cfg.redoLog,
	}
	opts := []testenv.ServerOptions{
		{Name: "source", Binlog: true, Dir: filepath.Join(b.dir, "source"), ExtraArgs: extra},
		{Name: "destination", Dir: filepath.Join(b.dir, "destination"), ExtraArgs: extra},
	}
	if b.wants(phaseNative) {
		// No binlog of its own, like sluice's destination; a fixed relay log name
		// (the default is derived from the host name).
		opts = append(opts, testenv.ServerOptions{Name: "replica", Dir: filepath.Join(b.dir, "replica"),
			ExtraArgs: append(append([]string{}, extra...), "--relay-log=relay-bin", "--skip-slave-start")})
	}
	servers := make([]*testenv.Server, len(opts))
	errs := make([]error, len(opts))
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
	if len(servers) > 2 {
		b.replica = servers[2]
	}
	for _, s := range servers {
		pid, err := benchproc.ServerPID(s)
		if err != nil {
			b.logf("no CPU figures for the %s: %v", s.Name, err)
			continue
		}
		b.pids[s.Name] = pid
	}
	return nil
}

func (b *bench) servers() []*testenv.Server {
	out := []*testenv.Server{b.src, b.dst}
	if b.replica != nil {
		out = append(out, b.replica)
	}
	return out
}

func (b *bench) stopServers() {
	var wg sync.WaitGroup
	for _, s := range b.servers() {
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Stop(); err != nil {
				b.logf("%v", err)
			}
		}()
	}
	wg.Wait()
}

// machineInfo records what the numbers were measured on.
type machineInfo struct {
	Cores    int    `json:"cores"`
	CPU      string `json:"cpu"`
	MemTotal string `json:"mem_total"`
	MariaDB  string `json:"mariadb"`
	Sysbench string `json:"sysbench"`
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
		if kb, err := benchproc.ParseStatusKB(string(s), "MemTotal:"); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<30))
		}
	}
	if db, err := b.src.Open(""); err == nil {
		_ = db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&m.MariaDB)
		db.Close()
	}
	if out, err := exec.CommandContext(ctx, b.sysbench, "--version").Output(); err == nil {
		m.Sysbench = strings.TrimSpace(string(out))
	}
	return m
}
