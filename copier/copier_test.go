package copier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type pair struct {
	src, dst *sql.DB
	db       string
}

// setupPair creates database name on both servers, runs ddl and fill on the
// source, and creates the same tables (SHOW CREATE TABLE) on the destination.
func setupPair(t testing.TB, name string, tables []string, stmts ...string) pair {
	t.Helper()
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	q := testenv.QuoteIdent(name)
	for _, s := range []*testenv.Server{env.Source, env.Destination} {
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+q, "CREATE DATABASE "+q); err != nil {
			t.Fatal(err)
		}
	}
	src, err := env.Source.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dst, err := env.Destination.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	for _, s := range stmts {
		if _, err := src.ExecContext(ctx, s); err != nil {
			t.Fatalf("%.200s: %v", s, err)
		}
	}
	for _, tbl := range tables {
		def := testenv.ShowCreate(t, src, "SHOW CREATE TABLE "+testenv.QuoteIdent(tbl))
		if _, err := dst.ExecContext(ctx, def); err != nil {
			t.Fatalf("%s: %v", def, err)
		}
	}
	return pair{src: src, dst: dst, db: name}
}

// job builds a Job for table tbl as the chunk and rowcodec packages see it.
func (p pair) job(t testing.TB, tbl string) Job {
	t.Helper()
	ctx := context.Background()
	key, err := chunk.ChooseKey(ctx, p.src, p.db, tbl)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rowcodec.Columns(ctx, p.src, p.db, tbl)
	if err != nil {
		t.Fatal(err)
	}
	return Job{
		Source:    chunk.Table{Schema: p.db, Name: tbl},
		Dest:      chunk.Table{Schema: p.db, Name: tbl},
		Key:       key,
		Columns:   cols,
		Conflicts: rowcodec.Precheck,
	}
}

func (p pair) split(t testing.TB, j Job, want int) []chunk.Range {
	t.Helper()
	rs, err := chunk.Split(context.Background(), p.src, j.Source, j.Key, want)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// fingerprint is computed by each server on its own: CHECKSUM TABLE and an
// order-independent per-row MD5 sum over every column's exact bytes (FLOAT via
// CAST AS DOUBLE, TIMESTAMP via UNIX_TIMESTAMP), plus the row count.
func fingerprint(t *testing.T, db *sql.DB, schema, tbl string) string {
	t.Helper()
	ctx := context.Background()
	var name string
	var sum sql.NullInt64
	if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+testenv.QuoteIdent(schema)+"."+testenv.QuoteIdent(tbl)).Scan(&name, &sum); err != nil {
		t.Fatal(err)
	}
	// CHECKSUM TABLE is only compared for tables without VIRTUAL columns: with
	// one it differs even between a table and its INSERT ... SELECT copy on the
	// same server (measured on 10.11), so it cannot judge a copy.
	var virtual int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND EXTRA LIKE '%VIRTUAL%'`, schema, tbl).Scan(&virtual); err != nil {
		t.Fatal(err)
	}
	if virtual > 0 {
		sum.Int64 = -1
	}
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, tbl)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for rows.Next() {
		var c, dt string
		if err := rows.Scan(&c, &dt); err != nil {
			t.Fatal(err)
		}
		e := testenv.QuoteIdent(c)
		switch dt {
		case "float":
			e = "CAST(" + e + " AS DOUBLE)"
		case "timestamp":
			e = "UNIX_TIMESTAMP(" + e + ")"
		}
		parts = append(parts, "HEX(CAST("+e+" AS BINARY))", "ISNULL("+testenv.QuoteIdent(c)+")")
	}
	rows.Close()
	// Four exact integer sums of 32-bit slices of each row's MD5 (a SUM of a
	// string would be a lossy double).
	row := fmt.Sprintf("MD5(CONCAT_WS('|', %s))", strings.Join(parts, ", "))
	var sums []string
	for i := 0; i < 4; i++ {
		sums = append(sums, fmt.Sprintf("SUM(CAST(CONV(SUBSTR(%s, %d, 8), 16, 10) AS UNSIGNED))", row, 1+8*i))
	}
	var n int64
	var a [4]sql.NullString
	q := fmt.Sprintf("SELECT COUNT(*), %s FROM %s.%s", strings.Join(sums, ", "), testenv.QuoteIdent(schema), testenv.QuoteIdent(tbl))
	if err := db.QueryRowContext(ctx, q).Scan(&n, &a[0], &a[1], &a[2], &a[3]); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("rows=%d checksum=%d md5sum=%s/%s/%s/%s", n, sum.Int64, a[0].String, a[1].String, a[2].String, a[3].String)
}

func assertSame(t *testing.T, p pair, tbl string, wantRows int64) {
	t.Helper()
	s, d := fingerprint(t, p.src, p.db, tbl), fingerprint(t, p.dst, p.db, tbl)
	if s != d {
		t.Fatalf("%s differs:\nsource      %s\ndestination %s\n%s", tbl, s, d, firstDiff(t, p, tbl))
	}
	if !strings.HasPrefix(s, fmt.Sprintf("rows=%d ", wantRows)) {
		t.Fatalf("%s: %s, want %d rows", tbl, s, wantRows)
	}
}

// firstDiff shows the first differing column values among the first rows.
func firstDiff(t *testing.T, p pair, tbl string) string {
	dump := func(db *sql.DB) []map[string]string {
		rows, err := db.Query("SELECT * FROM " + testenv.QuoteIdent(tbl) + " LIMIT 300")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []map[string]string
		for rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for i, c := range cols {
				m[c] = fmt.Sprintf("%x", []byte(vals[i]))
			}
			out = append(out, m)
		}
		return out
	}
	a, b := dump(p.src), dump(p.dst)
	for i := range min(len(a), len(b)) {
		for c, v := range a[i] {
			if b[i][c] != v {
				return fmt.Sprintf("row %d column %s: source %s destination %s", i, c, v, b[i][c])
			}
		}
	}
	return "no difference in the first rows"
}

// countingLimiter records what CopyRange charges to the throttle.
type countingLimiter struct{ calls, rows, bytes atomic.Int64 }

func (c *countingLimiter) Wait(ctx context.Context, rows, bytes int) error {
	c.calls.Add(1)
	c.rows.Add(int64(rows))
	c.bytes.Add(int64(bytes))
	return ctx.Err()
}

const intDDL = "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, " +
	"pad VARCHAR(60) CHARACTER SET latin1, f FLOAT, d DECIMAL(12,3), ts TIMESTAMP(6) NULL, dt DATETIME, " +
	"g BIGINT AS (k * 2) VIRTUAL, KEY k_1 (k))"

// intFill inserts n rows with ids from -100 in steps of 3 (negatives, 0, gaps).
func intFill(n int) string {
	return fmt.Sprintf("INSERT INTO t (id, k, c, pad, f, d, ts, dt) SELECT CAST(seq AS SIGNED)*3 - 100, seq %% 1000, "+
		"CONCAT(seq, '-', REPEAT('x', seq %% 50)), IF(seq %% 7 = 0, NULL, CONCAT(X'E9', seq)), "+
		"seq / 7.0 + 0.1234567, seq * 1.125, FROM_UNIXTIME(1000000000 + seq + seq / 1000000.0), "+
		"IF(seq %% 11 = 0, '0000-00-00 00:00:00', '2024-02-29 12:00:00') FROM seq_1_to_%d", n)
}

// TestCopyParallelRanges copies ~50k rows in 4 ranges in parallel goroutines
// (INSERT path) and compares both servers' checksums.
func TestCopyParallelRanges(t *testing.T) {
	const n = 50000
	p := setupPair(t, "copier_par", []string{"t"}, intDDL, "SET time_zone = '+00:00'", intFill(n))
	j := p.job(t, "t")
	if !j.Key.Integer() {
		t.Fatalf("key %s", j.Key)
	}
	ranges := p.split(t, j, 4)
	if len(ranges) != 4 {
		t.Fatalf("%d ranges", len(ranges))
	}
	lim := &countingLimiter{}
	var wg sync.WaitGroup
	results := make([]Result, len(ranges))
	errs := make([]error, len(ranges))
	pages := make([]int, len(ranges))
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rj := j
			rj.Range, rj.Write, rj.Limiter = r, Insert, lim
			rj.MaxBytes = 64 << 10 // several statements per page, one transaction
			rj.Sizer = chunk.SizerOptions{Initial: 2000, MinRows: 500, MaxRows: 5000}
			results[i], errs[i] = CopyRange(context.Background(), p.src, p.dst, rj, func(pr Progress) { pages[i] = pr.Pages })
		}()
	}
	wg.Wait()
	var total int64
	for i := range ranges {
		if errs[i] != nil {
			t.Fatalf("range %s: %v", ranges[i], errs[i])
		}
		if results[i].Pages != pages[i] || results[i].Skipped != 0 || results[i].Found != 0 {
			t.Fatalf("range %s: result %+v, last progress page %d", ranges[i], results[i], pages[i])
		}
		total += results[i].Rows
	}
	if total != n {
		t.Fatalf("copied %d rows, want %d", total, n)
	}
	assertSame(t, p, "t", n)
	// The fingerprint sees a one-byte change.
	if _, err := p.dst.Exec("UPDATE t SET pad = CONCAT(pad, X'00') WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, p.src, p.db, "t") == fingerprint(t, p.dst, p.db, "t") {
		t.Fatal("fingerprint blind to a changed byte")
	}
	// Every SELECT (including each range's final, empty or short one) was charged.
	if lim.rows.Load() != n || lim.calls.Load() < int64(len(ranges)) {
		t.Fatalf("limiter charged %d rows in %d calls", lim.rows.Load(), lim.calls.Load())
	}
}

// TestCopyCompositeStringKeySkewed: a (VARCHAR _ci, INT) key where one value
// holds 90% of the rows, split by keyset boundaries, written in parallel (Auto: INSERT).
func TestCopyCompositeStringKeySkewed(t *testing.T) {
	const n = 20000
	p := setupPair(t, "copier_str", []string{"s"},
		"CREATE TABLE s (a VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, b INT NOT NULL, "+
			"v VARBINARY(100), l VARCHAR(30) CHARACTER SET latin1, dbl DOUBLE, PRIMARY KEY (a, b))",
		fmt.Sprintf("INSERT INTO s SELECT IF(seq %% 10 = 0, CONCAT('k', seq %% 70, IF(seq %% 3 = 0, ' ', '')), 'Hot'), seq, "+
			"CONCAT(X'00FF5C09', seq), CONCAT(X'E9', seq), seq / 3 FROM seq_1_to_%d", n),
		"ANALYZE TABLE s")
	j := p.job(t, "s")
	if len(j.Key.Columns) != 2 {
		t.Fatalf("key %s", j.Key)
	}
	ranges := p.split(t, j, 4)
	if len(ranges) < 4 {
		t.Fatalf("%d ranges for a skewed key", len(ranges))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ranges))
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rj := j
			// Parallel ranges of one table write with INSERT (Auto): parallel LOAD
			// DATA into one table can hang (README, "Known issue").
			rj.Range, rj.Write = r, Auto
			rj.Sizer = chunk.SizerOptions{Initial: 700, MinRows: 300, MaxRows: 3000}
			// JSON round trip, as an activity input would travel.
			b, err := json.Marshal(rj)
			if err != nil {
				errs[i] = err
				return
			}
			var back Job
			if err := json.Unmarshal(b, &back); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = CopyRange(context.Background(), p.src, p.dst, back, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("range %s: %v", ranges[i], err)
		}
	}
	assertSame(t, p, "s", n)
}

// TestCopyNoKey: a table without a usable key (duplicate rows, a nullable
// UNIQUE) in one streamed pass; a pass that fails mid-way leaves nothing (one
// transaction), so the retry is exact without emptying the table.
func TestCopyNoKey(t *testing.T) {
	const n = 12000
	p := setupPair(t, "copier_nokey", []string{"h"},
		"CREATE TABLE h (x INT, s VARCHAR(40) CHARACTER SET latin1, f FLOAT, u INT NULL, UNIQUE KEY (u))",
		fmt.Sprintf("INSERT INTO h SELECT seq %% 100, CONCAT(X'E9', seq %% 10), seq / 9, IF(seq %% 2 = 0, seq, NULL) FROM seq_1_to_%d", n))
	j := p.job(t, "h")
	if !j.Key.None() {
		t.Fatalf("key %s, want none", j.Key)
	}
	for _, path := range []WritePath{Insert, LoadData} {
		t.Run(string(path), func(t *testing.T) {
			if _, err := p.dst.Exec("TRUNCATE TABLE h"); err != nil {
				t.Fatal(err)
			}
			j := j
			j.Write = path
			j.Sizer = chunk.SizerOptions{Initial: 1000, MinRows: 500, MaxRows: 1000}
			crash := errors.New("simulated crash")
			j.afterCommit = func(n int) error {
				if n == 4 {
					return crash
				}
				return nil
			}
			var reported int64
			_, err := CopyRange(context.Background(), p.src, p.dst, j, func(pr Progress) {
				if pr.Cursor != nil {
					t.Errorf("no-key progress with a cursor %v", pr.Cursor)
				}
				reported = pr.Rows
			})
			if !errors.Is(err, crash) || reported != 3000 {
				t.Fatalf("crashed pass: err %v, reported %d rows", err, reported)
			}
			var left int
			if err := p.dst.QueryRow("SELECT COUNT(*) FROM h").Scan(&left); err != nil || left != 0 {
				t.Fatalf("after a failed pass the destination holds %d rows (%v), want 0", left, err)
			}
			j.afterCommit = nil
			res, err := CopyRange(context.Background(), p.src, p.dst, j, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != n || res.Pages < 12 {
				t.Fatalf("result %+v", res)
			}
			assertSame(t, p, "h", n)
		})
	}
}

// resumeTable is a single-range integer table for the resume tests.
func resumeSetup(t *testing.T, name string, n int) (pair, Job) {
	p := setupPair(t, name, []string{"t"}, intDDL, "SET time_zone = '+00:00'", intFill(n))
	j := p.job(t, "t")
	j.Range = p.split(t, j, 1)[0]
	j.Sizer = chunk.SizerOptions{Initial: 500, MinRows: 500, MaxRows: 500}
	return p, j
}

func (p pair) dstCount(t *testing.T) int64 {
	var c int64
	if err := p.dst.QueryRow("SELECT COUNT(*) FROM t").Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestResumeAfterCancel: the context is cancelled after 5 pages; the run from the
// last reported cursor completes the range exactly (precheck: a single
// duplicate would fail it).
func TestResumeAfterCancel(t *testing.T) {
	const n = 6000
	p, j := resumeSetup(t, "copier_resume", n)
	// One connection per pool: the sessions CopyRange changed must not come back.
	p.src.SetMaxOpenConns(1)
	p.dst.SetMaxOpenConns(1)
	for _, path := range []WritePath{Insert, LoadData} {
		t.Run(string(path), func(t *testing.T) {
			if _, err := p.dst.Exec("TRUNCATE TABLE t"); err != nil {
				t.Fatal(err)
			}
			j := j
			j.Write = path
			ctx, cancel := context.WithCancel(context.Background())
			var last Progress
			_, err := CopyRange(ctx, p.src, p.dst, j, func(pr Progress) {
				last = pr
				if pr.Pages == 5 {
					cancel()
				}
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: %v", err)
			}
			if last.Rows != 2500 || p.dstCount(t) != 2500 {
				t.Fatalf("after cancel: progress %+v, destination %d rows", last, p.dstCount(t))
			}
			// The heartbeat travels as JSON.
			b, _ := json.Marshal(last.Cursor)
			var cur chunk.Cursor
			if err := json.Unmarshal(b, &cur); err != nil {
				t.Fatal(err)
			}
			j.Cursor = cur
			res, err := CopyRange(context.Background(), p.src, p.dst, j, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rows != n-2500 || res.Found != 0 {
				t.Fatalf("resumed result %+v", res)
			}
			assertSame(t, p, "t", n)
			var cs, mode string
			var fk int
			if err := p.src.QueryRow("SELECT @@session.character_set_results, @@session.sql_mode").Scan(&cs, &mode); err != nil || cs != "utf8mb4" || mode == "" {
				t.Fatalf("source pool session after CopyRange: character_set_results %q sql_mode %q (%v)", cs, mode, err)
			}
			if err := p.dst.QueryRow("SELECT @@session.foreign_key_checks").Scan(&fk); err != nil || fk != 1 {
				t.Fatalf("destination pool session after CopyRange: foreign_key_checks %d (%v)", fk, err)
			}
		})
	}
}

// TestResumeAfterCrashBeforeReport: pages committed after the last cursor the
// activity heartbeated (a crash between commit and report, or Temporal's
// heartbeat throttling losing the last few reports) are found on the destination
// under precheck, and the retry continues after them: exact, no duplicate error.
// Under ignore the retry rewrites them and counts them as skipped.
func TestResumeAfterCrashBeforeReport(t *testing.T) {
	const n = 6000
	p, base := resumeSetup(t, "copier_crash", n)
	crash := errors.New("simulated crash after commit")
	cases := []struct {
		name      string
		conflicts rowcodec.Conflicts
		path      WritePath
		crashAt   int // page whose commit is followed by the crash
		resumeAt  int // page whose reported cursor the retry gets (0: none, the range start)
	}{
		{"precheck/insert/last-report-lost", rowcodec.Precheck, Insert, 4, 3},
		{"precheck/load-data/three-reports-lost", rowcodec.Precheck, LoadData, 6, 3},
		{"precheck/insert/no-report-at-all", rowcodec.Precheck, Insert, 2, 0},
		{"ignore/insert/two-reports-lost", rowcodec.Ignore, Insert, 5, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := p.dst.Exec("TRUNCATE TABLE t"); err != nil {
				t.Fatal(err)
			}
			j := base
			j.Conflicts, j.Write = tc.conflicts, tc.path
			j.afterCommit = func(page int) error {
				if page == tc.crashAt {
					return crash
				}
				return nil
			}
			cursors := map[int]chunk.Cursor{}
			_, err := CopyRange(context.Background(), p.src, p.dst, j, func(pr Progress) { cursors[pr.Pages] = pr.Cursor })
			if !errors.Is(err, crash) {
				t.Fatalf("first attempt: %v", err)
			}
			if _, reported := cursors[tc.crashAt]; reported {
				t.Fatal("the crashed page was reported")
			}
			if got := p.dstCount(t); got != int64(tc.crashAt*500) {
				t.Fatalf("destination holds %d rows after the crash, want %d", got, tc.crashAt*500)
			}
			j.afterCommit = nil
			j.Cursor = cursors[tc.resumeAt] // nil for 0
			if tc.resumeAt > 0 && j.Cursor == nil {
				t.Fatalf("no cursor reported for page %d", tc.resumeAt)
			}
			var first *Progress
			res, err := CopyRange(context.Background(), p.src, p.dst, j, func(pr Progress) {
				if first == nil {
					first = &pr
				}
			})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			lost := int64((tc.crashAt - tc.resumeAt) * 500)
			if tc.conflicts == rowcodec.Precheck {
				if res.Found != lost || first == nil || first.Found != lost || first.Pages != 0 {
					t.Fatalf("retry found %d rows (first report %+v), want %d", res.Found, first, lost)
				}
				if res.Rows != int64(n-tc.resumeAt*500) || res.Skipped != 0 {
					t.Fatalf("retry result %+v", res)
				}
			} else if res.Skipped != lost || res.Rows != int64(n-tc.crashAt*500) {
				t.Fatalf("ignore retry result %+v, want %d skipped", res, lost)
			}
			assertSame(t, p, "t", n)
		})
	}
}

// TestPrecheckDuplicateDuringCopy: a row that appears on the destination in the
// part of the range not yet copied (a zombie attempt, a foreign writer) while the
// copy runs is still a precheck error, on both write paths, and the failed page
// leaves nothing behind.
func TestPrecheckDuplicateDuringCopy(t *testing.T) {
	p, base := resumeSetup(t, "copier_dup", 3000)
	var id int64 // a row of page 3
	if err := p.src.QueryRow("SELECT id FROM t ORDER BY id LIMIT 1 OFFSET 1200").Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, path := range []WritePath{Insert, LoadData} {
		t.Run(string(path), func(t *testing.T) {
			if _, err := p.dst.Exec("TRUNCATE TABLE t"); err != nil {
				t.Fatal(err)
			}
			j := base
			j.Write = path
			j.afterCommit = func(page int) error {
				if page == 1 {
					_, err := p.dst.Exec("INSERT INTO t (id, k, c) VALUES (?, 0, 'zombie')", id)
					return err
				}
				return nil
			}
			var last Progress
			_, err := CopyRange(context.Background(), p.src, p.dst, j, func(pr Progress) { last = pr })
			if err == nil || !strings.Contains(err.Error(), "uplicate") && !strings.Contains(err.Error(), "not inserted") {
				t.Fatalf("copy over a foreign row: %v", err)
			}
			if last.Pages != 2 || p.dstCount(t) != 1001 {
				t.Fatalf("after the failure: last progress %+v, %d rows on the destination", last, p.dstCount(t))
			}
		})
	}
}

// A Where condition and a Rows step (as filters and transforms give them): the
// SELECT reads only matching rows, Rows reads a wider column list than it
// writes, drops some rows and rewrites a value; keyed and keyless.
func TestCopyWhereAndRows(t *testing.T) {
	p := setupPair(t, "copier_rows", []string{"k", "h"},
		"CREATE TABLE k (id INT PRIMARY KEY, v INT NOT NULL, secret VARCHAR(10))",
		"CREATE TABLE h (id INT, v INT NOT NULL, secret VARCHAR(10))",
		"INSERT INTO k SELECT seq, seq % 10, 's' FROM seq_1_to_3000",
		"INSERT INTO h SELECT seq, seq % 10, 's' FROM seq_1_to_3000")
	for _, tbl := range []string{"k", "h"} {
		if _, err := p.dst.Exec("ALTER TABLE " + tbl + " DROP COLUMN secret"); err != nil {
			t.Fatal(err)
		}
		j := p.job(t, tbl)
		j.Read = j.Columns // id, v, secret
		j.Columns = j.Columns[:2]
		j.Where = "`v` <> 0" // SQL drops v = 0 (300 rows)
		j.Sizer = chunk.SizerOptions{Initial: 500, MinRows: 100, MaxRows: 500}
		j.Rows = func(rows []rowcodec.Row) ([]rowcodec.Row, int64, int64, error) {
			var out []rowcodec.Row
			var filtered int64
			for _, r := range rows {
				if len(r) != 3 || string(r[2].([]byte)) != "s" {
					return nil, 0, 0, fmt.Errorf("row %v: not the Read columns", r)
				}
				if r[1].(int64) == 1 { // Go drops v = 1 (300 rows)
					filtered++
					continue
				}
				out = append(out, rowcodec.Row{r[0], r[1].(int64) * 100})
			}
			return out, filtered, 0, nil
		}
		res, err := CopyRange(context.Background(), p.src, p.dst, j, nil)
		if err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		var n, sum, bad int64
		if err := p.dst.QueryRow("SELECT COUNT(*), SUM(v), SUM(v NOT IN (200, 300, 400, 500, 600, 700, 800, 900)) FROM "+tbl).Scan(&n, &sum, &bad); err != nil {
			t.Fatal(err)
		}
		if n != 2400 || bad != 0 || res.Rows != 2400 || res.Filtered != 300 {
			t.Errorf("%s: %d rows (%d with other values), result %+v; want 2400 rows, 300 filtered in Go", tbl, n, bad, res)
		}
	}
}
