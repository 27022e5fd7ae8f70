package schema

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func q(s string) string { return sqltok.Quote(s) }

// fixture is a source schema with two databases (one renamed), nasty names, foreign
// keys across databases, views on views, routines, a trigger and an event.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	env      *testenv.Env
	src, dst *sql.DB
	a, b     string // source databases
	aDst     string // destination of a
	spec     spec.Spec
	plan     plan.Plan
	opt      plan.Options
	objs     *Objects
	names    ddl.Names
}

func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, env: env, a: prefix + "_a", b: prefix + " b-ü", aDst: prefix + "_a_dst"}
	var err error
	if f.src, err = env.Source.Open(""); err != nil {
		t.Fatal(err)
	}
	if f.dst, err = env.Destination.Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.src.Close(); f.dst.Close() })
	A, B := q(f.a), q(f.b)
	f.exec(env.Source,
		"DROP DATABASE IF EXISTS "+A, "DROP DATABASE IF EXISTS "+B,
		"CREATE DATABASE "+A+" CHARACTER SET latin1 COLLATE latin1_swedish_ci",
		"CREATE DATABASE "+B+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"CREATE TABLE "+B+".`Customers` (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, UNIQUE KEY uk_name (name)) ENGINE=InnoDB",
		// MixedCase sorts before `order`, which it references: creation needs foreign_key_checks=0.
		"SET foreign_key_checks=0; CREATE TABLE "+A+".`MixedCase` (id INT PRIMARY KEY, order_id INT, "+
			"CONSTRAINT fk_mixed_order FOREIGN KEY (order_id) REFERENCES "+A+".`order` (id)) ENGINE=InnoDB",
		"CREATE TABLE "+A+".`order` (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, note VARCHAR(20), "+
			"total DECIMAL(10,2) DEFAULT 0.00, created DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3), KEY k_c (customer_id), "+
			"CONSTRAINT fk_order_customer FOREIGN KEY (customer_id) REFERENCES "+B+".`Customers` (id) ON DELETE CASCADE) "+
			"ENGINE=InnoDB AUTO_INCREMENT=42 COMMENT 'the orders'",
		"CREATE TABLE "+A+".`my-table` (id INT PRIMARY KEY, `a``b` INT NOT NULL, `ünï` VARCHAR(10) CHARACTER SET utf8mb4, "+
			"secret VARCHAR(10), KEY `k_ab` (`a``b`)) ENGINE=InnoDB",
		"SET sql_mode='PIPES_AS_CONCAT'; CREATE DEFINER=`root`@`localhost` FUNCTION "+A+".`f_double`(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
		"CREATE DEFINER=`root`@`localhost` PROCEDURE "+A+".`p_add`(IN n VARCHAR(20)) MODIFIES SQL DATA BEGIN INSERT INTO `order` (customer_id, note) VALUES (1, n); END",
		// a_caller calls p_add, created after it: CREATE PROCEDURE does not check callees.
		"CREATE PROCEDURE "+A+".`a_caller`() CALL `p_add`('c')",
		"CREATE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW "+A+".`v_orders` AS SELECT id, customer_id, total FROM "+A+".`order`",
		// a_top reads v_orders and sorts before it: the views must be ordered.
		"CREATE VIEW "+A+".`a_top` AS SELECT id FROM "+A+".`v_orders` WHERE total > 10",
		"CREATE DEFINER=`root`@`localhost` TRIGGER "+A+".`trg_order_bi` BEFORE INSERT ON "+A+".`order` FOR EACH ROW SET NEW.note = UPPER(NEW.note)",
		"CREATE EVENT "+A+".`ev_cleanup` ON SCHEDULE EVERY 1 DAY DO DELETE FROM "+A+".`order` WHERE id < 0",
	)
	f.dropDest()
	f.spec = spec.Spec{
		Objects: []spec.Object{
			{Database: f.a, To: f.aDst, Tables: []spec.Table{
				{Name: "*"},
				{Name: "order", To: "orders_v2"},
				{Name: "my-table", Columns: map[string]string{"a`b": "ab"}, ExcludeColumns: []string{"secret"}},
			}},
			{Database: f.b},
		},
		Options: spec.Options{Conflicts: ConflictsPrecheck, Case: plan.CaseDefault, Triggers: "after-cutover"},
	}
	f.resolve()
	return f
}

func (f *fixture) exec(srv *testenv.Server, stmts ...string) {
	f.t.Helper()
	if err := srv.Exec(f.ctx, stmts...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) dropDest() {
	f.exec(f.env.Destination, "DROP DATABASE IF EXISTS "+q(f.aDst), "DROP DATABASE IF EXISTS "+q(f.b))
}

// resolve builds the plan as the precheck does, and reads the objects.
func (f *fixture) resolve() {
	f.t.Helper()
	cat := plan.Catalog{Tables: map[string][]string{}, Views: map[string][]string{}}
	rows, err := f.src.QueryContext(f.ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?)`, f.a, f.b)
	if err != nil {
		f.t.Fatal(err)
	}
	for rows.Next() {
		var db, name, typ string
		if err := rows.Scan(&db, &name, &typ); err != nil {
			f.t.Fatal(err)
		}
		if typ == "VIEW" {
			cat.Views[db] = append(cat.Views[db], name)
		} else {
			cat.Tables[db] = append(cat.Tables[db], name)
		}
	}
	rows.Close()
	f.plan = plan.Resolve(f.spec, cat, f.opt)
	if fails := f.plan.Problems; len(fails) > 0 {
		f.t.Fatalf("plan problems: %+v", fails)
	}
	f.objs, err = ReadObjects(f.ctx, f.src, f.spec, f.plan, f.opt)
	if err != nil {
		f.t.Fatal(err)
	}
	f.names = f.objs.Names(f.plan.Names())
}

// applyAll runs the phase in order: databases, tables, routines, views, triggers.
func (f *fixture) applyAll(conflicts string) []Result {
	f.t.Helper()
	var out []Result
	add := func(r Result, err error) {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	for _, d := range f.objs.Databases {
		add(ApplyDatabase(f.ctx, f.dst, d))
	}
	for _, t := range f.objs.Tables {
		add(ApplyTable(f.ctx, f.src, f.dst, t, f.names, TableOptions{Conflicts: conflicts}))
	}
	for _, r := range f.objs.Routines {
		add(ApplyRoutine(f.ctx, f.src, f.dst, r, f.names))
	}
	for _, v := range f.objs.Views {
		add(ApplyView(f.ctx, f.src, f.dst, v, f.names))
	}
	trs, err := CreateTriggers(f.ctx, f.src, f.dst, f.objs.Triggers, f.names)
	if err != nil {
		f.t.Fatal(err)
	}
	return append(out, trs...)
}

var (
	autoIncRE  = regexp.MustCompile(` AUTO_INCREMENT=\d+`)
	definerRE  = regexp.MustCompile("DEFINER=`[^`]*`@`[^`]*` ?")
	securityRE = regexp.MustCompile(`\s*SQL SECURITY (DEFINER|INVOKER)`)
	spaceRE    = regexp.MustCompile(`\s+`)
)

// normalise drops what is expected to differ: DEFINER, SQL SECURITY, whitespace.
func normalise(s string) string {
	s = definerRE.ReplaceAllString(s, "")
	s = securityRE.ReplaceAllString(s, "")
	return strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
}

// showCreateOf reads one object's definition (and sql_mode, for routines and triggers).
func showCreateOf(t *testing.T, ctx context.Context, db *sql.DB, kind string, n plan.Name) (def, mode string) {
	t.Helper()
	col := map[string]string{"TABLE": "create table", "VIEW": "create view", "PROCEDURE": "create procedure",
		"FUNCTION": "create function", "TRIGGER": "sql original statement"}[kind]
	row, found, err := showCreate(ctx, db, "SHOW CREATE "+kind+" "+n.String())
	if err != nil || !found {
		t.Fatalf("SHOW CREATE %s %s: found=%v %v", kind, n, found, err)
	}
	return row[col], row["sql_mode"]
}

// snapshot is every object of the destination databases, normalised.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	for _, db := range []string{f.aDst, f.b} {
		for _, qry := range []string{
			"SELECT IF(TABLE_TYPE = 'VIEW', 'VIEW', 'TABLE'), TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
			"SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?",
			"SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
		} {
			err := queryRows(f.ctx, f.dst, qry, []any{db}, func(r *sql.Rows) error {
				var kind, name string
				if err := r.Scan(&kind, &name); err != nil {
					return err
				}
				def, mode := showCreateOf(f.t, f.ctx, f.dst, kind, plan.Name{DB: db, Table: name})
				// The counter moves with the rows (the test inserts and truncates).
				out[kind+" "+plan.Name{DB: db, Table: name}.String()] = mode + "|" + autoIncRE.ReplaceAllString(def, "")
				return nil
			})
			if err != nil {
				f.t.Fatal(err)
			}
		}
	}
	return out
}

func TestApplyEverything(t *testing.T) {
	f := newFixture(t, "sch_all")
	o := f.objs

	// What was read.
	if got := len(o.Databases); got != 2 {
		t.Fatalf("databases: %+v", o.Databases)
	}
	for _, d := range o.Databases {
		if d.Source == f.a && (d.Dest != f.aDst || d.Charset != "latin1" || d.Collation != "latin1_swedish_ci") {
			t.Errorf("database %+v", d)
		}
	}
	var views []string
	for _, v := range o.Views {
		views = append(views, v.Source.Table)
	}
	if i, j := slices.Index(views, "v_orders"), slices.Index(views, "a_top"); i < 0 || j < 0 || i > j {
		t.Errorf("views %v: v_orders must come before a_top, which reads it", views)
	}
	if len(o.Routines) != 3 || o.Routines[0].Kind != Function || len(o.Triggers) != 1 || len(o.Events) != 1 || o.Events[0].Name != "ev_cleanup" {
		t.Errorf("routines %+v triggers %+v events %+v", o.Routines, o.Triggers, o.Events)
	}
	if tr := o.Triggers[0]; tr.Dest != (plan.Name{DB: f.aDst, Table: "orders_v2"}) {
		t.Errorf("trigger destination %+v", tr.Dest)
	}

	res := f.applyAll(ConflictsPrecheck)
	for _, r := range res {
		if r.Action != Created {
			t.Errorf("first run: %s: %s, want created", r.Object, r.Action)
		}
	}
	first := f.snapshot()

	// Object by object: the source definition with the expected renames.
	A, B, AD := q(f.a), q(f.b), q(f.aDst)
	rename := strings.NewReplacer(
		A+".`order`", AD+".`orders_v2`", "`order`", "`orders_v2`", A+".", AD+".", "`a``b`", "`ab`")
	type pair struct {
		kind     string
		src, dst plan.Name
	}
	pairs := []pair{
		{"TABLE", plan.Name{DB: f.b, Table: "Customers"}, plan.Name{DB: f.b, Table: "Customers"}},
		{"TABLE", plan.Name{DB: f.a, Table: "MixedCase"}, plan.Name{DB: f.aDst, Table: "MixedCase"}},
		{"TABLE", plan.Name{DB: f.a, Table: "order"}, plan.Name{DB: f.aDst, Table: "orders_v2"}},
		{"TABLE", plan.Name{DB: f.a, Table: "my-table"}, plan.Name{DB: f.aDst, Table: "my-table"}},
		{"VIEW", plan.Name{DB: f.a, Table: "v_orders"}, plan.Name{DB: f.aDst, Table: "v_orders"}},
		{"VIEW", plan.Name{DB: f.a, Table: "a_top"}, plan.Name{DB: f.aDst, Table: "a_top"}},
		{"FUNCTION", plan.Name{DB: f.a, Table: "f_double"}, plan.Name{DB: f.aDst, Table: "f_double"}},
		{"PROCEDURE", plan.Name{DB: f.a, Table: "p_add"}, plan.Name{DB: f.aDst, Table: "p_add"}},
		{"PROCEDURE", plan.Name{DB: f.a, Table: "a_caller"}, plan.Name{DB: f.aDst, Table: "a_caller"}},
		{"TRIGGER", plan.Name{DB: f.a, Table: "trg_order_bi"}, plan.Name{DB: f.aDst, Table: "trg_order_bi"}},
	}
	if len(first) != len(pairs) {
		t.Errorf("destination holds %d objects, want %d: %v", len(first), len(pairs), first)
	}
	for _, p := range pairs {
		srcDef, srcMode := showCreateOf(t, f.ctx, f.src, p.kind, p.src)
		dstDef, dstMode := showCreateOf(t, f.ctx, f.dst, p.kind, p.dst)
		want := rename.Replace(srcDef)
		if p.src.Table == "my-table" {
			var kept []string
			for _, l := range strings.Split(want, "\n") {
				if !strings.Contains(l, "`secret`") {
					kept = append(kept, l)
				}
			}
			want = strings.Join(kept, "\n")
		}
		if normalise(want) != normalise(dstDef) {
			t.Errorf("%s %s -> %s:\n want %s\n  got %s", p.kind, p.src, p.dst, normalise(want), normalise(dstDef))
		}
		if srcMode != dstMode {
			t.Errorf("%s %s: sql_mode %q on the source, %q on the destination", p.kind, p.src, srcMode, dstMode)
		}
		if p.kind == "VIEW" && !strings.Contains(dstDef, "SQL SECURITY INVOKER") {
			t.Errorf("view %s is not SQL SECURITY INVOKER: %s", p.dst, dstDef)
		}
		if (p.kind == "PROCEDURE" || p.kind == "FUNCTION") && !strings.Contains(dstDef, "SQL SECURITY INVOKER") {
			t.Errorf("%s %s is not SQL SECURITY INVOKER: %s", p.kind, p.dst, dstDef)
		}
	}
	_ = B

	// The objects work: the trigger fires, the procedure inserts, the view reads.
	f.exec(f.env.Destination,
		"INSERT INTO "+q(f.b)+".`Customers` VALUES (1, 'ann')",
		"CALL "+AD+".`a_caller`()", "CALL "+AD+".`p_add`('hello')")
	var note string
	if err := f.dst.QueryRowContext(f.ctx, "SELECT GROUP_CONCAT(note ORDER BY id) FROM "+AD+".`orders_v2`").Scan(&note); err != nil || note != "C,HELLO" {
		t.Errorf("trigger did not run on the destination: %q %v", note, err)
	}
	var id int
	if err := f.dst.QueryRowContext(f.ctx, "SELECT MIN(id) FROM "+AD+".`orders_v2`").Scan(&id); err != nil || id != 42 {
		t.Errorf("AUTO_INCREMENT=42 did not move: %d %v", id, err)
	}
	f.exec(f.env.Destination, "SET foreign_key_checks=0; TRUNCATE "+AD+".`orders_v2`; TRUNCATE "+q(f.b)+".`Customers`")

	// Idempotent: a second run changes nothing and fails nothing.
	again := f.applyAll(ConflictsPrecheck)
	for _, r := range again {
		if r.Action == Created {
			t.Errorf("second run created %s again", r.Object)
		}
		if strings.HasPrefix(r.Object, "table ") && r.Action != Exists {
			t.Errorf("second run: %s: %s, want exists", r.Object, r.Action)
		}
	}
	if second := f.snapshot(); !mapsEqual(first, second) {
		t.Errorf("second run changed the destination:\n%v\n%v", first, second)
	}

	// A crash half way: some objects exist, the next run completes the rest.
	f.dropDest()
	for _, d := range f.objs.Databases {
		if _, err := ApplyDatabase(f.ctx, f.dst, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ApplyTable(f.ctx, f.src, f.dst, f.objs.Tables[0], f.names, TableOptions{Conflicts: ConflictsPrecheck}); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyRoutine(f.ctx, f.src, f.dst, f.objs.Routines[0], f.names); err != nil {
		t.Fatal(err)
	}
	f.applyAll(ConflictsPrecheck)
	if third := f.snapshot(); !mapsEqual(first, third) {
		t.Errorf("resumed run differs from a clean one:\n%v\n%v", first, third)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestTableConflicts(t *testing.T) {
	f := newFixture(t, "sch_conf")
	AD := q(f.aDst)
	var orders Table
	for _, t := range f.objs.Tables {
		if t.Source.Table == "order" {
			orders = t
		}
	}
	for _, d := range f.objs.Databases {
		if _, err := ApplyDatabase(f.ctx, f.dst, d); err != nil {
			t.Fatal(err)
		}
	}
	// A table the user made, lacking a column.
	f.exec(f.env.Destination, "CREATE TABLE "+AD+".`orders_v2` (id BIGINT PRIMARY KEY, customer_id INT, note VARCHAR(20), created DATETIME(3))")
	_, err := ApplyTable(f.ctx, f.src, f.dst, orders, f.names, TableOptions{Conflicts: ConflictsIgnore})
	if err == nil || !strings.Contains(err.Error(), "no column `total`") || !strings.Contains(err.Error(), "orders_v2") {
		t.Fatalf("conflicts: ignore with a missing column: %v", err)
	}
	_, err = ApplyTable(f.ctx, f.src, f.dst, orders, f.names, TableOptions{Conflicts: ConflictsPrecheck})
	if err == nil || !strings.Contains(err.Error(), "different definition") || !strings.Contains(err.Error(), "expected") {
		t.Fatalf("conflicts: precheck with a different table: %v", err)
	}
	t.Log(err)

	// With every column, a different type is a warning.
	f.exec(f.env.Destination, "ALTER TABLE "+AD+".`orders_v2` ADD total DECIMAL(10,2)")
	r, err := ApplyTable(f.ctx, f.src, f.dst, orders, f.names, TableOptions{Conflicts: ConflictsIgnore})
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != Exists || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "`id` is int(11) on the source and bigint(20)") {
		t.Errorf("result %+v", r)
	}

	// A failing statement names the object and carries the statement.
	f.exec(f.env.Destination, "DROP TABLE "+AD+".`orders_v2`")
	bad := ddl.Names(badNames{f.names})
	_, err = ApplyTable(f.ctx, f.src, f.dst, orders, bad, TableOptions{Conflicts: ConflictsPrecheck})
	if err == nil || !strings.Contains(err.Error(), "apply table "+q(f.a)+".`order` -> "+AD+".`orders_v2`") || !strings.Contains(err.Error(), "CREATE TABLE") {
		t.Fatalf("error: %v", err)
	}
}

// badNames sends one table into a database that does not exist.
type badNames struct{ ddl.Names }

func (b badNames) Table(db, table string) (string, string, bool) {
	d, t, ok := b.Names.Table(db, table)
	if table == "order" {
		return "no_such_db_here", t, ok
	}
	return d, t, ok
}

func TestViewCycleIsAnError(t *testing.T) {
	a := View{Source: plan.Name{DB: "d", Table: "a"}}
	b := View{Source: plan.Name{DB: "d", Table: "b"}}
	defs := map[plan.Name]string{
		a.Source: "select `d`.`b`.`x` AS `x` from `d`.`b`",
		b.Source: "select `d`.`a`.`x` AS `x` from `d`.`a`",
	}
	_, err := orderViews(context.Background(), nil, []View{a, b}, defs)
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: %v", err)
	}
	defs[b.Source] = "select 1 AS `x`"
	out, err := orderViews(context.Background(), nil, []View{a, b}, defs)
	if err != nil || len(out) != 2 || out[0] != b {
		t.Fatalf("order %v %v", out, err)
	}
}

func TestTokens(t *testing.T) {
	// DEFINER stripping is ddl's; sameDefinition relies on it leaving strings and
	// bodies alone and on the SQL SECURITY value staying.
	for in, want := range map[string]string{
		"CREATE DEFINER=`r``x`@`%` /* c */ PROCEDURE `p`() SELECT 'DEFINER=`a`@`b`'":             "CREATE /* c */ PROCEDURE `p`() SELECT 'DEFINER=`a`@`b`'",
		"CREATE ALGORITHM=UNDEFINED DEFINER=`u`@`h` SQL SECURITY DEFINER VIEW `v` AS select 1":   "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1",
		"CREATE DEFINER=CURRENT_USER() TRIGGER `t` BEFORE INSERT ON `x` FOR EACH ROW SET @a = 1": "CREATE TRIGGER `t` BEFORE INSERT ON `x` FOR EACH ROW SET @a = 1",
		"CREATE PROCEDURE `p`() SQL SECURITY DEFINER SELECT 1":                                   "CREATE PROCEDURE `p`() SQL SECURITY DEFINER SELECT 1",
	} {
		got, err := ddl.StripDefiner(in)
		if err != nil || got != want {
			t.Errorf("StripDefiner(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	c, _ := canonical("CREATE TABLE `t` (`id` int AUTO_INCREMENT) ENGINE=InnoDB AUTO_INCREMENT=7 COMMENT='AUTO_INCREMENT=8' /*!50100 PARTITION BY HASH (`id`) */")
	s := strings.Join(stripTableAutoIncrement(c), " ")
	if s != "CREATE TABLE `t` ( `id` INT AUTO_INCREMENT ) ENGINE = INNODB COMMENT = 'AUTO_INCREMENT=8'" {
		t.Errorf("stripTableAutoIncrement: %s", s)
	}
	// Quoting differences are not differences; values are.
	a, _ := canonical("DEFAULT 'it''s' COMMENT _utf8mb4\"x\\\"y\" `a``b`")
	b, _ := canonical("default \"it's\" comment _UTF8MB4'x\"y' `a``b`")
	if !slices.Equal(a, b) {
		t.Errorf("canonical: %q != %q", a, b)
	}
	if d, _ := canonical("DEFAULT 'its'"); slices.Equal(d[:2], a[:2]) {
		t.Errorf("canonical: %q equals %q", d, a)
	}
	v, err := orReplace("CREATE ALGORITHM=UNDEFINED VIEW `v` AS select 1")
	if err != nil || v != "CREATE OR REPLACE ALGORITHM=UNDEFINED VIEW `v` AS select 1" {
		t.Errorf("orReplace: %q %v", v, err)
	}
	if _, err := canonical("SELECT 'unterminated"); err == nil {
		t.Error("unterminated string accepted")
	}
	if _, err := ddl.StripDefiner("CREATE DEFINER=`u"); err == nil {
		t.Error("StripDefiner: unterminated identifier accepted")
	}
	if d := difference([]string{"A", "B", "C"}, []string{"A", "X", "C"}); !strings.Contains(d, "expected A B C, found A X C") {
		t.Errorf("difference: %s", d)
	}
	_ = fmt.Sprint
}

func TestSecondRunActions(t *testing.T) {
	f := newFixture(t, "sch_act")
	f.applyAll(ConflictsPrecheck)
	for _, r := range f.applyAll(ConflictsPrecheck) {
		want := Exists
		if strings.HasPrefix(r.Object, "view ") {
			want = Replaced // CREATE OR REPLACE every time
		}
		if r.Action != want {
			t.Errorf("second run: %s: %s, want %s", r.Object, r.Action, want)
		}
	}
}

// A view calling a stored function of a renamed database: the function is created
// before the view (CREATE VIEW checks that it exists), and the call is renamed.
func TestViewCallingRenamedFunction(t *testing.T) {
	f := newFixture(t, "sch_vf")
	A := q(f.a)
	f.exec(f.env.Source, "CREATE VIEW "+A+".`v_func` AS SELECT "+A+".`f_double`(id) AS d FROM "+A+".`order`")
	f.resolve()
	f.applyAll(ConflictsPrecheck)
	f.exec(f.env.Destination, "INSERT INTO "+q(f.b)+".`Customers` VALUES (1, 'ann')", "CALL "+q(f.aDst)+".`p_add`('x')")
	var d int
	if err := f.dst.QueryRowContext(f.ctx, "SELECT d FROM "+q(f.aDst)+".`v_func`").Scan(&d); err != nil || d != 84 {
		t.Errorf("view with function: %d %v", d, err)
	}
}
