package precheck

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// missingColumns lists, for tables kept on the destination (options.conflicts:
// ignore), the migrated columns the destination table lacks: rows could not be
// written into it.
func missingColumns(f *Facts, present []plan.Table) []string {
	src, dst := f.Source.Catalog, f.Destination.Catalog
	if src == nil || dst == nil {
		return nil
	}
	fold := f.Destination.LowerCaseTableNames() != 0
	key := func(db, table string) string {
		if fold {
			return strings.ToLower(db) + "\x00" + strings.ToLower(table)
		}
		return db + "\x00" + table
	}
	dstCols := map[string]map[string]bool{}
	for _, c := range dst.Columns {
		k := key(c.DB, c.Table)
		if dstCols[k] == nil {
			dstCols[k] = map[string]bool{}
		}
		dstCols[k][strings.ToLower(c.Name)] = true // column names never depend on case
	}
	names := f.Plan.Names()
	var out []string
	for _, t := range present {
		have := dstCols[key(t.Dest.DB, t.Dest.Table)]
		if have == nil {
			continue
		}
		for _, c := range src.Columns {
			if c.DB != t.Source.DB || c.Table != t.Source.Table {
				continue
			}
			to, excluded := names.Column(c.DB, c.Table, c.Name)
			if !excluded && !have[strings.ToLower(to)] {
				out = append(out, fmt.Sprintf("%s.%s (for %s.%s)", t.Dest, plan.QuoteIdent(to), t.Source, plan.QuoteIdent(c.Name)))
			}
		}
	}
	return out
}

// checkNotMigrated names the objects of the selected databases that the schema
// phase leaves behind, so nobody finds out after cutover.
func checkNotMigrated(f *Facts) Item {
	cat := f.Source.Catalog
	if cat == nil {
		return warn(fmt.Sprintf("cannot read the source catalog (%s)", f.Source.CatalogError), "grant the source account SELECT on the selected databases")
	}
	var events, sequences []string
	for _, e := range cat.Events {
		events = append(events, "event "+e.String())
	}
	selected := map[plan.Name]bool{}
	for _, t := range f.Plan.Tables {
		selected[t.Source] = true
	}
	for _, t := range cat.Tables {
		if t.Type == "SEQUENCE" && selected[plan.Name{DB: t.DB, Table: t.Name}] {
			sequences = append(sequences, "sequence "+plan.Name{DB: t.DB, Table: t.Name}.String())
		}
	}
	all := append(events, sequences...)
	if len(all) == 0 {
		return pass("every object of the selected databases that sluice finds is migrated (events would not be)")
	}
	return warn(fmt.Sprintf("%s not migrated: %s", plural(len(all), "object is", "objects are"), capList(all)),
		"events: recreate them on the destination after cutover (running on both servers, they would change rows twice); "+
			"sequences: create them on the destination yourself, or leave them out with exclude_tables; "+
			"or accept with objects.not_migrated in options.ignore_warnings: the schema phase then leaves them out")
}

func schemaChosen(f *Facts) bool { return f.Spec.Has(spec.TypeSchema) }

// checkExcludedColumns fails when an excluded column is used by something the schema
// phase would create: the statement would fail on the destination half way through.
func checkExcludedColumns(f *Facts) Item {
	excludes := false
	for _, t := range f.Plan.Tables {
		if len(t.Entry.ExcludeColumns) > 0 {
			excludes = true
		}
	}
	switch {
	case !excludes:
		return pass("no column is excluded (exclude_columns)")
	case f.Schema == nil:
		return warn(fmt.Sprintf("cannot read the source definitions (%s): uses of excluded columns are not checked", f.SchemaError),
			"grant the source account SELECT and SHOW VIEW on the selected databases")
	case len(f.Schema.ExcludedColumnDeps) > 0:
		return fail(fmt.Sprintf("%s on the destination: %s", plural(len(f.Schema.ExcludedColumnDeps), "an excluded column is used by an object that would be created", "excluded columns are used by objects that would be created"),
			capList(f.Schema.ExcludedColumnDeps)),
			"keep the column (remove it from exclude_columns), or exclude what uses it too (exclude_tables for a view; an index, generated column or trigger goes with its table; "+
				"a routine goes with an object that selects every table), or change the trigger or routine on the source")
	case f.Schema.ExclusionsError != "":
		return warn(fmt.Sprintf("cannot check every use of excluded columns: %s", f.Schema.ExclusionsError),
			"check that the source account can run SHOW CREATE TABLE, VIEW, PROCEDURE, FUNCTION and TRIGGER on the selected objects")
	}
	return pass("no index, generated column, CHECK, foreign key, view, trigger or routine uses an excluded column")
}

// checkDependencies fails when the schema phase cannot get through: the objects it
// would create cannot be resolved (a view and a table mapped to one name, a view
// cycle), or a selected view reads a table or view, or calls a stored function,
// that is not migrated and not on the destination (CREATE VIEW would fail after the
// tables were created).
func checkDependencies(f *Facts) Item {
	if f.Schema == nil {
		why := f.SchemaError
		if why == "" {
			why = "not read"
		}
		return fail(fmt.Sprintf("cannot work out the objects the schema phase would create: %s", why),
			"a view and a table mapped to one destination name: rename one (to:) or leave one out (exclude_tables); "+
				"views reading each other in a cycle: exclude one; a privilege error: grant the source account SELECT and SHOW VIEW on the selected databases")
	}
	if f.Schema.DependenciesError != "" {
		return warn(fmt.Sprintf("cannot check what the selected views depend on: %s", f.Schema.DependenciesError),
			"grant the source account SHOW VIEW on the selected databases")
	}
	var missing []string
	present := 0
	for _, d := range f.Schema.Dependencies {
		if d.OnDestination {
			present++
			continue
		}
		m := fmt.Sprintf("%s needs %s %s (%s)", d.Dependent, d.Kind, d.Source, d.Reason)
		if d.Dest != d.Source {
			m += fmt.Sprintf(", which the destination lacks as %s", d.Dest)
		}
		missing = append(missing, m)
	}
	if len(missing) > 0 {
		return fail(fmt.Sprintf("%s not migrated and not on the destination, so CREATE VIEW would fail there after the tables were created: %s",
			plural(len(missing), "dependency of a selected view is", "dependencies of selected views are"), capList(missing)),
			"migrate what the view needs (select the table, add its database to objects; a function is migrated with an object that selects every table), "+
				"create it on the destination first, or leave the view out (exclude_tables)")
	}
	if present > 0 {
		return pass(fmt.Sprintf("every table, view and function the selected views need is migrated or already on the destination (%d already there)", present))
	}
	return pass("every table, view and function the selected views need is migrated")
}

// existingObjects lists views, routines and triggers the schema phase would create
// that already exist on the destination.
func existingObjects(f *Facts) []string {
	if f.Schema == nil || f.Destination.Catalog == nil {
		return nil
	}
	dst := f.Destination.Catalog
	fold := f.Destination.LowerCaseTableNames() != 0
	norm := func(n plan.Name) plan.Name {
		if fold {
			return plan.Name{DB: strings.ToLower(n.DB), Table: strings.ToLower(n.Table)}
		}
		return n
	}
	// A view's name is taken by a view or a table alike (CREATE OR REPLACE VIEW
	// cannot replace a table).
	taken := map[plan.Name]bool{}
	for _, t := range dst.Tables {
		taken[norm(plan.Name{DB: t.DB, Table: t.Name})] = true
	}
	var out []string
	for _, v := range f.Schema.Views {
		if taken[norm(v)] {
			out = append(out, "view "+v.String())
		}
	}
	for _, r := range f.Schema.Routines {
		for _, d := range dst.Routines {
			// Routine names compare case-insensitively on every server.
			if norm(plan.Name{DB: d.DB}).DB == norm(plan.Name{DB: r.DB}).DB && strings.EqualFold(d.Name, r.Name) && d.Type == r.Type {
				out = append(out, strings.ToLower(r.Type)+" "+plan.Name{DB: r.DB, Table: r.Name}.String())
			}
		}
	}
	for _, tr := range f.Schema.Triggers {
		for _, d := range dst.Triggers {
			if norm(plan.Name{DB: d.DB}).DB == norm(plan.Name{DB: tr.DB}).DB && d.Name == tr.Table {
				out = append(out, "trigger "+tr.String())
			}
		}
	}
	return out
}

// kindMismatches lists target names the destination holds as the other kind: a
// table where a view goes, or a view where a table goes. Neither is replaced, not
// even with options.conflicts: ignore, so the schema phase would fail on it.
func kindMismatches(f *Facts) []string {
	if f.Destination.Catalog == nil {
		return nil
	}
	fold := f.Destination.LowerCaseTableNames() != 0
	norm := func(n plan.Name) plan.Name {
		if fold {
			return plan.Name{DB: strings.ToLower(n.DB), Table: strings.ToLower(n.Table)}
		}
		return n
	}
	isView := map[plan.Name]bool{}
	for _, t := range f.Destination.Catalog.Tables {
		isView[norm(plan.Name{DB: t.DB, Table: t.Name})] = t.IsView()
	}
	var out []string
	for _, t := range f.Plan.Tables {
		if v, ok := isView[norm(t.Dest)]; ok && v {
			out = append(out, fmt.Sprintf("table %s -> %s (a view there)", t.Source, t.Dest))
		}
	}
	if f.Schema != nil {
		for _, v := range f.Schema.Views {
			if isV, ok := isView[norm(v)]; ok && !isV {
				out = append(out, fmt.Sprintf("view %s (a table there)", v))
			}
		}
	}
	return out
}
