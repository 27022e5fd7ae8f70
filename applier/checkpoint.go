package applier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/binlog"
)

// MetaSchema is the database sluice keeps its state in, on the destination (and, for
// the heartbeat table, on the source). It is never migrated.
const MetaSchema = "sluice"

// Task states in sluice.tasks.
const (
	StateRunning = "running"
	// StateDone is the fence: once a task is done (cut over or stopped) no applier
	// commits for it any more, whatever attempt of whichever worker is still alive.
	StateDone = "done"
)

// ErrFenced is returned when the task was finished under an applier: its epoch is
// rolled back and nothing more is written.
var ErrFenced = errors.New("the task is finished (cut over or stopped): nothing more is written to the destination")

var metaDDL = []string{
	"CREATE DATABASE IF NOT EXISTS `sluice`",
	"CREATE TABLE IF NOT EXISTS `sluice`.`tasks` (" +
		"`task` VARBINARY(512) NOT NULL PRIMARY KEY," +
		"`state` VARCHAR(16) NOT NULL," +
		"`safe_file` VARCHAR(512) NOT NULL DEFAULT ''," +
		"`safe_pos` BIGINT UNSIGNED NOT NULL DEFAULT 0," +
		"`safe_gtid` TEXT NOT NULL," +
		"`ddl_pending` TEXT NOT NULL," +
		"`generation` BIGINT UNSIGNED NOT NULL DEFAULT 0," +
		"`created_at` DATETIME(6) NOT NULL," +
		"`updated_at` DATETIME(6) NOT NULL," +
		"`finished_at` DATETIME(6) NULL," +
		"`summary` TEXT NULL" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS `sluice`.`checkpoints` (" +
		"`task` VARBINARY(512) NOT NULL," +
		"`slot` INT UNSIGNED NOT NULL," +
		"`epoch` BIGINT UNSIGNED NOT NULL," +
		"`start_file` VARCHAR(512) NOT NULL," +
		"`start_pos` BIGINT UNSIGNED NOT NULL," +
		"`start_gtid` TEXT NOT NULL," +
		"`end_file` VARCHAR(512) NOT NULL," +
		"`end_pos` BIGINT UNSIGNED NOT NULL," +
		"`end_gtid` TEXT NOT NULL," +
		"`applied` BLOB NOT NULL," +
		"`txns` BIGINT UNSIGNED NOT NULL," +
		"`rows` BIGINT UNSIGNED NOT NULL," +
		"`source_time` DATETIME(6) NULL," +
		"`updated_at` DATETIME(6) NOT NULL," +
		"PRIMARY KEY (`task`, `slot`)" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
}

// Task is a task's row in sluice.tasks.
type Task struct {
	State string
	// SafeUntil: transactions that end at or before it are applied in safe mode
	// (they may find rows the full copy already wrote).
	SafeUntil binlog.Position
	// DDLPending is the end position of a DDL that was started and may or may not
	// have been applied before a crash ("" when none).
	DDLPending string
}

// Resume is where a task's applier continues: the last epoch any slot committed.
type Resume struct {
	Epoch      uint64
	Start, End binlog.Position
	// Applied marks the epoch's transactions (by ordinal from Start) already
	// committed; the others of [Start, End] are applied again.
	Applied bitset
	// Txns and Rows are totals over every slot and epoch.
	Txns, Rows uint64
	// SourceTime is the source commit time of the last transaction applied.
	SourceTime time.Time
}

// Store reads and writes a task's state on the destination.
type Store struct {
	db   *sql.DB
	task string
}

// OpenStore creates the metadata schema when missing.
func OpenStore(ctx context.Context, db *sql.DB, task string) (*Store, error) {
	for _, q := range metaDDL {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("create the metadata schema `%s` on the destination: %w", MetaSchema, err)
		}
	}
	return &Store{db: db, task: task}, nil
}

// StoreOf reads a task's state without creating the metadata schema: for
// readers (a verification), to which a destination without it has no task.
func StoreOf(db *sql.DB, task string) *Store { return &Store{db: db, task: task} }

// Start registers the task (the first time, with its safe-mode end) and returns
// its row. A finished task is an ErrFenced.
func (s *Store) Start(ctx context.Context, safeUntil binlog.Position) (Task, error) {
	_, err := s.db.ExecContext(ctx, "INSERT IGNORE INTO `sluice`.`tasks` (`task`, `state`, `safe_file`, `safe_pos`, `safe_gtid`, `ddl_pending`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?, ?, '', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
		s.task, StateRunning, safeUntil.File, safeUntil.Pos, safeUntil.GTID)
	if err != nil {
		return Task{}, fmt.Errorf("register task in `sluice`.`tasks`: %w", err)
	}
	t, err := s.Task(ctx)
	if err != nil {
		return t, err
	}
	if t.State != StateRunning {
		return t, ErrFenced
	}
	return t, nil
}

// Task reads the task's row.
func (s *Store) Task(ctx context.Context) (Task, error) {
	var t Task
	err := s.db.QueryRowContext(ctx, "SELECT `state`, `safe_file`, `safe_pos`, `safe_gtid`, `ddl_pending` FROM `sluice`.`tasks` WHERE `task` = ?", s.task).
		Scan(&t.State, &t.SafeUntil.File, &t.SafeUntil.Pos, &t.SafeUntil.GTID, &t.DDLPending)
	if err != nil {
		return t, fmt.Errorf("read task from `sluice`.`tasks`: %w", err)
	}
	return t, nil
}

// Resume reads the checkpoints; ok=false when the task never committed.
func (s *Store) Resume(ctx context.Context) (Resume, bool, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT `epoch`, `start_file`, `start_pos`, `start_gtid`, `end_file`, `end_pos`, `end_gtid`, `applied`, `txns`, `rows`, `source_time` FROM `sluice`.`checkpoints` WHERE `task` = ?", s.task)
	if err != nil {
		return Resume{}, false, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	var r Resume
	found := false
	for rows.Next() {
		var (
			epoch      uint64
			start, end binlog.Position
			applied    []byte
			txns, n    uint64
			st         sql.NullString
		)
		if err := rows.Scan(&epoch, &start.File, &start.Pos, &start.GTID, &end.File, &end.Pos, &end.GTID, &applied, &txns, &n, &st); err != nil {
			return Resume{}, false, fmt.Errorf("read checkpoints: %w", err)
		}
		r.Txns += txns
		r.Rows += n
		if st.Valid {
			// Read as text: the pool may or may not parse times.
			if tm, err := time.ParseInLocation("2006-01-02 15:04:05.999999", strings.Replace(strings.TrimSuffix(st.String, "Z"), "T", " ", 1), time.UTC); err == nil && tm.After(r.SourceTime) {
				r.SourceTime = tm
			}
		}
		switch {
		case !found || epoch > r.Epoch:
			found = true
			r.Epoch, r.Start, r.End, r.Applied = epoch, start, end, bitset(applied)
		case epoch == r.Epoch:
			if start != r.Start || end != r.End {
				return Resume{}, false, fmt.Errorf("checkpoints of epoch %d disagree: [%s, %s] and [%s, %s]", epoch, r.Start, r.End, start, end)
			}
			r.Applied = r.Applied.or(applied)
		}
	}
	if err := rows.Err(); err != nil {
		return Resume{}, false, fmt.Errorf("read checkpoints: %w", err)
	}
	return r, found, nil
}

// Finish sets the fence: it waits for epochs being committed (their share lock on
// the task row) and makes every later commit fail with ErrFenced.
func (s *Store) Finish(ctx context.Context, summary string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE `sluice`.`tasks` SET `state` = ?, `finished_at` = COALESCE(`finished_at`, UTC_TIMESTAMP(6)), `updated_at` = UTC_TIMESTAMP(6), `summary` = ? WHERE `task` = ?",
		StateDone, summary, s.task)
	if err != nil {
		return fmt.Errorf("finish task in `sluice`.`tasks`: %w", err)
	}
	return nil
}

// setDDLPending records (or clears, with "") a DDL about to run, if the task is
// still this applier's (generation) and running.
func (s *Store) setDDLPending(ctx context.Context, ex execer, end string, generation uint64) error {
	res, err := ex.ExecContext(ctx, "UPDATE `sluice`.`tasks` SET `ddl_pending` = ?, `updated_at` = UTC_TIMESTAMP(6) WHERE `task` = ? AND `generation` = ? AND `state` = ?",
		end, s.task, generation, StateRunning)
	if err != nil {
		return fmt.Errorf("record pending DDL: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		if err := s.check(ctx, generation); err != nil {
			return err
		}
	}
	return nil
}

// ErrSuperseded: another applier took the task over (a newer attempt); this one
// commits nothing more.
var ErrSuperseded = errors.New("another attempt took the replication over: this one stops")

// Own makes the caller the task's only applier: it bumps the task's generation
// (waiting for in-flight commits of the previous owner, which hold share locks on
// the row) and returns it. Every commit checks it (fence).
func (s *Store) Own(ctx context.Context) (uint64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("take over the task: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE `sluice`.`tasks` SET `generation` = `generation` + 1, `updated_at` = UTC_TIMESTAMP(6) WHERE `task` = ?", s.task); err != nil {
		return 0, fmt.Errorf("take over the task: %w", err)
	}
	var g uint64
	if err := tx.QueryRowContext(ctx, "SELECT `generation` FROM `sluice`.`tasks` WHERE `task` = ?", s.task).Scan(&g); err != nil {
		return 0, fmt.Errorf("take over the task: %w", err)
	}
	return g, tx.Commit()
}

// fence takes a share lock on the task row inside a slot's transaction and
// checks that the task still runs and is still this applier's.
func (s *Store) fence(ctx context.Context, tx *sql.Tx, generation uint64) error {
	return s.fenceLock(ctx, tx, generation, "LOCK IN SHARE MODE")
}

// fenceExclusive is fence for a transaction that then updates the task row
// itself (a DDL's checkpoint): an exclusive lock from the start, since upgrading
// a share lock would deadlock with a waiting Own.
func (s *Store) fenceExclusive(ctx context.Context, tx *sql.Tx, generation uint64) error {
	return s.fenceLock(ctx, tx, generation, "FOR UPDATE")
}

func (s *Store) fenceLock(ctx context.Context, tx *sql.Tx, generation uint64, lock string) error {
	var state string
	var g uint64
	if err := tx.QueryRowContext(ctx, "SELECT `state`, `generation` FROM `sluice`.`tasks` WHERE `task` = ? "+lock, s.task).Scan(&state, &g); err != nil {
		return fmt.Errorf("check the task state: %w", err)
	}
	return fenceErr(state, g, generation)
}

// hold checks the fence and keeps a shared lock on the task's row until release:
// Finish and Own (which update it) wait for a DDL run meanwhile, so a superseded
// or finished task cannot run one after its check.
func (s *Store) hold(ctx context.Context, generation uint64) (release func(), err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("check the task state: %w", err)
	}
	if err := s.fence(ctx, tx, generation); err != nil {
		tx.Rollback()
		return nil, err
	}
	return func() { tx.Rollback() }, nil
}

// check is fence outside a transaction (before a DDL).
func (s *Store) check(ctx context.Context, generation uint64) error {
	var state string
	var g uint64
	if err := s.db.QueryRowContext(ctx, "SELECT `state`, `generation` FROM `sluice`.`tasks` WHERE `task` = ?", s.task).Scan(&state, &g); err != nil {
		return fmt.Errorf("check the task state: %w", err)
	}
	return fenceErr(state, g, generation)
}

func fenceErr(state string, g, mine uint64) error {
	switch {
	case state != StateRunning:
		return ErrFenced
	case g != mine:
		return ErrSuperseded
	}
	return nil
}

// save writes a slot's checkpoint inside its transaction.
func (s *Store) save(ctx context.Context, tx *sql.Tx, slot int, epoch uint64, start, end binlog.Position, applied bitset, txns, rows int, srcTime time.Time) error {
	var st any
	if !srcTime.IsZero() {
		st = srcTime.UTC()
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO `sluice`.`checkpoints` (`task`, `slot`, `epoch`, `start_file`, `start_pos`, `start_gtid`, `end_file`, `end_pos`, `end_gtid`, `applied`, `txns`, `rows`, `source_time`, `updated_at`) "+
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "+
		"`epoch` = VALUES(`epoch`), `start_file` = VALUES(`start_file`), `start_pos` = VALUES(`start_pos`), `start_gtid` = VALUES(`start_gtid`), "+
		"`end_file` = VALUES(`end_file`), `end_pos` = VALUES(`end_pos`), `end_gtid` = VALUES(`end_gtid`), `applied` = VALUES(`applied`), "+
		"`txns` = `txns` + VALUES(`txns`), `rows` = `rows` + VALUES(`rows`), `source_time` = COALESCE(VALUES(`source_time`), `source_time`), `updated_at` = VALUES(`updated_at`)",
		s.task, slot, epoch, start.File, start.Pos, start.GTID, end.File, end.Pos, end.GTID, []byte(applied), txns, rows, st)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// bitset marks transaction ordinals within an epoch.
type bitset []byte

func (b bitset) has(i int) bool { return i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

func (b bitset) with(i int) bitset {
	for len(b) <= i/8 {
		b = append(b, 0)
	}
	b[i/8] |= 1 << (i % 8)
	return b
}

func (b bitset) or(c []byte) bitset {
	out := append(bitset(nil), b...)
	for len(out) < len(c) {
		out = append(out, 0)
	}
	for i, x := range c {
		out[i] |= x
	}
	return out
}

func (b bitset) count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// Reset forgets a task's state (tests, and a task started again from scratch).
func Reset(ctx context.Context, db *sql.DB, task string) error {
	s, err := OpenStore(ctx, db, task)
	if err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM `sluice`.`checkpoints` WHERE `task` = ?", "DELETE FROM `sluice`.`tasks` WHERE `task` = ?"} {
		if _, err := s.db.ExecContext(ctx, q, task); err != nil {
			return fmt.Errorf("reset task: %w", err)
		}
	}
	return nil
}
