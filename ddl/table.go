package ddl

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// RewriteTable rewrites SHOW CREATE TABLE output of srcDB.srcTable for the
// destination:
//   - the table is named `dstDB`.`dstTable` (qualified, so the statement does not
//     depend on the session's current database);
//   - columns are renamed in their definitions, generated-column expressions,
//     DEFAULT expressions, CHECK constraints (column and table level), index key
//     parts, PERIOD definitions, foreign keys and partitioning expressions;
//   - excluded columns are dropped; one that anything else still uses is a
//     *DependencyError (several are joined: see DependencyErrors);
//   - REFERENCES targets are written `db`.`table` with the referenced table's
//     destination names (a table that is not selected keeps its name in its
//     database's destination name) and referenced columns mapped through
//     n.Column of the referenced table.
//
// Everything else (types, defaults, comments, table options, partition
// definitions, AUTO_INCREMENT) is reproduced byte for byte.
func RewriteTable(srcDB, srcTable, createSQL string, n Names) (string, error) {
	what := "table " + qualify(srcDB, srcTable)
	s, err := tokenize(what, createSQL)
	if err != nil {
		return "", err
	}
	k := 0
	if !s.tok(k).Is("CREATE") {
		return "", fmt.Errorf("%s: not a CREATE TABLE statement", what)
	}
	k++
	if s.tok(k).Is("OR") && s.tok(k+1).Is("REPLACE") {
		k += 2
	}
	if s.tok(k).Is("TEMPORARY") {
		k++
	}
	if s.tok(k).Is("SEQUENCE") {
		return "", fmt.Errorf("%s: is a SEQUENCE, which is not migrated", what)
	}
	if !s.tok(k).Is("TABLE") {
		return "", fmt.Errorf("%s: not a CREATE TABLE statement", what)
	}
	k++
	if s.tok(k).Is("IF") && s.tok(k+1).Is("NOT") && s.tok(k+2).Is("EXISTS") {
		k += 3
	}
	parts, after := s.qualified(k, 2)
	if len(parts) == 0 {
		return "", fmt.Errorf("%s: no table name after CREATE TABLE", what)
	}
	dstDB, dstTable, ok := n.Table(srcDB, srcTable)
	if !ok {
		return "", fmt.Errorf("%s: table is not selected for the migration", what)
	}
	s.replaceRange(k, after-1, qualify(dstDB, dstTable))
	open := after
	if !s.tok(open).IsOp("(") {
		return "", fmt.Errorf("%s: expected ( after the table name, found %q", what, s.tok(open).Text)
	}
	closing := s.matching(open)
	if closing < 0 {
		return "", fmt.Errorf("%s: unbalanced parentheses in the table body", what)
	}
	t := &tableRW{s: s, db: srcDB, table: srcTable, n: n, what: what, periods: map[string]bool{}}
	items := s.splitTop(open+1, closing)
	// First pass: the column names (for case-insensitive canonical names) and
	// period names (which appear in key parts but are not columns).
	for _, it := range items {
		if t.isColumnItem(it.from) {
			t.cols = append(t.cols, s.name(it.from))
		} else if s.tok(it.from).Is("PERIOD") && s.tok(it.from+1).Is("FOR") && s.isName(it.from+2) {
			t.periods[strings.ToLower(s.name(it.from+2))] = true
		}
	}
	var drop []item
	for i, it := range items {
		if t.isColumnItem(it.from) {
			if t.column(it) {
				drop = append(drop, items[i])
			}
			continue
		}
		if err := t.constraint(it); err != nil {
			return "", err
		}
	}
	t.partitioning(closing + 1)
	t.unionOption(closing + 1)
	if err := t.deps.err(); err != nil {
		return "", err
	}
	if len(drop) == len(items) || len(drop) == len(t.cols) {
		return "", fmt.Errorf("%s: every column is excluded", what)
	}
	for _, it := range drop {
		s.dropItem(it, items)
	}
	return s.String(), nil
}

// item is a top-level comma-separated part of a parenthesized list: significant
// tokens from..to (inclusive) and the comma after it (-1 for the last).
type item struct {
	from, to, comma int
}

// splitTop splits significant tokens from..end-1 on commas at depth 0.
func (s *stmt) splitTop(from, end int) []item {
	var items []item
	depth, start := 0, from
	for k := from; k < end; k++ {
		switch t := s.tok(k); {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case t.IsOp(",") && depth == 0:
			items = append(items, item{from: start, to: k - 1, comma: k})
			start = k + 1
		}
	}
	if start < end {
		items = append(items, item{from: start, to: end - 1, comma: -1})
	}
	return items
}

// dropItem removes an item of a list with its separating comma, keeping the
// layout of the remaining lines: a middle item goes with the comma after it, the
// last one with the comma before it.
func (s *stmt) dropItem(it item, all []item) {
	if it.comma >= 0 {
		// From the trivia before the item (the "\n  " of its line) through its comma.
		s.blank(s.sig[it.from-1]+1, s.sig[it.comma]+1)
		return
	}
	prev := -1
	for _, o := range all {
		if o.comma >= 0 && o.comma < it.from {
			prev = o.comma
		}
	}
	if prev < 0 {
		s.blank(s.sig[it.from], s.sig[it.to]+1)
		return
	}
	s.blank(s.sig[prev], s.sig[it.to]+1)
}

type tableRW struct {
	s         *stmt
	db, table string
	n         Names
	what      string
	cols      []string
	periods   map[string]bool
	deps      depErrs
}

// tableKeywords start the non-column items of a table body.
var tableKeywords = map[string]bool{
	"PRIMARY": true, "UNIQUE": true, "KEY": true, "INDEX": true, "FULLTEXT": true, "SPATIAL": true,
	"CONSTRAINT": true, "FOREIGN": true, "CHECK": true, "PERIOD": true,
}

// isColumnItem: SHOW CREATE backquotes column names, so an Ident starts a column
// definition; an unquoted word does unless it is one of the keywords above.
func (t *tableRW) isColumnItem(k int) bool {
	tk := t.s.tok(k)
	if tk.Kind == sqltok.Ident {
		return true
	}
	return tk.Kind == sqltok.Word && !tableKeywords[strings.ToUpper(tk.Text)]
}

// canonical returns the column name as defined, for a reference written in any case.
func (t *tableRW) canonical(name string) string {
	for _, c := range t.cols {
		if c == name {
			return c
		}
	}
	for _, c := range t.cols {
		if foldEq(c, name) {
			return c
		}
	}
	return name
}

// renameCol renames the column reference at significant index k; dependent names
// what uses it, for the error when the column is excluded.
func (t *tableRW) renameCol(k int, dependent string) {
	written := t.s.name(k)
	if t.periods[strings.ToLower(written)] {
		return
	}
	col := t.canonical(written)
	dst, excluded := t.n.Column(t.db, t.table, col)
	if excluded {
		t.deps.add(&DependencyError{Database: t.db, Table: t.table, Column: col, Dependent: dependent})
		return
	}
	if dst != col {
		t.s.set(k, sqltok.Quote(dst))
	}
}

func (t *tableRW) owner() string { return " of table " + qualify(t.db, t.table) }

// column rewrites a column definition; it returns true when the column is excluded.
func (t *tableRW) column(it item) bool {
	s := t.s
	name := t.canonical(s.name(it.from))
	dst, excluded := t.n.Column(t.db, t.table, name)
	if excluded {
		return true
	}
	if dst != name {
		s.set(it.from, sqltok.Quote(dst))
	}
	ctx := "the definition of column " + sqltok.Quote(name)
	for k := it.from + 1; k <= it.to; k++ {
		tk := s.tok(k)
		switch {
		case tk.Is("CHECK"):
			ctx = "the CHECK constraint of column " + sqltok.Quote(name)
		case tk.Is("AS"):
			ctx = "generated column " + sqltok.Quote(name)
		case tk.Is("DEFAULT"):
			ctx = "the DEFAULT of column " + sqltok.Quote(name)
		}
		k = t.expr(k, ctx+t.owner())
	}
	return false
}

// expr handles the token at k inside an expression of this table: a lone
// backquoted identifier is a column of the table; a qualified name `db`.`obj`
// (nextval(`db`.`seq`) in a DEFAULT) is a table-like object whose database and
// name are mapped. It returns the last index it consumed.
func (t *tableRW) expr(k int, dependent string) int {
	s := t.s
	tk := s.tok(k)
	if tk.Kind != sqltok.Ident || s.tok(k-1).IsOp(".") {
		return k
	}
	if s.tok(k+1).IsOp(".") && s.isName(k+2) {
		parts, after := s.qualified(k, 3)
		if len(parts) == 2 {
			s.replaceRange(k, after-1, mapTableRef(t.n, parts[0], parts[1]))
		}
		return after - 1
	}
	t.renameCol(k, dependent)
	return k
}

// mapTableRef writes the destination `db`.`table` of a referenced table: its
// mapped names when selected, else its own name in its database's destination.
func mapTableRef(n Names, db, table string) string {
	if d, tb, ok := n.Table(db, table); ok {
		return qualify(d, tb)
	}
	return qualify(n.Database(db), table)
}

// constraint rewrites an index, key, foreign key, CHECK or PERIOD item.
func (t *tableRW) constraint(it item) error {
	s := t.s
	k := it.from
	var cname string
	if s.tok(k).Is("CONSTRAINT") {
		k++
		if s.isName(k) && !s.tok(k).Is("CHECK") && !s.tok(k).Is("FOREIGN") && !s.tok(k).Is("UNIQUE") && !s.tok(k).Is("PRIMARY") {
			cname = s.name(k)
			k++
		}
	}
	first := strings.ToUpper(s.tok(k).Text)
	switch first {
	case "CHECK":
		dep := "CHECK constraint"
		if cname != "" {
			dep += " " + sqltok.Quote(cname)
		}
		t.exprRange(k+1, it.to, dep+t.owner())
		return nil
	case "FOREIGN":
		return t.foreignKey(k, it, cname)
	case "PERIOD":
		open := s.nextOp(k, it.to, "(")
		if open >= 0 {
			t.exprRange(open, s.matching(open), "period "+sqltok.Quote(s.name(k+2))+t.owner())
		}
		return nil
	}
	// PRIMARY KEY / UNIQUE / KEY / INDEX / FULLTEXT / SPATIAL: the first paren group
	// holds the key parts; the index name comes before it.
	open := s.nextOp(k, it.to, "(")
	if open < 0 {
		return fmt.Errorf("%s: no key parts in %q", t.what, s.tok(it.from).Text)
	}
	dep := "the primary key"
	if first != "PRIMARY" {
		iname := ""
		for j := k; j < open; j++ {
			if s.tok(j).Kind == sqltok.Ident {
				iname = s.name(j)
			}
		}
		if iname == "" {
			iname = cname
		}
		dep = "index " + sqltok.Quote(iname)
	}
	t.exprRange(open, s.matching(open), dep+t.owner())
	return nil
}

// nextOp finds the operator op in k..to, or -1.
func (s *stmt) nextOp(k, to int, op string) int {
	for ; k <= to; k++ {
		if s.tok(k).IsOp(op) {
			return k
		}
	}
	return -1
}

func (t *tableRW) exprRange(from, to int, dependent string) {
	for k := from; k <= to && k < len(t.s.sig); k++ {
		k = t.expr(k, dependent)
	}
}

// foreignKey: FOREIGN KEY [`idx`] (cols) REFERENCES [`db`.]`t` (cols) [ON ...].
func (t *tableRW) foreignKey(k int, it item, cname string) error {
	s := t.s
	dep := "foreign key"
	if cname != "" {
		dep += " " + sqltok.Quote(cname)
	}
	dep += t.owner()
	open := s.nextOp(k, it.to, "(")
	if open < 0 {
		return fmt.Errorf("%s: %s has no column list", t.what, dep)
	}
	closing := s.matching(open)
	t.exprRange(open, closing, dep)
	ref := s.findWord(closing, "REFERENCES")
	if ref < 0 || ref > it.to {
		return fmt.Errorf("%s: %s has no REFERENCES", t.what, dep)
	}
	parts, after := s.qualified(ref+1, 2)
	if len(parts) == 0 {
		return fmt.Errorf("%s: %s: no table after REFERENCES", t.what, dep)
	}
	refDB, refTable := t.db, parts[len(parts)-1]
	if len(parts) == 2 {
		refDB = parts[0]
	}
	s.replaceRange(ref+1, after-1, mapTableRef(t.n, refDB, refTable))
	if !s.tok(after).IsOp("(") {
		return fmt.Errorf("%s: %s: no referenced columns", t.what, dep)
	}
	rclose := s.matching(after)
	self := refDB == t.db && refTable == t.table
	for j := after + 1; j < rclose; j++ {
		if s.tok(j).Kind != sqltok.Ident {
			continue
		}
		if self {
			t.renameCol(j, dep)
			continue
		}
		col := s.name(j)
		dst, excluded := t.n.Column(refDB, refTable, col)
		if excluded {
			t.deps.add(&DependencyError{Database: refDB, Table: refTable, Column: col, Dependent: dep})
			continue
		}
		if dst != col {
			s.set(j, sqltok.Quote(dst))
		}
	}
	return nil
}

// partitioning renames the columns of PARTITION BY / SUBPARTITION BY expressions
// (partition names and VALUES are left alone).
func (t *tableRW) partitioning(from int) {
	s := t.s
	for k := from; k < len(s.sig); k++ {
		if !(s.tok(k).Is("PARTITION") || s.tok(k).Is("SUBPARTITION")) || !s.tok(k+1).Is("BY") {
			continue
		}
		j := k + 2
		if s.tok(j).Is("LINEAR") {
			j++
		}
		if s.tok(j).Is("SYSTEM_TIME") {
			continue // no column expression: the list that follows is partitions
		}
		open := j
		for open < len(s.sig) && !s.tok(open).IsOp("(") {
			open++
		}
		if open >= len(s.sig) {
			return
		}
		closing := s.matching(open)
		if closing < 0 {
			return
		}
		t.exprRange(open, closing, "the partitioning"+t.owner())
		k = closing
	}
}

// unionOption maps the tables of a MERGE table's UNION=(...) option.
func (t *tableRW) unionOption(from int) {
	s := t.s
	k := s.findWord(from, "UNION")
	if k < 0 {
		return
	}
	j := k + 1
	if s.tok(j).IsOp("=") {
		j++
	}
	if !s.tok(j).IsOp("(") {
		return
	}
	closing := s.matching(j)
	for _, it := range s.splitTop(j+1, closing) {
		parts, after := s.qualified(it.from, 2)
		switch len(parts) {
		case 1:
			s.replaceRange(it.from, after-1, mapTableRef(t.n, t.db, parts[0]))
		case 2:
			s.replaceRange(it.from, after-1, mapTableRef(t.n, parts[0], parts[1]))
		}
	}
}
