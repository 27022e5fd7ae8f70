package ddl

import "strings"

// testNames is a simple Names: explicit maps plus an optional case policy applied
// to every destination name. Column lookups ignore case, as MariaDB does.
type testNames struct {
	dbs      map[string]string    // source db -> destination db
	tables   map[string]string    // "db.table" -> destination table
	skip     map[string]bool      // "db.table" not selected
	cols     map[string]string    // "db.table.column" -> destination column
	excluded map[string]bool      // "db.table.column"
	fold     func(string) string  // case policy (nil = keep)
	onlyDBs  map[string]bool      // when set, tables of other databases are not selected
	extra    map[string][2]string // "db.table" -> moved to another destination database
}

func (n *testNames) f(s string) string {
	if n.fold != nil {
		return n.fold(s)
	}
	return s
}

func (n *testNames) Database(db string) string {
	if d, ok := n.dbs[db]; ok {
		return n.f(d)
	}
	return n.f(db)
}

func (n *testNames) Table(db, table string) (string, string, bool) {
	key := db + "." + table
	if n.skip[key] || (n.onlyDBs != nil && !n.onlyDBs[db]) {
		return "", "", false
	}
	if m, ok := n.extra[key]; ok {
		return n.f(m[0]), n.f(m[1]), true
	}
	if t, ok := n.tables[key]; ok {
		return n.Database(db), n.f(t), true
	}
	return n.Database(db), n.f(table), true
}

func (n *testNames) Column(db, table, column string) (string, bool) {
	for k, v := range n.excluded {
		if v && strings.EqualFold(k, db+"."+table+"."+column) {
			return "", true
		}
	}
	for k, v := range n.cols {
		if strings.EqualFold(k, db+"."+table+"."+column) {
			return n.f(v), false
		}
	}
	return n.f(column), false
}

// identity renames nothing.
var identity = &testNames{}

// renames is the scenario of the golden files: every kind of rename at once.
func renames() *testNames {
	return &testNames{
		dbs: map[string]string{"ddl_shop": "ddl_shop_dst", "ddl_ref": "ddl_ref_dst"},
		tables: map[string]string{
			"ddl_shop.customers": "clients",
			"ddl_shop.order":     "orders",
			"ddl_shop.my-table":  "My Table",
			"ddl_ref.country":    "nations",
			"ddl_shop.v_orders":  "v_order_list",
			"ddl_shop.a`b":       "a``b`",
		},
		cols: map[string]string{
			"ddl_shop.customers.name":             "full_name",
			"ddl_shop.order.total":                "amount",
			"ddl_shop.order.select":               "from",
			"ddl_shop.my-table.名前":                "名",
			"ddl_shop.my-table.a`b":               "a`b`c",
			"ddl_ref.country.code":                "iso",
			"ddl_shop.all_types.i":                "i_renamed",
			"ddl_shop.all_types.vc":               "vc2",
			"ddl_shop.all_types.j":                "doc",
			"ddl_shop.events_log.created":         "created_on",
			"ddl_shop.by_list.region":             "area",
			"ddl_shop.geo.p":                      "pt",
			"ddl_shop.MixedCase.ColName":          "col_name",
			"ddl_shop.app_period.date_to":         "date_until",
			"ddl_shop.versioned_explicit.row_end": "valid_to",
		},
		excluded: map[string]bool{"ddl_shop.all_types.tt": true, "ddl_shop.customers.notes": true},
	}
}
