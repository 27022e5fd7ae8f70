package inspect

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

// binlogStatus is SHOW BINLOG STATUS of srv.
func binlogStatus(t *testing.T, db *sql.DB) (string, int64) {
	t.Helper()
	var file, doDB, ignoreDB string
	var pos int64
	if err := db.QueryRow("SHOW BINLOG STATUS").Scan(&file, &pos, &doDB, &ignoreDB); err != nil {
		t.Fatal(err)
	}
	return file, pos
}

func gtidBinlogPos(t *testing.T, db *sql.DB) string {
	t.Helper()
	var pos string
	if err := db.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	return pos
}

// eventPos is the position of the first event of the given type in file.
func eventPos(t *testing.T, db *sql.DB, file, eventType string) int64 {
	t.Helper()
	rows, err := queryMaps(t.Context(), db, "SHOW BINLOG EVENTS IN "+testenv.QuoteString(file))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["Event_type"] == eventType {
			p, err := strconv.ParseInt(r["Pos"], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("no %s event in %s: %v", eventType, file, rows)
	return 0
}

// purgeTo purges the binlog files before file. MariaDB keeps a file while InnoDB
// may still need it for crash recovery (until its binlog checkpoint moves on), so
// InnoDB's log is flushed and the purge retried until the file is gone.
func purgeTo(t *testing.T, h *harness, srv *testenv.Server, conn *sql.DB, file string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.exec(srv, "FLUSH ENGINE LOGS", "PURGE BINARY LOGS TO "+testenv.QuoteString(file))
		var first string
		var size int64
		if err := conn.QueryRow("SHOW BINARY LOGS").Scan(&first, &size); err != nil {
			t.Fatal(err)
		}
		if first == file {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("binlogs before %s still there after 30s (oldest %s)", file, first)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// options.incremental.start against a real source: a server of its own, because the
// test purges its binlogs.
func TestBinlogStart(t *testing.T) {
	h := newHarness(t)
	srv := h.startServer(testenv.ServerOptions{Name: "start", Binlog: true})
	db := uniq("start")
	h.database(srv, db, tbl(pkTable, "t"), "INSERT INTO t VALUES (1, 'a')")
	conn, err := srv.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// A backup taken now would record this position; then more writes follow, in
	// two more binlog files.
	file1, pos1 := binlogStatus(t, conn)
	gtid1 := gtidBinlogPos(t, conn)
	h.exec(srv, "FLUSH BINARY LOGS", "INSERT INTO "+q(db)+".t VALUES (2, 'b')", "FLUSH BINARY LOGS", "INSERT INTO "+q(db)+".t VALUES (3, 'c')")
	file3, pos3 := binlogStatus(t, conn)
	if file3 == file1 {
		t.Fatalf("FLUSH BINARY LOGS did not rotate: %s", file3)
	}

	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "*"}}})
	s.Source = h.endpoint(srv, "START_PW")
	s.Types = []spec.MigrationType{spec.TypeIncremental}
	s.Options.Conflicts = "ignore"
	run := func(st spec.BinlogPosition) precheck.Report {
		t.Helper()
		s.Options.Incremental.Start = st
		if err := s.Validate(); err != nil {
			t.Fatalf("the spec is invalid: %v", err)
		}
		return h.run(s)
	}
	at := func(file string, pos int64) spec.BinlogPosition {
		return spec.BinlogPosition{BinlogFile: file, BinlogPos: pos}
	}
	where := func(file string, pos int64) string { return fmt.Sprintf("options.incremental.start %s:%d", file, pos) }

	r := run(at(file1, pos1))
	expect(t, r, precheck.IDBinlogStart, precheck.Pass, []string{where(file1, pos1) + " is on the source", "2 newer files after it"})
	r = run(at(file3, pos3))
	expect(t, r, precheck.IDBinlogStart, precheck.Pass, []string{"0 newer files after it"})

	// A file the source never had.
	r = run(at("binlog.999999", 4))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the binlog file binlog.999999 is not on the source", "the source has not written it yet",
		"(the source has " + file1}, "options.incremental.start out")
	r = run(at("mysql-bin.000001", 4))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the source names its binlog files binlog.NNNNNN, not mysql-bin.NNNNNN"})

	// Positions the server refuses, or that cut a transaction in two.
	gtidEvent := eventPos(t, conn, file3, "Gtid")
	r = run(at(file3, gtidEvent+1))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the source refuses the position, which is not the start of an event in " + file3, "Wrong offset"})
	tableMap := eventPos(t, conn, file3, "Table_map")
	r = run(at(file3, tableMap))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{fmt.Sprintf("%s:%d: the position points into the middle of a transaction (at a Table_map event)", file3, tableMap)})
	r = run(at(file1, 1<<40))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the position is past the end of " + file1})

	// GTID positions.
	r = run(spec.BinlogPosition{GTID: gtid1})
	expect(t, r, precheck.IDBinlogStart, precheck.Pass, []string{"gtid " + gtid1 + ": every transaction after it is still in the source's binlog files"})
	var domain, server, seq uint64
	if _, err := fmt.Sscanf(gtid1, "%d-%d-%d", &domain, &server, &seq); err != nil {
		t.Fatalf("gtid_binlog_pos %q: %v", gtid1, err)
	}
	ahead := fmt.Sprintf("%d-%d-%d", domain, server, seq+100)
	r = run(spec.BinlogPosition{GTID: ahead})
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"counts transactions the source", fmt.Sprintf("domain %d, sequence %d to %d", domain, seq+3, seq+100)}, "from this source")
	r = run(spec.BinlogPosition{GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"})
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"is a MySQL GTID position, but the source runs MariaDB"})

	// Purge the first two files: the backup's position is gone, by file and by GTID.
	purgeTo(t, h, srv, conn, file3)
	r = run(at(file1, pos1))
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the binlog file " + file1 + " is not on the source", "it has been purged", "(the source has only " + file3 + ")"})
	r = run(spec.BinlogPosition{GTID: gtid1})
	expect(t, r, precheck.IDBinlogStart, precheck.Fail, []string{"the source has purged transactions that come after it", fmt.Sprintf("domain %d, sequence %d to %d", domain, seq+1, seq+1),
		"its oldest binlog file is " + file3})

	// An account without BINLOG MONITOR cannot list the files: the item says what it
	// could not check.
	s.Source = h.user(srv, "NOMON_PW", "GRANT SELECT, REPLICATION SLAVE ON *.* TO %s")
	r = run(at(file3, pos3))
	expect(t, r, precheck.IDBinlogStart, precheck.Warn, []string{"cannot list the source's binlog files (SHOW BINARY LOGS failed", "BINLOG MONITOR"}, "GRANT BINLOG MONITOR ON *.* TO")
}

// options.gh_ost replaces gh-ost's table names in the leftover item.
func TestOnlineDDLCustomPatterns(t *testing.T) {
	h := newHarness(t)
	db := uniq("osc2")
	h.database(h.env.Source, db,
		tbl(pkTable, "orders"),
		tbl(pkTable, "gh_orders_shadow"),
		tbl(pkTable, "gh_orders_trash"),
		tbl(pkTable, "_orders_gho"),
		tbl(pkTable, "_orders_old"),
	)
	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "orders"}}})
	s.Options.GhOst = spec.GhOst{ShadowTable: `^gh_(.+)_shadow$`, TrashTable: `^gh_(.+)_trash$`}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	r := h.run(s)
	it := expect(t, r, precheck.IDOnlineDDLLeftovers, precheck.Warn, []string{"3 tables look like tables that gh-ost or pt-online-schema-change left behind",
		q(db) + ".`gh_orders_shadow` (gh-ost shadow table)", q(db) + ".`gh_orders_trash` (gh-ost changelog or old table)",
		q(db) + ".`_orders_old` (pt-online-schema-change table)"}, `exclude_tables: ["_orders_old", "gh_orders_shadow", "gh_orders_trash"]`)
	if strings.Contains(it.Message, "_orders_gho") {
		t.Errorf("gh-ost's default name matched although options.gh_ost replaces it: %s", it.Message)
	}
	// With the defaults the same tables read the other way round.
	s.Options.GhOst = spec.GhOst{}
	r = h.run(s)
	it = expect(t, r, precheck.IDOnlineDDLLeftovers, precheck.Warn, []string{"2 tables look like", q(db) + ".`_orders_gho` (gh-ost shadow table)"})
	if strings.Contains(it.Message, "gh_orders_") {
		t.Errorf("custom names matched with the defaults: %s", it.Message)
	}
}
