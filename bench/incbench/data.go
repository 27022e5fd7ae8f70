package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/sluice-dev/sluice/bench/benchdata"
	"github.com/sluice-dev/sluice/bench/benchproc"
	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/testenv"
)

// benchDB is sysbench's database; probeTable lives in it so it is copied and
// replicated like the sysbench tables.
const (
	benchDB    = "sbtest"
	probeTable = "probe"
)

// sourcePosition reads the source's current binlog position and GTID position.
func sourcePosition(ctx context.Context, db *sql.DB) (binlog.Position, error) {
	var p binlog.Position
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return p, fmt.Errorf("source: SHOW MASTER STATUS: %w", err)
	}
	m, err := scanMap(rows)
	if err != nil {
		return p, fmt.Errorf("source: SHOW MASTER STATUS: %w", err)
	}
	if m == nil || m["File"] == "" {
		return p, fmt.Errorf("source: SHOW MASTER STATUS returned no row: is the binlog on?")
	}
	p.File = m["File"]
	pos, err := strconv.ParseUint(m["Position"], 10, 64)
	if err != nil {
		return p, fmt.Errorf("source: SHOW MASTER STATUS position %q: %w", m["Position"], err)
	}
	p.Pos = pos
	if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&p.GTID); err != nil {
		return p, fmt.Errorf("source: gtid_binlog_pos: %w", err)
	}
	return p, nil
}

// scanMap reads the first row of rows as column name → text (nil: no row).
func scanMap(rows *sql.Rows) (map[string]string, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(cols))
	for i, c := range cols {
		m[c] = vals[i].String
	}
	return m, rows.Err()
}

// gtidDelta counts the transactions between two MariaDB GTID positions
// ("domain-server-seq,..."): per domain, the difference of sequence numbers.
func gtidDelta(from, to string) (uint64, error) {
	parse := func(s string) (map[string]uint64, error) {
		out := map[string]uint64{}
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			f := strings.Split(part, "-")
			if len(f) != 3 {
				return nil, fmt.Errorf("GTID %q: want domain-server-sequence", part)
			}
			n, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("GTID %q: %w", part, err)
			}
			out[f[0]] = n
		}
		return out, nil
	}
	a, err := parse(from)
	if err != nil {
		return 0, err
	}
	b, err := parse(to)
	if err != nil {
		return 0, err
	}
	var n uint64
	for d, seq := range b {
		if seq < a[d] {
			return 0, fmt.Errorf("GTID position went back in domain %s: %s then %s", d, from, to)
		}
		n += seq - a[d]
	}
	return n, nil
}

// binlogBytes is the size of the binlog between two positions, across files.
func binlogBytes(ctx context.Context, db *sql.DB, from, to binlog.Position) (int64, error) {
	if from.File == to.File {
		return int64(to.Pos) - int64(from.Pos), nil
	}
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return 0, fmt.Errorf("source: SHOW BINARY LOGS: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var total int64
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		name := vals[0].String
		size, _ := strconv.ParseInt(vals[1].String, 10, 64)
		p := binlog.Position{File: name}
		switch {
		case name == from.File:
			total += size - int64(from.Pos)
		case name == to.File:
			total += int64(to.Pos)
		case p.Compare(from) > 0 && p.Compare(to) < 0:
			total += size
		}
	}
	return total, rows.Err()
}

// prepare creates the sysbench tables and the probe table on the source.
func (b *bench) prepare(ctx context.Context) error {
	if err := b.src.Exec(ctx, "CREATE DATABASE "+testenv.QuoteIdent(benchDB)); err != nil {
		return err
	}
	if err := b.writeSysbenchConf(ctx); err != nil {
		return err
	}
	threads := min(b.cfg.threads, b.cfg.tables)
	res, err := b.runSysbench(ctx, "prepare", "sysbench-prepare.log", "--threads="+strconv.Itoa(threads))
	if err != nil {
		return err
	}
	_ = res
	probe := testenv.QuoteIdent(benchDB) + "." + testenv.QuoteIdent(probeTable)
	return b.src.Exec(ctx, "CREATE TABLE "+probe+" (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `sent_us` BIGINT NOT NULL) ENGINE=InnoDB")
}

// copyToTargets dumps the quiet source once and loads the dump into the
// destination and the replica at the same time (nothing is timed here).
func (b *bench) copyToTargets(ctx context.Context) error {
	srcConf, err := writeClientConf(filepath.Join(b.dir, "source.cnf"), b.src)
	if err != nil {
		return err
	}
	dump := filepath.Join(b.dir, "sbtest.sql")
	out, err := os.Create(dump)
	if err != nil {
		return fmt.Errorf("create %s: %w", dump, err)
	}
	logPath := filepath.Join(b.logDir, "mariadb-dump.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		out.Close()
		return err
	}
	cmd := exec.CommandContext(ctx, b.mariadbDump, "--defaults-extra-file="+srcConf, "--single-transaction", "--skip-dump-date", "--databases", benchDB)
	cmd.Stdout, cmd.Stderr = out, logFile
	cmd.SysProcAttr = testenv.ChildProcAttr()
	err = cmd.Run()
	out.Close()
	logFile.Close()
	if err != nil {
		return fmt.Errorf("mariadb-dump failed: %w; end of %s:\n%s", err, logPath, benchproc.Tail(logPath, 15))
	}
	targets := []*testenv.Server{b.dst}
	if b.replica != nil {
		targets = append(targets, b.replica)
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.load(ctx, t, dump)
		}()
	}
	wg.Wait()
	if !b.cfg.keep {
		os.Remove(dump)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) load(ctx context.Context, s *testenv.Server, dump string) error {
	conf, err := writeClientConf(filepath.Join(b.dir, s.Name+".cnf"), s)
	if err != nil {
		return err
	}
	in, err := os.Open(dump)
	if err != nil {
		return err
	}
	defer in.Close()
	logPath := filepath.Join(b.logDir, "load-"+s.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, b.mariadbClient, "--defaults-extra-file="+conf)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, logFile, logFile
	cmd.SysProcAttr = testenv.ChildProcAttr()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("load the dump into the %s: %w; end of %s:\n%s", s.Name, err, logPath, benchproc.Tail(logPath, 15))
	}
	return nil
}

// writeClientConf writes a [client] option file so no password is on a command line.
func writeClientConf(path string, s *testenv.Server) (string, error) {
	conf := fmt.Sprintf("[client]\nhost=%s\nport=%d\nuser=%s\npassword=%s\nprotocol=TCP\n", s.Host, s.Port, s.RootUser, s.RootPassword)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// verify compares each copy with the source; the source must be quiet.
func (b *bench) verify(ctx context.Context, copies ...*testenv.Server) (map[string][]string, error) {
	src, err := benchdata.Snapshot(ctx, b.src, benchDB)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, c := range copies {
		st, err := benchdata.Snapshot(ctx, c, benchDB)
		if err != nil {
			return nil, err
		}
		out[c.Name] = benchdata.CompareStates(src, st)
	}
	return out, nil
}

// statusCounters are the SHOW GLOBAL STATUS counters a catch-up records.
var statusCounters = []string{"Questions", "Com_insert", "Com_replace", "Com_delete", "Com_commit",
	"Handler_commit", "Handler_rollback", "Handler_write", "Handler_update", "Handler_delete", "Handler_read_key", "Bytes_received",
	"Innodb_row_lock_waits", "Innodb_deadlocks"}

// readStatus reads statusCounters of a server.
func readStatus(ctx context.Context, s *testenv.Server) (map[string]int64, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE `Variable_name` IN ('"+strings.Join(statusCounters, "','")+"')")
	if err != nil {
		return nil, fmt.Errorf("%s: SHOW GLOBAL STATUS: %w", s.Name, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("%s: SHOW GLOBAL STATUS: %w", s.Name, err)
		}
		out[name], _ = strconv.ParseInt(v, 10, 64)
	}
	return out, rows.Err()
}

// statusDelta is after - before, per counter (nil when either is missing).
func statusDelta(before, after map[string]int64) map[string]int64 {
	if before == nil || after == nil {
		return nil
	}
	out := map[string]int64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// settleAll lets the servers finish background flushing before a run.
func (b *bench) settleAll(ctx context.Context) { benchproc.SettleAll(ctx, b.servers(), b.logf) }
