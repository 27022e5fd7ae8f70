package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// fakeSchema plays the schema activities and records what was applied, in order.
type fakeSchema struct {
	plan    plan.SchemaPlan
	failOn  string // object name whose apply fails
	warnOn  string // object name whose apply returns a warning
	mu      sync.Mutex
	applied []string
	calls   int
	// inFlight and maxInFlight count concurrent apply activities per object kind.
	inFlight, maxInFlight map[plan.ObjectKind]int
}

func (f *fakeSchema) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (plan.SchemaPlan, error) {
		return f.plan, nil
	}, activity.RegisterOptions{Name: planSchemaActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, objs []plan.Object) ([]plan.ApplyResult, error) {
		kind := objs[0].Kind
		f.mu.Lock()
		if f.inFlight == nil {
			f.inFlight, f.maxInFlight = map[plan.ObjectKind]int{}, map[plan.ObjectKind]int{}
		}
		f.inFlight[kind]++
		f.maxInFlight[kind] = max(f.maxInFlight[kind], f.inFlight[kind])
		f.mu.Unlock()
		time.Sleep(time.Millisecond) // let concurrent activities overlap
		f.mu.Lock()
		defer f.mu.Unlock()
		f.inFlight[kind]--
		f.calls++
		var out []plan.ApplyResult
		for _, o := range objs {
			if f.failOn != "" && o.Name == f.failOn {
				return nil, temporal.NewNonRetryableApplicationError("apply "+o.String()+": Error 1064: CREATE VIEW ...", ErrSchemaApplyFailed, nil)
			}
			f.applied = append(f.applied, string(o.Kind)+":"+o.Name)
			r := plan.ApplyResult{Object: o, Action: "created"}
			if o.Name == f.warnOn {
				r.Warning = "procedure `db`.`p`: unqualified column `c` not renamed"
			}
			out = append(out, r)
		}
		return out, nil
	}, activity.RegisterOptions{Name: applySchemaActivity})
	// The source's triggers now: here the plan's (the real activity reads them again).
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, task string) ([]plan.ApplyResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.Has(spec.TypeIncremental) != (task != "") {
			return nil, errors.New("CreateTriggers needs the task exactly when replication ran")
		}
		var out []plan.ApplyResult
		for _, o := range f.plan.Triggers {
			f.applied = append(f.applied, string(o.Kind)+":"+o.Name)
			out = append(out, plan.ApplyResult{Object: o, Action: "created"})
		}
		return out, nil
	}, activity.RegisterOptions{Name: createTriggersActivity})
}

func obj(kind plan.ObjectKind, name string) plan.Object {
	return plan.Object{Kind: kind, Database: "db", Name: name, DestDatabase: "db", DestName: name}
}

func schemaEnv(t *testing.T, f *fakeSchema, s spec.Spec) (Result, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) {
		return precheck.Report{Items: []precheck.Item{{ID: precheck.IDSourceConnect, Status: precheck.Pass}}}, nil
	}, activity.RegisterOptions{Name: precheckActivity})
	f.register(env)
	(&fakeFull{}).registerAll(env)
	// Replication that ends at once, as a cutover would.
	(&fakeIncremental{log: &f.applied, cutAtOnce: true}).register(env)
	env.ExecuteWorkflow(Migration, s)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res Result
	err := env.GetWorkflowError()
	if err == nil {
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
	}
	return res, err
}

func richPlan() plan.SchemaPlan {
	return plan.SchemaPlan{
		Databases:   []plan.Object{{Kind: plan.KindDatabase, Database: "db", DestDatabase: "db"}},
		Tables:      []plan.Object{obj(plan.KindTable, "a"), obj(plan.KindTable, "b"), obj(plan.KindTable, "c")},
		Views:       []plan.Object{obj(plan.KindView, "v1"), obj(plan.KindView, "v2_on_v1"), obj(plan.KindView, "v3_on_v2")},
		Routines:    []plan.Object{obj(plan.KindProcedure, "p"), obj(plan.KindFunction, "f")},
		Triggers:    []plan.Object{obj(plan.KindTrigger, "trg")},
		NotMigrated: []string{"event `db`.`e`"},
	}
}

func indexOf(list []string, x string) int {
	for i, v := range list {
		if v == x {
			return i
		}
	}
	return -1
}

func TestSchemaPhaseOrder(t *testing.T) {
	f := &fakeSchema{plan: richPlan()}
	s := spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema}, Options: spec.Options{Triggers: spec.TriggersAfterCutover}}
	res, err := schemaEnv(t, f, s)
	if err != nil {
		t.Fatal(err)
	}
	a := f.applied
	if len(a) != 10 {
		t.Fatalf("applied %v", a)
	}
	// Database first; every table before any routine; routines before views (a view
	// may call a function); views in their given order; without incremental,
	// triggers last, now.
	if a[0] != "database:" {
		t.Fatalf("database not first: %v", a)
	}
	lastTable := max(indexOf(a, "table:a"), indexOf(a, "table:b"), indexOf(a, "table:c"))
	lastRoutine := max(indexOf(a, "procedure:p"), indexOf(a, "function:f"))
	if !(lastTable < min(indexOf(a, "procedure:p"), indexOf(a, "function:f")) && lastRoutine < indexOf(a, "view:v1") &&
		indexOf(a, "view:v1") < indexOf(a, "view:v2_on_v1") && indexOf(a, "view:v2_on_v1") < indexOf(a, "view:v3_on_v2") &&
		a[len(a)-1] == "trigger:trg") {
		t.Fatalf("wrong order: %v", a)
	}
	if res.Schema == nil || res.Schema.TriggersPending || res.Schema.Applied[plan.KindView] != 3 || !strings.Contains(res.Message, "not migrated: event") {
		t.Fatalf("result %+v", res)
	}
}

func TestSchemaWarningsReachTheResult(t *testing.T) {
	f := &fakeSchema{plan: richPlan(), warnOn: "p"}
	res, err := schemaEnv(t, f, spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Schema.Warnings) != 1 || !strings.Contains(res.Schema.Warnings[0], "unqualified column") || !strings.Contains(res.Message, "1 warning(s)") {
		t.Fatalf("warnings lost: %+v / %s", res.Schema.Warnings, res.Message)
	}
}

func TestTriggersWaitForCutoverWithIncremental(t *testing.T) {
	f := &fakeSchema{plan: richPlan()}
	s := spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema, spec.TypeIncremental}, Options: spec.Options{Triggers: spec.TriggersAfterCutover}}
	res, err := schemaEnv(t, f, s)
	if err != nil {
		t.Fatal(err)
	}
	if indexOf(f.applied, "trigger:trg") < indexOf(f.applied, "incremental") || res.Schema.TriggersPending || res.Incremental == nil || res.Incremental.Stage != StageCutOver {
		t.Fatalf("triggers must be created after the cutover, not before: %v %+v", f.applied, res)
	}
	// after-full creates them once the full copy is done.
	f = &fakeSchema{plan: richPlan()}
	s.Options.Triggers = spec.TriggersAfterFull
	if _, err := schemaEnv(t, f, s); err != nil || indexOf(f.applied, "trigger:trg") < 0 {
		t.Fatalf("after-full: %v %v", f.applied, err)
	}
}

func TestSchemaFailureNamesTheObjectAndStopsLaterSteps(t *testing.T) {
	f := &fakeSchema{plan: richPlan(), failOn: "v2_on_v1"}
	s := spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema}}
	_, err := schemaEnv(t, f, s)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrSchemaApplyFailed || !strings.Contains(ae.Message(), "view `db`.`v2_on_v1`") || !strings.Contains(ae.Message(), "Error 1064") {
		t.Fatalf("want the failing object and statement in the error, got %v", err)
	}
	if indexOf(f.applied, "view:v3_on_v2") >= 0 || indexOf(f.applied, "trigger:trg") >= 0 {
		t.Fatalf("steps after a failure ran: %v", f.applied)
	}
}

func TestHugeSchemaIsBatched(t *testing.T) {
	p := plan.SchemaPlan{Databases: []plan.Object{{Kind: plan.KindDatabase, Database: "db", DestDatabase: "db"}}}
	for i := range 5000 {
		p.Tables = append(p.Tables, obj(plan.KindTable, fmt.Sprintf("t%d", i)))
		p.Views = append(p.Views, obj(plan.KindView, fmt.Sprintf("v%d", i)))
		p.Triggers = append(p.Triggers, obj(plan.KindTrigger, fmt.Sprintf("trg%d", i)))
	}
	f := &fakeSchema{plan: p}
	res, err := schemaEnv(t, f, spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.applied) != 15001 || res.Schema.Applied[plan.KindTable] != 5000 || res.Schema.Applied[plan.KindTrigger] != 5000 {
		t.Fatalf("applied %d", len(f.applied))
	}
	if f.calls > 3*maxApplyActivities+1 {
		t.Fatalf("%d apply activities for 15001 objects: history would grow past Temporal's limits", f.calls)
	}
	// Views and triggers keep their order across batches.
	for _, kind := range []string{"view:v", "trigger:trg"} {
		last := -1
		for i := range 5000 {
			at := indexOf(f.applied, fmt.Sprintf("%s%d", kind, i))
			if at <= last {
				t.Fatalf("%s%d applied out of order", kind, i)
			}
			last = at
		}
	}
}

func TestTriggersAreCreatedInOrder(t *testing.T) {
	p := richPlan()
	p.Triggers = []plan.Object{obj(plan.KindTrigger, "first"), obj(plan.KindTrigger, "second"), obj(plan.KindTrigger, "third")}
	f := &fakeSchema{plan: p}
	if _, err := schemaEnv(t, f, spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema}}); err != nil {
		t.Fatal(err)
	}
	a := f.applied
	if !(indexOf(a, "trigger:first") < indexOf(a, "trigger:second") && indexOf(a, "trigger:second") < indexOf(a, "trigger:third")) {
		t.Fatalf("triggers out of firing order: %v", a)
	}
	// Triggers: one CreateTriggers activity, in order.
	if f.maxInFlight[plan.KindTrigger] > 1 || f.maxInFlight[plan.KindView] != 1 {
		t.Fatalf("triggers and views must be created one at a time: %v", f.maxInFlight)
	}
	if f.maxInFlight[plan.KindTable] < 2 {
		t.Fatalf("tables should be created in parallel: %v", f.maxInFlight)
	}
}
