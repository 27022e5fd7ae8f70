package flavor

import (
	"strings"
	"testing"
)

func TestParseBinaryLogs(t *testing.T) {
	// MariaDB 10.11 (recorded here).
	logs, err := ParseBinaryLogs([]map[string]string{
		{"Log_name": "binlog.000002", "File_size": "823"},
		{"Log_name": "binlog.000003", "File_size": "1050"},
	})
	if err != nil || len(logs) != 2 || logs[0] != (BinaryLog{"binlog.000002", 823}) || logs[1].Size != 1050 {
		t.Fatalf("MariaDB: %+v %v", logs, err)
	}
	// MySQL 8.0.14+ adds Encrypted (from MySQL's documentation).
	logs, err = ParseBinaryLogs([]map[string]string{{"Log_name": "binlog.000015", "File_size": "724935", "Encrypted": "Yes"}})
	if err != nil || logs[0] != (BinaryLog{"binlog.000015", 724935}) {
		t.Fatalf("MySQL: %+v %v", logs, err)
	}
	if _, err := ParseBinaryLogs([]map[string]string{{"Log_name": "b.000001", "File_size": "x"}}); err == nil {
		t.Error("bad size accepted")
	}
	if _, err := ParseBinaryLogs([]map[string]string{{"File_size": "4"}}); err == nil {
		t.Error("row without a name accepted")
	}
	if logs, err := ParseBinaryLogs(nil); err != nil || len(logs) != 0 {
		t.Errorf("no rows: %v %v", logs, err)
	}
}

func TestBinlogStatements(t *testing.T) {
	maria, mysql := mustDetect(t, "10.11.6-MariaDB"), mustDetect(t, "8.0.36")
	for _, f := range []Flavor{maria, mysql} {
		if got := f.BinaryLogsStatement(); got != "SHOW BINARY LOGS" {
			t.Errorf("%s: %q", f, got)
		}
		if got := f.BinlogEventAtStatement("it's.000001", 379); got != "SHOW BINLOG EVENTS IN 'it''s.000001' FROM 379 LIMIT 1" {
			t.Errorf("%s: %q", f, got)
		}
	}
	if maria.PurgedGTIDStatement() != "SELECT BINLOG_GTID_POS(?, 4)" || mysql.PurgedGTIDStatement() != "" {
		t.Errorf("PurgedGTIDStatement: %q %q", maria.PurgedGTIDStatement(), mysql.PurgedGTIDStatement())
	}
	if maria.PrivBinlogEvents().Name != "BINLOG MONITOR" || mysql.PrivBinlogEvents().Name != "REPLICATION SLAVE" ||
		mustDetect(t, "10.5.1-MariaDB").PrivBinlogEvents().Name != "REPLICATION SLAVE" {
		t.Error("PrivBinlogEvents")
	}
}

// Event types as SHOW BINLOG EVENTS prints them: MariaDB 10.11 recorded here, MySQL
// from its documentation.
func TestInsideTransaction(t *testing.T) {
	for _, ev := range []string{"Table_map", "Write_rows_v1", "Update_rows_v1", "Delete_rows_v1", "Annotate_rows", "Xid",
		"Write_rows", "Update_rows", "Delete_rows", "Rows_query"} {
		if !InsideTransaction(ev) {
			t.Errorf("%s is inside a transaction", ev)
		}
	}
	for _, ev := range []string{"", "Format_desc", "Gtid_list", "Binlog_checkpoint", "Gtid", "Query", "Rotate", "Previous_gtids", "Anonymous_Gtid"} {
		if InsideTransaction(ev) {
			t.Errorf("%s starts or stands outside a transaction", ev)
		}
	}
}

func TestPurgedAndExecutedGTIDs(t *testing.T) {
	maria, mysql := mustDetect(t, "10.11.6-MariaDB"), mustDetect(t, "8.0.36")
	// MariaDB: the answer of BINLOG_GTID_POS('binlog.000002', 4) and gtid_binlog_pos,
	// recorded here.
	p, err := maria.PurgedGTIDs(Variables{}, "0-7-3")
	if err != nil || p.String() != "0-7-3" || p.Kind != MariaDB {
		t.Fatalf("MariaDB purged: %v %v", p, err)
	}
	e, err := maria.ExecutedGTIDs(NewVariables(map[string]string{"gtid_binlog_pos": "0-7-5,5-7-1"}))
	if err != nil || e.String() != "0-7-5,5-7-1" {
		t.Fatalf("MariaDB executed: %v %v", e, err)
	}
	// MySQL: gtid_purged and gtid_executed.
	v := NewVariables(map[string]string{"gtid_purged": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-40", "gtid_executed": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100"})
	p, err = mysql.PurgedGTIDs(v, "ignored")
	if err != nil || p.String() != "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-40" {
		t.Fatalf("MySQL purged: %v %v", p, err)
	}
	if e, err := mysql.ExecutedGTIDs(v); err != nil || e.String() != "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100" {
		t.Fatalf("MySQL executed: %v %v", e, err)
	}
	if p, err := mysql.PurgedGTIDs(Variables{}, ""); err != nil || !p.IsEmpty() {
		t.Errorf("nothing purged: %v %v", p, err)
	}
	if _, err := mysql.ExecutedGTIDs(Variables{}); err == nil {
		t.Error("missing gtid_executed: want error")
	}
}

func TestParseAnyGTIDSet(t *testing.T) {
	for in, want := range map[string]Kind{
		"0-1-100":       MariaDB,
		"0-1-100,1-2-5": MariaDB,
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5":         MySQL,
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag:1-2": MySQL,
	} {
		g, err := ParseAnyGTIDSet(in)
		if err != nil || g.Kind != want {
			t.Errorf("%q: %v %v, want %s", in, g.Kind, err, want)
		}
	}
	for _, bad := range []string{"0-1", "x:1", "3e11fa47-71ca-11e1-9e33-c80aa9429562", "0-1-2:3"} {
		if _, err := ParseAnyGTIDSet(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
	if MariaDB.Name() != "MariaDB" || MySQL.Name() != "MySQL" || !strings.Contains(MariaDB.GTIDFormat(), "0-1-100") || !strings.Contains(MySQL.GTIDFormat(), "uuid:interval") {
		t.Error("Kind names")
	}
}

func TestGaps(t *testing.T) {
	const a, b = "3e11fa47-71ca-11e1-9e33-c80aa9429562", "4e11fa47-71ca-11e1-9e33-c80aa9429562"
	set := func(k Kind, s string) GTIDSet {
		g, err := ParseGTIDSet(k, s)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	cases := []struct {
		kind                    Kind
		start, purged, executed string
		wantPurged, wantUnknown string
	}{
		{MySQL, a + ":1-50", a + ":1-40", a + ":1-100", "", ""},
		{MySQL, a + ":1-100", a + ":1-40", a + ":1-100", "", ""},
		{MySQL, a + ":1-30", a + ":1-40", a + ":1-100", a + ":31-40", ""},
		{MySQL, a + ":1-10:20-50", a + ":1-40", a + ":1-100", a + ":11-19", ""},
		{MySQL, a + ":1-50", a + ":1-40," + b + ":1-3", a + ":1-100," + b + ":1-9", b + ":1-3", ""},
		{MySQL, a + ":1-120," + b + ":1-9", "", a + ":1-100", "", a + ":101-120|" + b + ":1-9"},
		{MySQL, a + ":1-5:t:1-2", "", a + ":1-5", "", a + ":t:1-2"},
		{MariaDB, "0-7-3", "0-7-3", "0-7-5,5-7-1", "", ""},
		{MariaDB, "0-7-5,5-7-1", "0-7-3", "0-7-5,5-7-1", "", ""},
		{MariaDB, "0-7-2", "0-7-3", "0-7-5", "domain 0, sequence 3 to 3", ""},
		{MariaDB, "5-7-1", "0-7-3", "0-7-5,5-7-1", "domain 0, sequence 1 to 3", ""},
		{MariaDB, "0-7-9,9-1-4", "", "0-7-5", "", "domain 0, sequence 6 to 9|domain 9 (the server has written nothing in it)"},
	}
	for _, c := range cases {
		g, err := set(c.kind, c.start).Gaps(set(c.kind, c.purged), set(c.kind, c.executed))
		if err != nil {
			t.Fatalf("%s: %v", c.start, err)
		}
		if got := strings.Join(g.Purged, "|"); got != c.wantPurged {
			t.Errorf("%s from %s: purged %q, want %q", c.kind, c.start, got, c.wantPurged)
		}
		if got := strings.Join(g.Unknown, "|"); got != c.wantUnknown {
			t.Errorf("%s from %s: unknown %q, want %q", c.kind, c.start, got, c.wantUnknown)
		}
		if g.OK() != (c.wantPurged == "" && c.wantUnknown == "") {
			t.Errorf("%s from %s: OK %v", c.kind, c.start, g.OK())
		}
	}
	if _, err := set(MariaDB, "0-1-1").Gaps(set(MySQL, ""), set(MySQL, "")); err == nil {
		t.Error("mixed kinds: want error")
	}
}

func TestSubtractIntervals(t *testing.T) {
	got := subtractIntervals([]Interval{{1, 10}, {20, 30}}, []Interval{{3, 4}, {8, 22}, {25, 25}, {29, 40}})
	want := []Interval{{1, 2}, {5, 7}, {23, 24}, {26, 28}}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if len(subtractIntervals([]Interval{{5, 9}}, []Interval{{1, 100}})) != 0 {
		t.Error("fully covered interval survives")
	}
}

func TestFeatures(t *testing.T) {
	maria, mysql80, mysql57 := mustDetect(t, "10.11.6-MariaDB"), mustDetect(t, "8.0.36"), mustDetect(t, "5.7.44-log")
	if q, why := maria.DiskSpaceQuery(); q != "SELECT Path, Total, Used, Available FROM information_schema.DISKS" || why != "" {
		t.Errorf("MariaDB disks: %q %q", q, why)
	}
	if q, why := mysql80.DiskSpaceQuery(); q != "" || why != "MySQL does not report free disk space over SQL" {
		t.Errorf("MySQL disks: %q %q", q, why)
	}
	if why := maria.DiskSpaceQueryError(1109); !strings.Contains(why, "INSTALL SONAME 'disks'") {
		t.Errorf("1109: %q", why)
	}
	if maria.DiskSpaceQueryError(1045) != "" || mysql80.DiskSpaceQueryError(1109) != "" {
		t.Error("DiskSpaceQueryError explains an unrelated error")
	}
	if maria.ForeignKeysNeedReferences() || !mysql80.ForeignKeysNeedReferences() || !mysql57.ForeignKeysNeedReferences() ||
		mustDetect(t, "5.6.51").ForeignKeysNeedReferences() {
		t.Error("ForeignKeysNeedReferences")
	}
}
