package plan

import (
	"strings"

	"github.com/sluice-dev/sluice/ddl"
)

// Names maps source names to destination names for the DDL rewriter: database and
// table renames as resolved, column renames (`columns:`) and exclude_columns of the
// table's entry, and the case policy (columns are folded by lower/upper only: servers
// compare column names case-insensitively whatever lower_case_table_names says).
func (p Plan) Names() ddl.Names {
	n := nameMap{p: p, m: matcher{fold: p.SourceFoldsCase}, tables: map[string]int{}, dbs: map[string]string{}}
	for i, t := range p.Tables {
		n.tables[n.key(t.Source.DB, t.Source.Table)] = i
	}
	for _, d := range p.Databases {
		n.dbs[n.fold(d.Source)] = d.Dest
	}
	return n
}

type nameMap struct {
	p      Plan
	m      matcher
	tables map[string]int
	dbs    map[string]string
}

func (n nameMap) fold(s string) string {
	if n.m.fold {
		return strings.ToLower(s)
	}
	return s
}

func (n nameMap) key(db, table string) string { return n.fold(db) + "\x00" + n.fold(table) }

func (n nameMap) Database(db string) string {
	if d, ok := n.dbs[n.fold(db)]; ok {
		return d
	}
	return db
}

func (n nameMap) Table(db, table string) (string, string, bool) {
	i, ok := n.tables[n.key(db, table)]
	if !ok {
		return n.Database(db), table, false
	}
	t := n.p.Tables[i]
	return t.Dest.DB, t.Dest.Table, true
}

func (n nameMap) Column(db, table, column string) (string, bool) {
	i, ok := n.tables[n.key(db, table)]
	if !ok {
		return column, false
	}
	e := n.p.Tables[i].Entry
	// Column names compare case-insensitively on every server.
	for _, x := range e.ExcludeColumns {
		if strings.EqualFold(x, column) {
			return column, true
		}
	}
	dst := column
	for from, to := range e.Columns {
		if strings.EqualFold(from, column) {
			dst = to
			break
		}
	}
	if n.p.Case == CaseLower || n.p.Case == CaseUpper {
		dst = ApplyCase(n.p.Case, 0, dst)
	}
	return dst, false
}
