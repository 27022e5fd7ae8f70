package flavor

import (
	"strings"
	"testing"
)

func mustDetect(t *testing.T, v string) Flavor {
	t.Helper()
	f, err := Detect(v, "")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// SHOW GRANTS recorded from MariaDB 10.11 for a user created with
// GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT, SHOW VIEW ON *.*; SLAVE MONITOR;
// column and table grants on `my-db`.t; ALL on `shop\_v2`.*; a role.
var mariaGrants = []string{
	"GRANT `r1` TO `u1`@`%`",
	"GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, SHOW VIEW, SLAVE MONITOR ON *.* TO `u1`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'",
	"GRANT ALL PRIVILEGES ON `shop\\_v2`.* TO `u1`@`%` WITH GRANT OPTION",
	"GRANT SELECT (`a`), INSERT ON `my-db`.`t` TO `u1`@`%`",
	"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, EVENT, TRIGGER, DELETE HISTORY ON `test`.* TO PUBLIC",
	"GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u1`@`%`",
}

func TestParseGrantsMariaDB(t *testing.T) {
	f := mustDetect(t, "10.11.19-MariaDB-0+deb12u1-log")
	g, err := f.ParseGrants(mariaGrants)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Priv{f.PrivReplicationSlave(), f.PrivBinlogMonitor(), f.PrivReplicaMonitor(), {Name: "SELECT"}, {Name: "SHOW VIEW"}} {
		if !g.HasGlobal(p) {
			t.Errorf("global %s missing", p.Name)
		}
	}
	// The user typed REPLICATION CLIENT; MariaDB shows BINLOG MONITOR: both names must work.
	if !g.HasGlobal(Priv{Name: "REPLICATION CLIENT"}) || !g.HasGlobal(Priv{Name: "REPLICA MONITOR"}) {
		t.Error("aliases not folded")
	}
	if g.HasGlobal(Priv{Name: "INSERT"}) || g.GlobalGrantOption {
		t.Error("INSERT or GRANT OPTION granted globally by mistake")
	}
	// ALL PRIVILEGES ON `shop\_v2`.*: the escaped underscore is literal.
	if !g.Has(Priv{Name: "INSERT"}, "shop_v2", "orders") || !g.Has(Priv{Name: "CREATE"}, "shop_v2", "") {
		t.Error("db-level ALL on shop_v2")
	}
	if g.Has(Priv{Name: "INSERT"}, "shopXv2", "orders") {
		t.Error("escaped _ matched any character")
	}
	// ALL at database level does not give global-only privileges.
	if g.Has(Priv{Name: "CREATE USER"}, "shop_v2", "") {
		t.Error("CREATE USER from a database grant")
	}
	// Table-level INSERT, column-level SELECT only.
	if !g.Has(Priv{Name: "INSERT"}, "my-db", "t") || g.Has(Priv{Name: "INSERT"}, "my-db", "u") {
		t.Error("table-level INSERT")
	}
	if g.Has(Priv{Name: "UPDATE"}, "my-db", "t") {
		t.Error("UPDATE not granted")
	}
	if !g.HasAnyOn(Priv{Name: "INSERT"}, "my-db") || g.HasAnyOn(Priv{Name: "DELETE"}, "my-db") {
		t.Error("HasAnyOn")
	}
	// PUBLIC grants apply to everyone.
	if !g.Has(Priv{Name: "DELETE"}, "test", "x") {
		t.Error("PUBLIC grant on test")
	}
	if len(g.Roles) != 1 || g.Roles[0] != "r1" {
		t.Errorf("roles %v", g.Roles)
	}
}

func TestParseGrantsMariaDBRoot(t *testing.T) {
	f := mustDetect(t, "10.11.19-MariaDB")
	g, err := f.ParseGrants([]string{
		"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
		"GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"SELECT", "BINLOG MONITOR", "SLAVE MONITOR", "CREATE USER", "GRANT OPTION", "REPLICATION SLAVE"} {
		if !g.Has(Priv{Name: p}, "any", "t") {
			t.Errorf("root lacks %s", p)
		}
	}
	if !g.GlobalGrantOption {
		t.Error("GlobalGrantOption")
	}
}

// MySQL 8.0 SHOW GRANTS (written from MySQL's documentation): static privileges listed
// one by one, dynamic privileges on a second line, roles, and a partial revoke.
func TestParseGrantsMySQL80(t *testing.T) {
	f := mustDetect(t, "8.0.36")
	g, err := f.ParseGrants([]string{
		"GRANT SELECT, RELOAD, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `dts`@`%`",
		"GRANT BACKUP_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `dts`@`%`",
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON `shop`.* TO `dts`@`%`",
		"GRANT SELECT ON `app_%`.* TO `dts`@`%`",
		"REVOKE SELECT ON `secret`.* FROM `dts`@`%`",
		"GRANT `app_read`@`%`,`app_write`@`%` TO `dts`@`%`",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !g.HasGlobal(f.PrivBinlogMonitor()) || !g.HasGlobal(f.PrivReplicaMonitor()) || !g.HasGlobal(f.PrivReplicationSlave()) {
		t.Error("replication privileges")
	}
	if f.PrivBinlogMonitor().Name != "REPLICATION CLIENT" {
		t.Error("MySQL names REPLICATION CLIENT")
	}
	if !g.Has(Priv{Name: "SELECT"}, "other", "t") {
		t.Error("global SELECT")
	}
	if g.Has(Priv{Name: "SELECT"}, "secret", "t") {
		t.Error("partial revoke ignored")
	}
	if !g.Has(Priv{Name: "CREATE"}, "shop", "") || g.Has(Priv{Name: "ALTER"}, "shop", "") {
		t.Error("db-level CREATE/ALTER")
	}
	// Unescaped _ and % are wildcards.
	if !g.Has(Priv{Name: "SELECT"}, "app_1", "") {
		t.Error("wildcard db grant")
	}
	if !g.HasGlobal(Priv{Name: "REPLICATION_SLAVE_ADMIN"}) {
		t.Error("dynamic privilege")
	}
	if len(g.Roles) != 2 || g.Roles[0] != "app_read@%" {
		t.Errorf("roles %v", g.Roles)
	}
}

// MySQL 5.7 (written from MySQL's documentation) quotes user names with single quotes;
// SUPER implies REPLICATION CLIENT.
func TestParseGrantsMySQL57(t *testing.T) {
	f := mustDetect(t, "5.7.44-log")
	g, err := f.ParseGrants([]string{
		"GRANT SUPER, REPLICATION SLAVE ON *.* TO 'dts'@'%'",
		"GRANT ALL PRIVILEGES ON `Shop`.* TO 'dts'@'%'",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !g.HasGlobal(f.PrivBinlogMonitor()) {
		t.Error("SUPER should satisfy REPLICATION CLIENT on MySQL")
	}
	if g.Has(Priv{Name: "SELECT"}, "shop", "") {
		t.Error("case-sensitive server matched Shop for shop")
	}
	g.CaseInsensitive = true
	if !g.Has(Priv{Name: "SELECT"}, "shop", "") {
		t.Error("lower_case_table_names server did not match Shop for shop")
	}
	// On MariaDB 10.5.2+, SUPER no longer implies BINLOG MONITOR.
	m := mustDetect(t, "10.6.16-MariaDB")
	mg, _ := m.ParseGrants([]string{"GRANT SUPER ON *.* TO `dts`@`%`"})
	if mg.HasGlobal(m.PrivBinlogMonitor()) {
		t.Error("MariaDB SUPER satisfied BINLOG MONITOR")
	}
	// MariaDB 10.5.2–10.5.8 needed REPLICATION SLAVE ADMIN for SHOW SLAVE STATUS.
	if p := mustDetect(t, "10.5.8-MariaDB").PrivReplicaMonitor(); p.Name != "REPLICATION SLAVE ADMIN" {
		t.Errorf("10.5.8: %s", p.Name)
	}
	if p := mustDetect(t, "10.4.30-MariaDB").PrivBinlogMonitor(); p.Name != "REPLICATION CLIENT" {
		t.Errorf("10.4: %s", p.Name)
	}
}

func TestParseGrantsErrorsHideSecrets(t *testing.T) {
	f := mustDetect(t, "10.11.6-MariaDB")
	_, err := f.ParseGrants([]string{"GRANT SELECT ON `unterminated TO `u`@`%` IDENTIFIED BY PASSWORD '*SECRETHASH'"})
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "SECRETHASH") {
		t.Fatalf("error leaks the hash: %v", err)
	}
	_, err = f.ParseGrants([]string{"Grants for u@%"})
	if err == nil {
		t.Fatal("header line accepted")
	}
}

func TestLikeMatch(t *testing.T) {
	cases := []struct {
		p, s string
		fold bool
		want bool
	}{
		{"shop", "shop", false, true},
		{"shop", "Shop", false, false},
		{"shop", "Shop", true, true},
		{"shop_%", "shop_v2", false, true},
		{"shop_%", "shopXv2", false, true},
		{`shop\_%`, "shopXv2", false, false},
		{`shop\_%`, "shop_v2", false, true},
		{"%", "", false, true},
		{"ä_ö", "äxö", false, true},
		{"a%b%c", "aXXbYYc", false, true},
		{"a%b%c", "aXXbYY", false, false},
	}
	for _, c := range cases {
		if got := LikeMatch(c.p, c.s, c.fold); got != c.want {
			t.Errorf("LikeMatch(%q, %q, %v) = %v", c.p, c.s, c.fold, got)
		}
	}
}
