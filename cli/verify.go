package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/pflag"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

func verifyCmd() *command {
	return &command{
		name: "verify", args: "(ID | -f FILE) [--repair] [--output FILE] [--json] [--rps N] [--parallel N] [--no-table-checksum]",
		summary: "Compare the source and destination tables range by range (checksums, then rows); --repair rewrites what differs.",
		example: "sluice verify sluice-shop-demo --output report.json",
		run: func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error) {
			file := fs.StringP("file", "f", "", "workflow file (YAML): verify its objects between its servers")
			repair := fs.Bool("repair", false, "rewrite the differing rows from the source, then compare again")
			output := fs.String("output", "", "also write the report as JSON to this file")
			jsonOut := fs.Bool("json", false, "print the report as JSON")
			maxDiffs := fs.Int("max-diffs", workflows.DefaultMaxDiffs, "differing keys reported per table")
			chunkRows := fs.Int("chunk-rows", workflows.DefaultVerifyChunkRows, "rows per compared range")
			parallel := fs.Int("parallel", 0, "ranges compared at once (0: the file's options.full.parallel, else 4)")
			rps := fs.Int("rps", 0, "at most this many rows compared per second (0: unlimited)")
			noWhole := fs.Bool("no-table-checksum", false, "compare every table range by range, also where CHECKSUM TABLE could compare it whole")
			return func() error {
				if *maxDiffs < 1 || *chunkRows < 1 {
					return usagef("--max-diffs and --chunk-rows must be at least 1")
				}
				if *parallel < 0 || *parallel > spec.MaxFullParallel || *rps < 0 {
					return usagef("--parallel must be 0-%d and --rps at least 0", spec.MaxFullParallel)
				}
				if (*file == "") == (fs.NArg() == 0) || fs.NArg() > 1 {
					return usagef("give a migration's workflow ID or -f FILE")
				}
				var s *spec.Spec
				var id, task, migration string
				switch {
				case *file != "" && fs.NArg() == 0:
					var err error
					if s, err = loadSpec(e, *file); err != nil {
						return err
					}
					id = s.WorkflowID() + "-verify"
					// The file's migration may be replicating: then its task's
					// changes in flight are told from differences, and a repair
					// takes the source's locks (as with the migration's ID).
					if running, _ := isRunning(ctx, g, s.WorkflowID()); running {
						if _, t, err := migrationSpec(ctx, g, s.WorkflowID()); err == nil {
							migration = s.WorkflowID()
							if s.Has(spec.TypeIncremental) {
								task = t
							}
						}
					}
				case *file == "" && fs.NArg() == 1:
					var err error
					if s, task, err = migrationSpec(ctx, g, fs.Arg(0)); err != nil {
						return err
					}
					if !s.Has(spec.TypeIncremental) {
						task = "" // nothing replicates into its tables
					}
					if running, _ := isRunning(ctx, g, fs.Arg(0)); running {
						// The report reaches the migration (its cutover waits for an
						// equal one with options.verify).
						migration = fs.Arg(0)
					}
					id = fs.Arg(0) + "-verify"
				default:
					return usagef("give a migration's workflow ID or -f FILE")
				}
				in := workflows.VerifyInput{Spec: *s, Repair: *repair, MaxDiffs: *maxDiffs, ChunkRows: *chunkRows, Task: task, Parallel: *parallel, RPS: *rps, NoTableChecksum: *noWhole, Migration: migration}
				_, c, run, err := launchSpec(ctx, g, s, workflows.VerifyName, id, in)
				if err != nil {
					return err
				}
				defer c.Close()
				if !*jsonOut {
					fmt.Fprintf(e.Stderr, "Verification %s started: %s\n", id, g.workflowURL(id))
				}
				var rep workflows.VerifyReport
				if err := run.Get(ctx, &rep); err != nil {
					return fmt.Errorf("verification %s: %w", id, err)
				}
				if *output != "" {
					b, err := json.MarshalIndent(rep, "", "  ")
					if err != nil {
						return err
					}
					if err := os.WriteFile(*output, append(b, '\n'), 0o644); err != nil {
						return fmt.Errorf("--output: %w", err)
					}
				}
				if *jsonOut {
					if err := printJSON(e.Stdout, rep); err != nil {
						return err
					}
				} else {
					printVerify(e.Stdout, rep)
				}
				if !rep.Equal {
					return errFailedQuietly
				}
				return nil
			}, nil
		},
	}
}

// isRunning reports that workflow id runs.
func isRunning(ctx context.Context, g *globals, id string) (bool, error) {
	c, err := dial(ctx, g)
	if err != nil {
		return false, err
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return false, err
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// migrationSpec reads a migration's workflow file (its input) from its history,
// and names its replication task (workflows.taskID: ID/first run ID).
func migrationSpec(ctx context.Context, g *globals, id string) (*spec.Spec, string, error) {
	c, err := dial(ctx, g)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return nil, "", fmt.Errorf("no workflow %s in namespace %s (list them with 'sluice list --all')", id, g.Namespace)
	}
	ev, err := it.Next()
	if err != nil {
		return nil, "", fmt.Errorf("workflow %s: %w", id, err)
	}
	a := ev.GetWorkflowExecutionStartedEventAttributes()
	if a == nil || a.GetWorkflowType().GetName() != workflows.MigrationName {
		return nil, "", fmt.Errorf("workflow %s is not a migration: verify a migration's ID, or give -f FILE", id)
	}
	var s spec.Spec
	if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &s); err != nil {
		return nil, "", fmt.Errorf("workflow %s: read its workflow file: %w", id, err)
	}
	first := a.GetFirstExecutionRunId()
	if first == "" {
		first = a.GetOriginalExecutionRunId()
	}
	return &s, id + "/" + first, nil
}

// printVerify prints a verification report.
func printVerify(w io.Writer, rep workflows.VerifyReport) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS\tRANGES\tDIFFER\tMISSING\tEXTRA\tDIFFERENT\tREPAIRED\tHOW")
	for _, t := range rep.Tables {
		how := "checksums"
		if t.InGo {
			how = "rows (filters/transforms)"
		}
		if t.Whole {
			how = "CHECKSUM TABLE (same definitions)"
		}
		if t.Rechecks > 0 {
			how += fmt.Sprintf(", %d recheck(s) after replication caught up", t.Rechecks)
		}
		if t.Unsettled > 0 {
			how += fmt.Sprintf(", %d part(s) UNSETTLED (not told apart from changes in flight)", t.Unsettled)
		}
		if t.Failed != "" {
			how = "FAILED: " + t.Failed
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", t.Table, t.Rows, t.Chunks, t.ChunksDiffer, t.Missing, t.Extra, t.Different, t.Repaired, how)
	}
	tw.Flush()
	for _, t := range rep.Tables {
		if len(t.Differences) == 0 && len(t.Notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", t.Table)
		for _, n := range t.Notes {
			fmt.Fprintln(w, "  note: "+n)
		}
		for _, d := range t.Differences {
			line := "  " + d.Kind + " " + d.Key
			if len(d.Columns) > 0 {
				line += fmt.Sprintf(" columns %v", d.Columns)
			}
			if d.Repaired {
				line += " (repaired)"
			}
			fmt.Fprintln(w, line)
		}
	}
	switch {
	case rep.Equal && rep.Repair:
		fmt.Fprintf(w, "\nEqual after repair: %d row(s) compared.\n", rep.Rows)
	case rep.Equal:
		fmt.Fprintf(w, "\nEqual: %d row(s) compared.\n", rep.Rows)
	default:
		fmt.Fprintf(w, "\nDIFFERENT: %d row(s) differ of %d compared (run with --repair to rewrite them from the source).\n", rep.Differences, rep.Rows)
	}
}
