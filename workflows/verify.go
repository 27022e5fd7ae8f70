package workflows

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Names of the verification.
const (
	VerifyName             = "Verify"
	VerifyStatusQuery      = "verify-status"
	verifyTablesActivity   = "VerifyTables"
	planVerifyActivity     = "PlanVerify"
	verifyRangeActivity    = "VerifyRange"
	verifyWaitActivity     = "VerifyWaitReplication"
	verifyChecksumActivity = "VerifyTableChecksum"
	// VerifyRoundSignal carries a round's report from the migration's
	// verification to the migration.
	VerifyRoundSignal = "verify-round"
	// VerifyEvent is the alert posted when the migration's verification
	// (options.verify) finds differences.
	VerifyEvent = "verify_differences"
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
	// Parallel is the ranges compared at once (0: options.full.parallel, else 4).
	Parallel int `json:"parallel,omitempty"`
	// RPS bounds the rows compared per second (0: unlimited).
	RPS int `json:"rps,omitempty"`
	// NoTableChecksum compares every table range by range, even one
	// CHECKSUM TABLE could compare whole.
	NoTableChecksum bool `json:"no_table_checksum,omitempty"`

	// The migration's own verification (options.verify):
	// WaitCaughtUp first waits for replication to pass the source's position
	// (after the full copy: its safe mode is over).
	WaitCaughtUp bool `json:"wait_caught_up,omitempty"`
	// Continuous compares again Interval after each round, until cancelled.
	Continuous bool          `json:"continuous,omitempty"`
	Interval   time.Duration `json:"interval,omitempty"`
	// Round counts the rounds (continued as new); Last is the previous one's report.
	Round int           `json:"round,omitempty"`
	Last  *VerifyReport `json:"last,omitempty"`
	// Migration is the running migration's workflow ID: each report is sent
	// to it (signal VerifyRoundSignal); its own rounds (Round > 0) alert.
	Migration string `json:"migration,omitempty"`

	// A round continues as new every verifyJobsPerRun activities, so its
	// history stays bounded whatever the tables: Tables are those left to
	// compare and Partial the report so far (set together: a round with a
	// Partial has listed its tables).
	Tables  []plan.Object `json:"tables,omitempty"`
	Partial *VerifyReport `json:"partial,omitempty"`
}

// verifyJobsPerRun bounds the VerifyRange activities of one run of Verify
// (about four history events each, and the history's limit is 50,000).
var verifyJobsPerRun = 2000

// AutoVerifyID is the workflow ID of a migration's own verification.
func AutoVerifyID(migration string) string { return migration + "-autoverify" }

// TableChecksum is VerifyTableChecksum's answer: Fits when CHECKSUM TABLE
// compares the table (else Why not), Equal when both servers' agree.
type TableChecksum struct {
	Fits  bool   `json:"fits"`
	Why   string `json:"why,omitempty"`
	Equal bool   `json:"equal,omitempty"`
	Rows  int64  `json:"rows,omitempty"`
}

// VerifyPlan is one table's ranges, opaque to the workflow: each of Ranges is
// one activity's job of a few consecutive ranges (RangeCount in all).
type VerifyPlan struct {
	Table      plan.Object       `json:"table"`
	EstRows    int64             `json:"est_rows"`
	Ranges     []json.RawMessage `json:"ranges"`
	RangeCount int               `json:"range_count,omitempty"`
}

// VerifyRangeInput is one range's activity input.
type VerifyRangeInput struct {
	Table    plan.Object     `json:"table"`
	Range    json.RawMessage `json:"range"`
	Repair   bool            `json:"repair,omitempty"`
	MaxDiffs int             `json:"max_diffs,omitempty"`
	Task     string          `json:"task,omitempty"`
	// RPS is this range's share of the rows per second (0: unlimited).
	RPS float64 `json:"rps,omitempty"`
}

// Difference is one differing row.
type Difference struct {
	// Kind: missing (on the destination), extra (on the destination) or
	// different (with Columns, destination names).
	Kind    string   `json:"kind"`
	Key     string   `json:"key"`
	Columns []string `json:"columns,omitempty"`
	// Repaired: --repair rewrote the row, and it is equal now.
	Repaired bool `json:"repaired,omitempty"`
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
	// Ranges compared (a job holds a few) and those that differed.
	Ranges       int `json:"ranges,omitempty"`
	RangesDiffer int `json:"ranges_differ,omitempty"`
	// RepairedRows were rewritten and compared equal after; Missing, Extra and
	// Different count what still differs.
	RepairedRows int64 `json:"repaired_rows,omitempty"`
	// Notes say why rows may differ (column definitions that differ).
	Notes []string `json:"notes,omitempty"`
	// Rechecks counts the comparisons repeated after replication caught up.
	Rechecks int `json:"rechecks,omitempty"`
	// Unsettled: replication did not pass the comparison's source position in
	// time; the differences may be changes still in flight.
	Unsettled bool `json:"unsettled,omitempty"`
}

// TableVerify is one table's line of the report.
type TableVerify struct {
	Table        string `json:"table"`
	Rows         int64  `json:"rows"`
	Chunks       int    `json:"chunks"`
	ChunksDone   int    `json:"chunks_done"`
	ChunksDiffer int    `json:"chunks_differ"`
	InGo         bool   `json:"in_go,omitempty"`
	// Whole: CHECKSUM TABLE agreed on both servers (identical definitions, no
	// replication running): no range was compared.
	Whole       bool         `json:"whole,omitempty"`
	Missing     int64        `json:"missing"`
	Extra       int64        `json:"extra"`
	Different   int64        `json:"different"`
	Repaired    int64        `json:"repaired,omitempty"`
	Rechecks    int          `json:"rechecks,omitempty"`
	Unsettled   int          `json:"unsettled,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
	Notes       []string     `json:"notes,omitempty"`
	Failed      string       `json:"failed,omitempty"`
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
	// Finished is when the comparison ended.
	Finished time.Time `json:"finished,omitzero"`
	// Round of a continuous verification (1 first); Last is the previous
	// round's report, while this one runs.
	Round int           `json:"round,omitempty"`
	Last  *VerifyReport `json:"last,omitempty"`
}

func verifyOptions() workflow.ActivityOptions {
	o := fullOptions()
	o.Summary = "verify"
	return o
}

// Verify compares every selected table, range by range, in parallel: a range
// whose checksums agree is done; one that differs is compared row by row and
// its differences reported (and, with Repair, rewritten and compared again).
// A continuous verification (a migration's options.verify) compares again
// every Interval, continuing as new each round, until cancelled: then it
// returns the last complete round's report.
func Verify(ctx workflow.Context, in VerifyInput) (VerifyReport, error) {
	ctx = workflow.WithActivityOptions(ctx, verifyOptions())
	rep := &VerifyReport{Name: in.Spec.Name, Started: workflow.Now(ctx), Repair: in.Repair, Round: in.Round, Last: in.Last}
	if in.Partial != nil {
		rep = in.Partial
		rep.Round, rep.Last = in.Round, in.Last
	}
	if err := workflow.SetQueryHandler(ctx, VerifyStatusQuery, func() (VerifyReport, error) { return *rep, nil }); err != nil {
		return *rep, err
	}
	// A continuous verification cancelled by the migration (cutover, stop)
	// mid-round returns the last complete round's report.
	cancelled := func(err error) (VerifyReport, error) {
		if ctx.Err() != nil && in.Continuous && in.Last != nil {
			return *in.Last, nil
		}
		return *rep, err
	}
	if in.WaitCaughtUp && in.Task != "" {
		wctx := workflow.WithActivityOptions(ctx, withSummary(verifyOptions(), "wait for replication to catch up"))
		if err := workflow.ExecuteActivity(wctx, verifyWaitActivity, in.Spec, in.Task).Get(ctx, nil); err != nil {
			return cancelled(fmt.Errorf("verify: wait for replication: %w", err))
		}
		rep.Started = workflow.Now(ctx)
	}
	if in.Partial == nil {
		if err := workflow.ExecuteActivity(ctx, verifyTablesActivity, in.Spec).Get(ctx, &in.Tables); err != nil {
			return cancelled(fmt.Errorf("verify: list tables: %w", err))
		}
	}
	next, err := verifyTables(ctx, in, rep)
	if err != nil {
		return cancelled(err)
	}
	if next < len(in.Tables) {
		cont := in
		partial := *rep
		partial.Last = nil
		cont.Tables, cont.Partial, cont.WaitCaughtUp = in.Tables[next:], &partial, false
		return *rep, workflow.NewContinueAsNewError(ctx, Verify, cont)
	}
	finishReport(rep)
	rep.Finished = workflow.Now(ctx)
	done := *rep
	done.Last = nil
	if in.Migration != "" {
		// The migration holds each round's report: sluice status shows it, and
		// its cutover waits for an equal one.
		if err := workflow.SignalExternalWorkflow(ctx, in.Migration, "", VerifyRoundSignal, done).Get(ctx, nil); err != nil && ctx.Err() == nil {
			workflow.GetLogger(ctx).Warn("the migration did not get the verification's report", "error", err)
		}
	}
	if !rep.Equal && in.Migration != "" && in.Round > 0 && in.Spec.Options.Alerts.Webhook != "" {
		alertDifferences(ctx, in, rep)
	}
	if !in.Continuous || ctx.Err() != nil {
		return done, nil
	}
	if err := workflow.Sleep(ctx, in.Interval); err != nil {
		return done, nil // cancelled while waiting: this round stands
	}
	next2 := in
	next2.Round, next2.Last, next2.WaitCaughtUp = max(in.Round, 1)+1, &done, false
	next2.Tables, next2.Partial = nil, nil
	return done, workflow.NewContinueAsNewError(ctx, Verify, next2)
}

// alertDifferences posts verify_differences (best effort, as the failure alert).
func alertDifferences(ctx workflow.Context, in VerifyInput, rep *VerifyReport) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
		Summary:                "alert: verification found differences",
	})
	msg := fmt.Sprintf("verification found %d differing row(s) in %d compared (sluice verify %s --repair rewrites them)", rep.Differences, rep.Rows, in.Migration)
	for _, t := range rep.Tables {
		if t.Failed != "" {
			msg = fmt.Sprintf("verification could not compare %s: %s", t.Table, t.Failed)
			break
		}
	}
	ev := AlertEvent{Event: VerifyEvent, Task: in.Migration, Name: in.Spec.Name, Phase: PhaseIncremental, Message: msg, At: workflow.Now(ctx).UTC()}
	if !in.Continuous && in.Task == "" {
		ev.Phase = PhaseFull
	}
	if err := workflow.ExecuteActivity(ctx, sendAlertActivity, in.Spec, ev).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("the verification alert was not delivered", "error", err)
	}
}

// verifyTables compares in.Tables into rep, in parallel, until they are done
// or the run's activities reach verifyJobsPerRun; it returns the index of the
// first table not compared.
func verifyTables(ctx workflow.Context, in VerifyInput, rep *VerifyReport) (int, error) {
	maxDiffs := in.MaxDiffs
	if maxDiffs <= 0 {
		maxDiffs = DefaultMaxDiffs
	}
	chunkRows := in.ChunkRows
	if chunkRows <= 0 {
		chunkRows = DefaultVerifyChunkRows
	}
	parallel := in.Parallel
	if parallel <= 0 {
		parallel = in.Spec.Options.Full.Parallel
	}
	if parallel <= 0 {
		parallel = 4
	}
	var share float64 // rows/s of each job in flight
	if in.RPS > 0 {
		share = float64(in.RPS) / float64(parallel)
	}
	sem := workflow.NewSemaphore(ctx, int64(parallel))
	wg := workflow.NewWaitGroup(ctx)
	jobs := 0
	next := 0
	// Tables CHECKSUM TABLE compares whole (VerifyTableChecksum), by index.
	// Not with a rows/s limit: a whole-table checksum is one scan nothing paces.
	useChecksum := workflow.GetVersion(ctx, "verify-checksum-table", workflow.DefaultVersion, 1) == 1 && !in.NoTableChecksum && in.RPS == 0
	checked := map[int]TableChecksum{}
	for ; next < len(in.Tables) && (jobs == 0 || jobs < verifyJobsPerRun); next++ {
		t := in.Tables[next]
		if useChecksum {
			if _, ok := checked[next]; !ok {
				// CHECKSUM TABLE for the next few tables at once.
				wait := workflow.NewWaitGroup(ctx)
				for i := next; i < min(next+2*parallel, len(in.Tables)); i++ {
					if err := sem.Acquire(ctx, 1); err != nil {
						return next, err
					}
					wait.Add(1)
					workflow.Go(ctx, func(ctx workflow.Context) {
						defer wait.Done()
						defer sem.Release(1)
						var tc TableChecksum
						actx := workflow.WithActivityOptions(ctx, withSummary(verifyOptions(), "CHECKSUM TABLE "+in.Tables[i].String()))
						if err := workflow.ExecuteActivity(actx, verifyChecksumActivity, in.Spec, in.Tables[i], in.Task).Get(ctx, &tc); err != nil {
							tc = TableChecksum{Why: errorText(err)}
						}
						checked[i] = tc
					})
					jobs++
				}
				wait.Wait(ctx)
				if ctx.Err() != nil {
					return next, ctx.Err()
				}
			}
			if tc := checked[next]; tc.Fits && tc.Equal {
				rep.Tables = append(rep.Tables, TableVerify{Table: t.String(), Rows: tc.Rows, Whole: true})
				continue
			}
		}
		var vp VerifyPlan
		if err := workflow.ExecuteActivity(ctx, planVerifyActivity, in.Spec, t, chunkRows).Get(ctx, &vp); err != nil {
			if ctx.Err() != nil {
				return next, ctx.Err()
			}
			rep.Tables = append(rep.Tables, TableVerify{Table: t.String(), Failed: errorText(err)})
			continue
		}
		count := vp.RangeCount
		if count == 0 {
			count = len(vp.Ranges)
		}
		rep.Tables = append(rep.Tables, TableVerify{Table: t.String(), Chunks: count})
		idx := len(rep.Tables) - 1
		jobs += len(vp.Ranges)
		for i, r := range vp.Ranges {
			if err := sem.Acquire(ctx, 1); err != nil {
				return next, err
			}
			wg.Add(1)
			job := VerifyRangeInput{Table: t, Range: r, Repair: in.Repair, MaxDiffs: maxDiffs, Task: in.Task, RPS: share}
			n := len(vp.Ranges)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				defer sem.Release(1)
				actx := workflow.WithActivityOptions(ctx, withSummary(verifyOptions(), fmt.Sprintf("verify %s part %d/%d", t, i+1, n)))
				var res VerifyRangeResult
				err := workflow.ExecuteActivity(actx, verifyRangeActivity, in.Spec, job).Get(ctx, &res)
				tv := &rep.Tables[idx] // after the wait: later tables grow the slice
				if err != nil {
					if tv.Failed == "" {
						tv.Failed = fmt.Sprintf("part %d: %s", i+1, errorText(err))
					}
					return
				}
				addRange(tv, res, maxDiffs)
			})
		}
	}
	wg.Wait(ctx)
	return next, ctx.Err()
}

// addRange adds one job's result to its table's line.
func addRange(tv *TableVerify, res VerifyRangeResult, maxDiffs int) {
	ranges, differ := res.Ranges, res.RangesDiffer
	if ranges == 0 {
		ranges = 1
		if res.Missing+res.Extra+res.Different+res.RepairedRows > 0 {
			differ = 1
		}
	}
	tv.ChunksDone += ranges
	tv.ChunksDiffer += differ
	tv.Rows += res.Rows
	tv.InGo = tv.InGo || res.InGo
	tv.Rechecks += res.Rechecks
	if res.Unsettled {
		tv.Unsettled++
	}
	tv.Repaired += res.RepairedRows
	tv.Missing += res.Missing
	tv.Extra += res.Extra
	tv.Different += res.Different
	for _, n := range res.Notes {
		if !slices.Contains(tv.Notes, n) {
			tv.Notes = append(tv.Notes, n)
		}
	}
	// The first maxDiffs keys in key order, whichever job finished first.
	tv.Differences = append(tv.Differences, res.Differences...)
	sortDifferences(tv.Differences)
	if len(tv.Differences) > maxDiffs {
		tv.Differences = tv.Differences[:maxDiffs]
	}
}

// finishReport sums the tables up once every one is compared.
func finishReport(rep *VerifyReport) {
	rep.Equal = true
	rep.Rows, rep.Differences = 0, 0
	for i := range rep.Tables {
		tv := &rep.Tables[i]
		// Ranges finish in any order: the reported keys in a stable order.
		sortDifferences(tv.Differences)
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
}

// AutoVerify is the state of a migration's own verification (options.verify).
type AutoVerify struct {
	Workflow string `json:"workflow"`
	// Report is the last complete round's, once the verification has ended
	// (sluice status queries a running one for its live report).
	Report *VerifyReport `json:"report,omitempty"`
	Error  string        `json:"error,omitempty"`
	Ended  bool          `json:"ended,omitempty"`
}

// startAutoVerify starts the migration's verification as a child workflow
// (task: the replication task, "" without incremental). stop cancels it and
// waits a little for its last report; wait waits for its end.
func startAutoVerify(ctx workflow.Context, s spec.Spec, st *Status, task string) (stop func(), wait func()) {
	v := s.Options.Verify
	mig := workflow.GetInfo(ctx).WorkflowExecution.ID
	id := AutoVerifyID(mig)
	st.Verify = &AutoVerify{Workflow: id}
	av := st.Verify
	parallel := v.Parallel
	if parallel <= 0 {
		parallel = spec.DefaultVerifyParallel
	}
	in := VerifyInput{Spec: s, Task: task, Parallel: parallel, RPS: v.RPS, WaitCaughtUp: task != "",
		Continuous: v.Continuous, Interval: v.Every(), Round: 1, Migration: mig}
	cctx, cancel := workflow.WithCancel(ctx)
	cctx = workflow.WithChildOptions(cctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		// Cancelled, it answers with its last complete round.
		WaitForCancellation: true,
	})
	f := workflow.ExecuteChildWorkflow(cctx, VerifyName, in)
	rounds := workflow.GetSignalChannel(ctx, VerifyRoundSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var rep VerifyReport
			if !rounds.Receive(ctx, &rep) || ctx.Err() != nil {
				return
			}
			av.Report = &rep
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		var rep VerifyReport
		err := f.Get(ctx, &rep)
		switch {
		case err == nil && rep.Done:
			av.Report = &rep
		case err != nil && !temporal.IsCanceledError(err):
			av.Error = errorText(err)
		}
		av.Ended = true
	})
	stop = func() {
		if av.Ended {
			return
		}
		cancel()
		_, _ = workflow.AwaitWithTimeout(ctx, 30*time.Second, func() bool { return av.Ended })
	}
	wait = func() { _ = workflow.Await(ctx, func() bool { return av.Ended }) }
	return stop, wait
}

// verifyMessage sums the migration's verification up for its result.
func verifyMessage(av *AutoVerify) string {
	r := av.Report
	switch {
	case av.Error != "":
		return "verification failed: " + av.Error
	case r == nil:
		return "verification: not complete"
	case r.Equal:
		return fmt.Sprintf("verification: equal (%d row(s) compared)", r.Rows)
	}
	return fmt.Sprintf("verification: %d row(s) DIFFER (sluice status shows them; sluice verify --repair rewrites them)", r.Differences)
}

// sortDifferences puts what still differs first, each part in key order.
func sortDifferences(ds []Difference) {
	sort.SliceStable(ds, func(a, b int) bool {
		if ds[a].Repaired != ds[b].Repaired {
			return !ds[a].Repaired
		}
		return naturalLess(ds[a].Key, ds[b].Key)
	})
}

// naturalLess orders keys as people read them: numbers (with a sign and a
// fraction) by their value (id=2 before id=10, id=-10 before id=-5), the rest
// byte by byte.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		na, nb := number(a), number(b)
		if na > 0 && nb > 0 {
			x, okx := new(big.Rat).SetString(a[:na])
			y, oky := new(big.Rat).SetString(b[:nb])
			if okx && oky {
				if c := x.Cmp(y); c != 0 {
					return c < 0
				}
				a, b = a[na:], b[nb:]
				continue
			}
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// number is the length of the number s starts with: -?digits(.digits)?.
func number(s string) int {
	n := 0
	if n < len(s) && s[n] == '-' {
		n++
	}
	d := n
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == d {
		return 0
	}
	if n+1 < len(s) && s[n] == '.' && s[n+1] >= '0' && s[n+1] <= '9' {
		n++
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
	}
	return n
}
