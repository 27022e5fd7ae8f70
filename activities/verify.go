package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/applier"
	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/copier"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/verify"
	"github.com/sluice-dev/sluice/workflows"
)

// ErrVerifyFailed is the ApplicationError type of a range that cannot be compared.
const ErrVerifyFailed = "VerifyFailed"

// verifyJob is one activity's part of a verification, as it travels in the
// workflow: a few consecutive ranges of the key (Range alone: one).
type verifyJob struct {
	Key    chunk.Key     `json:"key"`
	Range  chunk.Range   `json:"range"`
	Ranges []chunk.Range `json:"ranges,omitempty"`
}

// ranges are the job's ranges.
func (j verifyJob) ranges() []chunk.Range {
	if len(j.Ranges) > 0 {
		return j.Ranges
	}
	return []chunk.Range{j.Range}
}

// verifyGroup is the ranges one VerifyRange activity compares: their union's
// checksums first (one statement per server for about 100,000 rows), and
// range by range only when it differs. An activity costs tens of
// milliseconds of scheduling; a range is what a difference is read whole in.
const verifyGroup = 5

// VerifyTables lists the tables a verification compares: the full copy's.
func (a *Activities) VerifyTables(ctx context.Context, s spec.Spec) ([]plan.Object, error) {
	return a.FullTables(ctx, s, 0, 1<<30)
}

// PlanVerify picks the table's key and splits it into ranges of about
// chunkRows rows on the source.
func (a *Activities) PlanVerify(ctx context.Context, s spec.Spec, t plan.Object, chunkRows int) (workflows.VerifyPlan, error) {
	src, err := a.openSource(ctx, s)
	if err != nil {
		return workflows.VerifyPlan{}, err
	}
	defer src.Close()
	defer heartbeatTicker(ctx, func() any { return "planning " + t.String() })()
	tbl := chunk.Table{Schema: t.Database, Name: t.Name}
	key, err := chunk.ChooseKey(ctx, src, tbl.Schema, tbl.Name)
	if err != nil {
		return workflows.VerifyPlan{}, classify(fmt.Errorf("verify: %s: choose a key: %w", t, err))
	}
	est, _, err := chunk.Estimate(ctx, src, tbl)
	if err != nil {
		return workflows.VerifyPlan{}, classify(fmt.Errorf("verify: %s: estimate rows: %w", t, err))
	}
	out := workflows.VerifyPlan{Table: t, EstRows: est}
	ranges := []chunk.Range{{}}
	if !key.None() {
		want := min(int(est/int64(max(chunkRows, 1)))+1, maxRangesPerTab*verifyGroup)
		if ranges, err = chunk.Split(ctx, src, tbl, key, want); err != nil {
			return out, classify(fmt.Errorf("verify: %s: split by %s: %w", t, key, err))
		}
	}
	out.RangeCount = len(ranges)
	for start := 0; start < len(ranges); start += verifyGroup {
		b, err := json.Marshal(verifyJob{Key: key, Ranges: ranges[start:min(start+verifyGroup, len(ranges))]})
		if err != nil {
			return out, err
		}
		out.Ranges = append(out.Ranges, b)
	}
	return out, nil
}

// VerifyRange compares one range: checksums on both servers at once, and when
// they differ (or the table has filters or transforms, which only Go can
// apply), the rows themselves. With Repair the differing rows are rewritten
// from the source (through the copy path: REPLACE of the source's rows, the
// destination's extra rows deleted) and the range is compared again.
func (a *Activities) VerifyRange(ctx context.Context, s spec.Spec, in workflows.VerifyRangeInput) (workflows.VerifyRangeResult, error) {
	var job verifyJob
	if err := json.Unmarshal(in.Range, &job); err != nil {
		return workflows.VerifyRangeResult{}, temporal.NewNonRetryableApplicationError("verify: bad range: "+err.Error(), ErrVerifyFailed, nil)
	}
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return workflows.VerifyRangeResult{}, err
	}
	defer done()
	var state atomic.Value // what the range is doing, in its heartbeat
	state.Store("comparing " + in.Table.String())
	stop := heartbeatTicker(ctx, func() any { return state.Load() })
	defer stop()
	sv, dv, write, rows, err := a.verifySides(ctx, s, src, dst, r, in.Table, job.Key)
	if errors.Is(err, errNoColumn) && in.Task != "" {
		// A column added on the source whose DDL replication has not applied
		// yet: once it has, the sides compare.
		if werr := waitCaughtUp(ctx, src, dst, in.Task, settleWait, func(at binlog.Position) {
			state.Store(fmt.Sprintf("waiting for replication to pass %s (a schema change)", at))
		}); werr == nil {
			sv, dv, write, rows, err = a.verifySides(ctx, s, src, dst, r, in.Table, job.Key)
		}
	}
	if err != nil {
		if errors.Is(err, errNoColumn) {
			err = temporal.NewNonRetryableApplicationError(err.Error(), ErrVerifyFailed, nil)
		}
		return workflows.VerifyRangeResult{}, err
	}
	// Columns defined otherwise on the destination: their values may differ
	// for that reason alone, and a repair rewrites values, not definitions.
	var notes []string
	if rows == nil {
		for i, c := range write {
			if d := dv.Columns[i]; !strings.EqualFold(c.ColumnType, d.ColumnType) {
				notes = append(notes, fmt.Sprintf("column %s is %s on the source and %s on the destination: values may differ for that alone, and --repair rewrites values, not definitions (ALTER the destination's column to match)", d.Name, c.ColumnType, d.ColumnType))
			}
		}
	}
	// Does replication write these tables now? (A task cut over, stopped or
	// never started has nothing in flight.)
	if live, err := replicating(ctx, dst, in.Task); err != nil {
		return workflows.VerifyRangeResult{}, classify(err)
	} else if !live {
		in.Task = ""
	}
	started := time.Now()
	var total workflows.VerifyRangeResult
	rs := job.ranges()
	if rows == nil && len(rs) > 1 {
		// The union's checksums first: equal, the job is done.
		whole := chunk.Range{Index: rs[0].Index, Lower: rs[0].Lower, Upper: rs[len(rs)-1].Upper}
		res, equal, err := sumsEqual(ctx, src, dst, sv, dv, whole)
		if err != nil {
			return total, classify(err)
		}
		if equal {
			res.Ranges = len(rs)
			return res, classify(pace(ctx, started, res.Rows, in.RPS))
		}
	}
	for _, rng := range rs {
		res, err := a.verifyOne(ctx, src, dst, in, sv, dv, write, rows, job.Key, rng, &state)
		if err != nil {
			return total, err
		}
		total.Rows += res.Rows
		total.InGo = total.InGo || res.InGo
		total.Missing += res.Missing
		total.Extra += res.Extra
		total.Different += res.Different
		total.RepairedRows += res.RepairedRows
		total.Rechecks += res.Rechecks
		total.Unsettled = total.Unsettled || res.Unsettled
		total.Ranges++
		if res.Missing+res.Extra+res.Different+res.RepairedRows > 0 {
			total.RangesDiffer++
		}
		for _, d := range res.Differences {
			if len(total.Differences) < in.MaxDiffs || in.MaxDiffs <= 0 {
				total.Differences = append(total.Differences, d)
			}
		}
	}
	if total.Missing+total.Extra+total.Different > 0 {
		total.Notes = notes
	}
	return total, classify(pace(ctx, started, total.Rows, in.RPS))
}

// sumsEqual computes a range's checksums on both servers at once.
func sumsEqual(ctx context.Context, src, dst *sql.DB, sv, dv verify.Side, rng chunk.Range) (workflows.VerifyRangeResult, bool, error) {
	var a, b verify.Sum
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { a, err = verify.Checksum(gctx, src, sv, rng); return })
	g.Go(func() (err error) { b, err = verify.Checksum(gctx, dst, dv, rng); return })
	if err := g.Wait(); err != nil {
		return workflows.VerifyRangeResult{}, false, err
	}
	return workflows.VerifyRangeResult{Rows: a.Rows}, a == b, nil
}

// verifyOne compares one range: checksums, then its rows if they differ
// (settled while replication runs), and with Repair rewrites what differs
// and compares again.
func (a *Activities) verifyOne(ctx context.Context, src, dst *sql.DB, in workflows.VerifyRangeInput, sv, dv verify.Side, write []rowcodec.Column, rows verify.RowFunc, key chunk.Key, rng chunk.Range, state *atomic.Value) (workflows.VerifyRangeResult, error) {
	job := verifyJob{Key: key, Range: rng}
	compare := func() (workflows.VerifyRangeResult, []verify.Difference, error) {
		res, diffs, err := compareRange(ctx, src, dst, sv, dv, rng, rows, in.MaxDiffs)
		if err == nil && len(diffs) > 0 && in.Task != "" {
			res, diffs, err = settle(ctx, src, dst, in.Task, sv, dv, rows, in.MaxDiffs, res, diffs, state, func() (workflows.VerifyRangeResult, []verify.Difference, error) {
				return compareRange(ctx, src, dst, sv, dv, rng, rows, in.MaxDiffs)
			})
		}
		return res, diffs, err
	}
	state.Store("comparing " + in.Table.String())
	res, diffs, err := compare()
	if err != nil || !in.Repair || len(diffs) == 0 {
		return res, classify(err)
	}
	// diffs is every difference, not only the reported ones.
	state.Store("repairing " + in.Table.String())
	if in.Task != "" && sv.Key.None() {
		return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("verify: repair %s: a table without a key is not repaired while replication runs (no key to lock its rows by while replication catches up): repair it after the cutover or a stop", in.Table), ErrVerifyFailed, nil)
	}
	if in.Task != "" {
		// Replication writes these tables too: each row is rewritten while the
		// source's is locked and replication has applied everything before it.
		left, err := lockedBatches(ctx, diffs, func(keys [][]any) error {
			return verify.RepairKeys(ctx, src, dst, sv, dv, write, keys, rows, int(lockedWait/time.Second), func(ctx context.Context) error {
				return waitCaughtUp(ctx, src, dst, in.Task, lockedWait, func(at binlog.Position) {
					state.Store(fmt.Sprintf("repairing %d row(s): waiting for replication to pass %s", len(keys), at))
				})
			})
		})
		if err == nil && len(left) > 0 {
			err = fmt.Errorf("%d row(s) not rewritten: replication stayed behind, or the application kept them locked", len(left))
		}
		if err != nil {
			return res, classify(fmt.Errorf("verify: repair %s range %s: %w", in.Table, rng, err))
		}
	} else if err := repairRange(ctx, src, dst, in.Table, sv, dv, write, job, diffs, rows); err != nil {
		return res, classify(fmt.Errorf("verify: repair %s range %s: %w", in.Table, rng, err))
	}
	again, left, err := compare()
	if err != nil {
		return res, classify(err)
	}
	again.Rechecks += res.Rechecks
	// Repaired: the rows that differed and do not now; the report lists them
	// (marked) with what still differs.
	still := map[string]bool{}
	for _, d := range left {
		still[d.Key] = true
	}
	var fixed []workflows.Difference
	for _, d := range res.Differences {
		if !still[d.Key] {
			d.Repaired = true
			fixed = append(fixed, d)
		}
	}
	for _, d := range diffs {
		if !still[d.Key] {
			again.RepairedRows++
		}
	}
	again.Differences = append(fixed, again.Differences...)
	return again, nil
}

// VerifyTableChecksum is the fast path of a table whose definitions are the
// same on both servers (column types, character sets, collations,
// nullability, in order; engine and row format; one server version) and
// whose rows are copied as they are (no filter, transform or excluded
// column) and not being replicated: CHECKSUM TABLE on both servers at once,
// and the source's row count. Equal checksums: the table is equal (the
// checksum covers every column's stored value). Anything else: the ranges
// are compared.
func (a *Activities) VerifyTableChecksum(ctx context.Context, s spec.Spec, t plan.Object, task string) (workflows.TableChecksum, error) {
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return workflows.TableChecksum{}, err
	}
	defer done()
	defer heartbeatTicker(ctx, func() any { return "CHECKSUM TABLE " + t.String() })()
	why, err := checksumTableFits(ctx, src, dst, r, t, task)
	if err != nil {
		return workflows.TableChecksum{}, classify(err)
	}
	if why != "" {
		a.Log.Debug("verify: ranges, not CHECKSUM TABLE", zap.String("table", t.String()), zap.String("why", why))
		return workflows.TableChecksum{Why: why}, nil
	}
	sq := sqltok.Quote(t.Database) + "." + sqltok.Quote(t.Name)
	dq := sqltok.Quote(t.DestDatabase) + "." + sqltok.Quote(t.DestName)
	var a1, a2 sql.NullInt64
	var rows int64
	g, gctx := errgroup.WithContext(ctx)
	var name string
	g.Go(func() error { return src.QueryRowContext(gctx, "CHECKSUM TABLE "+sq).Scan(&name, &a1) })
	g.Go(func() error { return dst.QueryRowContext(gctx, "CHECKSUM TABLE "+dq).Scan(new(string), &a2) })
	g.Go(func() error { return src.QueryRowContext(gctx, "SELECT COUNT(*) FROM "+sq).Scan(&rows) })
	if err := g.Wait(); err != nil {
		return workflows.TableChecksum{}, classify(fmt.Errorf("verify: CHECKSUM TABLE %s: %w", t, err))
	}
	if !a1.Valid || !a2.Valid {
		return workflows.TableChecksum{Why: "CHECKSUM TABLE returned NULL"}, nil
	}
	return workflows.TableChecksum{Fits: true, Equal: a1.Int64 == a2.Int64, Rows: rows}, nil
}

// checksumTableFits says why CHECKSUM TABLE cannot compare t ("": it can).
func checksumTableFits(ctx context.Context, src, dst *sql.DB, r *resolvedSchema, t plan.Object, task string) (string, error) {
	if live, err := replicating(ctx, dst, task); err != nil || live {
		return "replication runs", err
	}
	if e, ok := entryOf(r, t.Database, t.Name); ok && (e.Filter != "" || len(e.Transform) > 0) {
		return "filters or transforms", nil
	}
	var v1, v2 string
	if err := src.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v1); err != nil {
		return "", err
	}
	if err := dst.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v2); err != nil {
		return "", err
	}
	// A server with the binary log on says so in VERSION() ("-log").
	if strings.TrimSuffix(v1, "-log") != strings.TrimSuffix(v2, "-log") {
		return "server versions differ (" + v1 + ", " + v2 + ")", nil
	}
	def := func(db *sql.DB, schema, table string) (string, error) {
		var b strings.Builder
		var engine, format sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT ENGINE, ROW_FORMAT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", schema, table).Scan(&engine, &format); err != nil {
			return "", fmt.Errorf("read %s.%s: %w", schema, table, err)
		}
		fmt.Fprintf(&b, "%s %s;", engine.String, format.String)
		rows, err := db.QueryContext(ctx, "SELECT COLUMN_TYPE, IS_NULLABLE, COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), COALESCE(GENERATION_EXPRESSION, ''), EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", schema, table)
		if err != nil {
			return "", err
		}
		defer rows.Close()
		for rows.Next() {
			var c [6]string
			if err := rows.Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]); err != nil {
				return "", err
			}
			b.WriteString(strings.Join(c[:], "|") + ";")
		}
		return b.String(), rows.Err()
	}
	d1, err := def(src, t.Database, t.Name)
	if err != nil {
		return "", err
	}
	d2, err := def(dst, t.DestDatabase, t.DestName)
	if err != nil {
		return "", err
	}
	if d1 != d2 {
		return "the definitions differ: " + d1 + " / " + d2, nil
	}
	return "", nil
}

// VerifyWaitReplication waits until the task's replication has passed the
// source's position now: after the full copy, that ends its safe mode, and the
// verification compares what replication keeps up to date. A pause waits too.
func (a *Activities) VerifyWaitReplication(ctx context.Context, s spec.Spec, task string) error {
	src, dst, err := a.open(ctx, s)
	if err != nil {
		return err
	}
	defer src.Close()
	defer dst.Close()
	var state atomic.Value
	state.Store("reading the source's position")
	defer heartbeatTicker(ctx, func() any { return state.Load() })()
	err = waitCaughtUp(ctx, src, dst, task, 365*24*time.Hour, func(at binlog.Position) {
		state.Store(fmt.Sprintf("waiting for replication to pass %s", at))
	})
	return classify(err)
}

// pace holds a range's end until its rows took at least rows/rps seconds: the
// verification's throttle (options.verify.rps, shared by the ranges in flight).
func pace(ctx context.Context, started time.Time, rows int64, rps float64) error {
	if rps <= 0 || rows <= 0 {
		return nil
	}
	wait := time.Until(started.Add(time.Duration(float64(rows) / rps * float64(time.Second))))
	if wait <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}

// compareRange is one comparison of a range: checksums, then rows if needed.
// It returns every difference; the result reports maxDiffs of them.
func compareRange(ctx context.Context, src, dst *sql.DB, sv, dv verify.Side, rng chunk.Range, rows verify.RowFunc, maxDiffs int) (workflows.VerifyRangeResult, []verify.Difference, error) {
	var res workflows.VerifyRangeResult
	if rows == nil {
		var a, b verify.Sum
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) { a, err = verify.Checksum(gctx, src, sv, rng); return })
		g.Go(func() (err error) { b, err = verify.Checksum(gctx, dst, dv, rng); return })
		if err := g.Wait(); err != nil {
			return res, nil, err
		}
		res.Rows = a.Rows
		if a == b {
			return res, nil, nil
		}
	} else {
		res.InGo = true
	}
	diffs, n, err := verify.Diff(ctx, src, dst, sv, dv, rng, rows, 0)
	if err != nil {
		return res, nil, err
	}
	res.Rows = n
	tally(&res, diffs, maxDiffs)
	return res, diffs, nil
}

// tally counts the differences by kind and reports maxDiffs of them.
func tally(res *workflows.VerifyRangeResult, diffs []verify.Difference, maxDiffs int) {
	res.Missing, res.Extra, res.Different, res.Differences = 0, 0, 0, nil
	for _, d := range diffs {
		switch d.Kind {
		case verify.Missing:
			res.Missing++
		case verify.Extra:
			res.Extra++
		default:
			res.Different++
		}
		if len(res.Differences) < maxDiffs || maxDiffs <= 0 {
			res.Differences = append(res.Differences, workflows.Difference{Kind: d.Kind, Key: d.Key, Columns: d.Columns})
		}
	}
}

// Rechecks of a differing range while replication runs.
var (
	// settleWait bounds the wait for the applier to pass a position with no
	// lock held.
	settleWait = 5 * time.Minute
	// lockedWait bounds the wait while the source's rows are locked: an
	// application writing them waits as long.
	lockedWait = 10 * time.Second
)

// SettleWaitEnv is the test-only override of settleWait (a Go duration),
// read when a range settles: tests make a paused replication's ranges
// unsettled in seconds. Never set it in production.
const SettleWaitEnv = "SLUICE_TEST_SETTLE_WAIT"

func settleBound() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(SettleWaitEnv)); err == nil && d > 0 {
		return d
	}
	return settleWait
}

const (
	// lockedBatch is the keys locked at once.
	lockedBatch = 200
	// maxLocked: past that many differing rows in a range the differences are
	// not in flight (the range was not replicated at all); they are reported
	// as the recheck found them, without locking rows.
	maxLocked = 2000
)

// settle tells in-flight changes from differences while replication runs: the
// rows read a moment ago may have changed on the source since, with the
// change not applied yet.
//  1. Without locks: read the source's position (after the comparison read
//     its rows), wait for the task's applier to pass it, compare the range
//     again and keep the differences found both times (same kind, key and
//     columns). In-flight changes are gone; rows the application changes all
//     the time may still show.
//  2. With locks (keyed tables): the remaining keys' source rows are read
//     under shared locks, the applier is waited for again, and the
//     destination's rows compared to them (verify.DiffKeys): what differs then
//     is a difference.
func settle(ctx context.Context, src, dst *sql.DB, task string, sv, dv verify.Side, rows verify.RowFunc, maxDiffs int, res workflows.VerifyRangeResult, diffs []verify.Difference, state *atomic.Value, compare func() (workflows.VerifyRangeResult, []verify.Difference, error)) (workflows.VerifyRangeResult, []verify.Difference, error) {
	caughtUp := func(ctx context.Context, bound time.Duration) error {
		return waitCaughtUp(ctx, src, dst, task, bound, func(at binlog.Position) {
			state.Store(fmt.Sprintf("%d difference(s): waiting for replication to pass %s", len(diffs), at))
		})
	}
	if err := caughtUp(ctx, settleBound()); err != nil {
		if errors.Is(err, verify.ErrNotSettled) {
			res.Unsettled = true
			return res, diffs, nil
		}
		return res, diffs, err
	}
	state.Store("comparing again")
	again, found, err := compare()
	if err != nil {
		return res, diffs, err
	}
	res, diffs = again, intersect(diffs, found)
	res.Rechecks = 1
	tally(&res, diffs, maxDiffs)
	if len(diffs) == 0 {
		return res, diffs, nil
	}
	if sv.Key.None() || len(diffs) > maxLocked {
		// Not settled under locks: what persisted the recheck is reported as
		// unsettled (a keyless table has no key to lock; this many rows are
		// rather a range replication never wrote).
		res.Unsettled = true
		return res, diffs, nil
	}
	var confirmed []verify.Difference
	left, err := lockedBatches(ctx, diffs, func(keys [][]any) error {
		state.Store(fmt.Sprintf("comparing %d row(s) with the source's locked", len(keys)))
		found, err := verify.DiffKeys(ctx, src, dst, sv, dv, keys, rows, int(lockedWait/time.Second), func(ctx context.Context) error {
			return caughtUp(ctx, lockedWait)
		})
		if err == nil {
			confirmed = append(confirmed, found...)
		}
		return err
	})
	if err != nil {
		return res, diffs, err
	}
	if len(left) > 0 {
		// Replication behind, or the application holds the rows: those stay
		// as the recheck found them.
		res.Unsettled = true
		confirmed = append(confirmed, left...)
	}
	res.Rechecks++
	diffs = confirmed
	tally(&res, diffs, maxDiffs)
	return res, diffs, nil
}

// lockedBatches runs fn (a comparison or a repair under the source's locks)
// on the differences' keys, lockedBatch at a time. A batch whose locks or
// wait fail (a lock wait timeout, a deadlock, replication behind) is tried
// three times, then returned in left.
func lockedBatches(ctx context.Context, diffs []verify.Difference, fn func(keys [][]any) error) (left []verify.Difference, err error) {
	for start := 0; start < len(diffs); start += lockedBatch {
		batch := diffs[start:min(start+lockedBatch, len(diffs))]
		keys := make([][]any, len(batch))
		for i, d := range batch {
			keys[i] = d.KeyValues
		}
		for attempt := 1; ; attempt++ {
			err := fn(keys)
			var me *mysql.MySQLError
			if err == nil {
				break
			}
			if !(errors.Is(err, verify.ErrNotSettled) || (errors.As(err, &me) && (me.Number == 1205 || me.Number == 1213))) {
				return left, err
			}
			if attempt == 3 {
				left = append(left, batch...)
				break
			}
		}
	}
	return left, nil
}

// intersect keeps the differences of a that b found too.
func intersect(a, b []verify.Difference) []verify.Difference {
	seen := map[string]bool{}
	for _, d := range b {
		seen[diffID(d)] = true
	}
	var kept []verify.Difference
	for _, d := range a {
		if seen[diffID(d)] {
			kept = append(kept, d)
		}
	}
	return kept
}

// diffID names a difference by kind and key: a row the application keeps
// changing may differ in other columns at each read, and is still one row
// for the locked comparison to settle.
func diffID(d verify.Difference) string {
	return d.Kind + "\x00" + d.Key
}

// waitCaughtUp waits until the task's applier has passed the source's
// position now (told to waiting first).
func waitCaughtUp(ctx context.Context, src, dst *sql.DB, task string, bound time.Duration, waiting func(binlog.Position)) error {
	store := applier.StoreOf(dst, task)
	// Nothing replicating, nothing in flight: not even the source's position
	// is read (the account may lack the privilege a full-only migration
	// never needed).
	if live, err := replicating(ctx, dst, task); err != nil || !live {
		return err
	}
	fl, err := dbconn.Flavor(ctx, src)
	if err != nil {
		return err
	}
	kind := string(fl.Kind) // go-mysql's flavor names: mariadb, mysql
	pos, err := inspect.BinlogPosition(ctx, src)
	if err != nil || pos == nil {
		return err
	}
	at := binlog.Position{File: pos.File, Pos: pos.Pos, GTID: pos.GTID}
	waiting(at)
	return waitApplied(ctx, store, kind, at, bound)
}

// waitApplied waits until the task's applier has committed everything the
// source had at pos. A task not replicating (never started, cut over or
// stopped) has nothing in flight: nil at once. verify.ErrNotSettled: not
// within bound.
//
// An epoch's slots commit independently: the checkpoint of the epoch that
// passes pos may be committed while another slot's share of it is not. The
// applier starts an epoch only when the one before is committed by every
// slot, so a later epoch proves it (the source's heartbeat row makes one every
// second). Without heartbeats an idle source makes none: then epochSettle after
// the epoch was first seen stands for it.
func waitApplied(ctx context.Context, store *applier.Store, kind string, pos binlog.Position, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	var epoch uint64
	var seen time.Time
	for {
		t, err := store.Task(ctx)
		if noTask(err) || (err == nil && t.State != applier.StateRunning) {
			return nil
		}
		if err != nil {
			return err
		}
		r, ok, err := store.Resume(ctx)
		if err != nil {
			return err
		}
		switch {
		case !seen.IsZero() && (r.Epoch > epoch || time.Since(seen) >= epochSettle):
			return nil
		case seen.IsZero() && ok && reached(kind, r.End, pos):
			epoch, seen = r.Epoch, time.Now()
		}
		if time.Now().After(deadline) {
			return verify.ErrNotSettled
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// epochSettle: see waitApplied.
const epochSettle = 2 * time.Second

// replicating reports that the task's applier runs (its row says running).
func replicating(ctx context.Context, dst *sql.DB, task string) (bool, error) {
	if task == "" {
		return false, nil
	}
	t, err := applier.StoreOf(dst, task).Task(ctx)
	if noTask(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.State == applier.StateRunning, nil
}

// noTask: the destination has no such task (no row, or no metadata schema:
// a migration without incremental).
func noTask(err error) bool {
	var me *mysql.MySQLError
	return errors.Is(err, sql.ErrNoRows) || (errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049))
}

// errNoColumn: the destination lacks a compared column.
var errNoColumn = errors.New("the destination has no column")

// verifySides names the table and its compared columns on both servers (the
// columns the copy writes: excluded ones left out, renamed ones under their
// destination names), and the filters and transforms the source rows go
// through (nil: none).
//
// write is what the copy writes: the source's columns named for the
// destination (Dest), for a repair.
func (a *Activities) verifySides(ctx context.Context, s spec.Spec, src, dst *sql.DB, r *resolvedSchema, t plan.Object, key chunk.Key) (sv, dv verify.Side, write []rowcodec.Column, rows verify.RowFunc, err error) {
	all, err := rowcodec.Columns(ctx, src, t.Database, t.Name)
	if err != nil {
		return sv, dv, nil, nil, classify(fmt.Errorf("verify: %s: columns: %w", t, err))
	}
	dcols, err := rowcodec.Columns(ctx, dst, t.DestDatabase, t.DestName)
	if err != nil {
		return sv, dv, nil, nil, classify(fmt.Errorf("verify: %s: destination columns: %w", t, err))
	}
	byName := map[string]rowcodec.Column{}
	for _, c := range dcols {
		byName[strings.ToLower(c.Name)] = c
	}
	var scols, wcols []rowcodec.Column
	for _, c := range all {
		to, excluded := r.names.Column(t.Database, t.Name, c.Name)
		if excluded {
			continue
		}
		d, ok := byName[strings.ToLower(to)]
		if !ok {
			return sv, dv, nil, nil, fmt.Errorf("verify: %s: %w %s (from %s)", t, errNoColumn, to, c.Name)
		}
		if to != c.Name {
			c.Dest = to
		}
		// A checksum marks NULLs of the columns nullable on either side: the
		// same columns on both.
		c.Nullable = c.Nullable || d.Nullable
		d.Nullable = c.Nullable
		scols = append(scols, c)
		wcols = append(wcols, d)
	}
	dkey := key
	dkey.Columns = append([]chunk.Column(nil), key.Columns...)
	for i, k := range dkey.Columns {
		to, _ := r.names.Column(t.Database, t.Name, k.Name)
		dkey.Columns[i].Name = to
		// Rows are matched by their key's bytes and ranges bounded by each
		// server's collation: a key column stored or ordered otherwise on the
		// destination would show rows as missing and extra (and a repair would
		// delete them).
		for j, c := range scols {
			if !strings.EqualFold(c.Name, k.Name) {
				continue
			}
			if d := wcols[j]; c.Charset != d.Charset || c.Collation != d.Collation {
				return sv, dv, nil, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("verify: %s: key column %s is %s (%s) on the source and %s (%s) on the destination: rows cannot be matched by key; give both the same character set and collation", t, k.Name, c.Charset, c.Collation, d.Charset, d.Collation), ErrVerifyFailed, nil)
			}
		}
	}
	sv = verify.Side{Table: chunk.Table{Schema: t.Database, Name: t.Name}, Key: key, Columns: scols}
	dv = verify.Side{Table: chunk.Table{Schema: t.DestDatabase, Name: t.DestName}, Key: dkey, Columns: wcols}
	e, ok := entryOf(r, t.Database, t.Name)
	if !ok {
		return sv, dv, scols, nil, nil
	}
	prog, err := compileETL(ctx, src, e, t.Database, t.Name)
	if err != nil || prog == nil {
		return sv, dv, scols, nil, err
	}
	if where, complete := prog.PushDown(); complete && !prog.HasTransforms() {
		// A filter SQL computes exactly, no transform: both sides' checksums
		// are computed by the servers, the source's over the filtered rows.
		sv.Where = where
		return sv, dv, scols, nil, nil
	}
	// The source side reads what the expressions read; the copy's batch
	// function turns its rows into the written columns.
	read := etlColumns(prog)
	batch, err := a.copyRows(prog, read, scols, true, s.Options.ETL.OnError == spec.ETLSkip)
	if err != nil {
		return sv, dv, nil, nil, classify(err)
	}
	sv.Columns = read
	return sv, dv, scols, verify.RowFunc(batch), nil
}

// repairRange rewrites a range's differing rows: the source's rows of the
// range through the copy path (REPLACE: missing and different rows), then the
// destination's extra rows deleted by key. A table without a key has no
// different rows (a row is its key) and REPLACE would add rows that are
// there: its missing rows are inserted, each as often as it is missing.
func repairRange(ctx context.Context, src, dst *sql.DB, t plan.Object, sv, dv verify.Side, write []rowcodec.Column, job verifyJob, diffs []verify.Difference, rows verify.RowFunc) error {
	var extra []verify.Difference
	var missing []rowcodec.Row
	rewrite := false
	for _, d := range diffs {
		switch d.Kind {
		case verify.Extra:
			extra = append(extra, d)
		case verify.Missing:
			missing = append(missing, rowcodec.Row(d.KeyValues))
			rewrite = true
		default:
			rewrite = true
		}
	}
	conn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The copy's session: no foreign key checks or cascades, UTC, the
	// copy's sql_mode.
	if err := rowcodec.PrepareWriter(ctx, conn, rowcodec.Replace); err != nil {
		return err
	}
	switch {
	case sv.Key.None() && len(missing) > 0:
		if _, err := rowcodec.Insert(ctx, conn, rowcodec.Table{Schema: t.DestDatabase, Name: t.DestName}, write, missing, 4<<20, rowcodec.Precheck); err != nil {
			return err
		}
	case rewrite && !sv.Key.None():
		cj := copier.Job{
			Source:    chunk.Table{Schema: t.Database, Name: t.Name},
			Dest:      chunk.Table{Schema: t.DestDatabase, Name: t.DestName},
			Key:       job.Key,
			Range:     job.Range,
			Columns:   write,
			Conflicts: rowcodec.Replace,
			Where:     sv.Where,
		}
		if rows != nil {
			cj.Read = sv.Columns
			cj.Rows = copier.RowsFunc(rows)
		}
		if _, err := copier.CopyRange(ctx, src, dst, cj, func(copier.Progress) {}); err != nil {
			return err
		}
	}
	for _, d := range extra {
		where := make([]string, len(d.KeyValues))
		for i, c := range d.KeyColumns {
			where[i] = sqltok.Quote(dv.Columns[c].Name) + " <=> ?"
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+dv.Table.Quoted()+" WHERE "+strings.Join(where, " AND ")+" LIMIT 1", d.KeyValues...); err != nil {
			return fmt.Errorf("delete the extra row %s: %w", d.Key, err)
		}
	}
	return nil
}
