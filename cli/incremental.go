package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/sluice-dev/sluice/workflows"
)

// liveIncremental reads the Incremental activity's last heartbeat: the
// replication's live position and lag (the workflow itself only knows when an
// attempt starts and ends).
func liveIncremental(ctx context.Context, c client.Client, id string) (*workflows.IncrementalProgress, string) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, ""
	}
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetActivityType().GetName() != "Incremental" {
			continue
		}
		lastErr := pa.GetLastFailure().GetMessage()
		d := pa.GetHeartbeatDetails()
		if d == nil || len(d.GetPayloads()) == 0 {
			return nil, lastErr
		}
		var p workflows.IncrementalProgress
		if err := converter.GetDefaultDataConverter().FromPayloads(d, &p); err != nil {
			return nil, lastErr
		}
		return &p, lastErr
	}
	return nil, ""
}

func cutoverCmd() *command {
	return &command{
		name: "cutover", args: "ID [--max-lag 1s] [--timeout 10m]",
		summary: "Switch over: wait until lag <= max-lag, tell you to stop writes, apply the last changes, fence the destination and complete.",
		example: "sluice cutover sluice-shop-demo --max-lag 1s --timeout 10m",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			maxLag := fs.Duration("max-lag", time.Second, "writes may stop once the lag is at most this")
			timeout := fs.Duration("timeout", 10*time.Minute, "give up (replication goes on) after this long")
			force := fs.Bool("force", false, "cut over even if the migration's verification (options.verify) has not finished or found differences")
			return func() error {
				if fs.NArg() != 1 {
					return usagef("expected one workflow ID, got %d arguments", fs.NArg())
				}
				if *maxLag < 0 || *timeout <= 0 {
					return usagef("--max-lag must be >= 0 and --timeout > 0")
				}
				id := fs.Arg(0)
				c, err := dial(ctx, g)
				if err != nil {
					return err
				}
				defer c.Close()
				h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
					WorkflowID: id, UpdateName: workflows.CutoverUpdate,
					Args:         []any{workflows.CutoverRequest{MaxLag: *maxLag, Timeout: *timeout, Force: *force}},
					WaitForStage: client.WorkflowUpdateStageAccepted,
				})
				if err != nil {
					return fmt.Errorf("cutover %s: %w", id, err)
				}
				fmt.Fprintf(e.Stdout, "Cutover of %s started (max lag %s, timeout %s).\n", id, *maxLag, *timeout)
				done := make(chan error, 1)
				var res workflows.IncrementalProgress
				go func() { done <- h.Get(ctx, &res) }()
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				last := ""
				for {
					select {
					case err := <-done:
						if err != nil {
							return fmt.Errorf("cutover of %s did not complete: %w", id, err)
						}
						fmt.Fprintf(e.Stdout, "Cut over at %s:%d", res.Position.File, res.Position.Pos)
						if res.Position.GTID != "" {
							fmt.Fprintf(e.Stdout, " (gtid %s)", res.Position.GTID)
						}
						fmt.Fprintf(e.Stdout, ": %d transaction(s), %d row change(s) replicated. The destination is fenced: sluice writes nothing more to it.\n", res.Txns, res.Rows)
						// Deferred triggers are created after the cutover, before the
						// workflow completes: switch only then.
						if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
							return fmt.Errorf("%s: after the cutover: %w", id, err)
						}
						fmt.Fprintln(e.Stdout, "The migration is complete. Switch your application to the destination.")
						return nil
					case <-e.Interrupt:
						fmt.Fprintf(e.Stdout, "\nStopped waiting; the cutover goes on. Check it with 'sluice status %s'.\n", id)
						return nil
					case <-tick.C:
						p, _ := liveIncremental(ctx, c, id)
						if p == nil || p.Stage == last {
							continue
						}
						prev := last
						last = p.Stage
						switch {
						case p.Stage == workflows.StageDraining && prev == workflows.StageStopWrites:
							fmt.Fprintf(e.Stdout, "%s  the source is quiet; applying the last changes\n", time.Now().Format("15:04:05"))
						case p.Stage == workflows.StageStopWrites || p.Stage == workflows.StageDraining:
							fmt.Fprintf(e.Stdout, "%s  lag %.1fs <= %s: STOP WRITES ON THE SOURCE NOW. sluice waits until the migrated tables stay unchanged for 2s and everything is applied.\n", time.Now().Format("15:04:05"), p.LagSeconds, *maxLag)
						default:
							fmt.Fprintf(e.Stdout, "%s  %s (lag %.1fs)\n", time.Now().Format("15:04:05"), p.Stage, p.LagSeconds)
						}
					}
				}
			}, nil
		},
	}
}

// stopIncremental sends the stop signal when the workflow replicates: it ends at
// a consistent point and completes. ok=false: not in the incremental phase.
func stopIncremental(ctx context.Context, c client.Client, id string, req workflows.ControlRequest) (bool, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, nil
	}
	st, err := queryStatus(ctx, c, id, "")
	if err != nil || st.Phase != workflows.PhaseIncremental {
		return false, nil
	}
	// Who and why ride in the signal: the history records them.
	if err := c.SignalWorkflow(ctx, id, "", workflows.StopSignal, req); err != nil {
		return false, fmt.Errorf("stop %s: %w", id, err)
	}
	return true, nil
}

// posText shows a binlog position: file:pos, the GTID position, or both.
func posText(p workflows.BinlogPosition) string {
	switch {
	case p.File == "":
		return "gtid " + p.GTID
	case p.GTID == "":
		return fmt.Sprintf("%s:%d", p.File, p.Pos)
	}
	return fmt.Sprintf("%s:%d (gtid %s)", p.File, p.Pos, p.GTID)
}
