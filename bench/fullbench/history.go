package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// activityRun is one activity execution read back from Temporal's history.
type activityRun struct {
	Type      string
	Summary   string // the Web UI summary, e.g. "sbtest.sbtest1 chunk 2/4"
	Scheduled time.Time
	Started   time.Time // of the last attempt
	Closed    time.Time
	Attempts  int32
	Failed    bool
}

// timeline is where the sluice run's time went, from the workflow histories (the
// migration workflow, its children and their continue-as-new runs).
type timeline struct {
	WorkflowStart time.Time
	WorkflowEnd   time.Time
	Activities    []activityRun
}

// historyClient is the part of client.Client the walk needs.
type historyClient interface {
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// readTimeline walks the workflow, every child workflow it started and every run
// they continued as.
func readTimeline(ctx context.Context, c historyClient, workflowID string) (*timeline, error) {
	tl := &timeline{}
	type run struct{ id, runID string }
	queue := []run{{workflowID, ""}}
	seen := map[run]bool{}
	first := true
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if seen[r] {
			continue
		}
		seen[r] = true
		open := map[int64]*activityRun{}
		it := c.GetWorkflowHistory(ctx, r.id, r.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", r.id, err)
			}
			at := ev.GetEventTime().AsTime()
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				if first {
					tl.WorkflowStart = at
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
				if first {
					tl.WorkflowEnd = at
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				queue = append(queue, run{r.id, ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()})
			case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
				we := ev.GetChildWorkflowExecutionStartedEventAttributes().GetWorkflowExecution()
				queue = append(queue, run{we.GetWorkflowId(), we.GetRunId()})
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				a := ev.GetActivityTaskScheduledEventAttributes()
				open[ev.GetEventId()] = &activityRun{Type: a.GetActivityType().GetName(), Summary: summaryOf(ev), Scheduled: at}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				a := ev.GetActivityTaskStartedEventAttributes()
				if ar := open[a.GetScheduledEventId()]; ar != nil {
					ar.Started, ar.Attempts = at, a.GetAttempt()
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				closeActivity(tl, open, ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId(), at, false)
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
				closeActivity(tl, open, ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId(), at, true)
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
				closeActivity(tl, open, ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId(), at, true)
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
				closeActivity(tl, open, ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(), at, true)
			}
		}
		first = false
	}
	sort.Slice(tl.Activities, func(i, j int) bool { return tl.Activities[i].Scheduled.Before(tl.Activities[j].Scheduled) })
	return tl, nil
}

func closeActivity(tl *timeline, open map[int64]*activityRun, scheduledID int64, at time.Time, failed bool) {
	ar := open[scheduledID]
	if ar == nil {
		return
	}
	delete(open, scheduledID)
	ar.Closed, ar.Failed = at, failed
	if ar.Started.IsZero() {
		ar.Started = ar.Scheduled
	}
	tl.Activities = append(tl.Activities, *ar)
}

// summaryOf decodes the activity's Web UI summary (a JSON string payload), "" if none.
func summaryOf(ev *historypb.HistoryEvent) string {
	p := ev.GetUserMetadata().GetSummary()
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// phaseStat sums the activities of one group.
type phaseStat struct {
	Name     string  `json:"name"`
	Count    int     `json:"count"`
	Attempts int     `json:"attempts"`
	Failed   int     `json:"failed"`
	BusySec  float64 `json:"busy_seconds"` // sum of start→close of each activity
	SpanSec  float64 `json:"span_seconds"` // first start → last close
	FromSec  float64 `json:"from_seconds"` // first start, from the workflow's start
	ToSec    float64 `json:"to_seconds"`   // last close, from the workflow's start
	// PeakRSSMiB is the worker's highest sampled VmRSS while this group ran.
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	first      time.Time
	last       time.Time
}

// timelineReport is the JSON and text form of a timeline.
type timelineReport struct {
	WorkflowSec float64     `json:"workflow_seconds"`
	ActiveSec   float64     `json:"active_seconds"` // time with at least one activity running
	ByType      []phaseStat `json:"by_activity_type"`
	ByTable     []phaseStat `json:"copy_by_table"`
}

func summarize(tl *timeline) timelineReport {
	rep := timelineReport{WorkflowSec: tl.WorkflowEnd.Sub(tl.WorkflowStart).Seconds()}
	rep.ByType = groupActivities(tl.Activities, tl.WorkflowStart, func(a activityRun) string { return a.Type })
	rep.ByTable = groupActivities(tl.Activities, tl.WorkflowStart, func(a activityRun) string {
		// Chunk summaries read "<db.table> chunk i/n"; others have no table.
		if t, _, ok := strings.Cut(a.Summary, " chunk "); ok {
			return strings.TrimPrefix(t, "table ")
		}
		return ""
	})
	rep.ActiveSec = unionSeconds(tl.Activities)
	return rep
}

func groupActivities(acts []activityRun, base time.Time, key func(activityRun) string) []phaseStat {
	by := map[string]*phaseStat{}
	var order []string
	for _, a := range acts {
		k := key(a)
		if k == "" {
			continue
		}
		p := by[k]
		if p == nil {
			p = &phaseStat{Name: k, first: a.Started, last: a.Closed}
			by[k] = p
			order = append(order, k)
		}
		p.Count++
		p.Attempts += int(max(a.Attempts, 1))
		if a.Failed {
			p.Failed++
		}
		p.BusySec += a.Closed.Sub(a.Started).Seconds()
		if a.Started.Before(p.first) {
			p.first = a.Started
		}
		if a.Closed.After(p.last) {
			p.last = a.Closed
		}
	}
	out := make([]phaseStat, 0, len(order))
	for _, k := range order {
		p := by[k]
		p.SpanSec = p.last.Sub(p.first).Seconds()
		p.FromSec = p.first.Sub(base).Seconds()
		p.ToSec = p.last.Sub(base).Seconds()
		out = append(out, *p)
	}
	return out
}

// unionSeconds is the length of the union of the activities' [start, close] intervals:
// the rest of the workflow's time is orchestration (workflow tasks, scheduling gaps).
func unionSeconds(acts []activityRun) float64 {
	iv := make([][2]time.Time, 0, len(acts))
	for _, a := range acts {
		iv = append(iv, [2]time.Time{a.Started, a.Closed})
	}
	sort.Slice(iv, func(i, j int) bool { return iv[i][0].Before(iv[j][0]) })
	var total time.Duration
	var cur [2]time.Time
	for i, x := range iv {
		if i == 0 {
			cur = x
			continue
		}
		if !x[0].After(cur[1]) {
			if x[1].After(cur[1]) {
				cur[1] = x[1]
			}
			continue
		}
		total += cur[1].Sub(cur[0])
		cur = x
	}
	if len(iv) > 0 {
		total += cur[1].Sub(cur[0])
	}
	return total.Seconds()
}
