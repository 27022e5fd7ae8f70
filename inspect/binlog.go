package inspect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// readBinlogStart asks the source about options.incremental.start: its binlog files
// and, for a file and position, the event there; for a GTID position on MariaDB, the
// GTID state before its oldest file (MySQL keeps that in gtid_purged, read with the
// variables).
func readBinlogStart(ctx context.Context, db *sql.DB, fl flavor.Flavor, st spec.BinlogPosition, red func(string) string) *precheck.BinlogStart {
	b := &precheck.BinlogStart{}
	rows, err := queryMaps(ctx, db, fl.BinaryLogsStatement())
	if err != nil {
		b.LogsError = red(err.Error())
		return b
	}
	if b.Logs, err = flavor.ParseBinaryLogs(rows); err != nil {
		b.LogsError = red(err.Error())
		return b
	}
	if len(b.Logs) == 0 {
		return b
	}
	if st.GTID == "" {
		found := false
		for _, l := range b.Logs {
			found = found || (l.Name == st.BinlogFile && st.BinlogPos <= l.Size)
		}
		if !found {
			return b // the rule reports the missing file or the position past its end
		}
		evs, err := queryMaps(ctx, db, fl.BinlogEventAtStatement(st.BinlogFile, st.BinlogPos))
		var me *mysql.MySQLError
		switch {
		case errors.As(err, &me) && flavor.BinlogPositionRefused(me.Number):
			b.EventRefused = red(err.Error())
		case err != nil:
			b.EventError = red(err.Error())
		case len(evs) > 0:
			b.EventAt = evs[0]["Event_type"]
		}
		return b
	}
	if q := fl.PurgedGTIDStatement(); q != "" {
		oldest := b.Logs[0].Name
		var v sql.NullString
		switch err := db.QueryRowContext(ctx, q, oldest).Scan(&v); {
		case err != nil:
			b.PurgedGTIDsError = red(fmt.Sprintf("%s for %s: %v", q, oldest, err))
		case !v.Valid:
			// The file was purged between the two queries, or the server lost it.
			b.PurgedGTIDsError = fmt.Sprintf("%s answered NULL for %s", q, oldest)
		default:
			b.PurgedGTIDs = v.String
		}
	}
	return b
}
