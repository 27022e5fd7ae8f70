package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// requireStarted skips checks that hold only for servers testenv starts itself (or
// fails them under CI, which must run them).
func requireStarted(t *testing.T) {
	t.Helper()
	if _, ok, _ := FromEnv(); ok {
		SkipOrFail(t, "checks the servers testenv starts; %s/%s point elsewhere", EnvSource, EnvDestination)
	}
}

func queryVars(t *testing.T, db *sql.DB, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		var v sql.NullString
		if err := db.QueryRow("SELECT @@GLOBAL." + n).Scan(&v); err != nil {
			t.Fatalf("SELECT @@GLOBAL.%s: %v", n, err)
		}
		out[n] = v.String
	}
	return out
}

func TestSourceReplicationSettings(t *testing.T) {
	requireStarted(t)
	env := Shared(t)
	db, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := queryVars(t, db, "log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata",
		"gtid_strict_mode", "log_slave_updates", "server_id", "have_ssl", "character_set_server")
	want := map[string]string{
		"log_bin": "1", "binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "FULL",
		"gtid_strict_mode": "1", "log_slave_updates": "0", "have_ssl": "YES", "character_set_server": "utf8mb4",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("source @@%s = %q, want %q", k, got[k], v)
		}
	}
	if got["server_id"] == "0" || got["server_id"] == "" {
		t.Errorf("source server_id = %q, want non-zero", got["server_id"])
	}

	// A write must produce a GTID in the binary log.
	ctx := context.Background()
	if err := env.Source.Exec(ctx,
		"CREATE DATABASE IF NOT EXISTS testenv_gtid",
		"CREATE TABLE IF NOT EXISTS testenv_gtid.t (id INT PRIMARY KEY)",
		"REPLACE INTO testenv_gtid.t VALUES (1)",
	); err != nil {
		t.Fatal(err)
	}
	var pos string
	if err := db.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	wantPrefix := "0-" + got["server_id"] + "-"
	if !strings.HasPrefix(pos, wantPrefix) {
		t.Errorf("gtid_binlog_pos = %q, want it to start with %q", pos, wantPrefix)
	}
}

func TestDestinationSettings(t *testing.T) {
	requireStarted(t)
	env := Shared(t)
	db, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := queryVars(t, db, "log_bin", "server_id", "have_ssl")
	if got["log_bin"] != "0" {
		t.Errorf("destination @@log_bin = %q, want 0", got["log_bin"])
	}
	if got["have_ssl"] == "YES" {
		t.Errorf("destination @@have_ssl = YES, want TLS off")
	}
	src, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if srcID := queryVars(t, src, "server_id")["server_id"]; srcID == got["server_id"] {
		t.Errorf("source and destination share server_id %s", srcID)
	}
	if env.Destination.CAFile != "" {
		t.Errorf("destination CAFile = %q, want none", env.Destination.CAFile)
	}
}

func TestSourceTLS(t *testing.T) {
	env := Shared(t)
	if env.Source.CAFile == "" {
		SkipOrFail(t, "no CA file for the source (set %s)", EnvSourceCA)
	}
	cfg, err := env.Source.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := mysql.RegisterTLSConfig("testenv-verify", cfg); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", env.Source.DSN("")+"&tls=testenv-verify")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		t.Fatalf("TLS connection with the CA: %v", err)
	}
	if cipher == "" {
		t.Errorf("Ssl_cipher is empty: the connection is not encrypted")
	}

	// Verification must be real: a client that does not trust the CA is refused.
	other := cfg.Clone()
	other.RootCAs = nil
	other.ServerName = "127.0.0.1"
	if err := mysql.RegisterTLSConfig("testenv-untrusted", other); err != nil {
		t.Fatal(err)
	}
	db2, err := sql.Open("mysql", env.Source.DSN("")+"&tls=testenv-untrusted")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Ping(); err == nil {
		t.Errorf("a client without the CA connected: the server certificate is not verifiable")
	}
}

func TestRootNeedsPassword(t *testing.T) {
	requireStarted(t)
	env := Shared(t)
	if env.Source.RootPassword == "" {
		t.Fatal("root has no password")
	}
	cfg := env.Source.config("")
	cfg.Passwd = "wrong"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	err = db.Ping()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1045 {
		t.Errorf("login with a wrong password: got %v, want error 1045 (access denied)", err)
	}
}

func TestExecReportsErrorInLaterStatement(t *testing.T) {
	env := Shared(t)
	ctx := context.Background()
	err := env.Destination.Exec(ctx,
		"CREATE DATABASE IF NOT EXISTS testenv_exec; CREATE TABLE IF NOT EXISTS testenv_exec.t (id INT PRIMARY KEY); INSERT INTO testenv_exec.no_such_table VALUES (1)")
	if err == nil {
		t.Fatal("an error in the third statement of a multi-statement string was not reported")
	}
	if !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("error %q does not name the missing table", err)
	}
	if err := env.Destination.Exec(ctx, "SELECT 1 FROM testenv_exec.t"); err != nil {
		t.Errorf("statements before the failing one did not run: %v", err)
	}
}

func TestStopEndsProcessAndRemovesDir(t *testing.T) {
	requireStarted(t)
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartServer(ctx, ServerOptions{Name: "stoptest"})
	if err != nil {
		t.Fatal(err)
	}
	pidText, err := os.ReadFile(filepath.Join(s.Dir, pidFileName))
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		s.Stop()
		t.Fatalf("mariadbd pid %d not running before Stop: %v", pid, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Exited():
	default:
		t.Error("Exited not closed after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("mariadbd pid %d still exists after Stop (kill 0: %v)", pid, err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), time.Second); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Stop", s.Port)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("temporary dir %s still exists after Stop (%v)", s.Dir, err)
	}
}

func TestStartupFailureShowsErrorLog(t *testing.T) {
	requireStarted(t)
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartServer(ctx, ServerOptions{Name: "badopt", ExtraArgs: []string{"--no-such-option-for-testenv"}})
	if err == nil {
		s.Stop()
		t.Fatal("a server with an unknown option started")
	}
	if !strings.Contains(err.Error(), "no-such-option-for-testenv") {
		t.Errorf("error does not include the error log's complaint:\n%v", err)
	}
}

func TestTakenPortIsReported(t *testing.T) {
	requireStarted(t)
	Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartServer(ctx, ServerOptions{Name: "taken", Port: port})
	if err == nil {
		s.Stop()
		t.Fatalf("started on port %d that was already taken", port)
	}
	if !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error does not say port %d is in use: %v", port, err)
	}
}

func TestParseServerEnv(t *testing.T) {
	s, err := parseServerEnv("source", EnvSource, "admin:p@ss:w0rd@db.example:3307", "/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	if s.RootUser != "admin" || s.RootPassword != "p@ss:w0rd" || s.Host != "db.example" || s.Port != 3307 || s.CAFile != "/ca.pem" {
		t.Errorf("parsed %+v", s)
	}
	s, err = parseServerEnv("source", EnvSource, "root:x@[::1]:3306", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Host != "::1" || s.Port != 3306 {
		t.Errorf("IPv6: parsed host %q port %d", s.Host, s.Port)
	}
	if !strings.Contains(s.DSN("shop"), "tcp([::1]:3306)/shop") {
		t.Errorf("IPv6 DSN = %q", s.DSN("shop"))
	}
	for _, bad := range []string{"secretpw", "u:secretpw@host", "u:secretpw@host:notaport", ":secretpw@h:1", "u:secretpw@:1"} {
		_, err := parseServerEnv("source", EnvSource, bad, "")
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: error reveals the password: %v", bad, err)
		}
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	for _, q := range []string{
		"CREATE USER 'sluice'@'%' IDENTIFIED BY 'hunter2'",
		"alter user root@localhost identified\n by 'hunter2'",
		"SET PASSWORD FOR x = PASSWORD('hunter2')",
	} {
		if r := redact(q); strings.Contains(r, "hunter2") {
			t.Errorf("redact(%q) = %q", q, r)
		}
	}
	if r := redact("SELECT 1"); r != "SELECT 1" {
		t.Errorf("redact changed a harmless statement: %q", r)
	}
}

func TestQuote(t *testing.T) {
	if got := QuoteIdent("my`table"); got != "`my``table`" {
		t.Errorf("QuoteIdent = %s", got)
	}
	if got := QuoteString(`it's \ done`); got != `'it''s \\ done'` {
		t.Errorf("QuoteString = %s", got)
	}
}

func TestRequireFailsInCI(t *testing.T) {
	// Without binaries on PATH or in the sbin dirs, Require must fail under CI.
	t.Setenv(EnvSource, "")
	t.Setenv(EnvDestination, "")
	t.Setenv("PATH", t.TempDir())
	saved := searchDirs
	searchDirs = []string{t.TempDir()}
	defer func() { searchDirs = saved }()

	t.Setenv("CI", "true")
	rec := &recorder{TB: t}
	runRequire(rec)
	if !rec.failed || rec.skipped {
		t.Errorf("CI=true: failed=%v skipped=%v, want a failure", rec.failed, rec.skipped)
	}
	if !strings.Contains(rec.msg, "install mariadb-server") {
		t.Errorf("message %q does not say what to install", rec.msg)
	}

	t.Setenv("CI", "")
	rec = &recorder{TB: t}
	runRequire(rec)
	if rec.failed || !rec.skipped {
		t.Errorf("CI unset: failed=%v skipped=%v, want a skip", rec.failed, rec.skipped)
	}
}

func TestSkipOrFail(t *testing.T) {
	t.Setenv("CI", "true")
	rec := &recorder{TB: t}
	run(rec, func() { SkipOrFail(rec, "needs %s", "x") })
	if !rec.failed || rec.skipped || rec.msg != "needs x (CI is set, so this fails instead of skipping)" {
		t.Errorf("CI=true: failed=%v skipped=%v msg=%q, want a failure", rec.failed, rec.skipped, rec.msg)
	}
	for _, ci := range []string{"", "false", "0"} {
		t.Setenv("CI", ci)
		rec = &recorder{TB: t}
		run(rec, func() { SkipOrFail(rec, "needs %s", "x") })
		if rec.failed || !rec.skipped || rec.msg != "needs x" {
			t.Errorf("CI=%q: failed=%v skipped=%v msg=%q, want a skip", ci, rec.failed, rec.skipped, rec.msg)
		}
	}
}

// recorder captures Fatal/Skip without ending the calling test.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

func runRequire(r *recorder) { run(r, func() { Require(r) }) }

// run calls f, absorbing the panic by which r stops it.
func run(r *recorder, f func()) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f()
}
