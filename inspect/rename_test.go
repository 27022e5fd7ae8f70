package inspect

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// destinationObjects is everything the destination holds that a migration could
// write (databases, tables, views, routines, triggers, accounts), read from its
// catalog by the test itself.
func (h *harness) destinationObjects() string {
	h.t.Helper()
	db, err := h.env.Destination.Open("")
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT CONCAT('database ', SCHEMA_NAME) FROM information_schema.SCHEMATA
		UNION ALL SELECT CONCAT(TABLE_TYPE, ' ', TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES
		UNION ALL SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_SCHEMA, '.', ROUTINE_NAME) FROM information_schema.ROUTINES
		UNION ALL SELECT CONCAT('trigger ', TRIGGER_SCHEMA, '.', TRIGGER_NAME) FROM information_schema.TRIGGERS
		UNION ALL SELECT CONCAT('user ', User, '@', Host) FROM mysql.user
		ORDER BY 1`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

// A table or view renamed (to:) onto a name the destination already has fails
// destination.conflicts, naming the destination object; the precheck writes nothing.
func TestRenameOntoExistingDestinationName(t *testing.T) {
	h := newHarness(t)
	src, dst := uniq("rn-src"), uniq("rn dst")
	h.database(h.env.Source, src, tbl(pkTable, "orders"), tbl(pkTable, "items"),
		"CREATE VIEW v_orders AS SELECT id, name FROM orders",
		"CREATE VIEW v_items AS SELECT id FROM items")
	h.database(h.env.Destination, dst, tbl(pkTable, "existing_table"),
		"CREATE VIEW `existing view` AS SELECT 1 AS id")
	// A database on the destination with the source's name, holding the source's
	// table names: the database rename must make the check look in dst, not there.
	h.database(h.env.Destination, src, tbl(pkTable, "orders"), tbl(pkTable, "items"))

	before := h.destinationObjects()
	for _, tc := range []struct {
		what   string
		tables []spec.Table
		want   string
	}{
		{"table onto a table", []spec.Table{{Name: "orders", To: "existing_table"}, {Name: "items"}}, "`existing_table`"},
		{"view onto a view", []spec.Table{{Name: "orders"}, {Name: "v_orders", To: "existing view"}}, "`existing view`"},
		{"table onto a view", []spec.Table{{Name: "items", To: "existing view"}}, "`existing view`"},
		{"view onto a table", []spec.Table{{Name: "items"}, {Name: "v_items", To: "existing_table"}}, "`existing_table`"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			r := h.run(h.spec(spec.Object{Database: src, To: dst, Tables: tc.tables}))
			it := expect(t, r, precheck.IDDestinationConflicts, precheck.Fail, []string{q(dst) + "." + tc.want}, "to:")
			for _, n := range []string{q(dst) + ".`items`", q(dst) + ".`orders`", q(dst) + ".`v_orders`", q(dst) + ".`v_items`"} {
				if strings.Contains(it.Message, n) {
					t.Errorf("message names %s, which is no conflict: %s", n, it.Message)
				}
			}
		})
	}
	// Renames onto free names pass, although the destination database named like the
	// source holds the source's table names: the failures above came from the renames.
	r := h.run(h.spec(spec.Object{Database: src, To: dst, Tables: []spec.Table{{Name: "orders", To: "orders_v2"}, {Name: "v_orders", To: "v_orders_v2"}}}))
	expect(t, r, precheck.IDDestinationConflicts, precheck.Pass, nil)

	if after := h.destinationObjects(); after != before {
		t.Fatalf("the precheck changed the destination:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
