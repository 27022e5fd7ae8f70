package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// loadSpec loads and validates a workflow file and prints its warnings.
func loadSpec(e *Env, file string) (*spec.Spec, error) {
	if file == "" {
		return nil, usagef("-f FILE is required (the workflow file)")
	}
	s, err := spec.Load(file)
	if err != nil {
		return nil, err
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(e.Stderr, "warning: %v\n", w)
	}
	return s, nil
}

func validateCmd() *command {
	return &command{
		name: "validate", args: "-f FILE",
		summary: "Check a workflow file without touching any server and print the resolved plan (secrets redacted).",
		example: "sluice validate -f examples/shop.yaml",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			file := fs.StringP("file", "f", "", "workflow file (YAML)")
			return func() error {
				s, err := loadSpec(e, *file)
				if err != nil {
					return err
				}
				fmt.Fprint(e.Stdout, s.Redacted())
				fmt.Fprintf(e.Stdout, "\n%s is valid. Workflow ID: %s\n", *file, s.WorkflowID())
				return nil
			}, nil
		},
	}
}

// dial connects to the Temporal frontend with the SDK's chatter silenced.
func dial(ctx context.Context, g *globals) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  g.Address,
		Namespace: g.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Temporal frontend at %s: %w\nStart a worker with an embedded server (sluice-worker --dev) or pass --address", g.Address, err)
	}
	return c, nil
}

// requireWorker fails early when no worker polls the task queue: a workflow started
// there would wait forever. A worker that just started may take a moment to poll.
func requireWorker(ctx context.Context, c client.Client, g *globals) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := c.DescribeTaskQueue(ctx, g.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return fmt.Errorf("describe task queue %q: %w", g.TaskQueue, err)
		}
		if len(resp.GetPollers()) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no sluice-worker polls task queue %q in namespace %q at %s: start one (sluice-worker --dev for a local setup) or check --task-queue", g.TaskQueue, g.Namespace, g.Address)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// launch loads and validates the workflow file, checks a worker is there, and
// starts workflowType under the ID idOf derives from the file. The caller closes c.
func launch(ctx context.Context, e *Env, g *globals, file, workflowType string, idOf func(*spec.Spec) string) (*spec.Spec, client.Client, client.WorkflowRun, error) {
	s, err := loadSpec(e, file)
	if err != nil {
		return nil, nil, nil, err
	}
	return launchSpec(ctx, g, s, workflowType, idOf(s), *s)
}

// launchSpec starts workflowType under id with input, once a worker is there.
func launchSpec(ctx context.Context, g *globals, s *spec.Spec, workflowType, id string, input any) (*spec.Spec, client.Client, client.WorkflowRun, error) {
	c, err := dial(ctx, g)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := requireWorker(ctx, c, g); err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                g.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Without it the SDK quietly returns the run that is already going.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflowType, input)
	if err != nil {
		c.Close()
		var ae *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &ae) {
			return nil, nil, nil, fmt.Errorf("workflow %s is already running: watch it with 'sluice status %s' or stop it with 'sluice stop %s'", id, id, id)
		}
		return nil, nil, nil, fmt.Errorf("start workflow %s: %w", id, err)
	}
	return s, c, run, nil
}

func precheckCmd() *command {
	return &command{
		name: "precheck", args: "-f FILE",
		summary: "Run the precheck phase alone against the live servers and print its report.",
		example: "sluice precheck -f examples/shop.yaml",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			file := fs.StringP("file", "f", "", "workflow file (YAML)")
			jsonOut := fs.Bool("json", false, "print the report as JSON")
			return func() error {
				s, c, run, err := launch(ctx, e, g, *file, workflows.PrecheckName, func(s *spec.Spec) string { return s.WorkflowID() + "-precheck" })
				if err != nil {
					return err
				}
				defer c.Close()
				id := run.GetID()
				if !*jsonOut {
					fmt.Fprintf(e.Stderr, "Precheck %s started: %s\n", id, g.workflowURL(id))
				}
				var r precheck.Report
				if err := run.Get(ctx, &r); err != nil {
					return fmt.Errorf("precheck workflow %s: %w", id, err)
				}
				if *jsonOut {
					return printJSON(e.Stdout, r)
				}
				blocking := PrintReport(e.Stdout, r, s.Options.IgnoreWarnings)
				if blocking > 0 {
					fmt.Fprintf(e.Stdout, "\nPrecheck FAILED: %d item(s) would stop the migration.\n", blocking)
					return errFailedQuietly
				}
				fmt.Fprintln(e.Stdout, "\nPrecheck passed.")
				return nil
			}, nil
		},
	}
}

func startCmd() *command {
	return &command{
		name: "start", args: "-f FILE [--follow]",
		summary: "Start the migration workflow described by a workflow file.",
		example: "sluice start -f examples/shop.yaml --follow",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			file := fs.StringP("file", "f", "", "workflow file (YAML)")
			follow := fs.Bool("follow", false, "stay and print progress until the workflow ends (Ctrl-C leaves it running)")
			return func() error {
				s, c, run, err := launch(ctx, e, g, *file, workflows.MigrationName, (*spec.Spec).WorkflowID)
				if err != nil {
					return err
				}
				defer c.Close()
				id := run.GetID()
				fmt.Fprintf(e.Stdout, "Started workflow %s\nWeb UI: %s\n", id, g.workflowURL(id))
				if !*follow {
					return nil
				}
				return followRun(ctx, e, c, id, run.GetRunID(), s.Options.IgnoreWarnings)
			}, nil
		},
	}
}

// followRun prints phase changes until the workflow ends or the user interrupts.
func followRun(ctx context.Context, e *Env, c client.Client, id, runID string, ignore []string) error {
	done := make(chan error, 1)
	go func() { done <- c.GetWorkflow(ctx, id, runID).Get(ctx, nil) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPhase := ""
	for {
		select {
		case err := <-done:
			return printOutcome(ctx, e, c, id, runID, err, ignore)
		case <-e.Interrupt:
			fmt.Fprintf(e.Stdout, "\nStopped following; the workflow keeps running. Check it with 'sluice status %s'.\n", id)
			return nil
		case <-tick.C:
			st, err := queryStatus(ctx, c, id, runID)
			if err == nil && st.Phase != lastPhase {
				fmt.Fprintf(e.Stdout, "%s  phase: %s\n", time.Now().Format("15:04:05"), st.Phase)
				lastPhase = st.Phase
			}
		}
	}
}

func queryStatus(ctx context.Context, c client.Client, id, runID string) (workflows.Status, error) {
	var st workflows.Status
	v, err := c.QueryWorkflow(ctx, id, runID, workflows.StatusQuery)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// printOutcome reports how a finished migration ended; a failed precheck prints its report.
func printOutcome(ctx context.Context, e *Env, c client.Client, id, runID string, runErr error, ignore []string) error {
	if runErr == nil {
		var res workflows.Result
		if err := c.GetWorkflow(ctx, id, runID).Get(ctx, &res); err != nil {
			return err
		}
		if res.Precheck != nil {
			PrintReport(e.Stdout, *res.Precheck, ignore)
		}
		printSchema(e.Stdout, res.Schema)
		printFull(e.Stdout, &view{statusOut: statusOut{State: "completed", Status: &res.Status}}, nil)
		fmt.Fprintf(e.Stdout, "\nWorkflow %s finished: %s\n", id, res.Message)
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(runErr, &ae) && ae.Type() == workflows.ErrPrecheckFailed {
		var r precheck.Report
		if ae.HasDetails() && ae.Details(&r) == nil {
			PrintReport(e.Stdout, r, ignore)
		}
		fmt.Fprintf(e.Stdout, "\nWorkflow %s stopped: %s\n", id, ae.Message())
		return errFailedQuietly
	}
	// The failing phase's message, without Temporal's wrapping of it.
	if errors.As(runErr, &ae) {
		return fmt.Errorf("workflow %s failed: %s", id, ae.Message())
	}
	return fmt.Errorf("workflow %s failed: %w", id, runErr)
}

func statusCmd() *command {
	return &command{
		name: "status", args: "ID [--watch] [--json]",
		summary: "Show the phase and progress of a workflow (--watch: live, refreshed every second).",
		example: "sluice status sluice-shop-demo --watch",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			jsonOut := fs.Bool("json", false, "print as JSON (with --watch: one object per line and refresh)")
			watch := fs.Bool("watch", false, "refresh every second until the workflow ends or Ctrl-C")
			every := fs.Duration("interval", time.Second, "refresh interval of --watch")
			return func() error {
				if fs.NArg() != 1 {
					return usagef("expected one workflow ID, got %d arguments", fs.NArg())
				}
				if *every < 100*time.Millisecond {
					return usagef("--interval must be at least 100ms")
				}
				id := fs.Arg(0)
				c, err := dial(ctx, g)
				if err != nil {
					return err
				}
				defer c.Close()
				if !*watch {
					v, err := gather(ctx, c, g, id)
					if err != nil {
						return err
					}
					if *jsonOut {
						return printJSON(e.Stdout, v)
					}
					render(e.Stdout, v, nil)
					return nil
				}
				return watchStatus(ctx, e, c, g, id, *jsonOut, *every)
			}, nil
		},
	}
}

type statusOut struct {
	ID     string            `json:"id"`
	Type   string            `json:"type"`
	State  string            `json:"state"`
	UI     string            `json:"ui"`
	Status *workflows.Status `json:"status,omitempty"`
	Report *precheck.Report  `json:"precheck,omitempty"`
	// Verify is a Verify workflow's report, or for a migration the report of
	// its last sluice verify (workflow <ID>-verify).
	Verify *workflows.VerifyReport `json:"verify,omitempty"`
	Error  string                  `json:"error,omitempty"`
}

// verifyReport reads a Verify workflow's report: live while it runs, its
// result once it has ended (nil: none).
func verifyReport(ctx context.Context, c client.Client, id string) (*workflows.VerifyReport, error) {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, err
	}
	var rep workflows.VerifyReport
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		q, err := c.QueryWorkflow(ctx, id, "", workflows.VerifyStatusQuery)
		if err != nil {
			return nil, err
		}
		return &rep, q.Get(&rep)
	}
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// fillClosed reads the result of a finished workflow of either type.
func fillClosed(ctx context.Context, c client.Client, id string, out *statusOut) {
	run := c.GetWorkflow(ctx, id, "")
	switch out.Type {
	case workflows.PrecheckName:
		var r precheck.Report
		if err := run.Get(ctx, &r); err != nil {
			out.Error = err.Error()
			return
		}
		out.Report = &r
	case workflows.VerifyName:
		var r workflows.VerifyReport
		if err := run.Get(ctx, &r); err != nil {
			out.Error = err.Error()
			return
		}
		out.Verify = &r
	default:
		var res workflows.Result
		err := run.Get(ctx, &res)
		if err == nil {
			out.Status = &res.Status
			out.Report = res.Precheck
			return
		}
		out.Error = err.Error()
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) {
			out.Error = ae.Message()
			var r precheck.Report
			if ae.HasDetails() && ae.Details(&r) == nil {
				out.Report = &r
			}
		}
	}
}

func stateName(s enumspb.WorkflowExecutionStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "WorkflowExecutionStatus"))
}

func listCmd() *command {
	return &command{
		name: "list", args: "[--all]",
		summary: "List sluice workflows (running ones, or all with --all).",
		example: "sluice list --all",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			all := fs.Bool("all", false, "include finished workflows")
			jsonOut := fs.Bool("json", false, "print as JSON")
			return func() error {
				c, err := dial(ctx, g)
				if err != nil {
					return err
				}
				defer c.Close()
				q := fmt.Sprintf("(WorkflowType = '%s' OR WorkflowType = '%s')", workflows.MigrationName, workflows.PrecheckName)
				if !*all {
					q += " AND ExecutionStatus = 'Running'"
				}
				type row struct {
					ID     string    `json:"id"`
					Type   string    `json:"type"`
					State  string    `json:"state"`
					Phase  string    `json:"phase,omitempty"`
					Lag    *float64  `json:"lag_seconds,omitempty"`
					Paused bool      `json:"paused,omitempty"`
					Start  time.Time `json:"start_time"`
					TaskQ  string    `json:"task_queue"`
					WebURL string    `json:"ui"`
				}
				var rows []row
				var token []byte
				for {
					resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: g.Namespace, Query: q, NextPageToken: token})
					if err != nil {
						return fmt.Errorf("list workflows: %w", err)
					}
					for _, ex := range resp.GetExecutions() {
						id := ex.GetExecution().GetWorkflowId()
						r := row{ID: id, Type: ex.GetType().GetName(), State: stateName(ex.GetStatus()),
							Start: ex.GetStartTime().AsTime(), TaskQ: ex.GetTaskQueue(), WebURL: g.workflowURL(id)}
						// A running migration's phase, pause and replication lag.
						if ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && r.Type == workflows.MigrationName {
							if st, err := queryStatus(ctx, c, id, ""); err == nil {
								r.Phase = st.Phase
								r.Paused = st.Control != nil && st.Control.Paused
								if st.Phase == workflows.PhaseIncremental {
									if p, _ := liveIncremental(ctx, c, id); p != nil {
										lag := p.LagSeconds
										r.Lag = &lag
									}
								}
							}
						}
						rows = append(rows, r)
					}
					token = resp.GetNextPageToken()
					if len(token) == 0 {
						break
					}
				}
				if *jsonOut {
					return printJSON(e.Stdout, rows)
				}
				if len(rows) == 0 {
					fmt.Fprintln(e.Stdout, "No sluice workflows. (Use --all to include finished ones.)")
					return nil
				}
				tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTYPE\tSTATE\tPHASE\tLAG\tSTARTED")
				for _, r := range rows {
					phase, lag := r.Phase, ""
					if r.Paused {
						phase += " (paused)"
					}
					if r.Lag != nil {
						lag = fmt.Sprintf("%.1fs", *r.Lag)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Type, r.State, phase, lag, r.Start.Local().Format(time.DateTime))
				}
				return tw.Flush()
			}, nil
		},
	}
}

func stopCmd() *command {
	return &command{
		name: "stop", args: "ID [--force]",
		summary: "Stop a workflow: replication ends at a consistent point and completes; other phases are cancelled at their checkpoint (--force terminates at once).",
		example: "sluice stop sluice-shop-demo",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			force := fs.Bool("force", false, "terminate instead of cancelling (no cleanup runs)")
			reason := fs.String("reason", "stopped with sluice stop", "reason recorded in the workflow history")
			return func() error {
				if fs.NArg() != 1 {
					return usagef("expected one workflow ID, got %d arguments", fs.NArg())
				}
				id := fs.Arg(0)
				c, err := dial(ctx, g)
				if err != nil {
					return err
				}
				defer c.Close()
				if !*force {
					// Replicating: end at a consistent point, fence, complete.
					if ok, err := stopIncremental(ctx, c, id, workflows.ControlRequest{Who: operator(e), Reason: *reason}); err != nil || ok {
						if ok {
							fmt.Fprintf(e.Stdout, "Stop requested for %s: replication ends at its last applied transaction and the workflow completes.\n", id)
						}
						return err
					}
				}
				if *force {
					err = c.TerminateWorkflow(ctx, id, "", *reason)
				} else {
					err = c.CancelWorkflow(ctx, id, "")
				}
				if err != nil {
					var nf *serviceerror.NotFound
					if errors.As(err, &nf) {
						return fmt.Errorf("no running workflow %s in namespace %s", id, g.Namespace)
					}
					return fmt.Errorf("stop %s: %w", id, err)
				}
				verb := "Cancellation requested for"
				if *force {
					verb = "Terminated"
				}
				fmt.Fprintf(e.Stdout, "%s workflow %s\n", verb, id)
				return nil
			}, nil
		},
	}
}

// printSchema prints what the schema phase did: counts by kind, what was not
// migrated, and every warning.
func printSchema(w io.Writer, p *workflows.SchemaProgress) {
	if p == nil {
		return
	}
	var kinds []string
	for k := range p.Planned {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	fmt.Fprintln(w, "\nSchema:")
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-10s %d of %d applied\n", k, p.Applied[plan.ObjectKind(k)], p.Planned[plan.ObjectKind(k)])
	}
	if p.TriggersPending {
		fmt.Fprintln(w, "  triggers wait for cutover (options.triggers: after-cutover)")
	}
	for _, n := range p.NotMigrated {
		fmt.Fprintf(w, "  not migrated: %s\n", n)
	}
	for _, x := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", x)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PrintReport prints a precheck report as a table with its success rate and returns
// how many items block a migration (fails, and warnings not in ignore).
func PrintReport(w io.Writer, r precheck.Report, ignore []string) int {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tITEM\tMESSAGE")
	var warns, fails int
	for _, it := range r.Items {
		st := string(it.Status)
		switch it.Status {
		case precheck.Fail:
			st, fails = "FAIL", fails+1
		case precheck.Warn:
			warns++
			for _, x := range ignore {
				if x == it.ID {
					st = "warn (ignored)"
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st, it.ID, it.Message)
		if len(it.Details) > 0 {
			tw.Flush()
		}
		for _, d := range it.Details {
			// Outside the table: a caret line must keep its spaces.
			fmt.Fprintf(w, "      %s\n", d)
		}
		if it.Status != precheck.Pass && it.Remedy != "" {
			fmt.Fprintf(tw, "\t\t-> %s\n", it.Remedy)
		}
	}
	tw.Flush()
	passed := len(r.Items) - warns - fails
	fmt.Fprintf(w, "\nSuccess rate: %.1f%% (%d of %d passed, %d warning(s), %d failure(s))\n",
		r.SuccessRate(), passed, len(r.Items), warns, fails)
	return len(r.Blocking(ignore))
}
