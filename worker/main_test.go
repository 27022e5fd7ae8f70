package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Address: "127.0.0.1:7233", Namespace: "default", TaskQueue: "sluice", LogFormat: "console",
		LogLevel: "info", DataDir: "./.sluice", UIPort: 8233, MemoryLimit: "auto"}
	if cfg != want {
		t.Fatalf("defaults = %+v; want %+v", cfg, want)
	}
}

func TestParseConfigEnvApplies(t *testing.T) {
	cfg, err := parseConfig(nil, env(map[string]string{
		"TEMPORAL_ADDRESS":                 "10.0.0.5:7000",
		"SLUICE_NAMESPACE":                 "migrations",
		"SLUICE_TASK_QUEUE":                "tq",
		"SLUICE_LOG_FORMAT":                "json",
		"SLUICE_LOG_LEVEL":                 "debug",
		"SLUICE_MAX_CONCURRENT_ACTIVITIES": "8",
		"SLUICE_DEV":                       "true",
		"SLUICE_DATA_DIR":                  "/var/lib/sluice",
		"SLUICE_UI_PORT":                   "9000",
		"SLUICE_MEMORY_LIMIT":              "1GiB",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Address: "10.0.0.5:7000", Namespace: "migrations", TaskQueue: "tq", LogFormat: "json",
		LogLevel: "debug", MaxConcurrentActivities: 8, Dev: true, DataDir: "/var/lib/sluice", UIPort: 9000, MemoryLimit: "1GiB"}
	if cfg != want {
		t.Fatalf("from env = %+v; want %+v", cfg, want)
	}
}

func TestParseConfigFlagBeatsEnv(t *testing.T) {
	cfg, err := parseConfig(
		[]string{"--address", "127.0.0.1:7999", "--namespace=ns-flag", "--log-format", "console",
			"--max-concurrent-activities", "2", "--dev=false", "--ui-port", "0", "--data-dir", ""},
		env(map[string]string{
			"TEMPORAL_ADDRESS":                 "10.0.0.5:7000",
			"SLUICE_NAMESPACE":                 "ns-env",
			"SLUICE_LOG_FORMAT":                "json",
			"SLUICE_MAX_CONCURRENT_ACTIVITIES": "8",
			"SLUICE_DEV":                       "1",
			"SLUICE_UI_PORT":                   "9000",
			"SLUICE_MEMORY_LIMIT":              "1GiB",
			"SLUICE_DATA_DIR":                  "/from/env",
			"SLUICE_TASK_QUEUE":                "tq-env", // no flag: the variable applies
		}))
	if err != nil {
		t.Fatal(err)
	}
	want := config{Address: "127.0.0.1:7999", Namespace: "ns-flag", TaskQueue: "tq-env", LogFormat: "console",
		LogLevel: "info", MaxConcurrentActivities: 2, Dev: false, DataDir: "", UIPort: 0, MemoryLimit: "1GiB"}
	if cfg != want {
		t.Fatalf("flags over env = %+v; want %+v", cfg, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad log format flag", []string{"--log-format", "xml"}, nil, `--log-format: invalid log format "xml"`},
		{"bad log format env", nil, map[string]string{"SLUICE_LOG_FORMAT": "yaml"}, `SLUICE_LOG_FORMAT (--log-format): invalid log format "yaml"`},
		{"bad log level", []string{"--log-level", "loud"}, nil, `invalid log level "loud"`},
		{"bad int env", nil, map[string]string{"SLUICE_MAX_CONCURRENT_ACTIVITIES": "many"},
			`invalid SLUICE_MAX_CONCURRENT_ACTIVITIES="many" (sets --max-concurrent-activities)`},
		{"bad bool env", nil, map[string]string{"SLUICE_DEV": "yes please"}, `invalid SLUICE_DEV="yes please"`},
		{"negative concurrency", []string{"--max-concurrent-activities=-1"}, nil, "must be 0 (SDK default) or more"},
		{"unknown flag", []string{"--adress", "x"}, nil, "unknown flag: --adress"},
		{"positional", []string{"start"}, nil, `unexpected argument "start"`},
		{"address without port", []string{"--address", "temporal.internal"}, nil, "want host:port"},
		{"dev needs an IP", []string{"--dev", "--address", "temporal.internal:7233"}, nil, "with --dev the host must be an IP address"},
		{"dev port clash", []string{"--dev", "--address", "127.0.0.1:8233"}, nil, "--address port and --ui-port are both 8233"},
		{"dev ui port range", []string{"--dev", "--ui-port", "70000"}, nil, "--ui-port 70000"},
		{"empty task queue", []string{"--task-queue", ""}, nil, "--task-queue must not be empty"},
		{"bad memory limit", nil, map[string]string{"SLUICE_MEMORY_LIMIT": "lots"}, `invalid --memory-limit "lots"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.args, env(tc.env))
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v (%T); want a usage error", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		gomem bool
		want  int64
	}{
		{nil, false, 256 << 20},
		{[]string{"--dev"}, false, 512 << 20},
		{nil, true, -1},
		{[]string{"--memory-limit", "300MiB"}, true, 300 << 20},
		{[]string{"--memory-limit", "2GiB"}, false, 2 << 30},
		{[]string{"--memory-limit", "1000"}, false, 1000},
		{[]string{"--memory-limit", "0"}, false, math.MaxInt64},
	} {
		cfg, err := parseConfig(tc.args, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := cfg.memoryLimit(tc.gomem); err != nil || got != tc.want {
			t.Errorf("%v GOMEMLIMIT set %v: %d, %v; want %d", tc.args, tc.gomem, got, err, tc.want)
		}
	}
}

func TestDevLocalhostIsLoopback(t *testing.T) {
	cfg, err := parseConfig([]string{"--dev", "--address", "localhost:7400"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	l, err := cfg.devFrontend()
	if err != nil || l != (devListen{IP: "127.0.0.1", Port: 7400}) {
		t.Fatalf("devFrontend = %+v, %v", l, err)
	}
}

func TestHelpAndUsageExitCodes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := realMain(context.Background(), func() {}, []string{"--help"}, env(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("--help exit = %d; want 0", code)
	}
	for _, s := range []string{"Usage:", "--address", "TEMPORAL_ADDRESS", "SLUICE_UI_PORT", "Examples:", "sluice-worker --dev"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("--help output lacks %q:\n%s", s, stdout.String())
		}
	}
	if _, err := parseConfig([]string{"-h"}, env(nil)); !errors.Is(err, pflag.ErrHelp) {
		t.Errorf("-h: err = %v; want pflag.ErrHelp", err)
	}

	stdout.Reset()
	if code := realMain(context.Background(), func() {}, []string{"--log-format", "xml"}, env(nil), &stdout, &stderr); code != 2 {
		t.Fatalf("bad flag exit = %d; want 2", code)
	}
	if !strings.Contains(stderr.String(), `invalid log format "xml"`) || !strings.Contains(stderr.String(), "--help") {
		t.Errorf("usage error output = %q", stderr.String())
	}
}

func TestUnreachableFrontend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now

	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := realMain(context.Background(), func() {}, []string{"--address", addr, "--log-level", "error"}, env(nil), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit = %d; want 1 (stderr %q)", code, stderr.String())
	}
	for _, s := range []string{"cannot reach the Temporal frontend at " + addr, "--dev"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr %q lacks %q", stderr.String(), s)
		}
	}
	t.Logf("failed after %s", time.Since(start))
}

// syncBuffer is written by the worker goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDevModeRunsAndStops runs the real worker with its embedded server, checks it polls
// the task queue and that the UI address is announced, then stops it as a signal would.
func TestDevModeRunsAndStops(t *testing.T) {
	l1, _ := net.Listen("tcp", "127.0.0.1:0")
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	fePort, uiPort := l1.Addr().(*net.TCPAddr).Port, l2.Addr().(*net.TCPAddr).Port
	_, _ = l1.Close(), l2.Close()
	frontend := "127.0.0.1:" + strconv.Itoa(fePort)
	dir := filepath.Join(t.TempDir(), "state")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	var signalsStopped sync.Once
	stopped := false
	done := make(chan int, 1)
	go func() {
		done <- realMain(ctx, func() { signalsStopped.Do(func() { stopped = true }) },
			[]string{"--dev", "--address", frontend, "--ui-port", strconv.Itoa(uiPort), "--data-dir", dir,
				"--task-queue", "worker-test", "--log-level", "warn"},
			env(nil), &bytes.Buffer{}, &stderr)
	}()

	wantUI := "Temporal Web UI: http://127.0.0.1:" + strconv.Itoa(uiPort)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), wantUI) {
		select {
		case code := <-done:
			t.Fatalf("worker exited early with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on stderr: %q", wantUI, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	c, err := client.Dial(client.Options{HostPort: frontend})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pollers []*taskqueuepb.PollerInfo
	for time.Now().Before(deadline) {
		resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     "default",
			TaskQueue:     &taskqueuepb.TaskQueue{Name: "worker-test", Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		})
		if err == nil && len(resp.GetPollers()) > 0 {
			pollers = resp.GetPollers()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(pollers) == 0 {
		t.Fatal("the worker never polled the activity task queue")
	}

	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit after stop = %d; want 0 (stderr %q)", code, stderr.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatal("worker did not stop within 45s of the stop signal")
	}
	if !stopped {
		t.Error("default signal handling was not restored on shutdown")
	}
	// The dev server released its port: a new listener can take it.
	if l, err := net.Listen("tcp", frontend); err != nil {
		t.Errorf("frontend port still held after exit: %v", err)
	} else {
		_ = l.Close()
	}
}
