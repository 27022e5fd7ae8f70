package ddl

import (
	"errors"
	"path"
	"strings"
	"testing"
)

// replSel is a Selector for the tests: Names from testNames for the tables known at
// start, Selects by "db.glob" patterns (minus exclusions) for the others.
type replSel struct {
	*testNames
	known   map[string]bool // "db.table" answered by Names.Table
	globs   []string        // "db.glob" Selects matches
	exclude []string        // "db.glob" Selects never matches
	dbs     map[string]bool // databases an object selects
	all     map[string]bool // ... with all their tables
}

func (s *replSel) Table(db, table string) (string, string, bool) {
	if !s.known[db+"."+table] {
		return s.testNames.Database(db), table, false
	}
	return s.testNames.Table(db, table)
}

func (s *replSel) Selects(db, table string) bool {
	key := db + "." + table
	for _, p := range s.exclude {
		if ok, _ := path.Match(p, key); ok {
			return false
		}
	}
	if s.known[key] {
		return true
	}
	for _, p := range s.globs {
		if ok, _ := path.Match(p, key); ok {
			return true
		}
	}
	return false
}

func (s *replSel) SelectsDatabase(db string) (bool, bool) { return s.dbs[db] || s.all[db], s.all[db] }

// replScenario: database shop (all tables but skip_*; renamed shop_dst) and ref
// (only country; renamed ref_dst); database other is not selected.
func replScenario() *replSel {
	return &replSel{
		testNames: &testNames{
			dbs: map[string]string{"shop": "shop_dst", "ref": "ref_dst"},
			tables: map[string]string{
				"shop.order":     "orders",
				"shop.customers": "clients",
				"shop.my-table":  "My Table",
				"shop.a`b":       "a`b`c",
				"shop.名前":        "名",
				"ref.country":    "nations",
			},
			cols: map[string]string{
				"shop.order.total":       "amount",
				"shop.order.select":      "from",
				"shop.customers.name":    "full_name",
				"shop.my-table.名前":       "名",
				"shop.my-table.a`b":      "a`b`c",
				"shop.MixedCase.ColName": "col_name",
				"shop.cal.day":           "dday",
				"shop.cal.date":          "ddate",
				"ref.country.code":       "iso",
			},
			excluded: map[string]bool{"shop.order.secret": true, "shop.order.secret2": true, "shop.customers.notes": true},
		},
		known: map[string]bool{
			"shop.order": true, "shop.customers": true, "shop.my-table": true, "shop.a`b": true,
			"shop.名前": true, "shop.MixedCase": true, "shop.items": true, "shop.cal": true, "ref.country": true,
		},
		globs:   []string{"shop.*"},
		exclude: []string{"shop.skip_*"},
		dbs:     map[string]bool{"ref": true},
		all:     map[string]bool{"shop": true},
	}
}

func defaultGhost(t testing.TB) *GhostNames {
	t.Helper()
	g, err := CompileGhostNames(`^_(.+)_gho$`, `^_(.+)_(?:ghc|del)$`)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

type replCase struct {
	name     string
	db       string // the event's default schema; "shop" when empty, "-" for none
	sql      string
	kind     DDLKind
	want     []string // Statements
	skip     string   // a substring of Skip when nothing runs
	tables   []string // "db.name" of Tables, when checked
	ghost    string   // "db.name" of GhostTable ("" = nil)
	err      string   // a substring of the error
	deps     []string // Dependent of each *DependencyError
	warn     string   // a substring of a warning
	like     string   // "db.name" of Like
	deferred string
	replay   string // a substring of NotIdempotent
}

func refKey(t *TableRef) string {
	if t == nil {
		return ""
	}
	return t.Database + "." + t.Name
}

func runReplCases(t *testing.T, sel Selector, ghost *GhostNames, cases []replCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := c.db
			switch db {
			case "":
				db = "shop"
			case "-":
				db = ""
			}
			got, err := ReplicateDDL(db, c.sql, sel, ghost)
			if c.err != "" || len(c.deps) > 0 {
				if err == nil {
					t.Fatalf("no error; got %+v", got)
				}
				if c.err != "" && !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %q does not contain %q", err, c.err)
				}
				var deps []string
				for _, d := range DependencyErrors(err) {
					deps = append(deps, d.Dependent)
				}
				if strings.Join(deps, "|") != strings.Join(c.deps, "|") {
					t.Errorf("dependents %q, want %q (err %v)", deps, c.deps, err)
				}
				if c.kind != "" && got.Kind != c.kind {
					t.Errorf("kind %q, want %q", got.Kind, c.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got.Kind != c.kind {
				t.Errorf("kind %q, want %q", got.Kind, c.kind)
			}
			if strings.Join(got.Statements, "\n;\n") != strings.Join(c.want, "\n;\n") {
				t.Errorf("statements:\n got  %q\n want %q", got.Statements, c.want)
			}
			if len(got.Statements) == 0 {
				if got.Skip == "" {
					t.Errorf("nothing to run and no Skip reason")
				}
				if c.skip != "" && !strings.Contains(got.Skip, c.skip) {
					t.Errorf("skip %q does not contain %q", got.Skip, c.skip)
				}
			} else if got.Skip != "" {
				t.Errorf("statements and a Skip reason %q", got.Skip)
			}
			if c.tables != nil {
				var tables []string
				for _, tr := range got.Tables {
					tables = append(tables, refKey(&tr))
				}
				if strings.Join(tables, "|") != strings.Join(c.tables, "|") {
					t.Errorf("tables %q, want %q", tables, c.tables)
				}
			}
			if g := refKey(got.GhostTable); g != c.ghost {
				t.Errorf("ghost table %q, want %q", g, c.ghost)
			}
			if l := refKey(got.Like); l != c.like {
				t.Errorf("like %q, want %q", l, c.like)
			}
			if (c.replay == "") != (got.NotIdempotent == "") || !strings.Contains(got.NotIdempotent, c.replay) {
				t.Errorf("NotIdempotent %q, want %q", got.NotIdempotent, c.replay)
			}
			if got.Deferred != c.deferred {
				t.Errorf("deferred:\n got  %q\n want %q", got.Deferred, c.deferred)
			}
			warnings := strings.Join(got.Warnings, "\n")
			if (c.warn == "") != (warnings == "") || !strings.Contains(warnings, c.warn) {
				t.Errorf("warnings %q, want one containing %q", got.Warnings, c.warn)
			}
		})
	}
}

func TestReplicateAlterTable(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "add column", sql: "ALTER TABLE customers ADD COLUMN age int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` ADD COLUMN age int"}, tables: []string{"shop.customers"}},
		{name: "qualified, lower case", db: "-", sql: "alter table shop.`order` change total total decimal(12,2) not null after id",
			kind: KindAlterTable, want: []string{"alter table `shop_dst`.`orders` change `amount` `amount` decimal(12,2) not null after id"}},
		{name: "excluded column clause removed", sql: "ALTER TABLE `order` MODIFY secret varchar(50), ADD INDEX idx_t (total)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD INDEX idx_t (`amount`)"}},
		{name: "excluded clause in the middle", sql: "ALTER TABLE `order` ADD a int,\n  DROP COLUMN secret,\n  ADD b int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD a int,\n  ADD b int"}},
		{name: "excluded clause last", sql: "ALTER TABLE `order` ADD a int, DROP secret",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD a int"}},
		{name: "only excluded", sql: "ALTER TABLE `order` DROP COLUMN IF EXISTS secret",
			kind: KindAlterTable, skip: "every change concerns excluded columns"},
		{name: "only excluded and algorithm", sql: "ALTER TABLE `order` ALTER COLUMN secret SET DEFAULT 'x', ALGORITHM=INSTANT, LOCK=NONE",
			kind: KindAlterTable, skip: "every change concerns excluded columns"},
		{name: "add column list with excluded", sql: "ALTER TABLE `order` ADD (a int, secret int, b int)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD (a int, b int)"}},
		{name: "index on excluded", sql: "ALTER TABLE `order` ADD INDEX idx_s (secret, total)",
			kind: KindAlterTable, deps: []string{"index `idx_s` of table `shop`.`order`"}},
		{name: "unique key name after IF NOT EXISTS", sql: "ALTER TABLE `order` ADD UNIQUE KEY IF NOT EXISTS uq USING BTREE (total, secret(4))",
			deps: []string{"index `uq` of table `shop`.`order`"}},
		{name: "constraint name for a nameless key", sql: "ALTER TABLE `order` ADD CONSTRAINT c1 UNIQUE (secret)",
			deps: []string{"index `c1` of table `shop`.`order`"}},
		{name: "primary key", sql: "ALTER TABLE `order` DROP PRIMARY KEY, ADD PRIMARY KEY (id, secret)",
			deps: []string{"the primary key of table `shop`.`order`"}},
		{name: "rename column", sql: "ALTER TABLE customers RENAME COLUMN name TO nm",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` RENAME COLUMN `full_name` TO nm"}},
		{name: "rename column out of exclusion", sql: "ALTER TABLE customers RENAME COLUMN notes TO remarks",
			err: "is excluded (exclude_columns) and renamed to `remarks`, which is not"},
		{name: "change into an excluded name", sql: "ALTER TABLE `order` CHANGE COLUMN note secret text, ADD z int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` DROP COLUMN `note`, ADD z int"}, warn: "dropped on the destination"},
		{name: "change both excluded", sql: "ALTER TABLE `order` CHANGE secret secret varchar(99), ADD z int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD z int"}},
		{name: "excluded items at the end", sql: "ALTER TABLE `order` ADD a int,\n  ADD b int,\n  DROP secret,\n  MODIFY secret int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD a int,\n  ADD b int"}},
		{name: "excluded items first", sql: "ALTER TABLE `order`\n  DROP secret,\n  MODIFY secret int,\n  ADD a int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders`\n  ADD a int"}},
		{name: "foreign key", sql: "ALTER TABLE customers ADD CONSTRAINT fk_c FOREIGN KEY (name) REFERENCES ref.country (code) ON DELETE CASCADE",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` ADD CONSTRAINT fk_c FOREIGN KEY (`full_name`) REFERENCES `ref_dst`.`nations` (`iso`) ON DELETE CASCADE"}},
		{name: "foreign key to an unselected table", sql: "ALTER TABLE items ADD FOREIGN KEY (x) REFERENCES other.t (id)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` ADD FOREIGN KEY (x) REFERENCES `other`.`t` (id)"}},
		{name: "foreign key to an excluded column", sql: "ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (oid) REFERENCES `order` (secret)",
			deps: []string{"foreign key `fk` of table `shop`.`items`"}},
		{name: "generated column", sql: "ALTER TABLE `order` ADD COLUMN doubled decimal(12,2) AS (total * 2) VIRTUAL",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD COLUMN doubled decimal(12,2) AS (`amount` * 2) VIRTUAL"}},
		{name: "generated column on excluded", sql: "ALTER TABLE `order` ADD COLUMN s2 varchar(10) GENERATED ALWAYS AS (concat(secret, 'x')) STORED",
			deps: []string{"generated column `s2` of table `shop`.`order`"}},
		{name: "check", sql: "ALTER TABLE `order` ADD CONSTRAINT chk CHECK (total > 0 AND `select` <> '')",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD CONSTRAINT chk CHECK (`amount` > 0 AND `from` <> '')"}},
		{name: "check on excluded", sql: "ALTER TABLE `order` ADD CHECK (length(secret) > 2)",
			deps: []string{"CHECK constraint of table `shop`.`order`"}},
		{name: "column check and default", sql: "ALTER TABLE `order` MODIFY qty int DEFAULT (total + 1) CHECK (qty < total)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` MODIFY qty int DEFAULT (`amount` + 1) CHECK (qty < `amount`)"}},
		{name: "after excluded column", sql: "ALTER TABLE `order` ADD COLUMN x int NOT NULL AFTER secret, ADD y int FIRST",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD COLUMN x int NOT NULL, ADD y int FIRST"}, warn: "placed last"},
		{name: "after renamed column", sql: "ALTER TABLE `order` ADD COLUMN x int AFTER total",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD COLUMN x int AFTER `amount`"}},
		{name: "alter column default", sql: "ALTER TABLE `order` ALTER COLUMN total SET DEFAULT 0, ALTER INDEX idx INVISIBLE",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ALTER COLUMN `amount` SET DEFAULT 0, ALTER INDEX idx INVISIBLE"}},
		{name: "order by", sql: "ALTER TABLE `order` ORDER BY total, id DESC",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ORDER BY `amount`, id DESC"}},
		{name: "order by excluded", sql: "ALTER TABLE `order` ENGINE=InnoDB, ORDER BY secret, id",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ENGINE=InnoDB"}},
		{name: "partition by", sql: "ALTER TABLE `order` PARTITION BY HASH (total) PARTITIONS 4",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` PARTITION BY HASH (`amount`) PARTITIONS 4"}},
		{name: "partition by after a clause", sql: "ALTER TABLE `order` ADD c int PARTITION BY RANGE COLUMNS(total) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (MAXVALUE))",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD c int PARTITION BY RANGE COLUMNS(`amount`) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (MAXVALUE))"}},
		{name: "partition by excluded", sql: "ALTER TABLE `order` PARTITION BY KEY (secret)",
			deps: []string{"the partitioning of table `shop`.`order`"}},
		{name: "partition maintenance", sql: "ALTER TABLE `order` TRUNCATE PARTITION p0, p1",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` TRUNCATE PARTITION p0, p1"}},
		{name: "rename table", sql: "ALTER TABLE customers RENAME TO clients_old",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` RENAME TO `shop_dst`.`clients_old`"}, tables: []string{"shop.customers", "shop.clients_old"}},
		{name: "rename table and change", sql: "ALTER TABLE customers ADD x int, RENAME AS ref.country2",
			kind: KindAlterTable, err: "`ref`.`country2`, which is not selected: replication of its rows would silently stop"},
		{name: "rename unselected into selected", sql: "ALTER TABLE skip_x RENAME newt",
			err: "`shop`.`skip_x`, which is not selected, is renamed to `shop`.`newt`, which is: the destination would get a table whose rows were never copied"},
		{name: "unselected", sql: "ALTER TABLE skip_x ADD c int", kind: KindAlterTable, skip: "`shop`.`skip_x` is not selected"},
		{name: "unselected database", sql: "ALTER TABLE other.t ADD c int", kind: KindAlterTable, skip: "`other`.`t` is not selected"},
		{name: "unicode and dash", sql: "ALTER TABLE `my-table` ADD COLUMN `名前2` int, ADD KEY k (`名前`, `a``b`)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`My Table` ADD COLUMN `名前2` int, ADD KEY k (`名`, `a``b``c`)"}},
		{name: "unquoted unicode", sql: "ALTER TABLE 名前 ADD c int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`名` ADD c int"}},
		{name: "backquote in the name", sql: "ALTER TABLE `a``b` DROP COLUMN c",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`a``b``c` DROP COLUMN c"}},
		{name: "mixed case column", sql: "ALTER TABLE MixedCase ADD INDEX (colname), MODIFY ColName bigint",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`MixedCase` ADD INDEX (`col_name`), MODIFY `col_name` bigint"}},
		{name: "reserved word column", sql: "ALTER TABLE items ADD COLUMN `order` int, ADD KEY (`order`)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` ADD COLUMN `order` int, ADD KEY (`order`)"}},
		{name: "comments kept", sql: "/* app */ ALTER /* x */ TABLE customers -- why\n  ADD COLUMN z int /* after */, DROP notes # gone",
			kind: KindAlterTable, want: []string{"/* app */ ALTER /* x */ TABLE `shop_dst`.`clients` -- why\n  ADD COLUMN z int /* after */ # gone"}},
		{name: "executable comment", sql: "ALTER TABLE customers /*!50100 ADD COLUMN z int */",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` /*!50100 ADD COLUMN z int */"}},
		{name: "excluded clause inside an executable comment", sql: "ALTER TABLE `order` ADD COLUMN a int /*!50100 , DROP COLUMN secret */",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD COLUMN a int /*!50100  */"}},
		{name: "executable comment cut in half", sql: "ALTER TABLE `order` ADD COLUMN a int /*!50100 , DROP COLUMN secret */, ADD COLUMN b int",
			err: "comment only partly covers"},
		{name: "trailing semicolon", sql: "ALTER TABLE customers ADD z int;",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`clients` ADD z int"}},
		{name: "wait and online", sql: "ALTER ONLINE IGNORE TABLE IF EXISTS customers WAIT 5 ADD z int",
			kind: KindAlterTable, want: []string{"ALTER ONLINE IGNORE TABLE IF EXISTS `shop_dst`.`clients` WAIT 5 ADD z int"}},
		{name: "no default database", db: "-", sql: "ALTER TABLE customers ADD z int",
			err: "`customers` is not qualified and the statement has no default database"},
		{name: "exchange partition", sql: "ALTER TABLE `order` EXCHANGE PARTITION p0 WITH TABLE items",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` EXCHANGE PARTITION p0 WITH TABLE `shop_dst`.`items`"}, tables: []string{"shop.order", "shop.items"},
			replay: "EXCHANGE PARTITION"},
		{name: "column swap", sql: "ALTER TABLE items CHANGE a b int, CHANGE b a int, MODIFY c int",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` CHANGE a b int, CHANGE b a int, MODIFY c int"}, replay: "column renames form a cycle"},
		{name: "column rename chain", sql: "ALTER TABLE items RENAME COLUMN a TO b, RENAME COLUMN b TO c, CHANGE d d bigint",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` RENAME COLUMN a TO b, RENAME COLUMN b TO c, CHANGE d d bigint"}},
		{name: "exchange with unselected", sql: "ALTER TABLE `order` EXCHANGE PARTITION p0 WITH TABLE skip_x",
			err: "moves rows between `shop`.`order` and `shop`.`skip_x`"},
		{name: "exchange into selected", sql: "ALTER TABLE skip_x EXCHANGE PARTITION p0 WITH TABLE items",
			err: "moves rows into `shop`.`items`"},
		{name: "convert to charset", sql: "ALTER TABLE items CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"}},
		{name: "discard tablespace", sql: "ALTER TABLE items DISCARD TABLESPACE", kind: KindAlterTable, skip: "DISCARD TABLESPACE"},
		{name: "import tablespace", sql: "ALTER TABLE items IMPORT TABLESPACE", err: "IMPORT TABLESPACE brings rows"},
		{name: "merge union", sql: "ALTER TABLE items UNION=(customers, other.t)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` UNION=(`shop_dst`.`clients`, `other`.`t`)"}},
		{name: "keyword positions", sql: "ALTER TABLE cal ADD nxt date AS (date + INTERVAL day DAY) VIRTUAL, " +
			"ADD y int AS (EXTRACT(YEAR FROM date) + TIMESTAMPDIFF(DAY, date, date)) VIRTUAL, " +
			"ADD c char(10) AS (CAST(day AS CHAR(10)) COLLATE utf8mb4_bin) VIRTUAL, " +
			"ADD t int AS (date IS NOT NULL AND DATE '2020-01-01' < date) VIRTUAL, ADD u int AS (year(date)) VIRTUAL",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`cal` ADD nxt date AS (`ddate` + INTERVAL `dday` DAY) VIRTUAL, " +
				"ADD y int AS (EXTRACT(YEAR FROM `ddate`) + TIMESTAMPDIFF(DAY, `ddate`, `ddate`)) VIRTUAL, " +
				"ADD c char(10) AS (CAST(`dday` AS CHAR(10)) COLLATE utf8mb4_bin) VIRTUAL, " +
				"ADD t int AS (`ddate` IS NOT NULL AND DATE '2020-01-01' < `ddate`) VIRTUAL, ADD u int AS (year(`ddate`)) VIRTUAL"}},
		{name: "qualified column in an expression", sql: "ALTER TABLE `order` ADD CHECK (`order`.total > 0)",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`orders` ADD CHECK (`orders`.`amount` > 0)"}},
		{name: "stored function in a default", sql: "ALTER TABLE items ALTER COLUMN x SET DEFAULT (shop.f(1) + ref.g(2))",
			kind: KindAlterTable, want: []string{"ALTER TABLE `shop_dst`.`items` ALTER COLUMN x SET DEFAULT (`shop_dst`.f(1) + `ref_dst`.g(2))"}},
	})
}

func TestReplicateCreateTable(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "new table", sql: "CREATE TABLE newt (id int primary key, name varchar(10), KEY k (name))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`newt` (id int primary key, name varchar(10), KEY k (name))"}, tables: []string{"shop.newt"}},
		{name: "renames and excluded", sql: "CREATE TABLE IF NOT EXISTS `order` (\n  id int NOT NULL,\n  total decimal(10,2),\n  secret varchar(10),\n  note text,\n" +
			"  PRIMARY KEY (id),\n  KEY kt (total),\n  CONSTRAINT chk CHECK (total >= 0)\n) ENGINE=InnoDB",
			kind: KindCreateTable, want: []string{"CREATE TABLE IF NOT EXISTS `shop_dst`.`orders` (\n  id int NOT NULL,\n  `amount` decimal(10,2),\n  note text,\n" +
				"  PRIMARY KEY (id),\n  KEY kt (`amount`),\n  CONSTRAINT chk CHECK (`amount` >= 0)\n) ENGINE=InnoDB"}},
		{name: "last two columns excluded", sql: "CREATE TABLE `order` (\n  id int,\n  total int,\n  secret int,\n  secret2 int\n)",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`orders` (\n  id int,\n  `amount` int\n)"}},
		{name: "middle column excluded", sql: "CREATE TABLE `order` (\n  id int,\n  secret int,\n  total int\n)",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`orders` (\n  id int,\n  `amount` int\n)"}},
		{name: "or replace", sql: "CREATE OR REPLACE TABLE customers (name text, notes text)",
			kind: KindCreateTable, want: []string{"CREATE OR REPLACE TABLE `shop_dst`.`clients` (`full_name` text)"}},
		{name: "index on excluded", sql: "CREATE TABLE `order` (id int, secret int, KEY ks (secret))",
			deps: []string{"index `ks` of table `shop`.`order`"}},
		{name: "generated on excluded", sql: "CREATE TABLE `order` (id int, secret int, g int AS (secret + 1))",
			deps: []string{"generated column `g` of table `shop`.`order`"}},
		{name: "every column excluded", sql: "CREATE TABLE `order` (secret int)", err: "every column of `shop`.`order` is excluded"},
		{name: "words that are not columns", sql: "CREATE TABLE cal (day int, date date, d2 date AS (date + INTERVAL 1 DAY), KEY (date))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`cal` (`dday` int, `ddate` date, d2 date AS (`ddate` + INTERVAL 1 DAY), KEY (`ddate`))"}},
		{name: "like", sql: "CREATE TABLE items_copy LIKE items",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`items_copy` LIKE `shop_dst`.`items`"}, like: "shop.items"},
		{name: "like in parentheses", sql: "CREATE TABLE IF NOT EXISTS ref.country (LIKE shop.customers)",
			kind: KindCreateTable, want: []string{"CREATE TABLE IF NOT EXISTS `ref_dst`.`nations` (LIKE `shop_dst`.`clients`)"}, like: "shop.customers"},
		{name: "like an unselected table", sql: "CREATE TABLE items_copy LIKE skip_x",
			err: "`shop`.`items_copy` is created LIKE `shop`.`skip_x`, which is not selected"},
		{name: "create select", sql: "CREATE TABLE newt AS SELECT * FROM items", err: "CREATE TABLE ... SELECT"},
		{name: "create select with columns", sql: "CREATE TABLE newt (id int) IGNORE SELECT id FROM items", err: "CREATE TABLE ... SELECT"},
		{name: "unselected", sql: "CREATE TABLE skip_new (id int)", kind: KindCreateTable, skip: "`shop`.`skip_new` is not selected"},
		{name: "unselected database", sql: "CREATE TABLE other.t (id int)", kind: KindCreateTable, skip: "`other`.`t` is not selected"},
		{name: "temporary", sql: "CREATE TEMPORARY TABLE tmp (id int)", kind: KindCreateTable, skip: "temporary"},
		{name: "inline references", sql: "CREATE TABLE t2 (id int, cc char(2) REFERENCES ref.country(code), o int REFERENCES `order` (total))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`t2` (id int, cc char(2) REFERENCES `ref_dst`.`nations`(`iso`), o int REFERENCES `shop_dst`.`orders` (`amount`))"}},
		{name: "foreign key", sql: "CREATE TABLE t2 (id int, c char(2), CONSTRAINT fk FOREIGN KEY (c) REFERENCES ref.country (code))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`t2` (id int, c char(2), CONSTRAINT fk FOREIGN KEY (c) REFERENCES `ref_dst`.`nations` (`iso`))"}},
		{name: "awkward names quoted", sql: "CREATE TABLE `my-table` (`名前` int, `a``b` int, 名前2 int, KEY (`名前`), KEY (`a``b`, 名前2))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`My Table` (`名` int, `a``b``c` int, 名前2 int, KEY (`名`), KEY (`a``b``c`, 名前2))"}},
		{name: "partitioned and comments", sql: "CREATE TABLE /* c */ `order` (id int, total int) /*!50100 PARTITION BY RANGE (total) (PARTITION p0 VALUES LESS THAN (10)) */",
			kind: KindCreateTable, want: []string{"CREATE TABLE /* c */ `shop_dst`.`orders` (id int, `amount` int) /*!50100 PARTITION BY RANGE (`amount`) (PARTITION p0 VALUES LESS THAN (10)) */"}},
		{name: "period column name", sql: "CREATE TABLE newt (period int, PERIOD FOR p (s, e))",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`newt` (period int, PERIOD FOR p (s, e))"}},
	})
}

func TestReplicateDropRenameTruncate(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "drop several", sql: "DROP TABLE IF EXISTS customers, skip_x, other.t, `order` RESTRICT",
			kind: KindDropTable, want: []string{"DROP TABLE IF EXISTS `shop_dst`.`clients`, `shop_dst`.`orders`"},
			tables: []string{"shop.customers", "shop.skip_x", "other.t", "shop.order"}},
		{name: "drop as the server logs it", sql: "DROP TABLE `名前` /* generated by server */",
			kind: KindDropTable, want: []string{"DROP TABLE IF EXISTS `shop_dst`.`名`"}},
		{name: "drop unselected", sql: "DROP TABLE skip_x, other.t", kind: KindDropTable, skip: "`shop`.`skip_x`, `other`.`t` are not selected"},
		{name: "drop temporary", sql: "DROP TEMPORARY TABLE IF EXISTS customers", kind: KindDropTable, skip: "temporary"},
		{name: "drop no default db", db: "-", sql: "DROP TABLE shop.items, t", err: "`t` is not qualified"},
		{name: "rename several", sql: "RENAME TABLE customers TO clients2, items WAIT 3 TO shop.items2",
			kind: KindRenameTable, want: []string{"RENAME TABLE `shop_dst`.`clients` TO `shop_dst`.`clients2`, `shop_dst`.`items` TO `shop_dst`.`items2`"},
			tables: []string{"shop.customers", "shop.clients2", "shop.items", "shop.items2"}},
		{name: "swap through a temporary name", sql: "RENAME TABLE customers TO skip_tmp, items TO customers, skip_tmp TO items",
			kind: KindRenameTable, want: []string{"RENAME TABLE `shop_dst`.`clients` TO `shop_dst`.`skip_tmp`, `shop_dst`.`items` TO `shop_dst`.`clients`, `shop_dst`.`skip_tmp` TO `shop_dst`.`items`"},
			replay: "cycle"},
		{name: "chain without cycle", sql: "RENAME TABLE items TO items_old, items_new TO items",
			kind: KindRenameTable, want: []string{"RENAME TABLE `shop_dst`.`items` TO `shop_dst`.`items_old`, `shop_dst`.`items_new` TO `shop_dst`.`items`"}},
		{name: "unselected pair left out", sql: "RENAME TABLES skip_a TO skip_b, items TO items2",
			kind: KindRenameTable, want: []string{"RENAME TABLE `shop_dst`.`items` TO `shop_dst`.`items2`"}},
		{name: "all unselected", sql: "RENAME TABLE skip_a TO skip_b", kind: KindRenameTable, skip: "`shop`.`skip_a` is not selected"},
		{name: "selected to unselected", sql: "RENAME TABLE items TO x, customers TO skip_c",
			err: "`shop`.`customers` is renamed to `shop`.`skip_c`, which is not selected: replication of its rows would silently stop"},
		{name: "unselected to selected", sql: "RENAME TABLE other.t TO shop.t",
			err: "`other`.`t`, which is not selected, is renamed to `shop`.`t`, which is: the destination would get a table whose rows were never copied"},
		{name: "across databases", sql: "RENAME TABLE shop.items TO ref.country",
			kind: KindRenameTable, want: []string{"RENAME TABLE `shop_dst`.`items` TO `ref_dst`.`nations`"}},
		{name: "truncate", sql: "TRUNCATE customers", kind: KindTruncateTable, want: []string{"TRUNCATE TABLE `shop_dst`.`clients`"}},
		{name: "truncate table", sql: "truncate table `my-table` NOWAIT", kind: KindTruncateTable, want: []string{"TRUNCATE TABLE `shop_dst`.`My Table`"}},
		{name: "truncate unselected", sql: "TRUNCATE TABLE skip_x", kind: KindTruncateTable, skip: "not selected"},
	})
}

func TestReplicateIndexes(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "create", sql: "CREATE UNIQUE INDEX ux ON `order` (total DESC, id) USING BTREE COMMENT 'c'",
			kind: KindCreateIndex, want: []string{"CREATE UNIQUE INDEX ux ON `shop_dst`.`orders` (`amount` DESC, id) USING BTREE COMMENT 'c'"}},
		{name: "create prefix and options", sql: "CREATE OR REPLACE INDEX IF NOT EXISTS ix USING HASH ON customers (name(10)) WAIT 2 ALGORITHM=INPLACE",
			kind: KindCreateIndex, want: []string{"CREATE OR REPLACE INDEX IF NOT EXISTS ix USING HASH ON `shop_dst`.`clients` (`full_name`(10)) WAIT 2 ALGORITHM=INPLACE"}},
		{name: "create fulltext", sql: "CREATE FULLTEXT INDEX ft ON `my-table` (`名前`)",
			kind: KindCreateIndex, want: []string{"CREATE FULLTEXT INDEX ft ON `shop_dst`.`My Table` (`名`)"}},
		{name: "create on excluded", sql: "CREATE INDEX ix ON customers (notes)", deps: []string{"index `ix` of table `shop`.`customers`"}},
		{name: "create unselected", sql: "CREATE INDEX ix ON skip_x (a)", kind: KindCreateIndex, skip: "not selected"},
		{name: "drop", sql: "DROP INDEX IF EXISTS ux ON `order`", kind: KindDropIndex, want: []string{"DROP INDEX IF EXISTS ux ON `shop_dst`.`orders`"}},
		{name: "drop unselected", sql: "DROP INDEX ux ON other.t", kind: KindDropIndex, skip: "not selected"},
	})
}

func TestReplicateViewsRoutinesTriggers(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "create view", sql: "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v1` AS select `id`,`total` from `order`",
			kind: KindCreateView, want: []string{"CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `shop_dst`.`v1` AS SELECT `id`,`amount` AS `total` FROM `shop_dst`.`orders`"}},
		{name: "alter view", sql: "ALTER VIEW v1 AS SELECT o.id FROM `order` o WITH CHECK OPTION",
			kind: KindAlterView, want: []string{"CREATE OR REPLACE SQL SECURITY INVOKER VIEW `shop_dst`.`v1` AS SELECT `o`.`id` FROM `shop_dst`.`orders` AS `o` WITH CHECK OPTION"}},
		{name: "view if not exists", sql: "CREATE VIEW IF NOT EXISTS v1 AS SELECT 1",
			kind: KindCreateView, want: []string{"CREATE SQL SECURITY INVOKER VIEW IF NOT EXISTS `shop_dst`.`v1` AS SELECT 1"}},
		{name: "view in another database", db: "ref", sql: "CREATE VIEW shop.v2 AS SELECT code FROM country",
			kind: KindCreateView, want: []string{"CREATE SQL SECURITY INVOKER VIEW `shop_dst`.`v2` AS SELECT `iso` AS `code` FROM `ref_dst`.`nations`"}},
		{name: "view on excluded", sql: "CREATE VIEW v3 AS SELECT c.notes FROM customers c", deps: []string{"view `shop`.`v3`"}},
		{name: "view unselected", sql: "CREATE VIEW skip_v AS SELECT 1", kind: KindCreateView, skip: "not selected"},
		{name: "drop view", sql: "DROP VIEW IF EXISTS v1, skip_v", kind: KindDropView, want: []string{"DROP VIEW IF EXISTS `shop_dst`.`v1`"}},
		{name: "procedure", sql: "CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN x INT)\nBEGIN\n  SELECT COUNT(*) FROM `order` o WHERE o.total > x;\nEND",
			kind: KindCreateRoutine, want: []string{"CREATE PROCEDURE `shop_dst`.`p`(IN x INT)\n    SQL SECURITY INVOKER\nBEGIN\n  SELECT COUNT(*) FROM `orders` o WHERE o.`amount` > x;\nEND"},
			tables: []string{"shop.p"}},
		{name: "function with a warning", sql: "CREATE FUNCTION shop.f() RETURNS int RETURN (SELECT MAX(total) FROM `order`)",
			kind: KindCreateRoutine, want: []string{"CREATE FUNCTION `shop_dst`.`f`() RETURNS int\n    SQL SECURITY INVOKER RETURN (SELECT MAX(total) FROM `orders`)"},
			warn: "`total`, which `shop`.`order` renames to `amount`"},
		{name: "routine of a partly selected database", sql: "CREATE PROCEDURE ref.p() SELECT 1", kind: KindCreateRoutine, skip: "routines of `ref` are not migrated"},
		{name: "loadable function", sql: "CREATE AGGREGATE FUNCTION agg RETURNS STRING SONAME 'udf.so'", kind: KindOther, skip: "loadable function"},
		{name: "drop procedure", sql: "DROP PROCEDURE p", kind: KindDropRoutine, want: []string{"DROP PROCEDURE IF EXISTS `shop_dst`.`p`"}},
		{name: "drop loadable function", db: "-", sql: "DROP FUNCTION agg", kind: KindOther, skip: "loadable function"},
		{name: "alter procedure", sql: "ALTER PROCEDURE p COMMENT 'x' SQL SECURITY DEFINER", kind: KindAlterRoutine,
			want: []string{"ALTER PROCEDURE `shop_dst`.`p` COMMENT 'x' SQL SECURITY INVOKER"}},
		{name: "trigger deferred", sql: "CREATE DEFINER=`root`@`localhost` TRIGGER trg BEFORE INSERT ON `order` FOR EACH ROW SET NEW.total = 0",
			kind: KindCreateTrigger, skip: "cut-over", tables: []string{"shop.trg", "shop.order"},
			deferred: "CREATE TRIGGER `shop_dst`.`trg` BEFORE INSERT ON `shop_dst`.`orders` FOR EACH ROW SET NEW.`amount` = 0"},
		{name: "trigger on unselected", sql: "CREATE TRIGGER trg BEFORE INSERT ON skip_x FOR EACH ROW SET NEW.a = 0", kind: KindCreateTrigger, skip: "not selected"},
		{name: "trigger on excluded", sql: "CREATE TRIGGER trg BEFORE INSERT ON customers FOR EACH ROW SET NEW.notes = ''",
			deps: []string{"trigger `shop`.`trg`"}},
		{name: "drop trigger", sql: "DROP TRIGGER IF EXISTS shop.trg", kind: KindDropTrigger, skip: "cut-over", tables: []string{"shop.trg"}},
	})
}

func TestReplicateDatabasesAndOthers(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "create database", sql: "CREATE DATABASE shop CHARACTER SET utf8mb4", kind: KindCreateDatabase,
			want: []string{"CREATE DATABASE IF NOT EXISTS `shop_dst` CHARACTER SET utf8mb4"}},
		{name: "create schema if not exists", sql: "CREATE SCHEMA IF NOT EXISTS `ref`", kind: KindCreateDatabase,
			want: []string{"CREATE SCHEMA IF NOT EXISTS `ref_dst`"}},
		{name: "create unselected database", sql: "CREATE DATABASE other", kind: KindCreateDatabase, skip: "`other` is not selected"},
		{name: "alter database", sql: "ALTER DATABASE shop DEFAULT CHARACTER SET latin1", kind: KindAlterDatabase,
			want: []string{"ALTER DATABASE `shop_dst` DEFAULT CHARACTER SET latin1"}},
		{name: "alter current database", sql: "ALTER DATABASE COLLATE utf8mb4_bin", kind: KindAlterDatabase,
			want: []string{"ALTER DATABASE `shop_dst` COLLATE utf8mb4_bin"}},
		{name: "drop selected database", sql: "DROP DATABASE IF EXISTS shop", err: "the source dropped `shop`"},
		{name: "drop unselected database", sql: "DROP DATABASE other", kind: KindDropDatabase, skip: "not selected"},
		{name: "grant", sql: "GRANT SELECT ON shop.* TO 'u'@'%'", kind: KindOther, skip: "GRANT is not replicated"},
		{name: "create user", sql: "CREATE USER 'u'@'%' IDENTIFIED BY 'hunter2'", kind: KindOther, skip: "CREATE USER is not replicated"},
		{name: "set", sql: "SET PASSWORD FOR 'u'@'%' = PASSWORD('hunter2')", kind: KindOther, skip: "SET is not replicated"},
		{name: "flush", sql: "FLUSH PRIVILEGES", kind: KindOther, skip: "FLUSH"},
		{name: "analyze", sql: "ANALYZE TABLE customers", kind: KindOther, skip: "ANALYZE"},
		{name: "optimize", sql: "OPTIMIZE NO_WRITE_TO_BINLOG TABLE customers", kind: KindOther, skip: "OPTIMIZE"},
		{name: "event", sql: "CREATE DEFINER=root@localhost EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM customers", kind: KindOther, skip: "events are not migrated"},
		{name: "sequence", sql: "CREATE SEQUENCE s", kind: KindOther, skip: "sequences are not migrated"},
		{name: "rename user", sql: "RENAME USER a TO b", kind: KindOther, skip: "accounts"},
		{name: "statement-based insert", sql: "INSERT INTO customers VALUES (1)", kind: KindDML, skip: "binlog_format must be ROW"},
		{name: "begin", sql: "BEGIN", kind: KindOther, skip: "transaction"},
	})
}

// Statements as MariaDB 10.11 writes them in its binlog (SHOW BINLOG EVENTS).
func TestReplicateBinlogForms(t *testing.T) {
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "view", sql: "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` AS select id, total from `order` where total > 1",
			kind: KindCreateView, want: []string{"CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `shop_dst`.`v` AS SELECT `id`,`amount` AS `total` FROM `shop_dst`.`orders` WHERE `amount`>1"}},
		{name: "alter view", sql: "ALTER ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` AS select id from items",
			kind: KindAlterView, want: []string{"CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `shop_dst`.`v` AS SELECT `id` FROM `shop_dst`.`items`"}},
		{name: "procedure", sql: "CREATE DEFINER=`root`@`127.0.0.1` PROCEDURE `p`(x int)\nbegin select x; end",
			kind: KindCreateRoutine, want: []string{"CREATE PROCEDURE `shop_dst`.`p`(x int)\n    SQL SECURITY INVOKER\nbegin select x; end"}},
		{name: "trigger", sql: "CREATE DEFINER=`root`@`127.0.0.1` trigger trg before insert on items for each row set new.v = 1",
			kind: KindCreateTrigger, skip: "cut-over", deferred: "CREATE trigger `shop_dst`.`trg` before insert on `shop_dst`.`items` for each row set new.v = 1"},
		{name: "drop", sql: "DROP TABLE IF EXISTS `items`,`missing` /* generated by server */",
			kind: KindDropTable, want: []string{"DROP TABLE IF EXISTS `shop_dst`.`items`, `shop_dst`.`missing`"}},
		{name: "whole statement in an executable comment", sql: "/*!40000 ALTER TABLE `order` DISABLE KEYS */",
			kind: KindAlterTable, want: []string{"/*!40000 ALTER TABLE `shop_dst`.`orders` DISABLE KEYS */"}},
		{name: "create select as logged in ROW format", sql: "CREATE TABLE `cs` (\n  `x` int(1) NOT NULL,\n  `y` varchar(1) NOT NULL\n)",
			kind: KindCreateTable, want: []string{"CREATE TABLE `shop_dst`.`cs` (\n  `x` int(1) NOT NULL,\n  `y` varchar(1) NOT NULL\n)"}},
	})
}

// The gh-ost sequence (go/logic/applier.go's statements), atomic and two-step.
func TestReplicateGhost(t *testing.T) {
	ghc := "create /* gh-ost */ table `shop`.`_order_ghc` (\n\t\t\tid bigint unsigned auto_increment,\n\t\t\tlast_update timestamp not null DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n" +
		"\t\t\thint varchar(64) charset ascii not null,\n\t\t\tvalue varchar(4096) charset ascii not null,\n\t\t\tprimary key(id),\n\t\t\tunique key hint_uidx(hint)\n\t\t) auto_increment=256 comment='gh-ost changelog'"
	runReplCases(t, replScenario(), defaultGhost(t), []replCase{
		{name: "changelog", sql: ghc, kind: KindGhostTrash, skip: "gh-ost"},
		{name: "shadow", sql: "create /* gh-ost */ table `shop`.`_order_gho` like `shop`.`order`", kind: KindGhostShadow, ghost: "shop.order", skip: "shadow"},
		{name: "alter shadow", sql: "alter /* gh-ost */ table `shop`.`_order_gho` add column status int not null default 0, add index idx_status (status, total), drop column secret",
			kind: KindGhostAlter, ghost: "shop.order",
			want: []string{"alter /* gh-ost */ table `shop_dst`.`orders` add column status int not null default 0, add index idx_status (status, `amount`)"}},
		{name: "alter shadow auto_increment", sql: "alter /* gh-ost */ table `shop`.`_order_gho` AUTO_INCREMENT=1000",
			kind: KindGhostAlter, ghost: "shop.order", want: []string{"alter /* gh-ost */ table `shop_dst`.`orders` AUTO_INCREMENT=1000"}},
		{name: "alter shadow only excluded", sql: "alter /* gh-ost */ table `shop`.`_order_gho` modify secret text",
			kind: KindGhostAlter, ghost: "shop.order", skip: "excluded"},
		{name: "alter shadow on excluded", sql: "alter /* gh-ost */ table `shop`.`_order_gho` add index (secret)",
			deps: []string{"an unnamed index of table `shop`.`order`"}},
		{name: "index on shadow", sql: "CREATE INDEX ix ON _order_gho (total)", kind: KindGhostAlter, ghost: "shop.order",
			want: []string{"CREATE INDEX ix ON `shop_dst`.`orders` (`amount`)"}},
		{name: "trigger on shadow", sql: "create /* gh-ost */ trigger `t_gho` after insert on `shop`.`_order_gho` for each row set @x = 1",
			kind: KindGhostTrash, skip: "gh-ost"},
		{name: "sentry", sql: "\n\t\tcreate /* gh-ost */ table `shop`.`_order_del` (\n\t\t\tid int auto_increment primary key\n\t\t) engine=InnoDB comment='ghost-cut-over-sentry'",
			kind: KindGhostTrash, skip: "gh-ost"},
		{name: "drop sentry", sql: "drop /* gh-ost */ table if exists `shop`.`_order_del`", kind: KindGhostTrash, skip: "gh-ost"},
		{name: "cut-over", sql: "rename /* gh-ost */ table `shop`.`order` to `shop`.`_order_del`, `shop`.`_order_gho` to `shop`.`order`",
			kind: KindGhostCutover, ghost: "shop.order", skip: "cut-over",
			tables: []string{"shop.order", "shop._order_del", "shop._order_gho", "shop.order"}},
		{name: "timestamped old table", sql: "rename /* gh-ost */ table `shop`.`order` to `shop`.`_order_20180808165224_del`, `shop`.`_order_gho` to `shop`.`order`",
			kind: KindGhostCutover, ghost: "shop.order", skip: "cut-over"},
		{name: "drop changelog", sql: "drop /* gh-ost */ table if exists `shop`.`_order_ghc`", kind: KindGhostTrash, skip: "gh-ost"},
		{name: "two-step away", sql: "alter /* gh-ost */ table `shop`.`order` rename `_order_del`", kind: KindGhostRenameAway, ghost: "shop.order", skip: "renames away"},
		{name: "two-step in", sql: "alter /* gh-ost */ table `shop`.`_order_gho` rename `order`", kind: KindGhostCutover, ghost: "shop.order", skip: "cut-over"},
		{name: "revert", sql: "rename /* gh-ost */ table `shop`.`order` to `shop`.`_order_gho`, `shop`.`_order_del` to `shop`.`order`",
			kind: KindGhostRevert, ghost: "shop.order", skip: "puts back"},
		{name: "shadow of an unselected table", sql: "alter /* gh-ost */ table `shop`.`_skip_x_gho` add c int", kind: KindGhostAlter, skip: "not selected"},
		{name: "cut-over of an unselected table", sql: "rename table skip_x to _skip_x_del, _skip_x_gho to skip_x", kind: KindGhostCutover, skip: "not selected"},
		{name: "shadow renamed elsewhere", sql: "rename table _order_gho to order2", err: "instead of `shop`.`order`"},
		{name: "mixed with other renames", sql: "rename table items to items2, _order_gho to `order`", err: "renamed together with gh-ost's tables"},
		{name: "shadow rename with other clauses", sql: "alter table _order_gho add x int, rename `order`", err: "together with other changes"},
		{name: "drop mixing ghost and real", sql: "drop table _order_del, items", kind: KindDropTable, want: []string{"DROP TABLE IF EXISTS `shop_dst`.`items`"}},
		{name: "truncate trash", sql: "truncate _order_ghc", kind: KindGhostTrash, skip: "gh-ost"},
	})
	// Without gh-ost support the shadow table is an ordinary (selected) table.
	runReplCases(t, replScenario(), nil, []replCase{
		{name: "off: shadow", sql: "create /* gh-ost */ table `shop`.`_order_gho` like `shop`.`order`", kind: KindCreateTable,
			want: []string{"create /* gh-ost */ table `shop_dst`.`_order_gho` like `shop_dst`.`orders`"}, like: "shop.order"},
		{name: "off: cut-over", sql: "rename table `order` to _order_del, _order_gho to `order`", kind: KindRenameTable,
			want: []string{"RENAME TABLE `shop_dst`.`orders` TO `shop_dst`.`_order_del`, `shop_dst`.`_order_gho` TO `shop_dst`.`orders`"}},
	})
}

func TestGhostNames(t *testing.T) {
	g := defaultGhost(t)
	for name, want := range map[string]bool{
		"_t_gho": true, "_t_ghc": true, "_t_del": true, "_t_20240101_del": true, "t": false, "_t_gho2": false, "t_gho": false,
	} {
		if got := g.Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
	var off *GhostNames
	if off.Ignored("_t_gho") {
		t.Error("nil GhostNames ignores a table")
	}
	if _, err := CompileGhostNames(`^_.+_gho$`, `^x$`); err == nil || !strings.Contains(err.Error(), "capture group") {
		t.Errorf("no capture group: %v", err)
	}
	if _, err := CompileGhostNames(`^_(.+)_gho$`, `(`); err == nil {
		t.Error("invalid trash expression accepted")
	}
	// Custom names: the first group names the original table.
	custom, err := CompileGhostNames(`^(.+)__shadow$`, `^(.+)__(?:old|log)$`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReplicateDDL("shop", "ALTER TABLE customers__shadow ADD KEY (name)", replScenario(), custom)
	if err != nil || got.Kind != KindGhostAlter || refKey(got.GhostTable) != "shop.customers" ||
		strings.Join(got.Statements, "") != "ALTER TABLE `shop_dst`.`clients` ADD KEY (`full_name`)" {
		t.Errorf("custom shadow: %+v, %v", got, err)
	}
}

// Errors and Skip reasons never quote the statement: it may hold a password.
func TestReplicateNoStatementInMessages(t *testing.T) {
	for _, q := range []string{
		"CREATE USER 'u'@'%' IDENTIFIED BY 'hunter2'",
		"ALTER USER 'u'@'%' IDENTIFIED BY 'hunter2'",
		"GRANT ALL ON *.* TO 'u'@'%' IDENTIFIED BY 'hunter2'",
		"SET PASSWORD = PASSWORD('hunter2')",
		"CHANGE MASTER TO MASTER_PASSWORD='hunter2'",
		"CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PASSWORD 'hunter2')",
		"CREATE TABLE newt (id int) ENGINE=CONNECT CONNECTION='mysql://u:hunter2@h/db/t' AS SELECT 1",
		"INSERT INTO customers VALUES ('hunter2')",
		"CREATE TABLE t ('hunter2",
	} {
		got, err := ReplicateDDL("shop", q, replScenario(), nil)
		msg := got.Skip
		if err != nil {
			msg += err.Error()
		}
		if msg == "" || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: message %q", q, msg)
		}
	}
}

// For SHOW CREATE TABLE input, CREATE TABLE replication and RewriteTable must agree
// (the captured schema and its reviewed rewrite are the reference).
func TestReplicateCreateAgreesWithRewriteTable(t *testing.T) {
	type scenario struct {
		name string
		n    *testNames
	}
	for _, sc := range []scenario{{"identity", identity}, {"renames", renames()}} {
		sel := &allSelected{sc.n}
		compared := 0
		for _, o := range parseObjects(t, readGolden(t, goldenSource)) {
			if o.Kind != "table" {
				continue
			}
			want, werr := RewriteTable(o.Database, o.Name, o.SQL, sc.n)
			got, gerr := ReplicateDDL(o.Database, o.SQL, sel, nil)
			if (werr == nil) != (gerr == nil) {
				t.Errorf("%s %s: RewriteTable error %v, ReplicateDDL error %v", sc.name, o.header(), werr, gerr)
				continue
			}
			if werr != nil {
				continue
			}
			compared++
			if got.Kind != KindCreateTable || len(got.Statements) != 1 || got.Statements[0] != want {
				t.Errorf("%s %s:\n%s", sc.name, o.header(), lineDiff(want, strings.Join(got.Statements, "\n;\n")))
			}
		}
		if compared < 15 {
			t.Errorf("%s: only %d tables compared", sc.name, compared)
		}
	}
	// Dependency errors name the same dependents.
	for _, c := range []struct{ table, excluded string }{
		{"customers", "ddl_shop.customers.name"},
		{"order", "ddl_shop.order.total"},
		{"customers", "ddl_ref.country.code"},
		{"my-table", "ddl_shop.my-table.order_placed"},
		{"events_log", "ddl_shop.events_log.created"},
		{"app_period", "ddl_shop.app_period.date_to"},
		{"all_types", "ddl_shop.all_types.i"},
	} {
		n := &testNames{excluded: map[string]bool{c.excluded: true}}
		sql := sourceOf(t, "table", "ddl_shop", c.table)
		_, werr := RewriteTable("ddl_shop", c.table, sql, n)
		_, gerr := ReplicateDDL("ddl_shop", sql, &allSelected{n}, nil)
		var want, got []string
		for _, d := range DependencyErrors(werr) {
			want = append(want, d.Dependent)
		}
		for _, d := range DependencyErrors(gerr) {
			got = append(got, d.Dependent)
		}
		if len(want) == 0 || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s without %s: dependents %q, RewriteTable's %q", c.table, c.excluded, got, want)
		}
	}
}

// allSelected selects every table, with testNames' names.
type allSelected struct{ *testNames }

func (allSelected) Selects(db, table string) bool          { return true }
func (allSelected) SelectsDatabase(db string) (bool, bool) { return true, true }

func TestReplicateMalformed(t *testing.T) {
	for _, q := range []string{"", "  ;", "ALTER TABLE `x", "CREATE TABLE t (id int", "RENAME TABLE a", "ALTER TABLE"} {
		if got, err := ReplicateDDL("shop", q, replScenario(), nil); err == nil {
			t.Errorf("%q: no error, got %+v", q, got)
		}
	}
	var de *DependencyError
	_, err := ReplicateDDL("shop", "ALTER TABLE `order` ADD KEY (secret)", replScenario(), nil)
	if !errors.As(err, &de) || de.Column != "secret" || de.Table != "order" {
		t.Errorf("dependency error not reachable with errors.As: %v", err)
	}
}
