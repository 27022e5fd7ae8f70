package workflows

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/sluice-dev/sluice/spec"
)

func TestThrottlePauseResumeUpdates(t *testing.T) {
	f := &fakeIncremental{}
	env := incrementalEnv(f)
	s := incrementalOnly
	s.Options.Throttle.Full = spec.ThrottleLimits{RPS: 1000, SourceQPS: 50}
	type answer struct {
		c   Control
		err error
	}
	var answers []answer
	send := func(name string, arg any) {
		env.UpdateWorkflow(name, name+"-"+time.Now().String(), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { answers = append(answers, answer{err: err}) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { c, _ := v.(Control); answers = append(answers, answer{c, err}) },
		}, arg)
	}
	five, zero, half := 500, 0, 0.5
	neg := -1
	env.RegisterDelayedCallback(func() { send(ThrottleUpdate, ThrottleRequest{FullRPS: &five, IncrRPS: &five, Who: "ann@ops"}) }, 100*time.Millisecond)
	env.RegisterDelayedCallback(func() { send(ThrottleUpdate, ThrottleRequest{FullRPS: &neg}) }, 200*time.Millisecond)
	env.RegisterDelayedCallback(func() { send(ThrottleUpdate, ThrottleRequest{}) }, 300*time.Millisecond)
	env.RegisterDelayedCallback(func() { send(PauseUpdate, ControlRequest{Who: "bob@ops", Reason: "peak hour"}) }, 400*time.Millisecond)
	env.RegisterDelayedCallback(func() { send(PauseUpdate, ControlRequest{Who: "bob@ops"}) }, 500*time.Millisecond)
	env.RegisterDelayedCallback(func() {
		send(ThrottleUpdate, ThrottleRequest{FullRPS: &zero, FullMBPS: &half})
	}, 600*time.Millisecond)
	env.RegisterDelayedCallback(func() { send(ResumeUpdate, ControlRequest{Who: "ann@ops"}) }, 700*time.Millisecond)
	var st Status
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(StatusQuery)
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			t.Errorf("status query: %v", err)
		}
		env.SignalWorkflow(StopSignal, nil)
	}, time.Second)
	env.ExecuteWorkflow(Migration, s)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if len(answers) != 7 {
		t.Fatalf("answers: %+v", answers)
	}
	a := answers[0]
	if a.err != nil || a.c.Full.RPS != 500 || a.c.Full.SourceQPS != 50 || a.c.Incremental.RPS != 500 || a.c.Version != 1 ||
		a.c.ChangedBy != "ann@ops" || a.c.Change != "throttle: full rps 1000 → 500, incremental rps unlimited → 500" {
		t.Fatalf("throttle: %+v", a)
	}
	if answers[1].err == nil || !strings.Contains(answers[1].err.Error(), "--full-rps") {
		t.Fatalf("a negative limit must be refused, naming the flag: %v", answers[1].err)
	}
	if answers[2].err == nil || !strings.Contains(answers[2].err.Error(), "no limit given") {
		t.Fatalf("an empty throttle must be refused: %v", answers[2].err)
	}
	if a := answers[3]; a.err != nil || !a.c.Paused || a.c.Version != 2 || a.c.Change != "paused: peak hour" {
		t.Fatalf("pause: %+v", a)
	}
	if a := answers[4]; a.err != nil || !a.c.Paused || a.c.Version != 2 {
		t.Fatalf("a second pause changes nothing: %+v", a)
	}
	if a := answers[5]; a.err != nil || !a.c.Paused || a.c.Full.RPS != 0 || a.c.Full.MBPS != 0.5 || a.c.Version != 3 {
		t.Fatalf("throttle while paused: %+v", a)
	}
	if a := answers[6]; a.err != nil || a.c.Paused || a.c.Version != 4 || a.c.ChangedBy != "ann@ops" {
		t.Fatalf("resume: %+v", a)
	}
	if c := st.Control; c == nil || c.Version != 4 || c.Paused || c.Full.MBPS != 0.5 || c.Incremental.RPS != 500 {
		t.Fatalf("the status query shows the control in force: %+v", st.Control)
	}
}
