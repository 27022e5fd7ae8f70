package benchkit

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/sluice-dev/sluice/testenv"
)

// TableState is what a correct copy must reproduce: the exact row count and the
// server's own CHECKSUM TABLE (computed from the stored rows, independently of any tool).
type TableState struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// ListTables lists the base tables of schema on s, sorted.
func ListTables(ctx context.Context, s *testenv.Server, schema string) ([]string, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", schema)
	if err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", s.Name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", s.Name, err)
	}
	sort.Strings(out)
	return out, nil
}

// Snapshot reads the state of every base table of schema on s, sorted by name.
func Snapshot(ctx context.Context, s *testenv.Server, schema string) ([]TableState, error) {
	tables, err := ListTables(ctx, s, schema)
	if err != nil {
		return nil, err
	}
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []TableState
	for _, t := range tables {
		q := testenv.QuoteIdent(schema) + "." + testenv.QuoteIdent(t)
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

// CompareStates lists every difference between the source's tables and a copy's.
// copyName, when not empty, names the copy in each line ("t: 9 rows on the
// destination, 10 on the source"); without it the caller says which copy
// ("t: 9 rows, 10 on the source").
func CompareStates(src, dst []TableState, copyName string) []string {
	on, only := "", "not on the source"
	if copyName != "" {
		on, only = " on the "+copyName, "on the "+copyName+" only"
	}
	byName := map[string]TableState{}
	for _, t := range dst {
		byName[t.Table] = t
	}
	var diffs []string
	for _, s := range src {
		d, ok := byName[s.Table]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing%s", s.Table, on))
			continue
		}
		delete(byName, s.Table)
		if d.Rows != s.Rows {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows%s, %d on the source", s.Table, d.Rows, on, s.Rows))
		}
		if d.Checksum != s.Checksum {
			diffs = append(diffs, fmt.Sprintf("%s: CHECKSUM TABLE %s%s, %s on the source", s.Table, d.Checksum, on, s.Checksum))
		}
	}
	var extra []string
	for name := range byName {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		diffs = append(diffs, fmt.Sprintf("%s: %s", name, only))
	}
	return diffs
}
