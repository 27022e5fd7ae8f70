package itest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// kvLoad writes to the `order` table (under its current name) until stop closes:
// inserts, updates of the renamed column and deletes, one or two statements per
// transaction.
func kvLoad(t *testing.T, src *sql.DB, db string, table *atomic.Value, stop <-chan struct{}, n *atomic.Int64) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		tb := "`" + db + "`.`" + table.Load().(string) + "`"
		id := r.IntN(30000)
		var q string
		switch r.IntN(4) {
		case 0, 1:
			q = fmt.Sprintf("INSERT INTO %s (`id`, `code`, `qty`, `note`, `secret`) VALUES (%d, 'L%d', %d, 'n%d', 's') ON DUPLICATE KEY UPDATE `note` = 'dup%d'", tb, id, i, r.IntN(1000), i, i)
		case 2:
			q = fmt.Sprintf("UPDATE %s SET `note` = 'u%d', `qty` = `qty` + 1 WHERE `id` = %d", tb, i, id)
		case 3:
			q = fmt.Sprintf("DELETE FROM %s WHERE `id` = %d", tb, id)
		}
		// A RENAME between Load and Exec makes the statement fail: try again.
		if _, err := src.Exec(q); err == nil {
			n.Add(1)
		}
		time.Sleep(time.Millisecond)
	}
}

// Issue 5: every listed DDL kind replicated while writes go on, with renamed and
// excluded columns; a DDL during the full copy; a table created during
// replication under a glob entry (its exclusions and operations apply); a renamed
// table keeps its entry's column renames; a view over a view from before the
// start; operations without ddl leave a table's definition alone; the heartbeat
// keeps the lag exact on an idle source; and the cutover completes while another
// database on the source keeps being written.
func TestReplicatedDDLWhileWriting(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	const srcDB, dstDB, otherDB, id = "itd_src", "itd dst", "itd_other", "sluice-itddl"
	src, dst := databases(t, env, []string{srcDB, otherDB}, []string{dstDB}, "CREATE DATABASE "+srcDB, "CREATE DATABASE "+otherDB,
		"CREATE TABLE "+otherDB+".busy (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6))",
		"CREATE TABLE "+srcDB+".`order` (`id` INT NOT NULL PRIMARY KEY, `code` VARCHAR(20) NOT NULL, `qty` INT, `note` VARCHAR(50), `secret` VARCHAR(20), UNIQUE KEY `uc` (`code`))",
		"INSERT INTO "+srcDB+".`order` SELECT seq, CONCAT('c', seq), seq % 100, 'initial', 'x' FROM "+srcDB+".seq_1_to_40000",
		"CREATE VIEW "+srcDB+".v1 AS SELECT `id`, `qty` FROM "+srcDB+".`order` WHERE `qty` > 50",
		"CREATE TABLE "+srcDB+".trunc_me (id INT PRIMARY KEY)", "INSERT INTO "+srcDB+".trunc_me VALUES (1), (2), (3)",
		"CREATE TABLE "+srcDB+".drop_me (id INT PRIMARY KEY)", "INSERT INTO "+srcDB+".drop_me VALUES (1)",
		"CREATE TABLE "+srcDB+".frozen (id INT PRIMARY KEY, v INT)", "INSERT INTO "+srcDB+".frozen VALUES (1, 1)",
		// Triggers wait for the cutover: one naming the renamed column, one the
		// source drops meanwhile.
		"CREATE TRIGGER "+srcDB+".trg_note BEFORE UPDATE ON "+srcDB+".`order` FOR EACH ROW SET NEW.`note` = NEW.`note`",
		"CREATE TRIGGER "+srcDB+".trg_gone BEFORE INSERT ON "+srcDB+".trunc_me FOR EACH ROW SET NEW.id = NEW.id",
	)

	file := writeFile(t, "itddl", servers(env, "itddl", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables:
      - {name: "log_*", exclude_columns: [secret], operations: [insert, update]}
      - "*"
      - {name: order, columns: {note: remark}, exclude_columns: [secret]}
      - {name: frozen, operations: [insert, update, delete]}
options:
  full: {parallel: 2}
  throttle: {full: {rps: 8000}}
  ignore_warnings: [objects.exist]   # log_* matches tables created later
`, srcDB, dstDB))

	var table atomic.Value
	table.Store("order")
	var writes atomic.Int64
	stopLoad := background(t, func(stop <-chan struct{}) { kvLoad(t, src, srcDB, &table, stop, &writes) })

	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.sluice(t, "status", id)
			for _, l := range strings.Split(s.logs.String(), "\n") {
				if strings.Contains(l, "DDL") || strings.Contains(l, "v2") {
					t.Log(l)
				}
			}
		}
	})
	// A DDL during the full copy (40000 rows at 8000 rows/s): the schema history
	// was seeded at the copy's start position and replays it.
	waitFor(t, "the full copy", func() bool {
		st, err := queryStatusOf(ctx, s, id)
		if err == nil && st.Phase == workflows.PhaseFailed {
			for _, it := range st.Precheck.Items {
				if it.Status != "pass" {
					t.Logf("precheck %s %s: %s", it.Status, it.ID, it.Message)
				}
			}
			t.Fatalf("the migration failed: %s", st.Message)
		}
		return err == nil && st.Phase == workflows.PhaseFull && st.Full != nil
	})
	if err := env.Source.Exec(ctx, "ALTER TABLE "+srcDB+".`order` ADD COLUMN `during_copy` INT NOT NULL DEFAULT 5"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replication", func() bool {
		p, ok := incrementalProgress(ctx, s, id)
		return ok && p.Txns > 0
	})

	// Every DDL kind of the DTS list, while the load writes.
	for _, q := range []string{
		"ALTER TABLE " + srcDB + ".`order` ADD COLUMN `extra` INT NOT NULL DEFAULT 7, MODIFY `note` VARCHAR(80)",
		"CREATE INDEX ix_qty ON " + srcDB + ".`order` (`qty`)",
		"DROP INDEX ix_qty ON " + srcDB + ".`order`",
		"CREATE TABLE " + srcDB + ".log_new (id INT PRIMARY KEY, msg VARCHAR(20), secret VARCHAR(20))",
		"INSERT INTO " + srcDB + ".log_new VALUES (1, 'a', 's1'), (2, 'b', 's2'), (3, 'c', 's3')",
		"UPDATE " + srcDB + ".log_new SET msg = 'B' WHERE id = 2",
		"DELETE FROM " + srcDB + ".log_new WHERE id = 3", // not replicated: operations [insert, update]
		"TRUNCATE TABLE " + srcDB + ".trunc_me",
		"DROP TABLE " + srcDB + ".drop_me",
		"CREATE VIEW " + srcDB + ".v2 AS SELECT `id` FROM " + srcDB + ".v1",
		"ALTER VIEW " + srcDB + ".v2 AS SELECT `id`, `qty` FROM " + srcDB + ".v1",
		"CREATE FUNCTION " + srcDB + ".f1(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
		"CREATE PROCEDURE " + srcDB + ".p1() SELECT 1",
		"ALTER TABLE " + srcDB + ".frozen ADD INDEX ix_v (v)", // not replicated: operations without ddl
		"INSERT INTO " + srcDB + ".frozen VALUES (2, 2)",
		"DROP TRIGGER " + srcDB + ".trg_gone",
		"CREATE TRIGGER " + srcDB + ".trg_new AFTER INSERT ON " + srcDB + ".frozen FOR EACH ROW SET @x = NEW.v",
	} {
		if err := env.Source.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A rename: the renamed table keeps the order entry's column rename and exclusion.
	if err := env.Source.Exec(ctx, "RENAME TABLE "+srcDB+".`order` TO "+srcDB+".`order-renamed`"); err != nil {
		t.Fatal(err)
	}
	table.Store("order-renamed")
	time.Sleep(time.Second)
	stopLoad()
	t.Logf("the load committed %d statements", writes.Load())

	// An idle source: the heartbeat table keeps the lag exact (not growing with
	// the time since the last write).
	time.Sleep(3 * time.Second)
	p, _ := incrementalProgress(ctx, s, id)
	if p == nil || p.LagSeconds > 2 || !strings.HasPrefix(p.Heartbeat, "on") {
		t.Errorf("lag on an idle source: %+v", p)
	}
	var hbAge float64
	if err := src.QueryRow("SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1e6 FROM `sluice`.`heartbeat`").Scan(&hbAge); err != nil || hbAge > 3 {
		t.Errorf("the source heartbeat row is %.1fs old (%v)", hbAge, err)
	}

	// The cutover completes while another database keeps changing.
	busyStop := make(chan struct{})
	busyDone := make(chan struct{})
	go func() {
		defer close(busyDone)
		for {
			select {
			case <-busyStop:
				return
			case <-time.After(100 * time.Millisecond):
				src.Exec("INSERT INTO " + otherDB + ".busy (at) VALUES (NOW(6))")
			}
		}
	}()
	code, out, _ := s.sluice(t, "cutover", id, "--max-lag", "2s", "--timeout", "2m")
	close(busyStop)
	<-busyDone
	if code != 0 || !strings.Contains(out, "Cut over at") {
		t.Fatalf("cutover with another database busy: exit %d", code)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(wctx, id, "").Get(wctx, &res); err != nil {
		t.Fatalf("workflow: %v", err)
	}

	// Rows: the renamed table under its new name, note read as remark, secret left out.
	q := func(db string) string { return "`" + db + "`" }
	exprsSrc := testenv.HashExprs(t, src, srcDB, "order-renamed", []string{"secret"}, nil)
	exprsDst := testenv.HashExprs(t, src, srcDB, "order-renamed", []string{"secret"}, map[string]string{"note": "remark"})
	want := testenv.RowHashes(t, src, srcDB, "order-renamed", "id", exprsSrc)
	got := testenv.RowHashes(t, dst, dstDB, "order-renamed", "id", exprsDst)
	diff := 0
	for k, h := range want {
		if got[k] != h {
			diff++
		}
	}
	if diff > 0 || len(got) != len(want) {
		t.Errorf("order-renamed: %d of %d rows differ; %d rows on the destination", diff, len(want), len(got))
	}
	for _, c := range []struct{ query, want string }{
		{"SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) AS v FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'order-renamed'", "id,code,qty,remark,during_copy,extra"},
		{"SELECT COLUMN_TYPE AS v FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'order-renamed' AND COLUMN_NAME = 'remark'", "varchar(80)"},
		{"SELECT COUNT(*) AS v FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'order-renamed' AND INDEX_NAME = 'ix_qty'", "0"},
		{"SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) AS v FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'log_new'", "id,msg"},
		{"SELECT GROUP_CONCAT(CONCAT(id, msg) ORDER BY id) AS v FROM " + q(dstDB) + ".log_new", "1a,2B,3c"},
		{"SELECT COUNT(*) AS v FROM " + q(dstDB) + ".trunc_me", "0"},
		{"SELECT COUNT(*) AS v FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME IN ('drop_me', 'order')", "0"},
		// (The rename of `order` later made both views invalid, on the source too.)
		{"SELECT COUNT(*) AS v FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'v2' AND VIEW_DEFINITION LIKE '%`qty`%'", "1"},
		{"SELECT GROUP_CONCAT(ROUTINE_NAME ORDER BY ROUTINE_NAME) AS v FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '" + dstDB + "'", "f1,p1"},
		{"SELECT COUNT(*) AS v FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + dstDB + "' AND TABLE_NAME = 'frozen' AND INDEX_NAME = 'ix_v'", "0"},
		{"SELECT GROUP_CONCAT(id ORDER BY id) AS v FROM " + q(dstDB) + ".frozen", "1,2"},
		{"SELECT COUNT(*) AS v FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sluice' AND TABLE_NAME = 'heartbeat'", "0"},
		// Triggers as the source has them at the cutover, on the renamed table,
		// with the renamed column.
		{"SELECT GROUP_CONCAT(CONCAT(TRIGGER_NAME, '@', EVENT_OBJECT_TABLE) ORDER BY TRIGGER_NAME) AS v FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + dstDB + "'", "trg_new@frozen,trg_note@order-renamed"},
		{"SELECT COUNT(*) AS v FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + dstDB + "' AND TRIGGER_NAME = 'trg_note' AND ACTION_STATEMENT LIKE '%NEW.`remark` = NEW.`remark`%'", "1"},
		{"SELECT COUNT(*) AS v FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + otherDB + "'", "0"},
	} {
		if r := testenv.Row(t, dst, c.query); r["v"] != c.want {
			t.Errorf("%s\n  = %q, want %q", c.query, r["v"], c.want)
		}
	}
	if r := testenv.Row(t, dst, "SELECT "+q(dstDB)+".f1(41) AS v"); r["v"] != "42" {
		t.Errorf("f1(41) on the destination = %q", r["v"])
	}
}

// queryStatusOf queries a running migration's status.
func queryStatusOf(ctx context.Context, s *stack, id string) (workflows.Status, error) {
	var st workflows.Status
	v, err := s.client.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}
