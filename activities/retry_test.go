package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// The window of each class, carried from attempt to attempt: within it a
// retryable error and the outage in the heartbeat; past it a non-retryable
// error naming the outage; each class keeps its own start when failures
// alternate; progress ends the outage.
func TestRetryWindows(t *testing.T) {
	var s spec.Spec
	s.Options.Retry = spec.Retry{Connection: spec.Duration(30 * time.Minute), Other: spec.Duration(5 * time.Minute)}
	connErr := classify(fmt.Errorf("read page: %w", &mysql.MySQLError{Number: 2013, Message: "Lost connection to server during query"}))
	otherErr := classify(fmt.Errorf("apply: %w", &mysql.MySQLError{Number: 1142, Message: "INSERT command denied"}))
	lockErr := classify(fmt.Errorf("apply: %w", &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}))
	now := time.Now()
	for _, c := range []struct {
		name      string
		prev      *workflows.RetryState
		progress  bool
		err       error
		final     bool
		wantSince time.Time // zero: now
		wantClass string
	}{
		{name: "first connection failure", err: connErr, wantClass: ClassConnection},
		{name: "connection, within the window", prev: &workflows.RetryState{Class: ClassConnection, Since: now.Add(-29 * time.Minute)}, err: connErr,
			wantSince: now.Add(-29 * time.Minute), wantClass: ClassConnection},
		{name: "connection, past the window", prev: &workflows.RetryState{Class: ClassConnection, Since: now.Add(-31 * time.Minute)}, err: connErr, final: true},
		{name: "other after a connection outage starts its own window", prev: &workflows.RetryState{Class: ClassConnection, Since: now.Add(-20 * time.Minute)},
			err: otherErr, wantClass: ClassOther},
		{name: "other, past its window", prev: &workflows.RetryState{Class: ClassOther, Since: now.Add(-6 * time.Minute)}, err: otherErr, final: true},
		{name: "an escaped lock conflict is an other failure", err: lockErr, wantClass: ClassOther},
		{name: "classes alternating keep their own starts", prev: &workflows.RetryState{Class: ClassOther, Since: now.Add(-time.Minute),
			Started: map[string]time.Time{ClassConnection: now.Add(-31 * time.Minute), ClassOther: now.Add(-time.Minute)}}, err: connErr, final: true},
		{name: "progress ends the outage", prev: &workflows.RetryState{Class: ClassConnection, Since: now.Add(-31 * time.Minute)}, progress: true,
			err: connErr, wantClass: ClassConnection},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestActivityEnvironment()
			var mu sync.Mutex
			var beats []converter.EncodedValues
			env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
				mu.Lock()
				beats = append(beats, d)
				mu.Unlock()
			})
			a := &Activities{Log: zap.NewNop()}
			env.RegisterActivityWithOptions(func(ctx context.Context) error {
				at := a.newAttempt(ctx, s, "")
				at.outage = c.prev
				at.progress = "cursor 42"
				if c.progress {
					at.beat("cursor 43", true)
				}
				return at.fail(c.err)
			}, activity.RegisterOptions{Name: "Flaky"})
			_, err := env.ExecuteActivity("Flaky")
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v", err)
			}
			if c.final {
				if !ae.NonRetryable() || ae.Type() != ErrRetryWindow || !strings.Contains(ae.Message(), "longer than options.retry.") {
					t.Fatalf("past the window: %v (type %s, non-retryable %v)", ae.Message(), ae.Type(), ae.NonRetryable())
				}
				if c.err == connErr && !strings.Contains(ae.Message(), "connection lost since") {
					t.Errorf("a connection outage is named: %s", ae.Message())
				}
				return
			}
			if ae.NonRetryable() {
				t.Fatalf("within the window the error is retryable: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(beats) == 0 {
				t.Fatal("no heartbeat recorded")
			}
			var progress string
			var o *workflows.RetryState
			if err := beats[len(beats)-1].Get(&progress, &o); err != nil {
				t.Fatal(err)
			}
			wantProgress := "cursor 42"
			if c.progress {
				wantProgress = "cursor 43"
			}
			if progress != wantProgress {
				t.Errorf("the progress detail is kept: %q, want %q", progress, wantProgress)
			}
			want := c.wantSince
			if want.IsZero() {
				want = time.Now()
			}
			if o == nil || o.Class != c.wantClass || o.Since.Sub(want).Abs() > 5*time.Second || o.Error == "" {
				t.Fatalf("outage %+v, want class %s since %v", o, c.wantClass, want)
			}
			window := 30 * time.Minute
			if c.wantClass == ClassOther {
				window = 5 * time.Minute
			}
			if !o.Until.Equal(o.Since.Add(window)) {
				t.Errorf("window ends %v, want %v", o.Until, o.Since.Add(window))
			}
		})
	}
}
