package flavor

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Variables are a server's global variables (SHOW GLOBAL VARIABLES) keyed by
// lower-case name. A name that is absent does not exist on that server.
type Variables map[string]string

// NewVariables folds names to lower case.
func NewVariables(m map[string]string) Variables {
	v := make(Variables, len(m))
	for k, val := range m {
		v[strings.ToLower(k)] = val
	}
	return v
}

// Get returns a variable and whether the server has it.
func (v Variables) Get(name string) (string, bool) {
	s, ok := v[strings.ToLower(name)]
	return s, ok
}

// On reads a boolean variable the way the server prints it (ON/OFF, 1/0, TRUE/FALSE).
func (v Variables) On(name string) bool {
	s, _ := v.Get(name)
	return IsOn(s)
}

// IsOn interprets a server boolean.
func IsOn(s string) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ON", "1", "TRUE", "YES":
		return true
	}
	return false
}

// LogReplicaUpdatesVariable is the variable that makes a replica write the changes
// it applies into its own binlog. MySQL 8.0.26 renamed log_slave_updates to
// log_replica_updates (the old name is gone in 8.4); MariaDB keeps log_slave_updates.
func (f Flavor) LogReplicaUpdatesVariable() string {
	if f.Kind == MySQL && f.AtLeast(8, 0, 26) {
		return "log_replica_updates"
	}
	return "log_slave_updates"
}

// LogReplicaUpdates reads it, trying both names so a server answering with the
// other generation's name is still read correctly.
func (f Flavor) LogReplicaUpdates(v Variables) (on bool, name string, known bool) {
	name = f.LogReplicaUpdatesVariable()
	for _, n := range []string{name, "log_replica_updates", "log_slave_updates"} {
		if s, ok := v.Get(n); ok {
			return IsOn(s), n, true
		}
	}
	return false, name, false
}

// HasBinlogRowMetadata: binlog_row_metadata exists on MySQL 8.0.1+ and MariaDB 10.5+.
func (f Flavor) HasBinlogRowMetadata() bool {
	switch f.Kind {
	case MariaDB:
		return f.AtLeast(10, 5, 0)
	case MySQL:
		return f.AtLeast(8, 0, 1)
	}
	return false
}

// HasBinlogRowValueOptions: binlog_row_value_options (PARTIAL_JSON) exists on MySQL
// 8.0.3+ only; MariaDB never logs partial JSON updates.
func (f Flavor) HasBinlogRowValueOptions() bool {
	return f.Kind == MySQL && f.AtLeast(8, 0, 3)
}

// GTIDPositionVariable is the variable holding the GTID set of everything written to
// the binlog: MariaDB's @@gtid_binlog_pos (domain-server-sequence triples) or MySQL's
// @@gtid_executed (uuid:interval sets).
func (f Flavor) GTIDPositionVariable() string {
	if f.Kind == MariaDB {
		return "gtid_binlog_pos"
	}
	return "gtid_executed"
}

// GTIDEnabled says whether the binlog carries GTIDs that a reader can start from.
// MariaDB always writes GTIDs (10.0+); MySQL only with gtid_mode=ON.
func (f Flavor) GTIDEnabled(v Variables) bool {
	if f.Kind == MariaDB {
		return true
	}
	s, _ := v.Get("gtid_mode")
	return strings.EqualFold(strings.TrimSpace(s), "ON")
}

// Retention is how long the source keeps binlog files.
type Retention struct {
	// Never is true when binlogs are not purged automatically by age.
	Never bool
	// Seconds is the age limit when Never is false.
	Seconds int64
	// Setting names the variable(s) that decided, for messages ("expire_logs_days=7").
	Setting string
	// SizeLimit is a total-size limit in bytes after which the oldest files are
	// purged regardless of age (MariaDB 11.4+ max_binlog_total_size); 0 = none.
	SizeLimit int64
	// SizeSetting names it.
	SizeSetting string
}

// BinlogRetention works out the binlog retention from the variables:
//   - MySQL 5.7: expire_logs_days (integer days, 0 = never).
//   - MySQL 8.0+: binlog_expire_logs_seconds wins when non-zero, else expire_logs_days
//     (removed in 8.4); both 0 = never; binlog_expire_logs_auto_purge=OFF (8.0.29+)
//     disables purging by age.
//   - MariaDB: expire_logs_days (a DOUBLE since 10.6.1), linked to
//     binlog_expire_logs_seconds (10.6.1+) so either one says it; 0 = never.
//     MariaDB 11.4 adds max_binlog_total_size (alias binlog_space_limit).
func (f Flavor) BinlogRetention(v Variables) (Retention, error) {
	var r Retention
	num := func(name string) (float64, bool, error) {
		s, ok := v.Get(name)
		if !ok || strings.TrimSpace(s) == "" {
			return 0, false, nil
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q is not a number: %w", name, s, err)
		}
		return x, true, nil
	}
	secs, hasSecs, err := num("binlog_expire_logs_seconds")
	if err != nil {
		return r, err
	}
	days, hasDays, err := num("expire_logs_days")
	if err != nil {
		return r, err
	}
	if f.Kind == MariaDB {
		for _, n := range []string{"max_binlog_total_size", "binlog_space_limit"} {
			if x, ok, err := num(n); err != nil {
				return r, err
			} else if ok && x > 0 {
				r.SizeLimit, r.SizeSetting = int64(x), fmt.Sprintf("%s=%d", n, int64(x))
				break
			}
		}
	}
	if f.Kind == MySQL {
		if s, ok := v.Get("binlog_expire_logs_auto_purge"); ok && !IsOn(s) {
			r.Never, r.Setting = true, "binlog_expire_logs_auto_purge=OFF"
			return r, nil
		}
	}
	switch {
	case hasSecs && secs > 0:
		r.Seconds, r.Setting = int64(secs), fmt.Sprintf("binlog_expire_logs_seconds=%d", int64(secs))
	case hasDays && days > 0:
		r.Seconds = int64(math.Round(days * 86400))
		r.Setting = "expire_logs_days=" + strconv.FormatFloat(days, 'f', -1, 64)
	case !hasSecs && !hasDays:
		return r, fmt.Errorf("%s reports neither expire_logs_days nor binlog_expire_logs_seconds", f)
	default:
		r.Never = true
		if hasSecs {
			r.Setting = "binlog_expire_logs_seconds=0"
			if hasDays {
				r.Setting += " and expire_logs_days=0"
			}
		} else {
			r.Setting = "expire_logs_days=0"
		}
	}
	return r, nil
}

// RetentionRemedy is the statement that keeps binlogs for at least seconds.
func (f Flavor) RetentionRemedy(seconds int64) string {
	days := (seconds + 86399) / 86400
	switch {
	case f.Kind == MySQL && !f.AtLeast(8, 0, 0):
		return fmt.Sprintf("SET GLOBAL expire_logs_days = %d; and set expire_logs_days = %d in the server configuration so it survives a restart (0 keeps binlogs forever)", days, days)
	case f.Kind == MariaDB && !f.AtLeast(10, 6, 1):
		return fmt.Sprintf("SET GLOBAL expire_logs_days = %d; and set expire_logs_days = %d in the server configuration so it survives a restart (0 keeps binlogs forever)", days, days)
	}
	return fmt.Sprintf("SET GLOBAL binlog_expire_logs_seconds = %d; and set binlog_expire_logs_seconds = %d in the server configuration so it survives a restart (0 keeps binlogs forever; on Amazon RDS use CALL mysql.rds_set_configuration('binlog retention hours', %d))", seconds, seconds, (seconds+3599)/3600)
}

// PersistHint says how to make a dynamic setting survive a restart.
func (f Flavor) PersistHint(name, value string) string {
	if f.Kind == MySQL && f.AtLeast(8, 0, 0) {
		return fmt.Sprintf("SET PERSIST %s = %s; (or %s = %s in the server configuration)", name, value, name, value)
	}
	return fmt.Sprintf("SET GLOBAL %s = %s; and %s = %s in the server configuration so it survives a restart", name, value, name, value)
}
