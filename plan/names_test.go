package plan

import (
	"testing"

	"github.com/sluice-dev/sluice/spec"
)

func TestNames(t *testing.T) {
	s := spec.Spec{Objects: []spec.Object{{
		Database: "Shop", To: "shop_v2",
		Tables: []spec.Table{
			{Name: "Orders", To: "orders_v2", Columns: map[string]string{"Cust": "customer_id"}, ExcludeColumns: []string{"note"}},
			{Name: "*"},
		},
	}}}
	cat := Catalog{Tables: map[string][]string{"Shop": {"Orders", "my-table"}, "other": {"x"}}}
	for _, c := range []struct {
		policy              string
		orders, my, cust, a string
	}{
		{"default", "orders_v2", "my-table", "customer_id", "Amount"},
		{"upper", "ORDERS_V2", "MY-TABLE", "CUSTOMER_ID", "AMOUNT"},
	} {
		s.Options.Case = c.policy
		n := Resolve(s, cat, Options{}).Names()
		if db, tb, ok := n.Table("Shop", "Orders"); !ok || tb != c.orders || db != ApplyCase(c.policy, 0, "shop_v2") {
			t.Errorf("%s: Orders -> %s.%s %v", c.policy, db, tb, ok)
		}
		if _, tb, ok := n.Table("Shop", "my-table"); !ok || tb != c.my {
			t.Errorf("%s: my-table -> %s %v", c.policy, tb, ok)
		}
		if _, _, ok := n.Table("other", "x"); ok {
			t.Errorf("%s: other.x is not selected", c.policy)
		}
		if got := n.Database("other"); got != "other" {
			t.Errorf("unselected database renamed to %s", got)
		}
		if got, ex := n.Column("Shop", "Orders", "cust"); ex || got != c.cust {
			t.Errorf("%s: column cust -> %s %v (rename matches case-insensitively)", c.policy, got, ex)
		}
		if _, ex := n.Column("Shop", "Orders", "NOTE"); !ex {
			t.Errorf("%s: note is excluded", c.policy)
		}
		if got, _ := n.Column("Shop", "Orders", "Amount"); got != c.a {
			t.Errorf("%s: Amount -> %s", c.policy, got)
		}
	}
	// Case-sensitive source: "orders" is not "Orders".
	if _, _, ok := Resolve(s, cat, Options{}).Names().Table("Shop", "orders"); ok {
		t.Error("case-sensitive source matched orders to Orders")
	}
	cat.LowerCaseTableNames = 1
	if _, _, ok := Resolve(s, cat, Options{}).Names().Table("shop", "orders"); !ok {
		t.Error("lower_case_table_names=1 source: shop.orders should match Shop.Orders")
	}
}
