package applier

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

// The cascade tables: c and n reference p (CASCADE both ways; SET NULL), g
// references c (CASCADE: a grandchild, reached through InnoDB's own cascade).
const cascadeTables = "CREATE TABLE %[1]s.`p` (`id` INT NOT NULL PRIMARY KEY, `code` VARCHAR(10) COLLATE utf8mb4_unicode_ci NOT NULL, UNIQUE KEY `uc` (`code`)) ENGINE=InnoDB;" +
	"CREATE TABLE %[1]s.`c` (`id` INT NOT NULL PRIMARY KEY, `pid` INT, `pcode` VARCHAR(10) COLLATE utf8mb4_unicode_ci, `v` INT NOT NULL DEFAULT 0," +
	" CONSTRAINT `fk_c_p` FOREIGN KEY (`pid`) REFERENCES %[1]s.`p` (`id`) ON DELETE CASCADE ON UPDATE CASCADE," +
	" CONSTRAINT `fk_c_code` FOREIGN KEY (`pcode`) REFERENCES %[1]s.`p` (`code`) ON DELETE SET NULL ON UPDATE CASCADE) ENGINE=InnoDB;" +
	"CREATE TABLE %[1]s.`n` (`id` INT NOT NULL PRIMARY KEY, `pid` INT, CONSTRAINT `fk_n_p` FOREIGN KEY (`pid`) REFERENCES %[1]s.`p` (`id`) ON DELETE SET NULL ON UPDATE SET NULL) ENGINE=InnoDB;" +
	"CREATE TABLE %[1]s.`g` (`id` INT NOT NULL PRIMARY KEY, `cid` INT NOT NULL, CONSTRAINT `fk_g_c` FOREIGN KEY (`cid`) REFERENCES %[1]s.`c` (`id`) ON DELETE CASCADE) ENGINE=InnoDB"

// TestForeignKeyCascades: the source's cascades (unlogged) happen on the
// destination too, under a random load applied with four slots and
// interruptions; also for a child row the destination holds without its parent
// (the full copy read the child, the parent was deleted before its copy).
func TestForeignKeyCascades(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "cascade")
	for _, s := range strings.Split(fmt.Sprintf(cascadeTables, sqltok.Quote(srcDB)), ";") {
		mustExec(t, src, s)
	}
	for _, s := range strings.Split(fmt.Sprintf(cascadeTables, sqltok.Quote(dstDB)), ";") {
		mustExec(t, dst, s)
	}
	sq, dq := sqltok.Quote(srcDB), sqltok.Quote(dstDB)
	// The state the full copy left: parents 1..20 with children; on the
	// destination also an orphan child (and grandchild) of parent 99, which the
	// source deletes after the start position.
	for _, q := range []struct{ db, name string }{{sq, "src"}, {dq, "dst"}} {
		db := src
		if q.name == "dst" {
			db = dst
		}
		for i := 1; i <= 20; i++ {
			mustExec(t, db, fmt.Sprintf("INSERT INTO %s.`p` VALUES (%d, 'p%d')", q.db, i, i),
				fmt.Sprintf("INSERT INTO %s.`c` VALUES (%d, %d, 'p%d', 0)", q.db, 100+i, i, i),
				fmt.Sprintf("INSERT INTO %s.`n` VALUES (%d, %d)", q.db, 200+i, i),
				fmt.Sprintf("INSERT INTO %s.`g` VALUES (%d, %d)", q.db, 300+i, 100+i))
		}
	}
	mustExec(t, src, "INSERT INTO "+sq+".`p` VALUES (99, 'p99')", "INSERT INTO "+sq+".`c` VALUES (199, 99, 'p99', 0)",
		"INSERT INTO "+sq+".`g` VALUES (399, 199)")
	mustExec(t, dst, "SET SESSION foreign_key_checks = 0", "INSERT INTO "+dq+".`c` VALUES (199, 99, 'p99', 0)",
		"INSERT INTO "+dq+".`g` VALUES (399, 199)")
	start := position(t, src)
	mustExec(t, src, "DELETE FROM "+sq+".`p` WHERE `id` = 99")
	r := rand.New(rand.NewPCG(5, 9))
	for i := 0; i < 400; i++ {
		id := 1 + r.IntN(40)
		var q string
		switch r.IntN(8) {
		case 0, 1:
			q = fmt.Sprintf("INSERT IGNORE INTO %s.`p` VALUES (%d, 'p%d')", sq, id, r.IntN(60))
		case 2:
			q = fmt.Sprintf("INSERT IGNORE INTO %s.`c` SELECT %d, `id`, `code`, %d FROM %s.`p` WHERE `id` = %d", sq, 100+r.IntN(60), i, sq, id)
		case 3:
			q = fmt.Sprintf("INSERT IGNORE INTO %s.`g` SELECT %d, `id` FROM %s.`c` ORDER BY RAND(%d) LIMIT 1", sq, 300+r.IntN(80), sq, i)
		case 4:
			q = fmt.Sprintf("DELETE FROM %s.`p` WHERE `id` = %d", sq, id)
		case 5:
			// A referenced key changes: ON UPDATE CASCADE / SET NULL.
			q = fmt.Sprintf("UPDATE IGNORE %s.`p` SET `id` = %d WHERE `id` = %d", sq, 41+r.IntN(40), id)
		case 6:
			q = fmt.Sprintf("UPDATE IGNORE %s.`p` SET `code` = 'x%d' WHERE `id` = %d", sq, r.IntN(60), id)
		case 7:
			q = fmt.Sprintf("UPDATE %s.`c` SET `v` = `v` + 1 WHERE `pid` = %d", sq, id)
		}
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	end := position(t, src)
	cfg := Config{Task: "test-cascade", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 4, EpochTxns: 32, MultiStatements: true}
	resetTask(t, dst, cfg.Task)
	done := false
	for i := 0; i < 10 && !done; i++ {
		_, done = runUntil(t, env, cfg, start, end, time.Duration(20+r.IntN(100))*time.Millisecond)
	}
	if !done {
		if _, done = runUntil(t, env, cfg, start, end, time.Minute); !done {
			t.Fatal("not caught up")
		}
	}
	for _, tb := range []string{"p", "c", "n", "g"} {
		q := "SELECT * FROM %s.`" + tb + "` ORDER BY `id`"
		want, got := dump(t, src, fmt.Sprintf(q, sq)), dump(t, dst, fmt.Sprintf(q, dq))
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s differs\nsource (%d rows):\n%s\ndestination (%d rows):\n%s", tb, len(want), strings.Join(want, "\n"), len(got), strings.Join(got, "\n"))
		}
	}
	// The check has teeth: the source's cascades did remove and null rows.
	var nulls int
	if err := src.QueryRow("SELECT COUNT(*) FROM " + sq + ".`n` WHERE `pid` IS NULL").Scan(&nulls); err != nil || nulls == 0 {
		t.Errorf("the load set no child to NULL (%d, %v)", nulls, err)
	}
}

// Two levels of ON UPDATE CASCADE (p.code -> c.pcode -> g.cpcode): the child's
// update runs with checks on after the parent's new row, so InnoDB carries it
// to the grandchild.
func TestForeignKeyUpdateCascadeTwoLevels(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "cascade2")
	ddl := "CREATE TABLE %[1]s.`p` (`id` INT PRIMARY KEY, `code` VARCHAR(10) NOT NULL, UNIQUE KEY (`code`)) ENGINE=InnoDB;" +
		"CREATE TABLE %[1]s.`c` (`id` INT PRIMARY KEY, `pcode` VARCHAR(10), UNIQUE KEY (`pcode`), FOREIGN KEY (`pcode`) REFERENCES %[1]s.`p` (`code`) ON UPDATE CASCADE) ENGINE=InnoDB;" +
		"CREATE TABLE %[1]s.`g` (`id` INT PRIMARY KEY, `cpcode` VARCHAR(10), FOREIGN KEY (`cpcode`) REFERENCES %[1]s.`c` (`pcode`) ON UPDATE CASCADE) ENGINE=InnoDB"
	for _, x := range []struct {
		db   *sql.DB
		name string
	}{{src, srcDB}, {dst, dstDB}} {
		q := sqltok.Quote(x.name)
		for _, s := range strings.Split(fmt.Sprintf(ddl, q), ";") {
			mustExec(t, x.db, s)
		}
		mustExec(t, x.db, "INSERT INTO "+q+".p VALUES (1,'a'), (2, 'x')", "INSERT INTO "+q+".c VALUES (10,'a')", "INSERT INTO "+q+".g VALUES (100,'a')")
	}
	start := position(t, src)
	mustExec(t, src, "UPDATE "+sqltok.Quote(srcDB)+".p SET code = 'b' WHERE id = 1", "UPDATE "+sqltok.Quote(srcDB)+".p SET id = 3 WHERE id = 2")
	end := position(t, src)
	cfg := Config{Task: "test-cascade2", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2, MultiStatements: true}
	resetTask(t, dst, cfg.Task)
	if _, done := runUntil(t, env, cfg, start, end, time.Minute); !done {
		t.Fatal("not caught up")
	}
	for _, tb := range []string{"p", "c", "g"} {
		w := dump(t, src, "SELECT * FROM "+sqltok.Quote(srcDB)+"."+tb+" ORDER BY id")
		g := dump(t, dst, "SELECT * FROM "+sqltok.Quote(dstDB)+"."+tb+" ORDER BY id")
		if strings.Join(w, "|") != strings.Join(g, "|") {
			t.Errorf("%s: source %v destination %v", tb, w, g)
		}
	}
}

// A parent the filter keeps off the destination still cascades: the source's
// InnoDB deleted, updated or nulled its children, which the destination holds
// (children are not filtered). Deleted, key changed while out of the filter,
// brought into it (upsert, checks on) and taken out of it (left).
func TestCascadeOfFilteredParent(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "cascadef")
	sq, dq := sqltok.Quote(srcDB), sqltok.Quote(dstDB)
	for _, x := range []struct {
		db *sql.DB
		q  string
	}{{src, sq}, {dst, dq}} {
		for _, s := range strings.Split(fmt.Sprintf(cascadeTables, x.q), ";") {
			mustExec(t, x.db, s)
		}
	}
	const keep = "`id` < 10 OR `id` > 50"
	var load []string
	for i := 1; i <= 20; i++ {
		load = append(load, fmt.Sprintf("INSERT INTO %%[1]s.`p` VALUES (%d, 'p%d')", i, i),
			fmt.Sprintf("INSERT INTO %%[1]s.`c` VALUES (%d, %d, 'p%d', 0)", 100+i, i, i),
			fmt.Sprintf("INSERT INTO %%[1]s.`n` VALUES (%d, %d)", 200+i, i),
			fmt.Sprintf("INSERT INTO %%[1]s.`g` VALUES (%d, %d)", 300+i, 100+i))
	}
	all := fmt.Sprintf(strings.Join(load, ";"), sq)
	mustExec(t, src, all)
	// The full copy's result: the filtered parents, every child.
	mustExec(t, dst, "SET SESSION foreign_key_checks = 0;"+fmt.Sprintf(strings.Join(load, ";"), dq)+";DELETE FROM "+dq+".`p` WHERE NOT ("+keep+")")
	start := position(t, src)
	mustExec(t, src,
		"DELETE FROM "+sq+".`p` WHERE `id` = 15",               // out: c 115 and g 315 go, n 215 nulls
		"UPDATE "+sq+".`p` SET `id` = 35 WHERE `id` = 16",      // out → out: c 116 follows, n 216 nulls
		"UPDATE "+sq+".`p` SET `id` = 60 WHERE `id` = 17",      // out → in (upsert): c 117 follows
		"UPDATE "+sq+".`p` SET `id` = 30 WHERE `id` = 3",       // in → out (left): c 103 follows, n 203 nulls
		"UPDATE "+sq+".`p` SET `code` = 'q18' WHERE `id` = 18") // out → out: c 118's pcode follows
	end := position(t, src)
	compile := func(ctx context.Context, db, table string, cols []rowcodec.Column) (*etl.Program, error) {
		if table != "p" {
			return nil, nil
		}
		var tc []etl.Column
		for _, c := range cols {
			tc = append(tc, etl.Column{Column: c, Key: c.Name == "id"})
		}
		return etl.Compile(etl.Table{Schema: db, Name: table, Columns: tc}, etl.Spec{Filter: "row.id < 10 || row.id > 50"})
	}
	cfg := Config{Task: "test-cascadef", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2, MultiStatements: true, ETL: compile}
	resetTask(t, dst, cfg.Task)
	if _, done := runUntil(t, env, cfg, start, end, time.Minute); !done {
		t.Fatal("not caught up")
	}
	for _, tb := range []string{"c", "n", "g"} {
		q := "SELECT * FROM %s.`" + tb + "` ORDER BY `id`"
		want, got := dump(t, src, fmt.Sprintf(q, sq)), dump(t, dst, fmt.Sprintf(q, dq))
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s differs\nsource:\n%s\ndestination:\n%s", tb, strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
	}
	want := dump(t, src, "SELECT * FROM "+sq+".`p` WHERE "+keep+" ORDER BY `id`")
	if got := dump(t, dst, "SELECT * FROM "+dq+".`p` ORDER BY `id`"); strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("p: source (filtered) %v, destination %v", want, got)
	}
}

// With a schema history (KeySource/SourceDB), the foreign keys come from its
// shadow tables, as of the events: here the source has dropped them since, and
// the destination still runs the cascades the source ran when it deleted and
// re-keyed parents.
func TestCascadeKeysFromHistory(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "cascadeh")
	shadow := "ap shadow cascadeh"
	sq, dq, hq := sqltok.Quote(srcDB), sqltok.Quote(dstDB), sqltok.Quote(shadow)
	mustExec(t, dst, "DROP DATABASE IF EXISTS "+hq, "CREATE DATABASE "+hq)
	t.Cleanup(func() { dst.Exec("DROP DATABASE IF EXISTS " + hq) })
	for _, x := range []struct {
		db *sql.DB
		q  string
	}{{src, sq}, {dst, dq}, {dst, hq}} {
		for _, s := range strings.Split(fmt.Sprintf(cascadeTables, x.q), ";") {
			mustExec(t, x.db, s)
		}
		for i := 1; i <= 3; i++ {
			mustExec(t, x.db, fmt.Sprintf("INSERT INTO %s.`p` VALUES (%d, 'p%d')", x.q, i, i),
				fmt.Sprintf("INSERT INTO %s.`c` VALUES (%d, %d, 'p%d', 0)", x.q, 100+i, i, i),
				fmt.Sprintf("INSERT INTO %s.`n` VALUES (%d, %d)", x.q, 200+i, i),
				fmt.Sprintf("INSERT INTO %s.`g` VALUES (%d, %d)", x.q, 300+i, 100+i))
		}
	}
	start := position(t, src)
	mustExec(t, src, "DELETE FROM "+sq+".`p` WHERE `id` = 1", "UPDATE "+sq+".`p` SET `id` = 9 WHERE `id` = 2")
	end := position(t, src)
	want := map[string][]string{}
	for _, tb := range []string{"p", "c", "n", "g"} {
		want[tb] = dump(t, src, "SELECT * FROM "+sq+".`"+tb+"` ORDER BY `id`")
	}
	// Later the source drops the foreign keys: the source no longer knows them.
	mustExec(t, src, "ALTER TABLE "+sq+".`g` DROP FOREIGN KEY `fk_g_c`", "ALTER TABLE "+sq+".`n` DROP FOREIGN KEY `fk_n_p`",
		"ALTER TABLE "+sq+".`c` DROP FOREIGN KEY `fk_c_p`, DROP FOREIGN KEY `fk_c_code`")
	cfg := Config{Task: "test-cascadeh", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2, MultiStatements: true,
		KeySource: func(db string) (*sql.DB, string) {
			if db == srcDB {
				return dst, shadow
			}
			return nil, ""
		},
		SourceDB: func(_ context.Context, schema string) (string, bool) { return srcDB, schema == shadow },
	}
	resetTask(t, dst, cfg.Task)
	if _, done := runUntil(t, env, cfg, start, end, time.Minute); !done {
		t.Fatal("not caught up")
	}
	for _, tb := range []string{"p", "c", "n", "g"} {
		got := dump(t, dst, "SELECT * FROM "+dq+".`"+tb+"` ORDER BY `id`")
		if strings.Join(want[tb], "\n") != strings.Join(got, "\n") {
			t.Errorf("%s: source %v, destination %v", tb, want[tb], got)
		}
	}
	if len(want["g"]) != 2 || len(want["c"]) != 2 {
		t.Fatalf("the source's cascades did not run: %v", want)
	}
}
