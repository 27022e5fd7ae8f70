package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// activityRun is one activity execution read back from the Verify workflow's history.
type activityRun struct {
	Type                      string
	Scheduled, Started, Close time.Time
}

// phase sums up one activity type of the sluice run.
type phase struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
	// BusySec is the activities' running time added up (started → closed).
	BusySec float64 `json:"busy_seconds"`
	// MeanRunMs and MeanQueueMs: per activity, running, and waiting for a worker
	// after being scheduled (scheduled → started).
	MeanRunMs   float64 `json:"mean_run_ms"`
	MeanQueueMs float64 `json:"mean_queue_ms"`
	// FromSec, ToSec: first start and last close, from the workflow's start.
	FromSec float64 `json:"from_seconds"`
	ToSec   float64 `json:"to_seconds"`
}

// timeline is where the sluice run's time went.
type timeline struct {
	WorkflowSec float64 `json:"workflow_seconds"`
	Phases      []phase `json:"phases"`
}

// summarize groups the activities by type, in order of first start.
func summarize(start, end time.Time, runs []activityRun) timeline {
	tl := timeline{WorkflowSec: end.Sub(start).Seconds()}
	byType := map[string]*phase{}
	var order []string
	for _, a := range runs {
		p := byType[a.Type]
		if p == nil {
			p = &phase{Type: a.Type, FromSec: a.Started.Sub(start).Seconds()}
			byType[a.Type] = p
			order = append(order, a.Type)
		}
		p.Count++
		run := a.Close.Sub(a.Started).Seconds()
		p.BusySec += run
		p.MeanRunMs += run * 1000
		p.MeanQueueMs += a.Started.Sub(a.Scheduled).Seconds() * 1000
		p.FromSec = min(p.FromSec, a.Started.Sub(start).Seconds())
		p.ToSec = max(p.ToSec, a.Close.Sub(start).Seconds())
	}
	for _, t := range order {
		p := byType[t]
		p.MeanRunMs /= float64(p.Count)
		p.MeanQueueMs /= float64(p.Count)
		tl.Phases = append(tl.Phases, *p)
	}
	sort.SliceStable(tl.Phases, func(i, j int) bool { return tl.Phases[i].FromSec < tl.Phases[j].FromSec })
	return tl
}

// readTimeline reads the finished Verify workflow's history from the embedded server.
func readTimeline(ctx context.Context, address, workflowID string) (*timeline, error) {
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var start, end time.Time
	open := map[int64]*activityRun{}
	var runs []activityRun
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		at := ev.GetEventTime().AsTime()
		var closed int64
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			start = at
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			end = at
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			open[ev.GetEventId()] = &activityRun{Type: ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(), Scheduled: at}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := open[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; a != nil {
				a.Started = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			closed = ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			closed = ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			closed = ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()
		}
		if a := open[closed]; closed != 0 && a != nil {
			a.Close = at
			if a.Started.IsZero() {
				a.Started = a.Scheduled
			}
			runs = append(runs, *a)
			delete(open, closed)
		}
	}
	if start.IsZero() || end.IsZero() {
		return nil, fmt.Errorf("history of %s: no start or no end", workflowID)
	}
	tl := summarize(start, end, runs)
	return &tl, nil
}

// quietLogger drops the SDK client's own log lines.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
