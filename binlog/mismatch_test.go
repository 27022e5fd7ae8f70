package binlog

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/rowcodec"
)

// readError reads until the stream fails and returns the error; it fails the test
// if a Commit at or past end comes first.
func readError(t *testing.T, ctx context.Context, s *Stream, end Position) error {
	t.Helper()
	for {
		e, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if e.Kind == Commit && reached(e.Pos, end) {
			t.Fatal("read to the end without an error")
		}
	}
}

func TestTableMapMismatch(t *testing.T) {
	env, db := source(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const schema = "bl_mm"
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+schema, "CREATE DATABASE "+schema,
		"USE "+schema+"; CREATE TABLE m (a INT NOT NULL PRIMARY KEY, b VARCHAR(10) CHARACTER SET latin1, c INT UNSIGNED, e ENUM('x','y'), g INT AS (a + 1) VIRTUAL)"); err != nil {
		t.Fatal(err)
	}
	p0 := position(t, db)
	if err := env.Source.Exec(ctx, "USE "+schema+"; INSERT INTO m (a, b, c, e) VALUES (1, 'é', 4294967295, 'y')"); err != nil {
		t.Fatal(err)
	}
	p1 := position(t, db)

	// alter changes the looked-up definition of m.
	alter := func(f func(*Table)) Lookup {
		return func(ctx context.Context, schema, table string) (*Table, error) {
			tb, err := LoadTable(ctx, db, schema, table)
			if err == nil && table == "m" {
				f(tb)
			}
			return tb, err
		}
	}
	col := func(tb *Table, name string) *TableColumn {
		for i := range tb.Columns {
			if tb.Columns[i].Name == name {
				return &tb.Columns[i]
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}

	t.Run("control", func(t *testing.T) {
		s := open(t, ctx, config(t, env, LookupFromDB(db)), p0)
		var rows []*Event
		for _, e := range readUntil(t, ctx, s, p1) {
			if e.Kind == Rows {
				rows = append(rows, e)
			}
		}
		if len(rows) != 1 || len(rows[0].Changes) != 1 {
			t.Fatalf("row events %v", rows)
		}
		got := rows[0].Changes[0].After
		want := rowcodec.Row{int64(1), []byte("\xe9"), int64(4294967295), []byte("y")}
		if d := diffRow(rows[0].Columns, want, got); d != "" {
			t.Fatal(d)
		}
	})

	t.Run("lookup_interrupted", func(t *testing.T) {
		// A Lookup cut short by Next's context does not lose the TableMap.
		calls := 0
		slow := func(ctx context.Context, schema, table string) (*Table, error) {
			if calls++; calls == 1 {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return LoadTable(ctx, db, schema, table)
		}
		s := open(t, ctx, config(t, env, slow), p0)
		short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
		defer stop()
		for {
			e, err := s.Next(short)
			if err == context.DeadlineExceeded {
				break
			}
			if err != nil || e.Kind == Rows {
				t.Fatalf("before the interrupted lookup: %v %v", e, err)
			}
		}
		rows := 0
		for _, e := range readUntil(t, ctx, s, p1) {
			if e.Kind == Rows {
				rows += len(e.Changes)
			}
		}
		if rows != 1 || calls != 2 {
			t.Fatalf("%d rows after the interrupted lookup (%d lookups), want 1 (2)", rows, calls)
		}
	})

	cases := []struct {
		name   string
		lookup Lookup
		want   string
	}{
		{"renamed", alter(func(tb *Table) { col(tb, "c").Name = "cc" }), "column 3 is `c` in the binlog, `cc` in the schema"},
		{"reordered", alter(func(tb *Table) { tb.Columns[1], tb.Columns[2] = tb.Columns[2], tb.Columns[1] }), "column 2 is `b` in the binlog, `c` in the schema"},
		{"missing", alter(func(tb *Table) { tb.Columns = tb.Columns[:4] }), "5 columns logged, 4 known"},
		{"extra", alter(func(tb *Table) {
			tb.Columns = append(tb.Columns, TableColumn{Column: rowcodec.Column{Name: "z", DataType: "int", Kind: rowcodec.KindInt}})
		}), "5 columns logged, 6 known"},
		{"signedness", alter(func(tb *Table) { col(tb, "c").Unsigned = false }), "column `c`: unsigned=true in the binlog, false in the schema"},
		{"type", alter(func(tb *Table) { c := col(tb, "b"); c.DataType, c.Kind = "int", rowcodec.KindInt }), "column `b`: binlog type VARCHAR cannot hold a int (int) column"},
		{"charset", alter(func(tb *Table) { col(tb, "b").Charset = "utf8mb4" }), "column `b`: charset latin1 in the binlog, utf8mb4 in the schema"},
		{"enum_values", alter(func(tb *Table) { col(tb, "e").ColumnType = "enum('x','y','z')" }), "column `e`: 2 enum values in the binlog, 3 in the schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, ctx, config(t, env, c.lookup), p0)
			err := readError(t, ctx, s, p1)
			var me *MismatchError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a MismatchError saying %q", err, c.want)
			}
			if me.Schema != schema || me.Table != "m" {
				t.Fatalf("mismatch names %s.%s", me.Schema, me.Table)
			}
			if _, err2 := s.Next(ctx); err2 != err {
				t.Fatalf("the stream goes on after a mismatch: %v", err2)
			}
		})
	}

	// The real case: events read with a schema newer than they are.
	t.Run("schema_changed_since", func(t *testing.T) {
		if err := env.Source.Exec(ctx, "USE "+schema+"; CREATE TABLE m2 (a INT PRIMARY KEY, b INT, c INT)"); err != nil {
			t.Fatal(err)
		}
		q0 := position(t, db)
		if err := env.Source.Exec(ctx, "USE "+schema+"; INSERT INTO m2 VALUES (1, 2, 3)",
			"USE "+schema+"; ALTER TABLE m2 MODIFY c INT AFTER a"); err != nil {
			t.Fatal(err)
		}
		q1 := position(t, db)
		s := open(t, ctx, config(t, env, LookupFromDB(db)), q0)
		err := readError(t, ctx, s, q1)
		var me *MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "column 2 is `b` in the binlog, `c` in the schema") {
			t.Fatalf("error %v, want a MismatchError on the column order", err)
		}
	})

	// Without binlog_row_metadata=FULL the TableMap has no names: refused, not
	// guessed. (Global setting of the shared source, restored at once.)
	t.Run("no_metadata", func(t *testing.T) {
		s := open(t, ctx, config(t, env, LookupFromDB(db)), position(t, db))
		if err := setGlobal(ctx, db, "binlog_row_metadata", "MINIMAL"); err != nil {
			t.Fatal(err)
		}
		err := env.Source.Exec(ctx, "USE "+schema+"; INSERT INTO m (a) VALUES (2)")
		if err2 := setGlobal(ctx, db, "binlog_row_metadata", "FULL"); err2 != nil {
			t.Fatal(err2)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := readError(t, ctx, s, position(t, db)); !errors.Is(err, ErrNoMetadata) {
			t.Fatalf("error %v, want ErrNoMetadata", err)
		}
	})
}

func setGlobal(ctx context.Context, db *sql.DB, name, value string) error {
	_, err := db.ExecContext(ctx, "SET GLOBAL "+name+" = "+value)
	return err
}

// TestGeneratedAndHiddenColumns measures what MariaDB logs besides the columns a
// SELECT shows, and that the images drop it.
func TestGeneratedAndHiddenColumns(t *testing.T) {
	env, db := source(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const schema = "bl_gen"
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+schema, "CREATE DATABASE "+schema,
		"USE "+schema+"; CREATE TABLE h (id INT PRIMARY KEY, a INT, gv INT AS (a * 2) VIRTUAL, gs INT AS (a + 100) STORED, "+
			"b BLOB, inv INT INVISIBLE DEFAULT 9, c TEXT, UNIQUE KEY (b), UNIQUE KEY (c, id))",
		"USE "+schema+"; CREATE TABLE sv (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING"); err != nil {
		t.Fatal(err)
	}
	p0 := position(t, db)
	if err := env.Source.Exec(ctx, "USE "+schema+"; INSERT INTO h (id, a, b, c) VALUES (1, 5, 'x', 'y'), (2, NULL, NULL, NULL)",
		"USE "+schema+"; UPDATE h SET a = 6 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	p1 := position(t, db)

	t.Run("images_match_reader", func(t *testing.T) {
		// Two hidden DB_ROW_HASH_n columns and two generated columns are logged
		// and dropped; the invisible column is kept.
		s := open(t, ctx, config(t, env, LookupFromDB(db)), p0)
		evs := readUntil(t, ctx, s, p1)
		r := replica{}
		if n := r.apply(t, evs); n != 3 {
			t.Fatalf("%d changes, want 3", n)
		}
		compareTable(t, ctx, db, r, schema, "h", evs)
		if cols := r[schema+".h"][1]; len(cols) != 5 {
			t.Fatalf("image %v: want id, a, b, inv, c", cols)
		}
	})

	t.Run("generated_values_are_logged", func(t *testing.T) {
		// Taken as ordinary columns, the generated ones show what the binlog
		// holds: the computed values, VIRTUAL included.
		lookup := func(ctx context.Context, schema, table string) (*Table, error) {
			tb, err := LoadTable(ctx, db, schema, table)
			if err != nil {
				return nil, err
			}
			for i := range tb.Columns {
				if tb.Columns[i].Generated {
					tb.Columns[i] = TableColumn{Column: rowcodec.Column{Name: tb.Columns[i].Name, DataType: "int", ColumnType: "int(11)", Kind: rowcodec.KindInt}}
				}
			}
			return tb, nil
		}
		s := open(t, ctx, config(t, env, lookup), p0)
		var got []string
		for _, e := range readUntil(t, ctx, s, p1) {
			for _, c := range e.Changes {
				got = append(got, rowText(c.Before)+"->"+rowText(c.After))
			}
		}
		want := []string{
			`-->(1,5,10,105,"x",9,"y")`,
			`-->(2,<nil>,<nil>,<nil>,<nil>,9,<nil>)`,
			`(1,5,10,105,"x",9,"y")->(1,6,12,106,"x",9,"y")`,
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("images\n got %q\nwant %q", got, want)
		}
	})

	t.Run("system_versioned_refused", func(t *testing.T) {
		q0 := position(t, db)
		if err := env.Source.Exec(ctx, "USE "+schema+"; INSERT INTO sv VALUES (1, 2)"); err != nil {
			t.Fatal(err)
		}
		s := open(t, ctx, config(t, env, LookupFromDB(db)), q0)
		err := readError(t, ctx, s, position(t, db))
		var me *MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "system-versioned") {
			t.Fatalf("error %v, want the system-versioned refusal", err)
		}
	})
}
