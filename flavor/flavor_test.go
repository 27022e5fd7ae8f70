package flavor

import (
	"strings"
	"testing"
)

// Answers of SELECT VERSION(), @@version_comment. The 10.11.19 one was recorded from
// the MariaDB server here; the others are written from the vendors' documentation and
// release notes.
func TestDetect(t *testing.T) {
	cases := []struct {
		version, comment string
		kind             Kind
		ver              Version
		name             string
		support          Support
	}{
		{"10.11.19-MariaDB-0+deb12u1-log", "Debian 12", MariaDB, Version{10, 11, 19}, "MariaDB", Supported},
		{"5.5.5-10.11.6-MariaDB", "mariadb.org binary distribution", MariaDB, Version{10, 11, 6}, "MariaDB", Supported},
		{"10.5.23-MariaDB-1:10.5.23+maria~ubu2004", "mariadb.org binary distribution", MariaDB, Version{10, 5, 23}, "MariaDB", Supported},
		{"11.4.2-MariaDB", "MariaDB Server", MariaDB, Version{11, 4, 2}, "MariaDB", Supported},
		{"10.4.32-MariaDB", "MariaDB Server", MariaDB, Version{10, 4, 32}, "MariaDB", Unsupported},
		{"12.0.1-MariaDB", "MariaDB Server", MariaDB, Version{12, 0, 1}, "MariaDB", Untested},
		{"8.0.36", "MySQL Community Server - GPL", MySQL, Version{8, 0, 36}, "MySQL", Supported},
		{"8.4.0-commercial", "MySQL Enterprise Server - Commercial", MySQL, Version{8, 4, 0}, "MySQL", Supported},
		{"5.7.44-log", "MySQL Community Server (GPL)", MySQL, Version{5, 7, 44}, "MySQL", Supported},
		{"5.6.51-log", "MySQL Community Server (GPL)", MySQL, Version{5, 6, 51}, "MySQL", Unsupported},
		{"8.0.28-19", "Percona Server (GPL), Release 19, Revision 31e88966cd3", MySQL, Version{8, 0, 28}, "Percona Server", Supported},
		{"8.0.mysql_aurora.3.05.2", "Source distribution", MySQL, Version{8, 0, 0}, "MySQL", Supported},
		{"9.1.0", "MySQL Community Server - GPL", MySQL, Version{9, 1, 0}, "MySQL", Untested},
		{"8.2.0", "MySQL Community Server - GPL", MySQL, Version{8, 2, 0}, "MySQL", Untested},
		{"5.7.25-TiDB-v7.5.0", "TiDB Server (Apache License 2.0) Community Edition, MySQL 5.7 compatible", TiDB, Version{7, 5, 0}, "TiDB", Unsupported},
	}
	for _, c := range cases {
		f, err := Detect(c.version, c.comment)
		if err != nil {
			t.Fatalf("Detect(%q): %v", c.version, err)
		}
		if f.Kind != c.kind || f.Version != c.ver || f.Name() != c.name {
			t.Errorf("Detect(%q, %q) = %s %v %q; want %s %v %q", c.version, c.comment, f.Kind, f.Version, f.Name(), c.kind, c.ver, c.name)
		}
		s, why := f.Supported()
		if s != c.support {
			t.Errorf("%q: support %v (%s), want %v", c.version, s, why, c.support)
		}
		if s != Supported && why == "" {
			t.Errorf("%q: no reason given for %v", c.version, s)
		}
	}
	for _, bad := range []string{"", "garbage", "v8"} {
		if _, err := Detect(bad, ""); err == nil {
			t.Errorf("Detect(%q): want error", bad)
		}
	}
}

func TestStatements(t *testing.T) {
	cases := []struct {
		version, binlog, replica, logUpdates string
	}{
		{"5.7.44-log", "SHOW MASTER STATUS", "SHOW SLAVE STATUS", "log_slave_updates"},
		{"8.0.21", "SHOW MASTER STATUS", "SHOW SLAVE STATUS", "log_slave_updates"},
		{"8.0.22", "SHOW MASTER STATUS", "SHOW REPLICA STATUS", "log_slave_updates"},
		{"8.0.36", "SHOW MASTER STATUS", "SHOW REPLICA STATUS", "log_replica_updates"},
		{"8.2.0", "SHOW BINARY LOG STATUS", "SHOW REPLICA STATUS", "log_replica_updates"},
		{"8.4.0", "SHOW BINARY LOG STATUS", "SHOW REPLICA STATUS", "log_replica_updates"},
		{"10.5.1-MariaDB", "SHOW MASTER STATUS", "SHOW ALL SLAVES STATUS", "log_slave_updates"},
		{"10.11.6-MariaDB", "SHOW BINLOG STATUS", "SHOW ALL SLAVES STATUS", "log_slave_updates"},
	}
	for _, c := range cases {
		f, err := Detect(c.version, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.BinlogStatusStatement(); got != c.binlog {
			t.Errorf("%s binlog status: %q, want %q", c.version, got, c.binlog)
		}
		if got := f.ReplicaStatusStatement(); got != c.replica {
			t.Errorf("%s replica status: %q, want %q", c.version, got, c.replica)
		}
		if got := f.LogReplicaUpdatesVariable(); got != c.logUpdates {
			t.Errorf("%s log updates variable: %q, want %q", c.version, got, c.logUpdates)
		}
	}
}

func TestParseBinlogStatus(t *testing.T) {
	// MariaDB 10.11 SHOW BINLOG STATUS (recorded).
	st, err := ParseBinlogStatus(map[string]string{"File": "binlog.000001", "Position": "325", "Binlog_Do_DB": "", "Binlog_Ignore_DB": ""})
	if err != nil || st.File != "binlog.000001" || st.Position != 325 || st.ExecutedGTIDSet != "" {
		t.Fatalf("MariaDB: %+v %v", st, err)
	}
	// MySQL 8.0 SHOW MASTER STATUS with a GTID set printed over two lines (written from
	// MySQL's documentation).
	st, err = ParseBinlogStatus(map[string]string{"File": "source-bin.000002", "Position": "1307", "Binlog_Do_DB": "test",
		"Executed_Gtid_Set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3"})
	if err != nil || st.Position != 1307 || st.ExecutedGTIDSet != "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3" {
		t.Fatalf("MySQL: %+v %v", st, err)
	}
	if _, err := ParseBinlogStatus(map[string]string{"File": "x", "Position": "abc"}); err == nil {
		t.Fatal("bad position accepted")
	}
	if _, err := ParseBinlogStatus(map[string]string{}); err == nil {
		t.Fatal("empty row accepted")
	}
}

func TestParseReplicaStatus(t *testing.T) {
	// MariaDB SHOW ALL SLAVES STATUS (subset of the recorded columns).
	ch := ParseReplicaStatus(map[string]string{"Connection_name": "", "Slave_SQL_State": "Slave has read all relay log",
		"Master_Host": "10.0.0.5", "Master_Port": "3306", "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes"})
	if ch.SourceHost != "10.0.0.5" || ch.IORunning != "Yes" || ch.SQLRunning != "Yes" || ch.SourcePort != "3306" {
		t.Fatalf("MariaDB: %+v", ch)
	}
	// MySQL 8.0.22+ SHOW REPLICA STATUS.
	ch = ParseReplicaStatus(map[string]string{"Source_Host": "primary.example", "Source_Port": "3306",
		"Replica_IO_Running": "Connecting", "Replica_SQL_Running": "Yes", "Channel_Name": "ch1"})
	if ch.SourceHost != "primary.example" || ch.IORunning != "Connecting" || ch.Name != "ch1" {
		t.Fatalf("MySQL: %+v", ch)
	}
}

func TestVariables(t *testing.T) {
	v := NewVariables(map[string]string{"LOG_BIN": "ON", "log_slave_updates": "OFF", "gtid_mode": "OFF"})
	if !v.On("log_bin") || v.On("log_slave_updates") || v.On("missing") {
		t.Fatal("On")
	}
	maria, _ := Detect("10.11.6-MariaDB", "")
	mysql80, _ := Detect("8.0.36", "")
	mysql57, _ := Detect("5.7.44", "")
	mysql84, _ := Detect("8.4.0", "")

	// MySQL 8.0.26+ answers with log_replica_updates only when asked for it; a server that
	// shows the old name is still read.
	if on, name, ok := mysql80.LogReplicaUpdates(NewVariables(map[string]string{"log_replica_updates": "ON", "log_slave_updates": "ON"})); !on || name != "log_replica_updates" || !ok {
		t.Fatalf("mysql 8.0 log_replica_updates: %v %s %v", on, name, ok)
	}
	if on, name, ok := maria.LogReplicaUpdates(v); on || name != "log_slave_updates" || !ok {
		t.Fatalf("mariadb log_slave_updates: %v %s %v", on, name, ok)
	}
	if _, _, ok := maria.LogReplicaUpdates(Variables{}); ok {
		t.Fatal("missing variable reported as known")
	}

	if !maria.HasBinlogRowMetadata() || !mysql80.HasBinlogRowMetadata() || mysql57.HasBinlogRowMetadata() {
		t.Fatal("HasBinlogRowMetadata")
	}
	if maria.HasBinlogRowValueOptions() || !mysql80.HasBinlogRowValueOptions() || mysql57.HasBinlogRowValueOptions() || !mysql84.HasBinlogRowValueOptions() {
		t.Fatal("HasBinlogRowValueOptions")
	}
	if maria.GTIDPositionVariable() != "gtid_binlog_pos" || mysql80.GTIDPositionVariable() != "gtid_executed" {
		t.Fatal("GTIDPositionVariable")
	}
	if !maria.GTIDEnabled(Variables{}) || mysql80.GTIDEnabled(v) || !mysql80.GTIDEnabled(NewVariables(map[string]string{"gtid_mode": "ON"})) {
		t.Fatal("GTIDEnabled")
	}
}

func TestBinlogRetention(t *testing.T) {
	maria106, _ := Detect("10.11.6-MariaDB", "")
	maria105, _ := Detect("10.5.23-MariaDB", "")
	maria114, _ := Detect("11.4.2-MariaDB", "")
	mysql80, _ := Detect("8.0.36", "")
	mysql57, _ := Detect("5.7.44", "")
	mysql84, _ := Detect("8.4.0", "")
	cases := []struct {
		name    string
		f       Flavor
		vars    map[string]string
		never   bool
		seconds int64
		setting string
		size    int64
	}{
		// Recorded from MariaDB 10.11 defaults.
		{"mariadb default", maria106, map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000"}, true, 0, "binlog_expire_logs_seconds=0 and expire_logs_days=0", 0},
		{"mariadb half day", maria106, map[string]string{"binlog_expire_logs_seconds": "43200", "expire_logs_days": "0.500000"}, false, 43200, "binlog_expire_logs_seconds=43200", 0},
		{"mariadb 10.5 days", maria105, map[string]string{"expire_logs_days": "10"}, false, 864000, "expire_logs_days=10", 0},
		{"mariadb 10.5 never", maria105, map[string]string{"expire_logs_days": "0"}, true, 0, "expire_logs_days=0", 0},
		{"mariadb 11.4 size", maria114, map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000", "max_binlog_total_size": "1073741824"}, true, 0, "binlog_expire_logs_seconds=0 and expire_logs_days=0", 1 << 30},
		// MySQL 8.0 default: 30 days.
		{"mysql 8.0 default", mysql80, map[string]string{"binlog_expire_logs_seconds": "2592000", "expire_logs_days": "0", "binlog_expire_logs_auto_purge": "ON"}, false, 2592000, "binlog_expire_logs_seconds=2592000", 0},
		{"mysql 8.0 auto purge off", mysql80, map[string]string{"binlog_expire_logs_seconds": "3600", "binlog_expire_logs_auto_purge": "OFF"}, true, 0, "binlog_expire_logs_auto_purge=OFF", 0},
		{"mysql 8.0 days only", mysql80, map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "3"}, false, 259200, "expire_logs_days=3", 0},
		{"mysql 8.4", mysql84, map[string]string{"binlog_expire_logs_seconds": "86400", "binlog_expire_logs_auto_purge": "ON"}, false, 86400, "binlog_expire_logs_seconds=86400", 0},
		{"mysql 5.7", mysql57, map[string]string{"expire_logs_days": "0"}, true, 0, "expire_logs_days=0", 0},
		{"mysql 5.7 days", mysql57, map[string]string{"expire_logs_days": "1"}, false, 86400, "expire_logs_days=1", 0},
	}
	for _, c := range cases {
		r, err := c.f.BinlogRetention(NewVariables(c.vars))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Never != c.never || r.Seconds != c.seconds || r.Setting != c.setting || r.SizeLimit != c.size {
			t.Errorf("%s: got %+v", c.name, r)
		}
	}
	if _, err := mysql80.BinlogRetention(Variables{}); err == nil {
		t.Error("no retention variables: want error")
	}
	if _, err := mysql80.BinlogRetention(NewVariables(map[string]string{"binlog_expire_logs_seconds": "x"})); err == nil {
		t.Error("bad number: want error")
	}
	if r := mysql57.RetentionRemedy(7 * 86400); !strings.Contains(r, "expire_logs_days = 7") {
		t.Errorf("5.7 remedy: %s", r)
	}
	if r := maria106.RetentionRemedy(86400); !strings.Contains(r, "binlog_expire_logs_seconds = 86400") {
		t.Errorf("10.11 remedy: %s", r)
	}
	if r := maria105.RetentionRemedy(3600); !strings.Contains(r, "expire_logs_days = 1") {
		t.Errorf("10.5 remedy: %s", r)
	}
}

func TestGTIDSets(t *testing.T) {
	cases := []struct {
		kind Kind
		in   string
		out  string
	}{
		{MariaDB, "", ""},
		{MariaDB, "0-7-12", "0-7-12"},               // recorded @@gtid_binlog_pos, MariaDB 10.11
		{MariaDB, "1-2-5,0-1-100", "0-1-100,1-2-5"}, // sorted by domain
		{MySQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"},
		{MySQL, "3e11fa47-71ca-11e1-9e33-c80aa9429562:7:1-5:6,\n2174b383-5441-11e8-b90a-c80aa9429562:1-3",
			"2174b383-5441-11e8-b90a-c80aa9429562:1-3,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7"},
		{MySQL, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:9-10:mytag:1-2", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:9-10:mytag:1-2"},
	}
	for _, c := range cases {
		g, err := ParseGTIDSet(c.kind, c.in)
		if err != nil {
			t.Fatalf("%s %q: %v", c.kind, c.in, err)
		}
		if g.String() != c.out {
			t.Errorf("%s %q: got %q want %q", c.kind, c.in, g.String(), c.out)
		}
		if g.IsEmpty() != (c.out == "") {
			t.Errorf("%q IsEmpty", c.in)
		}
	}
	for _, bad := range []struct {
		kind Kind
		in   string
	}{
		{MariaDB, "0-1"}, {MariaDB, "0-1-x"}, {MariaDB, "0-1-2,0-3-4"},
		{MariaDB, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"},
		{MySQL, "0-1-2"}, {MySQL, "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-1"},
		{MySQL, "3e11fa47-71ca-11e1-9e33-c80aa9429562:0"}, {MySQL, "nota-uuid:1"},
		{TiDB, "x"},
	} {
		if _, err := ParseGTIDSet(bad.kind, bad.in); err == nil {
			t.Errorf("%s %q: want error", bad.kind, bad.in)
		}
	}
}
