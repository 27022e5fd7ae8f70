package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sluice-dev/sluice/workflows"
)

// throttleCmd, pauseCmd and resumeCmd send updates: the history records who
// changed what when, and the answer is the state now in force (running
// activities on every worker take it within about a second).
func throttleCmd() *command {
	return &command{
		name: "throttle", args: "ID [--full-qps N] [--full-rps N] [--full-mbps N] [--incr-rps N] [--incr-mbps N]",
		summary: "Change a running migration's limits (0 lifts a limit); running chunks and replication follow within seconds.",
		example: "sluice throttle sluice-shop-demo --full-rps 5000 --incr-rps 0",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			fullQPS := fs.Int("full-qps", 0, "full copy: SELECT statements per second on the source (task-wide)")
			fullRPS := fs.Int("full-rps", 0, "full copy: rows per second (task-wide)")
			fullMBPS := fs.Float64("full-mbps", 0, "full copy: megabytes per second (task-wide)")
			incrRPS := fs.Int("incr-rps", 0, "incremental: row changes applied per second")
			incrMBPS := fs.Float64("incr-mbps", 0, "incremental: megabytes of row images applied per second")
			return func() error {
				if fs.NArg() != 1 {
					return usagef("expected one workflow ID, got %d arguments", fs.NArg())
				}
				req := workflows.ThrottleRequest{Who: operator(e)}
				intFlag := func(name string, v *int) *int {
					if fs.Changed(name) {
						return v
					}
					return nil
				}
				floatFlag := func(name string, v *float64) *float64 {
					if fs.Changed(name) {
						return v
					}
					return nil
				}
				req.FullQPS, req.FullRPS, req.FullMBPS = intFlag("full-qps", fullQPS), intFlag("full-rps", fullRPS), floatFlag("full-mbps", fullMBPS)
				req.IncrRPS, req.IncrMBPS = intFlag("incr-rps", incrRPS), floatFlag("incr-mbps", incrMBPS)
				if req.FullQPS == nil && req.FullRPS == nil && req.FullMBPS == nil && req.IncrRPS == nil && req.IncrMBPS == nil {
					return usagef("give at least one limit: --full-qps, --full-rps, --full-mbps, --incr-rps or --incr-mbps (0 lifts it)")
				}
				return control(ctx, e, g, fs.Arg(0), workflows.ThrottleUpdate, req)
			}, nil
		},
	}
}

func pauseCmd() *command {
	return pauseResume(workflows.PauseUpdate, "Hold a running migration's full copy and replication (nothing fails; lag keeps being reported).", "sluice pause sluice-shop-demo --reason 'peak hour'")
}

func resumeCmd() *command {
	return pauseResume(workflows.ResumeUpdate, "Resume a paused migration where it stopped.", "sluice resume sluice-shop-demo")
}

func pauseResume(name, summary, example string) *command {
	return &command{
		name: name, args: "ID [--reason TEXT]", summary: summary, example: example,
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			reason := fs.String("reason", "", "why, recorded in the workflow history")
			return func() error {
				if fs.NArg() != 1 {
					return usagef("expected one workflow ID, got %d arguments", fs.NArg())
				}
				return control(ctx, e, g, fs.Arg(0), name, workflows.ControlRequest{Who: operator(e), Reason: *reason})
			}, nil
		},
	}
}

// control sends one control update and prints the state it answers.
func control(ctx context.Context, e *Env, g *globals, id, update string, arg any) error {
	c, err := dial(ctx, g)
	if err != nil {
		return err
	}
	defer c.Close()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: update, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var ctl workflows.Control
	if err == nil {
		err = h.Get(ctx, &ctl)
	}
	if err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) {
			return fmt.Errorf("%s %s: %s", update, id, ae.Message())
		}
		return fmt.Errorf("%s %s: %w (is it a running migration? 'sluice list' shows them)", update, id, err)
	}
	fmt.Fprintf(e.Stdout, "%s: %s\n", id, ctl.Change)
	printControl(e.Stdout, &ctl)
	return nil
}

// printControl prints the limits and pause in force.
func printControl(w io.Writer, c *workflows.Control) {
	if c == nil {
		return
	}
	state := "running"
	if c.Paused {
		state = "PAUSED (sluice resume continues)"
	}
	fmt.Fprintf(w, "Control:  %s; full copy %s; incremental %s\n", state, limitsText(c.Full.SourceQPS, c.Full.RPS, c.Full.MBPS), limitsText(0, c.Incremental.RPS, c.Incremental.MBPS))
	if c.Version > 0 {
		by := ""
		if c.ChangedBy != "" {
			by = " by " + c.ChangedBy
		}
		fmt.Fprintf(w, "          last change %s%s: %s\n", c.Changed.Local().Format("2006-01-02 15:04:05"), by, c.Change)
	}
}

func limitsText(qps, rps int, mbps float64) string {
	var parts []string
	if qps > 0 {
		parts = append(parts, fmt.Sprintf("%d queries/s", qps))
	}
	if rps > 0 {
		parts = append(parts, fmt.Sprintf("%d rows/s", rps))
	}
	if mbps > 0 {
		parts = append(parts, fmt.Sprintf("%g MB/s", mbps))
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, ", ")
}

// operator names who runs the CLI (recorded with a control change).
func operator(e *Env) string {
	u := e.Getenv("USER")
	if u == "" {
		u = e.Getenv("LOGNAME")
	}
	h, _ := os.Hostname()
	switch {
	case u == "" && h == "":
		return ""
	case u == "":
		return h
	case h == "":
		return u
	}
	return u + "@" + h
}
