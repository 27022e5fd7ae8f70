package schema

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sluice-dev/sluice/ddl"
)

// CheckExclusions finds what depends on an excluded column (exclude_columns): an
// index, a generated column, a CHECK, a foreign key of its table, or a view that
// reads it. Creating those on the destination would fail half way, so the precheck
// reports them before anything is written. It reads definitions only of tables that
// have an excluded column, and of the selected views when any table has one.
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
	return out, nil
}
