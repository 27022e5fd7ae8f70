package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

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
