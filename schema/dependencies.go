package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/sqltok"
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
	seqDeps, err := o.sequenceDefaults(ctx, src, n, func(x plan.Name) bool { return migrated[key(x)] }, func(db string) bool { return dbs[fold(db)] })
	if err != nil {
		return out, err
	}
	out = append(out, seqDeps...)
	slices.SortStableFunc(out, func(a, b Dependency) int { return strings.Compare(a.Dependent, b.Dependent) })
	return out, nil
}

// sequenceDefaults finds selected tables whose column default reads a sequence
// (DEFAULT NEXTVAL(s), NEXT VALUE FOR s): sequences are not migrated, and CREATE
// TABLE fails on the destination when the sequence is not there.
func (o *Objects) sequenceDefaults(ctx context.Context, src *sql.DB, n ddl.Names, migrated func(plan.Name) bool, inObjects func(string) bool) ([]Dependency, error) {
	dbs := o.plan.SourceDatabases()
	if len(dbs) == 0 {
		return nil, nil
	}
	args := make([]any, len(dbs))
	for i, d := range dbs {
		args[i] = d
	}
	// The server keeps defaults in a normalised form: nextval(`db`.`s`).
	rows, err := src.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA IN (?`+strings.Repeat(", ?", len(dbs)-1)+`) AND (COLUMN_DEFAULT LIKE '%nextval(%' OR COLUMN_DEFAULT LIKE '%lastval(%')`, args...)
	if err != nil {
		return nil, fmt.Errorf("read column defaults: %w", err)
	}
	defer rows.Close()
	var out []Dependency
	for rows.Next() {
		var db, table, col, def string
		if err := rows.Scan(&db, &table, &col, &def); err != nil {
			return out, err
		}
		tbl := plan.Name{DB: db, Table: table}
		if !migrated(tbl) {
			continue
		}
		for _, seq := range sequenceRefs(db, def) {
			if migrated(seq) {
				continue
			}
			d := Dependency{Dependent: fmt.Sprintf("table %s (default of column %s)", tbl, plan.QuoteIdent(col)), Kind: DependsOnTable, Source: seq}
			d.Dest.DB, d.Dest.Table, _ = n.Table(seq.DB, seq.Table)
			d.Reason = "a sequence, which is not migrated"
			if !inObjects(seq.DB) {
				d.Reason = "its database is not in objects"
			}
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// sequenceRefs returns the sequences that nextval(...) / lastval(...) calls in a
// column default name; an unqualified name is in db.
func sequenceRefs(db, expr string) []plan.Name {
	toks, err := sqltok.Tokenize(expr)
	if err != nil {
		return nil
	}
	toks = sqltok.Significant(toks)
	var out []plan.Name
	for i := 0; i+2 < len(toks); i++ {
		if !(toks[i].Is("nextval") || toks[i].Is("lastval")) || !toks[i+1].IsOp("(") {
			continue
		}
		first, ok := toks[i+2].Name()
		if !ok {
			continue
		}
		name := plan.Name{DB: db, Table: first}
		if i+4 < len(toks) && toks[i+3].IsOp(".") {
			if second, ok := toks[i+4].Name(); ok {
				name = plan.Name{DB: first, Table: second}
			}
		}
		out = append(out, name)
	}
	return out
}
