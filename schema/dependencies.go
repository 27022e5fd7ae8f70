package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
)

// Dependency kinds.
const (
	DependsOnTable    = "table or view"
	DependsOnFunction = "function"
)

// Dependency is something a selected view reads or calls that the schema phase does
// not create. CREATE VIEW fails on the destination when it is not there, after the
// tables were created, so the precheck looks for it first.
type Dependency struct {
	// Dependent is the view, e.g. "view `shop`.`v_orders`" (source name).
	Dependent string
	Kind      string    // DependsOnTable or DependsOnFunction
	Source    plan.Name // the dependency's source name (Table holds a function's name)
	// Dest is the name the rewritten view uses for it on the destination.
	Dest plan.Name
	// Reason says why it is not migrated.
	Reason string
}

// Dependencies lists what the selected views read (tables, views) or call (stored
// functions) that the schema phase does not migrate: a table or view not selected
// (tables:, exclude_tables) or in a database that no object names, a sequence, or a
// function of a database whose routines are not migrated. n is o.Names(plan names).
// Whether the destination has them already is for the caller to find out.
func (o *Objects) Dependencies(ctx context.Context, src *sql.DB, n ddl.Names) ([]Dependency, error) {
	fold := func(s string) string {
		if o.plan.SourceFoldsCase {
			return strings.ToLower(s)
		}
		return s
	}
	key := func(x plan.Name) plan.Name { return plan.Name{DB: fold(x.DB), Table: fold(x.Table)} }
	migrated := map[plan.Name]bool{}
	for _, t := range o.Tables {
		migrated[key(t.Source)] = true
	}
	for _, v := range o.Views {
		migrated[key(v.Source)] = true
	}
	sequences := map[plan.Name]bool{}
	for _, s := range o.Sequences {
		sequences[key(s)] = true
	}
	dbs := map[string]bool{}
	for _, d := range o.plan.SourceDatabases() {
		dbs[fold(d)] = true
	}
	functions := map[plan.Name]bool{} // function names compare without case
	for _, r := range o.Routines {
		if strings.EqualFold(r.Kind, Function) {
			functions[plan.Name{DB: fold(r.DB), Table: strings.ToLower(r.Name)}] = true
		}
	}
	var out []Dependency
	for _, v := range o.Views {
		create := ""
		if def := o.viewDefs[v.Source]; def != "" {
			create = "CREATE VIEW " + v.Source.String() + " AS " + def
		} else {
			var err error
			if create, err = showCreateView(ctx, src, v.Source); err != nil {
				return out, err
			}
		}
		what := "view " + v.Source.String()
		refs, err := ddl.ViewDependencies(v.Source.DB, create)
		if err != nil {
			return out, fmt.Errorf("%s: dependencies: %w", what, err)
		}
		for _, r := range refs {
			name := plan.Name{DB: r.Database, Table: r.Name}
			if migrated[key(name)] {
				continue
			}
			d := Dependency{Dependent: what, Kind: DependsOnTable, Source: name}
			d.Dest.DB, d.Dest.Table, _ = n.Table(r.Database, r.Name)
			switch {
			case !dbs[fold(r.Database)]:
				d.Reason = "its database is not in objects"
			case sequences[key(name)]:
				d.Reason = "a sequence, which is not migrated"
			default:
				d.Reason = "not selected (tables:, exclude_tables)"
			}
			out = append(out, d)
		}
		calls, err := ddl.ViewFunctionCalls(v.Source.DB, create)
		if err != nil {
			return out, fmt.Errorf("%s: function calls: %w", what, err)
		}
		for _, c := range calls {
			if functions[plan.Name{DB: fold(c.Database), Table: strings.ToLower(c.Name)}] {
				continue
			}
			// A candidate only (see ddl.ViewFunctionCalls): is it a source function?
			var count int
			err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.ROUTINES
				WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = 'FUNCTION'`, c.Database, c.Name).Scan(&count)
			if err != nil {
				return out, fmt.Errorf("%s: look up function %s: %w", what, plan.Name{DB: c.Database, Table: c.Name}, err)
			}
			if count == 0 {
				continue
			}
			d := Dependency{Dependent: what, Kind: DependsOnFunction, Source: plan.Name{DB: c.Database, Table: c.Name},
				Dest: plan.Name{DB: n.Database(c.Database), Table: c.Name}}
			if !dbs[fold(c.Database)] {
				d.Reason = "its database is not in objects"
			} else {
				d.Reason = "routines are migrated only for an object that selects every table (no tables:, or a \"*\" entry)"
			}
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b Dependency) int { return strings.Compare(a.Dependent, b.Dependent) })
	return out, nil
}
