package precheck

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/spec"
)

const (
	uuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	uuidB = "4e11fa47-71ca-11e1-9e33-c80aa9429562"
)

// startFacts is an incremental-only migration of shop starting at st.
func startFacts(t *testing.T, src *Server, st spec.BinlogPosition) *Facts {
	t.Helper()
	f := facts(t, src, mariaDst(t), spec.TypeIncremental)
	f.Spec.Options.Incremental.Start = st
	return f
}

// mariaStartSrc answers like the MariaDB 10.11 server here after two FLUSH BINARY
// LOGS, a write in domain 5 and PURGE BINARY LOGS TO 'binlog.000002' (SHOW BINARY
// LOGS, BINLOG_GTID_POS('binlog.000002', 4) and gtid_binlog_pos as recorded).
func mariaStartSrc(t *testing.T) *Server {
	src := mariaSrc(t)
	src.Variables["gtid_binlog_pos"] = "0-7-5,5-7-1"
	src.BinlogStart = &BinlogStart{
		Logs:        []flavor.BinaryLog{{Name: "binlog.000002", Size: 823}, {Name: "binlog.000003", Size: 1050}},
		EventAt:     "Gtid",
		PurgedGTIDs: "0-7-3",
	}
	return src
}

func TestBinlogStartFilePosition(t *testing.T) {
	at := func(file string, pos int64) spec.BinlogPosition {
		return spec.BinlogPosition{BinlogFile: file, BinlogPos: pos}
	}
	src := mariaStartSrc(t)
	f := startFacts(t, src, at("binlog.000002", 379))
	check(t, f, IDBinlogStart, Pass, "options.incremental.start binlog.000002:379 is on the source (binlog.000002 holds 823 bytes; 1 newer file after it)")

	for _, c := range []struct {
		st    spec.BinlogPosition
		parts []string
	}{
		{at("binlog.000001", 4), []string{"the binlog file binlog.000001 is not on the source dts@source:3306: it has been purged (the source has binlog.000002 to binlog.000003)", "full"}},
		{at("mysql-bin.000003", 4), []string{"the source names its binlog files binlog.NNNNNN, not mysql-bin.NNNNNN: is the position from another server?"}},
		{at("binlog.000009", 4), []string{"binlog.000009", "the source has not written it yet"}},
		{at("binlog.000002", 824), []string{"the position is past the end of binlog.000002, which holds 823 bytes", "exactly as"}},
	} {
		f.Spec.Options.Incremental.Start = c.st
		check(t, f, IDBinlogStart, Fail, c.parts...)
	}

	f.Spec.Options.Incremental.Start = at("binlog.000002", 300)
	src.BinlogStart.EventAt, src.BinlogStart.EventRefused = "", "Error 1220 (HY000): Error when executing command SHOW BINLOG EVENTS: Wrong offset or I/O error"
	check(t, f, IDBinlogStart, Fail, "the source refuses the position, which is not the start of an event in binlog.000002 (Error 1220", "Wrong offset")

	f.Spec.Options.Incremental.Start = at("binlog.000002", 469)
	src.BinlogStart.EventAt, src.BinlogStart.EventRefused = "Table_map", ""
	check(t, f, IDBinlogStart, Fail, "points into the middle of a transaction (at a Table_map event)", "between transactions")
	src.BinlogStart.EventAt = "Write_rows_v1"
	check(t, f, IDBinlogStart, Fail, "middle of a transaction (at a Write_rows_v1 event)")

	// The very end of the newest file: nothing there yet, and that is fine.
	f.Spec.Options.Incremental.Start = at("binlog.000003", 1050)
	src.BinlogStart.EventAt = ""
	check(t, f, IDBinlogStart, Pass, "0 newer files after it")

	src.BinlogStart.EventError = "Error 1227 (42000): Access denied; you need (at least one of) the BINLOG MONITOR privilege(s) for this operation"
	check(t, f, IDBinlogStart, Warn, "binlog.000003 exists on the source, but the event at the position could not be read", "GRANT BINLOG MONITOR ON *.* TO 'dts'@'%'")

	my := mysqlSrc(t)
	my.BinlogStart = &BinlogStart{Logs: []flavor.BinaryLog{{Name: "mysql-bin.000007", Size: 157}}, EventError: "Error 1227"}
	f = startFacts(t, my, at("mysql-bin.000007", 4))
	check(t, f, IDBinlogStart, Warn, "GRANT REPLICATION SLAVE ON *.* TO 'dts'@'%'")
	my.BinlogStart = &BinlogStart{LogsError: "Error 1381 (HY000): You are not using binary logging"}
	check(t, f, IDBinlogStart, Warn, "cannot list the source's binlog files (SHOW BINARY LOGS failed: Error 1381", "GRANT REPLICATION CLIENT ON *.* TO 'dts'@'%'")
	my.BinlogStart = &BinlogStart{}
	check(t, f, IDBinlogStart, Fail, "the source has no binlog files")
}

func TestBinlogStartGTIDMariaDB(t *testing.T) {
	src := mariaStartSrc(t)
	gtid := func(s string) spec.BinlogPosition { return spec.BinlogPosition{GTID: s} }
	f := startFacts(t, src, gtid("0-7-3"))
	check(t, f, IDBinlogStart, Pass, "options.incremental.start gtid 0-7-3: every transaction after it is still in the source's binlog files (binlog.000002 to binlog.000003)")
	// Domain 5 began after the oldest file: leaving it out is fine.
	f.Spec.Options.Incremental.Start = gtid("0-7-5,5-7-1")
	check(t, f, IDBinlogStart, Pass)

	f.Spec.Options.Incremental.Start = gtid("0-7-2")
	check(t, f, IDBinlogStart, Fail, "the source has purged transactions that come after it: domain 0, sequence 3 to 3 (its oldest binlog file is binlog.000002)", "full")
	f.Spec.Options.Incremental.Start = gtid("0-7-9,9-1-4")
	check(t, f, IDBinlogStart, Fail, "counts transactions the source dts@source:3306 never wrote: domain 0, sequence 6 to 9, domain 9 (the server has written nothing in it)",
		"(it has written 0-7-5,5-7-1)", "another server")
	f.Spec.Options.Incremental.Start = gtid(uuidA + ":1-5")
	check(t, f, IDBinlogStart, Fail, "is a MySQL GTID position, but the source runs MariaDB 10.11.6", "domain-server-sequence")

	f.Spec.Options.Incremental.Start = gtid("0-7-3")
	src.BinlogStart.PurgedGTIDs, src.BinlogStart.PurgedGTIDsError = "", "BINLOG_GTID_POS('binlog.000002', 4) is NULL"
	check(t, f, IDBinlogStart, Warn, "cannot tell which transactions the source has purged (BINLOG_GTID_POS")
}

func TestBinlogStartGTIDMySQL(t *testing.T) {
	src := mysqlSrc(t)
	src.BinlogStart = &BinlogStart{Logs: []flavor.BinaryLog{{Name: "binlog.000012", Size: 4096}, {Name: "binlog.000013", Size: 157}}}
	gtid := func(s string) spec.BinlogPosition { return spec.BinlogPosition{GTID: s} }
	f := startFacts(t, src, gtid(uuidA+":1-50"))
	check(t, f, IDBinlogStart, Fail, "does not write GTIDs (gtid_mode is not ON)", "binlog_file and binlog_pos")

	src.Variables["gtid_mode"] = "ON"
	src.Variables["gtid_executed"] = uuidA + ":1-100,\n" + uuidB + ":1-20"
	src.Variables["gtid_purged"] = uuidA + ":1-40"
	check(t, f, IDBinlogStart, Pass, "every transaction after it is still in the source's binlog files (binlog.000012 to binlog.000013)")

	f.Spec.Options.Incremental.Start = gtid(uuidA + ":1-30")
	check(t, f, IDBinlogStart, Fail, "purged transactions that come after it: "+uuidA+":31-40")
	f.Spec.Options.Incremental.Start = gtid(uuidA + ":1-120," + uuidB + ":1-20:25")
	check(t, f, IDBinlogStart, Fail, "never wrote: "+uuidA+":101-120, "+uuidB+":25")
	f.Spec.Options.Incremental.Start = gtid("0-1-100")
	check(t, f, IDBinlogStart, Fail, "is a MariaDB GTID position, but the source runs MySQL 8.0.36", "uuid:interval")
}

// The item runs only for incremental with a start, after the other binlog items.
func TestBinlogStartApplicability(t *testing.T) {
	ids := func(f *Facts) []string {
		var out []string
		for _, it := range Evaluate(*f).Items {
			out = append(out, it.ID)
		}
		return out
	}
	f := facts(t, mariaStartSrc(t), mariaDst(t), spec.TypeIncremental)
	if slices.Contains(ids(f), IDBinlogStart) {
		t.Error("runs without a start position")
	}
	f.Spec.Options.Incremental.Start = spec.BinlogPosition{GTID: "0-7-3"}
	got := ids(f)
	i := slices.Index(got, IDBinlogStart)
	if i < 0 || got[i-1] != IDLogSlaveUpdates {
		t.Errorf("items %v: want %s right after %s", got, IDBinlogStart, IDLogSlaveUpdates)
	}
	// Without incremental (an invalid spec, refused by validation) it does not run.
	f.Spec.Types = []spec.MigrationType{spec.TypeFull}
	if slices.Contains(ids(f), IDBinlogStart) {
		t.Error("runs without incremental")
	}
}

func TestSplitBinlogName(t *testing.T) {
	for name, want := range map[string]string{
		"mysql-bin.000042": "mysql-bin 42", "db.1.bin.1000000": "db.1.bin 1000000", "nodot": "", "x.abc": "", ".000001": "",
	} {
		got := ""
		if base, seq, ok := splitBinlogName(name); ok {
			got = fmt.Sprintf("%s %d", base, seq)
		}
		if got != want {
			t.Errorf("splitBinlogName(%q) = %q, want %q", name, got, want)
		}
	}
}
