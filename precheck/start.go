package precheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/flavor"
)

// startRemedy is what to do when the source cannot serve the start position.
const startRemedy = "give a position the source still has (from a newer backup or dump of the destination's data), " +
	"or leave options.incremental.start out and copy the rows again with full; " +
	"to keep binlogs longer next time see " + IDBinlogRetention

// uncheckedRemedy is for a start position that could not be checked.
const uncheckedRemedy = "compare the position with the source's binlog by hand, then add " + IDBinlogStart + " to options.ignore_warnings"

// checkBinlogStart checks options.incremental.start against the source: the binlog
// file is still there and the position is the start of an event outside a
// transaction, or the GTID position is in the source's format and the transactions
// after it are still in its binlog files.
func checkBinlogStart(f *Facts) Item {
	s, st := f.Source, f.Spec.Options.Incremental.Start
	b := s.BinlogStart
	if b == nil {
		return warn("the source's binlog files were not read, so options.incremental.start is not checked", uncheckedRemedy)
	}
	if b.LogsError != "" {
		p := s.Flavor.PrivBinlogMonitor()
		return warn(fmt.Sprintf("cannot list the source's binlog files (%s failed: %s), so options.incremental.start is not checked", s.Flavor.BinaryLogsStatement(), b.LogsError),
			fmt.Sprintf("check that binary logging is on (%s) and GRANT %s ON *.* TO %s;", IDLogBin, p.Name, account(s.CurrentUser, f.Spec.Source.User)))
	}
	if len(b.Logs) == 0 {
		return fail("the source has no binlog files, so it cannot serve options.incremental.start", "turn binary logging on (see "+IDLogBin+")")
	}
	if st.GTID != "" {
		return checkStartGTID(f)
	}
	return checkStartFile(f)
}

func checkStartFile(f *Facts) Item {
	s, st := f.Source, f.Spec.Options.Incremental.Start
	b := s.BinlogStart
	oldest, newest := b.Logs[0], b.Logs[len(b.Logs)-1]
	where := fmt.Sprintf("options.incremental.start %s:%d", st.BinlogFile, st.BinlogPos)
	have := fmt.Sprintf("the source has %s to %s", oldest.Name, newest.Name)
	if len(b.Logs) == 1 {
		have = "the source has only " + oldest.Name
	}
	idx := -1
	for i, l := range b.Logs {
		if l.Name == st.BinlogFile {
			idx = i
		}
	}
	if idx < 0 {
		why := "it is not among the source's binlog files"
		base, seq, ok := splitBinlogName(st.BinlogFile)
		oBase, oSeq, oOK := splitBinlogName(oldest.Name)
		_, nSeq, nOK := splitBinlogName(newest.Name)
		switch {
		case ok && oOK && base != oBase:
			why = fmt.Sprintf("the source names its binlog files %s.NNNNNN, not %s.NNNNNN: is the position from another server?", oBase, base)
		case ok && oOK && seq < oSeq:
			why = "it has been purged"
		case ok && nOK && seq > nSeq:
			why = "the source has not written it yet: is the position from another server?"
		}
		return fail(fmt.Sprintf("%s: the binlog file %s is not on the source %s: %s (%s)", where, st.BinlogFile, s.Address, why, have), startRemedy)
	}
	file := b.Logs[idx]
	if st.BinlogPos > file.Size {
		return fail(fmt.Sprintf("%s: the position is past the end of %s, which holds %d bytes", where, file.Name, file.Size),
			"copy binlog_file and binlog_pos exactly as the backup or SHOW BINARY LOG STATUS reported them")
	}
	switch {
	case b.EventRefused != "":
		return fail(fmt.Sprintf("%s: the source refuses the position, which is not the start of an event in %s (%s)", where, file.Name, b.EventRefused),
			"copy binlog_file and binlog_pos exactly as the backup or SHOW BINARY LOG STATUS reported them")
	case b.EventError != "":
		return warn(fmt.Sprintf("%s: %s exists on the source, but the event at the position could not be read (%s), so whether it starts a transaction is not checked", where, file.Name, b.EventError),
			fmt.Sprintf("GRANT %s ON *.* TO %s; so the precheck can look", s.Flavor.PrivBinlogEvents().Name, account(s.CurrentUser, f.Spec.Source.User)))
	case flavor.InsideTransaction(b.EventAt):
		return fail(fmt.Sprintf("%s: the position points into the middle of a transaction (at a %s event): starting there would apply half of it", where, b.EventAt),
			"use a position between transactions, as a backup or SHOW BINARY LOG STATUS reports it")
	}
	later := len(b.Logs) - 1 - idx
	return pass(fmt.Sprintf("%s is on the source (%s holds %d bytes; %s after it)", where, file.Name, file.Size, plural(later, "newer file", "newer files")))
}

// splitBinlogName splits "mysql-bin.000042" into its base name and sequence number.
func splitBinlogName(name string) (string, uint64, bool) {
	i := strings.LastIndex(name, ".")
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(name[i+1:], 10, 64)
	return name[:i], n, err == nil
}

func checkStartGTID(f *Facts) Item {
	s, st := f.Source, f.Spec.Options.Incremental.Start
	b := s.BinlogStart
	where := "options.incremental.start gtid " + st.GTID
	if s.FlavorError != "" {
		return warn(where+": the source's flavor is unknown, so the GTID position is not checked", "see "+IDSourceVersion+"; "+uncheckedRemedy)
	}
	start, err := flavor.ParseGTIDSet(s.Flavor.Kind, st.GTID)
	if err != nil {
		if other, err2 := flavor.ParseAnyGTIDSet(st.GTID); err2 == nil && other.Kind != s.Flavor.Kind {
			return fail(fmt.Sprintf("%s is a %s GTID position, but the source runs %s, whose GTIDs look different (%s)", where, other.Kind.Name(), s.Flavor, s.Flavor.Kind.GTIDFormat()),
				"give the position in the source's own format, or use binlog_file and binlog_pos")
		}
		return fail(fmt.Sprintf("%s: %v", where, err), "give the position in the source's own format ("+s.Flavor.Kind.GTIDFormat()+")")
	}
	if s.VariablesError != "" {
		return warn(fmt.Sprintf("%s: cannot read the source's variables (%s), so the GTID position is not checked", where, s.VariablesError), uncheckedRemedy)
	}
	if !s.Flavor.GTIDEnabled(s.Variables) {
		return fail(fmt.Sprintf("%s: the source %s does not write GTIDs (gtid_mode is not ON), so it cannot start from a GTID position", where, s.Address),
			"use binlog_file and binlog_pos instead, or enable GTIDs on the source (gtid_mode=ON with enforce_gtid_consistency=ON)")
	}
	executed, err := s.Flavor.ExecutedGTIDs(s.Variables)
	if err != nil {
		return warn(fmt.Sprintf("%s: cannot read what the source has written (%v), so the GTID position is not checked", where, err), uncheckedRemedy)
	}
	if b.PurgedGTIDsError != "" {
		return warn(fmt.Sprintf("%s: cannot tell which transactions the source has purged (%s), so the GTID position is not checked", where, b.PurgedGTIDsError), uncheckedRemedy)
	}
	purged, err := s.Flavor.PurgedGTIDs(s.Variables, b.PurgedGTIDs)
	if err != nil {
		return warn(fmt.Sprintf("%s: cannot tell which transactions the source has purged (%v), so the GTID position is not checked", where, err), uncheckedRemedy)
	}
	gaps, err := start.Gaps(purged, executed)
	if err != nil {
		return warn(fmt.Sprintf("%s: %v", where, err), uncheckedRemedy)
	}
	switch {
	case len(gaps.Purged) > 0:
		return fail(fmt.Sprintf("%s: the source has purged transactions that come after it: %s (its oldest binlog file is %s)", where, capList(gaps.Purged), b.Logs[0].Name), startRemedy)
	case len(gaps.Unknown) > 0:
		return fail(fmt.Sprintf("%s counts transactions the source %s never wrote: %s (it has written %s): is the position from another server?", where, s.Address, capList(gaps.Unknown), orNone(executed.String())),
			"give the position the destination's data was taken at, from this source")
	}
	return pass(fmt.Sprintf("%s: every transaction after it is still in the source's binlog files (%s to %s)", where, b.Logs[0].Name, b.Logs[len(b.Logs)-1].Name))
}
