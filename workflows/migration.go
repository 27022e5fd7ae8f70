// Package workflows holds the deterministic workflow code: no database driver, no
// clock, no goroutines outside workflow.Go. Work that touches servers is in activities/.
package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// Migration is the whole lifecycle: precheck -> schema -> full -> incremental -> cutover.
func Migration(ctx workflow.Context, s spec.Spec) (Result, error) {
	return Result{}, nil
}

// Precheck runs only the precheck phase.
func Precheck(ctx workflow.Context, s spec.Spec) (precheck.Report, error) {
	return precheck.Report{}, nil
}

// Result is what a finished migration returns.
type Result struct {
	Precheck precheck.Report `json:"precheck"`
	Phase    string          `json:"phase"`
}
