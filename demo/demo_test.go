package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/testenv"
)

// The demo's children are played by this test binary: the scripts in bin/ re-run it
// with SLUICE_DEMO_FAKE set, so the orchestration is tested against real MariaDB
// servers without building the real worker (which takes minutes).
func TestMain(m *testing.M) {
	switch os.Getenv("SLUICE_DEMO_FAKE") {
	case "worker":
		os.Exit(fakeWorker(os.Args[1:]))
	case "cli":
		os.Exit(fakeCLI(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// envVisible is what a fake child tells the test about its environment: whether
// each variable is set, never a password's value.
var envVisible = []string{"SRC_PASSWORD", "DST_PASSWORD", "PATH"}

// recordEnv appends "ROLE NAME=set|unset ..." to $FAKE_ENV_LOG.
func recordEnv(role string) error {
	line := role
	for _, name := range envVisible {
		state := "unset"
		if _, ok := os.LookupEnv(name); ok {
			state = "set"
		}
		line += " " + name + "=" + state
	}
	f, err := os.OpenFile(os.Getenv("FAKE_ENV_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fakeWorker(args []string) int {
	if len(args) != 3 || args[0] != "--dev" || args[1] != "--data-dir" {
		fmt.Fprintf(os.Stderr, "fake worker: unexpected args %q\n", args)
		return 2
	}
	if err := recordEnv("sluice-worker"); err != nil {
		fmt.Fprintln(os.Stderr, "fake worker:", err)
		return 2
	}
	if err := os.MkdirAll(args[2], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// Like the real worker: listen where TEMPORAL_ADDRESS and SLUICE_UI_PORT say
	// (the demo sets them from its flags), and fail first if a port is taken.
	feAddr := os.Getenv("TEMPORAL_ADDRESS")
	host, _, err := net.SplitHostPort(feAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-worker: TEMPORAL_ADDRESS %q: %v\n", feAddr, err)
		return 2
	}
	l, err := net.Listen("tcp", feAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-worker: start the embedded Temporal dev server: %v\n", err)
		return 1
	}
	defer l.Close()
	ui, err := net.Listen("tcp", net.JoinHostPort(host, os.Getenv("SLUICE_UI_PORT")))
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-worker: start the embedded Temporal dev server: %v\n", err)
		return 1
	}
	// The worker resolves ${SRC_PASSWORD}/${DST_PASSWORD}: check they open the servers
	// with the privileges the demo granted.
	src, err := openAs(os.Getenv("FAKE_SRC_ADDR"), os.Getenv("SRC_PASSWORD"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake worker: source:", err)
		return 3
	}
	var orders int
	if err := src.QueryRow("SELECT COUNT(*) FROM `shop`.`orders`").Scan(&orders); err != nil || orders == 0 {
		fmt.Fprintf(os.Stderr, "fake worker: source has %d orders (%v)\n", orders, err)
		return 3
	}
	var gtid string
	if err := src.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&gtid); err != nil || gtid == "" {
		fmt.Fprintf(os.Stderr, "fake worker: no GTID position on the source (%v)\n", err)
		return 3
	}
	dst, err := openAs(os.Getenv("FAKE_DST_ADDR"), os.Getenv("DST_PASSWORD"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake worker: destination:", err)
		return 3
	}
	if _, err := dst.Exec("CREATE DATABASE `fake_worker_check`"); err != nil {
		fmt.Fprintln(os.Stderr, "fake worker: destination cannot create a database:", err)
		return 3
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	// Like the real worker, the frontend opens before the worker polls: the UI's
	// task-queue API lists no poller for a moment.
	polling := time.Now().Add(time.Second)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/namespaces/"+os.Getenv("SLUICE_NAMESPACE")+"/task-queues/"+os.Getenv("SLUICE_TASK_QUEUE"), func(w http.ResponseWriter, r *http.Request) {
		if time.Now().Before(polling) {
			fmt.Fprint(w, `{"pollers": []}`)
			return
		}
		os.WriteFile(os.Getenv("FAKE_POLLING"), nil, 0o644)
		fmt.Fprintf(w, `{"pollers": [{"identity": "fake", "type": %q}]}`, r.URL.Query().Get("taskQueueType"))
	})
	go http.Serve(ui, mux)
	fmt.Println("fake worker ready; orders:", orders)
	if os.Getenv("FAKE_WORKER_DIE") != "" {
		time.Sleep(2 * time.Second) // after it polls, so the demo is past start-up
		fmt.Println("fake worker crashing")
		return 7
	}
	// A cutover request (from the fake `sluice cutover`) is served like the real
	// worker would: the destination gets the source's data, then the workflow ends.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case sig := <-sigs:
			os.WriteFile(os.Getenv("FAKE_MARKER"), []byte("stopped by "+sig.String()), 0o644)
			return 0
		case <-tick.C:
			if _, err := os.Stat(os.Getenv("FAKE_CUTOVER_REQ")); err != nil {
				continue
			}
			os.Remove(os.Getenv("FAKE_CUTOVER_REQ"))
			if os.Getenv("FAKE_NO_COPY") == "" {
				if err := copyShop(src, dst); err != nil {
					fmt.Fprintln(os.Stderr, "fake worker: copy:", err)
					return 3
				}
			}
			os.WriteFile(os.Getenv("FAKE_CUTOVER_DONE"), nil, 0o644)
		}
	}
}

// copyShop copies every table of `shop` (definition and rows, generated columns
// left to the server) from src to dst, the way the real migration ends up.
func copyShop(src, dst *sql.DB) error {
	ctx := context.Background()
	conn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{"SET SESSION foreign_key_checks = 0", "CREATE DATABASE IF NOT EXISTS `shop`", "USE `shop`"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	tables, err := column(src, "SELECT `TABLE_NAME` FROM information_schema.`TABLES` WHERE `TABLE_SCHEMA` = 'shop' AND `TABLE_TYPE` = 'BASE TABLE'")
	if err != nil {
		return err
	}
	for _, t := range tables {
		var name, create string
		if err := src.QueryRow("SHOW CREATE TABLE `shop`."+testenv.QuoteIdent(t)).Scan(&name, &create); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return err
		}
		cols, err := column(src, "SELECT `COLUMN_NAME` FROM information_schema.`COLUMNS` WHERE `TABLE_SCHEMA` = 'shop' AND `TABLE_NAME` = ? AND `EXTRA` NOT LIKE '%GENERATED%' ORDER BY `ORDINAL_POSITION`", t)
		if err != nil {
			return err
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = testenv.QuoteIdent(c)
		}
		list := strings.Join(quoted, ", ")
		insert := "INSERT INTO " + testenv.QuoteIdent(t) + " (" + list + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
		rows, err := src.Query("SELECT " + list + " FROM `shop`." + testenv.QuoteIdent(t))
		if err != nil {
			return err
		}
		raw := make([]sql.RawBytes, len(cols))
		dest := make([]any, len(cols))
		for i := range raw {
			dest[i] = &raw[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return err
			}
			args := make([]any, len(cols))
			for i, v := range raw {
				if v != nil {
					args[i] = []byte(string(v))
				}
			}
			if _, err := conn.ExecContext(ctx, insert, args...); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func column(db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func openAs(addr, pw string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "tcp", addr, "sluice", pw
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	return db, db.Ping()
}

func fakeCLI(args []string) int {
	if len(args) < 2 {
		fmt.Fprintf(os.Stderr, "fake sluice: unexpected args %q\n", args)
		return 2
	}
	if err := recordEnv("sluice " + args[0]); err != nil {
		fmt.Fprintln(os.Stderr, "fake sluice:", err)
		return 2
	}
	// The CLI must dial the demo's Temporal, whatever the demo's own environment says.
	for _, v := range []struct{ name, want string }{
		{"TEMPORAL_ADDRESS", os.Getenv("FAKE_WANT_TEMPORAL")},
		{"SLUICE_UI_URL", "http://" + os.Getenv("FAKE_WANT_UI")},
		{"SLUICE_NAMESPACE", "default"},
		{"SLUICE_TASK_QUEUE", "sluice"},
	} {
		if got := os.Getenv(v.name); got != v.want {
			fmt.Fprintf(os.Stderr, "fake sluice: %s=%q, want %q\n", v.name, got, v.want)
			return 6
		}
	}
	if _, err := os.Stat(os.Getenv("FAKE_POLLING")); err != nil {
		fmt.Fprintln(os.Stderr, "fake sluice: started before the worker polled its task queue")
		return 5
	}
	switch args[0] {
	case "precheck", "start":
		if len(args) < 3 || args[1] != "-f" {
			fmt.Fprintf(os.Stderr, "fake sluice: unexpected args %q\n", args)
			return 2
		}
		text, err := os.ReadFile(args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if args[0] == "precheck" {
			fmt.Printf("FAKE PRECHECK of %s:\n%s\n", args[2], text)
			if c := os.Getenv("FAKE_PRECHECK_CODE"); c != "" {
				n, _ := strconv.Atoi(c)
				return n
			}
			return 0
		}
		if len(args) != 4 || args[3] != "--follow" {
			fmt.Fprintf(os.Stderr, "fake sluice: unexpected args %q\n", args)
			return 2
		}
		// Like the real one: follows until the workflow ends, i.e. after a cutover.
		fmt.Println("FAKE FOLLOW STARTED")
		if !waitFile(os.Getenv("FAKE_CUTOVER_DONE"), 2*time.Minute) {
			fmt.Fprintln(os.Stderr, "fake sluice: no cutover")
			return 4
		}
		fmt.Println("FAKE FOLLOW DONE")
		return 0
	case "status":
		if len(args) != 3 || args[1] != "sluice-shop-demo" || args[2] != "--json" {
			fmt.Fprintf(os.Stderr, "fake sluice: unexpected args %q\n", args)
			return 2
		}
		// The first answer is the full copy, later ones replication: the demo must wait.
		phase := "incremental"
		if _, err := os.Stat(os.Getenv("FAKE_STATUS_SEEN")); err != nil {
			phase = "full"
			os.WriteFile(os.Getenv("FAKE_STATUS_SEEN"), nil, 0o644)
		}
		fmt.Printf(`{"id": "sluice-shop-demo", "state": "running", "status": {"phase": %q}}`+"\n", phase)
		return 0
	case "cutover":
		if strings.Join(args[1:], " ") != "sluice-shop-demo --max-lag 1s --timeout 5m" {
			fmt.Fprintf(os.Stderr, "fake sluice: unexpected args %q\n", args)
			return 2
		}
		os.WriteFile(os.Getenv("FAKE_CUTOVER_REQ"), nil, 0o644)
		if !waitFile(os.Getenv("FAKE_CUTOVER_DONE"), time.Minute) {
			fmt.Fprintln(os.Stderr, "fake sluice: the worker did not cut over")
			return 4
		}
		fmt.Println("FAKE CUTOVER DONE")
		return 0
	}
	return 2
}

func waitFile(path string, timeout time.Duration) bool {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
	}
	return false
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// setup makes a work tree like the repository's (bin/, examples/) with fake binaries.
func setup(t *testing.T) config {
	t.Helper()
	root := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]string{"sluice-worker": "worker", "sluice": "cli"} {
		script := fmt.Sprintf("#!/bin/sh\nSLUICE_DEMO_FAKE=%s exec %q \"$@\"\n", mode, self)
		if err := os.WriteFile(filepath.Join(root, "bin", name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	workflow := filepath.Join(root, "shop.yaml")
	yaml := "name: shop-demo\nsource: {host: 127.0.0.1, port: 33061, user: sluice, password: \"${SRC_PASSWORD}\"}\n" +
		"destination:\n  host: 127.0.0.1\n  port: 33062\n  user: sluice\n  password: ${DST_PASSWORD}\n" +
		"types: [schema, full, incremental]\nobjects:\n  - database: shop\n    tables: [\"*\"]\n"
	if err := os.WriteFile(workflow, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	sample, err := filepath.Abs(filepath.Join("..", "examples", "sample", "shop.sql"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.Dir = filepath.Join(root, ".sluice", "demo")
	cfg.BinDir = filepath.Join(root, "bin")
	cfg.Workflow = workflow
	cfg.Sample = sample
	cfg.SourcePort = freePort(t)
	cfg.DestinationPort = freePort(t)
	cfg.TemporalAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	cfg.UIAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	cfg.ReadyTimeout = 60 * time.Second
	cfg.OnceTimeout = time.Minute
	t.Setenv("FAKE_SRC_ADDR", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.SourcePort)))
	t.Setenv("FAKE_DST_ADDR", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.DestinationPort)))
	t.Setenv("FAKE_WANT_TEMPORAL", cfg.TemporalAddress)
	t.Setenv("FAKE_WANT_UI", cfg.UIAddress)
	t.Setenv("FAKE_ENV_LOG", filepath.Join(root, "child-env.log"))
	t.Setenv("FAKE_POLLING", filepath.Join(root, "worker-polling"))
	t.Setenv("FAKE_MARKER", filepath.Join(root, "worker-stopped"))
	t.Setenv("FAKE_CUTOVER_REQ", filepath.Join(root, "cutover-requested"))
	t.Setenv("FAKE_CUTOVER_DONE", filepath.Join(root, "cutover-done"))
	t.Setenv("FAKE_STATUS_SEEN", filepath.Join(root, "status-seen"))
	return cfg
}

// syncBuffer is written by child-process copiers and read by the test.
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

func runDemo(t *testing.T, ctx context.Context, cfg config) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	code = run(ctx, cfg, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

func portClosed(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

func TestOnceRunsEverythingAndStops(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	cfg.Once = true
	code, out, errOut := runDemo(t, context.Background(), cfg)
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	for _, want := range []string{
		"http://" + cfg.UIAddress,
		"600 customers, 200 products, 2500 orders",
		"FAKE PRECHECK of " + filepath.Join(cfg.Dir, "shop.yaml"),
		"port: " + strconv.Itoa(cfg.SourcePort),
		"port: " + strconv.Itoa(cfg.DestinationPort),
		"replication is running; writing to the source",
		"FAKE CUTOVER DONE",
		"FAKE FOLLOW DONE",
		"source and destination hold the same data: 6 tables",
		"stopped sluice-worker",
		"stopped the source MariaDB",
		"stopped the destination MariaDB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	marker, err := os.ReadFile(filepath.Join(filepath.Dir(cfg.BinDir), "worker-stopped"))
	if err != nil || !strings.Contains(string(marker), "terminated") {
		t.Errorf("the worker was not stopped with SIGTERM: %q, %v", marker, err)
	}
	for _, p := range []int{cfg.SourcePort, cfg.DestinationPort} {
		if !portClosed(p) {
			t.Errorf("port %d still open after the demo", p)
		}
	}
	creds, err := os.ReadFile(filepath.Join(cfg.Dir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(cfg.Dir, credentialsFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", credentialsFile, fi.Mode().Perm())
	}
	for _, line := range strings.Split(string(creds), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if len(v) < 16 {
			t.Errorf("%s is too short a password", k)
		}
		if strings.Contains(out, v) || strings.Contains(errOut, v) {
			t.Errorf("the value of %s appears in the demo's output", k)
		}
	}
}

// The demo checks the outcome itself: a destination that does not match fails it.
func TestOnceFailsWhenDataDiffers(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	cfg.Once = true
	t.Setenv("FAKE_NO_COPY", "1")
	code, _, errOut := runDemo(t, context.Background(), cfg)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(errOut, "source and destination differ") || !strings.Contains(errOut, "customers: Error 1146") {
		t.Errorf("stderr does not name the differing tables")
	}
}

func TestPrecheckFailureStopsOnce(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	cfg.Once = true
	t.Setenv("FAKE_PRECHECK_CODE", "1")
	code, out, errOut := runDemo(t, context.Background(), cfg)
	if code == 0 {
		t.Fatal("exit code 0 after a failed precheck")
	}
	if !strings.Contains(errOut, "sluice precheck failed (exit status 1)") {
		t.Errorf("stderr does not report the precheck failure")
	}
	if strings.Contains(out, "FAKE FOLLOW DONE") {
		t.Errorf("the migration was started after a failed precheck")
	}
	if !portClosed(cfg.SourcePort) {
		t.Errorf("source still running")
	}
}

func TestWorkerDeathIsReported(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	t.Setenv("FAKE_WORKER_DIE", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, _, errOut := runDemo(t, ctx, cfg)
	if ctx.Err() != nil {
		t.Fatal("the demo kept running after its worker died")
	}
	if code == 0 {
		t.Fatal("exit code 0 after the worker died")
	}
	if !strings.Contains(errOut, "sluice-worker exited") || !strings.Contains(errOut, "fake worker crashing") {
		t.Errorf("stderr does not report the worker's death with its log")
	}
	if !portClosed(cfg.SourcePort) || !portClosed(cfg.DestinationPort) {
		t.Errorf("servers still running after the worker died")
	}
}

func TestInterruptStopsEverything(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, cfg, &out, &errOut) }()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "to finish: "+filepath.Join(cfg.BinDir, "sluice")+" cutover sluice-shop-demo") {
		select {
		case code := <-done:
			t.Fatalf("demo ended (exit %d) before waiting for Ctrl-C:\n%s\n%s", code, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("demo never got to waiting for Ctrl-C:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel() // what Ctrl-C does in main
	code := <-done
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	if code != 0 {
		t.Errorf("exit code %d after Ctrl-C, want 0", code)
	}
	if !strings.Contains(out.String(), "stopped sluice-worker") || !portClosed(cfg.SourcePort) || !portClosed(cfg.DestinationPort) {
		t.Errorf("not everything was stopped")
	}
}

func TestTakenPortIsNamed(t *testing.T) {
	cfg := setup(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.SourcePort)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, errOut := runDemo(t, context.Background(), cfg)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := fmt.Sprintf("port 127.0.0.1:%d (for the source MariaDB) is already in use: set %s", cfg.SourcePort, envSourcePort)
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q", want)
	}
}

func TestMissingBinaryIsExplained(t *testing.T) {
	cfg := setup(t)
	os.Remove(filepath.Join(cfg.BinDir, "sluice-worker"))
	code, _, errOut := runDemo(t, context.Background(), cfg)
	if code != 1 || !strings.Contains(errOut, "sluice-worker not found") || !strings.Contains(errOut, "make build") {
		t.Errorf("exit %d, stderr %q: want a hint to build", code, errOut)
	}
}

func TestRewritePorts(t *testing.T) {
	in := "source: {host: 127.0.0.1, port: 33061, user: sluice}\ndestination:\n  port: 33062\n  note: port 33061\nother_port: 33061x\n"
	out, err := rewritePorts([]byte(in), map[int]int{33061: 4001, 33062: 4002})
	if err != nil {
		t.Fatal(err)
	}
	want := "source: {host: 127.0.0.1, port: 4001, user: sluice}\ndestination:\n  port: 4002\n  note: port 33061\nother_port: 33061x\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := rewritePorts([]byte("port: 1\n"), map[int]int{33061: 4001}); err == nil {
		t.Error("no error when the port to replace is missing")
	}
	if _, err := rewritePorts([]byte("port: 1\n"), map[int]int{33061: 33061}); err != nil {
		t.Errorf("an unchanged port must not need to be present: %v", err)
	}
}

func TestPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	w := newPrefixWriter(&b, "w | ")
	for _, s := range []string{"one\ntw", "o\n", "", "three\nfour"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := b.String(), "w | one\nw | two\nw | three\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The passwords reach the worker (which resolves ${SRC_PASSWORD}/${DST_PASSWORD})
// and not the CLI. Stale values and a foreign TEMPORAL_ADDRESS in the demo's own
// environment must reach neither child.
func TestPasswordsReachOnlyTheWorker(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	cfg.Once = true
	t.Setenv("SRC_PASSWORD", "stale-source-password")
	t.Setenv("DST_PASSWORD", "stale-destination-password")
	t.Setenv("TEMPORAL_ADDRESS", "192.0.2.1:7233") // TEST-NET-1: a cluster that is not the demo's
	code, _, _ := runDemo(t, context.Background(), cfg)
	if code != 0 {
		// The fake worker logs in with what it got, so stale passwords fail here too.
		t.Fatalf("exit code %d, want 0", code)
	}
	log, err := os.ReadFile(os.Getenv("FAKE_ENV_LOG"))
	if err != nil {
		t.Fatal(err)
	}
	// status runs several times, concurrently with start: compare the set.
	got := slices.Compact(slices.Sorted(slices.Values(strings.Split(strings.TrimSpace(string(log)), "\n"))))
	want := []string{
		"sluice cutover SRC_PASSWORD=unset DST_PASSWORD=unset PATH=set",
		"sluice precheck SRC_PASSWORD=unset DST_PASSWORD=unset PATH=set",
		"sluice start SRC_PASSWORD=unset DST_PASSWORD=unset PATH=set",
		"sluice status SRC_PASSWORD=unset DST_PASSWORD=unset PATH=set",
		"sluice-worker SRC_PASSWORD=set DST_PASSWORD=set PATH=set",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("children saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestChildEnvs(t *testing.T) {
	cfg := defaultConfig()
	cfg.TemporalAddress, cfg.UIAddress = "127.0.0.2:17233", "127.0.0.2:18233"
	cfg.Namespace, cfg.TaskQueue = "ns1", "tq1"
	base := []string{
		"PATH=/usr/bin:/bin", "HOME=/home/u", "SRC_PASSWORD=stale", "DST_PASSWORD=",
		"TEMPORAL_ADDRESS=prod:7233", "SLUICE_UI_URL=http://prod:8233", "SLUICE_DEV=false", "LANG=C.UTF-8",
	}
	worker, cli := childEnvs(base, cfg, "src-secret", "dst-secret")
	common := []string{
		"PATH=/usr/bin:/bin", "HOME=/home/u", "LANG=C.UTF-8",
		"TEMPORAL_ADDRESS=127.0.0.2:17233", "SLUICE_NAMESPACE=ns1", "SLUICE_TASK_QUEUE=tq1",
	}
	wantWorker := append(slices.Clone(common), "SLUICE_UI_PORT=18233", "SRC_PASSWORD=src-secret", "DST_PASSWORD=dst-secret")
	wantCLI := append(slices.Clone(common), "SLUICE_UI_URL=http://127.0.0.2:18233")
	if !slices.Equal(worker, wantWorker) {
		t.Errorf("worker env:\n%q\nwant\n%q", worker, wantWorker)
	}
	if !slices.Equal(cli, wantCLI) {
		t.Errorf("CLI env:\n%q\nwant\n%q", cli, wantCLI)
	}
	// The two must not share a backing array: appending to one would overwrite the other.
	if &worker[len(common)] == &cli[len(common)] {
		t.Error("worker and CLI environments share storage")
	}
}

func TestCheckAddresses(t *testing.T) {
	for _, c := range []struct {
		fe, ui, err string
	}{
		{"127.0.0.1:7233", "127.0.0.1:8233", ""},
		{"127.0.0.1:7233", "127.0.0.2:8233", "same host"},
		{"127.0.0.1:7233", "127.0.0.1:7233", "both use port 7233"},
		{"127.0.0.1", "127.0.0.1:8233", "--temporal-address"},
		{"127.0.0.1:7233", "127.0.0.1:http", "--ui-address"},
	} {
		cfg := defaultConfig()
		cfg.TemporalAddress, cfg.UIAddress = c.fe, c.ui
		err := checkAddresses(cfg)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s, %s: %v", c.fe, c.ui, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s, %s: error %v, want one containing %q", c.fe, c.ui, err, c.err)
		}
	}
}

// A Temporal port taken after the demo's own check (here: while the servers start)
// makes the worker fail; the demo says so, names the port and shows the worker's log.
func TestWorkerStartFailureNamesThePort(t *testing.T) {
	testenv.Require(t)
	cfg := setup(t)
	cfg.Once = true
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), cfg, &out, &errOut) }()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "starting MariaDB source") {
		select {
		case code := <-done:
			t.Fatalf("demo ended (exit %d) before starting the servers:\n%s\n%s", code, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("demo never started the servers:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	l, err := net.Listen("tcp", cfg.TemporalAddress)
	if err != nil {
		t.Fatalf("take the Temporal port: %v", err)
	}
	defer l.Close()
	var code int
	select {
	case code = <-done:
	case <-deadline:
		t.Fatal("the demo kept running after its worker failed to start")
	}
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		"sluice-worker exited during start-up (exit status 1)",
		fmt.Sprintf("port %s (for the Temporal frontend of sluice-worker --dev) is already in use", cfg.TemporalAddress),
		"--temporal-address",
		"last lines of " + filepath.Join(cfg.Dir, workerLogFile),
		"address already in use", // the worker's own message, from its log
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(errOut.String(), "Web UI of sluice-worker") {
		t.Errorf("stderr blames the UI port, which is free")
	}
	if strings.Contains(out.String(), "Temporal frontend is up") || strings.Contains(out.String(), "sluice-worker is ready") {
		t.Errorf("the demo took the other program's listener for the worker")
	}
	if !portClosed(cfg.SourcePort) || !portClosed(cfg.DestinationPort) {
		t.Errorf("servers still running after the worker failed")
	}
}
