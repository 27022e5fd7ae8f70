package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
)

// readCatalog reads tables, keys, foreign keys and triggers of the databases whose
// names match want (without case, so a case-insensitive server's catalog is found
// whatever case the workflow file uses; the plan then compares names the server's
// way). It also returns the names of every database the account can see.
func readCatalog(ctx context.Context, db *sql.DB, want []string) (*precheck.Catalog, []string, error) {
	all, err := queryStrings(ctx, db, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
	if err != nil {
		return nil, nil, err
	}
	cat := &precheck.Catalog{}
	for _, name := range all {
		for _, w := range want {
			if strings.EqualFold(name, w) {
				cat.Databases = append(cat.Databases, name)
				break
			}
		}
	}
	if len(cat.Databases) == 0 {
		return cat, all, nil
	}
	in, args := inList(cat.Databases)
	loaded := func(schema string) bool { return slices.Contains(cat.Databases, schema) }

	// Tables.
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, DATA_LENGTH, INDEX_LENGTH
		FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.TABLES: %w", err)
	}
	idx := map[plan.Name]int{}
	err = scanAll(rows, func() error {
		var t precheck.Table
		var engine sql.NullString
		var data, index sql.NullInt64
		if err := rows.Scan(&t.DB, &t.Name, &t.Type, &engine, &data, &index); err != nil {
			return err
		}
		if !loaded(t.DB) {
			return nil
		}
		t.Engine, t.DataLength, t.IndexLength = engine.String, data.Int64, index.Int64
		idx[plan.Name{DB: t.DB, Table: t.Name}] = len(cat.Tables)
		cat.Tables = append(cat.Tables, t)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.TABLES: %w", err)
	}

	// Keys: a primary key, or a unique key whose columns are all NOT NULL.
	rows, err = db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, NULLABLE
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.STATISTICS: %w", err)
	}
	type key struct {
		t     plan.Name
		index string
	}
	nullable := map[key]bool{}
	unique := map[key]bool{}
	err = scanAll(rows, func() error {
		var k key
		var nonUnique int64
		var null sql.NullString
		if err := rows.Scan(&k.t.DB, &k.t.Table, &k.index, &nonUnique, &null); err != nil {
			return err
		}
		if nonUnique != 0 {
			return nil
		}
		unique[k] = true
		if strings.EqualFold(null.String, "YES") {
			nullable[k] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.STATISTICS: %w", err)
	}
	for k := range unique {
		i, ok := idx[k.t]
		if !ok {
			continue
		}
		if k.index == "PRIMARY" {
			cat.Tables[i].PrimaryKey = true
		} else if !nullable[k] {
			cat.Tables[i].NotNullUnique = true
		}
	}

	// Foreign keys.
	rows, err = db.QueryContext(ctx, `SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, UNIQUE_CONSTRAINT_SCHEMA,
		REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE
		FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.REFERENTIAL_CONSTRAINTS: %w", err)
	}
	err = scanAll(rows, func() error {
		var fk precheck.ForeignKey
		var refDB sql.NullString
		if err := rows.Scan(&fk.DB, &fk.Table, &fk.Name, &refDB, &fk.RefTable, &fk.OnUpdate, &fk.OnDelete); err != nil {
			return err
		}
		fk.RefDB = refDB.String
		if loaded(fk.DB) {
			cat.ForeignKeys = append(cat.ForeignKeys, fk)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.REFERENTIAL_CONSTRAINTS: %w", err)
	}

	// Triggers (MySQL shows only those on tables the account has TRIGGER on).
	rows, err = db.QueryContext(ctx, `SELECT TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.TRIGGERS: %w", err)
	}
	err = scanAll(rows, func() error {
		var tr precheck.Trigger
		if err := rows.Scan(&tr.DB, &tr.Table, &tr.Name, &tr.Timing, &tr.Event); err != nil {
			return err
		}
		if loaded(tr.DB) {
			cat.Triggers = append(cat.Triggers, tr)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.TRIGGERS: %w", err)
	}

	// Columns, for conflicts: ignore (every migrated column must exist on the destination).
	rows, err = db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (`+in+`) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.COLUMNS: %w", err)
	}
	err = scanAll(rows, func() error {
		var c precheck.Column
		if err := rows.Scan(&c.DB, &c.Table, &c.Name); err != nil {
			return err
		}
		if loaded(c.DB) {
			cat.Columns = append(cat.Columns, c)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.COLUMNS: %w", err)
	}

	// Routines, for name conflicts on the destination.
	rows, err = db.QueryContext(ctx, `SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.ROUTINES: %w", err)
	}
	err = scanAll(rows, func() error {
		var r precheck.Routine
		if err := rows.Scan(&r.DB, &r.Name, &r.Type); err != nil {
			return err
		}
		if loaded(r.DB) {
			cat.Routines = append(cat.Routines, r)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.ROUTINES: %w", err)
	}

	// Events are not migrated: the report names them.
	rows, err = db.QueryContext(ctx, `SELECT EVENT_SCHEMA, EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (`+in+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.EVENTS: %w", err)
	}
	err = scanAll(rows, func() error {
		var e plan.Name
		if err := rows.Scan(&e.DB, &e.Table); err != nil {
			return err
		}
		if loaded(e.DB) {
			cat.Events = append(cat.Events, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read information_schema.EVENTS: %w", err)
	}
	return cat, all, nil
}

func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(vals)), ","), args
}

func scanAll(rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// planCatalog shapes the source catalog for plan.Resolve: every visible database,
// with the base tables and views of the loaded ones.
func planCatalog(cat *precheck.Catalog, all []string, lctn int) plan.Catalog {
	pc := plan.Catalog{Tables: map[string][]string{}, Views: map[string][]string{}, LowerCaseTableNames: lctn}
	for _, d := range all {
		pc.Tables[d] = nil
	}
	for _, d := range cat.Databases {
		pc.Tables[d] = nil
	}
	for _, t := range cat.Tables {
		if t.IsView() {
			pc.Views[t.DB] = append(pc.Views[t.DB], t.Name)
			continue
		}
		pc.Tables[t.DB] = append(pc.Tables[t.DB], t.Name)
	}
	return pc
}

// probeNonEmpty finds which existing destination target tables hold rows (one
// indexed probe each).
func probeNonEmpty(ctx context.Context, db *sql.DB, cat *precheck.Catalog, p plan.Plan) map[plan.Name]bool {
	exists := map[plan.Name]bool{}
	for _, t := range cat.Tables {
		exists[plan.Name{DB: t.DB, Table: t.Name}] = true
	}
	out := map[plan.Name]bool{}
	for _, t := range p.Tables {
		if !exists[t.Dest] {
			continue
		}
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1 FROM "+t.Dest.String()+" LIMIT 1").Scan(&one)
		if err == nil {
			out[t.Dest] = true
		}
	}
	return out
}
