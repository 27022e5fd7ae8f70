package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/testenv"
)

// Tool names, as -only takes them, in run order.
const (
	toolSluice       = "sluice"
	toolSluiceETL    = "sluice-etl"
	toolMydumper     = "mydumper"
	toolMydumperRows = "mydumper-rows"
	toolMariadbDump  = "mariadb-dump"
)

var allTools = []string{toolSluice, toolSluiceETL, toolMydumper, toolMydumperRows, toolMariadbDump}

// step is one timed part of a run (dump, load).
type step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// runResult is one tool's run.
type runResult struct {
	Tool       string             `json:"tool"`
	Command    string             `json:"command"`
	Seconds    float64            `json:"seconds"`
	Steps      []step             `json:"steps,omitempty"`
	RowsPerSec float64            `json:"rows_per_second"`
	MiBPerSec  float64            `json:"mib_per_second"`
	CPU        map[string]float64 `json:"cpu_seconds"`
	// WorkerPeakRSS is VmHWM of the plain sluice-worker (sluice only).
	WorkerPeakRSS int64 `json:"worker_peak_rss_bytes,omitempty"`
	// DevPeakRSS is VmHWM of `sluice-worker --dev` (embedded Temporal, idle task queue).
	DevPeakRSS int64           `json:"dev_peak_rss_bytes,omitempty"`
	Timeline   *timelineReport `json:"timeline,omitempty"`
	Verified   bool            `json:"verified"`
	Errors     []string        `json:"errors,omitempty"`
	// AllSeconds are the times of every repeat (-repeat); the fields above are of
	// the median run, except that Verified and Errors cover all runs and
	// WorkerPeakRSS is the highest of all runs.
	AllSeconds []float64 `json:"all_seconds,omitempty"`
	AllPeakRSS []int64   `json:"all_worker_peak_rss_bytes,omitempty"`
	// AllOtherCPU is each run's CPU used by the rest of the machine: a noisy run shows.
	AllOtherCPU []float64 `json:"all_other_cpu_seconds,omitempty"`
}

// combineRuns reduces the repeats of one tool to its median run (the lower median
// for an even count, which favours no tool: each gets the same rule).
func combineRuns(runs []*runResult) *runResult {
	sorted := append([]*runResult(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Seconds < sorted[j].Seconds })
	med := *sorted[(len(sorted)-1)/2]
	med.Errors = nil
	med.Verified = true
	for _, r := range runs {
		med.AllSeconds = append(med.AllSeconds, r.Seconds)
		if r.WorkerPeakRSS > 0 {
			med.AllPeakRSS = append(med.AllPeakRSS, r.WorkerPeakRSS)
		}
		med.AllOtherCPU = append(med.AllOtherCPU, r.CPU[otherCPU])
		med.Verified = med.Verified && r.Verified
		med.WorkerPeakRSS = max(med.WorkerPeakRSS, r.WorkerPeakRSS)
		med.DevPeakRSS = max(med.DevPeakRSS, r.DevPeakRSS)
		med.Errors = append(med.Errors, r.Errors...)
	}
	if len(runs) == 1 {
		med.AllSeconds, med.AllPeakRSS, med.AllOtherCPU = nil, nil, nil
	}
	return &med
}

func (r *runResult) fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

// writeClientConf writes a [client] option file so no password is on a command line.
func writeClientConf(path string, s *testenv.Server) error {
	conf := fmt.Sprintf("[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\nprotocol=TCP\n", s.Host, s.Port, s.RootUser, s.RootPassword)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// runMydumper dumps with mydumper to a directory, then loads it with myloader.
func (b *bench) runMydumper(ctx context.Context, r *runResult, chunkRows int) {
	dumpDir := filepath.Join(b.dir, "dump-"+r.Tool)
	if err := os.RemoveAll(dumpDir); err != nil {
		r.fail("%v", err)
		return
	}
	threads := strconv.Itoa(b.cfg.threads)
	dumpArgs := []string{"--defaults-file=" + b.srcConf, "-B", benchDB, "-t", threads, "-o", dumpDir, "-v", "2"}
	if chunkRows > 0 {
		dumpArgs = append(dumpArgs, "-r", strconv.Itoa(chunkRows))
	}
	loadArgs := []string{"--defaults-file=" + b.dstConf, "-d", dumpDir, "-t", threads, "-v", "2"}
	r.Command = "mydumper " + strings.Join(redactConf(dumpArgs), " ") + " && myloader " + strings.Join(redactConf(loadArgs), " ")
	r.CPU = map[string]float64{}
	meter := b.serverMeter()
	meter.Start()
	dump, dumpCPU, err := benchproc.Run(ctx, filepath.Join(b.logDir, r.Tool+"-dump.log"), os.Environ(), b.mydumper, dumpArgs...)
	r.Steps = append(r.Steps, step{"dump", dump.Seconds()})
	r.CPU["mydumper"] = dumpCPU
	if err != nil {
		r.fail("%v", err)
		return
	}
	load, loadCPU, err := benchproc.Run(ctx, filepath.Join(b.logDir, r.Tool+"-load.log"), os.Environ(), b.myloader, loadArgs...)
	r.Steps = append(r.Steps, step{"load", load.Seconds()})
	r.CPU["myloader"] = loadCPU
	meter.Stop(r.CPU)
	r.Seconds = (dump + load).Seconds()
	if err != nil {
		r.fail("%v", err)
	}
	if du, err := dirSize(dumpDir); err == nil {
		b.logf("  %s: dump %.2f s (%s in %s), load %.2f s", r.Tool, dump.Seconds(), humanBytes(du), dumpDir, load.Seconds())
	}
	if !b.cfg.keep {
		os.RemoveAll(dumpDir)
	}
}

// runMariadbDump pipes mariadb-dump into the mariadb client, both started at once.
func (b *bench) runMariadbDump(ctx context.Context, r *runResult) {
	dumpArgs := []string{"--defaults-extra-file=" + b.srcConf, "--single-transaction", "--master-data=2", "--gtid", "--databases", benchDB}
	loadArgs := []string{"--defaults-extra-file=" + b.dstConf}
	r.Command = "mariadb-dump " + strings.Join(redactConf(dumpArgs), " ") + " | mariadb " + strings.Join(redactConf(loadArgs), " ")
	r.CPU = map[string]float64{}
	logPath := filepath.Join(b.logDir, "mariadb-dump.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		r.fail("%v", err)
		return
	}
	defer logFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		r.fail("pipe: %v", err)
		return
	}
	dump := exec.CommandContext(ctx, b.mariadbDump, dumpArgs...)
	dump.Stdout, dump.Stderr = pw, logFile
	dump.SysProcAttr = testenv.ChildProcAttr()
	load := exec.CommandContext(ctx, b.mariadbClient, loadArgs...)
	load.Stdin, load.Stdout, load.Stderr = pr, logFile, logFile
	load.SysProcAttr = testenv.ChildProcAttr()

	meter := b.serverMeter()
	meter.Start()
	start := time.Now()
	if err := load.Start(); err != nil {
		pr.Close()
		pw.Close()
		r.fail("start mariadb: %v", err)
		return
	}
	if err := dump.Start(); err != nil {
		pr.Close()
		pw.Close()
		_ = load.Wait()
		r.fail("start mariadb-dump: %v", err)
		return
	}
	// The children hold their own ends; closing ours lets the loader see EOF.
	pr.Close()
	pw.Close()
	dumpErr := dump.Wait()
	dumpEnd := time.Since(start)
	loadErr := load.Wait()
	wall := time.Since(start)
	meter.Stop(r.CPU)
	r.Seconds = wall.Seconds()
	r.Steps = []step{{"dump (ends when the pipe drains)", dumpEnd.Seconds()}, {"dump | load", wall.Seconds()}}
	r.CPU["mariadb-dump"] = (dump.ProcessState.UserTime() + dump.ProcessState.SystemTime()).Seconds()
	r.CPU["mariadb"] = (load.ProcessState.UserTime() + load.ProcessState.SystemTime()).Seconds()
	if dumpErr != nil {
		r.fail("mariadb-dump failed: %v; end of %s:\n%s", dumpErr, logPath, benchproc.Tail(logPath, 15))
	}
	if loadErr != nil {
		r.fail("mariadb failed: %v; end of %s:\n%s", loadErr, logPath, benchproc.Tail(logPath, 15))
	}
}

// Task queues: the --dev process polls one nobody uses, so every activity and
// workflow task runs in the second, plain worker whose peak RSS is measured.
const (
	benchTaskQueue = "sluice-bench"
	idleTaskQueue  = "sluice-bench-idle"
	workflowName   = "fullbench"
)

// runSluice starts `sluice-worker --dev` (embedded Temporal), a plain worker on the
// real task queue, then times `sluice start --follow` of a schema+full workflow.
func (b *bench) runSluice(ctx context.Context, r *runResult, withETL bool) {
	r.CPU = map[string]float64{}
	port, err := freePort()
	if err != nil {
		r.fail("%v", err)
		return
	}
	address := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	uiPort := 0
	if b.cfg.ui {
		if uiPort, err = freePort(); err != nil {
			r.fail("%v", err)
			return
		}
	}
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
	dev, err := benchproc.StartProc("sluice-worker --dev", filepath.Join(b.logDir, "dev-worker.log"), env, b.workerBin,
		"--dev", "--address", address, "--ui-port", strconv.Itoa(uiPort), "--data-dir", dataDir,
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
	if b.cfg.ui {
		b.logf("  Temporal Web UI: http://127.0.0.1:%d", uiPort)
	}
	// The worker resolves ${NAME} passwords from its own environment, as in production.
	wenv := append(append(env, b.cfg.workerEnv...), "BENCH_SRC_PASSWORD="+b.src.RootPassword, "BENCH_DST_PASSWORD="+b.dst.RootPassword)
	w, err := benchproc.StartProc("sluice-worker", filepath.Join(b.logDir, "worker.log"), wenv, b.workerBin,
		"--address", address, "--task-queue", benchTaskQueue, "--log-format", "json")
	if err != nil {
		r.fail("%v", err)
		return
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = w.Stop(time.Minute)
		}
	}()
	if err := w.WaitForLog(ctx, `"worker started"`, 2*time.Minute); err != nil {
		r.fail("%v", err)
		return
	}

	file := filepath.Join(b.dir, workflowName+".yaml")
	if err := os.WriteFile(file, []byte(b.workflowFile(withETL)), 0o600); err != nil {
		r.fail("write the workflow file: %v", err)
		return
	}
	args := []string{"start", "-f", file, "--follow", "--address", address, "--task-queue", benchTaskQueue}
	r.Command = "sluice " + strings.Join(args, " ")

	meter := b.serverMeter()
	meter.Add("sluice-worker", w.PID())
	meter.Add("sluice-worker --dev", dev.PID())
	meter.Start()
	sampler := sampleRSS(w.PID(), 100*time.Millisecond)
	wall, cliCPU, err := benchproc.Run(ctx, filepath.Join(b.logDir, "sluice-start.log"), env, b.sluiceBin, args...)
	meter.Stop(r.CPU)
	samples := sampler.finish()
	r.CPU["sluice (CLI)"] = cliCPU
	r.Seconds = wall.Seconds()
	if err != nil {
		r.fail("%v", err)
	}
	// Peak RSS must be read while the processes live: /proc forgets them at exit.
	if rss, err := benchproc.PeakRSS(w.PID()); err != nil {
		r.fail("worker peak RSS: %v", err)
	} else {
		r.WorkerPeakRSS = rss
	}
	if rss, err := benchproc.PeakRSS(dev.PID()); err == nil {
		r.DevPeakRSS = rss
	}
	if tl, err := b.sluiceTimeline(ctx, address); err != nil {
		b.logf("  timeline from Temporal history: %v", err)
	} else {
		for _, groups := range [][]phaseStat{tl.ByType, tl.ByTable} {
			for i := range groups {
				groups[i].PeakRSSMiB = float64(maxRSS(samples, groups[i].first, groups[i].last)) / mib
			}
		}
		r.Timeline = tl
	}
	stopped = true
	if err := w.Stop(time.Minute); err != nil {
		b.logf("  %v", err)
	}
	if n := countLogErrors(w.LogPath()); n > 0 {
		b.logf("  the worker logged %d error line(s): see %s", n, w.LogPath())
	}
}

// The sluice-etl run: a filter keeping 90% of the sbtest rows (evaluated in Go:
// `%` has no pushdown) and transforms of three columns. etlExpected computes,
// on the source, what the destination must then hold.
const (
	etlEntry = `      - name: "sbtest*"
        filter: 'row.k % 10 != 0'
        transform:
          k: 'row.k + 1'
          c: 'row.c.upperAscii()'
          pad: 'sha256(row.pad).substring(0, 60)'
`
	etlExpected = "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, k + 1, UPPER(c), LEFT(SHA2(pad, 256), 60)))), 0) FROM %s WHERE k %% 10 <> 0"
	etlActual   = "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, k, c, pad))), 0) FROM %s"
)

// workflowFile is the schema+full workflow for the benchmark database.
func (b *bench) workflowFile(withETL bool) string {
	tables := "    tables: [\"*\"]\n"
	if withETL {
		tables = "    tables:\n" + etlEntry + "      - \"*\"\n"
	}
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
%s%s`, workflowName, b.src.Host, b.src.Port, b.src.RootUser, b.dst.Host, b.dst.Port, b.dst.RootUser, benchDB, tables, opts)
}

// sluiceTimeline reads the finished workflow's history from the embedded server.
func (b *bench) sluiceTimeline(ctx context.Context, address string) (*timelineReport, error) {
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tl, err := readTimeline(ctx, c, "sluice-"+workflowName)
	if err != nil {
		return nil, err
	}
	rep := summarize(tl)
	return &rep, nil
}

// quietLogger drops the SDK client's own log lines (the benchmark prints its own).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// countLogErrors counts JSON log lines at level error or above.
func countLogErrors(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"dpanic"`) ||
			strings.Contains(line, `"level":"panic"`) || strings.Contains(line, `"level":"fatal"`) {
			n++
		}
	}
	return n
}

// serverMeter measures both MariaDB servers' CPU.
func (b *bench) serverMeter() *benchproc.Meter {
	m := &benchproc.Meter{Other: otherCPU}
	m.Add("source mariadbd", b.srcPID)
	m.Add("destination mariadbd", b.dstPID)
	return m
}

// redactConf shortens option-file paths in printed commands (they hold passwords,
// not the command line, but the temp path is noise).
func redactConf(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasSuffix(v, ".cnf") {
			a = k + "=" + filepath.Base(v)
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

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

func humanBytes(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}
