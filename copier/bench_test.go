package copier

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkCopyRange copies a sysbench-style table (SLUICE_BENCH_ROWS rows, default
// 500k) through each write path with 1 and 4 ranges in parallel, the way a full
// copy's chunk activities run, and reports rows/s. It is also the stress case for
// parallel writers into one table: a page that does not finish in a minute dumps
// the destination's process list and fails. SLUICE_BENCH_NOINDEX=1 drops the
// destination's secondary index first: the difference is what deferring
// secondary indexes (ddl.SplitIndexes) saves.
//
//	go test -run '^$' -bench CopyRange -benchtime 1x ./copier
func BenchmarkCopyRange(b *testing.B) {
	n := 500_000
	if v := os.Getenv("SLUICE_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("SLUICE_BENCH_ROWS: %v", err)
		}
	}
	p := setupPair(b, "bench_copy", []string{"sbtest"},
		"CREATE TABLE sbtest (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k))",
		fmt.Sprintf(`INSERT INTO sbtest (id, k, c, pad) SELECT seq, FLOOR(RAND(seq) * %d),
			CONCAT_WS('-', LPAD(seq, 11, '0'), LPAD(seq*7 %% 99999999999, 11, '0'), LPAD(seq*13 %% 99999999999, 11, '0'), LPAD(seq*17 %% 99999999999, 11, '0'),
				LPAD(seq*19 %% 99999999999, 11, '0'), LPAD(seq*23 %% 99999999999, 11, '0'), LPAD(seq*29 %% 99999999999, 11, '0'), LPAD(seq*31 %% 99999999999, 11, '0'),
				LPAD(seq*37 %% 99999999999, 11, '0'), LPAD(seq*41 %% 99999999999, 11, '0')),
			CONCAT_WS('-', LPAD(seq*43 %% 99999999999, 11, '0'), LPAD(seq*47 %% 99999999999, 11, '0'), LPAD(seq*53 %% 99999999999, 11, '0'), LPAD(seq*59 %% 99999999999, 11, '0'), LPAD(seq*61 %% 99999999999, 11, '0'))
			FROM seq_1_to_%d`, n, n))
	if os.Getenv("SLUICE_BENCH_NOINDEX") != "" {
		if _, err := p.dst.Exec("ALTER TABLE sbtest DROP INDEX k_1"); err != nil {
			b.Fatal(err)
		}
	}
	for _, path := range []WritePath{Insert, LoadData} {
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/ranges=%d", path, par), func(b *testing.B) {
				for range b.N {
					if _, err := p.dst.Exec("TRUNCATE TABLE sbtest"); err != nil {
						b.Fatal(err)
					}
					start := time.Now()
					copyParallel(b, p, path, par)
					b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
				}
			})
		}
	}
}

func copyParallel(b *testing.B, p pair, path WritePath, par int) {
	j := p.job(b, "sbtest")
	j.Write = path
	ranges := p.split(b, j, par)
	var wg sync.WaitGroup
	errs := make(chan error, len(ranges))
	for _, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jr := j
			jr.Range = r
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			last := time.Now()
			var mu sync.Mutex
			done := make(chan struct{})
			go func() {
				// A page that takes a minute is a hang: show what the server waits on.
				t := time.NewTicker(5 * time.Second)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
						mu.Lock()
						stuck := time.Since(last) > time.Minute
						mu.Unlock()
						if stuck {
							errs <- fmt.Errorf("range %s: no page for a minute:\n%s", r, processList(p.dst))
							cancel()
							return
						}
					}
				}
			}()
			_, err := CopyRange(ctx, p.src, p.dst, jr, func(Progress) { mu.Lock(); last = time.Now(); mu.Unlock() })
			close(done)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

func processList(db *sql.DB) string {
	rows, err := db.Query("SELECT ID, COMMAND, TIME, STATE, LEFT(INFO, 120) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Sleep'")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out string
	for rows.Next() {
		var id, t int64
		var cmd string
		var state, info sql.NullString
		if err := rows.Scan(&id, &cmd, &t, &state, &info); err != nil {
			return err.Error()
		}
		out += fmt.Sprintf("  %d %s %ds %s: %s\n", id, cmd, t, state.String, info.String)
	}
	var typ, name, status string
	if err := db.QueryRow("SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &status); err == nil {
		out += status
	}
	return out
}
