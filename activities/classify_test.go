package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"go.temporal.io/sdk/temporal"
)

func TestClassifyRetriesTransientErrors(t *testing.T) {
	for _, c := range []struct {
		err       error
		retryable bool
	}{
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1213, Message: "Deadlock found"}), true},
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}), true},
		{fmt.Errorf("copy: %w", context.Canceled), true},
		{fmt.Errorf("copy: %w", &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}), false},
		{errors.New("syntax"), false},
	} {
		var ae *temporal.ApplicationError
		if !errors.As(classify(c.err), &ae) {
			t.Fatalf("%v: not an application error", c.err)
		}
		if ae.NonRetryable() == c.retryable {
			t.Errorf("%v: non-retryable = %v", c.err, ae.NonRetryable())
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
