package inspect

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/flavor"
)

// Position is where the source's binary log stands.
type Position struct {
	File string
	Pos  uint64
	// GTID is the GTID position in the flavor's format ("" when the server logs none).
	GTID string
}

// BinlogPosition reads the source's current binlog position, or nil when binary
// logging is off. The full copy records it before reading the first row: replaying
// the binlog from there with idempotent writes makes a copy taken without locks
// converge to the source.
func BinlogPosition(ctx context.Context, db *sql.DB) (*Position, error) {
	fl, err := dbconn.Flavor(ctx, db)
	if err != nil {
		return nil, err
	}
	vars, err := readVariables(ctx, db)
	if err != nil {
		return nil, err
	}
	if on, _ := vars.Get("log_bin"); on != "ON" && on != "1" {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, fl.BinlogStatusStatement())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fl.BinlogStatusStatement(), err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, fmt.Errorf("%s returned no row although log_bin is on: the account needs %s", fl.BinlogStatusStatement(), fl.PrivBinlogEvents().Name)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	row := map[string]string{}
	for i, c := range cols {
		row[c] = vals[i].String
	}
	st, err := flavor.ParseBinlogStatus(row)
	if err != nil {
		return nil, err
	}
	p := &Position{File: st.File, Pos: st.Position}
	// The GTID position must be the one at exactly File/Pos: the variables read
	// above are older than it while the source commits (measured: one transaction
	// behind under load). MySQL prints it in the same row; MariaDB computes it.
	switch {
	case st.ExecutedGTIDSet != "":
		p.GTID = st.ExecutedGTIDSet
	case fl.Kind == flavor.MariaDB:
		var g sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", st.File, st.Position).Scan(&g); err != nil {
			return nil, fmt.Errorf("GTID position at %s:%d: %w", st.File, st.Position, err)
		}
		p.GTID = g.String
	}
	return p, nil
}
