package applier

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
)

// Selection says which source tables are replicated, where to and how. The
// activity builds it from the resolved workflow file (plan + ddl.Names).
type Selection interface {
	// Table returns the destination of a source table; ok=false: not replicated.
	Table(db, table string) (dstDB, dstTable string, ok bool)
	// Column returns a column's destination name, or excluded=true.
	Column(db, table, column string) (dst string, excluded bool)
	// Operations lists what the table's entry replicates (spec.OpInsert, ...);
	// nil means all of them.
	Operations(db, table string) []string
}

// target is how one source table's images become destination statements. It is
// built for one images column list (a table definition) and rebuilt after DDL.
type target struct {
	srcDB, srcTable string
	dst             rowcodec.Table
	// cols are the images' columns; keep indexes the written ones (excluded
	// columns dropped), each with Dest set to its destination name.
	cols []rowcodec.Column
	keep []int
	// key indexes the columns of the key used in WHERE (the primary key, else a
	// unique key of NOT NULL columns); nil: the table has none, rows are matched
	// on every written column.
	key []int
	// uniques are every unique key (primary first), for conflict detection; prefix
	// holds SUB_PART lengths (0 = whole value) and ci the columns whose collation
	// folds case or accents.
	uniques []uniqueKey
	ops     opSet
	// cascades are cascading foreign keys of replicated children to this table;
	// refs this table's own cascading foreign keys (cascade.go).
	cascades []cascade
	refs     []fkRef
	// descendants are the ids of the tables a cascade from this one reaches.
	descendants []uint64
	// prog is the table's filter and transforms (nil: none).
	prog *etl.Program
	// insertCols is "(`a`,`b`)" of the written columns, quoted destination names.
	insertCols string
}

type uniqueKey struct {
	name   string
	cols   []int
	prefix []int
	fold   []bool
}

type opSet uint8

const (
	opInsert opSet = 1 << iota
	opUpdate
	opDelete
)

func parseOps(ops []string) opSet {
	if ops == nil {
		return opInsert | opUpdate | opDelete
	}
	var s opSet
	for _, o := range ops {
		switch o {
		case spec.OpInsert:
			s |= opInsert
		case spec.OpUpdate:
			s |= opUpdate
		case spec.OpDelete:
			s |= opDelete
		}
	}
	return s
}

// sourceKey is one unique index read from the source's information_schema.
type sourceKey struct {
	name     string
	cols     []string
	prefix   []int
	fold     []bool
	nullable bool
}

// loadKeys reads the unique keys of a source table, primary key first.
func loadKeys(ctx context.Context, src *sql.DB, db, table string) ([]sourceKey, error) {
	const q = `SELECT s.INDEX_NAME, s.COLUMN_NAME, COALESCE(s.SUB_PART, 0), c.IS_NULLABLE,
  COALESCE(c.COLLATION_NAME, '')
FROM information_schema.STATISTICS s
JOIN information_schema.COLUMNS c
  ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX`
	rows, err := src.QueryContext(ctx, q, db, table)
	if err != nil {
		return nil, fmt.Errorf("unique keys of %s: %w", rowcodec.Table{Schema: db, Name: table}, err)
	}
	defer rows.Close()
	var out []sourceKey
	for rows.Next() {
		var name, col, nullable, coll string
		var sub int
		if err := rows.Scan(&name, &col, &sub, &nullable, &coll); err != nil {
			return nil, fmt.Errorf("unique keys of %s: %w", rowcodec.Table{Schema: db, Name: table}, err)
		}
		if len(out) == 0 || out[len(out)-1].name != name {
			out = append(out, sourceKey{name: name})
		}
		k := &out[len(out)-1]
		k.cols = append(k.cols, col)
		k.prefix = append(k.prefix, sub)
		k.fold = append(k.fold, coll != "" && !strings.HasSuffix(coll, "_bin") && coll != "binary")
		k.nullable = k.nullable || nullable == "YES"
	}
	return out, rows.Err()
}

// newTarget maps an images column list to the destination.
func newTarget(sel Selection, db, table, dstDB, dstTable string, cols []rowcodec.Column, keys []sourceKey) (*target, error) {
	t := &target{srcDB: db, srcTable: table, dst: rowcodec.Table{Schema: dstDB, Name: dstTable},
		ops: parseOps(sel.Operations(db, table))}
	var names []string
	for i, c := range cols {
		to, excluded := sel.Column(db, table, c.Name)
		c.Dest = ""
		if to != c.Name {
			c.Dest = to
		}
		t.cols = append(t.cols, c)
		if !excluded {
			t.keep = append(t.keep, i)
			names = append(names, rowcodec.Column{Name: c.DestName()}.Quoted())
		}
	}
	if len(t.keep) == 0 {
		return nil, fmt.Errorf("%s: every column is excluded", rowcodec.Table{Schema: db, Name: table})
	}
	t.insertCols = "(" + strings.Join(names, ",") + ")"
	index := func(name string) int {
		return slices.IndexFunc(t.cols, func(c rowcodec.Column) bool { return strings.EqualFold(c.Name, name) })
	}
	for _, k := range keys {
		u := uniqueKey{name: k.name, prefix: k.prefix, fold: k.fold}
		ok := true
		for _, c := range k.cols {
			i := index(c)
			if i < 0 {
				// A generated column in a unique key is not in the images: the key
				// cannot be compared; its other keys still serialise conflicts.
				ok = false
				break
			}
			u.cols = append(u.cols, i)
		}
		if !ok {
			continue
		}
		t.uniques = append(t.uniques, u)
		if t.key == nil && !k.nullable && t.kept(u.cols) {
			t.key = u.cols
		}
	}
	return t, nil
}

// kept reports that every column is written to the destination.
func (t *target) kept(cols []int) bool {
	for _, c := range cols {
		if !slices.Contains(t.keep, c) {
			return false
		}
	}
	return true
}

func (t *target) String() string { return rowcodec.Table{Schema: t.srcDB, Name: t.srcTable}.String() }

// keyChanged reports that an update moves the row to another key value.
func (t *target) keyChanged(before, after rowcodec.Row) bool {
	cols := t.key
	if cols == nil {
		return true
	}
	for _, i := range cols {
		if !sameValue(before[i], after[i]) {
			return true
		}
	}
	return false
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case nil:
		return b == nil
	}
	return a == b
}
