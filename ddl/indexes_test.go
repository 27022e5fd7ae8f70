package ddl

import (
	"strings"
	"testing"
)

func TestSplitIndexes(t *testing.T) {
	const sbtest = "CREATE TABLE `db`.`sbtest` (\n" +
		"  `id` int(11) NOT NULL AUTO_INCREMENT,\n" +
		"  `k` int(11) NOT NULL DEFAULT 0,\n" +
		"  `c` char(120) NOT NULL DEFAULT '',\n" +
		"  `pad` char(60) NOT NULL DEFAULT '',\n" +
		"  PRIMARY KEY (`id`),\n" +
		"  UNIQUE KEY `u` (`pad`),\n" +
		"  KEY `k_1` (`k`),\n" +
		"  KEY `my key`` x` (`c`(10) DESC,`k`),\n" +
		"  FULLTEXT KEY `ft` (`c`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
	for _, c := range []struct {
		name, in, want string
		idx            []Index
	}{
		{"sysbench", sbtest,
			"CREATE TABLE `db`.`sbtest` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `k` int(11) NOT NULL DEFAULT 0,\n  `c` char(120) NOT NULL DEFAULT '',\n  `pad` char(60) NOT NULL DEFAULT '',\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `u` (`pad`),\n  FULLTEXT KEY `ft` (`c`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			[]Index{{"k_1", "KEY `k_1` (`k`)"}, {"my key` x", "KEY `my key`` x` (`c`(10) DESC,`k`)"}}},
		{"last items", "CREATE TABLE `t` (\n  `id` int,\n  `a` int,\n  PRIMARY KEY (`id`),\n  KEY `a` (`a`),\n  KEY `b` (`a`,`id`)\n)",
			"CREATE TABLE `t` (\n  `id` int,\n  `a` int,\n  PRIMARY KEY (`id`)\n)",
			[]Index{{"a", "KEY `a` (`a`)"}, {"b", "KEY `b` (`a`,`id`)"}}},
		{"foreign key index kept", "CREATE TABLE `t` (\n  `id` int,\n  `p` int,\n  `q` int,\n  PRIMARY KEY (`id`),\n  KEY `fk_p` (`P`,`q`),\n  KEY `q` (`q`),\n  CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `db`.`parent` (`id`)\n)",
			"CREATE TABLE `t` (\n  `id` int,\n  `p` int,\n  `q` int,\n  PRIMARY KEY (`id`),\n  KEY `fk_p` (`P`,`q`),\n  CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `db`.`parent` (`id`)\n)",
			[]Index{{"q", "KEY `q` (`q`)"}}},
		{"auto_increment index kept", "CREATE TABLE `t` (\n  `tenant` int NOT NULL,\n  `id` int NOT NULL AUTO_INCREMENT,\n  `x` int,\n  PRIMARY KEY (`tenant`,`id`),\n  KEY `id` (`id`),\n  KEY `x` (`x`)\n)",
			"CREATE TABLE `t` (\n  `tenant` int NOT NULL,\n  `id` int NOT NULL AUTO_INCREMENT,\n  `x` int,\n  PRIMARY KEY (`tenant`,`id`),\n  KEY `id` (`id`)\n)",
			[]Index{{"x", "KEY `x` (`x`)"}}},
		{"no primary key", "CREATE TABLE `t` (\n  `a` int NOT NULL,\n  UNIQUE KEY `a` (`a`),\n  KEY `b` (`a`)\n)", "", nil},
		{"system versioning", "CREATE TABLE `t` (\n  `id` int,\n  PRIMARY KEY (`id`),\n  KEY `b` (`id`)\n) WITH SYSTEM VERSIONING", "", nil},
		{"expression part", "CREATE TABLE `t` (\n  `id` int,\n  `j` json,\n  PRIMARY KEY (`id`),\n  KEY `e` ((cast(`j` as char(10))))\n)", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, idx, err := SplitIndexes(c.in)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want == "" {
				want = c.in
			}
			if got != want {
				t.Errorf("statement:\n%s\nwant:\n%s", got, want)
			}
			if len(idx) != len(c.idx) {
				t.Fatalf("indexes %q, want %q", idx, c.idx)
			}
			for i := range idx {
				if idx[i] != c.idx[i] {
					t.Errorf("index %d: %q, want %q", i, idx[i], c.idx[i])
				}
			}
		})
	}
	_, idx, _ := SplitIndexes(sbtest)
	if got := AddIndexes("`db`.`sbtest`", idx); got != "ALTER TABLE `db`.`sbtest` ADD KEY `k_1` (`k`), ADD KEY `my key`` x` (`c`(10) DESC,`k`)" {
		t.Errorf("AddIndexes: %s", got)
	}
	if strings.Contains(sbtest, "\n\n") {
		t.Fatal("fixture")
	}
}
