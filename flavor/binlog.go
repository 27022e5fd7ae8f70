package flavor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BinaryLog is one row of SHOW BINARY LOGS.
type BinaryLog struct {
	Name string
	Size int64
}

// BinaryLogsStatement lists the binlog files the server still has, oldest first.
// Both flavors spell it the same; MariaDB 10.5.2+ needs BINLOG MONITOR for it, MySQL
// REPLICATION CLIENT (or SUPER): PrivBinlogMonitor either way.
func (f Flavor) BinaryLogsStatement() string { return "SHOW BINARY LOGS" }

// ParseBinaryLogs reads the rows of SHOW BINARY LOGS given as column -> value.
// MariaDB and MySQL 5.7 answer Log_name, File_size; MySQL 8.0.14+ adds Encrypted.
func ParseBinaryLogs(rows []map[string]string) ([]BinaryLog, error) {
	out := make([]BinaryLog, 0, len(rows))
	for _, r := range rows {
		name := r["Log_name"]
		if name == "" {
			return nil, errors.New("SHOW BINARY LOGS row has no Log_name column")
		}
		size, err := strconv.ParseInt(strings.TrimSpace(r["File_size"]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("SHOW BINARY LOGS: File_size %q of %s: %w", r["File_size"], name, err)
		}
		out = append(out, BinaryLog{Name: name, Size: size})
	}
	return out, nil
}

// BinlogEventAtStatement shows the event that starts at a position: both flavors
// refuse a position that is not the start of an event ("Wrong offset or I/O error")
// or lies past the end of the file, and answer no row at the very end of the file.
// The file name is a string literal (SHOW statements take no placeholders); callers
// pass a name without backslashes, so doubling quotes is enough in every sql_mode.
func (f Flavor) BinlogEventAtStatement(file string, pos int64) string {
	return fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d LIMIT 1", strings.ReplaceAll(file, "'", "''"), pos)
}

// InsideTransaction reports a binlog event type (the Event_type column of SHOW BINLOG
// EVENTS) that only occurs inside a transaction, after its first event: starting to
// read there would apply half a transaction. MariaDB names row events *_v1 and has
// Annotate_rows where MySQL has Rows_query.
func InsideTransaction(eventType string) bool {
	switch eventType {
	case "Table_map", "Xid", "XA_prepare",
		"Write_rows", "Update_rows", "Delete_rows", "Partial_update_rows",
		"Write_rows_v1", "Update_rows_v1", "Delete_rows_v1",
		"Write_rows_compressed_v1", "Update_rows_compressed_v1", "Delete_rows_compressed_v1",
		"Rows_query", "Annotate_rows":
		return true
	}
	return false
}

// PurgedGTIDStatement is the query whose one value is the GTID state just before the
// oldest binlog file the server still has (the transactions a reader can no longer
// get), with one placeholder for that file's name. MariaDB: BINLOG_GTID_POS(file, 4)
// reads the file's Gtid_list event (it answers NULL for a file it does not have).
// MySQL answers in its gtid_purged variable instead, so "" there.
func (f Flavor) PurgedGTIDStatement() string {
	if f.Kind == MariaDB {
		return "SELECT BINLOG_GTID_POS(?, 4)"
	}
	return ""
}

// PurgedGTIDs is the purged GTID state: MySQL's gtid_purged variable, or on MariaDB
// the answer of PurgedGTIDStatement (queried).
func (f Flavor) PurgedGTIDs(v Variables, queried string) (GTIDSet, error) {
	if f.Kind == MariaDB {
		return ParseGTIDSet(MariaDB, queried)
	}
	s, _ := v.Get("gtid_purged")
	return ParseGTIDSet(f.Kind, s)
}

// ExecutedGTIDs is everything the server has written to its binlog, from
// GTIDPositionVariable (gtid_binlog_pos / gtid_executed).
func (f Flavor) ExecutedGTIDs(v Variables) (GTIDSet, error) {
	name := f.GTIDPositionVariable()
	s, ok := v.Get(name)
	if !ok {
		return GTIDSet{Kind: f.Kind}, fmt.Errorf("%s has no %s variable", f, name)
	}
	return ParseGTIDSet(f.Kind, s)
}

// BinlogPositionRefused tells, from a server error number of BinlogEventAtStatement,
// that the server refused the file or position itself (ER_ERROR_WHEN_EXECUTING_COMMAND,
// 1220 on both flavors: "Wrong offset or I/O error", "Invalid pos specified", "Could
// not find target log") rather than the account or the connection failing.
func BinlogPositionRefused(number uint16) bool { return number == 1220 }
