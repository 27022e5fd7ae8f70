package activities

import (
	"context"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/throttle"
	"github.com/sluice-dev/sluice/workflows"
)

// How a throttle change reaches running activities (docs/architecture.md): the
// migration workflow publishes its control state as a memo; each worker runs one
// watcher per migration it has activities of, which reads the memo with
// DescribeWorkflowExecution every controlPoll and sets the worker's token
// buckets. A change is in force within about a second on every worker, without
// a workflow task or an activity restart (nothing is lost, nothing re-read).
//
// The full copy's limits are for the whole task: a worker's bucket gets the
// share of its chunks among all running ones (the FullCopy workflow's pending
// CopyRange activities in state started, read the same way).
const (
	controlPoll = time.Second
	// controlFirstRead bounds the wait for the first read when an activity
	// starts (a pause must hold it before its first row); past it the workflow
	// file's limits apply until Temporal answers.
	controlFirstRead = 5 * time.Second
	// controlLinger keeps a watcher (and its buckets' state) between chunks.
	controlLinger = 30 * time.Second
)

type controlWatch struct {
	id    string // the migration workflow
	child string // its FullCopy workflow: running chunks
	base  workflows.Control
	full  *throttle.TokenBucket
	incr  *throttle.TokenBucket
	ready chan struct{}

	// Guarded by Activities.ctlMu.
	fullUsers, incrUsers int
	idleSince            time.Time
	state                workflows.Control
	failing              bool
}

// What an activity is to the control watcher.
type controlUse int

const (
	useChunk       controlUse = iota // a CopyRange: counts for the full copy's share
	useReplication                   // the Incremental activity
	usePauseOnly                     // another activity that holds while paused
)

// controlled returns the limiter of one activity of migration id (child: the
// FullCopy workflow, whose running chunks share the full copy's limits) and
// its release.
func (a *Activities) controlled(ctx context.Context, id, child string, s spec.Spec, use controlUse) (*throttle.TokenBucket, func()) {
	a.ctlMu.Lock()
	if a.watches == nil {
		a.watches = map[string]*controlWatch{}
	}
	w := a.watches[id]
	if w == nil {
		base := workflows.ControlOf(s)
		w = &controlWatch{id: id, base: base, state: base, ready: make(chan struct{}),
			full: throttle.NewTokenBucket(limitsOf(base.Full)), incr: throttle.NewTokenBucket(limitsOf(base.Incremental))}
		a.watches[id] = w
		go a.watch(w)
	}
	if child != "" {
		w.child = child
	}
	b := w.incr
	switch use {
	case useChunk:
		w.fullUsers++
		b = w.full
	case useReplication:
		w.incrUsers++
	default:
		w.incrUsers++ // keeps the watcher; counts for no share
		b = w.full
	}
	a.ctlMu.Unlock()
	select {
	case <-w.ready:
	case <-ctx.Done():
	case <-time.After(controlFirstRead):
	}
	var once sync.Once
	return b, func() {
		once.Do(func() {
			a.ctlMu.Lock()
			defer a.ctlMu.Unlock()
			if use == useChunk {
				w.fullUsers--
			} else {
				w.incrUsers--
			}
			w.idleSince = time.Now()
		})
	}
}

func limitsOf(t spec.ThrottleLimits) throttle.Limits {
	return throttle.Limits{SourceQPS: float64(t.SourceQPS), RowsPerSec: float64(t.RPS), MBPerSec: t.MBPS}
}

func (l limitsScale) apply(t throttle.Limits) throttle.Limits {
	return throttle.Limits{SourceQPS: t.SourceQPS * float64(l), RowsPerSec: t.RowsPerSec * float64(l), MBPerSec: t.MBPerSec * float64(l)}
}

// limitsScale is a worker's share of a task-wide limit.
type limitsScale float64

// watch polls the control state until the watcher has been unused for
// controlLinger.
func (a *Activities) watch(w *controlWatch) {
	t := time.NewTicker(controlPoll)
	defer t.Stop()
	for {
		a.pollControl(w)
		<-t.C
		a.ctlMu.Lock()
		if w.fullUsers+w.incrUsers == 0 && time.Since(w.idleSince) > controlLinger {
			delete(a.watches, w.id)
			a.ctlMu.Unlock()
			a.Metrics.Forget(w.id, false, true)
			return
		}
		a.ctlMu.Unlock()
	}
}

func (a *Activities) pollControl(w *controlWatch) {
	read := false
	defer func() {
		// Ready once the state was read: an activity waits for it (up to
		// controlFirstRead) so a pause holds it before its first read.
		if !read {
			return
		}
		select {
		case <-w.ready:
		default:
			close(w.ready)
		}
	}()
	a.ctlMu.Lock()
	state, local, child := w.state, w.fullUsers, w.child
	a.ctlMu.Unlock()
	running := local
	read = a.Client == nil // without a client the workflow file's limits are the state
	if a.Client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), controlPoll*3)
		defer cancel()
		desc, err := a.Client.DescribeWorkflowExecution(ctx, w.id, "")
		if err == nil {
			// The current run's memo; none (a run of older code): the file's.
			state = w.base
			if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[workflows.ControlMemo]; p != nil {
				var c workflows.Control
				if err = converter.GetDefaultDataConverter().FromPayload(p, &c); err == nil {
					state = c
				}
			}
			read = err == nil
		}
		if err == nil && local > 0 && child != "" {
			// The other workers' chunks: this worker's share of the limit.
			d, derr := a.Client.DescribeWorkflowExecution(ctx, child, "")
			if derr == nil {
				n := 0
				for _, pa := range d.GetPendingActivities() {
					if pa.GetActivityType().GetName() == "CopyRange" && pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_SCHEDULED {
						n++
					}
				}
				running = max(n, local)
			}
		}
		a.ctlMu.Lock()
		if err != nil && !w.failing {
			// The last state stays in force; said once per outage.
			a.Log.Warn("cannot read the migration's throttle and pause state from Temporal; the last one stays in force",
				zap.String("workflow", w.id), zap.Error(err))
		}
		w.failing = err != nil
		a.ctlMu.Unlock()
	}
	share := limitsScale(1)
	if running > 0 && local > 0 {
		share = limitsScale(float64(local) / float64(running))
	}
	a.Metrics.Paused(w.id, state.Paused)
	setIf(w.full, share.apply(limitsOf(state.Full)), state.Paused)
	setIf(w.incr, limitsOf(state.Incremental), state.Paused)
	a.ctlMu.Lock()
	w.state = state
	a.ctlMu.Unlock()
}

// setIf changes a bucket only when its limits or pause change (a change wakes
// every waiter).
func setIf(b *throttle.TokenBucket, l throttle.Limits, paused bool) {
	if cur := b.Limits(); !sameLimits(cur, l) {
		b.SetLimits(l)
	}
	b.SetPaused(paused)
}

func sameLimits(a, b throttle.Limits) bool {
	near := func(x, y float64) bool { return x == y || (x > 0 && y > 0 && (x-y)/y < 1e-9 && (y-x)/y < 1e-9) }
	return near(a.SourceQPS, b.SourceQPS) && near(a.RowsPerSec, b.RowsPerSec) && near(a.MBPerSec, b.MBPerSec)
}

// migrationOf is the migration workflow of a FullCopy child (older inputs carry
// no Control).
func migrationOf(control, workflowID string) string {
	if control != "" {
		return control
	}
	return strings.TrimSuffix(workflowID, "-full")
}

// timed is a Limiter whose waits are counted in the metrics (and a Pager when
// its limiter is one).
type timed struct {
	*throttle.TokenBucket
	waited func(time.Duration)
}

func (t timed) Wait(ctx context.Context, rows, bytes int) error {
	start := time.Now()
	err := t.TokenBucket.Wait(ctx, rows, bytes)
	t.waited(time.Since(start))
	return err
}

// timedLimiter wraps a bucket for the metrics of task's phase.
func (a *Activities) timedLimiter(b *throttle.TokenBucket, task, phase string) throttle.Limiter {
	if a.Metrics == nil {
		return b
	}
	return timed{TokenBucket: b, waited: func(d time.Duration) { a.Metrics.Waited(task, phase, d) }}
}

// holdWhilePaused blocks while the task is paused, heartbeating detail, until
// it is resumed, ctx ends or the worker stops (another attempt then holds).
func holdWhilePaused(ctx context.Context, b *throttle.TokenBucket, detail any) error {
	for b.Paused() {
		heartbeat(ctx, detail, false)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-activity.GetWorkerStopChannel(ctx):
			return temporal.NewApplicationError("the worker is stopping while the task is paused; another attempt holds it", "WorkerStopping")
		case <-time.After(time.Second):
		}
	}
	return nil
}
