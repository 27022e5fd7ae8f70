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
