package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// fakeIncremental plays the incremental activities. Without a cutover the
// replication runs until cancelled; with one it completes (or times out).
type fakeIncremental struct {
	mu        sync.Mutex
	log       *[]string
	cutAtOnce bool // the first attempt ends by itself, as if cut over
	timeout   bool // cutovers time out
	// slowPrecheck, slowStart: how long the precheck and StartIncremental take.
	slowPrecheck, slowStart time.Duration
	inputs                  []IncrementalInput
	finished                []string
}

func (f *fakeIncremental) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log != nil {
		*f.log = append(*f.log, s)
	}
}

func (f *fakeIncremental) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, task string, start *BinlogPosition) (IncrementalStart, error) {
		time.Sleep(f.slowStart)
		out := IncrementalStart{Task: task, Start: BinlogPosition{File: "b.000001", Pos: 4}}
		if start != nil {
			out.Start = *start
			out.SafeUntil = &BinlogPosition{File: "b.000001", Pos: 900}
		}
		return out, nil
	}, activity.RegisterOptions{Name: startIncrementalActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, in IncrementalInput) (IncrementalProgress, error) {
		f.mu.Lock()
		f.inputs = append(f.inputs, in)
		f.mu.Unlock()
		f.note("incremental")
		if f.cutAtOnce || (in.Cutover != nil && !f.timeout) {
			return IncrementalProgress{Stage: StageCutOver, Position: BinlogPosition{File: "b.000001", Pos: 1234}, Txns: 7}, nil
		}
		if in.Cutover != nil {
			return IncrementalProgress{}, temporal.NewNonRetryableApplicationError("cutover did not complete within 1s", ErrCutoverTimeout, nil)
		}
		for ctx.Err() == nil {
			activity.RecordHeartbeat(ctx, IncrementalProgress{Stage: StageReplicating})
			time.Sleep(5 * time.Millisecond)
		}
		return IncrementalProgress{}, ctx.Err()
	}, activity.RegisterOptions{Name: incrementalActivity})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec, task, summary string) (IncrementalProgress, error) {
		f.mu.Lock()
		f.finished = append(f.finished, summary)
		f.mu.Unlock()
		f.note("finish")
		return IncrementalProgress{Stage: StageStopped, Txns: 3}, nil
	}, activity.RegisterOptions{Name: finishIncrementalActivity})
}

func incrementalEnv(f *fakeIncremental) *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) {
		time.Sleep(f.slowPrecheck)
		return precheck.Report{}, nil
	}, activity.RegisterOptions{Name: precheckActivity})
	f.register(env)
	return env
}

var incrementalOnly = spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeIncremental}}

func TestStopEndsReplicationAndFences(t *testing.T) {
	f := &fakeIncremental{}
	env := incrementalEnv(f)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(StopSignal, nil) }, 100*time.Millisecond)
	env.ExecuteWorkflow(Migration, incrementalOnly)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(f.finished) != 1 || !strings.Contains(f.finished[0], "sluice stop") {
		t.Fatalf("the task must be fenced once on stop: %v", f.finished)
	}
	if res.Incremental == nil || res.Incremental.Stage != StageStopped || !strings.HasPrefix(res.Incremental.Task, "default-test-workflow-id/") ||
		!strings.Contains(res.Message, "incremental: stopped") || !strings.Contains(res.Message, "3 transaction(s)") {
		t.Fatalf("result %+v / %s", res.Incremental, res.Message)
	}
	if len(f.inputs) != 1 || f.inputs[0].Cutover != nil || f.inputs[0].Start.Pos != 4 {
		t.Fatalf("inputs %+v", f.inputs)
	}
}

func TestCutoverRestartsReplicationInCutoverMode(t *testing.T) {
	f := &fakeIncremental{}
	env := incrementalEnv(f)
	var got IncrementalProgress
	var updErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(CutoverUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updErr = err },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				updErr = err
				if p, ok := v.(IncrementalProgress); ok {
					got = p
				}
			},
		}, CutoverRequest{MaxLag: time.Second, Timeout: time.Minute})
	}, 100*time.Millisecond)
	env.ExecuteWorkflow(Migration, incrementalOnly)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if updErr != nil || got.Stage != StageCutOver || got.Position.Pos != 1234 {
		t.Fatalf("update: %+v %v", got, updErr)
	}
	if len(f.inputs) != 2 || f.inputs[0].Cutover != nil || f.inputs[1].Cutover == nil || f.inputs[1].Cutover.MaxLag != time.Second {
		t.Fatalf("the running attempt must be replaced by one in cutover mode: %+v", f.inputs)
	}
	if len(f.finished) != 0 {
		t.Fatalf("the cutover fences in the activity, not with FinishIncremental: %v", f.finished)
	}
}

func TestCutoverTimeoutKeepsReplicating(t *testing.T) {
	f := &fakeIncremental{timeout: true}
	env := incrementalEnv(f)
	var updErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(CutoverUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updErr = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { updErr = err },
		}, CutoverRequest{MaxLag: time.Second, Timeout: time.Second})
	}, 100*time.Millisecond)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(StopSignal, nil) }, time.Second)
	env.ExecuteWorkflow(Migration, incrementalOnly)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if updErr == nil || !strings.Contains(updErr.Error(), "did not complete") {
		t.Fatalf("the update must report the timeout: %v", updErr)
	}
	// normal, cutover (timed out), normal again, then stopped.
	if len(f.inputs) != 3 || f.inputs[1].Cutover == nil || f.inputs[2].Cutover != nil || len(f.finished) != 1 {
		t.Fatalf("inputs %d %+v, finished %v", len(f.inputs), f.inputs, f.finished)
	}
}

func TestCutoverRefusedOutsideIncremental(t *testing.T) {
	f := &fakeIncremental{}
	env := incrementalEnv(f)
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(CutoverUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, CutoverRequest{MaxLag: -time.Second, Timeout: time.Minute})
		env.SignalWorkflow(StopSignal, nil)
	}, 100*time.Millisecond)
	env.ExecuteWorkflow(Migration, incrementalOnly)
	if rejected == nil || !strings.Contains(rejected.Error(), "max lag") {
		t.Fatalf("a negative max lag must be rejected: %v", rejected)
	}
}

// A cutover before replication runs is refused with the phase named (not Temporal's
// "unknown update"); one sent while replication starts waits for it and completes.
func TestCutoverEarly(t *testing.T) {
	cutover := func(f *fakeIncremental) (rejected, completed error, accepted bool) {
		env := incrementalEnv(f)
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(CutoverUpdate, "u1", &testsuite.TestUpdateCallback{
				OnReject: func(err error) { rejected = err }, OnAccept: func() { accepted = true },
				OnComplete: func(_ any, err error) { completed = err },
			}, CutoverRequest{MaxLag: time.Second, Timeout: time.Minute})
		}, 50*time.Millisecond)
		if rejected == nil {
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(StopSignal, nil) }, 2*time.Second)
		}
		env.ExecuteWorkflow(Migration, incrementalOnly)
		if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
			t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
		}
		return rejected, completed, accepted
	}
	rejected, _, accepted := cutover(&fakeIncremental{slowPrecheck: 500 * time.Millisecond})
	if accepted || rejected == nil || !strings.Contains(rejected.Error(), "the migration is in phase precheck: cutover needs the incremental phase") {
		t.Errorf("a cutover during the precheck: accepted %v, rejected with %v", accepted, rejected)
	}
	f := &fakeIncremental{slowStart: 500 * time.Millisecond}
	rejected, completed, accepted := cutover(f)
	if !accepted || rejected != nil || completed != nil {
		t.Errorf("a cutover while replication starts: accepted %v, rejected %v, completed with %v", accepted, rejected, completed)
	}
	if len(f.inputs) == 0 || f.inputs[len(f.inputs)-1].Cutover == nil {
		t.Errorf("the last attempt must run in cutover mode: %+v", f.inputs)
	}
}
