package precheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// Server answers. Variables are the subset of SHOW GLOBAL VARIABLES the rules read.
// The MariaDB ones were recorded from the MariaDB 10.11 servers of testenv; the MySQL
// ones are written from MySQL's documentation (no MySQL server can be installed here).
var (
	mariaDB1011Vars = map[string]string{
		"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "FULL",
		"binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000", "server_id": "7",
		"log_slave_updates": "OFF", "lower_case_table_names": "0", "gtid_binlog_pos": "0-7-12",
		"datadir": "/var/lib/mysql/",
	}
	mysql80Vars = map[string]string{
		"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "MINIMAL",
		"binlog_row_value_options": "", "binlog_expire_logs_seconds": "2592000", "expire_logs_days": "0",
		"binlog_expire_logs_auto_purge": "ON", "server_id": "1", "log_replica_updates": "ON", "log_slave_updates": "ON",
		"lower_case_table_names": "0", "gtid_mode": "OFF",
	}
	mysql57Vars = map[string]string{
		"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "expire_logs_days": "0",
		"server_id": "1", "log_slave_updates": "OFF", "lower_case_table_names": "0",
	}
	rootGrantsMaria = []string{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"}
	// MySQL 8.0 prints root's static privileges one by one.
	rootGrantsMySQL = []string{
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, PROCESS, FILE, REFERENCES, INDEX, ALTER, SHOW DATABASES, SUPER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE TABLESPACE, CREATE ROLE, DROP ROLE ON *.* TO `root`@`localhost` WITH GRANT OPTION",
		"GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN,BACKUP_ADMIN,BINLOG_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `root`@`localhost` WITH GRANT OPTION",
		"GRANT PROXY ON ``@`` TO `root`@`localhost` WITH GRANT OPTION",
	}
)

func server(t *testing.T, role, version string, vars map[string]string, grants []string) *Server {
	t.Helper()
	fl, err := flavor.Detect(version, "")
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Role: role, Address: "dts@" + role + ":3306", Flavor: fl, Variables: flavor.NewVariables(vars),
		CurrentUser: "dts@%", Grants: grants, TLSCipher: "TLS_AES_256_GCM_SHA384"}
}

func mariaSrc(t *testing.T) *Server {
	return server(t, "source", "10.11.6-MariaDB-log", mariaDB1011Vars, rootGrantsMaria)
}
func mariaDst(t *testing.T) *Server {
	s := server(t, "destination", "10.11.6-MariaDB", mariaDB1011Vars, rootGrantsMaria)
	s.Catalog = &Catalog{}
	return s
}
func mysqlSrc(t *testing.T) *Server {
	return server(t, "source", "8.0.36", mysql80Vars, rootGrantsMySQL)
}

var shopCatalog = &Catalog{
	Databases: []string{"shop"},
	Tables: []Table{
		{DB: "shop", Name: "orders", Type: "BASE TABLE", Engine: "InnoDB", DataLength: 1 << 20, IndexLength: 1 << 19, PrimaryKey: true},
		{DB: "shop", Name: "order", Type: "BASE TABLE", Engine: "InnoDB", DataLength: 16384, PrimaryKey: true},
		{DB: "shop", Name: "my-table", Type: "BASE TABLE", Engine: "InnoDB", DataLength: 16384, NotNullUnique: true},
	},
}

// facts builds facts for a migration of `shop` with the given types.
func facts(t *testing.T, src, dst *Server, types ...spec.MigrationType) *Facts {
	t.Helper()
	if src.Catalog == nil {
		c := *shopCatalog
		c.Tables = slices.Clone(shopCatalog.Tables)
		src.Catalog = &c
	}
	s := spec.Spec{
		Source:      spec.Endpoint{Host: "source", User: "dts"},
		Destination: spec.Endpoint{Host: "destination", User: "dts"},
		Types:       types,
		Objects:     []spec.Object{{Database: "shop"}},
	}
	s.ApplyDefaults()
	f := &Facts{Spec: s, Source: src, Destination: dst}
	if s.Has(spec.TypeSchema) {
		f.Schema = &SchemaFacts{} // what inspect gathers for a schema without views
	}
	f.replan()
	return f
}

// replan resolves the selection again after a test changed the spec or catalog.
func (f *Facts) replan() {
	pc := plan.Catalog{Tables: map[string][]string{}, Views: map[string][]string{}}
	for _, d := range f.Source.Catalog.Databases {
		pc.Tables[d] = nil
	}
	for _, t := range f.Source.Catalog.Tables {
		if t.IsView() {
			pc.Views[t.DB] = append(pc.Views[t.DB], t.Name)
		} else {
			pc.Tables[t.DB] = append(pc.Tables[t.DB], t.Name)
		}
	}
	p := plan.Resolve(f.Spec, pc, plan.Options{DestinationLowerCaseTableNames: f.Destination.LowerCaseTableNames()})
	f.Plan = &p
}

var allTypes = []spec.MigrationType{spec.TypeSchema, spec.TypeFull, spec.TypeIncremental}

func item(t *testing.T, f *Facts, id string) Item {
	t.Helper()
	for _, it := range Evaluate(*f).Items {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("no item %s", id)
	return Item{}
}

func check(t *testing.T, f *Facts, id string, status Status, parts ...string) Item {
	t.Helper()
	it := item(t, f, id)
	if it.Status != status {
		t.Errorf("%s: %s, want %s: %s", id, it.Status, status, it.Message)
	}
	text := it.Message + " || " + it.Remedy
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s: %q lacks %q", id, text, p)
		}
	}
	if status != Pass && it.Remedy == "" {
		t.Errorf("%s: %s without a remedy", id, status)
	}
	return it
}

func TestAllPassBothFlavors(t *testing.T) {
	for name, src := range map[string]*Server{"mariadb": mariaSrc(t), "mysql": mysqlSrc(t)} {
		f := facts(t, src, mariaDst(t), allTypes...)
		if name == "mysql" {
			// MySQL 8.0 defaults to MINIMAL row metadata: the only warning.
			f.Source.Variables["binlog_row_metadata"] = "FULL"
			f.Destination = server(t, "destination", "8.0.36", mysql80Vars, rootGrantsMySQL)
			f.Destination.Catalog = &Catalog{}
		}
		f.ETL = &ETLFacts{Expressions: 2, Tables: 1}
		r := Evaluate(*f)
		// Every item but source.binlog_start, which needs types: [incremental] with
		// a start position (TestBinlogStartApplicability).
		want := slices.DeleteFunc(AllIDs(), func(id string) bool { return id == IDBinlogStart })
		if len(r.Items) != len(want) {
			t.Errorf("%s: %d items, want %d", name, len(r.Items), len(want))
		}
		for i, it := range r.Items {
			if it.Status != Pass {
				t.Errorf("%s: %s %s: %s", name, it.ID, it.Status, it.Message)
			}
			if i < len(want) && it.ID != want[i] {
				t.Errorf("%s: item %d is %s, want %s (report order)", name, i, it.ID, want[i])
			}
		}
	}
}

func TestApplicability(t *testing.T) {
	ids := func(r Report) []string {
		var out []string
		for _, it := range r.Items {
			out = append(out, it.ID)
		}
		return out
	}
	binlog := []string{IDLogBin, IDBinlogFormat, IDBinlogRowImage, IDBinlogRowMetadata, IDBinlogRowValueOptions, IDBinlogRetention, IDServerID, IDLogSlaveUpdates, IDForeignKeyCascades}
	schema := ids(Evaluate(*facts(t, mariaSrc(t), mariaDst(t), spec.TypeSchema)))
	for _, id := range append(binlog, IDPrimaryKeys, IDDestinationFreeSpace) {
		if slices.Contains(schema, id) {
			t.Errorf("schema only: %s should not run", id)
		}
	}
	fullOnly := ids(Evaluate(*facts(t, mariaSrc(t), mariaDst(t), spec.TypeFull)))
	if !slices.Contains(fullOnly, IDPrimaryKeys) || !slices.Contains(fullOnly, IDDestinationFreeSpace) || slices.Contains(fullOnly, IDLogBin) {
		t.Errorf("full only: %v", fullOnly)
	}
	incr := ids(Evaluate(*facts(t, mariaSrc(t), mariaDst(t), spec.TypeIncremental)))
	for _, id := range binlog {
		if !slices.Contains(incr, id) {
			t.Errorf("incremental: %s missing", id)
		}
	}
	if slices.Contains(incr, IDDestinationFreeSpace) {
		t.Error("incremental only copies no data up front: no free space item")
	}
}

func TestUnreachableServers(t *testing.T) {
	src := &Server{Role: "source", Address: "dts@source:3306", ConnectError: "dial tcp: connection refused", ConnectRemedy: "check host and port"}
	f := facts(t, &Server{Role: "source", Catalog: shopCatalog}, mariaDst(t), allTypes...)
	f.Source, f.Plan = src, nil
	f.PlanError = ""
	r := Evaluate(*f)
	var got []string
	for _, it := range r.Items {
		got = append(got, it.ID)
	}
	want := []string{IDSourceConnect, IDDestinationConnect, IDDestinationVersion}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("items %v, want %v", got, want)
	}
	if r.Items[0].Status != Fail || !strings.Contains(r.Items[0].Message, "cannot connect to the source dts@source:3306: dial tcp: connection refused") || r.Items[0].Remedy != "check host and port" {
		t.Errorf("connect item: %+v", r.Items[0])
	}
}

func TestConnectTLS(t *testing.T) {
	f := facts(t, mariaSrc(t), mariaDst(t), spec.TypeFull)
	check(t, f, IDSourceConnect, Pass, "over TLS (TLS_AES_256_GCM_SHA384, tls.mode preferred)", "MariaDB 10.11.6")
	f.Destination.TLSCipher = ""
	check(t, f, IDDestinationConnect, Pass, "without TLS: the server offers none")
	f.Spec.Destination.TLS.Mode = "disabled"
	check(t, f, IDDestinationConnect, Pass, "without TLS (tls.mode disabled)")
	f.Spec.Destination.TLS.Mode = "required"
	check(t, f, IDDestinationConnect, Fail, "not encrypted although tls.mode is required", "ssl_cert")
}

func TestVersionItems(t *testing.T) {
	f := facts(t, server(t, "source", "5.6.51-log", mysql57Vars, rootGrantsMySQL), mariaDst(t), spec.TypeFull)
	check(t, f, IDSourceVersion, Fail, "MySQL 5.6.51", "older than 5.7", "MySQL 5.7, 8.0, 8.4")
	f.Source = server(t, "source", "9.1.0", mysql80Vars, rootGrantsMySQL)
	check(t, f, IDSourceVersion, Warn, "not a series sluice is tested with", "ignore_warnings")
	f.Source = server(t, "source", "5.7.44-log", mysql57Vars, rootGrantsMySQL)
	check(t, f, IDSourceVersion, Pass, "MySQL 5.7.44")
	f.Destination = server(t, "destination", "10.4.32-MariaDB", mariaDB1011Vars, rootGrantsMaria)
	check(t, f, IDDestinationVersion, Fail, "MariaDB 10.4.32", "older than 10.5")
	f.Destination.FlavorError = "server version \"x\": no major.minor version number at its start"
	check(t, f, IDDestinationVersion, Fail, "cannot tell the destination's version")
}

func TestVersionDifference(t *testing.T) {
	cases := []struct {
		src, dst string
		status   Status
		parts    []string
	}{
		{"8.0.36", "10.11.6-MariaDB", Warn, []string{"source runs MySQL 8.0.36 and the destination MariaDB 10.11.6", "differ between MySQL and MariaDB", "utf8mb4_0900_ai_ci"}},
		{"8.0.36", "8.4.0", Warn, []string{"different major.minor versions)"}},
		{"8.4.0", "8.0.36", Warn, []string{"the destination is older"}},
		{"10.11.6-MariaDB", "10.6.16-MariaDB", Warn, []string{"the destination is older"}},
		{"8.0.36", "8.0.40", Pass, []string{"both servers run MySQL 8.0"}},
		{"10.11.6-MariaDB", "10.11.9-MariaDB", Pass, []string{"both servers run MariaDB 10.11"}},
	}
	for _, c := range cases {
		f := facts(t, server(t, "source", c.src, mysql80Vars, nil), server(t, "destination", c.dst, mysql80Vars, nil), spec.TypeFull)
		it := check(t, f, IDVersionDifference, c.status, c.parts...)
		if c.src == "8.0.36" && c.dst == "8.4.0" && strings.Contains(it.Message, "older") {
			t.Errorf("8.0 -> 8.4 is no downgrade: %s", it.Message)
		}
	}
}

func TestSourcePrivilegesMySQL(t *testing.T) {
	src := mysqlSrc(t)
	src.CurrentUser = "dts@10.0.0.%"
	src.Grants = []string{
		"GRANT SELECT, REPLICATION SLAVE ON *.* TO `dts`@`10.0.0.%`",
	}
	f := facts(t, src, mariaDst(t), allTypes...)
	it := check(t, f, IDSourcePrivileges, Fail,
		"the source account dts@10.0.0.% lacks SHOW VIEW on `shop`.* (for schema); REPLICATION CLIENT on *.* (for incremental)",
		"GRANT SHOW VIEW ON `shop`.* TO 'dts'@'10.0.0.%';", "GRANT REPLICATION CLIENT ON *.* TO 'dts'@'10.0.0.%';")
	if strings.Contains(it.Message, "SELECT on") {
		t.Errorf("global SELECT covers the tables: %s", it.Message)
	}
	// SUPER satisfies REPLICATION CLIENT on MySQL.
	src.Grants = []string{"GRANT SELECT, SUPER, REPLICATION SLAVE, SHOW VIEW ON *.* TO `dts`@`10.0.0.%`"}
	check(t, f, IDSourcePrivileges, Pass, "REPLICATION CLIENT")
}

func TestSourcePrivilegesMariaDB(t *testing.T) {
	src := mariaSrc(t)
	src.Grants = []string{
		"GRANT `migrator` TO `dts`@`%`",
		"GRANT REPLICATION SLAVE ON *.* TO `dts`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'",
		"GRANT SELECT ON `shop`.`orders` TO `dts`@`%`",
	}
	f := facts(t, src, mariaDst(t), spec.TypeFull, spec.TypeIncremental)
	f.Spec.Options.Accounts = true
	it := check(t, f, IDSourcePrivileges, Fail,
		"SELECT on `shop`.`my-table`, `shop`.`order` (for full)",
		"SELECT on `shop`.* (for full; a glob sees only the tables the account can read)",
		"BINLOG MONITOR on *.* (for incremental)",
		"SELECT on `mysql`.* (for options.accounts)",
		"it has roles migrator",
		"GRANT SELECT ON `shop`.* TO 'dts'@'%';", "GRANT BINLOG MONITOR ON *.* TO 'dts'@'%';", "GRANT SELECT ON `mysql`.* TO 'dts'@'%';")
	if strings.Contains(it.Message+it.Remedy, "D821809F") {
		t.Fatal("password hash leaked")
	}
	if strings.Contains(it.Message, "`orders`") {
		t.Errorf("orders is granted: %s", it.Message)
	}
	// Naming the tables (no glob) needs table-level grants only.
	f.Spec.Objects[0].Tables = []spec.Table{{Name: "orders"}}
	f.Spec.Options.Accounts = false
	f.replan()
	src.Grants = append(src.Grants, "GRANT BINLOG MONITOR ON *.* TO `dts`@`%`")
	check(t, f, IDSourcePrivileges, Pass)

	src.GrantsError = "Error 1141: There is no such grant defined"
	check(t, f, IDSourcePrivileges, Warn, "cannot read the source account's privileges")
}

func TestDestinationPrivileges(t *testing.T) {
	dst := mariaDst(t)
	dst.Grants = []string{"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON `shop`.* TO `dts`@`%`"}
	src := mariaSrc(t)
	src.Catalog = &Catalog{Databases: []string{"shop"}, Tables: shopCatalog.Tables,
		Triggers: []Trigger{{DB: "shop", Table: "orders", Name: "trg", Timing: "BEFORE", Event: "INSERT"}}}
	f := facts(t, src, dst, allTypes...)
	f.Spec.Options.Accounts = true
	check(t, f, IDDestinationPrivileges, Fail,
		"TRIGGER on `shop`.* (for schema)", "CREATE USER on *.* (for options.accounts); GRANT OPTION on *.* (for options.accounts)",
		"GRANT TRIGGER ON `shop`.* TO 'dts'@'%';", "GRANT CREATE USER ON *.* TO 'dts'@'%' WITH GRANT OPTION;")

	// A MySQL destination needs REFERENCES for foreign keys; MariaDB does not use it.
	src.Catalog.ForeignKeys = []ForeignKey{{DB: "shop", Table: "order", Name: "fk", RefDB: "shop", RefTable: "orders", OnUpdate: "RESTRICT", OnDelete: "RESTRICT"}}
	f.Spec.Options.Accounts = false
	dst.Grants = []string{"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, TRIGGER ON `shop`.* TO `dts`@`%`"}
	if it := check(t, f, IDDestinationPrivileges, Pass); strings.Contains(it.Message, "REFERENCES") {
		t.Errorf("a MariaDB destination needs no REFERENCES: %s", it.Message)
	}
	mysqlDst := server(t, "destination", "8.0.36", mysql80Vars, dst.Grants)
	mysqlDst.Catalog = &Catalog{}
	f.Destination = mysqlDst
	check(t, f, IDDestinationPrivileges, Fail, "REFERENCES on `shop`.* (for schema)", "GRANT REFERENCES ON `shop`.* TO 'dts'@'%';")
	f.Destination = server(t, "destination", "8.0.36", mysql80Vars, []string{"GRANT ALL PRIVILEGES ON `shop`.* TO `dts`@`%`"})
	f.Destination.Catalog = &Catalog{}
	f.Spec.Options.Accounts = false
	check(t, f, IDDestinationPrivileges, Pass, "REFERENCES", "TRIGGER")

	// Renamed targets: privileges are checked on the destination names, and DDL
	// replication needs CREATE/ALTER/DROP/INDEX.
	f.Spec.Objects[0].To = "shop_v2"
	f.Spec.Types = []spec.MigrationType{spec.TypeIncremental}
	f.replan()
	f.Destination.Grants = []string{"GRANT SELECT, INSERT, UPDATE, DELETE ON `shop\\_v2`.* TO `dts`@`%`"}
	check(t, f, IDDestinationPrivileges, Fail, "CREATE on `shop_v2`.* (for incremental DDL)", "GRANT CREATE, ALTER, DROP, INDEX ON `shop_v2`.*")
	f.Spec.Objects[0].Tables = []spec.Table{{Name: "*", Operations: []string{"insert", "update", "delete"}}}
	f.replan()
	check(t, f, IDDestinationPrivileges, Pass)
}

func TestBinlogItems(t *testing.T) {
	type tc struct {
		name    string
		src     func(t *testing.T) *Server
		set     map[string]string
		del     []string
		id      string
		status  Status
		parts   []string
		version string
	}
	cases := []tc{
		{name: "log_bin off mysql", src: mysqlSrc, set: map[string]string{"log_bin": "OFF"}, id: IDLogBin, status: Fail, parts: []string{"binary logging is off on the source dts@source:3306 (log_bin=OFF)", "log-bin=mysql-bin", "not dynamic"}},
		{name: "log_bin off mariadb", src: mariaSrc, set: map[string]string{"log_bin": "OFF"}, id: IDLogBin, status: Fail, parts: []string{"log_bin=OFF"}},
		{name: "format mixed", src: mariaSrc, set: map[string]string{"binlog_format": "MIXED"}, id: IDBinlogFormat, status: Fail, parts: []string{"binlog_format is MIXED", "SET GLOBAL binlog_format = 'ROW'; and binlog_format = 'ROW' in the server configuration"}},
		{name: "format statement mysql", src: mysqlSrc, set: map[string]string{"binlog_format": "STATEMENT"}, id: IDBinlogFormat, status: Fail, parts: []string{"SET PERSIST binlog_format = 'ROW'"}},
		{name: "row image noblob", src: mysqlSrc, set: map[string]string{"binlog_row_image": "NOBLOB"}, id: IDBinlogRowImage, status: Fail, parts: []string{"binlog_row_image is NOBLOB", "SET PERSIST binlog_row_image = 'FULL'"}},
		{name: "row image full_nodup", src: mariaSrc, set: map[string]string{"binlog_row_image": "FULL_NODUP"}, id: IDBinlogRowImage, status: Fail, parts: []string{"FULL_NODUP"}},
		{name: "metadata minimal mysql", src: mysqlSrc, id: IDBinlogRowMetadata, status: Fail, parts: []string{"binlog_row_metadata is MINIMAL", "never shift silently", "SET PERSIST binlog_row_metadata = 'FULL'", "reconnect"}},
		{name: "metadata no_log mariadb", src: mariaSrc, set: map[string]string{"binlog_row_metadata": "NO_LOG"}, id: IDBinlogRowMetadata, status: Fail, parts: []string{"NO_LOG", "schema history", "SET GLOBAL binlog_row_metadata = 'FULL'"}},
		{name: "metadata absent 5.7", version: "5.7.44-log", src: mysqlSrc, id: IDBinlogRowMetadata, status: Fail, parts: []string{"MySQL 5.7.44 has no binlog_row_metadata", "upgrade", "without incremental"}},
		{name: "partial json", src: mysqlSrc, set: map[string]string{"binlog_row_value_options": "PARTIAL_JSON"}, id: IDBinlogRowValueOptions, status: Fail, parts: []string{"binlog_row_value_options is PARTIAL_JSON", "SET PERSIST binlog_row_value_options = ''"}},
		{name: "value options mariadb", src: mariaSrc, id: IDBinlogRowValueOptions, status: Pass, parts: []string{"MariaDB 10.11.6 has no binlog_row_value_options"}},
		{name: "value options 5.7", version: "5.7.44-log", src: mysqlSrc, id: IDBinlogRowValueOptions, status: Pass, parts: []string{"has no binlog_row_value_options"}},
		{name: "server_id 0", src: mysqlSrc, set: map[string]string{"server_id": "0"}, id: IDServerID, status: Fail, parts: []string{"server_id is 0", "SET PERSIST server_id"}},
		{name: "server_id ok", src: mariaSrc, id: IDServerID, status: Pass, parts: []string{"server_id=7"}},
		{name: "retention mysql default", src: mysqlSrc, id: IDBinlogRetention, status: Pass, parts: []string{"kept 30 days (binlog_expire_logs_seconds=2592000)"}},
		{name: "retention 3 days", src: mysqlSrc, set: map[string]string{"binlog_expire_logs_seconds": "259200"}, id: IDBinlogRetention, status: Warn, parts: []string{"after 3 days", "at least 7 days", "SET GLOBAL binlog_expire_logs_seconds = 604800"}},
		{name: "retention 5.7", version: "5.7.44-log", src: mysqlSrc, del: []string{"binlog_expire_logs_seconds"}, set: map[string]string{"expire_logs_days": "2"}, id: IDBinlogRetention, status: Warn, parts: []string{"expire_logs_days=2", "SET GLOBAL expire_logs_days = 7"}},
		{name: "retention auto purge off", src: mysqlSrc, set: map[string]string{"binlog_expire_logs_seconds": "3600", "binlog_expire_logs_auto_purge": "OFF"}, id: IDBinlogRetention, status: Pass, parts: []string{"never purged", "binlog_expire_logs_auto_purge=OFF"}},
		{name: "retention size limit", version: "11.4.2-MariaDB", src: mariaSrc, set: map[string]string{"max_binlog_total_size": "1073741824"}, id: IDBinlogRetention, status: Warn, parts: []string{"once they exceed 1.0 GiB", "max_binlog_total_size"}},
		{name: "variables unreadable", src: mariaSrc, id: IDBinlogFormat, status: Warn, set: map[string]string{"__error": "Error 1227: Access denied"}, parts: []string{"cannot read the source's variables (Error 1227: Access denied)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src(t)
			if c.version != "" {
				src.Flavor, _ = flavor.Detect(c.version, "")
			}
			for k, v := range c.set {
				if k == "__error" {
					src.VariablesError, src.Variables = v, nil
					continue
				}
				src.Variables[k] = v
			}
			for _, k := range c.del {
				delete(src.Variables, k)
			}
			if c.version == "5.7.44-log" {
				delete(src.Variables, "binlog_row_metadata")
				delete(src.Variables, "binlog_row_value_options")
			}
			check(t, facts(t, src, mariaDst(t), allTypes...), c.id, c.status, c.parts...)
		})
	}
}

func TestRetentionIncrementalOnly(t *testing.T) {
	src := mysqlSrc(t)
	src.Variables["binlog_expire_logs_seconds"] = "172800"
	f := facts(t, src, mariaDst(t), spec.TypeSchema, spec.TypeIncremental)
	check(t, f, IDBinlogRetention, Pass, "kept 2 days", "at least the 1 day needed for incremental migration")
	src.Variables["binlog_expire_logs_seconds"] = "43200"
	check(t, f, IDBinlogRetention, Warn, "after 12 hours", "at least 1 day", "= 86400")
}

func TestLogSlaveUpdates(t *testing.T) {
	replicaOf := []flavor.ReplicaChannel{{SourceHost: "10.0.0.5", SourcePort: "3306", IORunning: "Yes", SQLRunning: "Yes"}}
	src := mariaSrc(t)
	src.Replica = replicaOf
	f := facts(t, src, mariaDst(t), spec.TypeIncremental)
	check(t, f, IDLogSlaveUpdates, Warn, "replicates from 10.0.0.5:3306 but log_slave_updates is OFF", "log_slave_updates=ON", "restart")
	src.Variables["log_slave_updates"] = "ON"
	check(t, f, IDLogSlaveUpdates, Pass, "log_slave_updates=ON")

	my := mysqlSrc(t)
	my.Replica = []flavor.ReplicaChannel{{Name: "ch1", SourceHost: "primary", SourcePort: "3306"}}
	my.Variables["log_replica_updates"] = "OFF"
	f = facts(t, my, mariaDst(t), spec.TypeIncremental)
	check(t, f, IDLogSlaveUpdates, Warn, `primary:3306 (channel "ch1")`, "log_replica_updates is OFF")

	my.Replica, my.ReplicaError = nil, "Error 1227 (42000): Access denied; you need (at least one of) the SUPER, REPLICATION CLIENT privilege(s) for this operation"
	check(t, f, IDLogSlaveUpdates, Warn, "cannot tell whether the source is a replica", "SHOW REPLICA STATUS", "GRANT REPLICATION CLIENT ON *.* TO 'dts'@'%'")
	src.Replica, src.ReplicaError = nil, "Error 1227"
	f = facts(t, src, mariaDst(t), spec.TypeIncremental)
	check(t, f, IDLogSlaveUpdates, Warn, "SHOW ALL SLAVES STATUS", "GRANT SLAVE MONITOR")
}

func TestObjectsExistItem(t *testing.T) {
	f := facts(t, mariaSrc(t), mariaDst(t), spec.TypeFull)
	check(t, f, IDObjectsExist, Pass, "3 tables selected in 1 database")
	f.Spec.Objects = []spec.Object{{Database: "shop", Tables: []spec.Table{{Name: "orders"}, {Name: "Order"}, {Name: "x*"}}}, {Database: "nope"}}
	f.replan()
	check(t, f, IDObjectsExist, Fail, "table `shop`.`Order` does not exist on the source (the source has `shop`.`order`", "database `nope` does not exist", `tables entry "x*" matches no table`, "sluice validate")
	f.Spec.Objects = []spec.Object{{Database: "shop", Tables: []spec.Table{{Name: "orders"}, {Name: "x*"}}}}
	f.replan()
	check(t, f, IDObjectsExist, Warn, `"x*" matches no table`)
	f.Spec.Objects = []spec.Object{{Database: "shop", Tables: []spec.Table{{Name: "x*"}}}}
	f.replan()
	check(t, f, IDObjectsExist, Fail, "matches no table on the source")
	f.Plan, f.PlanError = nil, "read information_schema.TABLES: Error 1142"
	check(t, f, IDObjectsExist, Fail, "cannot read the source catalog: read information_schema.TABLES: Error 1142")
}

func TestTableItems(t *testing.T) {
	src := mariaSrc(t)
	var tables []Table
	for i := range 12 {
		tables = append(tables, Table{DB: "shop", Name: fmt.Sprintf("nokey%02d", i), Type: "BASE TABLE", Engine: "MyISAM"})
	}
	tables = append(tables, Table{DB: "shop", Name: "v", Type: "VIEW"})
	src.Catalog = &Catalog{Databases: []string{"shop"}, Tables: append(tables, shopCatalog.Tables...),
		ForeignKeys: []ForeignKey{
			{DB: "shop", Table: "order", Name: "fk_o", RefDB: "shop", RefTable: "orders", OnDelete: "CASCADE", OnUpdate: "RESTRICT"},
			{DB: "shop", Table: "my-table", Name: "fk_plain", RefDB: "shop", RefTable: "orders", OnDelete: "RESTRICT", OnUpdate: "NO ACTION"},
			{DB: "other", Table: "x", Name: "fk_other", RefDB: "shop", RefTable: "orders", OnDelete: "CASCADE", OnUpdate: "CASCADE"},
		}}
	f := facts(t, src, mariaDst(t), allTypes...)
	it := check(t, f, IDPrimaryKeys, Warn, "12 tables without a primary key", "`shop`.`nokey00`", "and 2 more", "ADD PRIMARY KEY")
	if strings.Contains(it.Message, "my-table") || strings.Contains(it.Message, "`v`") {
		t.Errorf("a NOT NULL unique key or a view reported: %s", it.Message)
	}
	check(t, f, IDEngines, Warn, "12 tables are not on InnoDB", "`shop`.`nokey00` (MyISAM)", "and 2 more", "ENGINE=InnoDB")
	it = check(t, f, IDForeignKeyCascades, Pass, "1 foreign key with cascading actions between migrated tables: `shop`.`order` `fk_o` -> `shop`.`orders` ON DELETE CASCADE", "sluice applies the same actions")
	if strings.Contains(it.Message, "fk_plain") || strings.Contains(it.Message, "fk_other") {
		t.Errorf("unselected or plain foreign key reported: %s", it.Message)
	}
	// A parent left out: its cascades cannot be applied.
	f.Spec.Objects = []spec.Object{{Database: "shop", Tables: []spec.Table{{Name: "order"}}}}
	f.replan()
	check(t, f, IDForeignKeyCascades, Warn, "1 foreign key of selected tables cascade from a parent table that is not migrated: `shop`.`order` `fk_o` -> `shop`.`orders` ON DELETE CASCADE", "migrate the parent tables too")
}

func TestConflictsItem(t *testing.T) {
	dst := mariaDst(t)
	dst.Catalog = &Catalog{Databases: []string{"shop"}, Tables: []Table{{DB: "shop", Name: "orders", Type: "BASE TABLE", Engine: "InnoDB"}}}
	f := facts(t, mariaSrc(t), dst, allTypes...)
	check(t, f, IDDestinationConflicts, Fail, "1 table exists already on the destination: `shop`.`orders`", "options.conflicts: ignore")
	f.Spec.Options.Conflicts = "ignore"
	check(t, f, IDDestinationConflicts, Pass, "options.conflicts=ignore")

	f.Spec.Options.Conflicts = "precheck"
	f.Spec.Types = []spec.MigrationType{spec.TypeFull}
	check(t, f, IDDestinationConflicts, Fail, "2 tables do not exist on the destination and schema is not among types, so nothing creates them: `shop`.`my-table`, `shop`.`order`", "add schema")
	for _, n := range []string{"order", "my-table"} {
		dst.Catalog.Tables = append(dst.Catalog.Tables, Table{DB: "shop", Name: n, Type: "BASE TABLE"})
	}
	dst.Catalog.NonEmpty = map[plan.Name]bool{{DB: "shop", Table: "orders"}: true}
	check(t, f, IDDestinationConflicts, Fail, "1 table on the destination already holds rows", "TRUNCATE")
	f.Spec.Types = []spec.MigrationType{spec.TypeIncremental}
	check(t, f, IDDestinationConflicts, Pass, "all 3 target tables exist")

	// A case-insensitive destination has `Orders` where `orders` is wanted.
	dst.Catalog.Tables = []Table{{DB: "shop", Name: "Orders"}}
	dst.Variables["lower_case_table_names"] = "2"
	f.Spec.Types = allTypes
	check(t, f, IDDestinationConflicts, Fail, "`shop`.`orders`")
	dst.Catalog = nil
	dst.CatalogError = "Error 1044"
	check(t, f, IDDestinationConflicts, Warn, "cannot read the destination catalog (Error 1044)")
}

func TestNamesItem(t *testing.T) {
	src := mariaSrc(t)
	src.Catalog = &Catalog{Databases: []string{"shop"}, Tables: []Table{
		{DB: "shop", Name: "Orders", Type: "BASE TABLE", Engine: "InnoDB", PrimaryKey: true},
		{DB: "shop", Name: "orders", Type: "BASE TABLE", Engine: "InnoDB", PrimaryKey: true},
	}}
	f := facts(t, src, mariaDst(t), spec.TypeSchema)
	check(t, f, IDDestinationNames, Pass, "the destination names of the 2 selected tables")
	f.Spec.Options.Case = "upper"
	f.replan()
	check(t, f, IDDestinationNames, Fail, "`shop`.`Orders` and `shop`.`orders` would both be migrated to `SHOP`.`ORDERS`", "options.case")
	f.Spec.Options.Case = "default"
	f.Spec.Objects[0].To = strings.Repeat("d", 70)
	f.Spec.Objects[0].Tables = []spec.Table{{Name: "Orders", To: "emoji😀"}}
	f.replan()
	check(t, f, IDDestinationNames, Fail, "database name `ddd", "is 70 characters long", "(from `shop`.`Orders`) contains '😀'")
	// A destination with lower_case_table_names=1 stores both as `orders`.
	f.Spec.Objects[0].To, f.Spec.Objects[0].Tables = "", nil
	f.Destination.Variables["lower_case_table_names"] = "1"
	f.replan()
	check(t, f, IDDestinationNames, Fail, "would both be migrated to")
}

func TestFreeSpaceItem(t *testing.T) {
	dst := mariaDst(t)
	dst.Datadir = "/var/lib/mysql/"
	dst.Disks = []Disk{
		{Path: "/", Total: 100 << 30, Used: 10 << 30, Available: 90 << 30},
		{Path: "/var/lib/mysql", Total: 10 << 20, Used: 8 << 20, Available: 2 << 20},
		{Path: "/var/lib/mysqlx", Total: 1 << 40, Available: 1 << 40},
	}
	f := facts(t, mariaSrc(t), dst, spec.TypeFull)
	// 1.5 MiB + 2 x 16 KiB against 2 MiB free of 10 MiB, keeping 1 MiB.
	check(t, f, IDDestinationFreeSpace, Warn, "take 1.5 MiB (data and indexes)", "is on /var/lib/mysql with 2.0 MiB free of 10.0 MiB", "free or add space")
	dst.Disks[1].Available = 4 << 20
	check(t, f, IDDestinationFreeSpace, Pass, "4.0 MiB free on /var/lib/mysql")
	dst.Disks, dst.DisksError = nil, "the MariaDB DISKS plugin is not installed"
	check(t, f, IDDestinationFreeSpace, Pass, "cannot estimate free space on the destination (the MariaDB DISKS plugin is not installed)")
	dst.Disks, dst.DisksError, dst.Datadir = []Disk{{Path: "/data"}}, "", "/var/lib/mysql/"
	check(t, f, IDDestinationFreeSpace, Pass, "no disk in information_schema.DISKS holds its datadir")
}

func TestOnlineDDLItems(t *testing.T) {
	src := mariaSrc(t)
	src.Catalog = &Catalog{Databases: []string{"shop"}, Tables: append(slices.Clone(shopCatalog.Tables),
		Table{DB: "shop", Name: "_orders_gho"}, Table{DB: "shop", Name: "_orders_ghc"}, Table{DB: "shop", Name: "_orders_del"},
		Table{DB: "shop", Name: "_orders_20240101120000_del"}, Table{DB: "shop", Name: "_order_old"}, Table{DB: "shop", Name: "_order_new"},
		Table{DB: "shop", Name: "orders_gho"}, Table{DB: "shop", Name: "_gho"}, Table{DB: "other", Name: "_x_gho"},
	), Triggers: []Trigger{
		{DB: "shop", Table: "orders", Name: "pt_osc_shop_orders_ins", Timing: "AFTER", Event: "INSERT"},
		{DB: "shop", Table: "orders", Name: "audit_orders", Timing: "AFTER", Event: "INSERT"},
	}}
	f := facts(t, src, mariaDst(t), spec.TypeFull)
	f.Spec.Objects[0].Tables = []spec.Table{{Name: "orders"}}
	f.replan()
	it := check(t, f, IDOnlineDDLLeftovers, Warn, "6 tables look like tables that gh-ost or pt-online-schema-change left behind",
		"`shop`.`_orders_gho`", "`shop`.`_orders_20240101120000_del`", "`shop`.`_order_new`", "exclude_tables")
	for _, not := range []string{"`orders_gho`", "`_gho`", "_x_gho"} {
		if strings.Contains(it.Message, not) {
			t.Errorf("%s is no leftover: %s", not, it.Message)
		}
	}
	check(t, f, IDOnlineDDLLeftovers, Warn, "`shop`.`_orders_gho` (gh-ost shadow table)", "`shop`.`_orders_del` (gh-ost changelog or old table)",
		"`shop`.`_order_old` (pt-online-schema-change table)", `exclude_tables: ["_order_new", "_order_old", "_orders_20240101120000_del", "_orders_del", "_orders_ghc", "_orders_gho"]`)

	// options.gh_ost replaces gh-ost's names; pt-online-schema-change's stay.
	f.Spec.Options.GhOst = spec.GhOst{ShadowTable: `^~(.+)_shadow$`, TrashTable: `^~(.+)_trash$`}
	src.Catalog.Tables = append(src.Catalog.Tables, Table{DB: "shop", Name: "~orders_shadow"}, Table{DB: "shop", Name: "~orders_trash"})
	it = check(t, f, IDOnlineDDLLeftovers, Warn, "4 tables look like", "`shop`.`~orders_shadow` (gh-ost shadow table)", "`shop`.`~orders_trash` (gh-ost changelog or old table)", "`shop`.`_order_new`")
	if strings.Contains(it.Message, "_orders_gho") {
		t.Errorf("gh-ost's default names still matched: %s", it.Message)
	}
	f.Spec.Options.GhOst.TrashTable = "("
	check(t, f, IDOnlineDDLLeftovers, Warn, "options.gh_ost.trash_table \"(\" is not a valid regular expression", "fix options.gh_ost.trash_table")
	src.Catalog.Tables = slices.Clone(shopCatalog.Tables)
	f.Spec.Options.GhOst = spec.GhOst{}
	check(t, f, IDOnlineDDLLeftovers, Pass, "no gh-ost or pt-online-schema-change leftover tables", "^_(.+)_gho$")

	it = check(t, f, IDPTOSCTriggers, Fail, "`shop`.`pt_osc_shop_orders_ins` on `shop`.`orders`", "not supported", "DROP TRIGGER")
	if strings.Contains(it.Message, "audit") {
		t.Errorf("an ordinary trigger reported: %s", it.Message)
	}
	src.Catalog.Triggers = src.Catalog.Triggers[1:]
	check(t, f, IDPTOSCTriggers, Pass)
}

func TestCapList(t *testing.T) {
	var items []string
	for i := range 13 {
		items = append(items, fmt.Sprint(i))
	}
	if got := capList(items); got != "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 3 more" {
		t.Errorf("capList: %q", got)
	}
	if got := capList(items[:2]); got != "0, 1" {
		t.Errorf("capList: %q", got)
	}
}

func TestBlockingAndIgnore(t *testing.T) {
	f := facts(t, mysqlSrc(t), mariaDst(t), allTypes...)
	r := Evaluate(*f)
	b := r.Blocking(nil)
	if len(b) != 2 || b[0].ID != IDVersionDifference || b[1].ID != IDBinlogRowMetadata {
		t.Fatalf("blocking: %+v", b)
	}
	// The metadata item is a failure (the reader cannot decode safely without it):
	// ignore_warnings lifts warnings only.
	if b := r.Blocking([]string{IDBinlogRowMetadata, IDVersionDifference}); len(b) != 1 || b[0].ID != IDBinlogRowMetadata {
		t.Fatalf("ignored warnings still block, or a failure was ignored: %+v", b)
	}
}

func TestDependencies(t *testing.T) {
	f := facts(t, mariaSrc(t), mariaDst(t), spec.TypeSchema)
	item := func() Item {
		t.Helper()
		it, ok := findItem(Evaluate(*f), IDDependencies)
		if !ok {
			t.Fatal("objects.dependencies did not run")
		}
		return it
	}
	if it := item(); it.Status != Pass || !strings.Contains(it.Message, "is migrated") {
		t.Errorf("nothing missing: %+v", it)
	}
	view := "view `shop`.`v`"
	f.Schema.Dependencies = []Dependency{
		{Dependent: view, Kind: "table or view", Source: plan.Name{DB: "shop", Table: "hidden"}, Dest: plan.Name{DB: "shop2", Table: "hidden"}, Reason: "not selected"},
		{Dependent: view, Kind: "function", Source: plan.Name{DB: "lib", Table: "f"}, Dest: plan.Name{DB: "lib", Table: "f"}, Reason: "its database is not in objects", OnDestination: true},
	}
	it := item()
	if it.Status != Fail || !strings.Contains(it.Message, "view `shop`.`v` needs table or view `shop`.`hidden` (not selected), which the destination lacks as `shop2`.`hidden`") ||
		strings.Contains(it.Message, "`lib`.`f`") || !strings.Contains(it.Remedy, "exclude_tables") {
		t.Errorf("missing table: %+v", it)
	}
	f.Schema.Dependencies[0].OnDestination = true
	if it := item(); it.Status != Pass || !strings.Contains(it.Message, "2 already there") {
		t.Errorf("all on the destination: %+v", it)
	}
	f.Schema.DependenciesError = "SHOW CREATE VIEW: denied"
	if it := item(); it.Status != Warn || !strings.Contains(it.Message, "denied") {
		t.Errorf("unreadable: %+v", it)
	}
	// Objects that cannot be worked out fail, with no column excluded.
	f.Schema, f.SchemaError = nil, "view `shop`.`v` and table `shop`.`t` would both be migrated to `shop`.`t`"
	r := Evaluate(*f)
	if it, _ := findItem(r, IDDependencies); it.Status != Fail || !strings.Contains(it.Message, "would both be migrated") || !strings.Contains(it.Remedy, "rename one") {
		t.Errorf("unresolvable: %+v", it)
	}
	if it, _ := findItem(r, IDExcludedColumns); it.Status != Pass {
		t.Errorf("excluded_columns without exclusions: %+v", it)
	}
}

func findItem(r Report, id string) (Item, bool) {
	for _, it := range r.Items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// A target name the destination holds as the other kind (a view where a table goes,
// a table where a view goes) fails even with conflicts: ignore, which never turns
// one into the other.
func TestConflictsOtherKind(t *testing.T) {
	f := facts(t, mariaSrc(t), mariaDst(t), spec.TypeSchema)
	f.Spec.Options.Conflicts = "ignore"
	f.Destination.Catalog.Tables = []Table{{DB: "shop", Name: "orders", Type: "VIEW"}, {DB: "shop", Name: "v", Type: "BASE TABLE"}}
	f.Schema.Views = []plan.Name{{DB: "shop", Table: "v"}}
	it, _ := findItem(Evaluate(*f), IDDestinationConflicts)
	if it.Status != Fail || !strings.Contains(it.Message, "table `shop`.`orders` -> `shop`.`orders` (a view there)") ||
		!strings.Contains(it.Message, "view `shop`.`v` (a table there)") || !strings.Contains(it.Remedy, "to:") {
		t.Errorf("other kind: %+v", it)
	}
	f.Destination.Catalog.Tables = []Table{{DB: "shop", Name: "orders", Type: "BASE TABLE"}, {DB: "shop", Name: "v", Type: "VIEW"}}
	if it, _ := findItem(Evaluate(*f), IDDestinationConflicts); it.Status != Pass {
		t.Errorf("same kinds with ignore: %+v", it)
	}
}

func TestExpressionsItem(t *testing.T) {
	has := func(f *Facts) bool {
		return slices.ContainsFunc(Evaluate(*f).Items, func(it Item) bool { return it.ID == IDETLExpressions })
	}
	f := facts(t, mariaSrc(t), mariaDst(t), allTypes...)
	if has(f) {
		t.Error("no expressions, yet an item")
	}
	f.ETL = &ETLFacts{Expressions: 3, Tables: 2}
	check(t, f, IDETLExpressions, Pass, "3 filter and transform expressions on 2 tables type-check")
	f.ETL.Problems = []ETLProblem{{Place: "shop.yaml:12:15", Path: "objects[0].tables[1].filter", Table: "`shop`.`orders`",
		Msg: "undefined field 'stauts'", Hint: `did you mean "status"?`, Snippet: "row.stauts == 1\n    ^"}}
	it := check(t, f, IDETLExpressions, Fail, "1 expression of 3 do not type-check", "fix the expressions")
	if len(it.Details) != 3 || it.Details[0] != "shop.yaml:12:15: objects[0].tables[1].filter (`shop`.`orders`): undefined field 'stauts' (did you mean \"status\"?)" || it.Details[2] != "    ^" {
		t.Errorf("details %q", it.Details)
	}
	// Schema-only migrations copy no rows: nothing to check.
	f = facts(t, mariaSrc(t), mariaDst(t), spec.TypeSchema)
	f.ETL = &ETLFacts{Expressions: 1}
	if has(f) {
		t.Error("a schema-only migration checks expressions")
	}
}
