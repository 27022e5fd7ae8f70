package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/testenv"
)

// nativeReplica drives the MariaDB replica through one session.
type nativeReplica struct {
	db   *sql.DB
	conn *sql.Conn
}

func (b *bench) openReplica(ctx context.Context) (*nativeReplica, error) {
	db, err := b.replica.Open("")
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("replica: %w", err)
	}
	return &nativeReplica{db: db, conn: conn}, nil
}

func (n *nativeReplica) close() {
	n.conn.Close()
	n.db.Close()
}

// configure points the stopped replica at the source's start position, by file
// and position (MASTER_USE_GTID=no), with parallel apply.
func (b *bench) configureReplica(ctx context.Context, n *nativeReplica, start binlog.Position) error {
	for _, q := range []string{
		"SET GLOBAL slave_parallel_threads = " + strconv.Itoa(b.cfg.nativeThreads),
		"SET GLOBAL slave_parallel_mode = " + testenv.QuoteString(b.cfg.nativeMode),
	} {
		if _, err := n.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("replica: %s: %w", q, err)
		}
	}
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, MASTER_LOG_FILE=%s, MASTER_LOG_POS=%d, MASTER_USE_GTID=no",
		testenv.QuoteString(b.src.Host), b.src.Port, testenv.QuoteString(b.src.RootUser), testenv.QuoteString(b.src.RootPassword),
		testenv.QuoteString(start.File), start.Pos)
	if _, err := n.conn.ExecContext(ctx, change); err != nil {
		// The statement holds the password: not in the message.
		return fmt.Errorf("replica: CHANGE MASTER TO (file %s, position %d): %w", start.File, start.Pos, err)
	}
	return nil
}

// slaveStatus is SHOW SLAVE STATUS as column → text (nil: not a replica).
func slaveStatus(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, fmt.Errorf("replica: SHOW SLAVE STATUS: %w", err)
	}
	m, err := scanMap(rows)
	if err != nil {
		return nil, fmt.Errorf("replica: SHOW SLAVE STATUS: %w", err)
	}
	return m, nil
}

// replicaError is the replica's IO or SQL thread error, "" while both are fine.
func replicaError(st map[string]string) string {
	if st == nil {
		return "not configured as a replica"
	}
	if e := st["Last_SQL_Error"]; e != "" {
		return "SQL thread: " + e
	}
	if e := st["Last_IO_Error"]; e != "" {
		return "IO thread: " + e
	}
	return ""
}

// waitReplica waits with MASTER_POS_WAIT until the replica's SQL thread has
// executed up to pos. A watcher reads SHOW SLAVE STATUS every second on another
// session and kills the wait when a replication thread fails.
func waitReplica(ctx context.Context, n *nativeReplica, pos binlog.Position, timeout time.Duration) error {
	var id int64
	if err := n.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan string, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			st, err := slaveStatus(wctx, n.db)
			if err != nil {
				continue
			}
			if e := replicaError(st); e != "" {
				failed <- e
				_, _ = n.db.ExecContext(context.Background(), "KILL QUERY "+strconv.FormatInt(id, 10))
				return
			}
		}
	}()
	var res sql.NullInt64
	err := n.conn.QueryRowContext(ctx, "SELECT MASTER_POS_WAIT(?, ?, ?)", pos.File, pos.Pos, int64(timeout.Seconds())).Scan(&res)
	cancel()
	select {
	case e := <-failed:
		return fmt.Errorf("replica: %s", e)
	default:
	}
	if err != nil {
		return fmt.Errorf("replica: MASTER_POS_WAIT(%s): %w", pos, err)
	}
	switch {
	case !res.Valid:
		st, _ := slaveStatus(ctx, n.conn)
		return fmt.Errorf("replica: MASTER_POS_WAIT(%s) returned NULL (replication not running): %s", pos, replicaError(st))
	case res.Int64 < 0:
		return fmt.Errorf("replica: did not reach %s within %s", pos, timeout)
	}
	return nil
}

// runNative times the replica applying the backlog: from CHANGE MASTER TO until
// its SQL thread has executed the source's end position.
func (b *bench) runNative(ctx context.Context, n *nativeReplica, bl backlog) *catchupResult {
	r := &catchupResult{Name: phaseNative, Txns: bl.Txns}
	before, _ := readStatus(ctx, b.replica)
	meter := b.meter()
	meter.start()
	t0 := time.Now()
	err := b.configureReplica(ctx, n, bl.Start)
	if err == nil {
		if _, err = n.conn.ExecContext(ctx, "START SLAVE"); err != nil {
			err = fmt.Errorf("replica: START SLAVE: %w", err)
		}
	}
	if err == nil {
		err = waitReplica(ctx, n, bl.End, b.cfg.timeout)
	}
	r.Seconds = time.Since(t0).Seconds()
	r.CPU = meter.stop()
	if after, err := readStatus(ctx, b.replica); err == nil {
		r.Server = statusDelta(before, after)
	}
	if err != nil {
		r.Seconds = 0
		r.fail("%v", err)
		return r
	}
	// The replica's own account of where it is, against the source's.
	st, err := slaveStatus(ctx, n.conn)
	if err != nil {
		r.fail("%v", err)
		return r
	}
	if st["Relay_Master_Log_File"] != bl.End.File || st["Exec_Master_Log_Pos"] != strconv.FormatUint(bl.End.Pos, 10) {
		r.fail("replica executed up to %s:%s, the source ended at %s", st["Relay_Master_Log_File"], st["Exec_Master_Log_Pos"], bl.End)
	}
	return r
}

// stopReplica stops replication (errors only logged: the results are in).
func (b *bench) stopReplica(ctx context.Context, n *nativeReplica) {
	if _, err := n.conn.ExecContext(ctx, "STOP SLAVE"); err != nil && !errors.Is(err, context.Canceled) {
		b.logf("  replica: STOP SLAVE: %v", err)
	}
}
