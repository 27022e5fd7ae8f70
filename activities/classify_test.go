package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/temporal"
)

// Every error class of the retry windows: connection (retry.connection), other
// (retry.other), and errors of cancellation (no window).
func TestClassifyErrorClasses(t *testing.T) {
	for _, c := range []struct {
		err   error
		class string // "" = no window
	}{
		// Retried in place by the copier and applier; one that escapes them is
		// bounded like any other failure.
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}), ClassOther},
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}), ClassOther},
		{fmt.Errorf("copy: %w", context.Canceled), ""},
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}), ClassOther},
		{fmt.Errorf("ddl: %w", &mysql.MySQLError{Number: 1064, Message: "You have an error in your SQL syntax"}), ClassOther},
		{fmt.Errorf("ddl: %w", &mysql.MySQLError{Number: 1142, Message: "ALTER command denied"}), ClassOther},
		{errors.New("something else"), ClassOther},
		{fmt.Errorf("read: %w", &mysql.MySQLError{Number: 2013, Message: "Lost connection"}), ClassConnection},
		{fmt.Errorf("read: %w", &mysql.MySQLError{Number: 1290, Message: "running with the --read-only option"}), ClassConnection},
		{fmt.Errorf("binlog: %w", &gomysql.MyError{Code: 1053, Message: "Server shutdown in progress"}), ClassConnection},
		{fmt.Errorf("binlog: %w", io.EOF), ClassConnection},
		{fmt.Errorf("binlog: %w", gomysql.ErrBadConn), ClassConnection},
		{fmt.Errorf("open: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), ClassConnection},
		{temporal.NewNonRetryableApplicationError("fenced", "Fenced", nil), ""},
	} {
		err := classify(c.err)
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) {
			t.Fatalf("%v: not an application error", c.err)
		}
		class, ok := classOf(err)
		if !ok {
			class = ""
		}
		if class != c.class {
			t.Errorf("%v: class %q, want %q", c.err, class, c.class)
		}
	}
}

// A wrapped ApplicationError comes back on top (Temporal reads only the top
// error): its type and retryability kept, the whole message kept.
func TestClassifyLiftsWrappedApplicationErrors(t *testing.T) {
	inner := temporal.NewNonRetryableApplicationError("row (id=42): transform.s failed", ErrETL, nil)
	err := classify(fmt.Errorf("full: t chunk 3: %w", fmt.Errorf("copier: %w", inner)))
	ae, ok := err.(*temporal.ApplicationError)
	if !ok || !ae.NonRetryable() || ae.Type() != ErrETL || ae.Message() != "full: t chunk 3: copier: row (id=42): transform.s failed" {
		t.Errorf("got %T %v", err, err)
	}
	if again := classify(inner); again != error(inner) {
		t.Error("a top-level ApplicationError must come back as is")
	}
}
