package inspect

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// Resolved is the workflow file's selection resolved against the live servers.
type Resolved struct {
	Plan    plan.Plan
	Options plan.Options
	Catalog *precheck.Catalog
}

// Resolve reads the source catalog and resolves the workflow file's selection the
// way the precheck did, for the phases after it. The destination is asked only for
// its lower_case_table_names (it shapes destination names).
func Resolve(ctx context.Context, s spec.Spec, src, dst *sql.DB) (*Resolved, error) {
	srcLCT, err := lowerCaseTableNames(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dstLCT, err := lowerCaseTableNames(ctx, dst)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	cat, all, err := readCatalog(ctx, src, sourceDatabases(s))
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	opt := plan.Options{DestinationLowerCaseTableNames: dstLCT}
	return &Resolved{Plan: plan.Resolve(s, planCatalog(cat, all, srcLCT), opt), Options: opt, Catalog: cat}, nil
}

func lowerCaseTableNames(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "SELECT @@lower_case_table_names").Scan(&v); err != nil {
		return 0, fmt.Errorf("read lower_case_table_names: %w", err)
	}
	return v, nil
}
