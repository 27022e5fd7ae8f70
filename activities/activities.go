// Package activities holds the work that touches servers. Each exported method of
// Activities is a Temporal activity.
package activities

import (
	"os"
	"sync"

	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/logging"
)

// Activities carries what every activity needs from its worker.
type Activities struct {
	Log *zap.Logger
	// LookupEnv expands ${NAME} password references; os.LookupEnv on a real worker.
	LookupEnv func(string) (string, bool)
	// OnSecret is told every secret the worker resolves, so the log core can mask it.
	OnSecret func(string)

	schemaCache schemaCache
	limMu       sync.Mutex
	limiters    map[string]*runLimiter
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
