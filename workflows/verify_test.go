package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// fakeVerify stands for the verification's activities: one table of two
// ranges; the second range differs by one row in the rounds listed in differ.
type fakeVerify struct {
	mu     sync.Mutex
	ranges []VerifyRangeInput
	waits  int
	alerts []AlertEvent
	differ bool
	block  bool // the wait for replication lasts until cancelled
	tables int  // tables listed (0: one)
	whole  bool // CHECKSUM TABLE fits and agrees
}

func (f *fakeVerify) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, task string) error {
		f.mu.Lock()
		f.waits++
		f.mu.Unlock()
		if f.block {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}, activity.RegisterOptions{Name: verifyWaitActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) ([]plan.Object, error) {
		var out []plan.Object
		for i := range max(f.tables, 1) {
			name := "t"
			if i > 0 {
				name = fmt.Sprintf("t%d", i)
			}
			out = append(out, plan.Object{Kind: plan.KindTable, Database: "d", Name: name, DestDatabase: "d", DestName: name})
		}
		return out, nil
	}, activity.RegisterOptions{Name: verifyTablesActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, t plan.Object, task string) (TableChecksum, error) {
		if f.whole {
			return TableChecksum{Fits: true, Equal: true, Rows: 1234}, nil
		}
		return TableChecksum{Why: "filters or transforms"}, nil
	}, activity.RegisterOptions{Name: verifyChecksumActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, t plan.Object, rows int) (VerifyPlan, error) {
		return VerifyPlan{Table: t, Ranges: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`2`)}}, nil
	}, activity.RegisterOptions{Name: planVerifyActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, in VerifyRangeInput) (VerifyRangeResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranges = append(f.ranges, in)
		if string(in.Range) == "2" && f.differ {
			return VerifyRangeResult{Rows: 10, Different: 1, Differences: []Difference{{Kind: "different", Key: "id=7", Columns: []string{"v"}}}}, nil
		}
		return VerifyRangeResult{Rows: 10}, nil
	}, activity.RegisterOptions{Name: verifyRangeActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, ev AlertEvent) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.alerts = append(f.alerts, ev)
		return nil
	}, activity.RegisterOptions{Name: sendAlertActivity})
}

func verifyEnv(f *fakeVerify) *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	f.register(env)
	return env
}

// A continuous round: waits for replication first, compares with the
// throttle's share per range, alerts on a difference, waits the interval and
// continues as new with the round's report as Last.
func TestContinuousVerifyRound(t *testing.T) {
	f := &fakeVerify{differ: true}
	env := verifyEnv(f)
	s := spec.Spec{Name: "t", Options: spec.Options{Alerts: spec.Alerts{Webhook: "${HOOK}"}}}
	in := VerifyInput{Spec: s, Task: "m/1", Parallel: 2, RPS: 1000, WaitCaughtUp: true, Continuous: true, Interval: time.Minute, Round: 1, Migration: "m"}
	var sent []VerifyReport
	env.OnSignalExternalWorkflow(mock.Anything, "m", "", VerifyRoundSignal, mock.Anything).Return(func(_, _, _, _ string, arg any) error {
		sent = append(sent, arg.(VerifyReport))
		return nil
	})
	env.ExecuteWorkflow(Verify, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next VerifyInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Round != 2 || next.WaitCaughtUp || next.Last == nil || next.Last.Equal || next.Last.Differences != 1 || next.Last.Rows != 20 || next.Last.Round != 1 ||
		next.Last.Finished.IsZero() || next.Last.Last != nil {
		t.Fatalf("next round's input: round %d, wait %v, last %+v", next.Round, next.WaitCaughtUp, next.Last)
	}
	if f.waits != 1 || len(f.ranges) != 2 || f.ranges[0].RPS != 500 || f.ranges[0].Task != "m/1" {
		t.Fatalf("waits %d, ranges %+v", f.waits, f.ranges)
	}
	if len(sent) != 1 || sent[0].Differences != 1 || !sent[0].Done {
		t.Fatalf("the round's report to the migration: %+v", sent)
	}
	if len(f.alerts) != 1 || f.alerts[0].Event != VerifyEvent || f.alerts[0].Task != "m" || !strings.Contains(f.alerts[0].Message, "1 differing row(s) in 20 compared") {
		t.Fatalf("alerts %+v", f.alerts)
	}
}

// Cancelled (the migration cut over) while waiting for the next round, a
// continuous verification ends with its last complete report; cancelled
// mid-round, with the previous round's.
func TestContinuousVerifyCancelled(t *testing.T) {
	f := &fakeVerify{}
	env := verifyEnv(f)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Second)
	env.ExecuteWorkflow(Verify, VerifyInput{Spec: spec.Spec{Name: "t"}, Continuous: true, Interval: time.Minute, Round: 3})
	var rep VerifyReport
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("cancelled while waiting: %v", err)
	}
	if err := env.GetWorkflowResult(&rep); err != nil || !rep.Done || !rep.Equal || rep.Round != 3 || rep.Rows != 20 {
		t.Fatalf("cancelled while waiting: %+v %v", rep, err)
	}

	f = &fakeVerify{block: true}
	env = verifyEnv(f)
	prev := &VerifyReport{Name: "t", Done: true, Equal: true, Rows: 99, Round: 4}
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(Verify, VerifyInput{Spec: spec.Spec{Name: "t"}, Task: "m/1", WaitCaughtUp: true, Continuous: true, Interval: time.Minute, Round: 5, Last: prev})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("cancelled mid-round: %v", err)
	}
	if err := env.GetWorkflowResult(&rep); err != nil || rep.Rows != 99 || rep.Round != 4 {
		t.Fatalf("cancelled mid-round: the previous round's report, got %+v %v", rep, err)
	}
}

// A migration with options.verify starts its verification as a child once
// replication starts, shows it in its status, cancels it when replication
// ends and ends with its last report.
func TestMigrationRunsItsVerification(t *testing.T) {
	f := &fakeIncremental{}
	env := incrementalEnv(f)
	fv := &fakeVerify{}
	fv.register(env)
	env.RegisterWorkflow(Verify)
	s := incrementalOnly
	s.Options.Verify = spec.Verify{Continuous: true, Interval: spec.Duration(time.Second)} // the clock runs in real time while replication runs
	var st Status
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(StatusQuery)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			t.Errorf("status: %v", err)
		}
		env.SignalWorkflow(StopSignal, nil)
	}, 4*time.Second)
	env.ExecuteWorkflow(Migration, s)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if st.Verify == nil || st.Verify.Workflow != AutoVerifyID("default-test-workflow-id") {
		t.Fatalf("status while replicating: %+v", st.Verify)
	}
	if res.Verify == nil || !res.Verify.Ended || res.Verify.Report == nil || !res.Verify.Report.Equal || res.Verify.Report.Round < 2 ||
		!strings.Contains(res.Message, "verification: equal (20 row(s) compared)") {
		t.Fatalf("result: %+v / %s", res.Verify, res.Message)
	}
	if fv.waits != 1 || len(fv.ranges) < 4 || !strings.HasPrefix(fv.ranges[0].Task, "default-test-workflow-id/") {
		t.Fatalf("waits %d, ranges %d (%+v)", fv.waits, len(fv.ranges), fv.ranges)
	}
}

// A round of many tables continues as new once its activities reach
// verifyJobsPerRun, with the tables left and its report so far, and ends with
// every table in its report.
func TestVerifyContinuesAsNewWithinARound(t *testing.T) {
	defer func(n int) { verifyJobsPerRun = n }(verifyJobsPerRun)
	verifyJobsPerRun = 6
	f := &fakeVerify{tables: 3, differ: true}
	env := verifyEnv(f)
	in := VerifyInput{Spec: spec.Spec{Name: "t"}, MaxDiffs: 10}
	env.ExecuteWorkflow(Verify, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var next VerifyInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	// Three CHECKSUM TABLE activities, then two tables of two jobs each reach 6.
	if len(next.Tables) != 1 || next.Tables[0].Name != "t2" || next.Partial == nil || len(next.Partial.Tables) != 2 || next.Partial.Done {
		t.Fatalf("continued with %d table(s) %+v, partial %+v", len(next.Tables), next.Tables, next.Partial)
	}
	env = verifyEnv(f)
	env.ExecuteWorkflow(Verify, next)
	var rep VerifyReport
	if err := env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Done || rep.Equal || len(rep.Tables) != 3 || rep.Rows != 60 || rep.Differences != 3 {
		t.Fatalf("the round's report: %+v", rep)
	}
	for _, tv := range rep.Tables {
		if tv.Chunks != 2 || tv.ChunksDone != 2 || tv.ChunksDiffer != 1 || len(tv.Differences) != 1 {
			t.Errorf("table %+v", tv)
		}
	}
}

// A table CHECKSUM TABLE finds equal is done without ranges.
func TestVerifyWholeTableChecksum(t *testing.T) {
	f := &fakeVerify{tables: 2, whole: true}
	env := verifyEnv(f)
	env.ExecuteWorkflow(Verify, VerifyInput{Spec: spec.Spec{Name: "t"}})
	var rep VerifyReport
	if err := env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Equal || rep.Rows != 2468 || len(rep.Tables) != 2 || !rep.Tables[0].Whole || rep.Tables[0].Chunks != 0 || len(f.ranges) != 0 {
		t.Fatalf("report %+v, ranges %d", rep, len(f.ranges))
	}
}

func TestNaturalLess(t *testing.T) {
	keys := []string{"id=10", "id=2", "id=1, k=b", "id=1, k=a", "id=002", "name=\"b\"", "id=100000", "id=9", "id=-5", "id=-10", "id=1.5", "id=1.25"}
	sort.SliceStable(keys, func(a, b int) bool { return naturalLess(keys[a], keys[b]) })
	if got := strings.Join(keys, " | "); got != `id=-10 | id=-5 | id=1, k=a | id=1, k=b | id=1.25 | id=1.5 | id=2 | id=002 | id=9 | id=10 | id=100000 | name="b"` {
		t.Fatalf("order: %s", got)
	}
}

// The cutover waits for the migration's verification: refused before the
// verification after the full copy has reported, and while its last report
// says rows differ; --force cuts over all the same.
func TestCutoverWaitsForTheVerification(t *testing.T) {
	for _, c := range []struct {
		name   string
		fv     *fakeVerify
		force  bool
		refuse string
	}{
		{"not finished", &fakeVerify{block: true}, false, "has not finished"},
		{"differences", &fakeVerify{differ: true}, false, "found 1 differing row(s)"},
		{"forced", &fakeVerify{differ: true}, true, ""},
		{"equal", &fakeVerify{}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeIncremental{}
			env := incrementalEnv(f)
			c.fv.register(env)
			env.RegisterWorkflow(Verify)
			s := incrementalOnly
			s.Options.Verify = spec.Verify{AfterFull: true}
			var rejected, updErr error
			accepted := false
			env.RegisterDelayedCallback(func() {
				env.UpdateWorkflow(CutoverUpdate, "u1", &testsuite.TestUpdateCallback{
					OnReject:   func(err error) { rejected = err },
					OnAccept:   func() { accepted = true },
					OnComplete: func(v any, err error) { updErr = err },
				}, CutoverRequest{MaxLag: time.Second, Timeout: time.Minute, Force: c.force})
			}, 2*time.Second)
			env.RegisterDelayedCallback(func() {
				if !accepted {
					env.SignalWorkflow(StopSignal, nil)
				}
			}, 3*time.Second)
			env.ExecuteWorkflow(Migration, s)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			if c.refuse != "" {
				if rejected == nil || !strings.Contains(rejected.Error(), c.refuse) || accepted {
					t.Fatalf("want a refusal with %q, got %v (accepted %v)", c.refuse, rejected, accepted)
				}
				return
			}
			if rejected != nil || !accepted || updErr != nil {
				t.Fatalf("cutover: rejected %v, accepted %v, %v", rejected, accepted, updErr)
			}
		})
	}
}

// Without incremental, after_full compares once the copy is done and the
// migration ends with the report.
func TestFullOnlyMigrationVerifiesAfterTheCopy(t *testing.T) {
	f := &fakeFull{tables: 1, ranges: 1}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) { return precheck.Report{}, nil },
		activity.RegisterOptions{Name: precheckActivity})
	f.registerAll(env)
	fv := &fakeVerify{differ: true}
	fv.register(env)
	env.RegisterWorkflow(Verify)
	s := spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeFull}, Options: spec.Options{Verify: spec.Verify{AfterFull: true}}}
	env.ExecuteWorkflow(Migration, s)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Verify == nil || res.Verify.Report == nil || res.Verify.Report.Differences != 1 || fv.waits != 0 ||
		!strings.Contains(res.Message, "verification: 1 row(s) DIFFER") {
		t.Fatalf("result %+v: %s", res.Verify, res.Message)
	}
}

// What still differs comes before what was repaired, so --max-diffs keeps it.
func TestAddRangeKeepsWhatStillDiffersFirst(t *testing.T) {
	var tv TableVerify
	addRange(&tv, VerifyRangeResult{Ranges: 1, RangesDiffer: 1, Different: 1, RepairedRows: 2, Differences: []Difference{
		{Kind: "missing", Key: "id=1", Repaired: true}, {Kind: "extra", Key: "id=2", Repaired: true}, {Kind: "different", Key: "id=30"}}}, 2)
	if len(tv.Differences) != 2 || tv.Differences[0].Key != "id=30" || tv.Differences[1].Key != "id=1" || tv.Repaired != 2 || tv.ChunksDiffer != 1 {
		t.Fatalf("%+v", tv)
	}
}
