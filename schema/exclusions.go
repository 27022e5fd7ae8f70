package schema

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
)

// CheckExclusions finds what depends on an excluded column (exclude_columns): an
// index, a generated column, a CHECK, a foreign key of its table, a view that reads
// it, or a trigger or routine whose body names it (NEW.col, OLD.col, t.col, an
// INSERT column list). Creating those on the destination would fail half way (the
// rewrite refuses them), so the precheck reports them before anything is written.
// It reads definitions only of tables that have an excluded column, and of the
// selected views, routines and triggers when any table has one (a body may name a
// column of any table, not only its own trigger's).
func CheckExclusions(ctx context.Context, src *sql.DB, o *Objects, n ddl.Names, hasExclusions func(Table) bool) ([]string, error) {
	var out []string
	collect := func(err error) error {
		deps := ddl.DependencyErrors(err)
		if len(deps) == 0 {
			return err
		}
		for _, d := range deps {
			out = append(out, d.Error())
		}
		return nil
	}
	any := false
	for _, t := range o.Tables {
		if !hasExclusions(t) {
			continue
		}
		any = true
		row, found, err := showCreate(ctx, src, "SHOW CREATE TABLE "+t.Source.String(), errNoSuchTable)
		if err != nil {
			return out, err
		}
		if !found {
			continue // the missing-table item reports it
		}
		create, err := createText(row, "create table", "table "+t.Source.String())
		if err != nil {
			return out, err
		}
		if _, err := ddl.RewriteTable(t.Source.DB, t.Source.Table, create, n); err != nil {
			if err := collect(err); err != nil {
				return out, fmt.Errorf("table %s: %w", t.Source, err)
			}
		}
	}
	if !any {
		return nil, nil
	}
	for _, v := range o.Views {
		create, err := showCreateView(ctx, src, v.Source)
		if err != nil {
			return out, err
		}
		if _, err := ddl.RewriteView(v.Source.DB, v.Source.Table, create, n); err != nil {
			if err := collect(err); err != nil {
				return out, fmt.Errorf("view %s: %w", v.Source, err)
			}
		}
	}
	for _, r := range o.Routines {
		kind := strings.ToUpper(r.Kind)
		name := plan.Name{DB: r.DB, Table: r.Name}
		row, found, err := showCreate(ctx, src, "SHOW CREATE "+kind+" "+name.String(), errSPDoesNotExist)
		if err != nil {
			return out, err
		}
		if !found {
			continue // dropped since it was listed; the phase reports it
		}
		create, err := createText(row, "create "+strings.ToLower(kind), strings.ToLower(kind)+" "+name.String())
		if err != nil {
			return out, err
		}
		if _, _, err := ddl.RewriteRoutineWarnings(r.DB, create, n); err != nil {
			if err := collect(err); err != nil {
				return out, fmt.Errorf("%s %s: %w", strings.ToLower(kind), name, err)
			}
		}
	}
	for _, tr := range o.Triggers {
		name := plan.Name{DB: tr.DB, Table: tr.Name}
		row, found, err := showCreate(ctx, src, "SHOW CREATE TRIGGER "+name.String(), errTrgDoesNotExist)
		if err != nil {
			return out, err
		}
		if !found {
			continue
		}
		create, err := createText(row, "sql original statement", "trigger "+name.String())
		if err != nil {
			return out, err
		}
		if _, _, err := ddl.RewriteTriggerWarnings(tr.DB, create, n); err != nil {
			if err := collect(err); err != nil {
				return out, fmt.Errorf("trigger %s: %w", name, err)
			}
		}
	}
	return out, nil
}
