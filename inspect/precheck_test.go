package inspect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

// A clean migration as root: every item applies and passes.
func TestAllPass(t *testing.T) {
	h := newHarness(t)
	db := uniq("my-db")
	h.database(h.env.Source, db,
		tbl(pkTable, "orders"),
		tbl(pkTable, "order"),
		tbl("CREATE TABLE %s (code CHAR(3) NOT NULL, UNIQUE KEY (code)) ENGINE=InnoDB", "Ünïcødé_表"),
		"CREATE VIEW v AS SELECT id FROM `orders`",
		"INSERT INTO `orders` VALUES (1, 'a'), (2, 'b')")
	// A filter and a transform make the expressions item apply too.
	s := h.spec(spec.Object{Database: db, To: db + "_v2", Tables: []spec.Table{{Name: "*"},
		{Name: "orders", Filter: "row.id > 0", Transform: map[string]string{"name": "row.name.orValue(\"\").upperAscii()"}}}})
	s.Options.Accounts = true
	r := h.run(s)
	for _, it := range r.Items {
		if it.Status != precheck.Pass {
			t.Errorf("%s: %s: %s (remedy %q)", it.ID, it.Status, it.Message, it.Remedy)
		}
	}
	// Every item but source.binlog_start, which needs types: [incremental] with a
	// start position (TestBinlogStart).
	if got, want := len(r.Items), len(precheck.AllIDs())-1; got != want {
		t.Errorf("%d items, want all %d", got, want)
	}
	absent(t, r, precheck.IDBinlogStart)
	expect(t, r, precheck.IDSourceConnect, precheck.Pass, []string{"over TLS", "MariaDB 10."})
	expect(t, r, precheck.IDDestinationConnect, precheck.Pass, []string{"without TLS"})
	expect(t, r, precheck.IDObjectsExist, precheck.Pass, []string{"3 tables selected in 1 database"})
	expect(t, r, precheck.IDBinlogRetention, precheck.Pass, []string{"never purged"})
	expect(t, r, precheck.IDETLExpressions, precheck.Pass, []string{"2 filter and transform expressions on 1 table type-check"})
	if r.SuccessRate() != 100 {
		t.Errorf("success rate %v", r.SuccessRate())
	}
}

// Only the items of the chosen types run.
func TestItemsFollowTypes(t *testing.T) {
	h := newHarness(t)
	db := uniq("types")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	s.Types = []spec.MigrationType{spec.TypeSchema}
	r := h.run(s)
	absent(t, r, precheck.IDLogBin, precheck.IDBinlogFormat, precheck.IDBinlogRowImage, precheck.IDBinlogRowMetadata,
		precheck.IDBinlogRowValueOptions, precheck.IDBinlogRetention, precheck.IDServerID, precheck.IDLogSlaveUpdates,
		precheck.IDPrimaryKeys, precheck.IDForeignKeyCascades, precheck.IDDestinationFreeSpace)
	expect(t, r, precheck.IDSourcePrivileges, precheck.Pass, []string{"SELECT, SHOW VIEW"})
	expect(t, r, precheck.IDDestinationPrivileges, precheck.Pass, []string{"CREATE, ALTER, INDEX, DROP"})
}

func TestSourceConnectWrongPassword(t *testing.T) {
	h := newHarness(t)
	db := uniq("conn")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	h.secrets["SRC_PW"] = "definitely-Wrong-Secret-42"
	r := h.run(s)
	it := expect(t, r, precheck.IDSourceConnect, precheck.Fail, []string{"cannot connect to the source root@127.0.0.1:", "Access denied"}, "password")
	if strings.Contains(it.Message+it.Remedy, "definitely-Wrong-Secret-42") {
		t.Fatal("password in the item")
	}
	// Items needing the source are not run; the destination ones still are.
	absent(t, r, precheck.IDSourceVersion, precheck.IDLogBin, precheck.IDObjectsExist, precheck.IDSourcePrivileges, precheck.IDDestinationConflicts)
	expect(t, r, precheck.IDDestinationConnect, precheck.Pass, nil)
	expect(t, r, precheck.IDDestinationVersion, precheck.Pass, nil)
}

func TestConnectUnreachableAndMissingSecret(t *testing.T) {
	h := newHarness(t)
	s := h.spec(spec.Object{Database: "x"})
	s.Destination.Port = 1 // nothing listens there
	delete(h.secrets, "SRC_PW")
	r := h.run(s)
	expect(t, r, precheck.IDSourceConnect, precheck.Fail, []string{"SRC_PW", "not set on the worker"})
	expect(t, r, precheck.IDDestinationConnect, precheck.Fail, []string{"127.0.0.1:1", "connection refused"}, "check host and port")
	if len(r.Items) != 2 {
		t.Errorf("only the two connect items should run, got %d", len(r.Items))
	}
}

// tls.mode required against the destination, which has no TLS.
func TestDestinationTLSRequired(t *testing.T) {
	h := newHarness(t)
	db := uniq("tls")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	s.Destination.TLS.Mode = "required"
	s.Source.TLS = spec.TLS{Mode: "verify-ca", CA: h.env.Source.CAFile}
	r := h.run(s)
	expect(t, r, precheck.IDDestinationConnect, precheck.Fail, []string{"cannot connect to the destination", "TLS"}, "does not offer TLS")
	expect(t, r, precheck.IDSourceConnect, precheck.Pass, []string{"over TLS", "tls.mode verify-ca"})
}

// A source started with a fake old version string, a destination claiming MySQL.
func TestVersions(t *testing.T) {
	h := newHarness(t)
	// Two servers with fake version strings (mariadbd --version=...), started in parallel.
	var old, mysqlish *testenv.Server
	done := make(chan struct{})
	go func() {
		defer close(done)
		mysqlish = startNoFatal(h, testenv.ServerOptions{Name: "fake-mysql", ExtraArgs: []string{"--version=8.0.36-fake"}})
	}()
	old = h.startServer(testenv.ServerOptions{Name: "fake-old", ExtraArgs: []string{"--version=10.4.34-MariaDB-fake"}})
	<-done
	if mysqlish == nil {
		t.FailNow()
	}

	db := uniq("ver")
	h.database(h.env.Source, db, tbl(pkTable, "t"))

	// Old MariaDB as the destination: unsupported, and a different series.
	s := h.spec(spec.Object{Database: db})
	s.Destination = h.endpoint(old, "OLD_PW")
	r := h.run(s)
	expect(t, r, precheck.IDDestinationVersion, precheck.Fail, []string{"MariaDB 10.4.34", `"10.4.34-MariaDB-fake"`, "older than 10.5"}, "MariaDB 10.5")
	expect(t, r, precheck.IDVersionDifference, precheck.Warn, []string{"different major.minor", "the destination is older"})

	// ... and as the source.
	h.database(old, db, tbl(pkTable, "t"))
	s.Source, s.Destination = h.endpoint(old, "OLD_PW"), h.endpoint(h.env.Destination, "DST_PW")
	r = h.run(s)
	expect(t, r, precheck.IDSourceVersion, precheck.Fail, []string{"the source runs MariaDB 10.4.34", "not supported"})

	// A destination that says it is MySQL 8.0.
	s = h.spec(spec.Object{Database: db})
	s.Destination = h.endpoint(mysqlish, "MY_PW")
	r = h.run(s)
	expect(t, r, precheck.IDDestinationVersion, precheck.Pass, []string{"MySQL 8.0.36"})
	expect(t, r, precheck.IDVersionDifference, precheck.Warn, []string{"the source runs MariaDB 10.", "the destination MySQL 8.0.36", "differ between MariaDB and MySQL"})
}

func TestSourcePrivileges(t *testing.T) {
	h := newHarness(t)
	db := uniq("a`b")
	h.database(h.env.Source, db, tbl(pkTable, "orders"), tbl(pkTable, "items"))
	s := h.spec(spec.Object{Database: db})
	// Only SELECT on one table: missing SELECT on the other, SHOW VIEW, and the
	// replication privileges.
	s.Source = h.user(h.env.Source, "LIMITED_SRC", "GRANT SELECT ON "+q(db)+".`orders` TO %s")
	r := h.run(s)
	it := expect(t, r, precheck.IDSourcePrivileges, precheck.Fail, []string{
		"lacks SELECT on " + q(db) + ".* (for schema)",
		"SHOW VIEW on " + q(db) + ".* (for schema)",
		"SELECT on " + q(db) + ".* (for full; a glob sees only the tables the account can read)",
		"REPLICATION SLAVE on *.* (for incremental)",
		"BINLOG MONITOR on *.* (for incremental)",
	}, "GRANT SELECT, SHOW VIEW ON "+q(db)+".* TO", "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO")
	if strings.Contains(it.Message, "`orders`") {
		t.Errorf("SELECT on orders is granted, yet reported: %s", it.Message)
	}
	// The remedy's statements are real SQL that fixes it.
	runRemedy(t, h, h.env.Source, it.Remedy)
	r = h.run(s)
	expect(t, r, precheck.IDSourcePrivileges, precheck.Pass, []string{"REPLICATION SLAVE", "BINLOG MONITOR"})
	// Without SLAVE MONITOR the replica check cannot look, and says so.
	expect(t, r, precheck.IDLogSlaveUpdates, precheck.Warn, []string{"cannot tell whether the source is a replica", "SHOW ALL SLAVES STATUS"}, "GRANT SLAVE MONITOR")
}

// runRemedy executes the GRANT statements of a remedy as root.
func runRemedy(t *testing.T, h *harness, srv *testenv.Server, remedy string) {
	t.Helper()
	_, stmts, ok := strings.Cut(remedy, "run: ")
	if !ok {
		t.Fatalf("remedy %q has no statements", remedy)
	}
	for _, st := range strings.SplitAfter(stmts, ";") {
		if st = strings.TrimSpace(st); st != "" {
			h.exec(srv, st)
		}
	}
}

func TestDestinationPrivileges(t *testing.T) {
	h := newHarness(t)
	src := uniq("ünï_数据")
	h.database(h.env.Source, src, tbl(pkTable, "t"),
		"CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.name = UPPER(NEW.name)")
	dst := uniq("dst-db")
	s := h.spec(spec.Object{Database: src, To: dst})
	s.Options.Accounts = true
	s.Destination = h.user(h.env.Destination, "LIMITED_DST", "GRANT SELECT, INSERT ON "+q(dst)+".* TO %s")
	t.Cleanup(func() { h.exec(h.env.Destination, "DROP DATABASE IF EXISTS "+q(dst)) })
	r := h.run(s)
	it := expect(t, r, precheck.IDDestinationPrivileges, precheck.Fail, []string{
		"CREATE on " + q(dst) + ".* (for schema)",
		"TRIGGER on " + q(dst) + ".* (for schema)",
		"UPDATE on " + q(dst) + ".`t` (for full)",
		"DELETE on " + q(dst) + ".`t` (for full)",
		"CREATE USER on *.* (for options.accounts)",
		"GRANT OPTION on *.* (for options.accounts)",
	}, "GRANT CREATE USER ON *.* TO", "WITH GRANT OPTION")
	if strings.Contains(it.Message, "INSERT on") {
		t.Errorf("INSERT is granted, yet reported: %s", it.Message)
	}
	runRemedy(t, h, h.env.Destination, it.Remedy)
	r = h.run(s)
	expect(t, r, precheck.IDDestinationPrivileges, precheck.Pass, nil)
}

// The destination (no binlog) used as the source.
func TestLogBinOff(t *testing.T) {
	h := newHarness(t)
	db := uniq("nobinlog")
	h.database(h.env.Destination, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	s.Source = h.endpoint(h.env.Destination, "DST_PW")
	s.Destination = h.endpoint(h.env.Source, "SRC_PW")
	r := h.run(s)
	expect(t, r, precheck.IDLogBin, precheck.Fail, []string{"binary logging is off on the source", "log_bin=OFF"}, "log-bin", "restart")
}

func TestBinlogVariables(t *testing.T) {
	h := newHarness(t)
	db := uniq("binlog")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})

	t.Run("format", func(t *testing.T) {
		h := &harness{t: t, env: h.env, secrets: h.secrets}
		h.setGlobal(h.env.Source, "binlog_format", "'STATEMENT'")
		r := h.run(s)
		expect(t, r, precheck.IDBinlogFormat, precheck.Fail, []string{"binlog_format is STATEMENT", "not ROW"}, "SET GLOBAL binlog_format = 'ROW'")
	})
	t.Run("row_image", func(t *testing.T) {
		h := &harness{t: t, env: h.env, secrets: h.secrets}
		h.setGlobal(h.env.Source, "binlog_row_image", "'MINIMAL'")
		r := h.run(s)
		expect(t, r, precheck.IDBinlogRowImage, precheck.Fail, []string{"binlog_row_image is MINIMAL", "not FULL"}, "SET GLOBAL binlog_row_image = 'FULL'")
	})
	t.Run("row_metadata", func(t *testing.T) {
		h := &harness{t: t, env: h.env, secrets: h.secrets}
		h.setGlobal(h.env.Source, "binlog_row_metadata", "'MINIMAL'")
		r := h.run(s)
		expect(t, r, precheck.IDBinlogRowMetadata, precheck.Fail, []string{"binlog_row_metadata is MINIMAL", "schema history", "never shift silently"},
			"SET GLOBAL binlog_row_metadata = 'FULL'", "reconnect")
	})
	t.Run("server_id", func(t *testing.T) {
		// MariaDB's server_id starts at 1: SET GLOBAL server_id = 0 is clamped to 1,
		// so a MariaDB source cannot fail this item (MySQL can: its range starts at
		// 0); the failing case is unit-tested with MySQL facts written from its
		// documentation. Here the item reads the real value.
		h := &harness{t: t, env: h.env, secrets: h.secrets}
		h.setGlobal(h.env.Source, "server_id", "0")
		r := h.run(s)
		expect(t, r, precheck.IDServerID, precheck.Pass, []string{"server_id=1"})
		h.exec(h.env.Source, "SET GLOBAL server_id = 4242")
		r = h.run(s)
		expect(t, r, precheck.IDServerID, precheck.Pass, []string{"server_id=4242"})
	})
	t.Run("row_value_options", func(t *testing.T) {
		// MariaDB has no binlog_row_value_options, so this cannot fail here; the
		// failing case is unit-tested with MySQL facts written from its documentation.
		r := h.run(s)
		expect(t, r, precheck.IDBinlogRowValueOptions, precheck.Pass, []string{"has no binlog_row_value_options"})
	})
}

func TestBinlogRetention(t *testing.T) {
	h := newHarness(t)
	db := uniq("retention")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	h.setGlobal(h.env.Source, "binlog_expire_logs_seconds", "172800") // 2 days
	r := h.run(s)
	expect(t, r, precheck.IDBinlogRetention, precheck.Warn, []string{"purges binlogs after 2 days (binlog_expire_logs_seconds=172800)", "at least 7 days"},
		"SET GLOBAL binlog_expire_logs_seconds = 604800")
	// Incremental alone needs 24 hours: 2 days pass, 12 hours do not.
	s.Types = []spec.MigrationType{spec.TypeIncremental}
	r = h.run(s)
	expect(t, r, precheck.IDBinlogRetention, precheck.Pass, []string{"kept 2 days"})
	h.exec(h.env.Source, "SET GLOBAL expire_logs_days = 0.5")
	r = h.run(s)
	expect(t, r, precheck.IDBinlogRetention, precheck.Warn, []string{"after 12 hours", "at least 1 day"}, "binlog_expire_logs_seconds = 86400")
}

// A third server replicating from the source with log_slave_updates off.
func TestLogSlaveUpdatesOnReplica(t *testing.T) {
	h := newHarness(t)
	replica := h.startServer(testenv.ServerOptions{Name: "replica", Binlog: true})
	// Replicate from the source's current position, so the replica runs cleanly.
	srcDB, err := h.env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer srcDB.Close()
	var file, pos, doDB, ignoreDB string
	if err := srcDB.QueryRow("SHOW BINLOG STATUS").Scan(&file, &pos, &doDB, &ignoreDB); err != nil {
		t.Fatal(err)
	}
	h.exec(replica, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, MASTER_LOG_FILE=%s, MASTER_LOG_POS=%s, MASTER_USE_GTID=no",
		h.env.Source.Host, h.env.Source.Port, testenv.QuoteString(h.env.Source.RootUser), testenv.QuoteString(h.env.Source.RootPassword),
		testenv.QuoteString(file), pos),
		"START SLAVE")
	defer h.exec(replica, "STOP SLAVE", "RESET SLAVE ALL")
	waitReplicaRunning(t, replica)
	db := uniq("replicated")
	h.database(replica, db, tbl(pkTable, "t"))
	s := h.spec(spec.Object{Database: db})
	s.Source = h.endpoint(replica, "REPLICA_PW")
	r := h.run(s)
	expect(t, r, precheck.IDLogSlaveUpdates, precheck.Warn, []string{
		fmt.Sprintf("replicates from %s:%d", h.env.Source.Host, h.env.Source.Port), "log_slave_updates is OFF"}, "log_slave_updates=ON", "restart")
	// The shared source is no replica.
	s = h.spec(spec.Object{Database: db})
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	r = h.run(s)
	expect(t, r, precheck.IDLogSlaveUpdates, precheck.Pass, []string{"not a replica"})
}

func TestObjectsExist(t *testing.T) {
	h := newHarness(t)
	db := uniq("Mixed-Case")
	h.database(h.env.Source, db, tbl(pkTable, "Orders"), "CREATE VIEW `v` AS SELECT 1 AS x")
	s := h.spec(
		spec.Object{Database: db, Tables: []spec.Table{{Name: "orders"}, {Name: "missing"}, {Name: "v"}, {Name: "z*"}}},
		spec.Object{Database: uniq("no-such-db")},
	)
	r := h.run(s)
	expect(t, r, precheck.IDObjectsExist, precheck.Fail, []string{
		"table " + q(db) + ".`orders` does not exist on the source (the source has " + q(db) + ".`Orders`",
		"table " + q(db) + ".`missing` does not exist",
		`tables entry "z*" matches no table`,
		"no-such-db` does not exist on the source",
	}, "fix objects")
	// A view named in tables: is selected (the schema phase creates it), not missing.
	if it, _ := find(r, precheck.IDObjectsExist); strings.Contains(it.Message, "`v`") {
		t.Fatalf("the view v is reported: %s", it.Message)
	}
}

func TestTableShapes(t *testing.T) {
	h := newHarness(t)
	db := uniq("shapes")
	h.database(h.env.Source, db,
		tbl(pkTable, "parent"),
		tbl("CREATE TABLE %s (a INT, b INT) ENGINE=InnoDB", "no_key"),
		tbl("CREATE TABLE %s (a INT NULL, UNIQUE KEY (a)) ENGINE=InnoDB", "nullable_unique"),
		tbl("CREATE TABLE %s (a INT NOT NULL, b INT NOT NULL, UNIQUE KEY (a, b)) ENGINE=InnoDB", "nn_unique"),
		tbl("CREATE TABLE %s (id INT PRIMARY KEY) ENGINE=MyISAM", "my-isam"),
		tbl("CREATE TABLE %s (id INT PRIMARY KEY) ENGINE=Aria", "aria"),
		"CREATE TABLE child (id INT PRIMARY KEY, pid BIGINT, FOREIGN KEY fk_parent (pid) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL) ENGINE=InnoDB",
		"CREATE TABLE child2 (id INT PRIMARY KEY, pid BIGINT, CONSTRAINT fk_plain FOREIGN KEY (pid) REFERENCES parent (id)) ENGINE=InnoDB",
	)
	r := h.run(h.spec(spec.Object{Database: db}))
	it := expect(t, r, precheck.IDPrimaryKeys, precheck.Warn, []string{"2 tables without a primary key", q(db) + ".`no_key`", q(db) + ".`nullable_unique`", "duplicate rows"}, "ADD PRIMARY KEY")
	if strings.Contains(it.Message, "nn_unique") {
		t.Errorf("a NOT NULL unique key counts as a key: %s", it.Message)
	}
	expect(t, r, precheck.IDEngines, precheck.Warn, []string{"2 tables are not on InnoDB", q(db) + ".`aria` (Aria)", q(db) + ".`my-isam` (MyISAM)"}, "ENGINE=InnoDB")
	it = expect(t, r, precheck.IDForeignKeyCascades, precheck.Pass, []string{"1 foreign key with cascading actions between migrated tables", q(db) + ".`child` `fk_parent` -> " + q(db) + ".`parent` ON DELETE CASCADE ON UPDATE SET NULL"})
	if strings.Contains(it.Message, "fk_plain") {
		t.Errorf("a foreign key without actions reported: %s", it.Message)
	}
}

func TestDestinationConflicts(t *testing.T) {
	h := newHarness(t)
	db := uniq("conflict")
	h.database(h.env.Source, db, tbl(pkTable, "orders"), tbl(pkTable, "items"))
	h.database(h.env.Destination, db, tbl(pkTable, "orders"), "INSERT INTO orders VALUES (1, 'x')")
	s := h.spec(spec.Object{Database: db})
	r := h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Fail, []string{"1 table exists already on the destination: " + q(db) + ".`orders`"}, "options.conflicts: ignore")

	s.Options.Conflicts = "ignore"
	r = h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Pass, []string{"options.conflicts=ignore"})

	// Without schema the tables must exist, and with full be empty.
	s.Options.Conflicts = "precheck"
	s.Types = []spec.MigrationType{spec.TypeFull, spec.TypeIncremental}
	r = h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Fail, []string{"1 table does not exist on the destination and schema is not among types", q(db) + ".`items`"})
	h.exec(h.env.Destination, "USE "+q(db)+"; "+tbl(pkTable, "items"))
	r = h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Fail, []string{"1 table on the destination already holds rows", q(db) + ".`orders`"}, "TRUNCATE TABLE")
	h.exec(h.env.Destination, "TRUNCATE TABLE "+q(db)+".orders")
	r = h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Pass, []string{"all 2 target tables exist"})
}

func TestDestinationNames(t *testing.T) {
	h := newHarness(t)
	db := uniq("names")
	h.database(h.env.Source, db, tbl(pkTable, "Orders"), tbl(pkTable, "orders"), tbl(pkTable, "t"))
	long := strings.Repeat("x", 65)
	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "*"}, {Name: "t", To: long}}})
	s.Options.Case = "lower"
	r := h.run(s)
	expect(t, r, precheck.IDDestinationNames, precheck.Fail, []string{
		"`" + long + "` (from " + q(db) + ".`t`) is 65 characters long (the limit is 64)",
		q(db) + ".`Orders` and " + q(db) + ".`orders` would both be migrated to " + q(strings.ToLower(db)) + ".`orders`",
	}, "options.case")

	s = h.spec(spec.Object{Database: db, To: "trailing ", Tables: []spec.Table{{Name: "t"}}})
	r = h.run(s)
	expect(t, r, precheck.IDDestinationNames, precheck.Fail, []string{"database name `trailing ` ends with a space"})
}

func TestOnlineDDLLeftoversAndPTOSCTriggers(t *testing.T) {
	h := newHarness(t)
	db := uniq("osc")
	h.database(h.env.Source, db,
		tbl(pkTable, "orders"),
		tbl(pkTable, "_orders_gho"),
		tbl(pkTable, "_orders_ghc"),
		tbl(pkTable, "_orders_20240101120000_del"),
		tbl(pkTable, "_orders_new"),
		"CREATE TRIGGER `pt_osc_"+strings.ReplaceAll(db, "`", "")+"_orders_ins` AFTER INSERT ON orders FOR EACH ROW REPLACE INTO `_orders_new` (id, name) VALUES (NEW.id, NEW.name)",
	)
	r := h.run(h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "orders"}}}))
	expect(t, r, precheck.IDOnlineDDLLeftovers, precheck.Warn, []string{"4 tables look like tables that gh-ost or pt-online-schema-change left behind",
		q(db) + ".`_orders_gho` (gh-ost shadow table)", q(db) + ".`_orders_ghc` (gh-ost changelog or old table)",
		q(db) + ".`_orders_20240101120000_del` (gh-ost changelog or old table)", q(db) + ".`_orders_new` (pt-online-schema-change table)"},
		`exclude_tables: ["_orders_20240101120000_del", "_orders_ghc", "_orders_gho", "_orders_new"]`)
	expect(t, r, precheck.IDPTOSCTriggers, precheck.Fail, []string{"pt-online-schema-change is running or crashed", "`pt_osc_", "on " + q(db) + ".`orders`", "not supported"}, "DROP TRIGGER")
}

// Free space: MariaDB's DISKS plugin on the destination, and a source table that
// takes more room than the destination's disk has. The table is an ARCHIVE table,
// whose DATA_LENGTH is the size of its data file, made huge as a sparse file (no real
// disk used).
func TestFreeSpace(t *testing.T) {
	h := newHarness(t)
	if h.env.Source.Dir == "" || h.env.Destination.Dir == "" {
		testenv.SkipOrFail(t, "needs servers started by testenv (the test grows a data file on the source's disk); %s/%s point elsewhere", testenv.EnvSource, testenv.EnvDestination)
	}
	db := uniq("space")
	h.database(h.env.Source, db, tbl(pkTable, "small"))
	s := h.spec(spec.Object{Database: db})

	r := h.run(s)
	expect(t, r, precheck.IDDestinationFreeSpace, precheck.Pass, []string{"cannot estimate free space", "INSTALL SONAME 'disks'"})

	h.exec(h.env.Destination, "INSTALL SONAME 'disks'")
	t.Cleanup(func() { h.exec(h.env.Destination, "UNINSTALL SONAME 'disks'") })
	r = h.run(s)
	expect(t, r, precheck.IDDestinationFreeSpace, precheck.Pass, []string{"the selected tables take 16.0 KiB", "free on /"})

	// Claim twice the destination disk's free space, in files of at most 15 TiB
	// (ext4's limit is 16 TiB per file).
	var st syscall.Statfs_t
	if err := syscall.Statfs(h.env.Destination.Dir, &st); err != nil {
		t.Fatal(err)
	}
	want := 2 * int64(st.Bavail) * int64(st.Bsize)
	const perFile = int64(15) << 40
	files := int((want + perFile - 1) / perFile)
	db2 := uniq("space2")
	h.exec(h.env.Source, "INSTALL SONAME 'ha_archive'")
	t.Cleanup(func() { h.exec(h.env.Source, "UNINSTALL SONAME 'ha_archive'") })
	h.database(h.env.Source, db2)
	src, err := h.env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var datadir string
	if err := src.QueryRow("SELECT @@datadir").Scan(&datadir); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		name := fmt.Sprintf("big%d", i)
		h.exec(h.env.Source, "USE "+q(db2)+"; "+tbl("CREATE TABLE %s (id INT, note TEXT) ENGINE=ARCHIVE", name),
			"INSERT INTO "+q(db2)+"."+q(name)+" VALUES (1, 'x')", "FLUSH TABLES "+q(db2)+"."+q(name))
		if err := os.Truncate(filepath.Join(datadir, db2, name+".ARZ"), min(want-int64(i)*perFile, perFile)); err != nil {
			t.Fatal(err)
		}
		h.exec(h.env.Source, "FLUSH TABLES "+q(db2)+"."+q(name))
	}
	s = h.spec(spec.Object{Database: db}, spec.Object{Database: db2})
	r = h.run(s)
	it := expect(t, r, precheck.IDDestinationFreeSpace, precheck.Warn, []string{"free of", "on /"}, "free or add space")
	if !regexp.MustCompile(`the selected tables take [0-9.]+ [GT]iB`).MatchString(it.Message) {
		t.Errorf("message %q does not give the size of the selected tables", it.Message)
	}
}

// waitReplicaRunning waits until both replication threads of srv run.
func waitReplicaRunning(t *testing.T, srv *testenv.Server) {
	t.Helper()
	db, err := srv.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := queryMaps(context.Background(), db, "SHOW SLAVE STATUS")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0]["Slave_IO_Running"] == "Yes" && rows[0]["Slave_SQL_Running"] == "Yes" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not running: %v", rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startNoFatal is startServer for a goroutine: it reports instead of stopping the test.
func startNoFatal(h *harness, opts testenv.ServerOptions) *testenv.Server {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := testenv.StartServer(ctx, opts)
	if err != nil {
		h.t.Error(err)
		return nil
	}
	h.t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// conflicts: ignore keeps destination tables; a migrated column they lack fails, named
// with its renamed destination name.
func TestConflictsIgnoreNeedsEveryColumn(t *testing.T) {
	h := newHarness(t)
	db := uniq("my-db")
	h.database(h.env.Source, db, "CREATE TABLE `order` (id INT PRIMARY KEY, `Cust` INT, note TEXT, `select` INT)")
	h.database(h.env.Destination, db, "CREATE TABLE `order` (id INT PRIMARY KEY, customer_id INT)")
	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "order", Columns: map[string]string{"Cust": "customer_id"}, ExcludeColumns: []string{"note"}}}})
	s.Options.Conflicts = "ignore"
	r := h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Fail,
		[]string{"1 migrated column is missing there", q(db) + ".`order`.`select` (for " + q(db) + ".`order`.`select`)"}, "ALTER TABLE")
	if it, _ := find(r, precheck.IDDestinationConflicts); strings.Contains(it.Message, "customer_id") || strings.Contains(it.Message, "`note`") {
		t.Fatalf("renamed or excluded columns reported missing: %s", it.Message)
	}
	h.exec(h.env.Destination, "ALTER TABLE "+q(db)+".`order` ADD COLUMN `SELECT` INT")
	r = h.run(s)
	expect(t, r, precheck.IDDestinationConflicts, precheck.Pass, []string{"options.conflicts=ignore"})
}

// Events are not migrated, and the report says so before anything runs.
func TestObjectsNotMigrated(t *testing.T) {
	h := newHarness(t)
	db := uniq("events")
	h.database(h.env.Source, db, tbl(pkTable, "t"),
		"CREATE EVENT `nightly-purge` ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t",
		"CREATE SEQUENCE `seq`")
	s := h.spec(spec.Object{Database: db})
	r := h.run(s)
	expect(t, r, precheck.IDObjectsNotMigrated, precheck.Warn,
		[]string{"2 objects are not migrated", "event " + q(db) + ".`nightly-purge`", "sequence " + q(db) + ".`seq`"}, "recreate them on the destination after cutover")
	s.Types = []spec.MigrationType{spec.TypeFull}
	if _, ok := find(h.run(s), precheck.IDObjectsNotMigrated); ok {
		t.Fatal("objects.not_migrated reported without schema among types")
	}
}

// An excluded column that an index, a generated column or a view uses fails the
// precheck, naming the column and what uses it.
func TestExcludedColumnDependencies(t *testing.T) {
	h := newHarness(t)
	db := uniq("excl")
	h.database(h.env.Source, db,
		"CREATE TABLE `order` (id INT PRIMARY KEY, note VARCHAR(20), total INT, doubled INT AS (total * 2) VIRTUAL, KEY idx_note (note))",
		"CREATE VIEW v_totals AS SELECT id, total FROM `order`")
	ex := func(cols ...string) spec.Spec {
		return h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "order", ExcludeColumns: cols}, {Name: "v_totals"}}})
	}
	r := h.run(ex("note"))
	expect(t, r, precheck.IDExcludedColumns, precheck.Fail, []string{"`note`", "idx_note"}, "exclude_columns")
	r = h.run(ex("total"))
	it := expect(t, r, precheck.IDExcludedColumns, precheck.Fail, []string{"`total`", "`doubled`", "v_totals"})
	if strings.Contains(it.Message, "idx_note") {
		t.Fatalf("idx_note does not use total: %s", it.Message)
	}
	// A column nothing uses may be excluded.
	h.exec(h.env.Source, "ALTER TABLE "+q(db)+".`order` ADD COLUMN scratch INT")
	r = h.run(ex("scratch"))
	expect(t, r, precheck.IDExcludedColumns, precheck.Pass, []string{"no index, generated column"})

	// Trigger and routine bodies: the rewrite refuses NEW.col and t.col of an
	// excluded column, so the precheck must fail before anything is written.
	h.exec(h.env.Source, "USE "+q(db)+"; ALTER TABLE `order` ADD COLUMN memo INT, ADD COLUMN qty INT",
		"USE "+q(db)+"; CREATE TRIGGER trg_memo BEFORE INSERT ON `order` FOR EACH ROW SET NEW.memo = 1",
		"USE "+q(db)+"; CREATE PROCEDURE p_qty() UPDATE `order` o SET o.qty = 0")
	r = h.run(ex("memo"))
	it = expect(t, r, precheck.IDExcludedColumns, precheck.Fail, []string{"`memo`", "trigger " + q(db) + ".`trg_memo`"}, "trigger")
	if strings.Contains(it.Message, "p_qty") {
		t.Fatalf("p_qty does not use memo: %s", it.Message)
	}
	// Routines are migrated with an object that selects every table.
	all := func(cols ...string) spec.Spec {
		return h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "*"}, {Name: "order", ExcludeColumns: cols}}})
	}
	r = h.run(all("qty"))
	it = expect(t, r, precheck.IDExcludedColumns, precheck.Fail, []string{"`qty`", "procedure " + q(db) + ".`p_qty`"})
	if strings.Contains(it.Message, "trg_memo") {
		t.Fatalf("trg_memo does not use qty: %s", it.Message)
	}
	r = h.run(all("scratch"))
	expect(t, r, precheck.IDExcludedColumns, precheck.Pass, []string{"trigger or routine"})
}

// A selected view reading a table or view that is not migrated, or calling a stored
// function that is not, would fail CREATE VIEW after the tables were created: the
// precheck fails naming both, unless the destination already has the dependency.
func TestViewDependencies(t *testing.T) {
	h := newHarness(t)
	db, other := uniq("vdep"), uniq("vdep_other")
	h.database(h.env.Source, other, tbl(pkTable, "ext"))
	h.database(h.env.Source, db, tbl(pkTable, "t"), tbl(pkTable, "hidden"),
		"CREATE FUNCTION f_one() RETURNS INT DETERMINISTIC RETURN 1",
		"CREATE VIEW v_hidden AS SELECT id FROM hidden",
		"CREATE VIEW v_ext AS SELECT id FROM "+q(other)+".ext",
		"CREATE VIEW v_f AS SELECT f_one() AS one, id FROM t",
		"CREATE VIEW v_ok AS SELECT t.id FROM t JOIN v_f ON v_f.id = t.id")

	// exclude_tables leaves out a base table; the other database is in no object. The
	// function is migrated (the object selects every table), so v_f is fine.
	r := h.run(h.spec(spec.Object{Database: db, To: db + "_new", ExcludeTables: []string{"hidden"}}))
	it := expect(t, r, precheck.IDDependencies, precheck.Fail, []string{
		"view " + q(db) + ".`v_hidden` needs table or view " + q(db) + ".`hidden` (not selected",
		"which the destination lacks as " + q(db+"_new") + ".`hidden`",
		"view " + q(db) + ".`v_ext` needs table or view " + q(other) + ".`ext` (its database is not in objects)",
	}, "exclude_tables")
	if strings.Contains(it.Message, "v_f") || strings.Contains(it.Message, "v_ok") {
		t.Fatalf("v_f and v_ok have what they need: %s", it.Message)
	}

	// Without a "*" entry routines are not migrated: v_f's function is missing.
	r = h.run(h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "t"}, {Name: "v_f"}, {Name: "v_ok"}}}))
	it = expect(t, r, precheck.IDDependencies, precheck.Fail, []string{
		"view " + q(db) + ".`v_f` needs function " + q(db) + ".`f_one` (routines are migrated only",
	})
	if strings.Contains(it.Message, "v_ok") {
		t.Fatalf("v_ok has what it needs: %s", it.Message)
	}

	// What the destination already has is fine.
	h.database(h.env.Destination, other, tbl(pkTable, "ext"))
	h.database(h.env.Destination, db, "CREATE FUNCTION F_ONE() RETURNS INT DETERMINISTIC RETURN 1")
	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "t"}, {Name: "v_f"}, {Name: "v_ext"}}})
	s.Options.Conflicts = "ignore" // the function is there on purpose
	r = h.run(s)
	expect(t, r, precheck.IDDependencies, precheck.Pass, []string{"2 already there"})
	s.Types = []spec.MigrationType{spec.TypeFull}
	if _, ok := find(h.run(s), precheck.IDDependencies); ok {
		t.Fatal("objects.dependencies reported without schema among types")
	}
}

// When the objects the schema phase would create cannot be worked out (here a view
// and a table mapped to one name), the precheck fails whether or not a column is
// excluded.
func TestSchemaObjectsUnresolvable(t *testing.T) {
	h := newHarness(t)
	db := uniq("unres")
	h.database(h.env.Source, db, tbl(pkTable, "a"), "CREATE VIEW v AS SELECT id FROM a")
	r := h.run(h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "*"}, {Name: "a", To: "v"}}}))
	expect(t, r, precheck.IDDependencies, precheck.Fail, []string{
		"cannot work out the objects", "view " + q(db) + ".`v` and table " + q(db) + ".`a` would both be migrated to " + q(db) + ".`v`",
	}, "rename one")
	expect(t, r, precheck.IDExcludedColumns, precheck.Pass, nil)
}

// With conflicts: precheck, a view, routine or trigger already at a target name on
// the destination fails like a table would.
func TestDestinationObjectConflicts(t *testing.T) {
	h := newHarness(t)
	db := uniq("objconf")
	h.database(h.env.Source, db, tbl(pkTable, "t"),
		"CREATE VIEW `my view` AS SELECT id FROM t",
		"CREATE FUNCTION f_one() RETURNS INT DETERMINISTIC RETURN 1",
		"CREATE TRIGGER trg_t BEFORE INSERT ON t FOR EACH ROW SET NEW.name = 'x'")
	h.database(h.env.Destination, db, "CREATE TABLE other (id INT PRIMARY KEY)",
		"CREATE VIEW `my view` AS SELECT 1 AS id",
		"CREATE FUNCTION F_ONE() RETURNS INT DETERMINISTIC RETURN 2",
		"CREATE TRIGGER trg_t BEFORE INSERT ON other FOR EACH ROW SET NEW.id = NEW.id")
	r := h.run(h.spec(spec.Object{Database: db}))
	expect(t, r, precheck.IDDestinationConflicts, precheck.Fail,
		[]string{"view " + q(db) + ".`my view`", "function " + q(db) + ".`f_one`", "trigger " + q(db) + ".`trg_t`"}, "options.conflicts: ignore")
}

// A table whose column default reads a sequence fails the precheck: sequences are not
// migrated, and CREATE TABLE would fail half way through the schema phase.
func TestSequenceDefaultDependency(t *testing.T) {
	h := newHarness(t)
	db := uniq("seqdef")
	h.database(h.env.Source, db, "CREATE SEQUENCE `seq-ids`",
		"CREATE TABLE `uses seq` (id INT PRIMARY KEY, n BIGINT DEFAULT NEXTVAL(`seq-ids`))")
	r := h.run(h.spec(spec.Object{Database: db}))
	expect(t, r, precheck.IDDependencies, precheck.Fail, []string{
		"table " + q(db) + ".`uses seq` (default of column `n`) needs table or view " + q(db) + ".`seq-ids` (a sequence, which is not migrated)",
	})
	// Once the destination has the sequence, the table can be created.
	h.database(h.env.Destination, db, "CREATE SEQUENCE `seq-ids`")
	r = h.run(h.spec(spec.Object{Database: db}))
	expect(t, r, precheck.IDDependencies, precheck.Pass, nil)
}

// The position advances with writes; a server without binlog has none.
func TestBinlogPosition(t *testing.T) {
	h := newHarness(t)
	db := uniq("pos")
	h.database(h.env.Source, db, tbl(pkTable, "t"))
	src, err := h.env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p1, err := BinlogPosition(context.Background(), src)
	if err != nil || p1 == nil || p1.File == "" || p1.Pos < 4 || p1.GTID == "" {
		t.Fatalf("source position %+v %v", p1, err)
	}
	h.exec(h.env.Source, "INSERT INTO "+q(db)+".t VALUES (1, 'x')")
	p2, err := BinlogPosition(context.Background(), src)
	if err != nil || (p2.File == p1.File && p2.Pos <= p1.Pos) || p2.GTID == p1.GTID {
		t.Fatalf("position did not advance: %+v -> %+v (%v)", p1, p2, err)
	}
	dst, err := h.env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if p, err := BinlogPosition(context.Background(), dst); err != nil || p != nil {
		t.Fatalf("destination (no binlog): %+v %v", p, err)
	}
}
