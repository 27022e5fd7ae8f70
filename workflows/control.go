package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/spec"
)

// Runtime control: sluice throttle, pause and resume are updates (the history
// records each with its caller's identity and arguments, the answer is the new
// state). The state is published as the workflow's memo ControlMemo, which a
// worker's activities read with DescribeWorkflowExecution every second
// (activities/control.go): no workflow task, no query, so it reaches running
// chunks and replication on any worker (docs/architecture.md).
const (
	ThrottleUpdate = "throttle"
	PauseUpdate    = "pause"
	ResumeUpdate   = "resume"
	ControlMemo    = "control"
)

// Control is a migration's throttle and pause.
type Control struct {
	Full        spec.ThrottleLimits `json:"full"`
	Incremental spec.ThrottleLimits `json:"incremental"`
	Paused      bool                `json:"paused"`
	// Version counts the changes (0: as the workflow file set it).
	Version int `json:"version"`
	// The last change: when, by whom, what.
	Changed   time.Time `json:"changed,omitzero"`
	ChangedBy string    `json:"changed_by,omitempty"`
	Change    string    `json:"change,omitempty"`
}

// ThrottleRequest is `sluice throttle`'s argument: a nil field keeps its limit,
// 0 lifts it.
type ThrottleRequest struct {
	FullQPS  *int     `json:"full_qps,omitempty"`
	FullRPS  *int     `json:"full_rps,omitempty"`
	FullMBPS *float64 `json:"full_mbps,omitempty"`
	IncrRPS  *int     `json:"incr_rps,omitempty"`
	IncrMBPS *float64 `json:"incr_mbps,omitempty"`
	// Who is the operator (user@host), recorded with the change.
	Who string `json:"who,omitempty"`
}

// ControlRequest is the argument of pause and resume.
type ControlRequest struct {
	Who    string `json:"who,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ControlOf is the control a migration starts with: the workflow file's limits.
func ControlOf(s spec.Spec) Control {
	return Control{Full: s.Options.Throttle.Full, Incremental: s.Options.Throttle.Incremental}
}

func (r ThrottleRequest) validate() error {
	var bad []string
	neg := func(name string, v *float64) {
		if v != nil && !(*v >= 0) { // NaN too
			bad = append(bad, name)
		}
	}
	asFloat := func(v *int) *float64 {
		if v == nil {
			return nil
		}
		f := float64(*v)
		return &f
	}
	neg("--full-qps", asFloat(r.FullQPS))
	neg("--full-rps", asFloat(r.FullRPS))
	neg("--full-mbps", r.FullMBPS)
	neg("--incr-rps", asFloat(r.IncrRPS))
	neg("--incr-mbps", r.IncrMBPS)
	if len(bad) > 0 {
		return fmt.Errorf("%s: a limit is 0 (none) or positive", strings.Join(bad, ", "))
	}
	if r.FullQPS == nil && r.FullRPS == nil && r.FullMBPS == nil && r.IncrRPS == nil && r.IncrMBPS == nil {
		return errors.New("no limit given: use --full-qps, --full-rps, --full-mbps, --incr-rps or --incr-mbps (0 lifts a limit)")
	}
	return nil
}

// apply changes c and describes the change.
func (r ThrottleRequest) apply(c *Control) string {
	var parts []string
	setInt := func(name string, dst *int, v *int) {
		if v != nil && *dst != *v {
			parts = append(parts, fmt.Sprintf("%s %s → %s", name, limitText(float64(*dst)), limitText(float64(*v))))
			*dst = *v
		}
	}
	setFloat := func(name string, dst *float64, v *float64) {
		if v != nil && *dst != *v {
			parts = append(parts, fmt.Sprintf("%s %s → %s", name, limitText(*dst), limitText(*v)))
			*dst = *v
		}
	}
	setInt("full qps", &c.Full.SourceQPS, r.FullQPS)
	setInt("full rps", &c.Full.RPS, r.FullRPS)
	setFloat("full mbps", &c.Full.MBPS, r.FullMBPS)
	setInt("incremental rps", &c.Incremental.RPS, r.IncrRPS)
	setFloat("incremental mbps", &c.Incremental.MBPS, r.IncrMBPS)
	if len(parts) == 0 {
		return "throttle unchanged"
	}
	return "throttle: " + strings.Join(parts, ", ")
}

func limitText(v float64) string {
	if v == 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// registerControl sets the throttle, pause and resume update handlers; st.Control
// is the state.
func registerControl(ctx workflow.Context, s spec.Spec, st *Status) error {
	c := ControlOf(s)
	st.Control = &c
	// Published at the start too: a run started again under the same ID must
	// not be read with the last run's memo-less fallback (a worker's watcher
	// outlives a run by a little).
	if workflow.GetVersion(ctx, "control-memo", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.UpsertMemo(ctx, map[string]any{ControlMemo: c}); err != nil {
			return err
		}
	}
	closed := func() error {
		if st.Phase == PhaseDone || st.Phase == PhaseFailed {
			return fmt.Errorf("the migration is %s: there is nothing left to control", st.Phase)
		}
		return nil
	}
	publish := func(ctx workflow.Context, who, change string) error {
		c.Version++
		c.Changed, c.ChangedBy, c.Change = workflow.Now(ctx), who, change
		workflow.GetLogger(ctx).Info("control changed", "change", change, "by", who)
		return workflow.UpsertMemo(ctx, map[string]any{ControlMemo: c})
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, ThrottleUpdate,
		func(ctx workflow.Context, r ThrottleRequest) (Control, error) {
			change := r.apply(&c)
			if err := publish(ctx, r.Who, change); err != nil {
				return c, err
			}
			return c, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(r ThrottleRequest) error {
			if err := closed(); err != nil {
				return err
			}
			return r.validate()
		}})
	if err != nil {
		return err
	}
	for _, name := range []string{PauseUpdate, ResumeUpdate} {
		pause := name == PauseUpdate
		err := workflow.SetUpdateHandlerWithOptions(ctx, name,
			func(ctx workflow.Context, r ControlRequest) (Control, error) {
				if c.Paused == pause {
					return c, nil // already so: nothing to record
				}
				c.Paused = pause
				change := "paused"
				if !pause {
					change = "resumed"
				}
				if r.Reason != "" {
					change += ": " + r.Reason
				}
				if err := publish(ctx, r.Who, change); err != nil {
					return c, err
				}
				return c, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ControlRequest) error { return closed() }})
		if err != nil {
			return err
		}
	}
	return nil
}
