package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/spec"
)

func names(ts []string) []spec.Table {
	out := make([]spec.Table, len(ts))
	for i, t := range ts {
		out[i] = spec.Table{Name: t}
	}
	return out
}

func render(p Plan) []string {
	var out []string
	for _, t := range p.Tables {
		out = append(out, t.Source.String()+" -> "+t.Dest.String())
	}
	return out
}

func problems(p Plan) []string {
	var out []string
	for _, pr := range p.Problems {
		out = append(out, string(pr.Severity)+" "+string(pr.Kind)+" "+pr.Subject)
	}
	return out
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

var shop = Catalog{
	Tables: map[string][]string{
		"shop":   {"orders", "order", "my-table", "Customers", "tmp_1", "tmp_2", "_orders_gho", "Ünïcødé_表", "a`b"},
		"my-db":  {"t1", "T2"},
		"empty":  nil,
		"wörld":  {"städte"},
		"nested": {"a/b", "a_c"},
	},
	Views: map[string][]string{"shop": {"v_orders"}},
}

func TestResolveAllAndGlobs(t *testing.T) {
	s := spec.Spec{Objects: []spec.Object{
		{Database: "shop", To: "shop_v2", Tables: names([]string{"*"}), ExcludeTables: []string{"tmp_*", "_*_gho"}},
		{Database: "my-db"}, // no tables: all of them
		{Database: "wörld", To: "welt"},
	}}
	p := Resolve(s, shop, Options{})
	eqList(t, "tables", render(p), []string{
		"`shop`.`Customers` -> `shop_v2`.`Customers`",
		"`shop`.`a``b` -> `shop_v2`.`a``b`",
		"`shop`.`my-table` -> `shop_v2`.`my-table`",
		"`shop`.`order` -> `shop_v2`.`order`",
		"`shop`.`orders` -> `shop_v2`.`orders`",
		"`shop`.`Ünïcødé_表` -> `shop_v2`.`Ünïcødé_表`",
		"`my-db`.`T2` -> `my-db`.`T2`",
		"`my-db`.`t1` -> `my-db`.`t1`",
		"`wörld`.`städte` -> `welt`.`städte`",
	})
	eqList(t, "problems", problems(p), nil)
	if p.Tables[6].EntryIndex != -1 || p.Tables[6].Entry.Name != "*" {
		t.Errorf("implicit entry: %+v", p.Tables[6])
	}
	eqList(t, "source dbs", p.SourceDatabases(), []string{"shop", "my-db", "wörld"})
	eqList(t, "dest dbs", p.DestDatabases(), []string{"shop_v2", "my-db", "welt"})
}

func TestResolveExactWinsOverGlobAndRenames(t *testing.T) {
	s := spec.Spec{Objects: []spec.Object{{Database: "shop", Tables: []spec.Table{
		{Name: "*"},
		{Name: "order", To: "order_v2", Filter: `row.id > 0`},
		{Name: "my-?able", Operations: []string{"insert"}},
	}, ExcludeTables: []string{"tmp_?", "_orders_gho", "a`b", "orders", "Customers", "Ü*"}}}}
	p := Resolve(s, shop, Options{})
	eqList(t, "tables", render(p), []string{
		"`shop`.`my-table` -> `shop`.`my-table`",
		"`shop`.`order` -> `shop`.`order_v2`",
	})
	if p.Tables[1].Entry.Filter != `row.id > 0` || p.Tables[1].EntryIndex != 1 {
		t.Errorf("order entry: %+v", p.Tables[1])
	}
	// The first glob that matches wins: my-table is matched by "*" first.
	if p.Tables[0].EntryIndex != 0 {
		t.Errorf("my-table entry index %d, want 0 (first glob)", p.Tables[0].EntryIndex)
	}
	eqList(t, "problems", problems(p), []string{`warn glob_no_match "my-?able"`})
}

func TestResolveProblems(t *testing.T) {
	s := spec.Spec{Objects: []spec.Object{
		{Database: "Shop"}, // case differs on a case-sensitive source
		{Database: "nope", Tables: names([]string{"x"})}, // missing database
		{Database: "shop", Tables: names([]string{"Orders", "missing", "v_orders", "z*", "order", "tmp_1"}), ExcludeTables: []string{"tmp_*"}},
		{Database: "shop", Tables: names([]string{"order"})}, // selected twice
		{Database: "empty", Tables: names([]string{"*"})},
	}}
	p := Resolve(s, shop, Options{})
	eqList(t, "tables", render(p), []string{"`shop`.`order` -> `shop`.`order`"})
	eqList(t, "problems", problems(p), []string{
		"fail missing_database `Shop`",
		"fail missing_database `nope`",
		"warn named_excluded `shop`.`tmp_1`",
		"fail missing_table `shop`.`Orders`",
		"fail missing_table `shop`.`missing`",
		`warn glob_no_match "z*"`,
		"fail selected_twice `shop`.`order`",
		`warn glob_no_match "*"`,
	})
	msgs := map[string]string{}
	for _, pr := range p.Problems {
		msgs[pr.Subject] = pr.Message
	}
	for subj, want := range map[string]string{
		"`Shop`":           "(the source has `shop`: names are case-sensitive there)",
		"`shop`.`Orders`":  "(the source has `shop`.`orders`",
		"`shop`.`order`":   "objects[2] and again by objects[3]",
		"`shop`.`tmp_1`":   `exclude_tables entry "tmp_*"`,
		"`shop`.`missing`": "table `shop`.`missing` does not exist on the source",
	} {
		if !strings.Contains(msgs[subj], want) {
			t.Errorf("%s: message %q lacks %q", subj, msgs[subj], want)
		}
	}
}

func TestResolveCaseInsensitiveSource(t *testing.T) {
	cat := Catalog{Tables: map[string][]string{"shop": {"orders", "items"}}, LowerCaseTableNames: 1}
	s := spec.Spec{Objects: []spec.Object{{Database: "SHOP", Tables: names([]string{"Orders", "I*"})}}}
	p := Resolve(s, cat, Options{})
	eqList(t, "tables", render(p), []string{"`shop`.`items` -> `SHOP`.`items`", "`shop`.`orders` -> `SHOP`.`orders`"})
	eqList(t, "problems", problems(p), nil)
}

func TestCasePolicies(t *testing.T) {
	cat := Catalog{Tables: map[string][]string{"Shop": {"Orders", "orders", "Straße"}}}
	for _, c := range []struct {
		policy string
		lctn   int
		want   []string
		probs  []string
	}{
		{CaseDefault, 0, []string{"`Shop`.`Orders` -> `Sales`.`Orders`", "`Shop`.`Straße` -> `Sales`.`Straße`", "`Shop`.`orders` -> `Sales`.`orders`"}, nil},
		{CaseSource, 0, []string{"`Shop`.`Orders` -> `Sales`.`Orders`", "`Shop`.`Straße` -> `Sales`.`Straße`", "`Shop`.`orders` -> `Sales`.`orders`"}, nil},
		// A destination that compares without case makes Orders and orders collide.
		{CaseDefault, 2, []string{"`Shop`.`Orders` -> `Sales`.`Orders`", "`Shop`.`Straße` -> `Sales`.`Straße`", "`Shop`.`orders` -> `Sales`.`orders`"},
			[]string{"fail name_collision `Sales`.`orders`"}},
		{CaseDestination, 0, []string{"`Shop`.`Orders` -> `Sales`.`Orders`", "`Shop`.`Straße` -> `Sales`.`Straße`", "`Shop`.`orders` -> `Sales`.`orders`"}, nil},
		{CaseDestination, 1, []string{"`Shop`.`Orders` -> `sales`.`orders`", "`Shop`.`Straße` -> `sales`.`straße`", "`Shop`.`orders` -> `sales`.`orders`"},
			[]string{"fail name_collision `sales`.`orders`"}},
		{CaseLower, 0, []string{"`Shop`.`Orders` -> `sales`.`orders`", "`Shop`.`Straße` -> `sales`.`straße`", "`Shop`.`orders` -> `sales`.`orders`"},
			[]string{"fail name_collision `sales`.`orders`"}},
		{CaseUpper, 0, []string{"`Shop`.`Orders` -> `SALES`.`ORDERS`", "`Shop`.`Straße` -> `SALES`.`STRAßE`", "`Shop`.`orders` -> `SALES`.`ORDERS`"},
			[]string{"fail name_collision `SALES`.`ORDERS`"}},
	} {
		s := spec.Spec{Objects: []spec.Object{{Database: "Shop", To: "Sales"}}, Options: spec.Options{Case: c.policy}}
		p := Resolve(s, cat, Options{DestinationLowerCaseTableNames: c.lctn})
		eqList(t, fmt.Sprintf("%s/%d tables", c.policy, c.lctn), render(p), c.want)
		eqList(t, fmt.Sprintf("%s/%d problems", c.policy, c.lctn), problems(p), c.probs)
	}
}

func TestGlobSlashAndEscapes(t *testing.T) {
	s := spec.Spec{Objects: []spec.Object{{Database: "nested", Tables: names([]string{"a*"})}}}
	eqList(t, "slash", render(Resolve(s, shop, Options{})), []string{"`nested`.`a/b` -> `nested`.`a/b`", "`nested`.`a_c` -> `nested`.`a_c`"})
	cat := Catalog{Tables: map[string][]string{"d": {"a*b", "axb"}}}
	s = spec.Spec{Objects: []spec.Object{{Database: "d", Tables: names([]string{`a\*b`})}}}
	eqList(t, "escaped star", render(Resolve(s, cat, Options{})), []string{"`d`.`a*b` -> `d`.`a*b`"})
}

func TestCheckIdentifier(t *testing.T) {
	for name, want := range map[string]string{
		"orders":                  "",
		"my-table":                "",
		"Ünïcødé_表":               "",
		"a`b":                     "",
		strings.Repeat("x", 64):   "",
		strings.Repeat("é", 64):   "",
		"":                        "is empty",
		strings.Repeat("x", 65):   "is 65 characters long (the limit is 64)",
		"trailing ":               "ends with a space",
		"nul\x00":                 "contains a NUL character",
		"emoji😀":                  "outside the Basic Multilingual Plane",
		string([]byte{0xff, 'a'}): "is not valid UTF-8",
	} {
		got := CheckIdentifier(name)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckIdentifier(%q) = %q, want %q", name, got, want)
		}
	}
}
