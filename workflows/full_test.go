package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// fakeFull plays the full-phase activities: n tables of `ranges` chunks, each chunk
// 10 rows; failOn names a "table/chunk" that fails.
type fakeFull struct {
	tables, ranges int
	failOn         string
	mu             sync.Mutex
	inFlight, peak int
	copied         map[string]int
	// indexed counts AddTableIndexes calls per table; early names a table whose
	// indexes were added before all its chunks were copied.
	indexed map[string]int
	early   []string
}

// registerAll adds StartFull and the FullCopy child to what register adds, for
// Migration tests.
func (f *fakeFull) registerAll(env *testsuite.TestWorkflowEnvironment) {
	f.register(env)
	env.RegisterWorkflowWithOptions(FullCopy, workflow.RegisterOptions{Name: FullCopyName})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, task string) (FullStart, error) {
		return FullStart{Tables: f.tables, Parallel: 2, Position: &BinlogPosition{File: "bin.000001", Pos: 4, GTID: "0-1-5"}}, nil
	}, activity.RegisterOptions{Name: startFullActivity})
}

func (f *fakeFull) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, offset, limit int) ([]plan.Object, error) {
		var out []plan.Object
		for i := offset; i < min(offset+limit, f.tables); i++ {
			out = append(out, plan.Object{Kind: plan.KindTable, Database: "db", Name: fmt.Sprintf("t%d", i), DestDatabase: "db", DestName: fmt.Sprintf("t%d", i)})
		}
		return out, nil
	}, activity.RegisterOptions{Name: fullTablesActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, t plan.Object, parallel int) (TableCopyPlan, error) {
		tp := TableCopyPlan{Table: t, EstRows: int64(10 * f.ranges)}
		for i := range f.ranges {
			tp.Ranges = append(tp.Ranges, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)))
		}
		return tp, nil
	}, activity.RegisterOptions{Name: planTableActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, in CopyRangeInput) (CopyRangeResult, error) {
		key := fmt.Sprintf("%s/%d", in.Table.Name, in.Index)
		f.mu.Lock()
		f.inFlight++
		f.peak = max(f.peak, f.inFlight)
		f.mu.Unlock()
		time.Sleep(time.Millisecond)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.inFlight--
		if key == f.failOn {
			return CopyRangeResult{}, temporal.NewNonRetryableApplicationError("copy: Error 1366: incorrect value", ErrFullCopyFailed, nil)
		}
		if f.copied == nil {
			f.copied = map[string]int{}
		}
		f.copied[key]++
		return CopyRangeResult{Rows: 10, Bytes: 100}, nil
	}, activity.RegisterOptions{Name: copyRangeActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, t plan.Object) ([]string, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := 0
		for i := range f.ranges {
			n += min(f.copied[fmt.Sprintf("%s/%d", t.Name, i)], 1)
		}
		if n != f.ranges {
			f.early = append(f.early, t.Name)
		}
		if f.indexed == nil {
			f.indexed = map[string]int{}
		}
		f.indexed[t.Name]++
		return []string{"k_1"}, nil
	}, activity.RegisterOptions{Name: addIndexesActivity})
}

func runFull(t *testing.T, f *fakeFull, in FullCopyInput) (FullTotals, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	env.RegisterWorkflowWithOptions(FullCopy, workflow.RegisterOptions{Name: FullCopyName})
	env.ExecuteWorkflow(FullCopy, in)
	var res FullTotals
	err := env.GetWorkflowError()
	if err == nil {
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
	}
	return res, err
}

func TestFullCopyBoundsParallelismAndCounts(t *testing.T) {
	f := &fakeFull{tables: 5, ranges: 6}
	res, err := runFull(t, f, FullCopyInput{Spec: spec.Spec{Name: "t"}, Parallel: 3, Total: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tables != 5 || res.Rows != 300 || len(f.copied) != 30 {
		t.Fatalf("totals %+v, %d chunks copied", res, len(f.copied))
	}
	for k, n := range f.copied {
		if n != 1 {
			t.Fatalf("chunk %s copied %d times", k, n)
		}
	}
	if len(f.indexed) != 5 || len(f.early) > 0 {
		t.Fatalf("indexes added for %v, before the last chunk for %v", f.indexed, f.early)
	}
	for k, n := range f.indexed {
		if n != 1 {
			t.Fatalf("indexes of %s added %d times", k, n)
		}
	}
	if f.peak > 3 || f.peak < 2 {
		t.Fatalf("peak chunks in flight = %d, want 2..3 (parallel 3, across tables)", f.peak)
	}
}

func TestFullCopyContinuesAsNewPastABatchOfTables(t *testing.T) {
	f := &fakeFull{tables: fullTablesPerRun + 5, ranges: 1}
	_, err := runFull(t, f, FullCopyInput{Spec: spec.Spec{Name: "t"}, Parallel: 4, Total: fullTablesPerRun + 5})
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after %d tables, got %v", fullTablesPerRun, err)
	}
	if len(f.copied) != fullTablesPerRun {
		t.Fatalf("first run copied %d chunks, want %d", len(f.copied), fullTablesPerRun)
	}
}

func TestFullCopyFailureNamesTheChunk(t *testing.T) {
	f := &fakeFull{tables: 2, ranges: 3, failOn: "t1/2"}
	_, err := runFull(t, f, FullCopyInput{Spec: spec.Spec{Name: "t"}, Parallel: 2, Total: 2})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrFullCopyFailed || !strings.Contains(ae.Message(), "`db`.`t1` chunk 3") || !strings.Contains(ae.Message(), "Error 1366") {
		t.Fatalf("got %v", err)
	}
}

func TestMigrationRunsFullAfterSchemaThenAfterFullTriggers(t *testing.T) {
	f := &fakeFull{tables: 3, ranges: 2}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) { return precheck.Report{}, nil },
		activity.RegisterOptions{Name: precheckActivity})
	sch := &fakeSchema{plan: richPlan()}
	sch.register(env)
	f.registerAll(env)
	s := spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema, spec.TypeFull}, Options: spec.Options{Triggers: spec.TriggersAfterFull}}
	env.ExecuteWorkflow(Migration, s)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Full == nil || res.Full.Totals.Rows != 60 || res.Full.Totals.Tables != 3 || res.Full.Position == nil || res.Full.Position.GTID != "0-1-5" {
		t.Fatalf("full summary %+v", res.Full)
	}
	if !strings.Contains(res.Message, "full: 3 table(s), 60 row(s) copied") || strings.Contains(res.Message, "full phase(s) are not part") {
		t.Fatalf("message: %s", res.Message)
	}
	if indexOf(sch.applied, "trigger:trg") != len(sch.applied)-1 || len(f.copied) != 6 {
		t.Fatalf("after-full triggers must come after the copy: %v, %d chunks", sch.applied, len(f.copied))
	}
}
