package schemahist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/applier"
	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// sel replicates every table of src into dst (a renamed database), column `a`
// of `order` as `alpha`.
type sel struct{ src, dst string }

func (s sel) Table(db, table string) (string, string, bool) { return s.dst, table, db == s.src }
func (s sel) Column(db, table, column string) (string, bool) {
	if table == "order" && column == "a" {
		return "alpha", false
	}
	return column, false
}
func (s sel) Operations(db, table string) []string   { return nil }
func (s sel) Database(db string) string              { return map[bool]string{true: s.dst, false: db}[db == s.src] }
func (s sel) Selects(db, table string) bool          { return db == s.src }
func (s sel) SelectsDatabase(db string) (bool, bool) { return db == s.src, db == s.src }

// databases creates srcDB on the source and dstDB on the destination with the
// same statements (%s is the quoted database), and returns pools and quoted names.
func databases(t *testing.T, srcDB, dstDB string, stmts ...string) (*testenv.Env, *sql.DB, *sql.DB, string, string) {
	t.Helper()
	env := testenv.Shared(t)
	var pools [2]*sql.DB
	for i, x := range []struct {
		srv *testenv.Server
		db  string
	}{{env.Source, srcDB}, {env.Destination, dstDB}} {
		db, err := x.srv.Open("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		q := sqltok.Quote(x.db)
		exec(t, db, "DROP DATABASE IF EXISTS "+q, "CREATE DATABASE "+q)
		for _, st := range stmts {
			exec(t, db, fmt.Sprintf(st, q))
		}
		pools[i] = db
	}
	return env, pools[0], pools[1], sqltok.Quote(srcDB), sqltok.Quote(dstDB)
}

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func rowsOf(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		v := make([]sql.NullString, len(cols))
		p := make([]any, len(cols))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, x := range v {
			parts = append(parts, x.String+map[bool]string{true: "", false: "∅"}[x.Valid])
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return strings.Join(cols, ",") + "\n" + strings.Join(out, "\n")
}

// TestCatchUpAcrossDDL replays, after the fact, writes interleaved with every
// replicated DDL kind on tables: events written before an ALTER must decode with
// the columns they were written with (the source's current schema would not
// match them), the DDL must reach the renamed destination database, and rows
// after it must land in the new shape.
func TestCatchUpAcrossDDL(t *testing.T) {
	const srcDB, dstDB = "sh-src", "sh dst"
	env, src, dst, s, d := databases(t, srcDB, dstDB,
		"CREATE TABLE %s.`order` (`id` INT PRIMARY KEY, `a` INT, `b` VARCHAR(10))",
		"CREATE TABLE %s.`t2` (`k` VARCHAR(10) NOT NULL PRIMARY KEY, `v` INT)")
	exec(t, dst, "ALTER TABLE "+d+".`order` CHANGE `a` `alpha` INT")
	ctx := context.Background()
	p, err := inspect.BinlogPosition(ctx, src)
	if err != nil || p == nil {
		t.Fatal(p, err)
	}
	start := binlog.Position(*p)
	task := "sh-test"
	selection := sel{srcDB, dstDB}
	h, err := Open(ctx, dst, task, selection)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Init(ctx, src, []Table{{srcDB, "order"}, {srcDB, "t2"}}); err != nil {
		t.Fatal(err)
	}
	exec(t, src,
		"INSERT INTO "+s+".`order` VALUES (1, 10, 'x'), (2, 20, 'y')",
		"INSERT INTO "+s+".t2 VALUES ('a', 1), ('b', 2)",
		"ALTER TABLE "+s+".`order` ADD COLUMN `c` DECIMAL(5,2) NOT NULL DEFAULT 1.5 AFTER `a`",
		"INSERT INTO "+s+".`order` VALUES (3, 30, 2.25, 'z')",
		"UPDATE "+s+".`order` SET `b` = 'w' WHERE `id` = 1",
		"ALTER TABLE "+s+".`order` DROP COLUMN `a`, ADD UNIQUE KEY `ub` (`b`)",
		"UPDATE "+s+".`order` SET `id` = 4 WHERE `id` = 2",
		"RENAME TABLE "+s+".t2 TO "+s+".`my-t3`",
		"INSERT INTO "+s+".`my-t3` VALUES ('c', 3)",
		"CREATE TABLE "+s+".`new` (`n` INT PRIMARY KEY, `s` SET('p','q'))",
		"INSERT INTO "+s+".`new` VALUES (1, 'p,q'), (2, '')",
		"CREATE INDEX `iv` ON "+s+".`my-t3` (`v`)",
		"TRUNCATE TABLE "+s+".`new`",
		"INSERT INTO "+s+".`new` VALUES (7, 'q')",
		"DROP INDEX `iv` ON "+s+".`my-t3`",
		"ALTER TABLE "+s+".`order` CHANGE `b` `bee` VARCHAR(20)",
		"INSERT INTO "+s+".`order` VALUES (5, 9.75, 'after')",
		"CREATE TABLE "+s+".`gone` (`x` INT)",
		"INSERT INTO "+s+".`gone` VALUES (1)",
		"DROP TABLE "+s+".`gone`",
	)
	end, err := inspect.BinlogPosition(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	replay(t, env, src, dst, h, task, selection, nil, start, binlog.Position(*end))
	for _, tb := range []string{"`order`", "`my-t3`", "`new`"} {
		want := rowsOf(t, src, "SELECT * FROM "+s+"."+tb+" ORDER BY 1")
		got := rowsOf(t, dst, "SELECT * FROM "+d+"."+tb+" ORDER BY 1")
		if want != got {
			t.Errorf("%s differs\nsource:\n%s\ndestination:\n%s", tb, want, got)
		}
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('t2', 'gone')", dstDB).Scan(&n); err != nil || n != 0 {
		t.Errorf("renamed and dropped tables still on the destination: %d %v", n, err)
	}
	// Decoding with the source's current schema instead fails on the first
	// pre-ALTER event (a clear mismatch, never shifted columns): the history is
	// what makes the catch-up work.
	st2, err := binlog.Open(ctx, streamConfig(env, t.Name()+"2", func(ctx context.Context, db, table string) (*binlog.Table, error) {
		if db != srcDB {
			return nil, nil
		}
		return binlog.LoadTable(ctx, src, db, table)
	}), start)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var mm *binlog.MismatchError
	for {
		ctx2, c2 := context.WithTimeout(ctx, 5*time.Second)
		_, err := st2.Next(ctx2)
		c2()
		if err != nil {
			if !errors.As(err, &mm) {
				t.Fatalf("without the history: %v, want a MismatchError", err)
			}
			break
		}
	}
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", h.Shadow(srcDB)).Scan(&n); err != nil || n != 0 {
		t.Errorf("shadow database left after Drop: %d %v", n, err)
	}
}

// ghostSel is sel with gh-ost's tables left out, as the activity's selection does.
type ghostSel struct {
	sel
	g *ddl.GhostNames
}

func (s ghostSel) Table(db, table string) (string, string, bool) {
	if s.g.Ignored(table) {
		return "", "", false
	}
	return s.sel.Table(db, table)
}

func (s ghostSel) Selects(db, table string) bool {
	return !s.g.Ignored(table) && s.sel.Selects(db, table)
}

// TestGhostRun reproduces gh-ost on the source (its changelog and shadow tables,
// the ALTER on the shadow, the row copy, writes during it, the atomic cut-over
// rename, the drops) and replays it: the destination's table gets the ALTER at
// the cut-over, never the shadow's rows, and equals the source.
func TestGhostRun(t *testing.T) {
	const srcDB, dstDB = "gh-src", "gh dst"
	env, src, dst, s, d := databases(t, srcDB, dstDB,
		"CREATE TABLE %s.`order` (`id` INT PRIMARY KEY, `a` INT)",
		"INSERT INTO %s.`order` VALUES (1, 1), (2, 2)")
	exec(t, dst, "ALTER TABLE "+d+".`order` CHANGE `a` `alpha` INT")
	ctx := context.Background()
	g, err := ddl.CompileGhostNames(spec.DefaultGhOstShadowTable, spec.DefaultGhOstTrashTable)
	if err != nil {
		t.Fatal(err)
	}
	selection := ghostSel{sel{srcDB, dstDB}, g}
	p, _ := inspect.BinlogPosition(ctx, src)
	start := binlog.Position(*p)
	task := "gh-test"
	h, err := Open(ctx, dst, task, selection)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Init(ctx, src, []Table{{srcDB, "order"}}); err != nil {
		t.Fatal(err)
	}
	exec(t, src,
		"CREATE TABLE "+s+".`_order_ghc` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, `hint` VARCHAR(64), `value` TEXT, UNIQUE KEY (`hint`))",
		"INSERT INTO "+s+".`_order_ghc` (`hint`, `value`) VALUES ('state', 'GhostTableMigrated')",
		"CREATE TABLE "+s+".`_order_gho` LIKE "+s+".`order`",
		"ALTER TABLE "+s+".`_order_gho` ADD COLUMN `extra` INT NOT NULL DEFAULT 5, ADD KEY `ka` (`a`)",
		"INSERT INTO "+s+".`order` VALUES (3, 3)",
		"INSERT IGNORE INTO "+s+".`_order_gho` (`id`, `a`) SELECT `id`, `a` FROM "+s+".`order`",
		"UPDATE "+s+".`order` SET `a` = 20 WHERE `id` = 2",
		"REPLACE INTO "+s+".`_order_gho` (`id`, `a`) VALUES (2, 20)",
		"RENAME TABLE "+s+".`order` TO "+s+".`_order_del`, "+s+".`_order_gho` TO "+s+".`order`",
		"INSERT INTO "+s+".`order` VALUES (4, 4, 44)",
		"DROP TABLE "+s+".`_order_del`",
		"DROP TABLE "+s+".`_order_ghc`",
	)
	end, _ := inspect.BinlogPosition(ctx, src)
	replay(t, env, src, dst, h, task, selection, g, start, binlog.Position(*end))
	want := rowsOf(t, src, "SELECT * FROM "+s+".`order` ORDER BY 1")
	got := rowsOf(t, dst, "SELECT * FROM "+d+".`order` ORDER BY 1")
	if want != strings.Replace(got, "id,alpha,", "id,a,", 1) || !strings.HasPrefix(got, "id,alpha,extra\n") {
		t.Errorf("after the gh-ost run\nsource:\n%s\ndestination:\n%s", want, got)
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE '\\_order\\_%'", dstDB).Scan(&n); err != nil || n != 0 {
		t.Errorf("gh-ost tables reached the destination: %d %v", n, err)
	}
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'order' AND INDEX_NAME = 'ka'", dstDB).Scan(&n); err != nil || n != 1 {
		t.Errorf("the gh-ost ALTER's index is not on the destination: %d %v", n, err)
	}
}

// replay applies the source's binlog from start to end through the applier with
// the history h, as the Incremental activity does.
func replay(t *testing.T, env *testenv.Env, src, dst *sql.DB, h *History, task string, selection interface {
	applier.Selection
	ddl.Selector
}, g *ddl.GhostNames, start, end binlog.Position) {
	t.Helper()
	ctx := context.Background()
	if err := applier.Reset(ctx, dst, task); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ap, err := applier.New(runCtx, applier.Config{
		Task: task, Dest: dst, Source: src, Select: selection, Slots: 2,
		KeySource: func(db string) (*sql.DB, string) { return dst, h.Shadow(db) },
		DDL: func(ctx context.Context, schema, stmt, at string, retried bool) ([]string, error) {
			rd, err := h.Replicate(ctx, selection, g, schema, stmt, at, retried)
			return rd.Statements, err
		},
		OnEpoch: func(p applier.Progress) {
			if p.Position.Compare(end) >= 0 {
				cancel()
			}
		},
	}, binlog.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	ap.SetStart(start)
	st, err := binlog.Open(runCtx, streamConfig(env, t.Name(), h.Lookup), start)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := ap.Run(runCtx, st); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if got := ap.Progress(); got.Position.Compare(end) < 0 {
		t.Fatalf("stopped at %s before %s", got.Position, end)
	}
}

func streamConfig(env *testenv.Env, name string, lookup binlog.Lookup) binlog.Config {
	return binlog.Config{
		Endpoint: spec.Endpoint{Host: env.Source.Host, Port: env.Source.Port, User: env.Source.RootUser, Password: "${P}", TLS: spec.TLS{Mode: "preferred"}},
		Env:      func(string) (string, bool) { return env.Source.RootPassword, true },
		ServerID: binlog.ServerIDFor(name),
		Lookup:   lookup,
	}
}

// The shadow keeps foreign keys (the applier reads cascades there, as of the
// event), pointing at shadow databases that SourceOf maps back; a replicated
// RENAME moves them with the table.
func TestShadowForeignKeys(t *testing.T) {
	srcDB, dstDB := "sh_fk_src", "sh_fk_dst"
	_, src, dst, s, _ := databases(t, srcDB, dstDB,
		"CREATE TABLE %s.p (id INT PRIMARY KEY) ENGINE=InnoDB",
		"CREATE TABLE %[1]s.c (id INT PRIMARY KEY, pid INT, FOREIGN KEY fk_c (pid) REFERENCES %[1]s.p (id) ON DELETE CASCADE) ENGINE=InnoDB")
	ctx := context.Background()
	h, err := Open(ctx, dst, "fk-test", sel{srcDB, dstDB})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Init(ctx, src, []Table{{srcDB, "p"}, {srcDB, "c"}}); err != nil {
		t.Fatal(err)
	}
	fks := func() string {
		_, rows, _ := strings.Cut(rowsOf(t, dst, "SELECT CONCAT(r.TABLE_NAME, '->', k.REFERENCED_TABLE_SCHEMA = '"+h.Shadow(srcDB)+"', '.', r.REFERENCED_TABLE_NAME, ' ', r.DELETE_RULE)"+
			" FROM information_schema.REFERENTIAL_CONSTRAINTS r JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME AND k.TABLE_NAME = r.TABLE_NAME"+
			" WHERE r.CONSTRAINT_SCHEMA = '"+h.Shadow(srcDB)+"'"), "\n") // without the header line
		return rows
	}
	if got := fks(); got != "c->1.p CASCADE" {
		t.Errorf("shadow foreign keys: %q", got)
	}
	if db, ok := h.SourceOf(ctx, h.Shadow(srcDB)); !ok || db != srcDB {
		t.Errorf("SourceOf(%s) = %q, %v", h.Shadow(srcDB), db, ok)
	}
	if _, ok := h.SourceOf(ctx, "nope"); ok {
		t.Error("SourceOf of an unknown database")
	}
	if _, err := h.Replicate(ctx, sel{srcDB, dstDB}, nil, srcDB, "RENAME TABLE "+s+".c TO "+s+".c2", "at-1", false); err != nil {
		t.Fatal(err)
	}
	if got := fks(); got != "c2->1.p CASCADE" {
		t.Errorf("after RENAME: %q", got)
	}
}

// A swap (RENAME a TO tmp, b TO a, tmp TO b) run again after a crash does not
// swap back, in the shadow or on the destination, whichever ran before it.
func TestSwapRenameRunsOnce(t *testing.T) {
	srcDB, dstDB := "sh_swap_src", "sh_swap_dst"
	_, src, dst, s, _ := databases(t, srcDB, dstDB,
		"CREATE TABLE %s.a (id INT PRIMARY KEY, only_a INT)",
		"CREATE TABLE %s.b (id INT PRIMARY KEY, only_b INT)")
	ctx := context.Background()
	h, err := Open(ctx, dst, "swap-test", sel{srcDB, dstDB})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Init(ctx, src, []Table{{srcDB, "a"}, {srcDB, "b"}}); err != nil {
		t.Fatal(err)
	}
	swap := "RENAME TABLE " + s + ".a TO " + s + ".tmp, " + s + ".b TO " + s + ".a, " + s + ".tmp TO " + s + ".b"
	cols := func(db, table string) string {
		_, rows, _ := strings.Cut(rowsOf(t, dst, "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"+db+"' AND TABLE_NAME = '"+table+"'"), "\n")
		return rows
	}
	check := func(what, wantA string) {
		t.Helper()
		if got := cols(h.Shadow(srcDB), "a"); got != wantA {
			t.Errorf("%s: shadow a has %q, want %q", what, got, wantA)
		}
		if got := cols(dstDB, "a"); got != wantA {
			t.Errorf("%s: destination a has %q, want %q", what, got, wantA)
		}
	}
	run := func(at string, retried bool) []string {
		t.Helper()
		rd, err := h.Replicate(ctx, sel{srcDB, dstDB}, nil, srcDB, swap, at, retried)
		if err != nil {
			t.Fatal(err)
		}
		if rd.NotIdempotent != "" {
			t.Errorf("the guarded swap still says %q", rd.NotIdempotent)
		}
		return rd.Statements
	}
	execAll := func(stmts []string) {
		t.Helper()
		for _, q := range stmts {
			exec(t, dst, q)
		}
	}
	// 1. A crash between the shadow's rename and the destination's.
	run("at-1", false) // the destination statement is lost with the crash
	stmts := run("at-1", true)
	if len(stmts) != 1 {
		t.Fatalf("after a crash before the destination ran: %q", stmts)
	}
	execAll(stmts)
	check("crash before the destination", "id,only_b")
	// 2. A crash after the destination's rename, before the checkpoint.
	execAll(run("at-2", false))
	check("second swap", "id,only_a")
	if stmts := run("at-2", true); len(stmts) != 0 {
		t.Errorf("after a crash once both ran: %q", stmts)
	}
	check("the second swap's re-run", "id,only_a")
	// Guards of earlier positions are dropped; Drop removes the rest.
	if err := h.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := strings.Cut(rowsOf(t, dst, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sluice' AND TABLE_COMMENT = '"+guardComment("swap-test")+"'"), "\n"); n != "0" {
		t.Errorf("%s guard tables left after Drop", n)
	}
}
