package benchproc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

// idleDirty: a few pages stay dirty on an idle server (statistics, purge).
const idleDirty = 64

// SettleAll lets every server finish its background flushing before a timed
// run (Settle), at most 2 minutes each, and says what it took.
func SettleAll(ctx context.Context, servers []*testenv.Server, logf func(string, ...any)) {
	t0 := time.Now()
	for _, s := range servers {
		dirty, err := Settle(ctx, s, 2*time.Minute)
		if err != nil {
			logf("  settle %s: %v", s.Name, err)
		} else if dirty > idleDirty {
			logf("  %s still has %d dirty pages after 2 minutes; running anyway", s.Name, dirty)
		}
	}
	if d := time.Since(t0); d > time.Second {
		logf("  servers settled (dirty pages flushed) in %.1f s", d.Seconds())
	}
}

// Settle waits until InnoDB on s has written its dirty pages back, so a run
// does not pay for the background flushing of the data generation or of the
// previous run. For the wait only, innodb_max_dirty_pages_pct goes to 0 and
// the I/O capacity up (at the default 200 pages/s the flush of generated data
// takes minutes); both are restored before it returns.
func Settle(ctx context.Context, s *testenv.Server, timeout time.Duration) (dirty int64, err error) {
	db, err := s.Open("")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	// One connection: the restore must run even if ctx is cancelled, on a
	// session that already exists.
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.Name, err)
	}
	defer conn.Close()
	var pct, capacity, capacityMax string
	if err := conn.QueryRowContext(ctx, "SELECT @@GLOBAL.innodb_max_dirty_pages_pct, @@GLOBAL.innodb_io_capacity, @@GLOBAL.innodb_io_capacity_max").
		Scan(&pct, &capacity, &capacityMax); err != nil {
		return 0, fmt.Errorf("%s: read the flushing settings: %w", s.Name, err)
	}
	defer func() {
		// innodb_io_capacity may not exceed innodb_io_capacity_max: lower it first.
		for _, q := range []string{
			"SET GLOBAL innodb_io_capacity = " + capacity,
			"SET GLOBAL innodb_io_capacity_max = " + capacityMax,
			"SET GLOBAL innodb_max_dirty_pages_pct = " + pct,
		} {
			if _, rerr := conn.ExecContext(context.Background(), q); rerr != nil {
				err = errors.Join(err, fmt.Errorf("%s: restore %s: %w", s.Name, q, rerr))
			}
		}
	}()
	for _, q := range []string{
		"SET GLOBAL innodb_io_capacity_max = 20000",
		"SET GLOBAL innodb_io_capacity = 20000",
		"SET GLOBAL innodb_max_dirty_pages_pct = 0",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %s: %w", s.Name, q, err)
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		var name string
		if err := conn.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").Scan(&name, &dirty); err != nil {
			return 0, fmt.Errorf("%s: dirty pages: %w", s.Name, err)
		}
		if dirty <= idleDirty || time.Now().After(deadline) {
			return dirty, nil
		}
		select {
		case <-ctx.Done():
			return dirty, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
