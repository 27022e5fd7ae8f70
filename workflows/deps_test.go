package workflows

import (
	"os/exec"
	"strings"
	"testing"
)

// Workflow code is replayed: it must not reach a database or any package that does.
// The build graph is the proof, so a new import cannot slip in unnoticed.
func TestWorkflowsImportNoDatabaseCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list returned only %d packages: not a real dependency list", len(deps))
	}
	// database/sql/driver (interfaces only) comes in through google/uuid; database/sql
	// itself, or any driver, must not.
	forbidden := []string{
		"database/sql", "github.com/go-sql-driver/", "github.com/go-mysql-org/",
		"github.com/sluice-dev/sluice/activities", "github.com/sluice-dev/sluice/inspect",
		"github.com/sluice-dev/sluice/dbconn", "github.com/sluice-dev/sluice/testenv",
		"github.com/sluice-dev/sluice/devserver",
		"go.temporal.io/server/",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
				t.Errorf("workflows depends on %s", d)
			}
		}
	}
}
