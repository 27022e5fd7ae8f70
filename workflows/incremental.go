package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/spec"
)

// Names of the incremental phase.
const (
	startIncrementalActivity  = "StartIncremental"
	incrementalActivity       = "Incremental"
	finishIncrementalActivity = "FinishIncremental"
	// StopSignal ends replication at a consistent point and completes the workflow.
	StopSignal = "stop"
	// CutoverUpdate is the switchover (CutoverRequest → IncrementalResult).
	CutoverUpdate = "cutover"
	// ErrCutoverTimeout is the ApplicationError type of a cutover that did not
	// reach its conditions in time; replication goes on.
	ErrCutoverTimeout = "CutoverTimeout"
)

// Stages of the incremental phase, as the Incremental activity heartbeats them.
const (
	StageReplicating = "replicating"
	StageCatchingUp  = "cutover: catching up"
	StageStopWrites  = "cutover: stop writes on the source"
	StageDraining    = "cutover: applying the last changes"
	StageStopped     = "stopped"
	// StagePaused: sluice pause; the binlog is closed until sluice resume.
	StagePaused  = "paused"
	StageCutOver = "cut over"
)

// IncrementalStart is what StartIncremental returns.
type IncrementalStart struct {
	// Task names the replication in the destination's sluice.tasks.
	Task string `json:"task"`
	// Start is where replication begins when the task has no checkpoint yet.
	Start BinlogPosition `json:"start"`
	// SafeUntil ends safe mode: the source's position after the full copy.
	SafeUntil *BinlogPosition `json:"safe_until,omitempty"`
}

// IncrementalInput is the Incremental activity's input.
type IncrementalInput struct {
	Spec      spec.Spec       `json:"spec"`
	Task      string          `json:"task"`
	Start     BinlogPosition  `json:"start"`
	SafeUntil *BinlogPosition `json:"safe_until,omitempty"`
	// Cutover, when set, makes the activity end replication once the cutover's
	// conditions hold (and fence the task), or fail with ErrCutoverTimeout.
	Cutover *CutoverRequest `json:"cutover,omitempty"`
}

// CutoverRequest is `sluice cutover`'s argument.
type CutoverRequest struct {
	// MaxLag: writes may stop once the lag is at most this.
	MaxLag time.Duration `json:"max_lag"`
	// Timeout bounds the whole cutover.
	Timeout time.Duration `json:"timeout"`
	// Force cuts over although the migration's verification (options.verify)
	// has not finished or found differences.
	Force bool `json:"force,omitempty"`
}

// IncrementalProgress is the Incremental activity's heartbeat (read by `sluice
// status` from the pending activity) and its result.
type IncrementalProgress struct {
	Stage    string         `json:"stage"`
	Position BinlogPosition `json:"position"`
	// LagSeconds: how far the destination is behind the source; 0 when caught up.
	LagSeconds float64   `json:"lag_seconds"`
	CaughtUp   bool      `json:"caught_up"`
	SourceTime time.Time `json:"source_time,omitzero"`
	Txns       uint64    `json:"txns"`
	Rows       uint64    `json:"rows"`
	DDL        uint64    `json:"ddl"`
	SafeMode   bool      `json:"safe_mode"`
	// ETLSkipped counts changes this attempt left out because an expression
	// failed on them (options.etl.on_error: skip).
	ETLSkipped uint64 `json:"etl_skipped,omitempty"`
	// Heartbeat says whether the source heartbeat table is written (or why not).
	Heartbeat string    `json:"heartbeat,omitempty"`
	At        time.Time `json:"at"`
	// SourcePosition is the source's own position during a cutover.
	SourcePosition *BinlogPosition `json:"source_position,omitempty"`
	// LagAbove and LagAlerted carry the lag alert's state (options.alerts.lag)
	// from attempt to attempt.
	LagAbove   time.Time `json:"lag_above,omitzero"`
	LagAlerted bool      `json:"lag_alerted,omitempty"`
}

// IncrementalStatus is the workflow's view of the phase.
type IncrementalStatus struct {
	Task      string          `json:"task"`
	Start     BinlogPosition  `json:"start"`
	SafeUntil *BinlogPosition `json:"safe_until,omitempty"`
	// Stage: replicating, a cutover stage (from the last result), stopped or cut over.
	Stage   string          `json:"stage"`
	Cutover *CutoverRequest `json:"cutover,omitempty"`
	// CutoverError is why the last cutover did not complete.
	CutoverError string `json:"cutover_error,omitempty"`
	// Result is the final progress.
	Result *IncrementalProgress `json:"result,omitempty"`
}

func incrementalOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		// Replication runs until stop or cutover: weeks. A dead worker is noticed by
		// the heartbeat timeout and another picks up from the checkpoint.
		StartToCloseTimeout: 365 * 24 * time.Hour,
		HeartbeatTimeout:    10 * time.Second,
		WaitForCancellation: true,
		RetryPolicy:         retryPolicy(ErrCutoverTimeout),
		Summary:             "binlog replication",
	}
}

// incrementalPhase replicates until `sluice stop` or `sluice cutover` completes.
func incrementalPhase(ctx workflow.Context, s spec.Spec, st *Status, start *BinlogPosition, cs *cutovers) error {
	defer func() {
		// A cutover still waiting gets an answer whatever ended the phase.
		if cs.pending && cs.result == nil && cs.err == nil {
			cs.err = errors.New("replication ended before the cutover completed; see sluice status")
		}
	}()
	task := taskID(ctx)
	sctx := workflow.WithActivityOptions(ctx, schemaOptions())
	var is IncrementalStart
	if err := workflow.ExecuteActivity(sctx, startIncrementalActivity, s, task, start).Get(ctx, &is); err != nil {
		return fmt.Errorf("incremental: start: %w", err)
	}
	st.Incremental = &IncrementalStatus{Task: is.Task, Start: is.Start, SafeUntil: is.SafeUntil, Stage: StageReplicating}
	inc := st.Incremental
	if s.Options.Verify.On() {
		// Compares once replication has caught up after the copy (and, when
		// continuous, again every interval) until replication ends.
		stopVerify, _ := startAutoVerify(ctx, s, st, is.Task)
		defer stopVerify()
	}

	stopCh := workflow.GetSignalChannel(ctx, StopSignal)
	var cut *CutoverRequest
	for {
		actx, cancel := workflow.WithCancel(workflow.WithActivityOptions(ctx, incrementalOptions()))
		in := IncrementalInput{Spec: s, Task: is.Task, Start: is.Start, SafeUntil: is.SafeUntil, Cutover: cut}
		fut := workflow.ExecuteActivity(actx, incrementalActivity, in)
		var res IncrementalProgress
		var actErr error
		done, stop := false, false
		var newCut *CutoverRequest
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(fut, func(f workflow.Future) { done = true; actErr = f.Get(ctx, &res) })
		sel.AddReceive(stopCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); stop = true })
		sel.AddReceive(cs.ch, func(c workflow.ReceiveChannel, _ bool) {
			var r CutoverRequest
			c.Receive(ctx, &r)
			newCut = &r
		})
		sel.Select(ctx)
		if !done {
			// Stop, cutover or the workflow's cancellation: the running attempt ends
			// at its last committed epoch.
			cancel()
			_ = fut.Get(ctx, nil)
		}
		switch {
		case ctx.Err() != nil:
			dctx, _ := workflow.NewDisconnectedContext(ctx)
			_ = finishIncremental(dctx, s, is.Task, "cancelled", inc)
			return ctx.Err()
		case stop:
			if err := finishIncremental(ctx, s, is.Task, "stopped with sluice stop", inc); err != nil {
				return err
			}
			inc.Stage = StageStopped
			if cs.pending {
				cs.err = errors.New("replication was stopped (sluice stop) during the cutover")
			}
			return nil
		case newCut != nil:
			cut = newCut
			inc.Cutover, inc.CutoverError = cut, ""
			continue
		}
		// The activity ended by itself.
		var ae *temporal.ApplicationError
		switch {
		case actErr == nil:
			inc.Stage, inc.Result = StageCutOver, &res
			cs.result = &res
			return nil
		case errors.As(actErr, &ae) && ae.Type() == ErrCutoverTimeout:
			inc.CutoverError = ae.Message()
			cs.err = temporal.NewApplicationError(ae.Message(), ErrCutoverTimeout)
			cut, inc.Cutover = nil, nil
			continue
		default:
			return fmt.Errorf("incremental: %w", actErr)
		}
	}
}

// taskID names the replication task on the destination (sluice.tasks, the schema
// history): one per workflow, stable across its runs.
func taskID(ctx workflow.Context) string {
	info := workflow.GetInfo(ctx)
	return info.WorkflowExecution.ID + "/" + info.FirstRunID
}

// cutovers is the cutover update's state, shared between its handler and the
// incremental phase that serves it.
type cutovers struct {
	ch      workflow.Channel // requests, received by incrementalPhase's loop
	pending bool
	result  *IncrementalProgress
	err     error
}

// registerCutover sets the cutover update handler at the workflow's start, so a
// cutover sent in another phase gets a clear refusal rather than "unknown update",
// and one sent while replication starts waits for it.
func registerCutover(ctx workflow.Context, s spec.Spec, st *Status) (*cutovers, error) {
	cs := &cutovers{ch: workflow.NewChannel(ctx)}
	err := workflow.SetUpdateHandlerWithOptions(ctx, CutoverUpdate,
		func(ctx workflow.Context, req CutoverRequest) (IncrementalProgress, error) {
			cs.pending = true
			cs.result, cs.err = nil, nil
			cs.ch.Send(ctx, req)
			if err := workflow.Await(ctx, func() bool { return cs.result != nil || cs.err != nil }); err != nil {
				return IncrementalProgress{}, err
			}
			cs.pending = false
			if cs.err != nil {
				return IncrementalProgress{}, cs.err
			}
			return *cs.result, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req CutoverRequest) error {
			switch {
			case !s.Has(spec.TypeIncremental):
				return errors.New("this migration has no incremental phase (types: " + strings.Join(st.Types, ", ") + "): there is nothing to cut over")
			case st.Phase != PhaseIncremental:
				return fmt.Errorf("the migration is in phase %s: cutover needs the incremental phase (sluice status shows the phase)", st.Phase)
			case cs.pending:
				return errors.New("a cutover is already in progress")
			case req.MaxLag < 0 || req.Timeout <= 0:
				return errors.New("cutover needs max lag ≥ 0 and a positive timeout")
			}
			if req.Force || st.Verify == nil {
				return nil
			}
			// The migration's verification is the user's evidence: no cutover
			// before it has compared everything once, or while it says rows
			// differ.
			switch r := st.Verify.Report; {
			case r == nil && st.Verify.Error != "":
				return fmt.Errorf("the migration's verification failed (%s): run sluice verify %s, or cut over with --force", st.Verify.Error, workflow.GetInfo(ctx).WorkflowExecution.ID)
			case r == nil && s.Options.Verify.AfterFull:
				return errors.New("the verification after the full copy (options.verify.after_full) has not finished: sluice status shows its progress; cut over once it reports equal, or with --force")
			case r != nil && !r.Equal:
				return fmt.Errorf("the migration's last verification found %d differing row(s) (sluice status lists them): rewrite them with sluice verify %s --repair and wait for a round that reports equal, or cut over with --force", r.Differences, workflow.GetInfo(ctx).WorkflowExecution.ID)
			}
			return nil
		}})
	return cs, err
}

// finishIncremental fences the task on the destination: nothing more is written.
func finishIncremental(ctx workflow.Context, s spec.Spec, task, summary string, inc *IncrementalStatus) error {
	ctx = workflow.WithActivityOptions(ctx, schemaOptions())
	var res IncrementalProgress
	if err := workflow.ExecuteActivity(ctx, finishIncrementalActivity, s, task, summary).Get(ctx, &res); err != nil {
		return fmt.Errorf("incremental: finish: %w", err)
	}
	inc.Result = &res
	return nil
}
