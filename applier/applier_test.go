package applier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// testSelection maps db → dstDB, renames `order`.`note` to `remark`, excludes
// `order`.`secret` and replicates no deletes for `audit`.
type testSelection struct{ src, dst string }

func (s testSelection) Table(db, table string) (string, string, bool) {
	if db != s.src {
		return "", "", false
	}
	return s.dst, table, true
}

func (s testSelection) Column(db, table, column string) (string, bool) {
	if table == "order" {
		switch column {
		case "note":
			return "remark", false
		case "secret":
			return column, true
		}
	}
	return column, false
}

func (s testSelection) Operations(db, table string) []string {
	if table == "audit" {
		return []string{spec.OpInsert, spec.OpUpdate}
	}
	return nil
}

const testTables = "CREATE TABLE %s.`order` (`id` INT NOT NULL PRIMARY KEY, `code` VARCHAR(20) COLLATE utf8mb4_unicode_ci NOT NULL, `qty` DECIMAL(10,2), `note` VARCHAR(50), `secret` VARCHAR(20), UNIQUE KEY `uc` (`code`)) ENGINE=InnoDB;" +
	"CREATE TABLE %s.`my-table` (`a` INT, `b` VARCHAR(10)) ENGINE=InnoDB;" +
	"CREATE TABLE %s.`audit` (`k` VARCHAR(10) NOT NULL PRIMARY KEY, `n` BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB"

// pair creates fresh databases on both servers and returns root pools.
func pair(t *testing.T, name string) (env *testenv.Env, src, dst *sql.DB, srcDB, dstDB string) {
	t.Helper()
	env = testenv.Shared(t)
	var err error
	if src, err = env.Source.Open(""); err != nil {
		t.Fatal(err)
	}
	if dst, err = env.Destination.Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close(); dst.Close() })
	srcDB, dstDB = "ap-"+name, "ap dst "+name
	for _, x := range []struct {
		db   *sql.DB
		name string
	}{{src, srcDB}, {dst, dstDB}} {
		q := sqltok.Quote(x.name)
		mustExec(t, x.db, "DROP DATABASE IF EXISTS "+q, "CREATE DATABASE "+q)
		stmts := strings.Split(fmt.Sprintf(testTables, q, q, q), ";")
		if x.db == dst {
			stmts[0] = strings.Replace(strings.Replace(stmts[0], "`note`", "`remark`", 1), ", `secret` VARCHAR(20)", "", 1)
		}
		mustExec(t, x.db, stmts...)
	}
	return env, src, dst, srcDB, dstDB
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func position(t *testing.T, src *sql.DB) binlog.Position {
	t.Helper()
	p, err := inspect.BinlogPosition(context.Background(), src)
	if err != nil || p == nil {
		t.Fatalf("binlog position: %v %v", p, err)
	}
	return binlog.Position(*p)
}

// load runs n random transactions on the source: inserts, updates of values,
// primary keys and unique codes (also case-only changes under a _ci collation),
// deletes, swaps of unique values across rows, keyless rows and multi-statement
// transactions. It returns the number of transactions committed.
func load(t *testing.T, src *sql.DB, db string, seed uint64, n int) int {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	q := sqltok.Quote(db)
	committed := 0
	for i := 0; i < n; i++ {
		tx, err := src.Begin()
		if err != nil {
			t.Fatal(err)
		}
		steps := 1 + r.IntN(4)
		failed := false
		for s := 0; s < steps && !failed; s++ {
			id := r.IntN(60)
			var stmt string
			switch r.IntN(10) {
			case 0, 1, 2:
				stmt = fmt.Sprintf("INSERT INTO %s.`order` VALUES (%d, 'c%d', %d.%02d, 'n%d', 's') ON DUPLICATE KEY UPDATE `qty` = `qty` + 1", q, id, r.IntN(80), r.IntN(1000), r.IntN(100), i)
			case 3:
				stmt = fmt.Sprintf("UPDATE %s.`order` SET `id` = %d WHERE `id` = %d", q, 100+r.IntN(60), id)
			case 4:
				// Case-only change of a unique value: equal under the collation.
				stmt = fmt.Sprintf("UPDATE %s.`order` SET `code` = IF(`code` = LOWER(`code`), UPPER(`code`), LOWER(`code`)) WHERE `id` = %d", q, id)
			case 5:
				stmt = fmt.Sprintf("DELETE FROM %s.`order` WHERE `id` = %d OR `id` = %d", q, id, 100+id)
			case 6:
				// Swap unique codes between two rows through a temporary value.
				a, b := id, r.IntN(60)
				stmt = fmt.Sprintf("UPDATE %s.`order` SET `code` = CONCAT('t', `id`) WHERE `id` = %d; UPDATE %s.`order` o JOIN %s.`order` p ON p.`id` = %d SET o.`code` = p.`code` WHERE o.`id` = %d",
					q, a, q, q, b, a)
			case 7:
				stmt = fmt.Sprintf("INSERT INTO %s.`my-table` VALUES (%d, 'v%d')", q, id, r.IntN(3))
			case 8:
				if r.IntN(2) == 0 {
					stmt = fmt.Sprintf("DELETE FROM %s.`my-table` WHERE `a` = %d LIMIT 1", q, id)
				} else {
					stmt = fmt.Sprintf("UPDATE %s.`my-table` SET `b` = 'u' WHERE `a` = %d LIMIT 1", q, id)
				}
			case 9:
				k := "k" + strconv.Itoa(r.IntN(20))
				switch r.IntN(3) {
				case 0:
					stmt = fmt.Sprintf("INSERT INTO %s.`audit` VALUES ('%s', 1) ON DUPLICATE KEY UPDATE `n` = `n` + 1", q, k)
				case 1:
					stmt = fmt.Sprintf("UPDATE %s.`audit` SET `n` = 18446744073709551615 WHERE `k` = '%s'", q, k)
				default:
					stmt = fmt.Sprintf("DELETE FROM %s.`audit` WHERE `k` = '%s'", q, k)
				}
			}
			for _, one := range strings.Split(stmt, "; ") {
				if _, err := tx.Exec(one); err != nil {
					// Unique collisions of random values: roll back this transaction.
					failed = true
					break
				}
			}
		}
		if failed {
			tx.Rollback()
			continue
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		committed++
	}
	return committed
}

// dump reads a query's rows as text on one server.
func dump(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	return testenv.Rows(t, db, query)
}

// runUntil applies from the applier's checkpoint until the task's position
// reaches end, or stops after d (a "crash": whatever was committed stays).
func runUntil(t *testing.T, env *testenv.Env, cfg Config, start, end binlog.Position, d time.Duration) (Progress, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	// A dial cut by the deadline can fail ("i/o timeout") a moment before ctx
	// reports it: both are this run's interruption, not a failure.
	deadline := time.Now().Add(d)
	interrupted := func() bool { return ctx.Err() != nil || time.Until(deadline) < 100*time.Millisecond }
	var mu sync.Mutex
	var last Progress
	cfg.OnEpoch = func(p Progress) {
		mu.Lock()
		last = p
		mu.Unlock()
		if p.Position.Compare(end) >= 0 {
			cancel()
		}
	}
	a, err := New(ctx, cfg, start)
	if err != nil {
		if interrupted() {
			return Progress{}, false
		}
		t.Fatal(err)
	}
	defer a.Close()
	// Interruptions cut epochs mid-commit too, as a crash would.
	a.abortable = true
	from, ok := a.Checkpoint()
	if !ok {
		from = start
		a.SetStart(start)
	}
	if from.Compare(end) >= 0 {
		return a.Progress(), true
	}
	st, err := binlog.Open(ctx, streamConfig(t, env, cfg.Select), from)
	if err != nil {
		if interrupted() {
			return a.Progress(), false
		}
		t.Fatal(err)
	}
	defer st.Close()
	err = a.Run(ctx, st)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !interrupted() {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return last, last.Position.Compare(end) >= 0
}

func streamConfig(t *testing.T, env *testenv.Env, sel Selection) binlog.Config {
	src, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return binlog.Config{
		Endpoint: spec.Endpoint{Host: env.Source.Host, Port: env.Source.Port, User: env.Source.RootUser, Password: "${P}",
			TLS: spec.TLS{Mode: "preferred"}},
		Env:      func(string) (string, bool) { return env.Source.RootPassword, true },
		ServerID: binlog.ServerIDFor(t.Name()),
		Lookup: func(ctx context.Context, schema, table string) (*binlog.Table, error) {
			if _, _, ok := sel.Table(schema, table); !ok {
				return nil, nil
			}
			return binlog.LoadTable(ctx, src, schema, table)
		},
	}
}

func resetTask(t *testing.T, dst *sql.DB, task string) {
	t.Helper()
	if err := Reset(context.Background(), dst, task); err != nil {
		t.Fatal(err)
	}
}

func compare(t *testing.T, src, dst *sql.DB, srcDB, dstDB string) {
	t.Helper()
	s, d := sqltok.Quote(srcDB), sqltok.Quote(dstDB)
	for _, q := range [][2]string{
		{"SELECT `id`, `code`, `qty`, `note` FROM " + s + ".`order` ORDER BY `id`", "SELECT `id`, `code`, `qty`, `remark` FROM " + d + ".`order` ORDER BY `id`"},
		{"SELECT `a`, `b` FROM " + s + ".`my-table` ORDER BY `a`, `b`", "SELECT `a`, `b` FROM " + d + ".`my-table` ORDER BY `a`, `b`"},
	} {
		want, got := dump(t, src, q[0]), dump(t, dst, q[1])
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s: destination differs from source\nsource (%d rows):\n%s\ndestination (%d rows):\n%s", q[1], len(want), strings.Join(want, "\n"), len(got), strings.Join(got, "\n"))
		}
	}
}

// TestApplyExactlyOnce replays a random load with four slots, interrupting the
// applier at random moments (mid-epoch, between slot commits), and checks the
// destination equals the source and that the checkpoints count every source
// transaction exactly once. Inserts outside safe mode are plain INSERTs, so a
// transaction applied twice would fail on a duplicate key.
func TestApplyExactlyOnce(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "once")
	// `audit` without deletes: the destination keeps rows the source deleted.
	start := position(t, src)
	n := load(t, src, srcDB, 1, 1500)
	end := position(t, src)
	// Multi-statement batches here (the worker's way), one statement per Exec in
	// TestOwnershipAndFence.
	cfg := Config{Task: "test-once", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 4, EpochTxns: 64, MultiStatements: true}
	resetTask(t, dst, cfg.Task)
	r := rand.New(rand.NewPCG(2, 3))
	var prog Progress
	done := false
	runs := 0
	for i := 0; i < 40 && !done; i++ {
		runs++
		prog, done = runUntil(t, env, cfg, start, end, time.Duration(10+r.IntN(120))*time.Millisecond)
	}
	if !done {
		prog, done = runUntil(t, env, cfg, start, end, time.Minute)
	}
	if !done {
		t.Fatalf("not caught up: at %s, want %s", prog.Position, end)
	}
	t.Logf("%d transactions applied in %d interrupted runs", n, runs)
	if runs < 5 {
		t.Errorf("only %d runs: the applier was not interrupted", runs)
	}
	compare(t, src, dst, srcDB, dstDB)
	store := &Store{db: dst, task: cfg.Task}
	res, _, err := store.Resume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := testenv.GTIDSeq(t, end.GTID) - testenv.GTIDSeq(t, start.GTID); res.Txns != want {
		t.Errorf("checkpoints count %d transactions, the source committed %d (the load %d)", res.Txns, want, n)
	}
	// `audit`: updates and inserts replicated, deletes not; n only grows or is max.
	srcAudit := dump(t, src, "SELECT `k`, `n` FROM "+sqltok.Quote(srcDB)+".`audit` ORDER BY `k`")
	dstAudit := dump(t, dst, "SELECT `k`, `n` FROM "+sqltok.Quote(dstDB)+".`audit` ORDER BY `k`")
	dm := map[string]bool{}
	for _, r := range dstAudit {
		dm[r] = true
	}
	for _, r := range srcAudit {
		if !dm[r] {
			t.Errorf("audit row %s of the source is not on the destination", r)
		}
	}
	if len(dstAudit) <= len(srcAudit) {
		t.Errorf("audit: destination has %d rows, source %d: the deletes should not have been replicated", len(dstAudit), len(srcAudit))
	}
}

// fakeEvents hands out a fixed sequence, then waits for ctx.
type fakeEvents struct{ evs []binlog.Event }

func (f *fakeEvents) Next(ctx context.Context) (*binlog.Event, error) {
	if len(f.evs) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e := f.evs[0]
	f.evs = f.evs[1:]
	return &e, nil
}

// oneInsert is a transaction inserting (k, n) into `audit`, ending at pos.
func oneInsert(db string, cols []rowcodec.Column, k string, pos uint64) []binlog.Event {
	p := binlog.Position{File: "binlog.000001", Pos: pos}
	return []binlog.Event{
		{Kind: binlog.Begin, Pos: p},
		{Kind: binlog.Rows, Pos: p, Schema: db, Table: "audit", Op: binlog.Insert, Columns: cols, Changes: []binlog.Change{{After: rowcodec.Row{[]byte(k), int64(1)}}}},
		{Kind: binlog.Commit, Pos: p, Time: time.Now()},
	}
}

// A newer attempt takes the task over: the older one commits nothing more. A
// finished task (stop, cutover) refuses every applier, running or new.
func TestOwnershipAndFence(t *testing.T) {
	_, src, dst, srcDB, dstDB := pair(t, "fence")
	cols, err := rowcodec.Columns(context.Background(), src, srcDB, "audit")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Task: "test-fence", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2}
	resetTask(t, dst, cfg.Task)
	ctx := context.Background()
	start := binlog.Position{File: "binlog.000001", Pos: 4}
	rowsOn := func() string {
		return strings.Join(dump(t, dst, "SELECT `k` FROM "+sqltok.Quote(dstDB)+".`audit` ORDER BY `k`"), ",")
	}
	old, err := New(ctx, cfg, binlog.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	old.SetStart(start)
	cur, err := New(ctx, cfg, binlog.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	cur.SetStart(start)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = old.Run(rctx, &fakeEvents{oneInsert(srcDB, cols, "old", 100)})
	cancel()
	if !errors.Is(err, ErrSuperseded) || rowsOn() != "" {
		t.Fatalf("the superseded attempt: %v, destination %q", err, rowsOn())
	}
	rctx, cancel = context.WithCancel(ctx)
	cur.cfg.OnEpoch = func(p Progress) {
		if p.Position.Pos >= 100 {
			cancel()
		}
	}
	if err := cur.Run(rctx, &fakeEvents{oneInsert(srcDB, cols, "cur", 100)}); !errors.Is(err, context.Canceled) || rowsOn() != `"cur"` {
		t.Fatalf("the owner: %v, destination %q", err, rowsOn())
	}
	if err := (&Store{db: dst, task: cfg.Task}).Finish(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cur.Run(rctx, &fakeEvents{oneInsert(srcDB, cols, "late", 200)}); !errors.Is(err, ErrFenced) || rowsOn() != `"cur"` {
		t.Fatalf("after the fence: %v, destination %q", err, rowsOn())
	}
	if _, err := New(ctx, cfg, binlog.Position{}); !errors.Is(err, ErrFenced) {
		t.Fatalf("New on a finished task: %v", err)
	}
}

// copyOrders writes the source's current `order` rows to the destination, as a
// full copy reading them now would (note as remark, secret left out).
func copyOrders(t *testing.T, src, dst *sql.DB, srcDB, dstDB string) {
	t.Helper()
	rows := dump(t, src, "SELECT `id`, `code`, `qty`, `note` FROM "+sqltok.Quote(srcDB)+".`order`")
	for _, r := range rows {
		vals := strings.ReplaceAll(r, `"`, `'`)
		mustExec(t, dst, "INSERT INTO "+sqltok.Quote(dstDB)+".`order` (`id`, `code`, `qty`, `remark`) VALUES ("+vals+")")
	}
}

// Safe mode: the destination already holds rows newer than the events being
// replayed (the full copy read them after the start position); replaying up to
// the end of the copy must converge, not fail. Without safe mode the same replay
// fails on a duplicate key: the window matters.
func TestSafeModeReplaysOverCopiedRows(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "safe")
	start := position(t, src)
	load(t, src, srcDB, 4, 300)
	end := position(t, src)
	copyOrders(t, src, dst, srcDB, dstDB)

	cfg := Config{Task: "test-safe", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 4, MultiStatements: true}
	resetTask(t, dst, cfg.Task)
	ctx := context.Background()
	run := func(safeUntil binlog.Position) error {
		a, err := New(ctx, cfg, safeUntil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		a.SetStart(start)
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		a.cfg.OnEpoch = func(p Progress) {
			if p.Position.Compare(end) >= 0 {
				cancel()
			}
		}
		st, err := binlog.Open(rctx, streamConfig(t, env, cfg.Select), start)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		err = a.Run(rctx, st)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	if err := run(end); err != nil {
		t.Fatalf("replay in safe mode: %v", err)
	}
	compare(t, src, dst, srcDB, dstDB)

	// The control: the same replay over the same rows outside safe mode.
	mustExec(t, dst, "DELETE FROM "+sqltok.Quote(dstDB)+".`order`")
	copyOrders(t, src, dst, srcDB, dstDB)
	resetTask(t, dst, cfg.Task)
	if err := run(binlog.Position{}); err == nil || !strings.Contains(err.Error(), "Duplicate entry") {
		t.Errorf("outside safe mode the replay over copied rows should fail on a duplicate key, got %v", err)
	}
}

// A crash between a DDL and its checkpoint: the next applier runs it again,
// told so (retried), and the destination's "already done" error is tolerated.
func TestDDLReplayedAfterCrash(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "ddlcrash")
	start := position(t, src)
	sq, dq := sqltok.Quote(srcDB), sqltok.Quote(dstDB)
	// (No row before the ALTER: this test's decoder reads the current schema.)
	mustExec(t, src, "ALTER TABLE "+sq+".`audit` ADD COLUMN `z` INT NOT NULL DEFAULT 3",
		"INSERT INTO "+sq+".`audit` VALUES ('b', 2, 4), ('c', 5, 6)")
	end := position(t, src)
	var calls []bool
	cfg := Config{Task: "test-ddlcrash", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2,
		DDL: func(ctx context.Context, schema, statement, at string, retried bool) ([]string, error) {
			calls = append(calls, retried)
			return []string{strings.ReplaceAll(statement, sq, dq)}, nil
		}}
	resetTask(t, dst, cfg.Task)
	ctx := context.Background()
	for attempt := 0; attempt < 2; attempt++ {
		a, err := New(ctx, cfg, binlog.Position{})
		if err != nil {
			t.Fatal(err)
		}
		from, ok := a.Checkpoint()
		if !ok {
			from = start
			a.SetStart(start)
		}
		if attempt == 0 {
			a.afterDDL = func() error { return errors.New("crash after the DDL") }
		}
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		a.cfg.OnEpoch = func(p Progress) {
			if p.Position.Compare(end) >= 0 {
				cancel()
			}
		}
		st, err := binlog.Open(rctx, streamConfig(t, env, cfg.Select), from)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Run(rctx, st)
		st.Close()
		a.Close()
		cancel()
		switch {
		case attempt == 0 && (err == nil || !strings.Contains(err.Error(), "crash after the DDL")):
			t.Fatalf("the first run should stop at the crash: %v", err)
		case attempt == 1 && err != nil && !errors.Is(err, context.Canceled):
			t.Fatalf("the run after the crash: %v", err)
		}
	}
	if len(calls) != 2 || calls[0] || !calls[1] {
		t.Errorf("DDL calls (retried flags) %v, want [false true]", calls)
	}
	want := dump(t, src, "SELECT * FROM "+sq+".`audit` ORDER BY `k`")
	got := dump(t, dst, "SELECT * FROM "+dq+".`audit` ORDER BY `k`")
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("audit differs:\n%s\nvs\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
