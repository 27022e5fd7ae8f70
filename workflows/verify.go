package workflows

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Names of the verification.
const (
	VerifyName           = "Verify"
	VerifyStatusQuery    = "verify-status"
	verifyTablesActivity = "VerifyTables"
	planVerifyActivity   = "PlanVerify"
	verifyRangeActivity  = "VerifyRange"
	// DefaultVerifyChunkRows is the rows per checksum range: small enough that a
	// differing range is read whole on both sides to find its rows.
	DefaultVerifyChunkRows = 20000
	// DefaultMaxDiffs bounds the differing keys reported per table.
	DefaultMaxDiffs = 100
)

// VerifyInput is a verification's input (sluice verify).
type VerifyInput struct {
	Spec spec.Spec `json:"spec"`
	// Repair rewrites the differing rows from the source and verifies again.
	Repair bool `json:"repair,omitempty"`
	// MaxDiffs bounds the differing keys reported per table (0: DefaultMaxDiffs).
	MaxDiffs int `json:"max_diffs,omitempty"`
	// ChunkRows is the rows per range (0: DefaultVerifyChunkRows).
	ChunkRows int `json:"chunk_rows,omitempty"`
	// Task is the migration's replication task (workflow ID/first run ID), when
	// it replicates into the compared tables: a range that differs is compared
	// again once the applier has passed the source position of the comparison,
	// and only differences that persist are reported.
	Task string `json:"task,omitempty"`
}

// VerifyPlan is one table's ranges, opaque to the workflow.
type VerifyPlan struct {
	Table   plan.Object       `json:"table"`
	EstRows int64             `json:"est_rows"`
	Ranges  []json.RawMessage `json:"ranges"`
}

// VerifyRangeInput is one range's activity input.
type VerifyRangeInput struct {
	Table    plan.Object     `json:"table"`
	Range    json.RawMessage `json:"range"`
	Repair   bool            `json:"repair,omitempty"`
	MaxDiffs int             `json:"max_diffs,omitempty"`
	Task     string          `json:"task,omitempty"`
}

// Difference is one differing row.
type Difference struct {
	// Kind: missing (on the destination), extra (on the destination) or
	// different (with Columns, destination names).
	Kind    string   `json:"kind"`
	Key     string   `json:"key"`
	Columns []string `json:"columns,omitempty"`
}

// VerifyRangeResult is what one range found (and repaired).
type VerifyRangeResult struct {
	Rows int64 `json:"rows"`
	// InGo: compared row by row in Go (filters or transforms), not by checksums.
	InGo        bool         `json:"in_go,omitempty"`
	Missing     int64        `json:"missing,omitempty"`
	Extra       int64        `json:"extra,omitempty"`
	Different   int64        `json:"different,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
	// Repaired: the differences were rewritten and the range compared equal after.
	Repaired bool `json:"repaired,omitempty"`
	// Rechecks counts the comparisons repeated after replication caught up.
	Rechecks int `json:"rechecks,omitempty"`
	// Unsettled: replication did not pass the comparison's source position in
	// time; the differences may be changes still in flight.
	Unsettled bool `json:"unsettled,omitempty"`
}

// TableVerify is one table's line of the report.
type TableVerify struct {
	Table        string       `json:"table"`
	Rows         int64        `json:"rows"`
	Chunks       int          `json:"chunks"`
	ChunksDone   int          `json:"chunks_done"`
	ChunksDiffer int          `json:"chunks_differ"`
	InGo         bool         `json:"in_go,omitempty"`
	Missing      int64        `json:"missing"`
	Extra        int64        `json:"extra"`
	Different    int64        `json:"different"`
	Repaired     int64        `json:"repaired,omitempty"`
	Rechecks     int          `json:"rechecks,omitempty"`
	Unsettled    int          `json:"unsettled,omitempty"`
	Differences  []Difference `json:"differences,omitempty"`
	Failed       string       `json:"failed,omitempty"`
}

// VerifyReport is the verification's result and status.
type VerifyReport struct {
	Name    string        `json:"name"`
	Started time.Time     `json:"started"`
	Done    bool          `json:"done"`
	Repair  bool          `json:"repair,omitempty"`
	Tables  []TableVerify `json:"tables"`
	// Equal: every table compared equal (after repair, with Repair).
	Equal bool  `json:"equal"`
	Rows  int64 `json:"rows"`
	// Differences counts what differs now (repaired rows excluded).
	Differences int64 `json:"differences"`
}

func verifyOptions() workflow.ActivityOptions {
	o := fullOptions()
	o.Summary = "verify"
	return o
}

// Verify compares every selected table, range by range, in parallel: a range
// whose checksums agree is done; one that differs is compared row by row and
// its differences reported (and, with Repair, rewritten and compared again).
func Verify(ctx workflow.Context, in VerifyInput) (VerifyReport, error) {
	ctx = workflow.WithActivityOptions(ctx, verifyOptions())
	rep := &VerifyReport{Name: in.Spec.Name, Started: workflow.Now(ctx), Repair: in.Repair}
	if err := workflow.SetQueryHandler(ctx, VerifyStatusQuery, func() (VerifyReport, error) { return *rep, nil }); err != nil {
		return *rep, err
	}
	maxDiffs := in.MaxDiffs
	if maxDiffs <= 0 {
		maxDiffs = DefaultMaxDiffs
	}
	chunkRows := in.ChunkRows
	if chunkRows <= 0 {
		chunkRows = DefaultVerifyChunkRows
	}
	var tables []plan.Object
	if err := workflow.ExecuteActivity(ctx, verifyTablesActivity, in.Spec).Get(ctx, &tables); err != nil {
		return *rep, fmt.Errorf("verify: list tables: %w", err)
	}
	parallel := in.Spec.Options.Full.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	sem := workflow.NewSemaphore(ctx, int64(parallel))
	wg := workflow.NewWaitGroup(ctx)
	for _, t := range tables {
		var vp VerifyPlan
		if err := workflow.ExecuteActivity(ctx, planVerifyActivity, in.Spec, t, chunkRows).Get(ctx, &vp); err != nil {
			rep.Tables = append(rep.Tables, TableVerify{Table: t.String(), Failed: errorText(err)})
			continue
		}
		rep.Tables = append(rep.Tables, TableVerify{Table: t.String(), Chunks: len(vp.Ranges)})
		idx := len(rep.Tables) - 1
		for i, r := range vp.Ranges {
			if err := sem.Acquire(ctx, 1); err != nil {
				return *rep, err
			}
			wg.Add(1)
			job := VerifyRangeInput{Table: t, Range: r, Repair: in.Repair, MaxDiffs: maxDiffs, Task: in.Task}
			n := len(vp.Ranges)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				defer sem.Release(1)
				actx := workflow.WithActivityOptions(ctx, withSummary(verifyOptions(), fmt.Sprintf("verify %s range %d/%d", t, i+1, n)))
				var res VerifyRangeResult
				err := workflow.ExecuteActivity(actx, verifyRangeActivity, in.Spec, job).Get(ctx, &res)
				tv := &rep.Tables[idx] // after the wait: later tables grow the slice
				if err != nil {
					if tv.Failed == "" {
						tv.Failed = fmt.Sprintf("range %d: %s", i+1, errorText(err))
					}
					return
				}
				tv.ChunksDone++
				tv.Rows += res.Rows
				tv.InGo = tv.InGo || res.InGo
				tv.Rechecks += res.Rechecks
				if res.Unsettled {
					tv.Unsettled++
				}
				if res.Missing+res.Extra+res.Different > 0 {
					tv.ChunksDiffer++
				}
				if res.Repaired {
					tv.Repaired += res.Missing + res.Extra + res.Different
				} else {
					tv.Missing += res.Missing
					tv.Extra += res.Extra
					tv.Different += res.Different
				}
				for _, d := range res.Differences {
					if len(tv.Differences) < maxDiffs {
						tv.Differences = append(tv.Differences, d)
					}
				}
			})
		}
	}
	wg.Wait(ctx)
	rep.Equal = true
	for i := range rep.Tables {
		tv := &rep.Tables[i]
		// Ranges finish in any order: the reported keys in a stable order.
		sort.SliceStable(tv.Differences, func(a, b int) bool { return tv.Differences[a].Key < tv.Differences[b].Key })
		rep.Rows += tv.Rows
		rep.Differences += tv.Missing + tv.Extra + tv.Different
		if tv.Failed == "" && tv.ChunksDone != tv.Chunks {
			tv.Failed = fmt.Sprintf("%d of %d ranges compared", tv.ChunksDone, tv.Chunks)
		}
		if tv.Failed != "" || tv.Missing+tv.Extra+tv.Different > 0 {
			rep.Equal = false
		}
	}
	rep.Done = true
	return *rep, nil
}
