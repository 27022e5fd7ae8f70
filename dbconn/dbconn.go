// Package dbconn opens connections to the source and destination from a spec.Endpoint,
// expanding secret references on the worker and keeping secrets out of every error.
package dbconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/spec"
)

// SetLogger sends the driver's own messages (it prints to stderr by default) to zap.
// They carry addresses and protocol errors, never passwords.
func SetLogger(l *zap.Logger) {
	_ = mysql.SetLogger(driverLogger{l.WithOptions(zap.AddCallerSkip(2)).Sugar()})
}

type driverLogger struct{ s *zap.SugaredLogger }

func (d driverLogger) Print(v ...any) { d.s.Warn(append([]any{"mysql driver: "}, v...)...) }

// LookupFunc finds an environment variable; os.LookupEnv on a worker.
type LookupFunc func(string) (string, bool)

// Password expands the endpoint's secret reference. It runs on the worker only: the
// workflow input carries the reference, never the value.
func Password(ep spec.Endpoint, lookup LookupFunc) (string, error) {
	switch {
	case ep.PasswordFile != "":
		b, err := os.ReadFile(ep.PasswordFile)
		if err != nil {
			// The path is not secret; the content never appears here.
			return "", fmt.Errorf("read password_file %s: %w", ep.PasswordFile, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case ep.Password == "":
		return "", nil
	}
	name, ok := ep.PasswordRef()
	if !ok {
		// Validation refuses literal passwords; never echo the value.
		return "", errors.New("password must be a ${NAME} reference to an environment variable of the worker")
	}
	v, ok := lookup(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s (password of %s@%s) is not set on the worker: export it before starting sluice-worker", name, ep.User, ep.Address())
	}
	return v, nil
}

// Config builds the driver configuration. Raw bytes are moved (no parseTime) so values
// are never reinterpreted.
func Config(ep spec.Endpoint, password string) (*mysql.Config, error) {
	cfg := mysql.NewConfig()
	cfg.User = ep.User
	cfg.Passwd = password
	cfg.Net = "tcp"
	cfg.Addr = ep.Address()
	cfg.Timeout = 10 * time.Second
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	t, fallback, err := tlsConfig(ep)
	if err != nil {
		return nil, err
	}
	cfg.TLS = t
	cfg.AllowFallbackToPlaintext = fallback
	return cfg, nil
}

// tlsConfig maps the MySQL client's --ssl-mode values onto crypto/tls.
func tlsConfig(ep spec.Endpoint) (*tls.Config, bool, error) {
	mode := ep.TLS.Mode
	if mode == "" {
		mode = "preferred"
	}
	var pool *x509.CertPool
	if ep.TLS.CA != "" {
		pem, err := os.ReadFile(ep.TLS.CA)
		if err != nil {
			return nil, false, fmt.Errorf("tls.ca: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, false, fmt.Errorf("tls.ca %s: no PEM certificate in it", ep.TLS.CA)
		}
	}
	var certs []tls.Certificate
	if ep.TLS.Cert != "" || ep.TLS.Key != "" {
		c, err := tls.LoadX509KeyPair(ep.TLS.Cert, ep.TLS.Key)
		if err != nil {
			return nil, false, fmt.Errorf("tls.cert/tls.key: %w", err)
		}
		certs = []tls.Certificate{c}
	}
	serverName := ep.TLS.ServerName
	if serverName == "" {
		serverName = ep.Host
	}
	switch mode {
	case "disabled":
		return nil, false, nil
	case "preferred":
		return &tls.Config{InsecureSkipVerify: true, Certificates: certs}, true, nil
	case "required":
		return &tls.Config{InsecureSkipVerify: true, Certificates: certs}, false, nil
	case "verify-ca":
		if pool == nil {
			return nil, false, errors.New("tls.mode verify-ca needs tls.ca")
		}
		// Chain verified against the CA, host name not checked (like --ssl-mode=VERIFY_CA).
		return &tls.Config{InsecureSkipVerify: true, Certificates: certs,
			VerifyPeerCertificate: verifyChain(pool)}, false, nil
	case "verify-identity":
		return &tls.Config{RootCAs: pool, ServerName: serverName, Certificates: certs}, false, nil
	}
	return nil, false, fmt.Errorf("tls.mode %q is not one of disabled, preferred, required, verify-ca, verify-identity", mode)
}

func verifyChain(pool *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("server sent no certificate")
		}
		leaf, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		inter := x509.NewCertPool()
		for _, r := range raw[1:] {
			if c, err := x509.ParseCertificate(r); err == nil {
				inter.AddCert(c)
			}
		}
		_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
		return err
	}
}

// Option adjusts a pool's driver settings.
type Option func(*mysql.Config)

// MultiStatements lets one Exec carry several statements separated by ';' (the
// incremental applier sends a slot's statements in few round trips). Only for
// pools whose SQL sluice builds itself, values as literals it encodes.
func MultiStatements(c *mysql.Config) { c.MultiStatements = true }

// Open resolves the secret, connects and pings. role ("source", "destination") names
// the endpoint in errors. The error never contains the password.
func Open(ctx context.Context, role string, ep spec.Endpoint, lookup LookupFunc, opts ...Option) (*sql.DB, error) {
	pw, err := Password(ep, lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	cfg, err := Config(ep, pw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	for _, o := range opts {
		o(cfg)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, Redact(err, pw))
	}
	db := sql.OpenDB(conn)
	db.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, &ConnectError{Role: role, Endpoint: ep, Err: Redact(err, pw)}
	}
	return db, nil
}

// ConnectError says which server could not be reached, why, and what to do.
type ConnectError struct {
	Role     string
	Endpoint spec.Endpoint
	Err      error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect to %s %s@%s: %v", e.Role, e.Endpoint.User, e.Endpoint.Address(), e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Remedy suggests a fix for a connection failure.
func (e *ConnectError) Remedy() string {
	var me *mysql.MySQLError
	var ne net.Error
	switch {
	case errors.As(e.Err, &me) && me.Number == 1045:
		return "check the user name and the password the worker expands for " + e.Role + " (the password reference or password_file in the workflow file)"
	case errors.As(e.Err, &me) && (me.Number == 1044 || me.Number == 1142):
		return "grant the user the privileges listed in docs/precheck.md"
	case errors.Is(e.Err, mysql.ErrNoTLS):
		return "the server does not offer TLS: enable it on the server (ssl_cert, ssl_key) or set tls.mode to preferred or disabled"
	case strings.Contains(e.Err.Error(), "certificate"):
		return "check tls.ca and tls.server_name against the server certificate, or use tls.mode required to skip verification"
	case errors.As(e.Err, &ne) || strings.Contains(e.Err.Error(), "connection refused"):
		return "check host and port, that the server runs and that the worker can reach it (firewall, bind-address)"
	}
	return "check the " + e.Role + " section of the workflow file"
}

// Redact removes a secret from an error's text, keeping nothing of the original chain
// when it would leak.
func Redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "******"))
}

// IsConnectionError tells failures worth retrying for the connection window:
// network trouble, the server gone or shutting down, too many connections, and
// a server turned read-only (a failover in progress), for the database/sql
// driver and go-mysql's binlog connection alike.
func IsConnectionError(err error) bool {
	if err == nil {
		return false
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		var me *mysql.MySQLError
		return !errors.As(ce.Err, &me) || connectionCode(me.Number)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gomysql.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return connectionCode(me.Number)
	}
	var ge *gomysql.MyError
	if errors.As(err, &ge) {
		return connectionCode(ge.Code)
	}
	return false
}

func connectionCode(n uint16) bool {
	switch n {
	case 1040, 1053, 1203, // too many connections, server shutdown, too many user connections
		2002, 2003, 2006, 2013, // cannot connect (socket, TCP), gone away, lost during query
		1290, 1836, 1792: // read-only (--read-only, read-only mode, read-only transaction): a failover
		return true
	}
	return false
}

// IsLockConflict tells a deadlock or a lock wait timeout: the transaction was
// rolled back and running it again usually succeeds.
func IsLockConflict(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// DDLAlreadyApplied tells the errors a DDL statement gives when it already ran
// (measured on MariaDB 10.11 by running each replicated kind twice): a re-run
// after a crash between a DDL and its checkpoint tolerates them for that one
// statement.
func DDLAlreadyApplied(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case 1050, // table exists
		1051, // unknown table
		1054, // unknown column
		1060, // duplicate column
		1061, // duplicate key name
		1068, // multiple primary key
		1091, // can't drop: does not exist
		1146, // table doesn't exist
		1304, // routine exists
		1305, // routine does not exist
		1359, // trigger exists
		1360, // trigger does not exist
		1507, // partition does not exist
		1517, // duplicate partition name
		1826, // duplicate foreign key constraint name
		4031: // duplicate check constraint name
		return true
	case 1005: // can't create table: errno 121 is a duplicate foreign key
		return strings.Contains(me.Message, "errno: 121")
	}
	return false
}
