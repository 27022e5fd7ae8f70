package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/bench/benchreport"
	"github.com/sluice-dev/sluice/testenv"
)

// benchDB is the database every tool compares.
const benchDB = "sbtest"

// dataset says how many rows each table gets.
type dataset struct {
	Tables       int `json:"sbtest_tables"`
	RowsPerTable int `json:"sbtest_rows_per_table"`
}

// digitGroups is sysbench-style groups of 11 random digits; each group has its own
// seeded RAND, so the same statement gives the same rows on every server (rows
// are inserted in seq order).
func digitGroups(firstSeed, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("LPAD(FLOOR(RAND(%d) * 99999999999), 11, '0')", firstSeed+i)
	}
	return "CONCAT_WS('-', " + strings.Join(parts, ", ") + ")"
}

// generationSQL is the statements of table t (1-based): sysbench's table (as bench-full's),
// generated server-side and deterministically. The binlog is off for the session:
// nothing replicates here and the source's binlog would only slow the generation.
func generationSQL(t, rows int) []string {
	db := testenv.QuoteIdent(benchDB)
	tbl := db + "." + testenv.QuoteIdent(fmt.Sprintf("sbtest%d", t))
	return []string{
		"CREATE TABLE " + tbl + ` (
  id INT NOT NULL AUTO_INCREMENT,
  k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT '',
  pad CHAR(60) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY k_1 (k)
) ENGINE=InnoDB`,
		fmt.Sprintf("SET SESSION sql_log_bin = 0; INSERT INTO %s (id, k, c, pad) SELECT seq, FLOOR(1 + RAND(%d) * %d), %s, %s FROM %s.seq_1_to_%d",
			tbl, t*100, rows, digitGroups(t*100+1, 10), digitGroups(t*100+20, 5), db, rows),
		"ANALYZE TABLE " + tbl,
	}
}

// generateBoth creates the same dataset on both servers at once (one table at a
// time on each: two cores).
func generateBoth(ctx context.Context, src, dst *testenv.Server, tables, rows int) error {
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []*testenv.Server{src, dst} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := testenv.QuoteIdent(benchDB)
			if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db); err != nil {
				errs[i] = err
				return
			}
			for t := 1; t <= tables; t++ {
				if err := s.Exec(ctx, generationSQL(t, rows)...); err != nil {
					errs[i] = fmt.Errorf("generate sbtest%d: %w", t, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// listTables lists the base tables of the benchmark database, sorted.
func listTables(ctx context.Context, db *sql.DB, name string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", benchDB)
	if err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", name, err)
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
		return nil, fmt.Errorf("%s: list tables: %w", name, err)
	}
	sort.Strings(out)
	return out, nil
}

// snapshot reads the state of every base table of the benchmark database.
func snapshot(ctx context.Context, s *testenv.Server) ([]benchreport.TableState, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := listTables(ctx, db, s.Name)
	if err != nil {
		return nil, err
	}
	var out []benchreport.TableState
	for _, t := range tables {
		q := testenv.QuoteIdent(benchDB) + "." + testenv.QuoteIdent(t)
		st := benchreport.TableState{Table: t}
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

// sourceSize is the dataset's size on one server (both hold the same rows).
type sourceSize struct {
	DataBytes  int64 `json:"data_bytes"`
	IndexBytes int64 `json:"index_bytes"`
	Rows       int64 `json:"rows"`
}

func measureSource(ctx context.Context, s *testenv.Server, tables []benchreport.TableState) (sourceSize, error) {
	db, err := s.Open("")
	if err != nil {
		return sourceSize{}, err
	}
	defer db.Close()
	var out sourceSize
	if err := db.QueryRowContext(ctx,
		"SELECT COALESCE(SUM(DATA_LENGTH), 0), COALESCE(SUM(INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
		benchDB).Scan(&out.DataBytes, &out.IndexBytes); err != nil {
		return out, fmt.Errorf("source size: %w", err)
	}
	for _, t := range tables {
		out.Rows += t.Rows
	}
	return out, nil
}
