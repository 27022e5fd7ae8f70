// Package workflows holds the deterministic workflow code: no database driver, no
// clock, no goroutines outside workflow.Go. Work that touches servers is in activities/.
package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// Names used by clients. They are part of the CLI's contract with running workflows.
const (
	MigrationName = "Migration"
	PrecheckName  = "Precheck"
	// StatusQuery returns a Status.
	StatusQuery = "status"
	// ErrPrecheckFailed is the ApplicationError type of a migration stopped by its precheck.
	ErrPrecheckFailed = "PrecheckFailed"
)

// Phases, in order.
const (
	PhasePrecheck    = "precheck"
	PhaseSchema      = "schema"
	PhaseFull        = "full"
	PhaseIncremental = "incremental"
	PhaseCutover     = "cutover"
	PhaseDone        = "done"
	PhaseFailed      = "failed"
)

// Status is what the status query answers while the workflow runs.
type Status struct {
	Name      string           `json:"name"`
	Phase     string           `json:"phase"`
	Types     []string         `json:"types"`
	StartedAt time.Time        `json:"started_at"`
	Precheck  *precheck.Report `json:"precheck,omitempty"`
	Schema    *SchemaProgress  `json:"schema,omitempty"`
	Full      *FullSummary     `json:"full,omitempty"`
	// Incremental is the replication phase; its live lag and position are the
	// Incremental activity's heartbeat (sluice status reads both).
	Incremental *IncrementalStatus `json:"incremental,omitempty"`
	// Control is the throttle and pause in force (sluice throttle, pause, resume).
	Control *Control `json:"control,omitempty"`
	// Retries are the failures being retried within their windows (options.retry).
	Retries *Retries `json:"retries,omitempty"`
	// Verify is the migration's own verification (options.verify).
	Verify  *AutoVerify `json:"verify,omitempty"`
	Message string      `json:"message,omitempty"`
}

// Result is what a finished migration returns.
type Result struct {
	Status
}

// precheckActivity is the activity type registered by activities.Activities.Precheck.
const precheckActivity = "Precheck"

func precheckOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		// Connecting, reading information_schema and grants: minutes at most, even for
		// tens of thousands of tables.
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			// Unreachable servers are report items, not errors: a retry here means the
			// worker died or a query failed unexpectedly.
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    5,
		},
	}
}

func runPrecheck(ctx workflow.Context, s spec.Spec) (precheck.Report, error) {
	var r precheck.Report
	ctx = workflow.WithActivityOptions(ctx, precheckOptions())
	err := workflow.ExecuteActivity(ctx, precheckActivity, s).Get(ctx, &r)
	if err != nil {
		return r, fmt.Errorf("precheck: %w", err)
	}
	return r, nil
}

// Precheck runs only the precheck phase and returns its report. A report with failures
// is still a successful workflow: the report is the answer.
func Precheck(ctx workflow.Context, s spec.Spec) (precheck.Report, error) {
	st := &Status{Name: s.Name, Phase: PhasePrecheck, Types: typeNames(s), StartedAt: workflow.Now(ctx)}
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return *st, nil }); err != nil {
		return precheck.Report{}, err
	}
	r, err := runPrecheck(ctx, s)
	if err != nil {
		return r, err
	}
	st.Precheck = &r
	st.Phase = PhaseDone
	return r, nil
}

// Migration is the whole lifecycle: precheck -> schema -> full -> incremental -> cutover.
// A failed precheck item, or a warning the workflow file does not accept in
// options.ignore_warnings, stops it before anything is written. A failure is
// alerted (options.alerts) before the workflow ends.
func Migration(ctx workflow.Context, s spec.Spec) (Result, error) {
	res, err := migration(ctx, s)
	if err != nil && !temporal.IsCanceledError(err) && ctx.Err() == nil && s.Options.Alerts.AlertOnFailure() {
		alertFailure(ctx, s, res.Status, err)
	}
	return res, err
}

// sendAlertActivity is activities.SendAlert.
const sendAlertActivity = "SendAlert"

// AlertEvent is the failure alert's payload (alert.Event's shape; the workflow
// package holds no HTTP code).
type AlertEvent struct {
	Event   string    `json:"event"`
	Task    string    `json:"task"`
	Name    string    `json:"name"`
	Phase   string    `json:"phase,omitempty"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// alertFailure posts the failure alert: a few attempts within minutes, then
// the workflow ends all the same (the failure is in its result either way).
func alertFailure(ctx workflow.Context, s spec.Spec, st Status, err error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
		Summary:                "alert: task failed",
	})
	msg := st.Message
	if msg == "" {
		msg = errorText(err)
	}
	ev := AlertEvent{Event: "task_failed", Task: workflow.GetInfo(ctx).WorkflowExecution.ID, Name: s.Name, Phase: failedIn(st), Message: msg, At: workflow.Now(ctx).UTC()}
	if aerr := workflow.ExecuteActivity(ctx, sendAlertActivity, s, ev).Get(ctx, nil); aerr != nil {
		workflow.GetLogger(ctx).Warn("the failure alert was not delivered", "error", aerr)
	}
}

// failedIn names the phase a failed migration was in: the last one it reached.
func failedIn(st Status) string {
	switch {
	case st.Incremental != nil:
		return PhaseIncremental
	case st.Full != nil:
		return PhaseFull
	case st.Schema != nil:
		return PhaseSchema
	}
	return PhasePrecheck
}

func migration(ctx workflow.Context, s spec.Spec) (Result, error) {
	st := &Status{Name: s.Name, Phase: PhasePrecheck, Types: typeNames(s), StartedAt: workflow.Now(ctx)}
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return *st, nil }); err != nil {
		return Result{}, err
	}
	cuts, err := registerCutover(ctx, s, st)
	if err != nil {
		return Result{}, err
	}
	if err := registerControl(ctx, s, st); err != nil {
		return Result{}, err
	}
	watchRetries(ctx, st)
	r, err := runPrecheck(ctx, s)
	if err != nil {
		st.Phase, st.Message = PhaseFailed, err.Error()
		return Result{*st}, err
	}
	st.Precheck = &r
	if blocking := r.Blocking(s.Options.IgnoreWarnings); len(blocking) > 0 {
		st.Phase = PhaseFailed
		st.Message = fmt.Sprintf("precheck: %d item(s) block the migration; nothing was written to the destination", len(blocking))
		// The report rides along as details so `sluice status` can print it after the end.
		return Result{*st}, temporal.NewNonRetryableApplicationError(st.Message, ErrPrecheckFailed, nil, r)
	}
	var sp plan.SchemaPlan
	if s.Has(spec.TypeSchema) {
		st.Phase = PhaseSchema
		if sp, err = schemaPhase(ctx, s, st); err != nil {
			st.Phase, st.Message = PhaseFailed, errorText(err)
			return Result{*st}, phaseError(err)
		}
		st.Schema.TriggersPending = len(sp.Triggers) > 0
	}
	if s.Has(spec.TypeFull) {
		st.Phase = PhaseFull
		if err := fullPhase(ctx, s, st); err != nil {
			st.Phase, st.Message = PhaseFailed, errorText(err)
			return Result{*st}, phaseError(err)
		}
		if s.Options.Verify.AfterFull && !s.Has(spec.TypeIncremental) {
			// Nothing replays changes after the copy: compare now, and end
			// with the report.
			_, wait := startAutoVerify(ctx, s, st, "")
			wait()
		}
	}
	if s.Has(spec.TypeIncremental) {
		st.Phase = PhaseIncremental
		var start *BinlogPosition
		if st.Full != nil {
			if start = st.Full.Position; start == nil {
				err := temporal.NewNonRetryableApplicationError("incremental: the source had no binlog position when the full copy started", ErrFullCopyFailed, nil)
				st.Phase, st.Message = PhaseFailed, errorText(err)
				return Result{*st}, phaseError(err)
			}
		}
		err := incrementalPhase(ctx, s, st, start, cuts)
		// An update still waiting (a cutover during stop) gets its answer first.
		_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		if err != nil {
			st.Phase, st.Message = PhaseFailed, errorText(err)
			return Result{*st}, phaseError(err)
		}
	}
	if st.Schema != nil && st.Schema.TriggersPending {
		// After the full copy (without incremental nothing replays changes after
		// this point, so "after cutover" is now too) or after the cutover or stop:
		// the task is fenced, sluice writes nothing more.
		if err := createTriggers(ctx, s, sp, st); err != nil {
			st.Phase, st.Message = PhaseFailed, errorText(err)
			return Result{*st}, phaseError(err)
		}
	}
	st.Phase = PhaseDone
	st.Message = doneMessage(s, st)
	workflow.GetLogger(ctx).Info("migration finished", "name", s.Name)
	return Result{*st}, nil
}

// phaseError is what a failed migration returns: the failing phase's
// application error on top (its type and message), not Go's wrapping, which
// Temporal would record as a retryable "wrapError" around a chain of causes.
func phaseError(err error) error {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || err == error(ae) {
		return err
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) {
		return err
	}
	return temporal.NewNonRetryableApplicationError(errorText(err), ae.Type(), nil)
}

func doneMessage(s spec.Spec, st *Status) string {
	var parts []string
	if st.Schema != nil {
		n := 0
		for _, v := range st.Schema.Applied {
			n += v
		}
		parts = append(parts, fmt.Sprintf("schema: %d object(s) applied", n))
		if w := st.Schema.Warnings; len(w) > 0 {
			parts = append(parts, fmt.Sprintf("%d warning(s), see sluice status", len(w)))
		}
		if st.Schema.TriggersPending {
			parts = append(parts, "triggers wait for cutover (options.triggers: after-cutover)")
		}
		if len(st.Schema.NotMigrated) > 0 {
			parts = append(parts, fmt.Sprintf("not migrated: %s", strings.Join(st.Schema.NotMigrated, ", ")))
		}
	}
	if f := st.Full; f != nil {
		parts = append(parts, fmt.Sprintf("full: %d table(s), %d row(s) copied", f.Totals.Tables, f.Totals.Rows))
		if f.Totals.Filtered > 0 {
			parts = append(parts, fmt.Sprintf("%d row(s) left out by filters", f.Totals.Filtered))
		}
		if f.Totals.ETLFailed > 0 {
			parts = append(parts, fmt.Sprintf("%d row(s) skipped because an expression failed on them (options.etl.on_error: skip; see the worker log)", f.Totals.ETLFailed))
		}
		if f.Totals.Skipped > 0 {
			parts = append(parts, fmt.Sprintf("%d row(s) kept as the destination had them (conflicts: ignore)", f.Totals.Skipped))
		}
	}
	if inc := st.Incremental; inc != nil {
		msg := "incremental: " + inc.Stage
		if r := inc.Result; r != nil {
			msg += fmt.Sprintf(" at %s:%d", r.Position.File, r.Position.Pos)
			if r.Position.GTID != "" {
				msg += " (gtid " + r.Position.GTID + ")"
			}
			msg += fmt.Sprintf(", %d transaction(s), %d row change(s), %d DDL applied", r.Txns, r.Rows, r.DDL)
		}
		parts = append(parts, msg)
	}
	if st.Verify != nil {
		parts = append(parts, verifyMessage(st.Verify))
	}
	if len(parts) == 0 {
		return "precheck passed"
	}
	return "precheck passed; " + strings.Join(parts, "; ")
}

func typeNames(s spec.Spec) []string {
	out := make([]string, len(s.Types))
	for i, t := range s.Types {
		out[i] = string(t)
	}
	return out
}
