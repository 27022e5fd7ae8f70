// Package itest runs sluice end to end: real MariaDB servers from testenv, an embedded
// Temporal server (SQLite file store, Web UI) from devserver, the real worker code
// in-process, and the CLI code that bin/sluice runs.
package itest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sluice-dev/sluice/activities"
	"github.com/sluice-dev/sluice/cli"
	"github.com/sluice-dev/sluice/devserver"
	"github.com/sluice-dev/sluice/logging"
	"github.com/sluice-dev/sluice/metrics"
	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	if shared != nil {
		shared.worker.Stop()
		shared.client.Close()
		shared.srv.Stop()
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// stack is one embedded Temporal server with a sluice worker polling its own task queue.
type stack struct {
	srv       *devserver.Server
	dir       string
	client    client.Client
	worker    worker.Worker
	log       *zap.Logger
	taskQueue string
	envMu     sync.Mutex
	env       map[string]string // the worker's environment (secrets)
	logs      *syncBuffer       // everything the worker logged
	workerID  string            // the shared worker's identity
	metrics   sync.Map          // worker identity -> *metrics.Metrics
}

// scrape is what a worker's /metrics would serve.
func (s *stack) scrape(t *testing.T, identity string) string {
	t.Helper()
	m, ok := s.metrics.Load(identity)
	if !ok {
		t.Fatalf("no worker %s", identity)
	}
	rec := httptest.NewRecorder()
	m.(*metrics.Metrics).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Sync() error { return nil }
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var (
	stackOnce sync.Once
	shared    *stack
	stackErr  error
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStack starts the embedded server and a worker once per test binary.
func startStack(t *testing.T) *stack {
	t.Helper()
	stackOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-itest-temporal-")
		if err != nil {
			stackErr = err
			return
		}
		logs := &syncBuffer{}
		log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), logs, zap.DebugLevel))
		srv, err := devserver.Start(devserver.Options{
			DataDir: dir, IP: "127.0.0.1", FrontendPort: freePort(t), UIPort: freePort(t), Namespace: "default", Logger: log,
		})
		if err != nil {
			stackErr = fmt.Errorf("start embedded Temporal: %w", err)
			return
		}
		c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default", Logger: logging.NewSDKLogger(log)})
		if err != nil {
			stackErr = err
			return
		}
		st := &stack{srv: srv, dir: dir, client: c, taskQueue: "sluice-itest", env: map[string]string{}, logs: logs, log: log}
		w, id, err := st.startWorkerID(st.taskQueue)
		if err != nil {
			stackErr = err
			return
		}
		st.worker, st.workerID = w, id
		shared = st
	})
	if stackErr != nil {
		t.Fatal(stackErr)
	}
	return shared
}

// startWorker runs the real worker code on a task queue, its secrets from s.env.
func (s *stack) startWorker(queue string) (worker.Worker, error) {
	w, _, err := s.startWorkerID(queue)
	return w, err
}

var workerSeq atomic.Int64

// startWorkerID is startWorker, also returning the worker's identity (each
// in-process worker has its own, as separate processes would).
func (s *stack) startWorkerID(queue string) (worker.Worker, string, error) {
	a := activities.New(s.log)
	a.Client = s.client
	a.Metrics = metrics.New()
	id := fmt.Sprintf("itest-worker-%d@%s", workerSeq.Add(1), queue)
	s.metrics.Store(id, a.Metrics)
	w := worker.New(s.client, queue, worker.Options{WorkerStopTimeout: 20 * time.Second, MaxHeartbeatThrottleInterval: activities.HeartbeatThrottle,
		Interceptors: []interceptor.WorkerInterceptor{activities.Interceptor(a)}, Identity: id})
	workflows.Register(w)
	a.LookupEnv = func(k string) (string, bool) {
		s.envMu.Lock()
		defer s.envMu.Unlock()
		v, ok := s.env[k]
		return v, ok
	}
	activities.Register(w, a)
	return w, id, w.Start()
}

func (s *stack) setEnv(k, v string) {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	if v == "" {
		delete(s.env, k)
		return
	}
	s.env[k] = v
}

// sluice runs the CLI against the stack and returns exit code, stdout and stderr.
func (s *stack) sluice(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return s.sluiceOn(t, s.taskQueue, args...)
}

// sluiceOn is sluice with another task queue.
func (s *stack) sluiceOn(t *testing.T, queue string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--address", s.srv.FrontendAddress(), "--task-queue", queue)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, args, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	t.Logf("sluice %s -> %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return code, out.String(), errb.String()
}

// sluiceFor runs the CLI on a task queue and interrupts it (Ctrl-C) after d:
// for status --watch.
func (s *stack) sluiceFor(t *testing.T, queue string, d time.Duration, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--address", s.srv.FrontendAddress(), "--task-queue", queue)
	interrupt := make(chan struct{})
	timer := time.AfterFunc(d, func() { close(interrupt) })
	defer timer.Stop()
	code := cli.Main(context.Background(), args, &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Interrupt: interrupt})
	t.Logf("sluice %s -> %d (%d bytes)%s", strings.Join(args, " "), code, out.Len(), errb.String())
	return code, out.String()
}

// writeFile writes a workflow file for the shared MariaDB pair.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func workflowFile(env *testenv.Env, name, db, extra string) string {
	return fmt.Sprintf(`name: %s
source:
  host: %s
  port: %d
  user: %s
  password: ${IT_SRC_PASSWORD}
destination:
  host: %s
  port: %d
  user: %s
  password: ${IT_DST_PASSWORD}
types: [schema, full]
objects:
  - database: %s
    tables: ["*"]
%s`, name, env.Source.Host, env.Source.Port, env.Source.RootUser,
		env.Destination.Host, env.Destination.Port, env.Destination.RootUser, db, extra)
}

func clientStart(id, queue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: queue}
}

// databases prepares a migration's source: srcDBs are dropped on the source and
// dstDBs on the destination before and after the test, then stmts run on the
// source (as root). It returns root pools of both servers.
func databases(t *testing.T, env *testenv.Env, srcDBs, dstDBs []string, stmts ...string) (src, dst *sql.DB) {
	t.Helper()
	drop := func() {
		for _, db := range srcDBs {
			env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+testenv.QuoteIdent(db))
		}
		for _, db := range dstDBs {
			env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS "+testenv.QuoteIdent(db))
		}
	}
	drop()
	t.Cleanup(drop)
	if err := env.Source.Exec(context.Background(), stmts...); err != nil {
		t.Fatal(err)
	}
	var err error
	if src, err = env.Source.Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if dst, err = env.Destination.Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	return src, dst
}

// background runs load until the returned stop is called (idempotent; also at
// the end of the test) and waits for it to return.
func background(t *testing.T, load func(stop <-chan struct{})) (stop func()) {
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); load(ch) }()
	var once sync.Once
	stop = func() {
		once.Do(func() { close(ch) })
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// servers is the start of a workflow file: its name and both servers as root,
// passwords by reference (${srcRef}, ${dstRef}).
func servers(env *testenv.Env, name, srcRef, dstRef string) string {
	return fmt.Sprintf("name: %s\nsource: {host: %s, port: %d, user: %s, password: \"${%s}\"}\ndestination: {host: %s, port: %d, user: %s, password: \"${%s}\"}\n",
		name, env.Source.Host, env.Source.Port, env.Source.RootUser, srcRef, env.Destination.Host, env.Destination.Port, env.Destination.RootUser, dstRef)
}
