package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Activity types and names of the full phase.
const (
	FullCopyName        = "FullCopy"
	startFullActivity   = "StartFull"
	fullTablesActivity  = "FullTables"
	planTableActivity   = "PlanTableCopy"
	copyRangeActivity   = "CopyRange"
	addIndexesActivity  = "AddTableIndexes"
	ErrFullCopyFailed   = "FullCopyFailed"
	FullStatusQuery     = "full-status"
	fullTablesPerRun    = 200 // tables per FullCopy run before continue-as-new
	fullMaxRangesPerRun = 2000
)

// BinlogPosition is where the source's binlog stood before the first row was read:
// incremental replication replays from there, idempotently, so a copy taken without
// locks converges to the source.
type BinlogPosition struct {
	File string `json:"file"`
	Pos  uint64 `json:"pos"`
	GTID string `json:"gtid,omitempty"`
}

// FullStart is what StartFull returns.
type FullStart struct {
	// Position is nil when the source has no binlog (a full-only migration).
	Position *BinlogPosition `json:"position,omitempty"`
	Tables   int             `json:"tables"`
	// Parallel is options.full.parallel resolved (0 = from the planning worker's cores).
	Parallel int `json:"parallel"`
}

// TableCopyPlan is one table's copy: its key ranges, opaque to the workflow (the
// activities own their format; they travel as JSON).
type TableCopyPlan struct {
	Table   plan.Object       `json:"table"`
	EstRows int64             `json:"est_rows"`
	Ranges  []json.RawMessage `json:"ranges"`
	// NoKey: copied in one streamed pass (Ranges has one element).
	NoKey bool `json:"no_key,omitempty"`
}

// CopyRangeInput is one chunk activity's input.
type CopyRangeInput struct {
	Table plan.Object     `json:"table"`
	Index int             `json:"index"`
	Range json.RawMessage `json:"range"`
	// Control is the migration workflow whose throttle and pause apply.
	Control string `json:"control,omitempty"`
}

// CopyRangeResult is what one chunk copied.
type CopyRangeResult struct {
	Rows    int64 `json:"rows"`
	Bytes   int64 `json:"bytes"`
	Skipped int64 `json:"skipped"`
	// Filtered counts rows read and left out by a filter evaluated in Go (rows a
	// filter's SQL part excluded are never read, so not counted); ETLFailed rows
	// skipped because an expression failed (options.etl.on_error: skip).
	Filtered  int64 `json:"filtered,omitempty"`
	ETLFailed int64 `json:"etl_failed,omitempty"`
}

// TableProgress is one table's line in the progress query.
type TableProgress struct {
	Table      string `json:"table"`
	EstRows    int64  `json:"est_rows"`
	Rows       int64  `json:"rows"`
	Bytes      int64  `json:"bytes"`
	Skipped    int64  `json:"skipped"`
	Filtered   int64  `json:"filtered,omitempty"`
	ETLFailed  int64  `json:"etl_failed,omitempty"`
	Chunks     int    `json:"chunks"`
	ChunksDone int    `json:"chunks_done"`
	// Indexes are the secondary indexes added after the rows (defer_indexes).
	Indexes  []string  `json:"indexes,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
}

// FullCopyInput carries a FullCopy run's place across continue-as-new.
type FullCopyInput struct {
	Spec     spec.Spec `json:"spec"`
	Parallel int       `json:"parallel"`
	// Offset is the first table (in FullTables order) this run copies.
	Offset int `json:"offset"`
	Total  int `json:"total"`
	// Done accumulates the finished tables' totals over all runs.
	Done FullTotals `json:"done"`
	// Control is the parent migration's workflow ID (its throttle and pause).
	Control string `json:"control,omitempty"`
}

// FullTotals sums what the full copy did.
type FullTotals struct {
	Tables  int   `json:"tables"`
	Rows    int64 `json:"rows"`
	Bytes   int64 `json:"bytes"`
	Skipped int64 `json:"skipped"`
	// Filtered: rows a filter left out (in Go); ETLFailed: rows skipped because
	// an expression failed on them.
	Filtered  int64 `json:"filtered,omitempty"`
	ETLFailed int64 `json:"etl_failed,omitempty"`
}

// FullStatus answers FullStatusQuery.
type FullStatus struct {
	Total  int             `json:"total_tables"`
	Done   FullTotals      `json:"done"`
	Tables []TableProgress `json:"tables"` // this run's tables
}

func fullOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		// A chunk copies up to a few million rows; its heartbeat carries the cursor,
		// so a retry resumes there.
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         retryPolicy(ErrFullCopyFailed),
	}
}

// FullCopy copies tables [Offset, Offset+fullTablesPerRun) with at most Parallel
// chunks in flight across them, then continues as new with the next tables, so the
// history of a run stays small whatever the number of tables or rows.
func FullCopy(ctx workflow.Context, in FullCopyInput) (FullTotals, error) {
	ctx = workflow.WithActivityOptions(ctx, fullOptions())
	st := &FullStatus{Total: in.Total, Done: in.Done}
	if err := workflow.SetQueryHandler(ctx, FullStatusQuery, func() (FullStatus, error) { return *st, nil }); err != nil {
		return in.Done, err
	}
	var tables []plan.Object
	if err := workflow.ExecuteActivity(ctx, fullTablesActivity, in.Spec, in.Offset, fullTablesPerRun).Get(ctx, &tables); err != nil {
		return in.Done, fmt.Errorf("full: list tables: %w", err)
	}
	parallel := max(in.Parallel, 1)
	sem := workflow.NewSemaphore(ctx, int64(parallel))
	wg := workflow.NewWaitGroup(ctx)
	var failures []string
	ranges := 0
	for i, t := range tables {
		var tp TableCopyPlan
		if err := workflow.ExecuteActivity(ctx, planTableActivity, in.Spec, t, parallel).Get(ctx, &tp); err != nil {
			return st.Done, fmt.Errorf("full: plan %s: %w", t, err)
		}
		prog := &TableProgress{Table: t.String(), EstRows: tp.EstRows, Chunks: len(tp.Ranges), Started: workflow.Now(ctx)}
		st.Tables = append(st.Tables, *prog)
		idx := len(st.Tables) - 1
		left := len(tp.Ranges)
		// finish adds the deferred secondary indexes once every row is in, then
		// marks the table done.
		finish := func(ctx workflow.Context) {
			actx := workflow.WithActivityOptions(ctx, withSummary(fullOptions(), fmt.Sprintf("%s secondary indexes", t)))
			var added []string
			if err := workflow.ExecuteActivity(actx, addIndexesActivity, in.Spec, t).Get(ctx, &added); err != nil {
				failures = append(failures, fmt.Sprintf("%s indexes: %s", t, errorText(err)))
				return
			}
			p := &st.Tables[idx]
			p.Indexes = added
			p.Finished = workflow.Now(ctx)
			st.Done.Tables++
		}
		if left == 0 {
			finish(ctx)
		}
		for ri, r := range tp.Ranges {
			if err := sem.Acquire(ctx, 1); err != nil {
				return st.Done, err
			}
			if len(failures) > 0 {
				sem.Release(1)
				break
			}
			wg.Add(1)
			job := CopyRangeInput{Table: t, Index: ri, Range: r, Control: in.Control}
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				defer sem.Release(1)
				var res CopyRangeResult
				actx := workflow.WithActivityOptions(ctx, withSummary(fullOptions(), fmt.Sprintf("%s chunk %d/%d", t, job.Index+1, len(tp.Ranges))))
				if err := workflow.ExecuteActivity(actx, copyRangeActivity, in.Spec, job).Get(ctx, &res); err != nil {
					failures = append(failures, fmt.Sprintf("%s chunk %d: %s", t, job.Index+1, errorText(err)))
					return
				}
				p := &st.Tables[idx]
				p.Rows += res.Rows
				p.Bytes += res.Bytes
				p.Skipped += res.Skipped
				p.Filtered += res.Filtered
				p.ETLFailed += res.ETLFailed
				p.ChunksDone++
				st.Done.Rows += res.Rows
				st.Done.Bytes += res.Bytes
				st.Done.Skipped += res.Skipped
				st.Done.Filtered += res.Filtered
				st.Done.ETLFailed += res.ETLFailed
				left--
				if left == 0 {
					finish(ctx)
				}
			})
		}
		ranges += len(tp.Ranges)
		if len(failures) > 0 || (ranges >= fullMaxRangesPerRun && i < len(tables)-1) {
			// Finish what is in flight, then hand the rest of the tables to a new run.
			wg.Wait(ctx)
			if len(failures) == 0 {
				tables = tables[:i+1]
			}
			break
		}
	}
	wg.Wait(ctx)
	if len(failures) > 0 {
		return st.Done, temporal.NewNonRetryableApplicationError(fmt.Sprintf("full: %d chunk(s) failed: %s", len(failures), failures[0]), ErrFullCopyFailed, nil)
	}
	next := in.Offset + len(tables)
	if next < in.Total {
		return st.Done, workflow.NewContinueAsNewError(ctx, FullCopy, FullCopyInput{Spec: in.Spec, Parallel: in.Parallel, Offset: next, Total: in.Total, Done: st.Done, Control: in.Control})
	}
	return st.Done, nil
}

// FullSummary is the full phase's part of Status.
type FullSummary struct {
	// Position is where incremental replication will start (nil without binlog).
	Position *BinlogPosition `json:"position,omitempty"`
	// ChildID is the FullCopy workflow: query it (FullStatusQuery) for per-table progress.
	ChildID string     `json:"child_id"`
	Tables  int        `json:"tables"`
	Totals  FullTotals `json:"totals"`
}

// fullPhase records the start position, then runs the FullCopy child to the end.
func fullPhase(ctx workflow.Context, s spec.Spec, st *Status) error {
	actx := workflow.WithActivityOptions(ctx, schemaOptions())
	var fs FullStart
	// With replication to follow, StartFull also seeds the task's schema history
	// at the start position (a DDL during the copy is replayed onto it).
	task := ""
	if s.Has(spec.TypeIncremental) {
		task = taskID(ctx)
	}
	if err := workflow.ExecuteActivity(actx, startFullActivity, s, task).Get(ctx, &fs); err != nil {
		return fmt.Errorf("full: start: %w", err)
	}
	childID := workflow.GetInfo(ctx).WorkflowExecution.ID + "-full"
	st.Full = &FullSummary{Position: fs.Position, ChildID: childID, Tables: fs.Tables}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: childID})
	var totals FullTotals
	err := workflow.ExecuteChildWorkflow(cctx, FullCopyName, FullCopyInput{Spec: s, Parallel: fs.Parallel, Total: fs.Tables,
		Control: workflow.GetInfo(ctx).WorkflowExecution.ID}).Get(ctx, &totals)
	st.Full.Totals = totals
	if err != nil {
		return fmt.Errorf("full: %w", err)
	}
	return nil
}

// withSummary names an activity in the Web UI.
func withSummary(o workflow.ActivityOptions, s string) workflow.ActivityOptions {
	o.Summary = s
	return o
}
