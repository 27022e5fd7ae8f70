package ddl

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser

	"github.com/sluice-dev/sluice/sqltok"
)

// viewParts locates the pieces of a SHOW CREATE VIEW statement:
// CREATE [OR REPLACE] [ALGORITHM=..] [DEFINER=..] [SQL SECURITY ..] VIEW name [(cols)] AS select [WITH .. CHECK OPTION].
type viewParts struct {
	s                    *stmt
	definerFrom          int // significant index of DEFINER, -1 if absent
	definerTo            int // last significant index of the definer clause
	securityAt           int // significant index of SECURITY's value, -1 if absent
	viewAt               int // significant index of VIEW
	nameFrom, nameTo     int
	selectFrom, selectTo int // the SELECT (significant indexes, inclusive)
	nameParts            []string
}

func parseViewHeader(what, sql string) (*viewParts, error) {
	s, err := tokenize(what, sql)
	if err != nil {
		return nil, err
	}
	v := &viewParts{s: s, definerFrom: -1, securityAt: -1}
	k := 0
	if !s.tok(k).Is("CREATE") {
		return nil, fmt.Errorf("%s: not a CREATE VIEW statement", what)
	}
	k++
	for k < len(s.sig) && !s.tok(k).Is("VIEW") {
		switch {
		case s.tok(k).Is("DEFINER"):
			v.definerFrom = k
			v.definerTo = definerEnd(s, k)
			k = v.definerTo
		case s.tok(k).Is("SECURITY"):
			v.securityAt = k + 1
			k++
		}
		k++
	}
	if k >= len(s.sig) {
		return nil, fmt.Errorf("%s: not a CREATE VIEW statement", what)
	}
	v.viewAt = k
	parts, after := s.qualified(k+1, 2)
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s: no view name", what)
	}
	v.nameParts, v.nameFrom, v.nameTo = parts, k+1, after-1
	k = after
	if s.tok(k).IsOp("(") {
		k = s.matching(k) + 1
	}
	if !s.tok(k).Is("AS") {
		return nil, fmt.Errorf("%s: expected AS after the view name", what)
	}
	v.selectFrom, v.selectTo = k+1, len(s.sig)-1
	// A trailing WITH [CASCADED|LOCAL] CHECK OPTION is not part of the SELECT.
	if e := v.selectTo; e >= 2 && s.tok(e).Is("OPTION") && s.tok(e-1).Is("CHECK") {
		j := e - 2
		if s.tok(j).Is("CASCADED") || s.tok(j).Is("LOCAL") {
			j--
		}
		if s.tok(j).Is("WITH") {
			v.selectTo = j - 1
		}
	}
	return v, nil
}

// definerEnd returns the last significant index of DEFINER = user[@host] | CURRENT_USER[()]
// starting at the DEFINER keyword k.
func definerEnd(s *stmt, k int) int {
	j := k + 1
	if s.tok(j).IsOp("=") {
		j++
	}
	if s.tok(j).Is("CURRENT_USER") {
		if s.tok(j+1).IsOp("(") && s.tok(j+2).IsOp(")") {
			return j + 2
		}
		return j
	}
	// user part: `u`, 'u', u; then @`h` (one Variable token) or @ host.
	if s.tok(j+1).Kind == sqltok.Variable {
		return j + 1
	}
	if s.tok(j + 1).IsOp("@") {
		return j + 2
	}
	return j
}

// removeDefiner blanks the DEFINER clause and the whitespace after it.
func removeDefiner(s *stmt, from, to int) {
	end := s.sig[to] + 1
	for end < len(s.toks) && s.toks[end].Kind == sqltok.Space {
		end++
	}
	s.blank(s.sig[from], end)
}

// text is the source text of significant tokens from..to.
func (s *stmt) text(from, to int) string {
	if from > to {
		return ""
	}
	return sqltok.Join(s.toks[s.sig[from] : s.sig[to]+1])
}

// RewriteView rewrites SHOW CREATE VIEW output of srcDB.viewName: the DEFINER
// clause is removed, SQL SECURITY becomes INVOKER, the view gets its
// destination name (n.Table(srcDB, viewName), qualified), and the SELECT's
// references to renamed databases, tables and columns are rewritten.
//
// The SELECT is analysed with the TiDB parser (alias resolution) and restored
// only when something in it changes; when the parser cannot read it, a
// tokenizer fallback rewrites qualified names (see README). The view's output
// column names are its interface and are kept: a renamed column without an
// alias gets its old name as alias. A rename that cannot be applied safely
// (an unqualified column among several tables) is an error naming the view.
func RewriteView(srcDB, viewName, createSQL string, n Names) (string, error) {
	what := "view " + qualify(srcDB, viewName)
	v, err := parseViewHeader(what, createSQL)
	if err != nil {
		return "", err
	}
	s := v.s
	dstDB, dstView, ok := n.Table(srcDB, viewName)
	if !ok {
		return "", fmt.Errorf("%s: view is not selected for the migration", what)
	}
	sel := s.text(v.selectFrom, v.selectTo)
	newSel, err := rewriteSelect(what, srcDB, sel, n)
	if err != nil {
		return "", err
	}
	if newSel != sel {
		s.replaceRange(v.selectFrom, v.selectTo, newSel)
	}
	s.replaceRange(v.nameFrom, v.nameTo, qualify(dstDB, dstView))
	if v.securityAt >= 0 {
		if !s.tok(v.securityAt).Is("INVOKER") {
			s.set(v.securityAt, "INVOKER")
		}
	} else {
		s.set(v.viewAt, "SQL SECURITY INVOKER "+s.tok(v.viewAt).Text)
	}
	if v.definerFrom >= 0 {
		removeDefiner(s, v.definerFrom, v.definerTo)
	}
	return s.String(), nil
}

// ViewDependencies lists the tables and views a view's SELECT reads (source
// names, unqualified ones in srcDB), in order of first appearance, without
// duplicates and without CTE names.
func ViewDependencies(srcDB, createSQL string) ([]TableRef, error) {
	what := "view in " + sqltok.Quote(srcDB)
	v, err := parseViewHeader(what, createSQL)
	if err != nil {
		return nil, err
	}
	if len(v.nameParts) > 0 {
		what = "view " + sqltok.Quote(v.nameParts[len(v.nameParts)-1])
	}
	sel := v.s.text(v.selectFrom, v.selectTo)
	var refs []TableRef
	seen := map[TableRef]bool{}
	add := func(r TableRef) {
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	if node, err := parseSelect(sel); err == nil {
		c := &collector{srcDB: srcDB, aliases: map[string][]source{}, ctes: map[string]bool{}}
		node.Accept(c)
		for _, tn := range c.tables {
			add(c.ref(tn))
		}
		return refs, nil
	}
	fb, err := tokenSelect(what, srcDB, sel)
	if err != nil {
		return nil, err
	}
	for _, r := range fb.tables {
		add(TableRef{Database: r.db, Name: r.table})
	}
	return refs, nil
}

// parseSelect parses a SELECT (or UNION, or WITH ... SELECT) with the TiDB parser.
func parseSelect(sel string) (ast.StmtNode, error) {
	p := parser.New() // not goroutine-safe: one per call
	return p.ParseOneStmt(sel, "", "")
}

// source is what a table qualifier (alias or table name) stands for.
type source struct {
	db, table string
	derived   bool // a derived table or CTE: its columns are its own aliases
}

// collector walks a SELECT once to learn its table sources.
type collector struct {
	srcDB   string
	tables  []*ast.TableName
	aliases map[string][]source // qualifier -> sources it may stand for
	ctes    map[string]bool
	bases   []source
}

func (c *collector) ref(tn *ast.TableName) TableRef {
	db := tn.Schema.O
	if db == "" {
		db = c.srcDB
	}
	return TableRef{Database: db, Name: tn.Name.O}
}

func (c *collector) addAlias(name string, s source) {
	for _, o := range c.aliases[name] {
		if o == s {
			return
		}
	}
	c.aliases[name] = append(c.aliases[name], s)
}

func (c *collector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.CommonTableExpression:
		c.ctes[x.Name.L] = true
		c.addAlias(x.Name.O, source{derived: true})
	case *ast.TableSource:
		switch src := x.Source.(type) {
		case *ast.TableName:
			if src.Schema.O == "" && c.ctes[src.Name.L] {
				if x.AsName.O != "" {
					c.addAlias(x.AsName.O, source{derived: true})
				}
				break
			}
			r := c.ref(src)
			s := source{db: r.Database, table: r.Name}
			c.bases = append(c.bases, s)
			if x.AsName.O != "" {
				c.addAlias(x.AsName.O, s)
			} else {
				c.addAlias(src.Name.O, s)
			}
		default:
			if x.AsName.O != "" {
				c.addAlias(x.AsName.O, source{derived: true})
			}
		}
	case *ast.TableName:
		if !(x.Schema.O == "" && c.ctes[x.Name.L]) {
			c.tables = append(c.tables, x)
		}
	}
	return n, false
}

func (c *collector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// rewriter applies the renames to the AST, using what the collector learned.
type rewriter struct {
	*collector
	what       string
	n          Names
	changed    bool
	err        error
	deps       depErrs
	outAliases map[string]bool // output aliases of select fields
}

// rewriteSelect returns the SELECT with the renames applied (sel itself when none applies).
func rewriteSelect(what, srcDB, sel string, n Names) (string, error) {
	node, err := parseSelect(sel)
	if err != nil {
		return tokenRewriteSelect(what, srcDB, sel, n)
	}
	c := &collector{srcDB: srcDB, aliases: map[string][]source{}, ctes: map[string]bool{}}
	node.Accept(c)
	r := &rewriter{collector: c, what: what, n: n, outAliases: map[string]bool{}}
	node.Accept(r)
	if r.err != nil {
		return "", r.err
	}
	if err := r.deps.err(); err != nil {
		return "", err
	}
	if !r.changed {
		return sel, nil
	}
	var b strings.Builder
	if err := node.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags|format.RestoreStringWithoutCharset, &b)); err != nil {
		return "", fmt.Errorf("%s: restoring the rewritten SELECT: %w", what, err)
	}
	return b.String(), nil
}

func (r *rewriter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectField:
		if x.AsName.O != "" {
			r.outAliases[strings.ToLower(x.AsName.O)] = true
		} else if cn, ok := x.Expr.(*ast.ColumnNameExpr); ok {
			// Keep the view's column name when the column is renamed.
			old := cn.Name.Name.O
			if dst, ok := r.columnDest(cn.Name); ok && dst != old {
				x.AsName = ast.NewCIStr(old)
				r.changed = true
			}
		}
	case *ast.TableName:
		if x.Schema.O == "" && r.ctes[x.Name.L] {
			break
		}
		ref := r.ref(x)
		var dst string
		name := ref.Name
		if d, t, ok := r.n.Table(ref.Database, ref.Name); ok {
			dst, name = d, t
		} else {
			dst = r.n.Database(ref.Database)
		}
		if x.Schema.O != dst || x.Name.O != name {
			x.Schema, x.Name = ast.NewCIStr(dst), ast.NewCIStr(name)
			r.changed = true
		}
	case *ast.ColumnName:
		r.column(x)
	case *ast.FuncCallExpr:
		// A stored function called as db.fn(): it moves with its database.
		if x.Schema.O != "" {
			if dst := r.n.Database(x.Schema.O); dst != x.Schema.O {
				x.Schema = ast.NewCIStr(dst)
				r.changed = true
			}
		}
	}
	return n, false
}

func (r *rewriter) Leave(n ast.Node) (ast.Node, bool) { return n, r.err == nil }

// resolve returns the base table a column qualifier stands for; ok=false when it
// is a derived table / CTE or unknown (those columns are not renamed).
func (r *rewriter) resolve(cn *ast.ColumnName) (src source, qualifierIsTable, ok bool, err error) {
	if cn.Schema.O != "" {
		return source{db: cn.Schema.O, table: cn.Table.O}, true, true, nil
	}
	cands := r.aliases[cn.Table.O]
	if len(cands) == 0 {
		for k, v := range r.aliases {
			if strings.EqualFold(k, cn.Table.O) {
				cands = append(cands, v...)
			}
		}
	}
	switch {
	case len(cands) == 0:
		return source{}, false, false, nil
	case len(cands) > 1:
		return source{}, false, false, fmt.Errorf("%s: qualifier %s stands for several tables; cannot rename its columns safely", r.what, sqltok.Quote(cn.Table.O))
	}
	src = cands[0]
	if src.derived {
		return source{}, false, false, nil
	}
	return src, strings.EqualFold(src.table, cn.Table.O), true, nil
}

// columnDest returns the destination name of a column reference (ok=false when it
// is not a base-table column we can resolve).
func (r *rewriter) columnDest(cn *ast.ColumnName) (string, bool) {
	if cn.Table.O == "" {
		if len(r.bases) != 1 || r.hasDerived() {
			return "", false
		}
		dst, excluded := r.n.Column(r.bases[0].db, r.bases[0].table, cn.Name.O)
		return dst, !excluded
	}
	src, _, ok, err := r.resolve(cn)
	if err != nil || !ok {
		return "", false
	}
	dst, excluded := r.n.Column(src.db, src.table, cn.Name.O)
	return dst, !excluded
}

func (r *rewriter) hasDerived() bool {
	for _, ss := range r.aliases {
		for _, s := range ss {
			if s.derived {
				return true
			}
		}
	}
	return false
}

func (r *rewriter) column(cn *ast.ColumnName) {
	if r.err != nil {
		return
	}
	if cn.Table.O == "" {
		r.unqualified(cn)
		return
	}
	src, qualifierIsTable, ok, err := r.resolve(cn)
	if err != nil {
		r.err = err
		return
	}
	if !ok {
		return
	}
	dst, excluded := r.n.Column(src.db, src.table, cn.Name.O)
	if excluded {
		r.deps.add(&DependencyError{Database: src.db, Table: src.table, Column: cn.Name.O, Dependent: r.what})
		return
	}
	if dst != cn.Name.O {
		cn.Name = ast.NewCIStr(dst)
		r.changed = true
	}
	if qualifierIsTable {
		// The qualifier is the table's own name (no alias): it follows the table's rename.
		d, t := r.n.Database(src.db), src.table
		if dd, tt, ok := r.n.Table(src.db, src.table); ok {
			d, t = dd, tt
		}
		if cn.Table.O != t {
			cn.Table = ast.NewCIStr(t)
			r.changed = true
		}
		if cn.Schema.O != "" && cn.Schema.O != d {
			cn.Schema = ast.NewCIStr(d)
			r.changed = true
		}
	}
}

// unqualified: MariaDB qualifies every column in a stored view, so this is rare.
// With one base table and no derived table the column is that table's; otherwise
// a name that some table of the view renames or excludes cannot be resolved
// safely and is an error. Output aliases (ORDER BY alias) are left alone.
func (r *rewriter) unqualified(cn *ast.ColumnName) {
	name := cn.Name.O
	if len(r.bases) == 1 && !r.hasDerived() {
		b := r.bases[0]
		dst, excluded := r.n.Column(b.db, b.table, name)
		if excluded {
			r.deps.add(&DependencyError{Database: b.db, Table: b.table, Column: name, Dependent: r.what})
			return
		}
		if dst != name && !r.outAliases[strings.ToLower(name)] {
			cn.Name = ast.NewCIStr(dst)
			r.changed = true
		}
		return
	}
	if r.outAliases[strings.ToLower(name)] {
		return
	}
	for _, b := range r.bases {
		if dst, excluded := r.n.Column(b.db, b.table, name); excluded || dst != name {
			r.err = fmt.Errorf("%s: unqualified column %s may belong to %s, which renames or excludes it; cannot rewrite it safely (qualify it in the source view)",
				r.what, sqltok.Quote(name), qualify(b.db, b.table))
			return
		}
	}
}

// ViewFunctionCalls lists the stored functions a view's SELECT may call, in
// order of first appearance, without duplicates (names compare without case).
// The servers store a stored-function call of a view as `db`.`fn`(...), or as
// `fn`(...) when fn is in the view's own database (srcDB), while built-in functions
// are never backquoted: so a qualified name, or a backquoted one, followed by "("
// is a candidate (CTE and derived-table column lists excluded). The caller checks
// the candidates against the source's routines. CREATE VIEW fails when a called
// function does not exist.
func ViewFunctionCalls(srcDB, createSQL string) ([]TableRef, error) {
	v, err := parseViewHeader("view in "+sqltok.Quote(srcDB), createSQL)
	if err != nil {
		return nil, err
	}
	s := v.s
	var refs []TableRef
	seen := map[TableRef]bool{}
	for k := v.selectFrom; k <= v.selectTo; k++ {
		if !s.isName(k) || s.tok(k-1).IsOp(".") {
			continue
		}
		parts, after := s.qualified(k, 3)
		if !s.tok(after).IsOp("(") || len(parts) > 2 {
			k = after - 1
			continue
		}
		r := TableRef{Database: srcDB, Name: parts[len(parts)-1]}
		if len(parts) == 2 {
			r.Database = parts[0]
		} else if end := s.matching(after); s.tok(k).Kind != sqltok.Ident || s.tok(k-1).Is("AS") ||
			s.tok(end+1).Is("AS") && s.tok(end+2).IsOp("(") {
			// A built-in (never backquoted), `alias`(cols) of a derived table, or
			// `cte`(cols) AS (...).
			continue
		}
		key := TableRef{Database: r.Database, Name: strings.ToLower(r.Name)}
		if !seen[key] {
			seen[key] = true
			refs = append(refs, r)
		}
		k = after - 1
	}
	return refs, nil
}
