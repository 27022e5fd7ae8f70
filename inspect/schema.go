package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/schema"
	"github.com/sluice-dev/sluice/spec"
)

// readSchemaFacts lists the views, routines and triggers the schema phase would
// create (by destination name), what depends on excluded columns, and what the
// selected views need that is not migrated (looked up on dst, which may be nil),
// with the same code the schema phase runs.
func readSchemaFacts(ctx context.Context, src, dst *sql.DB, s spec.Spec, p plan.Plan, opt plan.Options) (*precheck.SchemaFacts, string) {
	objs, err := schema.ReadObjects(ctx, src, s, p, opt)
	if err != nil {
		return nil, err.Error()
	}
	sf := &precheck.SchemaFacts{}
	for _, v := range objs.Views {
		sf.Views = append(sf.Views, v.Dest)
	}
	for _, r := range objs.Routines {
		sf.Routines = append(sf.Routines, precheck.Routine{DB: r.DestDB, Name: r.Name, Type: r.Kind})
	}
	for _, t := range objs.Triggers {
		sf.Triggers = append(sf.Triggers, plan.Name{DB: t.Dest.DB, Table: t.Name})
	}
	names := objs.Names(p.Names())
	excluded := map[plan.Name]bool{}
	for _, t := range p.Tables {
		if len(t.Entry.ExcludeColumns) > 0 {
			excluded[t.Source] = true
		}
	}
	if len(excluded) > 0 {
		deps, err := schema.CheckExclusions(ctx, src, objs, names, func(t schema.Table) bool { return excluded[t.Source] })
		sf.ExcludedColumnDeps = deps
		if err != nil {
			sf.ExclusionsError = err.Error()
		}
	}
	deps, err := objs.Dependencies(ctx, src, names)
	if err != nil {
		sf.DependenciesError = err.Error()
	}
	for _, d := range deps {
		pd := precheck.Dependency{Dependent: d.Dependent, Kind: d.Kind, Source: d.Source, Dest: d.Dest, Reason: d.Reason}
		if dst != nil {
			pd.OnDestination, err = onDestination(ctx, dst, d, opt.DestinationLowerCaseTableNames != 0)
			if err != nil && sf.DependenciesError == "" {
				sf.DependenciesError = err.Error()
			}
		}
		sf.Dependencies = append(sf.Dependencies, pd)
	}
	return sf, ""
}

// onDestination reports whether the destination has a dependency under its
// destination name. information_schema compares names without case; table names
// are then compared exactly unless the destination folds them.
func onDestination(ctx context.Context, dst *sql.DB, d schema.Dependency, folds bool) (bool, error) {
	q := `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`
	exact := !folds
	if d.Kind == schema.DependsOnFunction {
		q = `SELECT ROUTINE_SCHEMA, ROUTINE_NAME FROM information_schema.ROUTINES
			WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'`
	}
	rows, err := dst.QueryContext(ctx, q, d.Dest.DB, d.Dest.Table)
	if err != nil {
		return false, fmt.Errorf("look up %s on the destination: %w", d.Dest, err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var db, name string
		if err := rows.Scan(&db, &name); err != nil {
			return false, fmt.Errorf("look up %s on the destination: %w", d.Dest, err)
		}
		switch {
		case d.Kind == schema.DependsOnFunction: // function names never depend on case
			found = found || (db == d.Dest.DB || folds) && strings.EqualFold(name, d.Dest.Table)
		case exact:
			found = found || db == d.Dest.DB && name == d.Dest.Table
		default:
			found = true
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("look up %s on the destination: %w", d.Dest, err)
	}
	return found, nil
}
