package workflows

import "go.temporal.io/sdk/worker"

// Register adds every sluice workflow to a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflow(Migration)
	r.RegisterWorkflow(Precheck)
}
