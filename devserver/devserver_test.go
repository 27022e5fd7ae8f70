package devserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap/zaptest"
)

func greet(_ context.Context, name string) (string, error) { return "hello " + name, nil }

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

func testPorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := freePorts("127.0.0.1", n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

func dial(t *testing.T, s *Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.FrontendAddress(), Namespace: s.Namespace()})
	if err != nil {
		t.Fatalf("dial %s: %v", s.FrontendAddress(), err)
	}
	return c
}

// TestServerLifecycle covers the whole life of a file-backed server in one run, since
// each start costs about a second: namespace, a workflow with a worker, the UI, the
// port and lock checks against a running server, and history surviving a restart.
func TestServerLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // Start must create it
	ports := testPorts(t, 2)
	opts := Options{DataDir: dir, FrontendPort: ports[0], UIPort: ports[1], Namespace: "sluice-test", Logger: zaptest.NewLogger(t)}

	start := time.Now()
	srv, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("started in %s", time.Since(start))
	t.Cleanup(srv.Stop)

	if got, want := srv.FrontendAddress(), net.JoinHostPort("127.0.0.1", itoa(ports[0])); got != want {
		t.Errorf("FrontendAddress = %q; want %q", got, want)
	}
	if got, want := srv.UIAddress(), "http://127.0.0.1:"+itoa(ports[1]); got != want {
		t.Errorf("UIAddress = %q; want %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, versionFileName)); err != nil || strings.TrimSpace(string(b)) != ServerVersion {
		t.Errorf("version file = %q, %v; want %q", b, err, ServerVersion)
	}

	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns, err := c.WorkflowService().DescribeNamespace(ctx, describeReq("sluice-test"))
	if err != nil {
		t.Fatalf("describe namespace: %v", err)
	}
	if ns.GetNamespaceInfo().GetName() != "sluice-test" || ns.GetNamespaceInfo().GetState() != enumspb.NAMESPACE_STATE_REGISTERED {
		t.Fatalf("namespace = %v", ns.GetNamespaceInfo())
	}

	w := worker.New(c, "devserver-test", worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greet)
	if err := w.Start(); err != nil {
		t.Fatalf("worker start: %v", err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-1", TaskQueue: "devserver-test"}, greetWorkflow, "sluice")
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "hello sluice" {
		t.Fatalf("workflow result = %q, %v; want %q", out, err, "hello sluice")
	}

	// The UI serves its embedded single-page app.
	resp, err := http.Get(srv.UIAddress() + "/")
	if err != nil {
		t.Fatalf("GET UI: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "<html") {
		t.Fatalf("GET %s: status %d, body starts %q; want 200 and HTML", srv.UIAddress(), resp.StatusCode, head(body))
	}

	// Ports held by the running server are reported by name and flag.
	_, err = Start(Options{FrontendPort: ports[0]})
	assertPortErr(t, err, ports[0], "Temporal frontend (gRPC)", "--address")
	other := testPorts(t, 1)[0]
	_, err = Start(Options{FrontendPort: other, UIPort: ports[1]})
	assertPortErr(t, err, ports[1], "Temporal Web UI", "--ui-port")
	// A second server on the same data dir is refused before it starts.
	more := testPorts(t, 2)
	if _, err := Start(Options{DataDir: dir, FrontendPort: more[0], UIPort: more[1]}); err == nil || !strings.Contains(err.Error(), "in use by another dev server") {
		t.Fatalf("second server on the same data dir: err = %v; want a lock error", err)
	}

	// A workflow still running when the server stops (no worker polls its queue yet).
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "greet-2", TaskQueue: "devserver-later"}, greetWorkflow, "again"); err != nil {
		t.Fatalf("start greet-2: %v", err)
	}

	w.Stop()
	c.Close()
	srv.Stop()

	// Same data dir, new server: the finished workflow and its history are still there.
	srv2, err := Start(opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(srv2.Stop)
	c2 := dial(t, srv2)
	defer c2.Close()
	desc, err := c2.DescribeWorkflowExecution(ctx, "greet-1", "")
	if err != nil {
		t.Fatalf("describe workflow after restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("status after restart = %v; want completed", st)
	}
	it := c2.GetWorkflowHistory(ctx, "greet-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var types []enumspb.EventType
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history after restart: %v", err)
		}
		types = append(types, ev.GetEventType())
	}
	if len(types) < 3 || types[0] != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED ||
		types[len(types)-1] != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED || !slices.Contains(types, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
		t.Fatalf("history after restart = %v; want started ... activity completed ... completed", types)
	}

	// The workflow that was running before the restart goes on once a worker polls.
	w2 := worker.New(c2, "devserver-later", worker.Options{})
	w2.RegisterWorkflow(greetWorkflow)
	w2.RegisterActivity(greet)
	if err := w2.Start(); err != nil {
		t.Fatalf("worker start after restart: %v", err)
	}
	defer w2.Stop()
	if err := c2.GetWorkflow(ctx, "greet-2", "").Get(ctx, &out); err != nil || out != "hello again" {
		t.Fatalf("running workflow after restart = %q, %v; want %q", out, err, "hello again")
	}
}

func TestInMemoryServer(t *testing.T) {
	ports := testPorts(t, 1)
	srv, err := Start(Options{FrontendPort: ports[0]})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Stop()
	if srv.UIAddress() != "" {
		t.Errorf("UIAddress = %q; want empty with UIPort 0", srv.UIAddress())
	}
	c := dial(t, srv)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, describeReq(DefaultNamespace)); err != nil {
		t.Fatalf("describe default namespace: %v", err)
	}
}

func TestPortTakenBeforeStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	free := testPorts(t, 1)[0]
	dir := t.TempDir()
	_, err = Start(Options{DataDir: dir, FrontendPort: free, UIPort: taken})
	assertPortErr(t, err, taken, "Temporal Web UI", "--ui-port")
	want := "port " + itoa(taken) + " (Temporal Web UI) is already in use on 127.0.0.1: stop what uses it or pass --ui-port"
	if err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
	// Nothing was created: the check comes before the store.
	if _, err := os.Stat(filepath.Join(dir, dbFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database created despite the port error: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{FrontendPort: 7300, UIPort: 7300}, "cannot share port 7300"},
		{Options{FrontendPort: 70000}, "out of range"},
		{Options{UIPort: -1}, "out of range"},
		{Options{IP: "not-an-ip"}, `"not-an-ip" is not an IP address`},
		{Options{FrontendPort: 1, ServerLogLevel: "loud"}, `server log level "loud"`},
	} {
		_, err := Start(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) error = %v; want it to contain %q", tc.opts, err, tc.want)
		}
	}
}

func TestDataDirVersionCheck(t *testing.T) {
	t.Run("other version refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, dbFileName), "not empty")
		writeFile(t, filepath.Join(dir, versionFileName), "1.20.0\n")
		_, err := openDataDir(dir)
		if err == nil || !strings.Contains(err.Error(), "created by Temporal server 1.20.0 but this build embeds "+ServerVersion) {
			t.Fatalf("err = %v; want a version mismatch naming both versions", err)
		}
	})
	t.Run("unlabelled database refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, dbFileName), "not empty")
		_, err := openDataDir(dir)
		if err == nil || !strings.Contains(err.Error(), "version that created it is unknown") {
			t.Fatalf("err = %v; want an unknown-version error", err)
		}
	})
	t.Run("same version accepted", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, dbFileName), "not empty")
		writeFile(t, filepath.Join(dir, versionFileName), ServerVersion+"\n")
		d, err := openDataDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.unlock()
		if d.isNew {
			t.Fatal("existing database reported as new")
		}
	})
	t.Run("empty database is new and relabelled", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, dbFileName), "")
		writeFile(t, filepath.Join(dir, versionFileName), "0.0.1\n")
		d, err := openDataDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer d.unlock()
		b, _ := os.ReadFile(filepath.Join(dir, versionFileName))
		if !d.isNew || strings.TrimSpace(string(b)) != ServerVersion {
			t.Fatalf("isNew = %v, version file %q; want new and %s", d.isNew, b, ServerVersion)
		}
	})
	t.Run("URI characters refused", func(t *testing.T) {
		_, err := openDataDir(filepath.Join(t.TempDir(), "a?b"))
		if err == nil || !strings.Contains(err.Error(), "must not contain") {
			t.Fatalf("err = %v", err)
		}
	})
}

func assertPortErr(t *testing.T, err error, port int, purpose, flag string) {
	t.Helper()
	var pe *PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v; want a *PortInUseError for port %d", err, port)
	}
	if pe.Port != port || pe.Purpose != purpose || pe.Flag != flag {
		t.Fatalf("PortInUseError = %+v; want port %d, %q, %q", pe, port, purpose, flag)
	}
	for _, s := range []string{itoa(port), purpose, flag, "already in use"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func describeReq(ns string) *workflowservice.DescribeNamespaceRequest {
	return &workflowservice.DescribeNamespaceRequest{Namespace: ns}
}

func head(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
