package itest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

var (
	workerBinOnce sync.Once
	workerBin     string
	workerBinErr  error
)

// buildWorker builds the real sluice-worker binary once per test binary: the kill
// test needs a separate process it can SIGKILL.
func buildWorker(t *testing.T) string {
	t.Helper()
	workerBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-itest-bin-")
		if err != nil {
			workerBinErr = err
			return
		}
		workerBin = filepath.Join(dir, "sluice-worker")
		cmd := exec.Command("go", "build", "-o", workerBin, "./worker")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			workerBinErr = fmt.Errorf("go build ./worker: %w\n%s", err, out)
		}
	})
	if workerBinErr != nil {
		t.Fatal(workerBinErr)
	}
	return workerBin
}

// workerProcess is a running sluice-worker; done closes once it has exited.
type workerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startWorkerProcess runs sluice-worker against the test's Temporal server, its
// output appended to logPath.
func startWorkerProcess(t *testing.T, bin, address, queue, logPath string, env []string, args ...string) *workerProcess {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--address", address, "--namespace", "default", "--task-queue", queue, "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start sluice-worker: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return &workerProcess{cmd: cmd, done: done}
}

// Issue 4 and issue 7, "Done means": two worker processes on one task queue
// share the chunks (each runs at most two at a time, the copy four) and the
// task's throttle (changed while they run: together they copy at the limit);
// one is killed with SIGKILL in the middle of a large table's copy and the other
// finishes the migration with exactly the source's rows, re-running only the
// chunks that were in flight on the dead one.
func TestKillWorkerMidCopy(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	bin := buildWorker(t)
	ctx := context.Background()
	const (
		queue    = "sluice-kill"
		srcDB    = "itk_src"
		dstDB    = "itk dst"
		parallel = 4
		bigRows  = 400000
	)
	drop := func() {
		env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+srcDB)
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+dstDB+"`")
	}
	drop()
	t.Cleanup(drop)
	if err := env.Source.Exec(ctx, "CREATE DATABASE "+srcDB,
		// Small tables first (tables are copied in name order): their chunks finish
		// before the kill and must not be copied again.
		"CREATE TABLE "+srcDB+".a_small (id INT PRIMARY KEY, v VARCHAR(40))",
		"INSERT INTO "+srcDB+".a_small SELECT seq, CONCAT('v', seq) FROM "+srcDB+".seq_1_to_5000",
		"CREATE TABLE "+srcDB+".b_big (id BIGINT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL, amount DECIMAL(12,2))",
		fmt.Sprintf("INSERT INTO %s.b_big SELECT CAST(seq AS SIGNED) * 3 - 1000, seq %% 1013, REPEAT(CHAR(97 + seq %% 26), 60), seq / 100 FROM %s.seq_1_to_%d", srcDB, srcDB, bigRows),
	); err != nil {
		t.Fatal(err)
	}
	// The throttle keeps the big copy running for several seconds so the kill lands
	// in the middle of it whatever the machine's speed.
	file := writeFile(t, "kill", fmt.Sprintf(`name: kill
source: {host: %s, port: %d, user: %s, password: "${SRC_KILL_PW}"}
destination: {host: %s, port: %d, user: %s, password: "${DST_KILL_PW}"}
types: [schema, full]
objects:
  - database: %s
    to: %s
    tables: ["*"]
options:
  full: {parallel: %d}
  throttle: {full: {rps: 12000}}
`, env.Source.Host, env.Source.Port, env.Source.RootUser, env.Destination.Host, env.Destination.Port, env.Destination.RootUser,
		srcDB, dstDB, parallel))
	secrets := []string{"SRC_KILL_PW=" + env.Source.RootPassword, "DST_KILL_PW=" + env.Destination.RootPassword}
	logPath := filepath.Join(t.TempDir(), "worker.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("worker log:\n%s", b)
		}
	})
	w1 := startWorkerProcess(t, bin, s.srv.FrontendAddress(), queue, logPath, secrets, "--max-concurrent-activities", "2")
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	w2 := startWorkerProcess(t, bin, s.srv.FrontendAddress(), queue, logPath, secrets, "--max-concurrent-activities", "2", "--metrics-listen", metricsAddr)
	// The SDK's default identity of a worker is pid@host@.
	identity := func(w *workerProcess) string { return fmt.Sprintf("%d@", w.cmd.Process.Pid) }

	if code, _, _ := s.sluiceOn(t, queue, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	const parent, child = "sluice-kill", "sluice-kill-full"

	src, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()

	// Wait until a chunk of the big table has committed a page (its heartbeat carries
	// a cursor), then kill the worker without warning.
	inFlight := map[string]bool{}
	deadline := time.Now().Add(90 * time.Second)
	for len(inFlight) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for a CopyRange activity with heartbeat details")
		}
		time.Sleep(50 * time.Millisecond)
		d, err := s.client.DescribeWorkflowExecution(ctx, child, "")
		if err != nil {
			continue
		}
		if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Fatalf("the full copy ended (%s) before the worker could be killed", st)
		}
		var hb bool
		ids := map[string]bool{}
		holders := map[string]bool{}
		for _, pa := range d.GetPendingActivities() {
			if pa.GetActivityType().GetName() != "CopyRange" {
				continue
			}
			ids[pa.GetActivityId()] = true
			if pa.GetHeartbeatDetails() != nil {
				hb = true
			}
			if pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED {
				holders[pa.GetLastWorkerIdentity()] = true
			}
		}
		// The heartbeat may come from the small table; wait for the big one's
		// pages too, and for both workers to run chunks.
		if hb && len(holders) == 2 && destRows(t, dst, "`"+dstDB+"`.b_big") >= 10000 {
			inFlight = ids
		}
	}
	// The limit is the task's, shared by the two processes' chunks: a change
	// reaches both, and together they copy at it (the destination counts).
	const limit = 6000
	if code, _, _ := s.sluiceOn(t, queue, "throttle", parent, "--full-rps", fmt.Sprint(limit)); code != 0 {
		t.Fatalf("throttle: exit %d", code)
	}
	time.Sleep(5 * time.Second)
	within(t, "two workers throttled together", measureRate(dst, "`"+dstDB+"`.b_big", 4*time.Second), limit)
	if err := w1.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL the worker: %v", err)
	}
	<-w1.done
	killedAt := time.Now()
	t.Logf("killed worker %s with CopyRange activities %v in flight on both workers", identity(w1), setKeys(inFlight))

	n := destRows(t, dst, "`"+dstDB+"`.b_big")
	if n == 0 || n >= bigRows {
		t.Fatalf("at the kill the destination holds %d of %d rows; want some but not all", n, bigRows)
	}
	t.Logf("at the kill the destination holds %d of %d rows", n, bigRows)

	// The other worker takes over the killed chunks once their heartbeat times
	// out (1 minute); the rest at full speed.
	if code, _, _ := s.sluiceOn(t, queue, "throttle", parent, "--full-rps", "0"); code != 0 {
		t.Fatalf("throttle: exit %d", code)
	}
	wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(wctx, parent, "").Get(wctx, &res); err != nil {
		t.Fatalf("migration after the restart: %v", err)
	}
	t.Logf("the migration finished %s after the kill", time.Since(killedAt).Round(time.Second))
	// The totals count every row once across attempts (the heartbeat carries the
	// rows copied before the cursor to the retry).
	if res.Full == nil || res.Full.Totals.Rows != bigRows+5000 {
		t.Errorf("workflow totals %+v, want %d rows", res.Full, bigRows+5000)
	}

	for _, c := range []struct{ table, cols string }{
		{"a_small", "id, v"},
		{"b_big", "id, k, pad, HEX(amount)"},
	} {
		sn, ss := checksum(t, src, srcDB+"."+c.table, c.cols)
		dn, ds := checksum(t, dst, "`"+dstDB+"`."+c.table, c.cols)
		if sn != dn || ss != ds || sn == "0" {
			t.Errorf("%s: source %s rows (sum %s), destination %s rows (sum %s)", c.table, sn, ss, dn, ds)
		}
	}

	// Only the chunks in flight at the kill ran again: every CopyRange attempt after
	// the first belongs to one of them, and there are at most `parallel` of them.
	retried := map[string]bool{}
	scheduled := map[int64]string{} // event id -> activity id
	copyRanges := 0
	byW1, byW2 := 0, 0
	for _, runID := range runChain(t, s, child) {
		it := s.client.GetWorkflowHistory(ctx, child, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "CopyRange" {
				scheduled[ev.GetEventId()] = runID + "/" + a.GetActivityId()
				copyRanges++
			}
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] != "" {
				switch {
				case strings.HasPrefix(a.GetIdentity(), identity(w1)):
					byW1++
				case strings.HasPrefix(a.GetIdentity(), identity(w2)):
					byW2++
				}
			}
			if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
				if id, ok := scheduled[a.GetScheduledEventId()]; ok {
					retried[id] = true
					if !inFlight[id[strings.Index(id, "/")+1:]] {
						t.Errorf("CopyRange %s ran again (attempt %d) but was not in flight at the kill", id, a.GetAttempt())
					}
				}
			}
		}
	}
	// The survivor's metrics: the rows it copied of each table, and the SDK's.
	text := scrapeMetrics(t, metricsAddr)
	var copied float64
	for _, table := range []string{"a_small", "b_big"} {
		copied += metricValue(text, fmt.Sprintf(`sluice_full_rows_copied_total{table="%s.%s",task="%s"}`, srcDB, table, parent))
	}
	if copied <= 0 || copied > bigRows+5000 {
		t.Errorf("the survivor's metrics count %.0f rows copied; want some of %d", copied, bigRows+5000)
	}
	if !strings.Contains(text, "temporal_activity_execution_latency_seconds_count{") || !strings.Contains(text, "temporal_request{") {
		t.Error("the Temporal SDK's metrics are missing from the scrape")
	}
	t.Logf("the survivor's metrics count %.0f rows copied", copied)

	// Both did work: the killed one's chunks that completed before the kill,
	// and the survivor's (its own and the retried ones).
	if byW1 == 0 || byW2 == 0 {
		t.Errorf("chunks copied by the killed worker: %d, by the other: %d; want both", byW1, byW2)
	}
	t.Logf("chunks copied: %d by the killed worker (before the kill), %d by the other", byW1, byW2)
	if copyRanges < 3 {
		t.Fatalf("only %d CopyRange activities in the child's history", copyRanges)
	}
	if len(retried) == 0 || len(retried) > parallel {
		t.Errorf("%d CopyRange activities ran more than once (%v); want 1..%d, the chunks in flight", len(retried), setKeys(retried), parallel)
	}
}

// runChain lists the runs of a workflow id, oldest first, following continue-as-new.
func runChain(t *testing.T, s *stack, id string) []string {
	t.Helper()
	var runs []string
	run := ""
	for {
		d, err := s.client.DescribeWorkflowExecution(context.Background(), id, run)
		if err != nil {
			t.Fatal(err)
		}
		info := d.GetWorkflowExecutionInfo()
		runs = append([]string{info.GetExecution().GetRunId()}, runs...)
		// The previous run of a continued-as-new chain has the same first run id.
		first := info.GetFirstRunId()
		if first == "" || first == info.GetExecution().GetRunId() {
			return runs
		}
		if len(runs) > 1000 {
			t.Fatal("run chain too long")
		}
		prev := previousRun(t, s, id, info.GetExecution().GetRunId())
		if prev == "" {
			return runs
		}
		run = prev
	}
}

// previousRun finds the run that continued as new into runID.
func previousRun(t *testing.T, s *stack, id, runID string) string {
	t.Helper()
	it := s.client.GetWorkflowHistory(context.Background(), id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return ""
	}
	ev, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	return ev.GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
}

func setKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// destRows counts a destination table's rows; 0 while it does not exist yet.
func destRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return 0
	}
	return n
}

// scrapeMetrics reads a worker's /metrics.
func scrapeMetrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", addr, resp.StatusCode, err)
	}
	return string(b)
}

// metricValue is the value of one sample ("name{labels}") of a scrape (0 when
// absent).
func metricValue(text, sample string) float64 {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}
