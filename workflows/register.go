package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register adds every sluice workflow to a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Migration, workflow.RegisterOptions{Name: MigrationName})
	r.RegisterWorkflowWithOptions(Precheck, workflow.RegisterOptions{Name: PrecheckName})
	r.RegisterWorkflowWithOptions(FullCopy, workflow.RegisterOptions{Name: FullCopyName})
	r.RegisterWorkflowWithOptions(Verify, workflow.RegisterOptions{Name: VerifyName})
}
