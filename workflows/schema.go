package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Activity types of the schema phase (registered by activities.Activities).
const (
	planSchemaActivity   = "PlanSchema"
	applySchemaActivity  = "ApplySchemaObjects"
	ErrSchemaApplyFailed = "SchemaApplyFailed"
)

// SchemaProgress is the schema phase's part of Status.
type SchemaProgress struct {
	Planned map[plan.ObjectKind]int `json:"planned"`
	Applied map[plan.ObjectKind]int `json:"applied"`
	// Actions counts results by action (created, exists, kept, ...).
	Actions     map[string]int `json:"actions"`
	Warnings    []string       `json:"warnings,omitempty"`
	NotMigrated []string       `json:"not_migrated,omitempty"`
	// TriggersPending is set while triggers wait for the moment options.triggers names.
	TriggersPending bool `json:"triggers_pending,omitempty"`
}

// schemaParallel bounds concurrent apply activities: DDL is cheap for sluice but each
// statement takes a metadata lock on the destination.
const schemaParallel = 8

// maxApplyActivities keeps a huge schema's history far below Temporal's limits: past
// it, objects are applied in batches (each activity still names every object it
// applies in its heartbeat and error).
const maxApplyActivities = 1000

func schemaOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         retryPolicy(),
	}
}

// schemaPhase plans the objects, then creates them in order: databases, tables,
// routines (CREATE VIEW checks that the functions it calls exist), views (dependency
// order), accounts. Triggers are returned for later.
func schemaPhase(ctx workflow.Context, s spec.Spec, st *Status) (plan.SchemaPlan, error) {
	ctx = workflow.WithActivityOptions(ctx, schemaOptions())
	var sp plan.SchemaPlan
	if err := workflow.ExecuteActivity(ctx, planSchemaActivity, s).Get(ctx, &sp); err != nil {
		return sp, fmt.Errorf("schema: plan: %w", err)
	}
	prog := &SchemaProgress{Planned: map[plan.ObjectKind]int{}, Applied: map[plan.ObjectKind]int{}, Actions: map[string]int{}, NotMigrated: sp.NotMigrated}
	for _, group := range [][]plan.Object{sp.Databases, sp.Tables, sp.Views, sp.Routines, sp.Triggers, sp.Accounts} {
		for _, o := range group {
			prog.Planned[o.Kind]++
		}
	}
	st.Schema = prog
	steps := []struct {
		objs     []plan.Object
		parallel int
	}{
		{sp.Databases, schemaParallel},
		{sp.Tables, schemaParallel},
		{sp.Routines, schemaParallel},
		{sp.Views, 1}, // in dependency order
		{sp.Accounts, schemaParallel},
	}
	for _, step := range steps {
		if err := applyObjects(ctx, s, step.objs, step.parallel, prog); err != nil {
			return sp, err
		}
	}
	return sp, nil
}

// applyObjects runs the apply activity over objs with at most parallel in flight,
// and fails with every object that failed once the in-flight ones are done.
func applyObjects(ctx workflow.Context, s spec.Spec, objs []plan.Object, parallel int, prog *SchemaProgress) error {
	if len(objs) == 0 {
		return nil
	}
	// With parallel == 1 order matters (views on views, triggers in firing order):
	// batches run one after the other and each applies its objects in order.
	batches := batch(objs, maxApplyActivities)
	sem := workflow.NewSemaphore(ctx, int64(parallel))
	wg := workflow.NewWaitGroup(ctx)
	var failures []string
	for _, b := range batches {
		if err := sem.Acquire(ctx, 1); err != nil {
			return err
		}
		if parallel == 1 && len(failures) > 0 {
			sem.Release(1)
			break
		}
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			defer sem.Release(1)
			var res []plan.ApplyResult
			if err := workflow.ExecuteActivity(ctx, applySchemaActivity, s, b).Get(ctx, &res); err != nil {
				failures = append(failures, errorText(err))
				return
			}
			for _, r := range res {
				prog.Applied[r.Object.Kind]++
				prog.Actions[r.Action]++
				if r.Warning != "" {
					prog.Warnings = append(prog.Warnings, r.Warning)
				}
			}
		})
	}
	wg.Wait(ctx)
	if len(failures) > 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("schema: %d failure(s): %s", len(failures), strings.Join(failures, "; ")), ErrSchemaApplyFailed, nil)
	}
	return nil
}

// batch splits objs into at most max groups (one object per group when it fits).
func batch(objs []plan.Object, max int) [][]plan.Object {
	size := (len(objs) + max - 1) / max
	if size < 1 {
		size = 1
	}
	var out [][]plan.Object
	for i := 0; i < len(objs); i += size {
		out = append(out, objs[i:min(i+size, len(objs))])
	}
	return out
}

// errorText is the innermost application error's message: the object and the
// statement that failed, without Temporal's wrapping.
func errorText(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	return err.Error()
}

// createTriggersActivity is activities.Activities.CreateTriggers.
const createTriggersActivity = "CreateTriggers"

// createTriggers creates the triggers kept back by schemaPhase. They are read
// from the source now, not from the schema plan: replication may have renamed
// their tables, and the source may have dropped, changed or added triggers
// since (logged, not replicated, while sluice wrote the tables).
func createTriggers(ctx workflow.Context, s spec.Spec, sp plan.SchemaPlan, st *Status) error {
	ctx = workflow.WithActivityOptions(ctx, schemaOptions())
	if workflow.GetVersion(ctx, "triggers-from-source", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		if err := applyObjects(ctx, s, sp.Triggers, 1, st.Schema); err != nil {
			return err
		}
		st.Schema.TriggersPending = false
		return nil
	}
	task := ""
	if s.Has(spec.TypeIncremental) {
		task = taskID(ctx)
	}
	var res []plan.ApplyResult
	if err := workflow.ExecuteActivity(ctx, createTriggersActivity, s, task).Get(ctx, &res); err != nil {
		return temporal.NewNonRetryableApplicationError("schema: triggers: "+errorText(err), ErrSchemaApplyFailed, nil)
	}
	for _, r := range res {
		st.Schema.Applied[r.Object.Kind]++
		st.Schema.Actions[r.Action]++
		if r.Warning != "" {
			st.Schema.Warnings = append(st.Schema.Warnings, r.Warning)
		}
	}
	st.Schema.TriggersPending = false
	return nil
}
