// Package activities holds the work that touches servers. Each exported method of
// Activities is a Temporal activity.
package activities

import (
	"os"
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/alert"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/logging"
	"github.com/sluice-dev/sluice/metrics"
)

// Activities carries what every activity needs from its worker.
type Activities struct {
	Log *zap.Logger
	// LookupEnv expands ${NAME} password references; os.LookupEnv on a real worker.
	LookupEnv func(string) (string, bool)
	// OnSecret is told every secret the worker resolves, so the log core can mask it.
	OnSecret func(string)

	// Client reads the migrations' control state (throttle, pause) and reports
	// retries; nil (tests of single activities): the workflow file's limits.
	Client client.Client
	// Metrics records sluice's metrics (nil: none).
	Metrics *metrics.Metrics

	schemaCache schemaCache
	ctlMu       sync.Mutex
	watches     map[string]*controlWatch
	alertOnce   sync.Once
	alerts      *alert.Sender
}

// New returns the activities of a worker whose environment holds the secrets.
func New(log *zap.Logger) *Activities {
	dbconn.SetLogger(log)
	return &Activities{Log: log, LookupEnv: os.LookupEnv, OnSecret: logging.RegisterSecret}
}

// Register adds every activity of a to a worker.
func Register(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivity(a)
}
