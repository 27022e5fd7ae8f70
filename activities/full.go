package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/copier"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/schema"
	"github.com/sluice-dev/sluice/schemahist"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// rowsPerRange sizes key ranges: a range is one chunk activity, retried from its
// heartbeated cursor; ~500k rows is seconds of work, fine-grained enough for progress
// and for re-copying little after a crash, coarse enough to keep history small.
const (
	rowsPerRange    = 500_000
	maxRangesPerTab = 1000
)

// rangeJob is the opaque range a chunk activity copies (workflows only pass it on).
type rangeJob struct {
	Key   chunk.Key   `json:"key"`
	Range chunk.Range `json:"range"`
	NoKey bool        `json:"no_key,omitempty"`
	// AvgRow seeds the page size in bytes (information_schema AVG_ROW_LENGTH), so
	// a table of 1 MB rows does not start with a 1000-row page.
	AvgRow int64 `json:"avg_row,omitempty"`
}

// StartFull records the source's binlog position before any row is read and counts
// the tables to copy. With incremental replication to follow (task set), it also
// seeds the task's schema history with the definitions as of that position, so a
// DDL run during the copy is replayed onto the definitions it changed.
func (a *Activities) StartFull(ctx context.Context, s spec.Spec, task string) (workflows.FullStart, error) {
	src, dst, err := a.open(ctx, s)
	if err != nil {
		return workflows.FullStart{}, err
	}
	defer src.Close()
	defer dst.Close()
	r, err := a.resolveSchema(ctx, s, src, dst)
	if err != nil {
		return workflows.FullStart{}, err
	}
	var tables []schemahist.Table
	for _, t := range r.resolved.Plan.Tables {
		tables = append(tables, schemahist.Table{DB: t.Source.DB, Name: t.Source.Table})
	}
	pos, defs, err := positionWithDefinitions(ctx, src, tables, task != "")
	if err != nil {
		return workflows.FullStart{}, err
	}
	if task != "" && pos != nil {
		hist, err := schemahist.Open(ctx, dst, task, newSelection(s, r))
		if err != nil {
			return workflows.FullStart{}, classify(err)
		}
		// A retried StartFull has a new position: the definitions go with it.
		if err := hist.InitFrom(ctx, defs, true); err != nil {
			return workflows.FullStart{}, classify(fmt.Errorf("full: %w", err))
		}
	}
	out := workflows.FullStart{Tables: len(r.objects.Tables), Parallel: s.Options.Full.Parallel}
	if out.Parallel == 0 {
		out.Parallel = 2 * runtime.NumCPU()
	}
	if pos != nil {
		out.Position = &workflows.BinlogPosition{File: pos.File, Pos: pos.Pos, GTID: pos.GTID}
	}
	a.Log.Info("full copy starts", zap.String("workflow", activity.GetInfo(ctx).WorkflowExecution.ID),
		zap.Int("tables", out.Tables), zap.Int("parallel", out.Parallel), zap.Any("position", out.Position))
	return out, nil
}

// positionWithDefinitions reads the source's binlog position and, when asked,
// the tables' definitions as of it: read before and after the position, they
// must agree (a DDL in between makes it try again).
func positionWithDefinitions(ctx context.Context, src *sql.DB, tables []schemahist.Table, withDefs bool) (*inspect.Position, schemahist.Definitions, error) {
	for attempt := 1; ; attempt++ {
		var before schemahist.Definitions
		var err error
		if withDefs {
			if before, err = schemahist.ReadDefinitions(ctx, src, tables); err != nil {
				return nil, nil, classify(fmt.Errorf("full: %w", err))
			}
		}
		pos, err := inspect.BinlogPosition(ctx, src)
		if err != nil {
			return nil, nil, classify(fmt.Errorf("full: read the source binlog position: %w", err))
		}
		if !withDefs {
			return pos, nil, nil
		}
		after, err := schemahist.ReadDefinitions(ctx, src, tables)
		if err != nil {
			return nil, nil, classify(fmt.Errorf("full: %w", err))
		}
		if after.Equal(before) {
			return pos, after, nil
		}
		if attempt == 10 {
			return nil, nil, classify(errors.New("full: the selected tables' definitions kept changing while the start position was read (DDL running on the source?)"))
		}
	}
}

// FullTables lists tables [offset, offset+limit) to copy, in the schema phase's
// order (views and sequences are not copied).
func (a *Activities) FullTables(ctx context.Context, s spec.Spec, offset, limit int) ([]plan.Object, error) {
	_, _, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return nil, err
	}
	defer done()
	var out []plan.Object
	for i := offset; i < min(offset+limit, len(r.objects.Tables)); i++ {
		t := r.objects.Tables[i]
		out = append(out, plan.Object{Kind: plan.KindTable, Database: t.Source.DB, Name: t.Source.Table, DestDatabase: t.Dest.DB, DestName: t.Dest.Table})
	}
	return out, nil
}

// PlanTableCopy picks the table's key and splits it into ranges on the source.
func (a *Activities) PlanTableCopy(ctx context.Context, s spec.Spec, t plan.Object, parallel int) (workflows.TableCopyPlan, error) {
	src, err := a.openSource(ctx, s)
	if err != nil {
		return workflows.TableCopyPlan{}, err
	}
	defer src.Close()
	// Splitting walks a non-integer key's whole index: minutes on a big table.
	defer heartbeatTicker(ctx, func() any { return "planning " + t.String() })()
	tbl := chunk.Table{Schema: t.Database, Name: t.Name}
	key, err := chunk.ChooseKey(ctx, src, tbl.Schema, tbl.Name)
	if err != nil {
		return workflows.TableCopyPlan{}, classify(fmt.Errorf("full: %s: choose a key: %w", t, err))
	}
	est, avgRow, err := chunk.Estimate(ctx, src, tbl)
	if err != nil {
		return workflows.TableCopyPlan{}, classify(fmt.Errorf("full: %s: estimate rows: %w", t, err))
	}
	out := workflows.TableCopyPlan{Table: t, EstRows: est}
	var jobs []rangeJob
	if key.None() {
		out.NoKey = true
		jobs = []rangeJob{{Key: key, NoKey: true, AvgRow: avgRow}}
	} else {
		want := min(max(parallel, int(est/rowsPerRange)+1), maxRangesPerTab)
		ranges, err := chunk.Split(ctx, src, tbl, key, want)
		if err != nil {
			return out, classify(fmt.Errorf("full: %s: split by %s: %w", t, key, err))
		}
		for _, r := range ranges {
			jobs = append(jobs, rangeJob{Key: key, Range: r, AvgRow: avgRow})
		}
	}
	for _, j := range jobs {
		b, err := json.Marshal(j)
		if err != nil {
			return out, err
		}
		out.Ranges = append(out.Ranges, b)
	}
	return out, nil
}

// openSource connects to the source only.
func (a *Activities) openSource(ctx context.Context, s spec.Spec) (*sql.DB, error) {
	a.registerSecrets(s)
	db, err := dbconn.Open(ctx, "source", s.Source, a.LookupEnv)
	if err != nil {
		return nil, classify(err)
	}
	return db, nil
}

// CopyRange copies one key range of a table (a chunk), heartbeating the cursor of
// every committed page; a retried attempt resumes after the last heartbeated cursor.
func (a *Activities) CopyRange(ctx context.Context, s spec.Spec, in workflows.CopyRangeInput) (workflows.CopyRangeResult, error) {
	var rj rangeJob
	if err := json.Unmarshal(in.Range, &rj); err != nil {
		return workflows.CopyRangeResult{}, classify(fmt.Errorf("full: %s chunk %d: bad range: %w", in.Table, in.Index+1, err))
	}
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return workflows.CopyRangeResult{}, err
	}
	defer done()
	all, err := rowcodec.Columns(ctx, src, in.Table.Database, in.Table.Name)
	if err != nil {
		return workflows.CopyRangeResult{}, classify(fmt.Errorf("full: %s: columns: %w", in.Table, err))
	}
	// The destination table as the schema phase made it: a column the source got
	// since (a DDL during the copy) is not there yet. Its values arrive with the
	// replication, which replays the DDL and, in safe mode, every row change
	// after the copy's start position; a row nobody changed holds the column's
	// default on both sides.
	dcols, err := rowcodec.Columns(ctx, dst, in.Table.DestDatabase, in.Table.DestName)
	if err != nil {
		return workflows.CopyRangeResult{}, classify(fmt.Errorf("full: %s: destination columns: %w", in.Table, err))
	}
	onDest := map[string]bool{}
	for _, c := range dcols {
		onDest[strings.ToLower(c.Name)] = true
	}
	// Excluded columns stay behind; renamed ones are written under their new names.
	var cols []rowcodec.Column
	var later []string
	for _, c := range all {
		to, excluded := r.names.Column(in.Table.Database, in.Table.Name, c.Name)
		if excluded {
			continue
		}
		if to != c.Name {
			c.Dest = to
		}
		if !onDest[strings.ToLower(c.DestName())] {
			later = append(later, c.Name)
			continue
		}
		cols = append(cols, c)
	}
	if len(later) > 0 {
		// A column of the destination the source no longer has, together with
		// one the destination lacks: renamed or replaced during the copy. Its
		// values cannot be carried over for rows nobody changes: stop.
		var gone []string
		for _, d := range dcols {
			found := false
			for _, c := range cols {
				found = found || strings.EqualFold(c.DestName(), d.Name)
			}
			if !found {
				gone = append(gone, d.Name)
			}
		}
		if len(gone) > 0 {
			return workflows.CopyRangeResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"full: %s: the source's columns changed during the copy (%s now on the source, %s no longer): a column was renamed or replaced, and rows copied from now on could not carry its values; drop the destination tables and start the migration again, without DDL on the source during the full copy",
				in.Table, strings.Join(later, ", "), strings.Join(gone, ", ")), workflows.ErrFullCopyFailed, nil)
		}
		a.Log.Warn("full: source columns the destination table does not have (added on the source during the copy?): not copied; incremental replication brings them",
			zap.String("table", in.Table.String()), zap.Strings("columns", later), zap.Bool("incremental", s.Has(spec.TypeIncremental)))
	}
	conflicts := rowcodec.Precheck
	switch {
	case s.Options.Conflicts == "ignore":
		conflicts = rowcodec.Ignore
	case s.Has(spec.TypeIncremental):
		// The source changes under the copy: see rowcodec.Replace.
		conflicts = rowcodec.Replace
	}
	job := copier.Job{
		Source:    chunk.Table{Schema: in.Table.Database, Name: in.Table.Name},
		Dest:      chunk.Table{Schema: in.Table.DestDatabase, Name: in.Table.DestName},
		Key:       rj.Key,
		Columns:   cols,
		Range:     rj.Range,
		Conflicts: conflicts,
		Sizer:     chunk.SizerOptions{AvgRowLength: rj.AvgRow},
	}
	info := activity.GetInfo(ctx)
	task := migrationOf(in.Control, info.WorkflowExecution.ID)
	lim, release := a.controlled(ctx, task, info.WorkflowExecution.ID, s, useChunk)
	defer release()
	job.Limiter = a.timedLimiter(lim, task, "full")
	table := in.Table.Database + "." + in.Table.Name
	// Filters and transforms: the exact part of the filter in the SELECT, the
	// rest and the transforms on each page.
	if e, ok := entryOf(r, in.Table.Database, in.Table.Name); ok {
		prog, err := compileETL(ctx, src, e, in.Table.Database, in.Table.Name)
		if err != nil {
			return workflows.CopyRangeResult{}, err
		}
		if prog != nil {
			where, complete := prog.PushDown()
			job.Where = where
			job.Read = etlColumns(prog)
			if job.Rows, err = a.copyRows(prog, job.Read, cols, prog.HasFilter() && !complete, s.Options.ETL.OnError == spec.ETLSkip); err != nil {
				return workflows.CopyRangeResult{}, classify(err)
			}
		}
	}
	// The heartbeat carries the cursor and this range's totals over all attempts
	// (a retry's own counts start after the cursor). A heartbeat that cannot be
	// decoded is an error, not a silent restart from the range's start.
	var base copier.Progress
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &base); err != nil {
			return workflows.CopyRangeResult{}, classify(fmt.Errorf("full: %s chunk %d: read the last heartbeat: %w", in.Table, in.Index+1, err))
		}
		job.Cursor = base.Cursor
	}
	if rj.NoKey {
		// A no-key pass is one transaction: a failed attempt left nothing, and its
		// counts were of rows never committed.
		base = copier.Progress{}
	}
	total := func(p copier.Progress) copier.Progress {
		p.Rows += base.Rows
		p.Bytes += base.Bytes
		p.Skipped += base.Skipped
		p.Found += base.Found
		p.Filtered += base.Filtered
		p.Failed += base.Failed
		p.Pages += base.Pages
		if p.Cursor == nil {
			p.Cursor = base.Cursor
		}
		return p
	}
	// Heartbeat on a clock too, with the last progress: a page can wait long on the
	// throttle, and cancellation only arrives with a heartbeat response.
	var mu sync.Mutex
	last := base
	// Paused: not a row read before resume (the bucket would hold the first
	// page only after reading it).
	if err := holdWhilePaused(ctx, lim, base); err != nil {
		return workflows.CopyRangeResult{}, err
	}
	stop := heartbeatTicker(ctx, func() any { mu.Lock(); defer mu.Unlock(); return last })
	// A stopping worker ends the chunk at its last committed page (a page
	// waiting on a pause or throttle would otherwise hold the stop until its
	// timeout); another attempt resumes from the heartbeat's cursor.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stopping atomic.Bool
	go func() {
		select {
		case <-activity.GetWorkerStopChannel(ctx):
			stopping.Store(true)
			cancel()
		case <-cctx.Done():
		}
	}()
	res, err := copier.CopyRange(cctx, src, dst, job, func(p copier.Progress) {
		t := total(p)
		mu.Lock()
		a.Metrics.Copied(task, table, t.Rows-last.Rows, t.Bytes-last.Bytes)
		last = t
		mu.Unlock()
		heartbeat(ctx, t, true)
	})
	stop()
	if err != nil && stopping.Load() && ctx.Err() == nil {
		return workflows.CopyRangeResult{}, temporal.NewApplicationError(fmt.Sprintf("full: %s chunk %d: the worker is stopping; another attempt resumes from the last committed page", in.Table, in.Index+1), "WorkerStopping")
	}
	if err != nil {
		return workflows.CopyRangeResult{}, classify(fmt.Errorf("full: %s chunk %d: %w", in.Table, in.Index+1, err))
	}
	res = total(res)
	return workflows.CopyRangeResult{Rows: res.Rows, Bytes: res.Bytes, Skipped: res.Skipped, Filtered: res.Filtered, ETLFailed: res.Failed}, nil
}

// heartbeatTicker records detail() as a heartbeat every heartbeatEvery until the
// returned stop is called.
func heartbeatTicker(ctx context.Context, detail func() any) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				heartbeat(ctx, detail(), false)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// AddTableIndexes adds the secondary indexes the schema phase deferred
// (options.full.defer_indexes) once the table's rows are all copied: one ALTER
// TABLE, heartbeating while the server builds them. A retry adds only what is
// still missing.
func (a *Activities) AddTableIndexes(ctx context.Context, s spec.Spec, t plan.Object) ([]string, error) {
	if !deferIndexes(s) {
		return nil, nil
	}
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return nil, err
	}
	defer done()
	var tbl *schema.Table
	for i, x := range r.objects.Tables {
		if x.Source.DB == t.Database && x.Source.Table == t.Name {
			tbl = &r.objects.Tables[i]
		}
	}
	if tbl == nil {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("full: %s is no longer selected", t), workflows.ErrFullCopyFailed, nil)
	}
	// An index build is a long write on the destination: a pause holds it too.
	info := activity.GetInfo(ctx)
	lim, release := a.controlled(ctx, migrationOf("", info.WorkflowExecution.ID), "", s, usePauseOnly)
	defer release()
	if err := holdWhilePaused(ctx, lim, "waiting: the task is paused"); err != nil {
		return nil, err
	}
	stop := heartbeatTicker(ctx, func() any { return "building indexes" })
	names, err := schema.AddDeferredIndexes(ctx, src, dst, *tbl, r.names)
	stop()
	if err != nil {
		return nil, classify(fmt.Errorf("full: %s: %w", t, err))
	}
	if len(names) > 0 {
		a.Log.Info("secondary indexes added", zap.String("table", t.String()), zap.Strings("indexes", names))
	}
	return names, nil
}
