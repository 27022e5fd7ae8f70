package itest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// silentServer accepts TCP connections and never sends the MySQL greeting, so a
// precheck waits on it until the connect timeout: a stand-in for a slow server that
// keeps a workflow running long enough to act on it.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func slowFile(t *testing.T, env *testenv.Env, name string, port int) string {
	body := workflowFile(env, name, "it_slow", "")
	body = strings.Replace(body, fmt.Sprintf("  port: %d\n", env.Source.Port), fmt.Sprintf("  port: %d\n", port), 1)
	return writeFile(t, name, body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, what, 30*time.Second, cond)
}

// waitUntil is waitFor with its own bound.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func activityRunning(ctx context.Context, c client.Client, id string) bool {
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return false
	}
	for _, pa := range d.GetPendingActivities() {
		if pa.GetState() == enums.PENDING_ACTIVITY_STATE_STARTED {
			return true
		}
	}
	return false
}

// The CLI on a workflow that is still running: start without --follow, status via the
// query, list without --all, and stop (cancel).
func TestCLIOnARunningWorkflow(t *testing.T) {
	t.Parallel()
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	file := slowFile(t, env, "running", silentServer(t))
	ctx := context.Background()

	code, out, _ := s.sluice(t, "start", "-f", file)
	if code != 0 || !strings.Contains(out, "Started workflow sluice-running") {
		t.Fatalf("start: exit %d", code)
	}
	waitFor(t, "the precheck activity to start", func() bool { return activityRunning(ctx, s.client, "sluice-running") })
	code, out, _ = s.sluice(t, "status", "sluice-running")
	if code != 0 || !strings.Contains(out, "State:    running") || !strings.Contains(out, "Phase:    precheck") {
		t.Fatalf("status of a running workflow: exit %d", code)
	}
	code, out, _ = s.sluice(t, "list")
	if code != 0 || !strings.Contains(out, "sluice-running") || !strings.Contains(out, "running") {
		t.Fatalf("list: exit %d", code)
	}
	if code, _, errOut := s.sluice(t, "start", "-f", file); code != 1 || !strings.Contains(errOut, "already running") {
		t.Fatalf("second start of a running workflow: exit %d", code)
	}
	if code, out, _ = s.sluice(t, "stop", "sluice-running"); code != 0 || !strings.Contains(out, "Cancellation requested") {
		t.Fatalf("stop: exit %d", code)
	}
	waitFor(t, "the workflow to be cancelled", func() bool {
		d, err := s.client.DescribeWorkflowExecution(ctx, "sluice-running", "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_CANCELED
	})
	if code, out, _ = s.sluice(t, "list"); code != 0 || strings.Contains(out, "sluice-running") {
		t.Fatalf("list still shows the cancelled workflow: exit %d", code)
	}
}

// A worker stopped in the middle of a precheck hands the attempt back; a second
// worker (as after a restart) finishes the workflow, and the history says so.
func TestWorkerStopHandsPrecheckToAnotherWorker(t *testing.T) {
	t.Parallel()
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	file := slowFile(t, env, "handover", silentServer(t))
	const queue = "sluice-itest-handover"
	w1, err := s.startWorker(queue)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, _, _ := s.sluiceOn(t, queue, "start", "-f", file)
	if code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	waitFor(t, "the precheck activity to start", func() bool { return activityRunning(ctx, s.client, "sluice-handover") })
	w1.Stop() // what SIGTERM does in sluice-worker
	w2, err := s.startWorker(queue)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	var res workflows.Result
	if err := s.client.GetWorkflow(ctx, "sluice-handover", "").Get(ctx, &res); err == nil {
		t.Fatal("the precheck against a silent source should fail the migration")
	}
	var started *historypb.ActivityTaskStartedEventAttributes
	for _, ev := range history(t, s, "sluice-handover").Events {
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			started = a
		}
	}
	if started == nil || started.GetAttempt() < 2 || !strings.Contains(started.GetLastFailure().GetMessage(), "worker stopping") {
		t.Fatalf("want a second attempt after a worker-stop failure, got %+v", started)
	}
	code, out, _ := s.sluiceOn(t, queue, "status", "sluice-handover")
	if code != 0 || !strings.Contains(out, "source.connect") || !strings.Contains(out, "FAIL") {
		t.Fatalf("status after handover: exit %d", code)
	}
}
