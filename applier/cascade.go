package applier

import (
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/rowcodec"
)

// Foreign keys with ON DELETE / ON UPDATE CASCADE or SET NULL. The source runs
// those actions inside InnoDB and does not log the rows they change, and the
// applier writes with foreign_key_checks=0 (so the destination would not run
// them either). So the applier runs them itself: before a parent row's delete
// (or a change of its referenced columns) it deletes or updates the child rows
// that reference it, on the destination, by the foreign key's values. A child
// row whose parent was never on the destination (the full copy read the child
// before the source deleted the parent) is reached as well, which a cascade
// left to InnoDB would miss.
//
// Ordering: a change of a child row and a change of the parent row it
// references share a conflict key (the parent table, the referenced columns'
// values), so they run in source order in one slot.

// cascadeSalt separates the table-wide keys of cascades from row keys.
const cascadeSalt = 0x9e3779b97f4a7c15

// cascades reports that the change makes the destination run foreign key
// actions (see cascadeStatements).
func (c change) cascades() bool {
	switch c.op {
	case binlog.Delete:
		for _, k := range c.t.cascades {
			if k.deleteRule != "" {
				return true
			}
		}
	case binlog.Update:
		for _, k := range c.t.cascades {
			if k.updateRule == "" {
				continue
			}
			for _, ci := range k.parentCols {
				if !sameValue(c.before[ci], c.after[ci]) {
					return true
				}
			}
		}
	}
	return false
}

// descendants lists (as table ids) the replicated tables a cascade from
// db.table reaches, transitively.
func (a *Applier) descendants(ctx context.Context, db, table string) ([]uint64, error) {
	if a.cfg.Source == nil {
		return nil, nil
	}
	seen := map[string]bool{db + "\x00" + table: true}
	var out []uint64
	queue := [][2]string{{db, table}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		fks, err := a.foreignKeys(ctx, cur[0], cur[1])
		if err != nil {
			return nil, err
		}
		for _, fk := range fks {
			if fk.refDB != cur[0] || fk.refTable != cur[1] {
				continue
			}
			ck := fk.db + "\x00" + fk.table
			if seen[ck] {
				continue
			}
			seen[ck] = true
			if _, _, ok := a.cfg.Select.Table(fk.db, fk.table); !ok {
				continue
			}
			out = append(out, tableIDOf(fk.db, fk.table))
			queue = append(queue, [2]string{fk.db, fk.table})
		}
	}
	return out, nil
}

// foreignKeys reads (once per DDL) the cascading foreign keys of db.table as
// a parent or child: from the schema history when there is one (as of the
// event being applied), else the source; database names are the source's.
func (a *Applier) foreignKeys(ctx context.Context, db, table string) ([]foreignKey, error) {
	k := db + "\x00" + table
	if fks, ok := a.fks[k]; ok {
		return fks, nil
	}
	kdb, schema := a.cfg.Source, db
	if a.cfg.KeySource != nil {
		kdb, schema = a.cfg.KeySource(db)
	}
	if kdb == nil {
		return nil, nil
	}
	fks, err := loadForeignKeys(ctx, kdb, schema, table)
	if err != nil {
		return nil, err
	}
	if a.cfg.KeySource != nil && a.cfg.SourceDB != nil {
		var out []foreignKey
		for _, fk := range fks {
			var ok1, ok2 bool
			fk.db, ok1 = a.cfg.SourceDB(ctx, fk.db)
			fk.refDB, ok2 = a.cfg.SourceDB(ctx, fk.refDB)
			if !ok1 || !ok2 {
				continue // a database outside the history: not replicated
			}
			fk.identity = fk.refDB + "\x00" + fk.refTable + "\x00" + strings.SplitN(fk.identity, "\x00", 3)[2]
			out = append(out, fk)
		}
		fks = out
	}
	a.fks[k] = fks
	return fks, nil
}

// fkColumn is one column of a foreign key, by source names.
type fkColumn struct{ col, refCol string }

// foreignKey is a cascading foreign key read from the source.
type foreignKey struct {
	db, table, name        string // the child
	refDB, refTable        string // the parent
	cols                   []fkColumn
	deleteRule, updateRule string // CASCADE, SET NULL, or "" for anything else
	identity               string // the parent and its referenced columns: the conflict key's name
}

// loadForeignKeys reads the cascading foreign keys in which db.table is the
// child or the parent.
func loadForeignKeys(ctx context.Context, src *sql.DB, db, table string) ([]foreignKey, error) {
	const q = `SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME,
  k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL
  AND ((k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ?) OR (k.REFERENCED_TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME = ?))
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`
	rows, err := src.QueryContext(ctx, q, db, table, db, table)
	if err != nil {
		return nil, fmt.Errorf("foreign keys of %s: %w", rowcodec.Table{Schema: db, Name: table}, err)
	}
	defer rows.Close()
	var out []foreignKey
	for rows.Next() {
		var fk foreignKey
		var c fkColumn
		if err := rows.Scan(&fk.db, &fk.table, &fk.name, &c.col, &fk.refDB, &fk.refTable, &c.refCol, &fk.deleteRule, &fk.updateRule); err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", rowcodec.Table{Schema: db, Name: table}, err)
		}
		if n := len(out); n > 0 && out[n-1].db == fk.db && out[n-1].table == fk.table && out[n-1].name == fk.name {
			out[n-1].cols = append(out[n-1].cols, c)
			continue
		}
		fk.cols = []fkColumn{c}
		out = append(out, fk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("foreign keys of %s: %w", rowcodec.Table{Schema: db, Name: table}, err)
	}
	var cascading []foreignKey
	for _, fk := range out {
		fk.deleteRule, fk.updateRule = cascadeRule(fk.deleteRule), cascadeRule(fk.updateRule)
		if fk.deleteRule == "" && fk.updateRule == "" {
			continue
		}
		refs := make([]string, len(fk.cols))
		for i, c := range fk.cols {
			refs[i] = c.refCol
		}
		fk.identity = fk.refDB + "\x00" + fk.refTable + "\x00" + strings.Join(refs, "\x00")
		cascading = append(cascading, fk)
	}
	return cascading, nil
}

func cascadeRule(r string) string {
	switch strings.ToUpper(r) {
	case "CASCADE":
		return "CASCADE"
	case "SET NULL":
		return "SET NULL"
	}
	return ""
}

// cascade is a foreign key of a replicated child table to this (parent) table.
type cascade struct {
	child      rowcodec.Table // destination name
	childCols  []string       // destination names, in key order
	parentCols []int          // indexes into target.cols of the referenced columns
	deleteRule string
	updateRule string
	identity   string
	// childOps are the operations the child's entry replicates.
	childOps opSet
}

// fkRef is a cascading foreign key of this (child) table: its columns' values
// name a parent row.
type fkRef struct {
	cols     []int
	identity string
}

// addForeignKeys sets the target's cascades (as a parent) and refs (as a child).
// Keys whose other table is not replicated, or whose columns are excluded, are
// left out: the destination has no such relation to keep.
func (t *target) addForeignKeys(sel Selection, fks []foreignKey) {
	index := func(name string) int {
		return slices.IndexFunc(t.cols, func(c rowcodec.Column) bool { return strings.EqualFold(c.Name, name) })
	}
	for _, fk := range fks {
		if fk.db == t.srcDB && fk.table == t.srcTable {
			// This table is the child.
			if _, _, ok := sel.Table(fk.refDB, fk.refTable); !ok {
				continue
			}
			r := fkRef{identity: fk.identity}
			for _, c := range fk.cols {
				i := index(c.col)
				if i < 0 {
					r.cols = nil
					break
				}
				r.cols = append(r.cols, i)
			}
			if r.cols != nil {
				t.refs = append(t.refs, r)
			}
		}
		if fk.refDB == t.srcDB && fk.refTable == t.srcTable {
			// This table is the parent.
			dstDB, dstTable, ok := sel.Table(fk.db, fk.table)
			if !ok {
				continue
			}
			c := cascade{child: rowcodec.Table{Schema: dstDB, Name: dstTable}, deleteRule: fk.deleteRule, updateRule: fk.updateRule, identity: fk.identity,
				childOps: parseOps(sel.Operations(fk.db, fk.table))}
			for _, col := range fk.cols {
				to, excluded := sel.Column(fk.db, fk.table, col.col)
				i := index(col.refCol)
				if excluded || i < 0 || !slices.Contains(t.keep, i) {
					c.parentCols = nil
					break
				}
				c.childCols = append(c.childCols, to)
				c.parentCols = append(c.parentCols, i)
			}
			if c.parentCols != nil {
				t.cascades = append(t.cascades, c)
			}
		}
	}
}

// appendFKKeys appends the conflict keys that tie a parent row and the child
// rows referencing it.
func (t *target) appendFKKeys(keys []uint64, row rowcodec.Row) []uint64 {
	if row == nil {
		return keys
	}
	var h maphash.Hash
	key := func(identity string, cols []int) {
		h.SetSeed(seed)
		h.WriteString("fk\x00")
		h.WriteString(identity)
		for _, ci := range cols {
			if row[ci] == nil {
				return // a NULL references nothing
			}
			h.WriteByte(0)
			// Folded: the child and parent columns may differ in collation.
			writeValue(&h, t.cols[ci], row[ci], 0, true)
		}
		keys = append(keys, h.Sum64())
	}
	for _, c := range t.cascades {
		key(c.identity, c.parentCols)
	}
	for _, r := range t.refs {
		key(r.identity, r.cols)
	}
	return keys
}

// cascadeStatements returns what the destination must run before a parent
// change: for a delete (after == nil) the ON DELETE actions, for an update that
// changes referenced values the ON UPDATE ones. checks: run them with
// foreign_key_checks on (InnoDB carries them to grandchildren); off for an
// update whose parent row the destination does not hold (filtered), which the
// check of the children's new values would refuse.
func (t *target) cascadeStatements(before, after rowcodec.Row, checks bool) ([]string, error) {
	var out []string
	for _, c := range t.cascades {
		rule := c.deleteRule
		if after == nil && c.childOps&opDelete == 0 {
			continue // the child's deletes are not replicated
		}
		if after != nil {
			if c.childOps&opUpdate == 0 {
				continue
			}
			rule = c.updateRule
			changed := false
			for _, ci := range c.parentCols {
				changed = changed || !sameValue(before[ci], after[ci])
			}
			if !changed {
				continue
			}
		}
		if rule == "" {
			continue
		}
		null := false
		for _, ci := range c.parentCols {
			null = null || before[ci] == nil
		}
		if null {
			continue
		}
		where, err := c.where(t, before)
		if err != nil {
			return nil, err
		}
		var set []string
		for i, col := range c.childCols {
			q := rowcodec.Column{Name: col}.Quoted()
			switch {
			case rule == "SET NULL":
				set = append(set, q+" = NULL")
			case after != nil:
				lit, err := appendKeyLiteral(nil, t.cols[c.parentCols[i]], after[c.parentCols[i]])
				if err != nil {
					return nil, err
				}
				set = append(set, q+" = "+string(lit))
			}
		}
		// With checks on, InnoDB carries the action further down (grandchildren);
		// an update runs after the parent's new row exists (writer.add), which
		// the check of the child's new value needs.
		stmt := "UPDATE " + c.child.Quoted() + " SET " + strings.Join(set, ", ") + " WHERE " + where
		if rule == "CASCADE" && after == nil {
			stmt = "DELETE FROM " + c.child.Quoted() + " WHERE " + where
		}
		if checks {
			out = append(out, "SET SESSION foreign_key_checks = 1", stmt, "SET SESSION foreign_key_checks = 0")
		} else {
			out = append(out, stmt)
		}
	}
	return out, nil
}

// where is "(`a`,`b`) = (v1,v2)" on the child's columns with the parent's values.
func (c cascade) where(t *target, row rowcodec.Row) (string, error) {
	var b []byte
	b = append(b, '(')
	for i, col := range c.childCols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, rowcodec.Column{Name: col}.Quoted()...)
	}
	b = append(b, ") = ("...)
	for i, ci := range c.parentCols {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendKeyLiteral(b, t.cols[ci], row[ci]); err != nil {
			return "", err
		}
	}
	return string(append(b, ')')), nil
}
