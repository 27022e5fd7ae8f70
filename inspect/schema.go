package inspect

import (
	"context"
	"database/sql"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/schema"
	"github.com/sluice-dev/sluice/spec"
)

// readSchemaFacts lists the views, routines and triggers the schema phase would
// create (by destination name) and what depends on excluded columns, with the same
// code the schema phase runs.
func readSchemaFacts(ctx context.Context, src *sql.DB, s spec.Spec, p plan.Plan, opt plan.Options) (*precheck.SchemaFacts, string) {
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
	excluded := map[plan.Name]bool{}
	for _, t := range p.Tables {
		if len(t.Entry.ExcludeColumns) > 0 {
			excluded[t.Source] = true
		}
	}
	if len(excluded) > 0 {
		deps, err := schema.CheckExclusions(ctx, src, objs, objs.Names(p.Names()), func(t schema.Table) bool { return excluded[t.Source] })
		sf.ExcludedColumnDeps = deps
		if err != nil {
			sf.ExclusionsError = err.Error()
		}
	}
	return sf, ""
}
