// Package flavor holds every difference between the MySQL and MariaDB servers sluice
// talks to: how to detect the flavor and version, which statement shows the binlog
// or replica status, how GTIDs look, which variables exist where, how binlog
// retention is configured and how privileges are named. Nothing else in sluice
// branches on the flavor by itself; it asks this package.
//
// Everything here is pure (no database access) so it is unit-tested with server
// answers: recorded from MariaDB 10.11 for MariaDB, written from the documentation
// for MySQL (which cannot be installed where sluice is developed).
package flavor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the server family.
type Kind string

const (
	MySQL   Kind = "mysql"
	MariaDB Kind = "mariadb"
	// TiDB speaks the MySQL protocol but has no binlog in the MySQL sense; it is
	// recognised only to be refused with a clear message.
	TiDB Kind = "tidb"
)

// Version is a server version; Patch is 0 when the server does not say.
type Version struct {
	Major, Minor, Patch int
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or 1.
func (v Version) Compare(o Version) int {
	for _, d := range [][2]int{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] < d[1] {
			return -1
		}
		if d[0] > d[1] {
			return 1
		}
	}
	return 0
}

// Flavor is what Detect learns from a server.
type Flavor struct {
	Kind    Kind    `json:"kind"`
	Version Version `json:"version"`
	// Raw is SELECT VERSION() as the server answered it; Comment is @@version_comment.
	Raw     string `json:"raw"`
	Comment string `json:"comment,omitempty"`
}

// Detect reads the answers of `SELECT VERSION(), @@version_comment`.
//
// Known forms (the MariaDB 10.11 one's shape recorded from the server here, the
// others written from the vendors' documentation):
//
//	"10.11.6-MariaDB-0+deb12u1-log"          "Debian 12"
//	"5.5.5-10.11.6-MariaDB"                  (the replication-protocol prefix MariaDB sends to old clients)
//	"8.0.36"                                 "MySQL Community Server - GPL"
//	"8.4.0-commercial"                       "MySQL Enterprise Server - Commercial"
//	"5.7.44-log"                             "MySQL Community Server (GPL)"
//	"8.0.28-19"                              "Percona Server (GPL), Release 19, ..."
//	"8.0.mysql_aurora.3.05.2"                "Source distribution"
//	"5.7.25-TiDB-v7.5.0"                     "TiDB Server (Apache License 2.0) ..."
func Detect(version, comment string) (Flavor, error) {
	f := Flavor{Raw: version, Comment: comment}
	v := strings.TrimSpace(version)
	if v == "" {
		return f, errors.New("server reported an empty version")
	}
	lv, lc := strings.ToLower(v), strings.ToLower(comment)
	switch {
	case strings.Contains(lv, "tidb") || strings.Contains(lc, "tidb"):
		f.Kind = TiDB
		if i := strings.Index(lv, "tidb-v"); i >= 0 {
			v = v[i+len("tidb-v"):]
		}
	case strings.Contains(lv, "mariadb") || strings.Contains(lc, "mariadb"):
		f.Kind = MariaDB
		// MariaDB 10.x advertised itself as "5.5.5-10.x.y-MariaDB" so that MySQL
		// clients doing version checks would not treat 10 as older than 5.
		v = strings.TrimPrefix(v, "5.5.5-")
	default:
		f.Kind = MySQL
	}
	ver, err := parseVersion(v)
	if err != nil {
		return f, fmt.Errorf("server version %q: %w", version, err)
	}
	f.Version = ver
	return f, nil
}

// parseVersion reads the leading "X.Y[.Z]" and ignores suffixes ("-log", "-MariaDB-...",
// Aurora's ".mysql_aurora.3.05.2").
func parseVersion(s string) (Version, error) {
	var nums []int
	cur := ""
	flush := func() bool {
		if cur == "" {
			return false
		}
		n, err := strconv.Atoi(cur)
		if err != nil {
			return false
		}
		nums = append(nums, n)
		cur = ""
		return true
	}
	for i := 0; i < len(s) && len(nums) < 3; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			cur += string(c)
		case c == '.':
			if !flush() {
				i = len(s)
			}
		default:
			i = len(s)
		}
	}
	flush()
	if len(nums) < 2 {
		return Version{}, errors.New("no major.minor version number at its start")
	}
	v := Version{Major: nums[0], Minor: nums[1]}
	if len(nums) > 2 {
		v.Patch = nums[2]
	}
	return v, nil
}

// Name is the product name for messages.
func (f Flavor) Name() string {
	if f.Kind == MySQL && strings.Contains(strings.ToLower(f.Comment), "percona") {
		return "Percona Server"
	}
	return f.Kind.Name()
}

func (f Flavor) String() string { return f.Name() + " " + f.Version.String() }

// AtLeast reports whether the server version is at least major.minor.patch.
func (f Flavor) AtLeast(major, minor, patch int) bool {
	return f.Version.Compare(Version{major, minor, patch}) >= 0
}

// Series is "major.minor", the granularity at which servers differ in features.
func (f Flavor) Series() string { return fmt.Sprintf("%d.%d", f.Version.Major, f.Version.Minor) }

// Support is the verdict on a server.
type Support int

const (
	Supported Support = iota
	// Untested: same family as a supported series and expected to work.
	Untested
	Unsupported
)

// Supported says whether sluice supports the server, with the reason for anything
// but a plain yes. Supported: MySQL 5.7, 8.0 and 8.4 (and Percona Server of those
// series), MariaDB 10.5 and later.
func (f Flavor) Supported() (Support, string) {
	switch f.Kind {
	case TiDB:
		return Unsupported, "TiDB has no MySQL-compatible binlog; sluice supports MySQL 5.7, 8.0, 8.4 and MariaDB 10.5+"
	case MariaDB:
		if !f.AtLeast(10, 5, 0) {
			return Unsupported, fmt.Sprintf("MariaDB %s is older than 10.5, the oldest series sluice supports", f.Series())
		}
		if f.Version.Major > 11 {
			return Untested, fmt.Sprintf("MariaDB %s is newer than the series sluice is tested with (10.5 to 11.x)", f.Series())
		}
		return Supported, ""
	}
	switch s := f.Series(); {
	case s == "5.7" || s == "8.0" || s == "8.4":
		return Supported, ""
	case !f.AtLeast(5, 7, 0):
		return Unsupported, fmt.Sprintf("MySQL %s is older than 5.7, the oldest series sluice supports", s)
	default:
		// 8.1–8.3 innovation releases and 9.x behave like 8.4 for everything sluice uses.
		return Untested, fmt.Sprintf("MySQL %s is not a series sluice is tested with (5.7, 8.0, 8.4); it is treated like 8.4", s)
	}
}

// ---------------------------------------------------------------------------
// Statements

// BinlogStatusStatement shows the current binlog file and position.
// MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4 removed SHOW MASTER STATUS;
// MariaDB 10.5.2 renamed it SHOW BINLOG STATUS and keeps the old name as an alias.
func (f Flavor) BinlogStatusStatement() string {
	switch {
	case f.Kind == MariaDB && f.AtLeast(10, 5, 2):
		return "SHOW BINLOG STATUS"
	case f.Kind == MySQL && f.AtLeast(8, 2, 0):
		return "SHOW BINARY LOG STATUS"
	}
	return "SHOW MASTER STATUS"
}

// ReplicaStatusStatement lists the replication channels of a server that is itself a
// replica (no rows otherwise). On MariaDB, SHOW ALL SLAVES STATUS also shows named
// multi-source connections, which plain SHOW SLAVE STATUS hides. MySQL 8.0.22 added
// SHOW REPLICA STATUS (with renamed columns) and 8.4 removed SHOW SLAVE STATUS.
func (f Flavor) ReplicaStatusStatement() string {
	switch {
	case f.Kind == MariaDB:
		return "SHOW ALL SLAVES STATUS"
	case f.AtLeast(8, 0, 22):
		return "SHOW REPLICA STATUS"
	}
	return "SHOW SLAVE STATUS"
}

// BinlogStatus is one row of BinlogStatusStatement.
type BinlogStatus struct {
	File     string
	Position uint64
	// ExecutedGTIDSet is MySQL's Executed_Gtid_Set column (empty on MariaDB, whose
	// position is @@gtid_binlog_pos).
	ExecutedGTIDSet string
}

// ParseBinlogStatus reads a row of BinlogStatusStatement given as column -> value.
// No row (binlog disabled) is reported by the caller, not here.
func ParseBinlogStatus(row map[string]string) (BinlogStatus, error) {
	var st BinlogStatus
	st.File = row["File"]
	if st.File == "" {
		return st, errors.New("binlog status has no File column")
	}
	p, err := strconv.ParseUint(strings.TrimSpace(row["Position"]), 10, 64)
	if err != nil {
		return st, fmt.Errorf("binlog status Position %q: %w", row["Position"], err)
	}
	st.Position = p
	// MySQL prints long GTID sets over several lines.
	st.ExecutedGTIDSet = strings.Join(strings.Fields(row["Executed_Gtid_Set"]), "")
	return st, nil
}

// ReplicaChannel is one row of ReplicaStatusStatement, with the column names of both
// generations (Master_*/Slave_* and Source_*/Replica_*) folded together.
type ReplicaChannel struct {
	Name       string // MariaDB Connection_name or MySQL Channel_Name; empty for the default
	SourceHost string
	SourcePort string
	IORunning  string
	SQLRunning string
}

// ParseReplicaStatus folds a row of ReplicaStatusStatement.
func ParseReplicaStatus(row map[string]string) ReplicaChannel {
	pick := func(names ...string) string {
		for _, n := range names {
			if v, ok := row[n]; ok {
				return v
			}
		}
		return ""
	}
	return ReplicaChannel{
		Name:       pick("Connection_name", "Channel_Name", "Channel_name"),
		SourceHost: pick("Source_Host", "Master_Host"),
		SourcePort: pick("Source_Port", "Master_Port"),
		IORunning:  pick("Replica_IO_Running", "Slave_IO_Running"),
		SQLRunning: pick("Replica_SQL_Running", "Slave_SQL_Running"),
	}
}
