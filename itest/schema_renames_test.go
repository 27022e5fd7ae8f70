package itest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/testenv"
)

// These tests run the schema phase through the CLI, the embedded Temporal server and
// the real worker, and compare the destination against expectations written out by
// hand here: never against anything the code under test computed.

// renameFile is a workflow file of type schema with the given objects: and options:
// blocks (each already indented as YAML list items / mapping entries).
func renameFile(env *testenv.Env, name, objects, options string) string {
	body := fmt.Sprintf(`name: %s
source: {host: %s, port: %d, user: %s, password: "${IT_SRC_PASSWORD}"}
destination: {host: %s, port: %d, user: %s, password: "${IT_DST_PASSWORD}"}
types: [schema]
objects:
%s`, name, env.Source.Host, env.Source.Port, env.Source.RootUser,
		env.Destination.Host, env.Destination.Port, env.Destination.RootUser, objects)
	if options != "" {
		body += "options:\n" + options
	}
	return body
}

// runSchema starts the workflow with --follow and fails the test unless the schema
// phase ran and the workflow succeeded.
func runSchema(t *testing.T, s *stack, name, body string) {
	t.Helper()
	code, out, _ := s.sluice(t, "start", "-f", writeFile(t, name, body), "--follow")
	if code != 0 || !strings.Contains(out, "schema:") {
		t.Fatalf("sluice start %s: exit %d, want 0 and a schema phase", name, code)
	}
}

// renameSetup gives the worker its secrets, creates the source objects (each string
// may hold several statements) and drops the named databases and accounts on both
// servers before and after the test.
func renameSetup(t *testing.T, env *testenv.Env, s *stack, dbs, accounts []string, source ...string) {
	t.Helper()
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	var drop []string
	for _, db := range dbs {
		drop = append(drop, "DROP DATABASE IF EXISTS "+testenv.QuoteIdent(db))
	}
	for _, a := range accounts {
		drop = append(drop, "DROP USER IF EXISTS "+a)
	}
	clean := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return errors.Join(env.Source.Exec(ctx, drop...), env.Destination.Exec(ctx, drop...))
	}
	if err := clean(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := clean(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Source.Exec(ctx, source...); err != nil {
		t.Fatal(err)
	}
}

func openDB(t *testing.T, srv *testenv.Server) *sql.DB {
	t.Helper()
	db, err := srv.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// normTable drops the AUTO_INCREMENT counter and collapses whitespace: the only ways
// a migrated table may differ from its expected text.
func normTable(s string) string {
	var kept []string
	for _, f := range strings.Fields(s) {
		if !strings.HasPrefix(f, "AUTO_INCREMENT=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

// strings1 runs a query returning one string column per row and sorts the answers.
func strings1(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// snapshot is every SHOW CREATE text of a destination database (tables, views,
// routines, triggers), keyed by kind and name, read from the server as printed.
func snapshot(t *testing.T, db *sql.DB, schema string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range listObjects(t, db, schema) {
		out[o.kind+" "+o.name] = testenv.ShowCreate(t, db, o.show())
	}
	if len(out) == 0 {
		t.Fatalf("nothing in %s to compare", schema)
	}
	return out
}

func sameSnapshots(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("object count changed: %d before, %d after\n%v\n%v", len(before), len(after), keys(before), keys(after))
	}
	for k, b := range before {
		if a, ok := after[k]; !ok {
			t.Errorf("%s is gone after the second run", k)
		} else if a != b {
			t.Errorf("%s changed on the second run:\nbefore: %s\nafter:  %s", k, b, a)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// mysqlErr fails unless err is a server error with the given number.
func mysqlErr(t *testing.T, what string, err error, number uint16) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != number {
		t.Errorf("%s: got %v, want server error %d", what, err, number)
	}
}

// Table and column renames, excluded columns, a CHECK, a generated column and
// indexes over renamed columns, and foreign keys between renamed tables (onto a
// renamed column too), in a renamed database.
func TestSchemaRenamesTablesColumnsAndForeignKeys(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	const src, dst = "itr_rn_src", "itr rn-dst"
	renameSetup(t, env, s, []string{src, dst}, nil,
		"CREATE DATABASE itr_rn_src CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"USE itr_rn_src; CREATE TABLE `order-items` (\n"+
			" id INT NOT NULL AUTO_INCREMENT,\n"+
			" `Sku` VARCHAR(20) NOT NULL,\n"+
			" qty INT NOT NULL,\n"+
			" price DECIMAL(10,2) NOT NULL,\n"+
			" total DECIMAL(12,2) AS (qty * price) STORED,\n"+
			" scratch TEXT,\n"+
			" PRIMARY KEY (id),\n"+
			" UNIQUE KEY uk_sku (`Sku`),\n"+
			" KEY idx_total (total),\n"+
			" KEY idx_qty (qty),\n"+
			" CONSTRAINT chk_qty CHECK (qty > 0)\n"+
			") ENGINE=InnoDB COMMENT='parent'",
		"USE itr_rn_src; CREATE TABLE `item-notes` (\n"+
			" id INT NOT NULL PRIMARY KEY,\n"+
			" item_id INT NOT NULL,\n"+
			" sku VARCHAR(20),\n"+
			" note VARCHAR(100) DEFAULT 'none',\n"+
			" legacy INT,\n"+
			" KEY idx_item (item_id),\n"+
			" CONSTRAINT fk_item FOREIGN KEY (item_id) REFERENCES `order-items` (id),\n"+
			" CONSTRAINT fk_sku FOREIGN KEY (sku) REFERENCES `order-items` (`Sku`)\n"+
			") ENGINE=InnoDB",
		"USE itr_rn_src; CREATE TABLE shipments (\n"+
			" id INT NOT NULL PRIMARY KEY,\n"+
			" item_id INT NOT NULL,\n"+
			" shipped_qty INT NOT NULL,\n"+
			" CONSTRAINT fk_ship_item FOREIGN KEY (item_id) REFERENCES `order-items` (id)\n"+
			") ENGINE=InnoDB",
		// Rows on the source move its AUTO_INCREMENT counter (normalised away below).
		"INSERT INTO itr_rn_src.`order-items` (`Sku`, qty, price) VALUES ('S-1', 1, 1.00), ('S-2', 2, 2.00)",
	)
	objects := `  - database: itr_rn_src
    to: "itr rn-dst"
    tables:
      - name: order-items
        to: line-items v2
        columns: {Sku: sku_code, qty: Quantity}
        exclude_columns: [scratch]
      - name: item-notes
        to: line_item_notes
        columns: {item_id: line_item_id}
        exclude_columns: [legacy]
      - shipments
`
	runSchema(t, s, "itr-renames", renameFile(env, "itr-renames", objects, ""))

	// Written by hand from the source definitions above, as MariaDB prints them.
	want := map[string]string{
		"line-items v2": "CREATE TABLE `line-items v2` (\n" +
			"  `id` int(11) NOT NULL AUTO_INCREMENT,\n" +
			"  `sku_code` varchar(20) NOT NULL,\n" +
			"  `Quantity` int(11) NOT NULL,\n" +
			"  `price` decimal(10,2) NOT NULL,\n" +
			"  `total` decimal(12,2) GENERATED ALWAYS AS (`Quantity` * `price`) STORED,\n" +
			"  PRIMARY KEY (`id`),\n" +
			"  UNIQUE KEY `uk_sku` (`sku_code`),\n" +
			"  KEY `idx_total` (`total`),\n" +
			"  KEY `idx_qty` (`Quantity`),\n" +
			"  CONSTRAINT `chk_qty` CHECK (`Quantity` > 0)\n" +
			") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='parent'",
		"line_item_notes": "CREATE TABLE `line_item_notes` (\n" +
			"  `id` int(11) NOT NULL,\n" +
			"  `line_item_id` int(11) NOT NULL,\n" +
			"  `sku` varchar(20) DEFAULT NULL,\n" +
			"  `note` varchar(100) DEFAULT 'none',\n" +
			"  PRIMARY KEY (`id`),\n" +
			"  KEY `idx_item` (`line_item_id`),\n" +
			"  KEY `fk_sku` (`sku`),\n" +
			"  CONSTRAINT `fk_item` FOREIGN KEY (`line_item_id`) REFERENCES `line-items v2` (`id`),\n" +
			"  CONSTRAINT `fk_sku` FOREIGN KEY (`sku`) REFERENCES `line-items v2` (`sku_code`)\n" +
			") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
		"shipments": "CREATE TABLE `shipments` (\n" +
			"  `id` int(11) NOT NULL,\n" +
			"  `item_id` int(11) NOT NULL,\n" +
			"  `shipped_qty` int(11) NOT NULL,\n" +
			"  PRIMARY KEY (`id`),\n" +
			"  KEY `fk_ship_item` (`item_id`),\n" +
			"  CONSTRAINT `fk_ship_item` FOREIGN KEY (`item_id`) REFERENCES `line-items v2` (`id`)\n" +
			") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
	}
	d := openDB(t, env.Destination)
	if got := strings1(t, d, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?)", src, dst); strings.Join(got, "|") != dst {
		t.Fatalf("destination databases %q, want only %q", got, dst)
	}
	if got := strings1(t, d, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", dst); strings.Join(got, "|") != "line-items v2|line_item_notes|shipments" {
		t.Fatalf("destination tables %q", got)
	}
	for name, w := range want {
		got := testenv.ShowCreate(t, d, "SHOW CREATE TABLE "+testenv.QuoteIdent(dst)+"."+testenv.QuoteIdent(name))
		if normTable(got) != normTable(w) {
			t.Errorf("table %s:\ngot:  %s\nwant: %s", name, got, w)
		}
	}

	// The constraints work on the destination, with foreign-key checks on (the
	// session default).
	qt := func(table string) string { return testenv.QuoteIdent(dst) + "." + testenv.QuoteIdent(table) }
	_, err := d.Exec("INSERT INTO " + qt("line_item_notes") + " (id, line_item_id) VALUES (1, 999)")
	mysqlErr(t, "child row without a parent", err, 1452)
	_, err = d.Exec("INSERT INTO " + qt("line-items v2") + " (sku_code, Quantity, price) VALUES ('X-1', 0, 1.00)")
	mysqlErr(t, "CHECK on the renamed column", err, 4025)
	res, err := d.Exec("INSERT INTO " + qt("line-items v2") + " (sku_code, Quantity, price) VALUES ('X-1', 3, 2.50)")
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := res.LastInsertId()
	var total string
	if err := d.QueryRow("SELECT total FROM "+qt("line-items v2")+" WHERE id = ?", parent).Scan(&total); err != nil || total != "7.50" {
		t.Errorf("generated column over the renamed column: %q %v, want 7.50", total, err)
	}
	_, err = d.Exec("INSERT INTO "+qt("line_item_notes")+" (id, line_item_id, sku) VALUES (1, ?, 'no-such-sku')", parent)
	mysqlErr(t, "child row referencing a missing renamed parent column value", err, 1452)
	if _, err := d.Exec("INSERT INTO "+qt("line_item_notes")+" (id, line_item_id, sku) VALUES (1, ?, 'X-1')", parent); err != nil {
		t.Fatalf("child row with its parent: %v", err)
	}
	_, err = d.Exec("INSERT INTO " + qt("shipments") + " (id, item_id, shipped_qty) VALUES (1, 999, 1)")
	mysqlErr(t, "unrenamed child of a renamed parent", err, 1452)
	_, err = d.Exec("DELETE FROM "+qt("line-items v2")+" WHERE id = ?", parent)
	mysqlErr(t, "deleting a referenced parent", err, 1451)

	// Idempotent: the same workflow again with conflicts: ignore changes nothing.
	before := snapshot(t, d, dst)
	runSchema(t, s, "itr-renames", renameFile(env, "itr-renames", objects, "  conflicts: ignore\n"))
	sameSnapshots(t, before, snapshot(t, d, dst))
}

// Names that need quoting (space, backtick, hyphen, unicode, mixed case) for every
// kind of object, including the account, survive the migration and work.
func TestSchemaQuotedNamesForEveryObjectKind(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	const (
		src     = "itr_q-Dé"
		dst     = "itr_q-Dé v2"
		table   = "Tab le"
		view    = "My view-ü"
		proc    = "P-1 `x"
		fn      = "Fünf"
		trigger = "Trg`x y"
		user    = "itr App user-ü`"
		pw      = "Itr-Quote-Pw-5521"
	)
	qi := testenv.QuoteIdent
	account := testenv.QuoteString(user) + "@'%'"
	renameSetup(t, env, s, []string{src, dst}, []string{account},
		"CREATE DATABASE "+qi(src),
		"USE "+qi(src)+"; CREATE TABLE "+qi(table)+" (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, log VARCHAR(50)) ENGINE=InnoDB",
		"USE "+qi(src)+"; CREATE VIEW "+qi(view)+" AS SELECT id, v, log FROM "+qi(table),
		"USE "+qi(src)+"; CREATE PROCEDURE "+qi(proc)+"(IN x INT) BEGIN INSERT INTO "+qi(table)+" (id, v) VALUES (x, x * 2); END",
		"USE "+qi(src)+"; CREATE FUNCTION "+qi(fn)+"(x INT) RETURNS INT DETERMINISTIC RETURN x * 5",
		"USE "+qi(src)+"; CREATE TRIGGER "+qi(trigger)+" BEFORE INSERT ON "+qi(table)+" FOR EACH ROW SET NEW.log = CONCAT('fired ', NEW.v)",
		"CREATE USER "+account+" IDENTIFIED BY "+testenv.QuoteString(pw),
		"GRANT SELECT, INSERT, EXECUTE ON "+qi(src)+".* TO "+account,
	)
	objects := fmt.Sprintf("  - database: %q\n    to: %q\n    tables: [\"*\"]\n", src, dst)
	runSchema(t, s, "itr-quoting", renameFile(env, "itr-quoting", objects, "  accounts: true\n"))

	d := openDB(t, env.Destination)
	// Exact names from information_schema, compared in Go (the server's own
	// comparisons there are case-insensitive).
	check := func(what string, got []string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%s on the destination: %q, want %q", what, got, want)
		}
	}
	check("tables", strings1(t, d, "SELECT CONCAT(TABLE_TYPE, ':', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", dst),
		"BASE TABLE:"+table, "VIEW:"+view)
	check("routines", strings1(t, d, "SELECT CONCAT(ROUTINE_TYPE, ':', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?", dst),
		"PROCEDURE:"+proc, "FUNCTION:"+fn)
	check("triggers", strings1(t, d, "SELECT CONCAT(TRIGGER_NAME, ' ON ', EVENT_OBJECT_TABLE) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?", dst),
		trigger+" ON "+table)
	check("accounts", strings1(t, d, "SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User LIKE 'itr%'"), user+"@%")
	check("source database", strings1(t, d, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", src))
	grants := strings.Join(showGrants(t, d, account), "\n")
	if wantGrant := "GRANT SELECT, INSERT, EXECUTE ON `itr_q-Dé v2`.* TO `itr App user-ü```@`%`"; !strings.Contains(grants, wantGrant) {
		t.Errorf("grants of the account on the destination:\n%s\nwant %s", grants, wantGrant)
	}

	// Everything works, run by the migrated account logging in with its password.
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, pw, "tcp"
	cfg.Addr = fmt.Sprintf("%s:%d", env.Destination.Host, env.Destination.Port)
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := sql.OpenDB(conn)
	defer app.Close()
	if err := app.Ping(); err != nil {
		t.Fatalf("the migrated account cannot log in: %v", err)
	}
	if _, err := app.Exec("CALL " + qi(dst) + "." + qi(proc) + "(7)"); err != nil {
		t.Fatalf("call the procedure: %v", err)
	}
	var five int
	if err := app.QueryRow("SELECT " + qi(dst) + "." + qi(fn) + "(3)").Scan(&five); err != nil || five != 15 {
		t.Errorf("function(3) = %d, %v; want 15", five, err)
	}
	var id, v int
	var log sql.NullString
	if err := app.QueryRow("SELECT id, v, log FROM "+qi(dst)+"."+qi(view)).Scan(&id, &v, &log); err != nil || id != 7 || v != 14 || log.String != "fired 14" {
		t.Errorf("view after the procedure and the trigger: %d %d %q %v; want 7 14 \"fired 14\"", id, v, log.String, err)
	}

	// Idempotent: the same workflow again with conflicts: ignore changes no definition.
	before := snapshot(t, d, dst)
	runSchema(t, s, "itr-quoting", renameFile(env, "itr-quoting", objects, "  accounts: true\n  conflicts: ignore\n"))
	sameSnapshots(t, before, snapshot(t, d, dst))
	check("accounts after the second run", strings1(t, d, "SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User LIKE 'itr%'"), user+"@%")
}

// options.case lower and upper fold database, table and column names.
func TestSchemaCasePolicies(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	for _, tc := range []struct {
		policy, src, dst, table, id, col string
	}{
		{"lower", "itr_MixedDB_L", "itr_mixeddb_l", "mixedtable", "id", "mixedcol"},
		{"upper", "itr_MixedDB_U", "ITR_MIXEDDB_U", "MIXEDTABLE", "ID", "MIXEDCOL"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			qi := testenv.QuoteIdent
			renameSetup(t, env, s, []string{tc.src, tc.dst}, nil,
				"CREATE DATABASE "+qi(tc.src)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
				// The index name has no letters, so it reads the same whether or not
				// the policy applies to index names.
				"CREATE TABLE "+qi(tc.src)+".`MixedTable` (`Id` INT NOT NULL PRIMARY KEY, `MixedCol` VARCHAR(10), KEY `_1` (`MixedCol`)) ENGINE=InnoDB")
			name := "itr-case-" + tc.policy
			runSchema(t, s, name, renameFile(env, name, fmt.Sprintf("  - database: %s\n    tables: [\"*\"]\n", tc.src), "  case: "+tc.policy+"\n"))

			d := openDB(t, env.Destination)
			if got := strings1(t, d, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LOWER(SCHEMA_NAME) = LOWER(?)", tc.src); strings.Join(got, "|") != tc.dst {
				t.Fatalf("destination databases %q, want %q", got, tc.dst)
			}
			if got := strings1(t, d, "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?", tc.dst); strings.Join(got, "|") != tc.table+"."+tc.id+"|"+tc.table+"."+tc.col {
				t.Errorf("destination columns %q, want %s.%s and %s.%s", got, tc.table, tc.id, tc.table, tc.col)
			}
			want := fmt.Sprintf("CREATE TABLE `%s` (\n"+
				"  `%s` int(11) NOT NULL,\n"+
				"  `%s` varchar(10) DEFAULT NULL,\n"+
				"  PRIMARY KEY (`%s`),\n"+
				"  KEY `_1` (`%s`)\n"+
				") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", tc.table, tc.id, tc.col, tc.id, tc.col)
			if got := testenv.ShowCreate(t, d, "SHOW CREATE TABLE "+qi(tc.dst)+"."+qi(tc.table)); normTable(got) != normTable(want) {
				t.Errorf("got:  %s\nwant: %s", got, want)
			}
		})
	}
}

// A database arrives with the source's default character set and collation, renamed
// or not.
func TestSchemaDatabaseCharsetAndCollation(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	renameSetup(t, env, s, []string{"itr_cs_latin", "itr_cs_cyr", "itr_cs_cyr_v2"}, nil,
		"CREATE DATABASE itr_cs_latin CHARACTER SET latin1 COLLATE latin1_german1_ci",
		"CREATE TABLE itr_cs_latin.t (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB",
		"CREATE DATABASE itr_cs_cyr CHARACTER SET cp1251 COLLATE cp1251_bulgarian_ci",
		"CREATE TABLE itr_cs_cyr.t (id INT NOT NULL PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB")
	objects := "  - database: itr_cs_latin\n    tables: [\"*\"]\n  - database: itr_cs_cyr\n    to: itr_cs_cyr_v2\n    tables: [\"*\"]\n"
	runSchema(t, s, "itr-charset", renameFile(env, "itr-charset", objects, ""))

	d := openDB(t, env.Destination)
	got := strings1(t, d, `SELECT CONCAT(SCHEMA_NAME, ' ', DEFAULT_CHARACTER_SET_NAME, ' ', DEFAULT_COLLATION_NAME)
		FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'itr\_cs\_%'`)
	if want := "itr_cs_cyr_v2 cp1251 cp1251_bulgarian_ci|itr_cs_latin latin1 latin1_german1_ci"; strings.Join(got, "|") != want {
		t.Errorf("destination databases %q, want %q", got, want)
	}
	got = strings1(t, d, `SELECT CONCAT(TABLE_SCHEMA, ' ', TABLE_COLLATION) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'itr\_cs\_%'`)
	if want := "itr_cs_cyr_v2 cp1251_bulgarian_ci|itr_cs_latin latin1_german1_ci"; strings.Join(got, "|") != want {
		t.Errorf("destination tables %q, want %q", got, want)
	}
}
