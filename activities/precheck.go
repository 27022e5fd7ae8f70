package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// ErrWorkerStopping is the error type of an attempt cut short by a worker shutdown;
// the retry policy hands the work to another (or the restarted) worker.
const ErrWorkerStopping = "WorkerStopping"

// runPrecheck is inspect.Precheck; a variable so tests can slow it down.
var runPrecheck = inspect.Precheck

// Precheck inspects both servers and returns the report. Unreachable servers and
// missing privileges are report items, not activity errors, so the user sees them all
// at once.
func (a *Activities) Precheck(ctx context.Context, s spec.Spec) (precheck.Report, error) {
	a.registerSecrets(s)
	log := a.Log.With(zap.String("workflow", activity.GetInfo(ctx).WorkflowExecution.ID))
	log.Info("precheck started", zap.String("source", s.Source.Address()), zap.String("destination", s.Destination.Address()))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	step := "connect"
	done := make(chan precheck.Report, 1)
	go func() {
		done <- runPrecheck(ctx, s, a.LookupEnv, func(st string) {
			mu.Lock()
			step = st
			mu.Unlock()
			activity.RecordHeartbeat(ctx, st)
		})
	}()
	// Heartbeat on a clock too: one step (information_schema on a server with many
	// tables) can outlast the heartbeat timeout, and cancellation only arrives with a
	// heartbeat response. The SDK throttles the sends.
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	current := func() string {
		mu.Lock()
		defer mu.Unlock()
		return step
	}
	for {
		select {
		case <-tick.C:
			activity.RecordHeartbeat(ctx, current())
			continue
		case r := <-done:
			log.Info("precheck finished", zap.Int("items", len(r.Items)), zap.Float64("success_rate", r.SuccessRate()))
			return r, ctx.Err()
		case <-activity.GetWorkerStopChannel(ctx):
			// Record where we were, then give the attempt back: a precheck is cheap to redo.
			at := current()
			activity.RecordHeartbeat(ctx, at)
			log.Info("worker stopping: precheck attempt handed back", zap.String("step", at))
			cancel()
			return precheck.Report{}, temporal.NewApplicationError("worker stopping during precheck step "+at, ErrWorkerStopping)
		}
	}
}

// heartbeatEvery keeps well inside the workflow's one-minute heartbeat timeout.
const heartbeatEvery = 10 * time.Second

// registerSecrets hands the expanded passwords to the log redactor before any code
// that could log them runs.
func (a *Activities) registerSecrets(s spec.Spec) {
	if a.OnSecret == nil {
		return
	}
	for _, ep := range []spec.Endpoint{s.Source, s.Destination} {
		if pw, err := dbconn.Password(ep, a.LookupEnv); err == nil && pw != "" {
			a.OnSecret(pw)
		}
	}
}
