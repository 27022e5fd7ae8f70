// Package benchdata reads the benchmark database's state on a server, for the
// benchmark programs (bench/fullbench, incbench, verifybench): its tables,
// each one's row count and the server's own checksum, compared between two
// servers, and its size.
package benchdata

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/sluice-dev/sluice/testenv"
)

// TableState is what a correct copy must reproduce of one table: its exact row
// count and the server's own checksum (CHECKSUM TABLE: computed from the
// stored rows, independently of any tool).
type TableState struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// CompareStates lists every difference between two servers' tables.
func CompareStates(src, dst []TableState) []string {
	byName := map[string]TableState{}
	for _, t := range dst {
		byName[t.Table] = t
	}
	var diffs []string
	for _, s := range src {
		d, ok := byName[s.Table]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing on the destination", s.Table))
			continue
		}
		delete(byName, s.Table)
		if d.Rows != s.Rows {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows on the destination, %d on the source", s.Table, d.Rows, s.Rows))
		}
		if d.Checksum != s.Checksum {
			diffs = append(diffs, fmt.Sprintf("%s: checksum %s on the destination, %s on the source", s.Table, d.Checksum, s.Checksum))
		}
	}
	var extra []string
	for name := range byName {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		diffs = append(diffs, fmt.Sprintf("%s: on the destination only", name))
	}
	return diffs
}

// ListTables lists database's base tables on db (server names it in errors),
// sorted.
func ListTables(ctx context.Context, db *sql.DB, server, database string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", database)
	if err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", server, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("%s: list tables: %w", server, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", server, err)
	}
	sort.Strings(out)
	return out, nil
}

// Snapshot reads the state of every base table of database on s.
func Snapshot(ctx context.Context, s *testenv.Server, database string) ([]TableState, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := ListTables(ctx, db, s.Name, database)
	if err != nil {
		return nil, err
	}
	var out []TableState
	for _, t := range tables {
		q := testenv.QuoteIdent(database) + "." + testenv.QuoteIdent(t)
		st := TableState{Table: t}
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q).Scan(&st.Rows); err != nil {
			return nil, fmt.Errorf("%s: count %s: %w", s.Name, q, err)
		}
		var name string
		var sum sql.NullString
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+q).Scan(&name, &sum); err != nil {
			return nil, fmt.Errorf("%s: checksum %s: %w", s.Name, q, err)
		}
		if !sum.Valid {
			return nil, fmt.Errorf("%s: CHECKSUM TABLE %s returned NULL", s.Name, q)
		}
		st.Checksum = sum.String
		out = append(out, st)
	}
	return out, nil
}

// Size is what the MB/s figures divide: InnoDB's data and index sizes, and
// the rows.
type Size struct {
	DataBytes  int64 `json:"data_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	Rows       int64 `json:"rows"`
}

// Measure reads database's size on s; the rows are the tables' (a Snapshot).
func Measure(ctx context.Context, s *testenv.Server, database string, tables []TableState) (Size, error) {
	db, err := s.Open("")
	if err != nil {
		return Size{}, err
	}
	defer db.Close()
	var out Size
	if err := db.QueryRowContext(ctx,
		"SELECT COALESCE(SUM(DATA_LENGTH), 0), COALESCE(SUM(INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
		database).Scan(&out.DataBytes, &out.IndexBytes); err != nil {
		return out, fmt.Errorf("%s: size of %s: %w", s.Name, database, err)
	}
	for _, t := range tables {
		out.Rows += t.Rows
	}
	return out, nil
}
