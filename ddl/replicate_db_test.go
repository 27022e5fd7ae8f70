package ddl

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

// TestReplicateRoundTrip runs DDL on the source server (default database
// rdl_src), replicates each statement with ReplicateDDL onto the destination
// (rdl_dst, renamed tables and columns, an excluded column, an unselected table,
// a gh-ost run in both cut-over styles), as the applier would: Statements run
// at once, GhostAlter statements saved until GhostCutover. At the end every
// selected source table, rewritten by RewriteTable from the source's own SHOW
// CREATE TABLE, must be exactly what the destination shows; the view and the
// procedure must work there; unselected and gh-ost tables must not exist there.
func TestReplicateRoundTrip(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src, dst := env.Source, env.Destination
	if err := src.Exec(ctx, "DROP DATABASE IF EXISTS rdl_src", "CREATE DATABASE rdl_src"); err != nil {
		t.Fatal(err)
	}
	if err := dst.Exec(ctx, "DROP DATABASE IF EXISTS rdl_dst", "CREATE DATABASE rdl_dst"); err != nil {
		t.Fatal(err)
	}
	sel := &replSel{
		testNames: &testNames{
			dbs:      map[string]string{"rdl_src": "rdl_dst"},
			tables:   map[string]string{"rdl_src.order": "orders", "rdl_src.名前": "名"},
			cols:     map[string]string{"rdl_src.order.total": "amount", "rdl_src.order.note": "memo", "rdl_src.order.select": "from"},
			excluded: map[string]bool{"rdl_src.order.secret": true},
		},
		known:   map[string]bool{"rdl_src.order": true, "rdl_src.名前": true},
		globs:   []string{"rdl_src.*"},
		exclude: []string{"rdl_src.skip_*"},
		all:     map[string]bool{"rdl_src": true},
	}
	ghost := defaultGhost(t)

	srcDB, err := src.Open("rdl_src")
	if err != nil {
		t.Fatal(err)
	}
	defer srcDB.Close()
	saved := map[TableRef][]string{} // gh-ost ALTERs waiting for their cut-over
	steps := []string{
		"CREATE TABLE `order` (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, total decimal(10,2) NOT NULL DEFAULT 0, " +
			"secret varchar(20), note text, `select` int, KEY k_total (total), CONSTRAINT chk_total CHECK (total >= 0)) ENGINE=InnoDB",
		"CREATE TABLE customers (id int PRIMARY KEY, name varchar(50), `my-col` int)",
		"CREATE TABLE cats (id int PRIMARY KEY, label varchar(20))",
		"CREATE TABLE skip_log (id int)",
		"ALTER TABLE skip_log ADD COLUMN msg text",
		"/* app */ ALTER TABLE `order` ADD COLUMN qty int NOT NULL DEFAULT 1 AFTER total, ADD COLUMN cat int, " +
			"ADD INDEX k_qty (qty, total), MODIFY secret varchar(40), ADD INDEX k_sel (`select`)",
		"ALTER TABLE `order` ADD COLUMN doubled decimal(12,2) AS (total * 2) VIRTUAL, CHANGE note note mediumtext, DROP COLUMN secret",
		"ALTER TABLE `order` ADD COLUMN secret int AFTER id, ADD COLUMN after_secret int AFTER qty",
		"CREATE UNIQUE INDEX ux ON customers (name(20))",
		"DROP INDEX ux ON customers",
		"CREATE TABLE `名前` LIKE customers",
		"CREATE TABLE items (id int PRIMARY KEY, cat int, qty int CHECK (qty > 0), KEY (cat), CONSTRAINT fk_cat FOREIGN KEY (cat) REFERENCES cats (id))",
		"RENAME TABLE `名前` TO `名前2`, customers TO clients",
		"TRUNCATE TABLE `名前2`",
		"CREATE VIEW v_orders AS SELECT o.id, o.total, o.note, c.label FROM `order` o JOIN cats c ON c.id = o.cat",
		"CREATE DEFINER=CURRENT_USER PROCEDURE p_count() SELECT COUNT(*) FROM `order`",
		// gh-ost, atomic cut-over.
		"create /* gh-ost */ table `rdl_src`.`_order_ghc` (id bigint unsigned auto_increment, last_update timestamp not null DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, " +
			"hint varchar(64) charset ascii not null, value varchar(4096) charset ascii not null, primary key(id), unique key hint_uidx(hint)) auto_increment=256 comment='gh-ost changelog'",
		"create /* gh-ost */ table `rdl_src`.`_order_gho` like `rdl_src`.`order`",
		"alter /* gh-ost */ table `rdl_src`.`_order_gho` add column status tinyint not null default 0, add index k_status (status, total), modify secret bigint",
		"create /* gh-ost */ table `rdl_src`.`_order_del` (id int auto_increment primary key) engine=InnoDB comment='ghost-cut-over-sentry'",
		"drop /* gh-ost */ table if exists `rdl_src`.`_order_del`",
		"rename /* gh-ost */ table `rdl_src`.`order` to `rdl_src`.`_order_del`, `rdl_src`.`_order_gho` to `rdl_src`.`order`",
		"drop /* gh-ost */ table if exists `rdl_src`.`_order_ghc`",
		"drop /* gh-ost */ table if exists `rdl_src`.`_order_del`",
		// gh-ost, two-step cut-over.
		"create /* gh-ost */ table `rdl_src`.`_clients_gho` like `rdl_src`.`clients`",
		"alter /* gh-ost */ table `rdl_src`.`_clients_gho` add column email varchar(100), drop column `my-col`",
		"alter /* gh-ost */ table `rdl_src`.`clients` rename `_clients_del`",
		"alter /* gh-ost */ table `rdl_src`.`_clients_gho` rename `clients`",
		"drop /* gh-ost */ table if exists `rdl_src`.`_clients_del`",
		"DROP TABLE skip_log, `名前2`",
	}
	for _, q := range steps {
		if _, err := srcDB.ExecContext(ctx, q); err != nil {
			t.Fatalf("source: %s: %v", q, err)
		}
		got, err := ReplicateDDL("rdl_src", q, sel, ghost)
		if err != nil {
			t.Fatalf("replicate %s: %v", q, err)
		}
		run := got.Statements
		switch got.Kind {
		case KindGhostShadow, KindGhostRevert:
			if got.GhostTable != nil {
				delete(saved, *got.GhostTable)
			}
		case KindGhostAlter:
			if got.GhostTable != nil {
				saved[*got.GhostTable] = append(saved[*got.GhostTable], got.Statements...)
			}
			run = nil
		case KindGhostCutover:
			if got.GhostTable == nil {
				t.Fatalf("%s: cut-over of a selected table without GhostTable", q)
			}
			run = saved[*got.GhostTable]
			if len(run) == 0 {
				t.Fatalf("%s: cut-over with no saved ALTER", q)
			}
			delete(saved, *got.GhostTable)
		}
		for _, out := range run {
			if err := dst.Exec(ctx, out); err != nil {
				t.Fatalf("destination: %s\n(from %s): %v", out, q, err)
			}
		}
	}
	if len(saved) != 0 {
		t.Errorf("gh-ost ALTERs never applied: %v", saved)
	}

	dstDB, err := dst.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dstDB.Close()
	names := replNames{&repl{sel: sel, ghost: ghost}}
	var want []string
	for _, table := range baseTables(t, ctx, srcDB, "rdl_src") {
		d, dt, ok := names.Table("rdl_src", table)
		if !ok {
			continue
		}
		want = append(want, dt)
		rewritten, err := RewriteTable("rdl_src", table, testenv.ShowCreate(t, srcDB, "SHOW CREATE TABLE `rdl_src`."+sqltok.Quote(table)), names)
		if err != nil {
			t.Fatalf("rewrite %s: %v", table, err)
		}
		rewritten = strings.Replace(rewritten, "CREATE TABLE "+qualify(d, dt), "CREATE TABLE "+sqltok.Quote(dt), 1)
		rewritten = strings.ReplaceAll(rewritten, "REFERENCES "+sqltok.Quote(d)+".", "REFERENCES ")
		got := testenv.ShowCreate(t, dstDB, "SHOW CREATE TABLE "+qualify(d, dt))
		if got != rewritten {
			t.Errorf("%s: destination differs from the rewritten source:\n%s", table, lineDiff(rewritten, got))
		}
	}
	sort.Strings(want)
	if got := strings.Join(baseTables(t, ctx, dstDB, "rdl_dst"), ","); got != strings.Join(want, ",") {
		t.Errorf("destination tables %s, want %s", got, strings.Join(want, ","))
	}
	if strings.Join(want, ",") != "cats,clients,items,orders" {
		t.Errorf("selected source tables %v: the scenario did not run as intended", want)
	}
	for _, q := range []string{
		"SELECT id, total, note, label FROM `rdl_dst`.`v_orders`",
		"CALL `rdl_dst`.`p_count`()",
	} {
		if err := dst.Exec(ctx, q); err != nil {
			t.Errorf("destination: %v", err)
		}
	}
}

// baseTables lists the base tables of db, sorted.
func baseTables(t *testing.T, ctx context.Context, db *sql.DB, schema string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", schema)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
