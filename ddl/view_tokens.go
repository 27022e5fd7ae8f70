package ddl

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// The tokenizer fallback for SELECTs the TiDB parser cannot read. It relies on
// what MariaDB stores for a view: tables appear after FROM/JOIN (and commas of a
// FROM list) as `db`.`t` with an optional alias, and columns are qualified
// (`alias`.`c` or `db`.`t`.`c`).

type tableSite struct {
	from, to  int // significant indexes of the name
	db, table string
	qualified bool
}

type tokenView struct {
	s       *stmt
	srcDB   string
	tables  []tableSite
	aliasAt map[int]bool // significant indexes of alias definitions
	aliases map[string][]source
	bases   []source
	derived bool
}

// clauseEnd are the words that end a FROM list.
var clauseEnd = map[string]bool{
	"WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true, "ON": true, "USING": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "WINDOW": true, "FOR": true, "LOCK": true, "INTO": true,
	"NATURAL": true, "LEFT": true, "RIGHT": true, "INNER": true, "CROSS": true, "STRAIGHT_JOIN": true, "JOIN": true,
	"OUTER": true, "FULL": true, "PROCEDURE": true, "RETURNING": true,
}

func tokenSelect(what, srcDB, sel string) (*tokenView, error) {
	s, err := tokenize(what, sel)
	if err != nil {
		return nil, err
	}
	v := &tokenView{s: s, srcDB: srcDB, aliasAt: map[int]bool{}, aliases: map[string][]source{}}
	f := newFromLists()
	for k := 0; k < len(s.sig); k++ {
		t := s.tok(k)
		if next, ok := f.step(s, k, v.tableAt); ok {
			k = next
			// A derived table: FROM ( ... ) [AS] alias.
			if t.IsOp(")") && f.in() {
				k = v.alias(k+1, source{derived: true}) - 1
			}
			continue
		}
		if t.Kind == sqltok.Word && clauseEnd[strings.ToUpper(t.Text)] {
			f.setIn(false)
		}
	}
	return v, nil
}

// fromLists follows FROM lists through parentheses, for the token walkers of view
// SELECTs and routine bodies: whether the current depth is a FROM list (where a comma
// starts another table reference), and which "(" in table position opens a join
// group, FROM (`a` `x` JOIN `b` ...), rather than a derived table.
type fromLists struct {
	inFrom  map[int]bool // by parenthesis depth
	depth   int
	groupAt int // significant index of the "(" opening a join group, -1 if none
}

func newFromLists() *fromLists { return &fromLists{inFrom: map[int]bool{}, groupAt: -1} }

// in reports whether the current depth is a FROM list.
func (f *fromLists) in() bool { return f.inFrom[f.depth] }

// setIn marks the current depth as a FROM list or ends it.
func (f *fromLists) setIn(in bool) { f.inFrom[f.depth] = in }

// step handles the token at k when it shapes FROM lists: ( ) FROM JOIN
// STRAIGHT_JOIN, and a comma inside a FROM list. Table references after them are
// read with tableAt (which returns the index after what it read). It returns the last
// index consumed and whether the token was handled.
func (f *fromLists) step(s *stmt, k int, tableAt func(int) int) (int, bool) {
	t := s.tok(k)
	switch {
	case t.IsOp("("):
		f.depth++
		f.inFrom[f.depth] = k == f.groupAt
		if k == f.groupAt {
			return f.tableOrGroup(s, k+1, tableAt) - 1, true
		}
		return k, true
	case t.IsOp(")"):
		f.inFrom[f.depth] = false
		f.depth--
		return k, true
	case t.Is("FROM") || t.Is("JOIN") || t.Is("STRAIGHT_JOIN"):
		f.inFrom[f.depth] = true
		return f.tableOrGroup(s, k+1, tableAt) - 1, true
	case t.IsOp(",") && f.in():
		return f.tableOrGroup(s, k+1, tableAt) - 1, true
	}
	return k, false
}

// tableOrGroup reads a table reference at k; a "(" there opens a join group
// (recorded in groupAt) unless it starts a derived table's query.
func (f *fromLists) tableOrGroup(s *stmt, k int, tableAt func(int) int) int {
	if s.tok(k).IsOp("(") {
		if n := s.tok(k + 1); !n.Is("SELECT") && !n.Is("WITH") && !n.Is("VALUES") && !n.Is("TABLE") {
			f.groupAt = k
		}
		return k
	}
	return tableAt(k)
}

// tableAt reads a table reference at k (if there is one) and returns the index after it.
func (v *tokenView) tableAt(k int) int {
	s := v.s
	if s.tok(k).IsOp("(") || s.tok(k).Is("LATERAL") {
		return k // derived table or join group: handled by the paren logic
	}
	if s.tok(k).Kind == sqltok.Word && clauseEnd[strings.ToUpper(s.tok(k).Text)] {
		return k
	}
	parts, after := s.qualified(k, 2)
	if len(parts) == 0 {
		return k
	}
	site := tableSite{from: k, to: after - 1, db: v.srcDB, table: parts[len(parts)-1], qualified: len(parts) == 2}
	if len(parts) == 2 {
		site.db = parts[0]
	}
	v.tables = append(v.tables, site)
	src := source{db: site.db, table: site.table}
	v.bases = append(v.bases, src)
	if next := v.alias(after, src); next != after {
		return next
	}
	v.addAlias(site.table, src)
	return after
}

// alias reads an optional [AS] alias at k for src; it returns the index after it.
func (v *tokenView) alias(k int, src source) int {
	s := v.s
	j := k
	if s.tok(j).Is("AS") {
		j++
	}
	t := s.tok(j)
	if t.Kind == sqltok.Ident || (t.Kind == sqltok.Word && !clauseEnd[strings.ToUpper(t.Text)] && !t.Is("AS") && !t.Is("FOR")) {
		if src.derived {
			v.derived = true
		}
		v.aliasAt[j] = true
		v.addAlias(s.name(j), src)
		return j + 1
	}
	return k
}

func (v *tokenView) addAlias(name string, src source) {
	for _, o := range v.aliases[name] {
		if o == src {
			return
		}
	}
	v.aliases[name] = append(v.aliases[name], src)
}

// tokenRewriteSelect is rewriteSelect's fallback: it rewrites table references,
// `db`.`t`.`c` and `q`.`c` column references in place and refuses unqualified
// columns that a table of the view renames or excludes.
func tokenRewriteSelect(what, srcDB, sel string, n Names) (string, error) {
	v, err := tokenSelect(what, srcDB, sel)
	if err != nil {
		return "", err
	}
	s := v.s
	isTableSite := map[int]bool{}
	var deps depErrs
	for _, ts := range v.tables {
		for k := ts.from; k <= ts.to; k++ {
			isTableSite[k] = true
		}
	}
	for k := 0; k < len(s.sig); k++ {
		if isTableSite[k] || v.aliasAt[k] || s.tok(k).Kind != sqltok.Ident || s.tok(k-1).IsOp(".") {
			continue
		}
		if s.tok(k - 1).Is("AS") {
			continue // an output alias: the view's interface, kept
		}
		parts, after := s.qualified(k, 3)
		var src source
		var qualifierIsTable bool
		switch len(parts) {
		case 3:
			src, qualifierIsTable = source{db: parts[0], table: parts[1]}, true
		case 2:
			cands := v.aliases[parts[0]]
			if len(cands) != 1 {
				if len(cands) > 1 {
					return "", fmt.Errorf("%s: qualifier %s stands for several tables; cannot rename its columns safely", what, sqltok.Quote(parts[0]))
				}
				k = after - 1
				continue
			}
			src = cands[0]
			if src.derived {
				k = after - 1
				continue
			}
			qualifierIsTable = src.table == parts[0]
		default:
			name := parts[0]
			if len(v.bases) == 1 && !v.derived {
				b := v.bases[0]
				dst, excluded := n.Column(b.db, b.table, name)
				if excluded {
					deps.add(&DependencyError{Database: b.db, Table: b.table, Column: name, Dependent: what})
				} else if dst != name {
					s.set(k, sqltok.Quote(dst))
				}
				continue
			}
			for _, b := range v.bases {
				if dst, excluded := n.Column(b.db, b.table, name); excluded || dst != name {
					return "", fmt.Errorf("%s: unqualified column %s may belong to %s, which renames or excludes it; cannot rewrite it safely (qualify it in the source view)",
						what, sqltok.Quote(name), qualify(b.db, b.table))
				}
			}
			continue
		}
		col := parts[len(parts)-1]
		dst, excluded := n.Column(src.db, src.table, col)
		if excluded {
			deps.add(&DependencyError{Database: src.db, Table: src.table, Column: col, Dependent: what})
			k = after - 1
			continue
		}
		var b strings.Builder
		if qualifierIsTable {
			ref := mapTableRef(n, src.db, src.table)
			if len(parts) == 3 {
				b.WriteString(ref)
			} else {
				_, t, ok := n.Table(src.db, src.table)
				if !ok {
					t = src.table
				}
				b.WriteString(sqltok.Quote(t))
			}
		} else {
			b.WriteString(s.text(k, k))
		}
		b.WriteString(".")
		b.WriteString(sqltok.Quote(dst))
		if dst != col || qualifierIsTable {
			s.replaceRange(k, after-1, b.String())
		}
		k = after - 1
	}
	if err := deps.err(); err != nil {
		return "", err
	}
	for _, ts := range v.tables {
		s.replaceRange(ts.from, ts.to, mapTableRef(n, ts.db, ts.table))
	}
	return s.String(), nil
}
