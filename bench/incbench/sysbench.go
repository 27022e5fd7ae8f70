package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/testenv"
)

// sysbenchUser is the source account sysbench writes with: privileges on the
// benchmark database only, its password in a 0600 --config-file, never on a
// command line.
const sysbenchUser = "sysbench"

// writeSysbenchConf creates the sysbench account and the option file holding
// the connection settings.
func (b *bench) writeSysbenchConf(ctx context.Context) error {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("sysbench password: %w", err)
	}
	pw := hex.EncodeToString(raw)
	acct := testenv.QuoteString(sysbenchUser) + "@'127.0.0.1'"
	if err := b.src.Exec(ctx,
		"CREATE USER "+acct+" IDENTIFIED BY "+testenv.QuoteString(pw),
		"GRANT ALL PRIVILEGES ON "+testenv.QuoteIdent(benchDB)+".* TO "+acct); err != nil {
		return err
	}
	b.sbConf = filepath.Join(b.dir, "sysbench.conf")
	conf := fmt.Sprintf("db-driver=mysql\nmysql-host=%s\nmysql-port=%d\nmysql-user=%s\nmysql-password=%s\nmysql-db=%s\n",
		b.src.Host, b.src.Port, sysbenchUser, pw, benchDB)
	if err := os.WriteFile(b.sbConf, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", b.sbConf, err)
	}
	return nil
}

// sysbenchArgs is the command line of `sysbench oltp_write_only <command>`.
func (b *bench) sysbenchArgs(command string, extra ...string) []string {
	args := []string{"--config-file=" + b.sbConf, "oltp_write_only",
		"--tables=" + strconv.Itoa(b.cfg.tables), "--table-size=" + strconv.Itoa(b.cfg.tableSize)}
	args = append(args, extra...)
	return append(args, command)
}

// runSysbench runs sysbench to its end with its output in logName, and parses
// the summary of a run (prepare prints none: a zero result).
func (b *bench) runSysbench(ctx context.Context, command, logName string, extra ...string) (sysbenchResult, error) {
	logPath := filepath.Join(b.logDir, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return sysbenchResult{}, err
	}
	defer logFile.Close()
	args := b.sysbenchArgs(command, extra...)
	cmd := exec.CommandContext(ctx, b.sysbench, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = testenv.ChildProcAttr()
	t0 := time.Now()
	err = cmd.Run()
	wall := time.Since(t0)
	res := sysbenchResult{Command: "sysbench " + strings.Join(args, " "), WallSeconds: wall.Seconds()}
	if cmd.ProcessState != nil {
		res.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		return res, fmt.Errorf("sysbench %s failed: %w; end of %s:\n%s", command, err, logPath, benchproc.Tail(logPath, 15))
	}
	if command != "run" {
		return res, nil
	}
	out, err := os.ReadFile(logPath)
	if err != nil {
		return res, err
	}
	if err := parseSysbench(string(out), &res); err != nil {
		return res, fmt.Errorf("sysbench %s output (%s): %w", command, logPath, err)
	}
	return res, nil
}

// sysbenchResult is the summary sysbench prints after a run.
type sysbenchResult struct {
	Command       string  `json:"command"`
	WallSeconds   float64 `json:"wall_seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	Transactions  int64   `json:"transactions"`
	TPS           float64 `json:"transactions_per_second"`
	Writes        int64   `json:"write_queries"`
	IgnoredErrors int64   `json:"ignored_errors"`
	Seconds       float64 `json:"total_time_seconds"`
	LatencyAvgMs  float64 `json:"latency_avg_ms"`
	LatencyP95Ms  float64 `json:"latency_p95_ms"`
	LatencyMaxMs  float64 `json:"latency_max_ms"`
}

var (
	sbTransactions = regexp.MustCompile(`(?m)^\s*transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)`)
	sbWrites       = regexp.MustCompile(`(?m)^\s*write:\s+(\d+)\s*$`)
	sbIgnored      = regexp.MustCompile(`(?m)^\s*ignored errors:\s+(\d+)`)
	sbTotalTime    = regexp.MustCompile(`(?m)^\s*total time:\s+([\d.]+)s`)
	sbAvg          = regexp.MustCompile(`(?m)^\s*avg:\s+([\d.]+)\s*$`)
	sbMax          = regexp.MustCompile(`(?m)^\s*max:\s+([\d.]+)\s*$`)
	sbP95          = regexp.MustCompile(`(?m)^\s*95th percentile:\s+([\d.]+)\s*$`)
)

// parseSysbench reads sysbench 1.0's run summary.
func parseSysbench(out string, r *sysbenchResult) error {
	m := sbTransactions.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("no \"transactions:\" line")
	}
	r.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	r.TPS, _ = strconv.ParseFloat(m[2], 64)
	intOf := func(re *regexp.Regexp) int64 {
		if m := re.FindStringSubmatch(out); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
		return 0
	}
	floatOf := func(re *regexp.Regexp) float64 {
		if m := re.FindStringSubmatch(out); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			return f
		}
		return 0
	}
	r.Writes = intOf(sbWrites)
	r.IgnoredErrors = intOf(sbIgnored)
	r.Seconds = floatOf(sbTotalTime)
	r.LatencyAvgMs = floatOf(sbAvg)
	r.LatencyMaxMs = floatOf(sbMax)
	r.LatencyP95Ms = floatOf(sbP95)
	return nil
}
