// Package testenv starts real MariaDB servers (Debian's mariadbd binaries) on
// loopback ports in a temporary directory, for integration tests and for the demo.
// See README.md for the design decisions and the environment variables that point
// tests at existing servers instead.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/sqltok"
)

// ServerOptions says how to start one server.
type ServerOptions struct {
	// Name names the server in errors and is the default directory name ("source", "destination").
	Name string
	// Binlog turns on the binary log the way sluice needs it on a source: ROW format,
	// FULL row image, FULL row metadata, GTID strict mode.
	Binlog bool
	// ServerID is server_id; 0 picks one distinct among the servers running on this machine.
	ServerID int
	// TLS generates a CA and a server certificate and starts the server with them.
	TLS bool
	// ExtraArgs are appended to the mariadbd command line (so they win over the defaults).
	ExtraArgs []string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// Dir holds the data directory, logs and certificates; "" makes a temporary one
	// that Stop removes. A given Dir is kept by Stop and must not hold a data directory yet.
	Dir string
}

// Server is a running MariaDB server (or, from environment variables, an existing one).
type Server struct {
	Name string
	Host string
	Port int
	// RootUser and RootPassword log in over TCP on Host with every privilege.
	RootUser     string
	RootPassword string
	// CAFile is the PEM file of the CA that signed the server certificate ("" without TLS).
	CAFile string
	// Dir is where the server keeps its files ("" for an existing server).
	Dir string

	cmd      *exec.Cmd
	mariadbd string   // what launch ran, for Restart
	args     []string // its arguments
	exited   chan struct{}
	waitErr  error
	errorLog string
	socket   string
	ownsDir  bool
	sockDir  string // a short temporary directory for the socket when Dir is too deep

	dbOnce   sync.Once
	db       *sql.DB
	dbErr    error
	stopOnce sync.Once
	stopErr  error
}

// Layout of a server directory.
const (
	dataSubdir   = "data"
	tmpSubdir    = "tmp"
	tlsSubdir    = "tls"
	errorLogName = "error.log"
	installLog   = "install.log"
	pidFileName  = "mariadbd.pid"
	socketName   = "mariadbd.sock"
)

// Small but fast settings shared by mariadb-install-db and mariadbd: the redo log
// size must match, or the first start resizes it.
var commonArgs = []string{
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=16M",
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_general_ci",
}

// serverIDs hands out server_id values distinct within this process; the port is
// mixed in so servers of parallel test binaries differ too.
var serverIDs atomic.Int64

// sunPathMax leaves room under the 108-byte sockaddr_un limit.
const sunPathMax = 100

// StartServer initializes a data directory, starts mariadbd and waits until it
// accepts connections. ctx bounds the start only, not the server's life.
func StartServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	if opts.Name == "" {
		opts.Name = "mariadb"
	}
	mariadbd, installDB, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: opts.Name, Host: "127.0.0.1", RootUser: "root"}
	if opts.Dir == "" {
		removeStaleDirs()
		dir, err := os.MkdirTemp("", tempPrefix+safeName(opts.Name)+"-")
		if err != nil {
			return nil, fmt.Errorf("testenv: %s: temp dir: %w", opts.Name, err)
		}
		s.Dir, s.ownsDir = dir, true
		if err := writeOwner(dir); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
		}
	} else {
		dir, err := filepath.Abs(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, dataSubdir)); err == nil {
			return nil, fmt.Errorf("testenv: %s: %s already holds a data directory: remove it first", opts.Name, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
		}
		s.Dir = dir
	}
	ok := false
	defer func() {
		if !ok {
			s.cleanupFiles()
		}
	}()

	if err := os.MkdirAll(filepath.Join(s.Dir, tmpSubdir), 0o755); err != nil {
		return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
	}
	s.errorLog = filepath.Join(s.Dir, errorLogName)
	s.socket = filepath.Join(s.Dir, socketName)
	if len(s.socket) > sunPathMax {
		d, err := os.MkdirTemp("", "sluice-sock-")
		if err != nil {
			return nil, fmt.Errorf("testenv: %s: socket dir: %w", opts.Name, err)
		}
		s.sockDir = d
		s.socket = filepath.Join(d, socketName)
	}

	if err := s.installDB(ctx, installDB); err != nil {
		return nil, err
	}
	var tlsArgs []string
	if opts.TLS {
		files, err := writeCertificates(filepath.Join(s.Dir, tlsSubdir))
		if err != nil {
			return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
		}
		s.CAFile = files.CA
		tlsArgs = []string{"--ssl-ca=" + files.CA, "--ssl-cert=" + files.Cert, "--ssl-key=" + files.Key}
	}

	// A free port can be taken by someone else between the probe and mariadbd's
	// bind (parallel test binaries do exactly that): retry with a new one.
	attempts := 1
	if opts.Port == 0 {
		attempts = 8
	}
	for i := 0; ; i++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, fmt.Errorf("testenv: %s: %w", opts.Name, err)
			}
		}
		serverID := opts.ServerID
		if serverID == 0 {
			serverID = int(serverIDs.Add(1))*100000 + port
		}
		args := s.serverArgs(port, serverID, opts.Binlog, tlsArgs, opts.ExtraArgs)
		err = s.launch(ctx, mariadbd, args)
		if err == nil {
			s.Port = port
			break
		}
		if errors.Is(err, errPortInUse) && i+1 < attempts {
			continue
		}
		if errors.Is(err, errPortInUse) {
			return nil, fmt.Errorf("testenv: %s: port %d on 127.0.0.1 is %w", opts.Name, port, err)
		}
		return nil, err
	}
	if err := s.secureRoot(ctx); err != nil {
		_ = s.stopProcess()
		return nil, err
	}
	ok = true
	return s, nil
}

func (s *Server) installDB(ctx context.Context, installDB string) error {
	args := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(s.Dir, dataSubdir),
		// The bootstrap's temporary tables are named by thread, not by process:
		// concurrent installs in a shared /tmp collide.
		"--tmpdir=" + filepath.Join(s.Dir, tmpSubdir),
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, commonArgs...)
	logPath := filepath.Join(s.Dir, installLog)
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, installDB, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = s.Dir
	cmd.SysProcAttr = ChildProcAttr()
	if err := cmd.Run(); err != nil {
		// The cause comes first in its output, then pages of generic advice.
		return fmt.Errorf("testenv: %s: mariadb-install-db failed: %w\n%s", s.Name, err, headFile(logPath, 8))
	}
	return nil
}

func (s *Server) serverArgs(port, serverID int, binlog bool, tlsArgs, extra []string) []string {
	args := []string{
		"--no-defaults", // must come first
		"--datadir=" + filepath.Join(s.Dir, dataSubdir),
		"--tmpdir=" + filepath.Join(s.Dir, tmpSubdir),
		"--socket=" + s.socket,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + filepath.Join(s.Dir, pidFileName),
		"--log-error=" + s.errorLog,
		"--server-id=" + strconv.Itoa(serverID),
		"--skip-name-resolve",
		// Speed over durability: these servers are disposable.
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-doublewrite=0",
		// Many servers on one machine can exhaust fs.aio-max-nr; simulated AIO is enough.
		"--innodb-use-native-aio=0",
		"--max-connections=300",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, commonArgs...)
	if binlog {
		args = append(args,
			"--log-bin=binlog",
			"--binlog-format=ROW",
			"--binlog-row-image=FULL",
			"--binlog-row-metadata=FULL",
			"--gtid-strict-mode=1",
			"--log-slave-updates=0",
		)
	} else {
		args = append(args, "--skip-log-bin")
	}
	args = append(args, tlsArgs...)
	return append(args, extra...)
}

// errPortInUse is what launch returns when mariadbd could not bind its port.
var errPortInUse = errors.New("already in use by another program")

// launch starts mariadbd and waits until it answers on its socket.
func (s *Server) launch(ctx context.Context, mariadbd string, args []string) error {
	logStart := fileSize(s.errorLog)
	cmd := exec.Command(mariadbd, args...)
	cmd.Dir = s.Dir
	cmd.SysProcAttr = ChildProcAttr()
	// mariadbd writes to its error log; anything else (it should be nothing) goes there too.
	out, err := os.OpenFile(s.errorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("testenv: %s: start %s: %w", s.Name, mariadbd, err)
	}
	out.Close()
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func(exited chan struct{}) {
		s.waitErr = cmd.Wait()
		close(exited)
	}(s.exited)

	deadline := time.Now().Add(90 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		if err := pingSocket(ctx, s.socket, s.RootPassword); err == nil {
			s.mariadbd, s.args = mariadbd, args
			return nil
		}
		select {
		case <-s.exited:
			logText := readFrom(s.errorLog, logStart)
			if strings.Contains(logText, "Address already in use") || strings.Contains(logText, "Bind on TCP/IP port") {
				return errPortInUse
			}
			return fmt.Errorf("testenv: %s: mariadbd exited during start-up (%v); end of its error log:\n%s",
				s.Name, s.waitErr, tailFile(s.errorLog, 30))
		case <-ctx.Done():
			_ = s.stopProcess()
			return fmt.Errorf("testenv: %s: waiting for mariadbd: %w; end of its error log:\n%s",
				s.Name, ctx.Err(), tailFile(s.errorLog, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stopProcess()
			return fmt.Errorf("testenv: %s: mariadbd did not accept connections within 90s; end of its error log:\n%s",
				s.Name, tailFile(s.errorLog, 30))
		}
	}
}

// pingSocket connects as root (password "" before secureRoot set one).
func pingSocket(ctx context.Context, socket, password string) error {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "unix", socket, "root", password
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return db.PingContext(pctx)
}

// secureRoot gives every root account a random password and drops the accounts that
// cannot log in with --skip-name-resolve (root@<hostname>) or that nobody should
// have (anonymous users).
func (s *Server) secureRoot(ctx context.Context) error {
	pw, err := randomPassword()
	if err != nil {
		return fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User = "unix", s.socket, "root"
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, "SELECT `User`, `Host` FROM mysql.user")
	if err != nil {
		return fmt.Errorf("testenv: %s: list accounts: %w", s.Name, err)
	}
	type account struct{ user, host string }
	var accounts []account
	for rows.Next() {
		var a account
		if err := rows.Scan(&a.user, &a.host); err != nil {
			rows.Close()
			return fmt.Errorf("testenv: %s: list accounts: %w", s.Name, err)
		}
		accounts = append(accounts, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("testenv: %s: list accounts: %w", s.Name, err)
	}
	var stmts []string
	haveTCPRoot := false
	for _, a := range accounts {
		switch {
		case a.user == "root" && (a.host == "localhost" || a.host == "127.0.0.1" || a.host == "::1"):
			haveTCPRoot = haveTCPRoot || a.host == "127.0.0.1"
			stmts = append(stmts, fmt.Sprintf("ALTER USER %s@%s IDENTIFIED BY %s", QuoteString(a.user), QuoteString(a.host), QuoteString(pw)))
		case a.user == "root" || a.user == "":
			stmts = append(stmts, fmt.Sprintf("DROP USER %s@%s", QuoteString(a.user), QuoteString(a.host)))
		}
	}
	if !haveTCPRoot {
		stmts = append(stmts,
			"CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY "+QuoteString(pw),
			"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("testenv: %s: secure root accounts: %s: %w", s.Name, redact(q), err)
		}
	}
	s.RootPassword = pw
	return nil
}

// Exited is closed when the server process ends (never, for an existing server).
func (s *Server) Exited() <-chan struct{} {
	if s.exited == nil {
		return nil
	}
	return s.exited
}

// ExitErr is how the process ended; valid once Exited is closed.
func (s *Server) ExitErr() error { return s.waitErr }

// ErrorLog is the path of the server's error log ("" for an existing server).
func (s *Server) ErrorLog() string { return s.errorLog }

// LogTail returns the last n lines of the error log.
func (s *Server) LogTail(n int) string {
	if s.errorLog == "" {
		return ""
	}
	return tailFile(s.errorLog, n)
}

// Stop shuts the server down (SIGTERM, then SIGKILL after a minute) and removes its
// directory when StartServer created it. For an existing server it only closes connections.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.db != nil {
			s.db.Close()
		}
		s.stopErr = s.stopProcess()
		s.cleanupFiles()
	})
	return s.stopErr
}

// Halt shuts the server down (SIGTERM: a clean shutdown, nothing committed is
// lost) and keeps its files, for tests of an outage; Restart starts it again.
func (s *Server) Halt() error {
	if s.mariadbd == "" {
		return fmt.Errorf("testenv: %s: not started by testenv: cannot halt it", s.Name)
	}
	return s.stopProcess()
}

// Restart starts a halted server again, on the same port with the same files.
func (s *Server) Restart(ctx context.Context) error {
	select {
	case <-s.exited:
	default:
		return fmt.Errorf("testenv: %s: still running", s.Name)
	}
	return s.launch(ctx, s.mariadbd, s.args)
}

func (s *Server) stopProcess() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testenv: %s: stop: %w", s.Name, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(60 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("testenv: %s: mariadbd did not stop within 60s and was killed", s.Name)
}

func (s *Server) cleanupFiles() {
	if s.sockDir != "" {
		os.RemoveAll(s.sockDir)
	}
	if s.ownsDir && s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// DSN is a go-sql-driver DSN for root over TCP with multiStatements=true.
func (s *Server) DSN(db string) string {
	return s.config(db).FormatDSN()
}

func (s *Server) config(db string) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = s.RootUser, s.RootPassword
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	cfg.DBName = db
	cfg.MultiStatements = true
	cfg.Timeout = 10 * time.Second
	return cfg
}

// Open opens a connection pool as root over TCP, with db as the default database.
func (s *Server) Open(db string) (*sql.DB, error) {
	conn, err := mysql.NewConnector(s.config(db))
	if err != nil {
		return nil, fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	return sql.OpenDB(conn), nil
}

// Exec runs statements as root, in order, stopping at the first error. Each may be
// a multi-statement string. Calls may use different connections: session state
// (USE, SET) lasts only within one string.
func (s *Server) Exec(ctx context.Context, sqls ...string) error {
	s.dbOnce.Do(func() { s.db, s.dbErr = s.Open("") })
	if s.dbErr != nil {
		return s.dbErr
	}
	for i, q := range sqls {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("testenv: %s: statement %d (%s): %w", s.Name, i+1, redact(q), err)
		}
	}
	return nil
}

// TLSConfig trusts the server's CA, for clients that verify the certificate.
func (s *Server) TLSConfig() (*tls.Config, error) {
	if s.CAFile == "" {
		return nil, fmt.Errorf("testenv: %s: server has no TLS CA", s.Name)
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("testenv: %s: %w", s.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("testenv: %s: no certificate in %s", s.Name, s.CAFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}, nil
}

// QuoteIdent quotes a MySQL identifier with backticks (sqltok.Quote).
func QuoteIdent(name string) string { return sqltok.Quote(name) }

// QuoteString quotes a MySQL string literal (sqltok.QuoteString), for statements
// that take no placeholders, such as CREATE USER.
func QuoteString(s string) string { return sqltok.QuoteString(s) }

var identifiedRE = regexp.MustCompile(`(?is)(IDENTIFIED\s+(BY|VIA|WITH)|PASSWORD\s*\().*`)

// redact shortens a statement for an error message and hides any password in it.
func redact(q string) string {
	q = identifiedRE.ReplaceAllString(q, "$1 ***")
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 120 {
		q = q[:120] + "..."
	}
	return q
}

func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return string(b)
}

// headFile returns the first n lines of a file, for error messages.
func headFile(path string, n int) string {
	lines := strings.SplitN(readFrom(path, 0), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	size := fileSize(path)
	off := size - 64*1024
	if off < 0 {
		off = 0
	}
	text := strings.TrimRight(readFrom(path, off), "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Binary search: PATH first, then the sbin directories that a non-root PATH lacks.
var searchDirs = []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin", "/usr/local/mysql/bin"}

func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	for _, d := range searchDirs {
		for _, n := range names {
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %s", names[0], strings.Join(searchDirs, ", "))
}

// ErrNoMariaDB says the server binaries are missing.
var ErrNoMariaDB = errors.New("MariaDB server binaries not found: install mariadb-server (apt-get install mariadb-server)")

func findBinaries() (mariadbd, installDB string, err error) {
	mariadbd, err = findBinary("mariadbd")
	if err != nil {
		return "", "", fmt.Errorf("testenv: %w: %v", ErrNoMariaDB, err)
	}
	installDB, err = findBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return "", "", fmt.Errorf("testenv: %w: %v", ErrNoMariaDB, err)
	}
	return mariadbd, installDB, nil
}
