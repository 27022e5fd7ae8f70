package itest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// writeLoad runs random transactions on the source until stop closes: inserts,
// updates (values, primary keys, unique values, every type), deletes and
// multi-statement transactions, on `order` (renamed and excluded columns, a
// case-insensitive unique key) and the every-type table t.
func writeLoad(t *testing.T, src *sql.DB, db string, seed uint64, stop <-chan struct{}, count *atomic.Int64) {
	r := rand.New(rand.NewPCG(seed, 11))
	q := "`" + db + "`"
	typed := testenv.TypesTableColumns
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		tx, err := src.Begin()
		if err != nil {
			t.Error(err)
			return
		}
		ok := true
		for s := 0; s < 1+r.IntN(4) && ok; s++ {
			id := r.IntN(3000)
			var stmt string
			switch r.IntN(9) {
			case 0, 1:
				stmt = fmt.Sprintf("INSERT INTO %s.`order` (`id`, `code`, `qty`, `note`, `secret`) VALUES (%d, 'C%d', %d.%02d, 'n%d', 's%d') ON DUPLICATE KEY UPDATE `qty` = `qty` + 1, `note` = 'dup'", q, id, r.IntN(100000), r.IntN(1000), r.IntN(100), i, i)
			case 2:
				stmt = fmt.Sprintf("UPDATE %s.`order` SET `id` = `id` + 100000 WHERE `id` = %d", q, id)
			case 3:
				stmt = fmt.Sprintf("UPDATE %s.`order` SET `code` = LOWER(`code`), `qty` = `qty` * 2 WHERE `id` = %d", q, id)
			case 4:
				stmt = fmt.Sprintf("DELETE FROM %s.`order` WHERE `id` = %d", q, id)
			case 5:
				// A copy of a typed row under a new key (every type through the binlog).
				cols := strings.Trim(typed, "()")
				srcCols := strings.Replace(cols, "id,", fmt.Sprintf("%d + id,", 1000000+i*100), 1)
				stmt = fmt.Sprintf("INSERT IGNORE INTO %s.t (%s) SELECT %s FROM %s.t WHERE id BETWEEN -999999 AND 999999 ORDER BY RAND(%d) LIMIT 1", q, cols, srcCols, q, i)
			case 6:
				stmt = fmt.Sprintf("UPDATE %s.t SET u8 = CONCAT(IFNULL(u8, ''), 'é'), bu = IFNULL(bu, 0) DIV 2, dt6 = NOW(6), b8 = X'00', tm6 = '-00:00:01.5' WHERE id %% 7 = %d", q, r.IntN(7))
			case 7:
				stmt = fmt.Sprintf("DELETE FROM %s.t WHERE id >= 1000000 AND id %% 13 = %d", q, r.IntN(13))
			case 8:
				stmt = fmt.Sprintf("UPDATE %s.t SET id = -id WHERE id > 1000000 AND id %% 11 = %d", q, r.IntN(11))
			}
			if _, err := tx.Exec(stmt); err != nil {
				ok = false
			}
		}
		if !ok {
			tx.Rollback()
			continue
		}
		if err := tx.Commit(); err != nil {
			t.Error(err)
			return
		}
		count.Add(1)
		time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
	}
}

// incrementalProgress reads the Incremental activity's heartbeat.
func incrementalProgress(ctx context.Context, s *stack, id string) (*workflows.IncrementalProgress, bool) {
	d, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, false
	}
	for _, pa := range d.GetPendingActivities() {
		if pa.GetActivityType().GetName() != "Incremental" || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var p workflows.IncrementalProgress
		if converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &p) == nil {
			return &p, true
		}
	}
	return nil, false
}

// Issue 5, "Done means": schema + full + incremental under a concurrent write load
// running through the copy and after; the worker SIGKILLed three times during
// replication; cutover; source and destination equal by server-side hashes, and
// the checkpoints count every source transaction exactly once.
func TestIncrementalUnderLoadWithKillsAndCutover(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	bin := buildWorker(t)
	ctx := context.Background()
	const (
		queue = "sluice-inc"
		srcDB = "iti_src"
		dstDB = "iti dst"
		id    = "sluice-inc"
	)
	drop := func() {
		env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+srcDB)
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+dstDB+"`")
	}
	drop()
	t.Cleanup(drop)
	typedRows := strings.Join(testenv.TypesTableRows(), ",")
	if err := env.Source.Exec(ctx, "CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".`order` (`id` INT NOT NULL PRIMARY KEY, `code` VARCHAR(20) COLLATE utf8mb4_unicode_ci NOT NULL, `qty` DECIMAL(12,2), `note` VARCHAR(50), `secret` VARCHAR(20), UNIQUE KEY `uc` (`code`), KEY `by_qty` (`qty`))",
		"INSERT INTO "+srcDB+".`order` SELECT seq, CONCAT('c', seq), seq / 100, 'initial', 'x' FROM "+srcDB+".seq_1_to_60000",
	); err != nil {
		t.Fatal(err)
	}
	src, err := env.Source.Open(srcDB)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// The edge values (ENUM error value, zero dates) store only without strict mode.
	conn, err := src.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00'", testenv.TypesTableDDL, "INSERT INTO t " + testenv.TypesTableColumns + " VALUES " + typedRows} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	conn.Close()
	dst, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for i, f := range testenv.TypesTableFloats {
		if _, err := src.Exec("UPDATE "+srcDB+".t SET f = ?, d = ? WHERE id = (SELECT id FROM (SELECT id FROM "+srcDB+".t ORDER BY id LIMIT 1 OFFSET ?) x)", float64(f), testenv.TypesTableDoubles[i%len(testenv.TypesTableDoubles)], i); err != nil {
			t.Fatal(err)
		}
	}

	file := writeFile(t, "inc", servers(env, "inc", "SRC_INC_PW", "DST_INC_PW")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables:
      - "*"
      - {name: order, columns: {note: remark}, exclude_columns: [secret]}
options:
  full: {parallel: 2}
  throttle: {full: {rps: 30000}}
`, srcDB, dstDB))
	secrets := []string{"SRC_INC_PW=" + env.Source.RootPassword, "DST_INC_PW=" + env.Destination.RootPassword}
	logPath := filepath.Join(t.TempDir(), "worker.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("worker log (tail):\n%s", b)
		}
	})
	// Two workers on the queue: the one running replication is killed, the
	// other takes over (issue 7), then a new one joins.
	// Each worker serves its metrics (a restarted one on the same port).
	metricsAddrs := []string{fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	startWorker := func(i int) *workerProcess {
		return startWorkerProcess(t, bin, s.srv.FrontendAddress(), queue, logPath, secrets, "--metrics-listen", metricsAddrs[i])
	}
	workers := []*workerProcess{startWorker(0), startWorker(1)}
	// holder is the worker running the Incremental activity (-1: none yet).
	holder := func() int {
		d, err := s.client.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return -1
		}
		for _, pa := range d.GetPendingActivities() {
			if pa.GetActivityType().GetName() == "Incremental" && pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED {
				for i, w := range workers {
					if strings.HasPrefix(pa.GetLastWorkerIdentity(), fmt.Sprintf("%d@", w.cmd.Process.Pid)) {
						return i
					}
				}
			}
		}
		return -1
	}

	var loadTxns atomic.Int64
	stopLoad := background(t, func(stop <-chan struct{}) { writeLoad(t, src, srcDB, 1, stop, &loadTxns) })

	if code, _, _ := s.sluiceOn(t, queue, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	waitInc := func(what string, cond func(p *workflows.IncrementalProgress) bool) *workflows.IncrementalProgress {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if p, ok := incrementalProgress(ctx, s, id); ok && cond(p) {
				return p
			}
			d, err := s.client.DescribeWorkflowExecution(ctx, id, "")
			if err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				t.Fatalf("the workflow ended (%s) while waiting for %s", d.GetWorkflowExecutionInfo().GetStatus(), what)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
		return nil
	}
	p := waitInc("replication", func(p *workflows.IncrementalProgress) bool { return p.Txns > 0 })
	t.Logf("replicating: %d transactions applied, safe mode %v, lag %.1fs", p.Txns, p.SafeMode, p.LagSeconds)

	r := rand.New(rand.NewPCG(5, 5))
	for k := 0; k < 3; k++ {
		time.Sleep(time.Duration(300+r.IntN(1500)) * time.Millisecond)
		before, _ := incrementalProgress(ctx, s, id)
		h := holder()
		if h < 0 {
			t.Fatal("no worker runs the Incremental activity")
		}
		if err := workers[h].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-workers[h].done
		t.Logf("kill %d: the worker running replication SIGKILLed at %d transactions applied", k+1, before.Txns)
		if k == 1 {
			// DDL while the load goes on, on the table with a renamed and an
			// excluded column: replicated through the rewrite and the history.
			if _, err := src.Exec("ALTER TABLE " + srcDB + ".`order` ADD COLUMN `extra` INT NOT NULL DEFAULT 7, MODIFY `note` VARCHAR(80), ADD KEY `by_extra` (`extra`)"); err != nil {
				t.Fatal(err)
			}
		}
		// The next attempt starts on the other worker once the heartbeat
		// timeout notices the dead one.
		waitInc("replication after the kill", func(p *workflows.IncrementalProgress) bool {
			return p.Txns > before.Txns && p.At.After(time.Now().Add(-3*time.Second))
		})
		if now := holder(); now != 1-h {
			t.Errorf("after the kill replication runs on worker %d, want the survivor %d", now, 1-h)
		}
		workers[h] = startWorker(h)
	}

	// Issue 8: verification while the load runs through replication: every
	// column type and character set, a renamed and an excluded column, a
	// replicated ALTER; no false difference.
	report := filepath.Join(t.TempDir(), "verify.json")
	code, _, _ := s.sluiceOn(t, queue, "verify", id, "--output", report)
	var vrep workflows.VerifyReport
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &vrep) != nil {
		t.Fatalf("verify under load: exit %d, no report: %v", code, err)
	}
	if code != 0 || !vrep.Equal || len(vrep.Tables) != 2 || vrep.Rows < 60000 {
		t.Errorf("verify under load: exit %d, %+v", code, vrep)
	}

	stopLoad()
	t.Logf("the load committed %d transactions", loadTxns.Load())
	// The replicating worker's metrics count what its attempt applies (once it
	// has applied an epoch: it may have just taken over), and the lag.
	var applied float64
	var text string
	waitUntil(t, "the replicating worker's metrics to count applied transactions", time.Minute, func() bool {
		h := holder()
		if h < 0 {
			return false
		}
		text = scrapeMetrics(t, metricsAddrs[h])
		applied = metricValue(text, fmt.Sprintf(`sluice_incremental_transactions_applied_total{task="%s"}`, id))
		return applied > 0
	})
	if applied > float64(loadTxns.Load())+1000 || !strings.Contains(text, fmt.Sprintf(`sluice_incremental_lag_seconds{task="%s"}`, id)) {
		t.Errorf("metrics of the replicating worker: %.0f transactions applied (load %d)\n%s", applied, loadTxns.Load(),
			regexp.MustCompile(`(?m)^sluice_.*$`).FindAllString(text, -1))
	}
	t.Logf("the replicating worker's metrics: %.0f transactions applied by its attempt", applied)
	code, out, _ := s.sluiceOn(t, queue, "cutover", id, "--max-lag", "2s", "--timeout", "3m")
	if code != 0 || !strings.Contains(out, "STOP WRITES ON THE SOURCE NOW") || !strings.Contains(out, "Cut over at") {
		t.Fatalf("cutover: exit %d", code)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(wctx, id, "").Get(wctx, &res); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if res.Incremental == nil || res.Incremental.Stage != workflows.StageCutOver || res.Incremental.Result == nil {
		t.Fatalf("result %+v", res.Incremental)
	}

	// Equal by server-side hashes of every column (renamed read under the new
	// name, the excluded one left out).
	for _, c := range []struct {
		table, key string
		skip       []string
		rename     map[string]string
	}{
		{"order", "id", []string{"secret"}, map[string]string{"note": "remark"}},
		{"t", "id", []string{"gv", "gs"}, nil},
	} {
		exprsSrc := testenv.HashExprs(t, src, srcDB, c.table, c.skip, nil)
		exprsDst := testenv.HashExprs(t, src, srcDB, c.table, c.skip, c.rename)
		want := testenv.RowHashes(t, src, srcDB, c.table, c.key, exprsSrc)
		got := testenv.RowHashes(t, dst, dstDB, c.table, c.key, exprsDst)
		if len(want) < 100 {
			t.Errorf("%s: only %d source rows", c.table, len(want))
		}
		diff := 0
		for k, h := range want {
			if got[k] != h {
				diff++
				if diff <= 5 {
					t.Errorf("%s: row %s differs or is missing on the destination", c.table, k)
				}
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				diff++
				if diff <= 5 {
					t.Errorf("%s: row %s is on the destination only", c.table, k)
				}
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d rows differ", c.table, diff, len(want))
		}
	}

	// Exactly once: the checkpoints count every source transaction after the full
	// copy's start position once (the load's, the heartbeats').
	task := res.Incremental.Task
	var txns uint64
	var state string
	if err := dst.QueryRow("SELECT SUM(`txns`) FROM `sluice`.`checkpoints` WHERE `task` = ?", task).Scan(&txns); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRow("SELECT `state` FROM `sluice`.`tasks` WHERE `task` = ?", task).Scan(&state); err != nil {
		t.Fatal(err)
	}
	end := res.Incremental.Result.Position
	want := testenv.GTIDSeq(t, end.GTID) - testenv.GTIDSeq(t, res.Full.Position.GTID)
	if txns != want || state != "done" {
		t.Errorf("checkpoints count %d transactions between %s and %s, the source committed %d; task state %q", txns, res.Full.Position.GTID, end.GTID, want, state)
	}

	if r := testenv.Row(t, dst, "SELECT COLUMN_TYPE AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"+dstDB+"' AND TABLE_NAME = 'order' AND COLUMN_NAME = 'remark'"); r["c"] != "varchar(80)" {
		t.Errorf("the ALTER's MODIFY of the renamed column: remark is %q on the destination", r["c"])
	}
	// After the cutover nothing reaches the destination.
	if _, err := src.Exec("INSERT INTO " + srcDB + ".`order` (`id`, `code`, `qty`, `note`, `secret`) VALUES (-1, 'after cutover', 1, 'x', 'y')"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if n := destRows(t, dst, "`"+dstDB+"`.`order` WHERE `id` = -1"); n != 0 {
		t.Errorf("a row written after the cutover reached the destination")
	}
	code, out, _ = s.sluice(t, "status", id)
	if code != 0 || !strings.Contains(out, "stage: cut over") {
		t.Errorf("status after cutover: exit %d", code)
	}
}

// An incremental-only migration from a GTID position given in the workflow file:
// the changes after it (and only those) reach the destination, in a renamed
// database with a renamed column; `sluice stop` ends it at a consistent point and
// completes the workflow; the task is fenced.
func TestIncrementalOnlyFromPositionAndStop(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	const srcDB, dstDB = "itio_src", "itio dst"
	drop := func() {
		env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+srcDB)
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+dstDB+"`")
	}
	drop()
	t.Cleanup(drop)
	if err := env.Source.Exec(ctx, "CREATE DATABASE "+srcDB, "CREATE TABLE "+srcDB+".kv (k INT PRIMARY KEY, v VARCHAR(20))",
		"INSERT INTO "+srcDB+".kv VALUES (1, 'before')"); err != nil {
		t.Fatal(err)
	}
	if err := env.Destination.Exec(ctx, "CREATE DATABASE `"+dstDB+"`", "CREATE TABLE `"+dstDB+"`.kv (k INT PRIMARY KEY, value VARCHAR(20))",
		"INSERT INTO `"+dstDB+"`.kv VALUES (1, 'before')"); err != nil {
		t.Fatal(err)
	}
	src, _ := env.Source.Open("")
	defer src.Close()
	dst, _ := env.Destination.Open("")
	defer dst.Close()
	var gtid string
	if err := src.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtid); err != nil {
		t.Fatal(err)
	}
	if err := env.Source.Exec(ctx, "INSERT INTO "+srcDB+".kv VALUES (2, 'after')", "UPDATE "+srcDB+".kv SET v = 'changed' WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "inconly", fmt.Sprintf(`name: inconly
source: {host: %s, port: %d, user: %s, password: "${IT_SRC_PASSWORD}"}
destination: {host: %s, port: %d, user: %s, password: "${IT_DST_PASSWORD}"}
types: [incremental]
objects:
  - database: %s
    to: %s
    tables: [{name: kv, columns: {v: value}}]
options:
  incremental: {start: {gtid: "%s"}}
`, env.Source.Host, env.Source.Port, env.Source.RootUser, env.Destination.Host, env.Destination.Port, env.Destination.RootUser, srcDB, dstDB, gtid))
	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	const id = "sluice-inconly"
	want := "1 changed\n2 after\n3 live"
	if err := env.Source.Exec(ctx, "INSERT INTO "+srcDB+".kv VALUES (3, 'live')"); err != nil {
		t.Fatal(err)
	}
	got := ""
	deadline := time.Now().Add(2 * time.Minute)
	for got != want && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		rows, err := dst.Query("SELECT CONCAT(k, ' ', value) FROM `" + dstDB + "`.kv ORDER BY k")
		if err != nil {
			continue
		}
		var parts []string
		for rows.Next() {
			var x string
			rows.Scan(&x)
			parts = append(parts, x)
		}
		rows.Close()
		got = strings.Join(parts, "\n")
	}
	if got != want {
		t.Fatalf("destination:\n%s\nwant:\n%s", got, want)
	}
	// The live part comes from the activity's heartbeat (every second).
	var code int
	var out string
	for i := 0; i < 20 && !strings.Contains(out, "applied: binlog."); i++ {
		time.Sleep(300 * time.Millisecond)
		code, out, _ = s.sluice(t, "status", id)
	}
	if code != 0 || !strings.Contains(out, "from gtid "+gtid) || !strings.Contains(out, "lag:") || !strings.Contains(out, "applied: binlog.") {
		t.Errorf("status while replicating: exit %d", code)
	}
	code, out, _ = s.sluice(t, "stop", id)
	if code != 0 || !strings.Contains(out, "Stop requested") {
		t.Fatalf("stop: exit %d", code)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(wctx, id, "").Get(wctx, &res); err != nil {
		t.Fatalf("workflow after stop: %v", err)
	}
	if res.Incremental == nil || res.Incremental.Stage != workflows.StageStopped {
		t.Fatalf("result %+v", res.Incremental)
	}
	var state string
	if err := dst.QueryRow("SELECT `state` FROM `sluice`.`tasks` WHERE `task` = ?", res.Incremental.Task).Scan(&state); err != nil || state != "done" {
		t.Errorf("task state %q (%v), want done", state, err)
	}
}
