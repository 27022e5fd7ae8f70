package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// retryPolicy is every data activity's: Temporal retries with backoff, without
// end; the activity's retry window (options.retry, activities/retry.go) makes a
// failure final. The backoff caps at 30 s, so an attempt follows the end of an
// outage within that.
func retryPolicy(nonRetryable ...string) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: nonRetryable,
	}
}

// RetrySignal carries a RetryState from an activity that failed and is being
// retried within its window (options.retry), or that recovered (Cleared).
const RetrySignal = "retry"

// RetryState is one failing activity's outage: what fails, since when, and when
// its retry window runs out.
type RetryState struct {
	Activity string `json:"activity"`
	// WorkflowID and ActivityID name the pending activity (sluice status reads
	// its current attempt and last failure from Temporal).
	WorkflowID string `json:"workflow_id,omitempty"`
	ActivityID string `json:"activity_id,omitempty"`
	// Class: connection (options.retry.connection) or other (options.retry.other).
	Class   string    `json:"class"`
	Error   string    `json:"error,omitempty"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
	Attempt int32     `json:"attempt"`
	// Cleared: the activity succeeds again; Exhausted: the window ran out (the
	// task fails).
	Cleared   bool `json:"cleared,omitempty"`
	Exhausted bool `json:"exhausted,omitempty"`
	// Started is each class's start in this outage (Since is Class's).
	Started map[string]time.Time `json:"started,omitempty"`
}

// Retries is the status's view of failures being retried.
type Retries struct {
	// Active are the outages not over yet, one per activity.
	Active []RetryState `json:"active,omitempty"`
	// Last is the most recent failure, kept after it is over.
	Last *RetryState `json:"last,omitempty"`
	// Recovered counts outages that ended by themselves.
	Recovered int `json:"recovered,omitempty"`
}

// watchRetries keeps st.Retries from the retry signals.
func watchRetries(ctx workflow.Context, st *Status) {
	ch := workflow.GetSignalChannel(ctx, RetrySignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r RetryState
			if !ch.Receive(ctx, &r) {
				return
			}
			if st.Retries == nil {
				st.Retries = &Retries{}
			}
			rs := st.Retries
			kept := rs.Active[:0]
			for _, a := range rs.Active {
				if a.Activity != r.Activity {
					kept = append(kept, a)
				}
			}
			rs.Active = kept
			if r.Cleared {
				rs.Recovered++
				if rs.Last != nil && rs.Last.Activity == r.Activity {
					rs.Last.Cleared = true
				}
				continue
			}
			rs.Active = append(rs.Active, r)
			last := r
			rs.Last = &last
		}
	})
}
