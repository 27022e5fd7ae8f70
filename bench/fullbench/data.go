package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/bench/benchdata"
	"github.com/sluice-dev/sluice/testenv"
)

// benchDB is the database every tool copies.
const benchDB = "sbtest"

// dataset says how many rows each table gets.
type dataset struct {
	SbtestTables int `json:"sbtest_tables"`
	SbtestRows   int `json:"sbtest_rows_per_table"`
	WideRows     int `json:"wide_rows"`
	AccountRows  int `json:"accounts_rows"`
}

// newDataset scales the wide and composite-key tables with the sysbench tables:
// 500k rows per sbtest table gives 20k wide rows and 300k accounts rows.
func newDataset(rows int) dataset {
	return dataset{
		SbtestTables: 4,
		SbtestRows:   rows,
		WideRows:     max(rows/25, 1),
		AccountRows:  max(rows*3/5, 1),
	}
}

// digits is a sysbench-style group of 11 random digits; seed makes each group of
// each table its own deterministic RAND sequence (the rows are inserted in seq order).
func digits(seed int) string {
	return fmt.Sprintf("LPAD(FLOOR(RAND(%d) * 99999999999), 11, '0')", seed)
}

func digitGroups(firstSeed, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = digits(firstSeed + i)
	}
	return "CONCAT_WS('-', " + strings.Join(parts, ", ") + ")"
}

// generationSQL is one statement list per table. Each list runs on one connection,
// with the binlog off for the session: sluice only needs the position, and a
// gigabyte of row events would only slow the generation.
func generationSQL(d dataset) [][]string {
	db := testenv.QuoteIdent(benchDB)
	var out [][]string
	for t := 1; t <= d.SbtestTables; t++ {
		tbl := db + "." + testenv.QuoteIdent(fmt.Sprintf("sbtest%d", t))
		out = append(out, []string{
			"CREATE TABLE " + tbl + ` (
  id INT NOT NULL AUTO_INCREMENT,
  k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT '',
  pad CHAR(60) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY k_1 (k)
) ENGINE=InnoDB`,
			fmt.Sprintf("SET SESSION sql_log_bin = 0; INSERT INTO %s (id, k, c, pad) SELECT seq, FLOOR(1 + RAND(%d) * %d), %s, %s FROM %s.seq_1_to_%d",
				tbl, t*100, d.SbtestRows, digitGroups(t*100+1, 10), digitGroups(t*100+20, 5), db, d.SbtestRows),
		})
	}
	// About 8 KB per row: text, binary (every byte value, so escaping is exercised) and
	// multi-byte utf8mb4; TEXT/BLOB go off-page in InnoDB at this size.
	wide := db + ".`wide`"
	out = append(out, []string{
		"CREATE TABLE " + wide + ` (
  id BIGINT NOT NULL,
  title VARCHAR(200) NOT NULL,
  body TEXT NOT NULL,
  payload BLOB NOT NULL,
  notes VARCHAR(2000) CHARACTER SET utf8mb4 NOT NULL,
  updated DATETIME(6) NOT NULL,
  score DOUBLE NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB`,
		fmt.Sprintf(`SET SESSION sql_log_bin = 0; INSERT INTO %s SELECT seq,
  CONCAT('title ', seq, ' ', MD5(seq)),
  REPEAT(CONCAT(MD5(seq), ' ', SHA1(seq), ' '), 50),
  CONCAT(RANDOM_BYTES(1024), RANDOM_BYTES(1024), RANDOM_BYTES(1024)),
  REPEAT(CONCAT('naïve café 東京 😀 ', seq %% 1000, ' '), 40),
  TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq * 7919) %% 1000000 MICROSECOND,
  seq / 7.0
FROM %s.seq_1_to_%d`, wide, db, d.WideRows),
	})
	// A composite string primary key (utf8mb4, a unicode collation, non-ASCII values)
	// with a secondary index: copied by keyset boundaries, not integer ranges.
	acc := db + ".`accounts`"
	out = append(out, []string{
		"CREATE TABLE " + acc + ` (
  region VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  n INT NOT NULL,
  name VARCHAR(100) NOT NULL,
  balance DECIMAL(14,2) NOT NULL,
  opened DATE NOT NULL,
  flags SET('a','b','c') NOT NULL,
  PRIMARY KEY (region, n),
  KEY name_1 (name)
) ENGINE=InnoDB`,
		fmt.Sprintf(`SET SESSION sql_log_bin = 0; INSERT INTO %s SELECT
  CONCAT(ELT(1 + seq %% 6, 'eu-west', 'us-east', 'ap-東京', 'sa-são-paulo', 'af-😀', 'eu-zürich'), '-', seq %% 13),
  seq,
  CONCAT('customer ', seq),
  (seq * 37 %% 1000000) / 100,
  DATE'2020-01-01' + INTERVAL (seq %% 2000) DAY,
  ELT(1 + seq %% 4, 'a', 'b', 'a,c', '')
FROM %s.seq_1_to_%d`, acc, db, d.AccountRows),
	})
	return out
}

// generate (re)creates the benchmark database on the source, two tables at a time
// (two cores), then refreshes the statistics every tool reads for its estimates.
func generate(ctx context.Context, src *testenv.Server, d dataset) error {
	db := testenv.QuoteIdent(benchDB)
	if err := src.Exec(ctx, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db); err != nil {
		return err
	}
	work := make(chan []string)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stmts := range work {
				if err := src.Exec(ctx, stmts...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var firstErr error
feed:
	for _, stmts := range generationSQL(d) {
		select {
		case work <- stmts:
		case firstErr = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if firstErr == nil {
		firstErr = <-errs
	}
	if firstErr != nil {
		return fmt.Errorf("generate the dataset: %w", firstErr)
	}
	sdb, err := src.Open("")
	if err != nil {
		return err
	}
	defer sdb.Close()
	tables, err := benchdata.ListTables(ctx, sdb, src.Name, benchDB)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if err := src.Exec(ctx, "ANALYZE TABLE "+db+"."+testenv.QuoteIdent(t)); err != nil {
			return err
		}
	}
	return nil
}

// showCreate is printed next to a checksum mismatch: a different column type or
// charset on the destination changes CHECKSUM TABLE too.
func showCreate(ctx context.Context, s *testenv.Server, table string) string {
	db, err := s.Open("")
	if err != nil {
		return ""
	}
	defer db.Close()
	var name, ddl string
	if err := db.QueryRowContext(ctx, "SHOW CREATE TABLE "+testenv.QuoteIdent(benchDB)+"."+testenv.QuoteIdent(table)).Scan(&name, &ddl); err != nil {
		return fmt.Sprintf("(SHOW CREATE TABLE failed: %v)", err)
	}
	return ddl
}
