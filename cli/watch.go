package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/sluice-dev/sluice/workflows"
)

// view is one reading of a workflow for `sluice status`: the workflow's own
// status, and the live parts its activities report (the FullCopy child's
// per-table progress, the replication's heartbeat).
type view struct {
	statusOut
	// FullLive is the FullCopy child's progress while it runs.
	FullLive *workflows.FullStatus `json:"full_live,omitempty"`
	// IncrementalLive is the replication's last heartbeat; IncrementalRetry the
	// failure its next attempt retries.
	IncrementalLive  *workflows.IncrementalProgress `json:"incremental_live,omitempty"`
	IncrementalRetry string                         `json:"incremental_retrying,omitempty"`
	// VerifyLive is the migration's running verification (options.verify).
	VerifyLive *workflows.VerifyReport `json:"verify_live,omitempty"`
	At         time.Time               `json:"at"`
	// incRate is the replication's rows/s and transactions/s between the last
	// two heartbeats seen (kept while the heartbeat does not change).
	incRate *[2]float64
}

// gather reads everything status shows.
func gather(ctx context.Context, c client.Client, g *globals, id string) (*view, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("no workflow %s in namespace %s (list them with 'sluice list')", id, g.Namespace)
		}
		return nil, err
	}
	info := desc.GetWorkflowExecutionInfo()
	v := &view{statusOut: statusOut{ID: id, Type: info.GetType().GetName(), State: stateName(info.GetStatus()), UI: g.workflowURL(id)}, At: time.Now()}
	running := info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	switch {
	case v.Type == workflows.VerifyName:
		if rep, err := verifyReport(ctx, c, id); err == nil {
			v.Verify = rep
		} else if !running {
			fillClosed(ctx, c, id, &v.statusOut)
		}
		return v, nil
	case v.Type == workflows.MigrationName:
		// The last sluice verify of this migration, if any.
		if rep, err := verifyReport(ctx, c, id+"-verify"); err == nil {
			v.Verify = rep
		}
	}
	if !running {
		fillClosed(ctx, c, id, &v.statusOut)
		return v, nil
	}
	st, err := queryStatus(ctx, c, id, "")
	if err != nil {
		return v, nil // a workflow task not run yet: the state says enough
	}
	v.Status = &st
	liveAttempts(ctx, c, st.Retries)
	if f := st.Full; f != nil && st.Phase == workflows.PhaseFull {
		var fs workflows.FullStatus
		if q, err := c.QueryWorkflow(ctx, f.ChildID, "", workflows.FullStatusQuery); err == nil && q.Get(&fs) == nil {
			v.FullLive = &fs
		}
	}
	if st.Incremental != nil {
		v.IncrementalLive, v.IncrementalRetry = liveIncremental(ctx, c, id)
	}
	if av := st.Verify; av != nil && !av.Ended {
		var rep workflows.VerifyReport
		if q, err := c.QueryWorkflow(ctx, av.Workflow, "", workflows.VerifyStatusQuery); err == nil && q.Get(&rep) == nil {
			v.VerifyLive = &rep
		}
	}
	return v, nil
}

// liveAttempts updates each active retry's attempt from its pending activity
// (the workflow hears of an outage when it starts and changes, Temporal
// counts the attempts).
func liveAttempts(ctx context.Context, c client.Client, r *workflows.Retries) {
	if r == nil {
		return
	}
	pending := map[string][]*workflowpb.PendingActivityInfo{}
	for i := range r.Active {
		a := &r.Active[i]
		if a.WorkflowID == "" {
			continue
		}
		pas, ok := pending[a.WorkflowID]
		if !ok {
			if d, err := c.DescribeWorkflowExecution(ctx, a.WorkflowID, ""); err == nil {
				pas = d.GetPendingActivities()
			}
			pending[a.WorkflowID] = pas
		}
		for _, pa := range pas {
			if pa.GetActivityId() == a.ActivityID && pa.GetAttempt() > a.Attempt {
				a.Attempt = pa.GetAttempt()
			}
		}
	}
}

// render prints a view; prev (the last refresh of --watch) turns counts into
// rates over the interval.
func render(w io.Writer, v *view, prev *view) {
	fmt.Fprintf(w, "Workflow: %s (%s)\nState:    %s\n", v.ID, v.Type, v.State)
	st := v.Status
	if st != nil {
		fmt.Fprintf(w, "Phase:    %s\n", st.Phase)
		if st.Message != "" {
			fmt.Fprintf(w, "Message:  %s\n", st.Message)
		}
		if v.State == "running" {
			printControl(w, st.Control)
			printRetries(w, st.Retries, v.At)
		}
	}
	if v.Error != "" {
		fmt.Fprintf(w, "Error:    %s\n", v.Error)
	}
	fmt.Fprintf(w, "Web UI:   %s\n", v.UI)
	if st != nil {
		printSchema(w, st.Schema)
		printFull(w, v, prev)
		printIncremental(w, v, prev)
		printAutoVerify(w, v)
	}
	if v.Verify != nil {
		switch {
		case v.Type == workflows.VerifyName && !v.Verify.Done:
			fmt.Fprintf(w, "\n%s\n", verifyProgress(v.Verify))
		case v.Type == workflows.VerifyName:
			fmt.Fprintln(w)
			printVerify(w, *v.Verify)
		case v.Verify.Done:
			fmt.Fprintf(w, "\nLast sluice verify (workflow %s-verify), finished %s:\n", v.ID, v.Verify.Finished.Format(time.RFC3339))
			printVerify(w, *v.Verify)
		default:
			fmt.Fprintf(w, "\nsluice verify running (workflow %s-verify): %s\n", v.ID, verifyProgress(v.Verify))
		}
	}
	if v.Report != nil {
		fmt.Fprintln(w)
		PrintReport(w, *v.Report, nil)
	}
}

// verifyProgress sums a running verification up.
func verifyProgress(r *workflows.VerifyReport) string {
	if len(r.Tables) == 0 {
		return "listing tables (or waiting for replication to catch up)"
	}
	ranges, done, differ := 0, 0, 0
	var rows int64
	for _, t := range r.Tables {
		ranges += t.Chunks
		done += t.ChunksDone
		differ += t.ChunksDiffer
		rows += t.Rows
	}
	return fmt.Sprintf("%d of %d range(s) compared, %d row(s), %d range(s) differ so far", done, ranges, rows, differ)
}

// printRetries shows the failures being retried, each with its window, and the
// last one once it is over.
func printRetries(w io.Writer, r *workflows.Retries, now time.Time) {
	if r == nil {
		return
	}
	for _, a := range r.Active {
		fmt.Fprintf(w, "Retrying: %s, %s failure since %s (attempt %d); the task fails at %s (options.retry.%s) unless it recovers\n          %s\n",
			a.Activity, a.Class, a.Since.Local().Format(time.TimeOnly), a.Attempt, a.Until.Local().Format(time.DateTime), a.Class, a.Error)
	}
	if l := r.Last; l != nil && len(r.Active) == 0 {
		state := "recovered"
		if l.Exhausted {
			state = "its retry window ran out"
		}
		fmt.Fprintf(w, "Last error: %s at %s (%s, %s ago): %s\n", l.Activity, l.Since.Local().Format(time.TimeOnly), state,
			now.Sub(l.Since).Round(time.Second), l.Error)
	}
}

// printFull prints the full copy: where incremental replication will start, the
// totals, and while it runs each table's progress bar, rate and ETA.
func printFull(w io.Writer, v *view, prev *view) {
	f := v.Status.Full
	if f == nil {
		return
	}
	fmt.Fprintln(w, "\nFull copy:")
	if f.Position != nil {
		fmt.Fprintf(w, "  binlog position before the copy: %s:%d", f.Position.File, f.Position.Pos)
		if f.Position.GTID != "" {
			fmt.Fprintf(w, " (GTID %s)", f.Position.GTID)
		}
		fmt.Fprintln(w)
	}
	// While the copy runs, the totals live in the FullCopy child (the parent's are
	// set when it returns).
	t := f.Totals
	fs := v.FullLive
	if fs != nil && fs.Done.Rows >= t.Rows {
		t = fs.Done
	}
	fmt.Fprintf(w, "  %d of %d table(s) done, %d row(s), %s", t.Tables, f.Tables, t.Rows, humanBytes(t.Bytes))
	if t.Filtered > 0 {
		fmt.Fprintf(w, ", %d row(s) left out by filters", t.Filtered)
	}
	if t.ETLFailed > 0 {
		fmt.Fprintf(w, ", %d row(s) skipped on expression errors", t.ETLFailed)
	}
	if t.Skipped > 0 {
		fmt.Fprintf(w, ", %d row(s) kept as the destination had them", t.Skipped)
	}
	fmt.Fprintln(w)
	if fs == nil {
		return
	}
	before := map[string]int64{}
	if prev != nil && prev.FullLive != nil {
		for _, p := range prev.FullLive.Tables {
			before[p.Table] = p.Rows
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TABLE\tPROGRESS\tROWS\tEST.\tCHUNKS\tBYTES\tROWS/S\tETA")
	for _, p := range fs.Tables {
		rate := -1.0
		switch {
		case !p.Finished.IsZero():
			if secs := p.Finished.Sub(p.Started).Seconds(); secs > 0 {
				rate = float64(p.Rows) / secs
			}
		case prev != nil:
			// Over the last refresh: what the table does now (a throttle
			// change or a pause shows at once).
			if n, ok := before[p.Table]; ok {
				if secs := v.At.Sub(prev.At).Seconds(); secs > 0 {
					rate = float64(p.Rows-n) / secs
				}
			}
		default:
			if secs := v.At.Sub(p.Started).Seconds(); secs > 0 {
				rate = float64(p.Rows) / secs
			}
		}
		rateText, eta := "", ""
		if rate >= 0 {
			rateText = fmt.Sprintf("%.0f", rate)
		}
		if p.Finished.IsZero() && p.EstRows > p.Rows && rate > 0 {
			eta = (time.Duration(float64(p.EstRows-p.Rows)/rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d/%d\t%s\t%s\t%s\n", p.Table, bar(p), p.Rows, p.EstRows, p.ChunksDone, p.Chunks, humanBytes(p.Bytes), rateText, eta)
	}
	tw.Flush()
}

// bar is a table's progress: by rows against the estimate while it copies (the
// estimate is the server's, so it is capped below 100% until the chunks are done).
func bar(p workflows.TableProgress) string {
	const width = 20
	frac := 1.0
	if p.Finished.IsZero() {
		frac = 0
		if p.EstRows > 0 {
			frac = min(float64(p.Rows)/float64(p.EstRows), 0.99)
		} else if p.Chunks > 0 {
			frac = float64(p.ChunksDone) / float64(p.Chunks)
		}
	}
	n := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
}

func printIncremental(w io.Writer, v *view, prev *view) {
	inc := v.Status.Incremental
	if inc == nil {
		return
	}
	running := v.State == "running"
	fmt.Fprintln(w, "\nIncremental:")
	fmt.Fprintf(w, "  task %s, from %s", inc.Task, posText(inc.Start))
	if inc.SafeUntil != nil {
		fmt.Fprintf(w, ", safe mode until %s", posText(*inc.SafeUntil))
	}
	fmt.Fprintln(w)
	p := inc.Result
	if running && v.IncrementalLive != nil {
		p = v.IncrementalLive
	}
	stage := inc.Stage
	if p != nil && p.Stage != "" && running {
		stage = p.Stage
	}
	fmt.Fprintf(w, "  stage: %s\n", stage)
	if p != nil {
		fmt.Fprintf(w, "  applied: %s; %d transaction(s), %d row change(s), %d DDL\n", posText(p.Position), p.Txns, p.Rows, p.DDL)
		if p.ETLSkipped > 0 {
			fmt.Fprintf(w, "  skipped: %d change(s) on which an expression failed (options.etl.on_error: skip; see the worker log)\n", p.ETLSkipped)
		}
		if running {
			lag := fmt.Sprintf("%.1fs", p.LagSeconds)
			if p.CaughtUp {
				lag += " (caught up)"
			}
			if p.SafeMode {
				lag += ", safe mode"
			}
			fmt.Fprintf(w, "  lag: %s\n", lag)
			// Changes applied per second between heartbeats (a new attempt
			// counts from zero: no rate across it).
			if q := prev; q != nil && q.IncrementalLive != nil && p == v.IncrementalLive {
				switch {
				case p.Rows >= q.IncrementalLive.Rows && p.At.After(q.IncrementalLive.At):
					secs := p.At.Sub(q.IncrementalLive.At).Seconds()
					v.incRate = &[2]float64{float64(p.Rows-q.IncrementalLive.Rows) / secs, float64(p.Txns-q.IncrementalLive.Txns) / secs}
				case p.At.Equal(q.IncrementalLive.At):
					v.incRate = q.incRate
				}
			}
			if r := v.incRate; r != nil {
				fmt.Fprintf(w, "  rate: %.0f row change(s)/s, %.0f transaction(s)/s\n", r[0], r[1])
			}
			if p.Heartbeat != "" {
				fmt.Fprintf(w, "  heartbeat: %s\n", p.Heartbeat)
			}
		}
	}
	if inc.CutoverError != "" {
		fmt.Fprintf(w, "  last cutover: %s\n", inc.CutoverError)
	}
	if v.IncrementalRetry != "" {
		fmt.Fprintf(w, "  retrying after: %s\n", v.IncrementalRetry)
	}
}

// watchStatus refreshes the status every interval until the workflow ends or
// the user interrupts: on a terminal the screen is redrawn; otherwise (a pipe,
// a file) each refresh is printed after a time line, and with --json as one
// JSON object per line.
func watchStatus(ctx context.Context, e *Env, c client.Client, g *globals, id string, jsonOut bool, every time.Duration) error {
	tty := isTerminal(e.Stdout)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var prev *view
	for {
		v, err := gather(ctx, c, g, id)
		if err != nil {
			return err
		}
		switch {
		case jsonOut:
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "%s\n", b)
		case tty:
			var b strings.Builder
			render(&b, v, prev)
			// Home, draw, clear what the last frame left below.
			fmt.Fprint(e.Stdout, "\033[H\033[2J"+b.String())
		default:
			if prev != nil {
				fmt.Fprintln(e.Stdout)
			}
			fmt.Fprintf(e.Stdout, "--- %s ---\n", v.At.Local().Format(time.DateTime))
			render(e.Stdout, v, prev)
		}
		if v.State != "running" {
			return nil
		}
		prev = v
		select {
		case <-tick.C:
		case <-e.Interrupt:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// isTerminal reports that w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printAutoVerify shows the migration's own verification: the round running,
// and the last complete report.
func printAutoVerify(w io.Writer, v *view) {
	av := v.Status.Verify
	if av == nil {
		return
	}
	fmt.Fprintf(w, "\nVerification (options.verify, workflow %s):\n", av.Workflow)
	last := av.Report
	if live := v.VerifyLive; live != nil {
		switch {
		case live.Done:
			last = live
		case len(live.Tables) == 0:
			fmt.Fprintf(w, "  round %d: waiting for replication to catch up\n", max(live.Round, 1))
		default:
			fmt.Fprintf(w, "  round %d running: %s\n", max(live.Round, 1), verifyProgress(live))
		}
		if !live.Done && live.Last != nil {
			last = live.Last
		}
	}
	if av.Error != "" {
		fmt.Fprintf(w, "  FAILED: %s\n", av.Error)
	}
	if last == nil {
		return
	}
	fmt.Fprintf(w, "  round %d, finished %s:\n", max(last.Round, 1), last.Finished.Format(time.RFC3339))
	printVerify(w, *last)
}
