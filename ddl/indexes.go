package ddl

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// Index is a secondary index left out of a CREATE TABLE, to be added after the
// table's rows are copied.
type Index struct {
	Name string `json:"name"`
	// Clause is the definition as SHOW CREATE TABLE writes it ("KEY `k_1` (`k`)"),
	// usable after ALTER TABLE ... ADD.
	Clause string `json:"clause"`
}

// SplitIndexes removes from a CREATE TABLE statement the secondary indexes that
// are cheaper to build after a bulk copy than to maintain row by row: inserting
// into a random-order secondary index costs the destination more CPU than the
// row itself (measured: 1.5× the copy rate without `KEY (k)` on sysbench rows),
// while adding it later is one sorted build. It returns the statement without
// them and the removed ones, in table order. What stays:
//   - PRIMARY KEY and UNIQUE keys (constraints the copy's conflict checks and the
//     incremental applier rely on, and possible foreign-key targets);
//   - FULLTEXT and SPATIAL keys (the first FULLTEXT index added to an InnoDB table
//     rebuilds it);
//   - a key whose leading columns are a FOREIGN KEY's columns, and a key led by the
//     AUTO_INCREMENT column (InnoDB needs both);
//   - every index of a table without a PRIMARY KEY (the copy pages by its best
//     unique key and reads the destination through it) or with system versioning
//     (ALTER is restricted there), and keys with expression parts.
//
// Nothing is removed from a statement SplitIndexes does not understand; it
// returns it unchanged.
func SplitIndexes(create string) (string, []Index, error) {
	s, err := tokenize("CREATE TABLE", create)
	if err != nil {
		return "", nil, err
	}
	open := -1
	for k := 0; k < len(s.sig); k++ {
		if s.tok(k).IsOp("(") {
			open = k
			break
		}
	}
	if open < 0 || !s.tok(0).Is("CREATE") {
		return create, nil, nil
	}
	closing := s.matching(open)
	if closing < 0 {
		return "", nil, fmt.Errorf("CREATE TABLE: unbalanced parentheses")
	}
	for k := closing + 1; k+1 < len(s.sig); k++ {
		if s.tok(k).Is("SYSTEM") && s.tok(k+1).Is("VERSIONING") {
			return create, nil, nil
		}
	}
	items := s.splitTop(open+1, closing)
	hasPK := false
	autoInc := ""
	var fks [][]string
	type candidate struct {
		it   item
		name string
		cols []string
	}
	var cands []candidate
	for _, it := range items {
		k := it.from
		if s.tok(k).Kind == sqltok.Ident {
			// A column: InnoDB needs an index led by an AUTO_INCREMENT column.
			for j := it.from + 1; j <= it.to; j++ {
				if s.tok(j).Is("AUTO_INCREMENT") {
					autoInc = strings.ToLower(s.name(it.from))
				}
			}
			continue
		}
		if s.tok(k).Is("CONSTRAINT") {
			k++
			if s.tok(k).Kind == sqltok.Ident {
				k++
			}
		}
		switch {
		case s.tok(k).Is("PRIMARY"):
			hasPK = true
		case s.tok(k).Is("FOREIGN"):
			if o := s.nextOp(k, it.to, "("); o >= 0 {
				if cols, ok := keyColumnNames(s, o); ok {
					fks = append(fks, cols)
				}
			}
		case s.tok(k).Is("KEY") || s.tok(k).Is("INDEX"):
			o := s.nextOp(k, it.to, "(")
			if o < 0 || s.tok(k+1).Kind != sqltok.Ident {
				continue
			}
			cols, ok := keyColumnNames(s, o)
			if !ok {
				continue
			}
			cands = append(cands, candidate{it: it, name: s.name(k + 1), cols: cols})
		}
	}
	if !hasPK || len(cands) == 0 {
		return create, nil, nil
	}
	var out []Index
	var drop []item
	for _, c := range cands {
		if supportsForeignKey(c.cols, fks) || (autoInc != "" && c.cols[0] == autoInc) {
			continue
		}
		out = append(out, Index{Name: c.name, Clause: sqltok.Join(s.toks[s.sig[c.it.from] : s.sig[c.it.to]+1])})
		drop = append(drop, c.it)
	}
	// Each removed item goes with its line and the comma after it; when the body's
	// last items go, the comma of the last item kept goes too.
	dropped := map[int]bool{}
	for _, it := range drop {
		dropped[it.from] = true
		end := it.to
		if it.comma >= 0 {
			end = it.comma
		}
		s.blank(s.sig[it.from-1]+1, s.sig[end]+1)
	}
	for i := len(items) - 1; i >= 0 && dropped[items[i].from]; i-- {
		if i > 0 && !dropped[items[i-1].from] {
			s.blank(s.sig[items[i-1].comma], s.sig[items[i-1].comma]+1)
		}
	}
	return s.String(), out, nil
}

// keyColumnNames reads a key part list at the "(" at open: column names, each
// optionally with a prefix length and ASC/DESC. Anything else (an expression
// part) is not understood.
func keyColumnNames(s *stmt, open int) ([]string, bool) {
	end := s.matching(open)
	if end < 0 {
		return nil, false
	}
	var cols []string
	for k := open + 1; k < end; k++ {
		t := s.tok(k)
		switch {
		case t.Kind == sqltok.Ident:
			cols = append(cols, strings.ToLower(s.name(k)))
		case t.IsOp("(") && s.tok(k+1).Kind == sqltok.Number && s.tok(k+2).IsOp(")"):
			k += 2
		case t.IsOp(","), t.Is("ASC"), t.Is("DESC"):
		default:
			return nil, false
		}
	}
	return cols, len(cols) > 0
}

// supportsForeignKey: InnoDB needs an index whose leading columns are the foreign
// key's columns, in order.
func supportsForeignKey(cols []string, fks [][]string) bool {
	for _, fk := range fks {
		if len(fk) <= len(cols) && equalFold(cols[:len(fk)], fk) {
			return true
		}
	}
	return false
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

// AddIndexes is the ALTER TABLE adding idx to table (already quoted and
// qualified) in one statement: one pass over the rows for all of them.
func AddIndexes(table string, idx []Index) string {
	var b strings.Builder
	b.WriteString("ALTER TABLE ")
	b.WriteString(table)
	for i, x := range idx {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" ADD ")
		b.WriteString(x.Clause)
	}
	return b.String()
}
