package ddl

import (
	"errors"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/format"
)

// sourceOf returns the captured SHOW CREATE text of kind db.name.
func sourceOf(t *testing.T, kind, db, name string) string {
	t.Helper()
	for _, o := range parseObjects(t, readGolden(t, goldenSource)) {
		if o.Kind == kind && o.Database == db && o.Name == name {
			return o.SQL
		}
	}
	t.Fatalf("no %s %s.%s in %s", kind, db, name, goldenSource)
	return ""
}

func TestDependencyErrors(t *testing.T) {
	cases := []struct {
		name     string
		kind     string
		db, obj  string
		excluded string // db.table.column
		want     []string
	}{
		{"index and fulltext", "table", "ddl_shop", "customers", "ddl_shop.customers.name",
			[]string{"index `idx_name_country` of table `ddl_shop`.`customers`", "index `ft_bio` of table `ddl_shop`.`customers`"}},
		// The column's own CHECK goes with it; the others depend on it.
		{"generated, table check", "table", "ddl_shop", "order", "ddl_shop.order.total",
			[]string{"generated column `unit` of table `ddl_shop`.`order`", "CHECK constraint `order_qty` of table `ddl_shop`.`order`"}},
		{"referenced column", "table", "ddl_shop", "customers", "ddl_ref.country.code",
			[]string{"foreign key `fk_country` of table `ddl_shop`.`customers`"}},
		{"local fk column", "table", "ddl_shop", "my-table", "ddl_shop.my-table.order_placed",
			[]string{"index `fk_my_order` of table `ddl_shop`.`my-table`", "foreign key `fk my order` of table `ddl_shop`.`my-table`"}},
		{"primary key and partitioning", "table", "ddl_shop", "events_log", "ddl_shop.events_log.created",
			[]string{"the primary key of table `ddl_shop`.`events_log`", "index `idx_expr` of table `ddl_shop`.`events_log`", "the partitioning of table `ddl_shop`.`events_log`"}},
		{"period", "table", "ddl_shop", "app_period", "ddl_shop.app_period.date_to",
			[]string{"period `valid` of table `ddl_shop`.`app_period`"}},
		{"view", "view", "ddl_shop", "v_orders", "ddl_shop.customers.email",
			[]string{"view `ddl_shop`.`v_orders`"}},
		{"trigger NEW", "trigger", "ddl_shop", "trg_customers_au", "ddl_shop.customers.name",
			[]string{"trigger `ddl_shop`.`trg_customers_au`"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := &testNames{excluded: map[string]bool{c.excluded: true}}
			_, _, err := rewriteObject(object{Kind: c.kind, Database: c.db, Name: c.obj, SQL: sourceOf(t, c.kind, c.db, c.obj)}, n)
			deps := DependencyErrors(err)
			var got []string
			for _, d := range deps {
				got = append(got, d.Dependent)
				if d.Database+"."+d.Table+"."+d.Column != c.excluded {
					t.Errorf("error names %s.%s.%s, want %s", d.Database, d.Table, d.Column, c.excluded)
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("dependents:\n got  %q\n want %q\n(err: %v)", got, c.want, err)
			}
			var de *DependencyError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "is excluded (exclude_columns) but") {
				t.Errorf("error %v is not a readable *DependencyError", err)
			}
		})
	}
}

func TestExcludeColumnLayout(t *testing.T) {
	in := "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL,\n  `b` int(11) DEFAULT NULL,\n  `c` int(11) DEFAULT NULL\n) ENGINE=InnoDB"
	for col, want := range map[string]string{
		"a": "CREATE TABLE `d`.`t` (\n  `b` int(11) DEFAULT NULL,\n  `c` int(11) DEFAULT NULL\n) ENGINE=InnoDB",
		"b": "CREATE TABLE `d`.`t` (\n  `a` int(11) DEFAULT NULL,\n  `c` int(11) DEFAULT NULL\n) ENGINE=InnoDB",
		"c": "CREATE TABLE `d`.`t` (\n  `a` int(11) DEFAULT NULL,\n  `b` int(11) DEFAULT NULL\n) ENGINE=InnoDB",
	} {
		got, err := RewriteTable("d", "t", in, &testNames{excluded: map[string]bool{"d.t." + col: true}})
		if err != nil || got != want {
			t.Errorf("exclude %s:\n got  %q (%v)\n want %q", col, got, err, want)
		}
	}
	n := &testNames{excluded: map[string]bool{"d.t.a": true, "d.t.b": true, "d.t.c": true}}
	if _, err := RewriteTable("d", "t", in, n); err == nil || !strings.Contains(err.Error(), "every column is excluded") {
		t.Errorf("all excluded: %v", err)
	}
}

func TestCasePolicy(t *testing.T) {
	up := &testNames{fold: strings.ToUpper}
	got, err := RewriteTable("ddl_shop", "my-table", sourceOf(t, "table", "ddl_shop", "my-table"), up)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CREATE TABLE `DDL_SHOP`.`MY-TABLE` (", "`A``B` int(11) NOT NULL", "`MIXEDCASE` int(11)",
		"PRIMARY KEY (`A``B`)", "KEY `idx-名前` (`名前`)", "REFERENCES `DDL_SHOP`.`ORDER` (`ID`, `PLACED`)", "FOREIGN KEY (`ORDER_ID`, `ORDER_PLACED`)"} {
		if !strings.Contains(got, want) {
			t.Errorf("upper: missing %q in\n%s", want, got)
		}
	}
	low := &testNames{fold: strings.ToLower}
	got, err = RewriteView("ddl_shop", "v_weird", sourceOf(t, "view", "ddl_shop", "v_weird"), low)
	if err != nil {
		t.Fatal(err)
	}
	// Output aliases (the view's interface) keep their case; names follow the policy.
	for _, want := range []string{"VIEW `ddl_shop`.`v_weird`", "`m`.`colname` AS `ColName`", "`ddl_shop`.`mixedcase` AS `m`", "`t`.`mixedcase`=`m`.`id`"} {
		if !strings.Contains(got, want) {
			t.Errorf("lower view: missing %q in\n%s", want, got)
		}
	}
}

func TestReferencedTableNotSelected(t *testing.T) {
	n := &testNames{dbs: map[string]string{"ddl_ref": "ref2"}, skip: map[string]bool{"ddl_ref.country": true},
		cols: map[string]string{"ddl_ref.country.code": "never_used"}}
	got, err := RewriteTable("ddl_shop", "customers", sourceOf(t, "table", "ddl_shop", "customers"), n)
	if err != nil {
		t.Fatal(err)
	}
	// Not selected: its name stays, in its database's destination name; its columns
	// are still mapped through n.Column (which the plan answers for every table).
	if want := "REFERENCES `ref2`.`country` (`never_used`)"; !strings.Contains(got, want) {
		t.Errorf("missing %q in\n%s", want, got)
	}
	if _, err := RewriteTable("ddl_ref", "country", sourceOf(t, "table", "ddl_ref", "country"), n); err == nil {
		t.Error("rewriting a table that is not selected: no error")
	}
}

func TestTriggerTableMoved(t *testing.T) {
	n := &testNames{extra: map[string][2]string{"ddl_shop.order": {"archive", "orders"}}}
	got, err := RewriteTrigger("ddl_shop", sourceOf(t, "trigger", "ddl_shop", "trg_order_bi"), n)
	if err != nil {
		t.Fatal(err)
	}
	// The trigger follows its table; other tables of the body are qualified with
	// their own database, which is no longer the trigger's.
	for _, want := range []string{"TRIGGER `archive`.`trg_order_bi` BEFORE INSERT ON `archive`.`orders`", "UPDATE `ddl_shop`.`customers` SET", "WHERE `ddl_shop`.`customers`.id = NEW.customer_id"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if _, err := RewriteTrigger("ddl_shop", sourceOf(t, "trigger", "ddl_shop", "trg_order_bi"), &testNames{skip: map[string]bool{"ddl_shop.order": true}}); err == nil ||
		!strings.Contains(err.Error(), "trigger `ddl_shop`.`trg_order_bi`: its table `ddl_shop`.`order` is not selected") {
		t.Errorf("trigger on an unselected table: %v", err)
	}
}

func TestDefinerForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"CREATE DEFINER=CURRENT_USER() PROCEDURE `p`() SQL SECURITY DEFINER SELECT 1",
			"CREATE PROCEDURE `d`.`p`() SQL SECURITY INVOKER SELECT 1"},
		{"CREATE DEFINER='u'@'%' FUNCTION f() RETURNS int DETERMINISTIC RETURN 1",
			"CREATE FUNCTION `d`.`f`() RETURNS int\n    SQL SECURITY INVOKER DETERMINISTIC RETURN 1"},
		{"CREATE PROCEDURE `p`(x int)\nBEGIN\n  SELECT 1;\nEND",
			"CREATE PROCEDURE `d`.`p`(x int)\n    SQL SECURITY INVOKER\nBEGIN\n  SELECT 1;\nEND"},
		{"CREATE FUNCTION `f`() RETURNS varchar(10) CHARSET utf8mb4 COLLATE utf8mb4_bin NO SQL RETURN 'a'",
			"CREATE FUNCTION `d`.`f`() RETURNS varchar(10) CHARSET utf8mb4 COLLATE utf8mb4_bin\n    SQL SECURITY INVOKER NO SQL RETURN 'a'"},
	}
	for _, c := range cases {
		got, err := RewriteRoutine("d", c.in, identity)
		if err != nil || got != c.want {
			t.Errorf("%q:\n got  %q (%v)\n want %q", c.in, got, err, c.want)
		}
	}
	view := "CREATE ALGORITHM=UNDEFINED DEFINER=`a``b`@`%` SQL SECURITY DEFINER VIEW `d`.`v` AS select 1 AS `1`"
	got, err := RewriteView("d", "v", view, identity)
	if want := "CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `d`.`v` AS select 1 AS `1`"; err != nil || got != want {
		t.Errorf("view:\n got  %q (%v)\n want %q", got, err, want)
	}
	got, err = RewriteView("d", "v", "CREATE VIEW `v` AS select 1", identity)
	if want := "CREATE SQL SECURITY INVOKER VIEW `d`.`v` AS select 1"; err != nil || got != want {
		t.Errorf("view without SECURITY:\n got  %q (%v)\n want %q", got, err, want)
	}
}

// TestViewFallbackAgrees runs the tokenizer fallback on every captured view and
// checks that it means the same as the parser path (both parsed and restored).
func TestViewFallbackAgrees(t *testing.T) {
	n := renames()
	for _, o := range parseObjects(t, readGolden(t, goldenSource)) {
		if o.Kind != "view" {
			continue
		}
		v, err := parseViewHeader("test", o.SQL)
		if err != nil {
			t.Fatal(err)
		}
		sel := v.s.text(v.selectFrom, v.selectTo)
		viaParser, err := rewriteSelect(o.Name, o.Database, sel, n)
		if err != nil {
			t.Fatalf("%s: %v", o.Name, err)
		}
		viaTokens, err := tokenRewriteSelect(o.Name, o.Database, sel, n)
		if err != nil {
			t.Fatalf("%s: fallback: %v", o.Name, err)
		}
		if a, b := restored(t, viaParser), restored(t, viaTokens); a != b {
			t.Errorf("%s: parser and fallback differ:\n parser:   %s\n fallback: %s", o.Name, a, b)
		}
	}
}

func restored(t *testing.T, sel string) string {
	t.Helper()
	node, err := parseSelect(sel)
	if err != nil {
		t.Fatalf("%q: %v", sel, err)
	}
	var b strings.Builder
	if err := node.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags|format.RestoreStringWithoutCharset, &b)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestViewUnsafe(t *testing.T) {
	n := &testNames{cols: map[string]string{"d.a.x": "y"}}
	_, err := RewriteView("d", "v", "CREATE VIEW `d`.`v` AS select `x` from `d`.`a` join `d`.`b`", n)
	if err == nil || !strings.Contains(err.Error(), "view `d`.`v`: unqualified column `x`") {
		t.Errorf("unqualified column among two tables: %v", err)
	}
	// One table: resolved; the output keeps its old name as alias.
	got, err := RewriteView("d", "v", "CREATE VIEW `d`.`v` AS select `x`, `z` from `d`.`a` where `x` > 1", n)
	if want := "CREATE SQL SECURITY INVOKER VIEW `d`.`v` AS SELECT `y` AS `x`,`z` FROM `d`.`a` WHERE `y`>1"; err != nil || got != want {
		t.Errorf("single table:\n got  %q (%v)\n want %q", got, err, want)
	}
	// Derived tables: their columns are their own aliases, not renamed.
	got, err = RewriteView("d", "v", "CREATE VIEW `d`.`v` AS select `s`.`x` AS `x` from (select `a`.`x` AS `x` from `d`.`a`) `s`", n)
	if want := "SELECT `s`.`x` AS `x` FROM (SELECT `a`.`y` AS `x` FROM `d`.`a`) AS `s`"; err != nil || !strings.Contains(got, want) {
		t.Errorf("derived:\n got  %q (%v)\n want %q", got, err, want)
	}
}

func TestViewDependencies(t *testing.T) {
	deps, err := ViewDependencies("ddl_shop", sourceOf(t, "view", "ddl_shop", "v_customer_country"))
	if err != nil {
		t.Fatal(err)
	}
	if got := refsString(deps); got != "ddl_shop.customers ddl_ref.country" {
		t.Errorf("deps = %s", got)
	}
	with := "CREATE VIEW `v` AS with `c` as (select 1 AS `x` from `t1`) select `c`.`x` from `c` join `d2`.`t2` union select 1 from t3"
	deps, err = ViewDependencies("d", with)
	if err != nil {
		t.Fatal(err)
	}
	if got := refsString(deps); got != "d.t1 d2.t2 d.t3" {
		t.Errorf("deps with CTE = %s", got)
	}
}

func refsString(refs []TableRef) string {
	var parts []string
	for _, r := range refs {
		parts = append(parts, r.Database+"."+r.Name)
	}
	return strings.Join(parts, " ")
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		f    func() error
		want string
	}{
		{func() error {
			_, err := RewriteTable("d", "t", "CREATE TABLE `t` (`a` int COMMENT 'x", identity)
			return err
		}, "table `d`.`t`: sqltok: unterminated string"},
		{func() error { _, err := RewriteTable("d", "t", "DROP TABLE t", identity); return err }, "table `d`.`t`: not a CREATE TABLE"},
		{func() error { _, err := RewriteView("d", "v", "CREATE TABLE t (a int)", identity); return err }, "view `d`.`v`: not a CREATE VIEW"},
		{func() error {
			_, err := RewriteRoutine("d", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", identity)
			return err
		}, "not a CREATE PROCEDURE/FUNCTION"},
		{func() error { _, err := RewriteTrigger("d", "CREATE TRIGGER t BEFORE INSERT", identity); return err }, "trigger `d`.`t`: no ON clause"},
	} {
		if err := c.f(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want it to contain %q", err, c.want)
		}
	}
}

func TestRoutineBody(t *testing.T) {
	n := &testNames{
		dbs:      map[string]string{"d": "d2", "o": "o2"},
		tables:   map[string]string{"d.a": "a2", "o.b": "b2"},
		cols:     map[string]string{"d.a.x": "x2", "o.b.y": "y2"},
		excluded: map[string]bool{"d.a.gone": true},
	}
	in := "CREATE PROCEDURE `p`()\nBEGIN\n" +
		"  SELECT t.x, `o`.`b`.`y`, 'FROM a' INTO @v, @w, @z FROM (a t JOIN o.b ON t.x = b.y);\n" +
		"  -- FROM a in a comment\n" +
		"  INSERT INTO a (x, z) SELECT 1, 2 FROM DUAL;\n" +
		"  UPDATE a SET z = 1 WHERE a.x = 2;\n" +
		"  CALL o.proc(a.x); CALL o.q; SET @s = o.fn(1);\n" +
		"  PREPARE s FROM 'SELECT x FROM a'; SELECT x FROM a;\n" +
		"END"
	got, warns, err := RewriteRoutineWarnings("d", in, n)
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE PROCEDURE `d2`.`p`()\n    SQL SECURITY INVOKER\nBEGIN\n" +
		"  SELECT t.`x2`, `o2`.`b2`.`y2`, 'FROM a' INTO @v, @w, @z FROM (`a2` t JOIN `o2`.`b2` ON t.`x2` = `o2`.`b2`.`y2`);\n" +
		"  -- FROM a in a comment\n" +
		"  INSERT INTO `a2` (`x2`, z) SELECT 1, 2 FROM DUAL;\n" +
		"  UPDATE `a2` SET z = 1 WHERE `a2`.`x2` = 2;\n" +
		"  CALL `o2`.proc(a.x); CALL `o2`.q; SET @s = `o2`.fn(1);\n" +
		"  PREPARE s FROM 'SELECT x FROM a'; SELECT x FROM `a2`;\n" +
		"END"
	if got != want {
		t.Errorf("body:\n%s", lineDiff(want, got))
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "mentions `x`, which `d`.`a` renames to `x2`") {
		t.Errorf("warnings = %q", warns)
	}
	_, _, err = RewriteRoutineWarnings("d", "CREATE PROCEDURE p() UPDATE a SET a.gone = 1", n)
	if len(DependencyErrors(err)) != 1 {
		t.Errorf("qualified excluded column in a body: %v", err)
	}
}

func TestViewFunctionCalls(t *testing.T) {
	sql := "CREATE VIEW `d`.`v` AS with `c`(`n`) as (select 1) select `d`.`f`(`t`.`x`) AS `a`,`other db`.`G`(1) AS `b`,`d`.`F`(2) AS `c`," +
		"concat('`x`.`y`(', `t`.`x`) AS `s`,`own`(3) AS `o`,`t`.`x` AS `x`,count(0) AS `n` from `d`.`t` join `c`"
	refs, err := ViewFunctionCalls("d", sql)
	if err != nil {
		t.Fatal(err)
	}
	if got := refsString(refs); got != "d.f other db.G d.own" {
		t.Errorf("calls = %q", got)
	}
	if _, err := ViewFunctionCalls("d", "CREATE TABLE t (a int)"); err == nil {
		t.Error("not a view: no error")
	}
}
