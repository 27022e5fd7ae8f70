package precheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/spec"
)

// variable reads a source variable for a binlog item; ok is false (with the item
// to report) when the variables could not be read.
func variable(s *Server, name string) (val string, exists bool, it Item, ok bool) {
	if s.VariablesError != "" {
		return "", false, warn(fmt.Sprintf("cannot read the %s's variables (%s), so %s is not checked", s.Role, s.VariablesError, name),
			"check that the account can run SHOW GLOBAL VARIABLES"), false
	}
	v, exists := s.Variables.Get(name)
	return strings.TrimSpace(v), exists, Item{}, true
}

func checkLogBin(f *Facts) Item {
	s := f.Source
	v, _, it, ok := variable(s, "log_bin")
	if !ok {
		return it
	}
	if flavor.IsOn(v) {
		return pass("binary logging is on (log_bin=ON)")
	}
	return fail(fmt.Sprintf("binary logging is off on the source %s (log_bin=%s): incremental migration reads the binlog", s.Address, orNone(v)),
		"start the source with log_bin (log-bin=mysql-bin, plus server_id, binlog_format=ROW, binlog_row_image=FULL and binlog_row_metadata=FULL in the [mysqld] section) and restart it: log_bin is not dynamic")
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func checkBinlogFormat(f *Facts) Item {
	s := f.Source
	v, _, it, ok := variable(s, "binlog_format")
	if !ok {
		return it
	}
	if strings.EqualFold(v, "ROW") {
		return pass("binlog_format=ROW")
	}
	return fail(fmt.Sprintf("binlog_format is %s on the source %s, not ROW: the binlog then holds statements, not the changed rows sluice applies", orNone(v), s.Address),
		s.Flavor.PersistHint("binlog_format", "'ROW'")+"; sessions already open keep their old format until they reconnect")
}

func checkBinlogRowImage(f *Facts) Item {
	s := f.Source
	v, exists, it, ok := variable(s, "binlog_row_image")
	if !ok {
		return it
	}
	if strings.EqualFold(v, "FULL") {
		return pass("binlog_row_image=FULL")
	}
	if !exists {
		return fail(fmt.Sprintf("the source %s (%s) has no binlog_row_image variable: rows are logged partially", s.Address, s.Flavor),
			"use a server version with binlog_row_image (MySQL 5.6+, MariaDB 10.1.6+) set to FULL")
	}
	return fail(fmt.Sprintf("binlog_row_image is %s on the source %s, not FULL: updates and deletes would not carry every column, so rows cannot be found and replayed on the destination", v, s.Address),
		s.Flavor.PersistHint("binlog_row_image", "'FULL'")+"; sessions already open keep the old setting until they reconnect")
}

// binlog_row_metadata=FULL puts column names, signedness, charsets, ENUM/SET values
// and the primary key in each table-map event. The incremental reader cross-checks
// every table map against its schema history with them and refuses to decode
// without (binlog.ErrNoMetadata): a column shifted silently is worse than a stop.
func checkBinlogRowMetadata(f *Facts) Item {
	s := f.Source
	v, exists, it, ok := variable(s, "binlog_row_metadata")
	if !ok {
		return it
	}
	const why = "incremental replication checks every table-map event's column names, signedness and charsets against its schema history, so a column can never shift silently; without FULL metadata it cannot"
	switch {
	case strings.EqualFold(v, "FULL"):
		return pass("binlog_row_metadata=FULL: the binlog carries column names and types")
	case !exists || !s.Flavor.HasBinlogRowMetadata():
		return fail(fmt.Sprintf("%s has no binlog_row_metadata (it exists on MySQL 8.0.1+ and MariaDB 10.5+): %s", s.Flavor, why),
			"upgrade the source to MySQL 8.0.1+ or MariaDB 10.5+ and set binlog_row_metadata=FULL, or migrate without incremental")
	}
	return fail(fmt.Sprintf("binlog_row_metadata is %s on the source %s, not FULL: %s", v, s.Address, why),
		s.Flavor.PersistHint("binlog_row_metadata", "'FULL'")+"; sessions already open keep the old setting until they reconnect")
}

func checkBinlogRowValueOptions(f *Facts) Item {
	s := f.Source
	if !s.Flavor.HasBinlogRowValueOptions() {
		return pass(fmt.Sprintf("%s has no binlog_row_value_options: JSON updates are always logged whole", s.Flavor))
	}
	v, _, it, ok := variable(s, "binlog_row_value_options")
	if !ok {
		return it
	}
	if strings.Contains(strings.ToUpper(v), "PARTIAL_JSON") {
		return fail(fmt.Sprintf("binlog_row_value_options is %s on the source %s: partial JSON updates log only the changed paths, which sluice cannot apply", v, s.Address),
			s.Flavor.PersistHint("binlog_row_value_options", "''"))
	}
	return pass("binlog_row_value_options is empty: JSON updates are logged whole")
}

// Retention thresholds: a full copy followed by incremental must keep the binlog
// from the start of the copy until the copy ends; incremental alone only needs to
// ride out an outage.
const (
	retentionFullIncremental = 7 * 86400
	retentionIncrementalOnly = 86400
)

func checkBinlogRetention(f *Facts) Item {
	s := f.Source
	if s.VariablesError != "" {
		_, _, it, _ := variable(s, "binlog retention")
		return it
	}
	r, err := s.Flavor.BinlogRetention(s.Variables)
	if err != nil {
		return warn(fmt.Sprintf("cannot tell how long the source keeps its binlogs: %v", err), "check expire_logs_days / binlog_expire_logs_seconds by hand")
	}
	want, why := int64(retentionIncrementalOnly), "incremental migration"
	if f.Spec.Has(spec.TypeFull) {
		want, why = retentionFullIncremental, "a full copy followed by incremental migration"
	}
	var problems []string
	if !r.Never && r.Seconds < want {
		problems = append(problems, fmt.Sprintf("the source purges binlogs after %s (%s); %s needs at least %s so that changes made while sluice copies or is stopped are not purged before it reads them",
			humanDuration(r.Seconds), r.Setting, why, humanDuration(want)))
	}
	if r.SizeLimit > 0 {
		problems = append(problems, fmt.Sprintf("the source also purges the oldest binlogs once they exceed %s in total (%s), whatever their age", humanBytes(r.SizeLimit), r.SizeSetting))
	}
	if len(problems) > 0 {
		remedy := s.Flavor.RetentionRemedy(want)
		if r.SizeLimit > 0 {
			remedy += "; SET GLOBAL max_binlog_total_size = 0 (or large enough for the whole migration)"
		}
		return warn(strings.Join(problems, "; "), remedy)
	}
	if r.Never {
		return pass(fmt.Sprintf("binlogs are never purged automatically (%s)", r.Setting))
	}
	return pass(fmt.Sprintf("binlogs are kept %s (%s), at least the %s needed for %s", humanDuration(r.Seconds), r.Setting, humanDuration(want), why))
}

func checkServerID(f *Facts) Item {
	s := f.Source
	v, exists, it, ok := variable(s, "server_id")
	if !ok {
		return it
	}
	id, err := strconv.ParseUint(v, 10, 32)
	if exists && err == nil && id != 0 {
		return pass(fmt.Sprintf("server_id=%d", id))
	}
	return fail(fmt.Sprintf("server_id is %s on the source %s: a server with server_id 0 refuses replication clients", orNone(v), s.Address),
		s.Flavor.PersistHint("server_id", "<a number unique among your servers, e.g. 1>"))
}

func checkLogSlaveUpdates(f *Facts) Item {
	s := f.Source
	if s.ReplicaError != "" {
		p := s.Flavor.PrivReplicaMonitor()
		return warn(fmt.Sprintf("cannot tell whether the source is a replica (%s failed: %s): if it is, changes it replicates reach its binlog only with %s=ON",
			s.Flavor.ReplicaStatusStatement(), s.ReplicaError, s.Flavor.LogReplicaUpdatesVariable()),
			fmt.Sprintf("GRANT %s ON *.* TO %s; so the precheck can look", p.Name, account(s.CurrentUser, f.Spec.Source.User)))
	}
	if len(s.Replica) == 0 {
		return pass("the source is not a replica")
	}
	var from []string
	for _, ch := range s.Replica {
		src := ch.SourceHost
		if ch.SourcePort != "" {
			src += ":" + ch.SourcePort
		}
		if ch.Name != "" {
			src = fmt.Sprintf("%s (channel %q)", src, ch.Name)
		}
		from = append(from, src)
	}
	if s.VariablesError != "" {
		_, _, it, _ := variable(s, s.Flavor.LogReplicaUpdatesVariable())
		return it
	}
	on, name, _ := s.Flavor.LogReplicaUpdates(s.Variables)
	if on {
		return pass(fmt.Sprintf("the source replicates from %s and writes what it applies to its own binlog (%s=ON)", capList(from), name))
	}
	return warn(fmt.Sprintf("the source replicates from %s but %s is OFF: changes that arrive by replication are not in its binlog, so sluice would miss them", capList(from), name),
		fmt.Sprintf("set %s=ON in the source's configuration and restart it (the variable is not dynamic), or migrate from the primary instead", name))
}
