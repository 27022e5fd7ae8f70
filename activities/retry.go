package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/logging"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// Retry windows (options.retry, DTS semantics). Temporal retries a failed
// activity with backoff, without end; the window is kept by the activity: an
// outage (the first failure of a class after the last progress) travels from
// attempt to attempt as the heartbeat's second detail, and a failure past its
// window is returned non-retryable, naming the outage. Progress (a page
// committed, an epoch applied, the activity done) ends the outage.
//
// Classes: connection (network, MySQL 2002/2003/2006/2013, server shutdown,
// read-only after a failover) uses retry.connection; lock conflicts (deadlock,
// lock wait timeout) are retried in place by the copier and applier and, when
// they still escape, do not consume a window; everything else a retry may cure
// (a statement the destination refuses, a missing privilege) uses retry.other.
// Errors sluice knows a retry cannot fix are non-retryable from the start.

// Error classes of a failed attempt.
const (
	ClassConnection = "connection"
	ClassOther      = "other"
	ClassLock       = "lock"
)

// ErrRetryWindow is the ApplicationError type of a failure past its window
// (retryable errors keep their own types).
const ErrRetryWindow = "RetryWindowExhausted"

// attempt is one activity attempt's view of the retry window.
type attempt struct {
	a    *Activities
	ctx  context.Context
	spec spec.Spec
	// migration receives the retry signals ("" = none: not a migration).
	migration string

	mu       sync.Mutex
	progress any                   // the activity's own heartbeat detail
	outage   *workflows.RetryState // carried until progress
}

// newAttempt reads the outage the previous attempts left in the heartbeat, and
// their progress detail (kept as it is until this attempt records its own, so a
// failure before any progress does not erase a cursor).
func (a *Activities) newAttempt(ctx context.Context, s spec.Spec, migration string) *attempt {
	at := &attempt{a: a, ctx: ctx, spec: s, migration: migration}
	if activity.HasHeartbeatDetails(ctx) {
		var raw converter.RawValue
		var o *workflows.RetryState
		if err := activity.GetHeartbeatDetails(ctx, &raw, &o); err == nil {
			if raw.Payload() != nil {
				at.progress = raw
			}
			if o != nil && !o.Cleared {
				at.outage = o
			}
		}
	}
	return at
}

type attemptKey struct{}

// attemptIn is the interceptor's attempt of ctx's activity (nil outside a worker).
func attemptIn(ctx context.Context) *attempt {
	at, _ := ctx.Value(attemptKey{}).(*attempt)
	return at
}

// heartbeat records an activity's progress detail through the attempt the
// interceptor started (the outage rides along); advanced: the activity made
// progress, which ends an outage.
func heartbeat(ctx context.Context, progress any, advanced bool) {
	if at := attemptIn(ctx); at != nil {
		at.beat(progress, advanced)
		return
	}
	activity.RecordHeartbeat(ctx, progress)
}

// Interceptor applies the retry windows to every activity of a's worker
// (worker.Options.Interceptors): the attempt wraps the activity's error. (A
// function, not a method: every exported method of Activities is an activity.)
func Interceptor(a *Activities) interceptor.WorkerInterceptor { return &windows{a: a} }

type windows struct {
	interceptor.WorkerInterceptorBase
	a *Activities
}

func (w *windows) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &windowed{a: w.a}
	i.Next = next
	return i
}

type windowed struct {
	interceptor.ActivityInboundInterceptorBase
	a *Activities
}

func (i *windowed) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	var s *spec.Spec
	for _, arg := range in.Args {
		switch v := arg.(type) {
		case spec.Spec:
			s = &v
		case workflows.IncrementalInput:
			s = &v.Spec
		}
		if s != nil {
			break
		}
	}
	// The precheck reports unreachable servers as items, an alert is best
	// effort: no window.
	if s == nil || info.ActivityType.Name == "Precheck" || info.ActivityType.Name == "SendAlert" {
		return i.Next.ExecuteActivity(ctx, in)
	}
	migration := ""
	switch info.WorkflowType.Name {
	case workflows.MigrationName:
		migration = info.WorkflowExecution.ID
	case workflows.FullCopyName:
		migration = migrationOf("", info.WorkflowExecution.ID)
	}
	at := i.a.newAttempt(ctx, *s, migration)
	res, err := i.Next.ExecuteActivity(context.WithValue(ctx, attemptKey{}, at), in)
	return res, at.fail(err)
}

// beat records the activity's progress detail; advanced: it made progress, which
// ends an outage.
func (at *attempt) beat(progress any, advanced bool) {
	at.mu.Lock()
	at.progress = progress
	var ended *workflows.RetryState
	if advanced && at.outage != nil {
		ended = at.outage
		at.outage = nil
	}
	o := at.outage
	at.mu.Unlock()
	activity.RecordHeartbeat(at.ctx, progress, o)
	if ended != nil {
		c := *ended
		c.Cleared = true
		c.Error = ""
		at.a.Log.Info("recovered: the operation succeeds again", zap.String("activity", c.Activity), zap.String("class", c.Class),
			zap.Duration("after", time.Since(c.Since).Round(time.Second)))
		at.signal(c)
	}
}

// last is the last progress detail recorded.
func (at *attempt) last() any {
	at.mu.Lock()
	defer at.mu.Unlock()
	return at.progress
}

// done ends an outage of a successful attempt.
func (at *attempt) done() {
	at.mu.Lock()
	o := at.outage
	at.outage = nil
	at.mu.Unlock()
	if o != nil {
		c := *o
		c.Cleared, c.Error = true, ""
		at.signal(c)
	}
}

// classOf tells the retry class of an error (after classify); ok=false: not
// retryable at all, or not a failure of the servers (a cancellation, a worker
// stopping), which no window limits.
func classOf(err error) (string, bool) {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return ClassOther, true
	}
	if ae.NonRetryable() {
		return "", false
	}
	switch ae.Type() {
	case "Connection":
		return ClassConnection, true
	case "LockConflict":
		// One that escaped the copier's and applier's in-place retries: it
		// persists, and is bounded like any other failure.
		return ClassOther, true
	case "Canceled", "WorkerStopping":
		return "", false
	}
	return ClassOther, true
}

// fail turns an attempt's error (already classified) into what Temporal gets:
// within the window a retryable error (the outage recorded in the heartbeat
// and signalled to the migration), past it a non-retryable one naming the
// outage.
func (at *attempt) fail(err error) error {
	if err == nil {
		at.done()
		return nil
	}
	if at.ctx.Err() != nil {
		return err // cancelled: not a failure of the servers
	}
	class, ok := classOf(err)
	var ae *temporal.ApplicationError
	if !ok && errors.As(err, &ae) && ae.Type() == "Canceled" {
		// A context of the activity's own code ran out (a statement's
		// timeout), not the attempt's: a failure like any other.
		class, ok = ClassOther, true
	}
	if !ok {
		return err
	}
	at.a.Metrics.Retried(at.migration, class)
	if _, final := at.record(class, time.Time{}, logging.Redact(errText(err))); final != nil {
		return final
	}
	return err
}

// down records an outage the activity rides out itself (the binlog reader
// reconnecting): the same window, the same status; a non-nil error when the
// window ran out (the activity must fail with it).
func (at *attempt) down(class string, since time.Time, cause error) error {
	fresh, final := at.record(class, since, logging.Redact(errText(cause)))
	if fresh {
		at.a.Metrics.Retried(at.migration, class)
	}
	return final
}

// record notes a failure of class (since: when it started, zero = now) in the
// outage, heartbeats and signals it, and returns the final error once the
// window ran out.
func (at *attempt) record(class string, since time.Time, msg string) (fresh bool, final error) {
	info := activity.GetInfo(at.ctx)
	now := time.Now()
	if since.IsZero() {
		since = now
	}
	window := at.spec.Options.Retry.Other.D()
	if class == ClassConnection {
		window = at.spec.Options.Retry.Connection.D()
	}
	if window <= 0 {
		window = spec.DefaultRetryOther.D()
		if class == ClassConnection {
			window = spec.DefaultRetryConnection.D()
		}
	}
	at.mu.Lock()
	o := at.outage
	fresh = o == nil || o.Class != class
	if o == nil {
		o = &workflows.RetryState{}
	}
	// Each class keeps its own start for the whole outage: failures that
	// alternate between classes do not restart either window.
	if o.Started == nil {
		o.Started = map[string]time.Time{}
		if o.Class != "" && !o.Since.IsZero() {
			o.Started[o.Class] = o.Since
		}
	}
	if _, ok := o.Started[class]; !ok {
		o.Started[class] = since
	}
	o.Class, o.Since = class, o.Started[class]
	o.Activity = activityName(info)
	o.WorkflowID, o.ActivityID = info.WorkflowExecution.ID, info.ActivityID
	o.Until = o.Since.Add(window)
	// Signalled when it starts, changes, or its attempt count grows by a
	// power of two (the status reads the live attempt from Temporal).
	changed := fresh || o.Error != msg || (o.Attempt > 0 && info.Attempt >= 2*o.Attempt)
	if changed {
		o.Attempt = info.Attempt
	}
	o.Error = msg
	at.outage = o
	progress := at.progress
	at.mu.Unlock()

	if now.After(o.Until) {
		what := "failing"
		if class == ClassConnection {
			what = "connection lost"
		}
		final := fmt.Sprintf("%s since %s (%s, %d attempts), longer than options.retry.%s (%s): %s",
			what, o.Since.UTC().Format(time.RFC3339), now.Sub(o.Since).Round(time.Second), info.Attempt, class, window, msg)
		at.a.Log.Error("retry window exhausted: the task fails", zap.String("activity", o.Activity), zap.String("class", class), zap.String("error", msg))
		e := *o
		e.Exhausted = true
		at.signal(e)
		return fresh, temporal.NewNonRetryableApplicationError(final, ErrRetryWindow, nil)
	}
	// The next attempt reads the outage from the last heartbeat (flushed with
	// a failure).
	activity.RecordHeartbeat(at.ctx, progress, o)
	if changed {
		at.a.Log.Warn("failing; retrying within the window", zap.String("activity", o.Activity), zap.String("class", class),
			zap.Int32("attempt", info.Attempt), zap.Time("window_ends", o.Until), zap.String("error", msg))
		at.signal(*o)
	}
	return fresh, nil
}

// signal tells the migration workflow (best effort: the status shows it, the
// data path never waits for it beyond a few seconds).
func (at *attempt) signal(r workflows.RetryState) {
	if at.a.Client == nil || at.migration == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := at.a.Client.SignalWorkflow(ctx, at.migration, "", workflows.RetrySignal, r); err != nil {
		at.a.Log.Debug("retry signal not delivered", zap.String("workflow", at.migration), zap.Error(err))
	}
}

// activityName names an attempt's activity in the status: its type and, for a
// chunk, which.
func activityName(info activity.Info) string {
	return info.ActivityType.Name + " " + info.ActivityID + " of " + info.WorkflowExecution.ID
}

// errText is an error's message without Go's wrapping of ApplicationErrors.
func errText(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && err == error(ae) {
		return ae.Message()
	}
	return err.Error()
}
