// Package schema migrates the schema of the selected objects: it reads what the source
// holds (information_schema, one query per kind for all selected databases), orders
// it, and applies each object to the destination through package ddl's rewrites, one
// call per object so a caller can report each and point at the one that failed.
//
// Every Apply function is idempotent: run twice, or again after a crash half way, it
// leaves the same destination and returns no error.
package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Database is a selected source database and its destination.
type Database struct {
	Source    string `json:"source"`
	Dest      string `json:"dest"`
	Charset   string `json:"charset"`
	Collation string `json:"collation"`
}

// Table is a selected base table.
type Table struct {
	Source plan.Name `json:"source"`
	Dest   plan.Name `json:"dest"`
}

// View is a selected view.
type View struct {
	Source plan.Name `json:"source"`
	Dest   plan.Name `json:"dest"`
}

// Routine kinds.
const (
	Procedure = "PROCEDURE"
	Function  = "FUNCTION"
)

// Routine is a stored procedure or function of a database whose object selects all
// its tables.
type Routine struct {
	Kind   string `json:"kind"` // PROCEDURE or FUNCTION
	DB     string `json:"db"`
	Name   string `json:"name"`
	DestDB string `json:"dest_db"`
}

// Trigger is a trigger of a selected table. It keeps its name; its table is renamed
// with the table.
type Trigger struct {
	DB     string    `json:"db"`
	Name   string    `json:"name"`
	Table  string    `json:"table"`
	Dest   plan.Name `json:"dest"` // destination database and table
	Timing string    `json:"timing"`
	Event  string    `json:"event"`
}

// Event is a scheduled event of a selected database: never migrated (it would run on
// the destination while the source still runs it), only reported.
type Event struct {
	DB   string `json:"db"`
	Name string `json:"name"`
}

// Objects is what the schema phase migrates, in creation order: databases, tables,
// routines, views (a view on a view after the one it reads), then triggers (created
// separately, when options.triggers says).
type Objects struct {
	Databases []Database `json:"databases"`
	Tables    []Table    `json:"tables"`
	Routines  []Routine  `json:"routines"`
	Views     []View     `json:"views"`
	Triggers  []Trigger  `json:"triggers"`
	// Events are listed for the report: they are not migrated.
	Events []Event `json:"events,omitempty"`
	// Sequences (MariaDB's CREATE SEQUENCE) among the selected tables are listed for
	// the report and left out of Tables: they are not migrated (the precheck warns,
	// objects.not_migrated).
	Sequences []plan.Name `json:"sequences,omitempty"`

	// viewDefs are the source views' definitions from information_schema ("" when
	// the account may not see one), for Dependencies.
	viewDefs map[plan.Name]string
	plan     plan.Plan
}

// ReadObjects reads the selected objects from the source. p is the plan resolved from
// s against the source catalog with opt (as the precheck resolved it). Views are
// selected by the same `tables:` entries as tables (names, globs, `to`, exclude_tables);
// routines of a database are migrated when its object selects every table (no
// `tables:` or a "*" entry); triggers follow their table; events and selected
// sequences are only listed.
//
// It runs a handful of information_schema queries whatever the number of objects;
// definitions are read per object when applied.
func ReadObjects(ctx context.Context, src *sql.DB, s spec.Spec, p plan.Plan, opt plan.Options) (*Objects, error) {
	o := &Objects{}
	dbs := p.SourceDatabases()
	if len(dbs) == 0 {
		return o, nil
	}
	in, args := inList(dbs)

	// Databases: the source's defaults.
	type dflt struct{ cs, coll string }
	defaults := map[string]dflt{}
	err := queryRows(ctx, src, `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME
		FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (`+in+`)`, args, func(r *sql.Rows) error {
		var name string
		var d dflt
		if err := r.Scan(&name, &d.cs, &d.coll); err != nil {
			return err
		}
		defaults[name] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.SCHEMATA: %w", err)
	}
	seenDB := map[[2]string]bool{}
	for _, d := range p.Databases {
		k := [2]string{d.Source, d.Dest}
		if seenDB[k] {
			continue
		}
		seenDB[k] = true
		df, ok := defaults[d.Source]
		if !ok {
			return nil, fmt.Errorf("database %s is no longer on the source", plan.QuoteIdent(d.Source))
		}
		o.Databases = append(o.Databases, Database{Source: d.Source, Dest: d.Dest, Charset: df.cs, Collation: df.coll})
	}

	// Sequences resolve like tables (TABLE_TYPE SEQUENCE) but are not migrated:
	// SHOW CREATE TABLE of one is a CREATE SEQUENCE the table path cannot rewrite.
	sequences := map[plan.Name]bool{}
	err = queryRows(ctx, src, `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'SEQUENCE' AND TABLE_SCHEMA IN (`+in+`)`, args, func(r *sql.Rows) error {
		var n plan.Name
		if err := r.Scan(&n.DB, &n.Table); err != nil {
			return err
		}
		sequences[n] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.TABLES: %w", err)
	}
	for _, t := range p.Tables {
		if sequences[t.Source] {
			o.Sequences = append(o.Sequences, t.Source)
			continue
		}
		o.Tables = append(o.Tables, Table{Source: t.Source, Dest: t.Dest})
	}

	// Views: resolved with plan.Resolve over a catalog of views only, so the same rules
	// (and the same code) select and rename them as tables.
	views := map[string][]string{}
	definitions := map[plan.Name]string{}
	for _, d := range dbs {
		views[d] = nil
	}
	err = queryRows(ctx, src, `SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION
		FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (`+in+`)`, args, func(r *sql.Rows) error {
		var n plan.Name
		var def sql.NullString
		if err := r.Scan(&n.DB, &n.Table, &def); err != nil {
			return err
		}
		views[n.DB] = append(views[n.DB], n.Table)
		definitions[n] = def.String
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.VIEWS: %w", err)
	}
	vp := plan.Resolve(s, plan.Catalog{Tables: views, LowerCaseTableNames: lowerCaseNames(p)}, opt)
	tableDest := map[plan.Name]plan.Name{}
	for _, t := range o.Tables {
		tableDest[destKey(t.Dest, opt)] = t.Source
	}
	var selected []View
	for _, v := range vp.Tables {
		if src, ok := tableDest[destKey(v.Dest, opt)]; ok {
			return nil, fmt.Errorf("view %s and table %s would both be migrated to %s", v.Source, src, v.Dest)
		}
		selected = append(selected, View{Source: v.Source, Dest: v.Dest})
	}
	o.viewDefs, o.plan = definitions, p
	o.Views, err = orderViews(ctx, src, selected, definitions)
	if err != nil {
		return nil, err
	}

	// Routines of databases whose object selects everything. Functions first (FUNCTION
	// sorts before PROCEDURE), though neither flavor checks a body's callees at CREATE.
	err = queryRows(ctx, src, `SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE
		FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (`+in+`) ORDER BY ROUTINE_SCHEMA, ROUTINE_TYPE, ROUTINE_NAME`, args, func(r *sql.Rows) error {
		var rt Routine
		if err := r.Scan(&rt.DB, &rt.Name, &rt.Kind); err != nil {
			return err
		}
		for _, d := range p.Databases {
			if d.Source == rt.DB && selectsAll(s.Objects[d.Object]) {
				rt.DestDB = d.Dest
				o.Routines = append(o.Routines, rt)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.ROUTINES: %w", err)
	}

	// Triggers of selected tables, in the order they fire (ACTION_ORDER), so creating
	// them one after the other gives the destination the same order.
	names := p.Names()
	err = queryRows(ctx, src, `SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (`+in+`)
		ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER`, args, func(r *sql.Rows) error {
		var tr Trigger
		if err := r.Scan(&tr.DB, &tr.Name, &tr.Table, &tr.Timing, &tr.Event); err != nil {
			return err
		}
		db, tbl, ok := names.Table(tr.DB, tr.Table)
		if !ok {
			return nil
		}
		tr.Dest = plan.Name{DB: db, Table: tbl}
		o.Triggers = append(o.Triggers, tr)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.TRIGGERS: %w", err)
	}

	err = queryRows(ctx, src, `SELECT EVENT_SCHEMA, EVENT_NAME
		FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (`+in+`) ORDER BY EVENT_SCHEMA, EVENT_NAME`, args, func(r *sql.Rows) error {
		var e Event
		if err := r.Scan(&e.DB, &e.Name); err != nil {
			return err
		}
		o.Events = append(o.Events, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read information_schema.EVENTS: %w", err)
	}
	return o, nil
}

// selectsAll reports whether an object selects every table of its database: no
// `tables:` entries, or a "*" entry.
func selectsAll(obj spec.Object) bool {
	if len(obj.Tables) == 0 {
		return true
	}
	for _, t := range obj.Tables {
		if t.Name == "*" {
			return true
		}
	}
	return false
}

func lowerCaseNames(p plan.Plan) int {
	if p.SourceFoldsCase {
		return 1
	}
	return 0
}

// destKey compares destination names the way the destination does.
func destKey(n plan.Name, opt plan.Options) plan.Name {
	if opt.DestinationLowerCaseTableNames != 0 {
		return plan.Name{DB: strings.ToLower(n.DB), Table: strings.ToLower(n.Table)}
	}
	return n
}

// orderViews sorts views so each comes after the selected views it reads (a
// depth-first topological sort, stable in input order). A cycle is an error.
func orderViews(ctx context.Context, src *sql.DB, views []View, definitions map[plan.Name]string) ([]View, error) {
	idx := map[plan.Name]int{}
	for i, v := range views {
		idx[v.Source] = i
	}
	deps := make([][]int, len(views))
	for i, v := range views {
		def := definitions[v.Source]
		var create string
		if def != "" {
			create = "CREATE VIEW " + v.Source.String() + " AS " + def
		} else {
			// An account without SHOW VIEW sees no definition in information_schema.
			var err error
			create, err = showCreateView(ctx, src, v.Source)
			if err != nil {
				return nil, err
			}
		}
		refs, err := ddl.ViewDependencies(v.Source.DB, create)
		if err != nil {
			return nil, fmt.Errorf("view %s: dependencies: %w", v.Source, err)
		}
		for _, r := range refs {
			if j, ok := idx[plan.Name{DB: r.Database, Table: r.Name}]; ok && j != i {
				deps[i] = append(deps[i], j)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(views))
	var out []View
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			var cycle []string
			for k := slices.Index(stack, i); k < len(stack); k++ {
				cycle = append(cycle, views[stack[k]].Source.String())
			}
			cycle = append(cycle, views[i].Source.String())
			return fmt.Errorf("views depend on each other in a cycle: %s", strings.Join(cycle, " -> "))
		}
		state[i] = visiting
		stack = append(stack, i)
		for _, j := range deps[i] {
			if err := visit(j); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		out = append(out, views[i])
		return nil
	}
	for i := range views {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Names answers the ddl rewriter for tables (from base, the plan's names) and for the
// selected views, which plan's names do not know.
func (o *Objects) Names(base ddl.Names) ddl.Names {
	n := viewNames{base: base, views: map[plan.Name]plan.Name{}}
	for _, v := range o.Views {
		n.views[v.Source] = v.Dest
	}
	return n
}

type viewNames struct {
	base  ddl.Names
	views map[plan.Name]plan.Name
}

func (n viewNames) Database(db string) string { return n.base.Database(db) }

func (n viewNames) Table(db, table string) (string, string, bool) {
	if d, ok := n.views[plan.Name{DB: db, Table: table}]; ok {
		return d.DB, d.Table, true
	}
	return n.base.Table(db, table)
}

func (n viewNames) Column(db, table, column string) (string, bool) {
	if _, ok := n.views[plan.Name{DB: db, Table: table}]; ok {
		return column, false // a view's columns are its own definition's
	}
	return n.base.Column(db, table, column)
}

func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(vals)), ","), args
}

func queryRows(ctx context.Context, db *sql.DB, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
