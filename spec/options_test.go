package spec

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// incrementalOnly is base with types: [incremental] (line 9); cases append options
// from line 13.
var incrementalOnly = strings.Replace(base, "[schema, full, incremental]", "[incremental]", 1)

func TestStartErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"file without position", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003}\n",
			[]want{{15, 5, "options.incremental.start.binlog_pos", "required field is missing: binlog_file needs binlog_pos"}}},
		{"position without file", incrementalOnly + "options:\n  incremental:\n    start: {binlog_pos: 120}\n",
			[]want{{15, 5, "options.incremental.start.binlog_file", "required field is missing"}}},
		{"position before the first event", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003, binlog_pos: 3}\n",
			[]want{{15, 56, "options.incremental.start.binlog_pos", "3 is before the first event: positions start at 4"}}},
		{"zero and negative positions", incrementalOnly + "options:\n  incremental:\n    start:\n      binlog_file: mysql-bin.000003\n      binlog_pos: 0\n",
			[]want{{17, 19, "options.incremental.start.binlog_pos", "0 is before the first event"}}},
		{"file name with a directory", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: /var/lib/mysql/mysql-bin.000003, binlog_pos: 4}\n",
			[]want{{15, 26, "options.incremental.start.binlog_file", `"/var/lib/mysql/mysql-bin.000003" is not a binlog file name: write it as SHOW BINARY LOGS lists it`}}},
		{"file name without a sequence number", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin, binlog_pos: 4}\n",
			[]want{{15, 26, "options.incremental.start.binlog_file", `"mysql-bin" is not a binlog file name`}}},
		{"both forms", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003, binlog_pos: 4, gtid: 0-1-100}\n",
			[]want{{15, 65, "options.incremental.start.gtid", "give either binlog_file and binlog_pos, or gtid, not both"}}},
		{"empty start", incrementalOnly + "options:\n  incremental:\n    start: {}\n",
			[]want{{15, 12, "options.incremental.start", "is empty: give binlog_file and binlog_pos, or gtid"}}},
		{"empty gtid", incrementalOnly + "options:\n  incremental:\n    start: {gtid: \"\"}\n",
			[]want{{15, 19, "options.incremental.start.gtid", "must not be empty"}}},
		{"MariaDB GTID with two parts", incrementalOnly + "options:\n  incremental:\n    start: {gtid: 0-100}\n",
			[]want{{15, 19, "options.incremental.start.gtid", `"0-100" is not a GTID position (MariaDB GTID "0-100": want domain-server-sequence): write a MariaDB position like 0-1-100`}}},
		{"MariaDB GTID naming a domain twice", incrementalOnly + "options:\n  incremental:\n    start: {gtid: \"0-1-5,0-2-9\"}\n",
			[]want{{15, 19, "options.incremental.start.gtid", "names domain 0 twice"}}},
		{"MySQL GTID set with a bad UUID", incrementalOnly + "options:\n  incremental:\n    start: {gtid: \"3e11fa47-71ca-11e1-9e33:1-5\"}\n",
			[]want{{15, 19, "options.incremental.start.gtid", "want uuid:interval"}}},
		{"MySQL GTID set with a reversed interval", incrementalOnly + "options:\n  incremental:\n    start: {gtid: \"3e11fa47-71ca-11e1-9e33-c80aa9429562:9-5\"}\n",
			[]want{{15, 19, "options.incremental.start.gtid", `bad interval "9-5"`}}},
		{"not incremental only", base + "options:\n  incremental:\n    start: {gtid: 0-1-100}\n",
			[]want{{15, 12, "options.incremental.start", "only for types: [incremental]"}}},
		{"schema and incremental", strings.Replace(base, "[schema, full, incremental]", "[schema, incremental]", 1) +
			"options:\n  incremental:\n    start:\n      binlog_file: mysql-bin.000003\n      binlog_pos: 4\n",
			[]want{{16, 7, "options.incremental.start", "only for types: [incremental]"}}},
		{"unknown key", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003, binlog_pso: 4}\n",
			[]want{{15, 44, "options.incremental.start.binlog_pso", `unknown field; did you mean "binlog_pos"?`}}},
		{"position as text", incrementalOnly + "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003, binlog_pos: \"4\"}\n",
			[]want{{15, 56, "options.incremental.start.binlog_pos", `expected an integer, got "4"`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(c.src))
			if s != nil {
				t.Errorf("Parse returned a spec along with an error")
			}
			expectErrors(t, err, c.want)
		})
	}
}

func TestStartValues(t *testing.T) {
	cases := []struct {
		name, options string
		want          BinlogPosition
	}{
		{"file and position", "options:\n  incremental:\n    start: {binlog_file: mysql-bin.000003, binlog_pos: 4}\n",
			BinlogPosition{BinlogFile: "mysql-bin.000003", BinlogPos: 4}},
		{"seven-digit sequence, large offset", "options:\n  incremental:\n    start: {binlog_file: db1-relay.bin.1000001, binlog_pos: 5368709120}\n",
			BinlogPosition{BinlogFile: "db1-relay.bin.1000001", BinlogPos: 5368709120}},
		{"MariaDB GTID position", "options:\n  incremental:\n    start: {gtid: \"0-1-100,1-2-5\"}\n",
			BinlogPosition{GTID: "0-1-100,1-2-5"}},
		{"MySQL GTID set over two lines", "options:\n  incremental:\n    start:\n      gtid: >-\n        3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100,\n        4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:5\n",
			BinlogPosition{GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100, 4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3:5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(incrementalOnly+c.options))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Options.Incremental.Start; got != c.want {
				t.Fatalf("start %+v, want %+v", got, c.want)
			}
			if w := s.Warnings(); len(w) > 0 {
				t.Errorf("warnings: %v", w)
			}
			// The plan shows it and parses back to the same spec.
			plan := s.Redacted()
			if !strings.Contains(plan, "  incremental:\n    start:\n") {
				t.Errorf("plan lacks the start:\n%s", plan)
			}
			s2, err := Parse("plan.yaml", []byte(plan))
			if err != nil {
				t.Fatalf("plan does not parse: %v\n%s", err, plan)
			}
			if a, b := comparable(s), comparable(s2); !reflect.DeepEqual(a, b) {
				t.Errorf("round trip differs:\n%+v\n%+v", a, b)
			}
			// And it survives the workflow input's JSON.
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var s3 Spec
			if err := json.Unmarshal(b, &s3); err != nil {
				t.Fatal(err)
			}
			if s3.Options.Incremental.Start != c.want {
				t.Errorf("JSON round trip: %+v", s3.Options.Incremental.Start)
			}
		})
	}
	// Without a start nothing is rendered.
	s, err := Parse("t.yaml", []byte(incrementalOnly))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Options.Incremental.Start.IsZero() || strings.Contains(s.Redacted(), "start:") {
		t.Errorf("a start appeared from nowhere: %+v", s.Options.Incremental)
	}
}

func TestGhOstPatterns(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"invalid regular expression", base + "options:\n  gh_ost: {shadow_table: '^_(.+_gho$'}\n",
			[]want{{14, 26, "options.gh_ost.shadow_table", "invalid regular expression (Go RE2 syntax): missing closing ): `^_(.+_gho$`"}}},
		{"lookahead is not RE2", base + "options:\n  gh_ost:\n    trash_table: '^_(?!x)(.+)_del$'\n",
			[]want{{15, 18, "options.gh_ost.trash_table", "invalid regular expression (Go RE2 syntax): invalid or unsupported Perl syntax"}}},
		{"shadow pattern without a group", base + "options:\n  gh_ost: {shadow_table: '^_.+_gho$'}\n",
			[]want{{14, 26, "options.gh_ost.shadow_table", `"^_.+_gho$" has no capture group: the first group ( ) must capture the original table's name`}}},
		{"pattern matching every name", base + "options:\n  gh_ost: {shadow_table: '(.*)', trash_table: 'del|'}\n",
			[]want{
				{14, 26, "options.gh_ost.shadow_table", `"(.*)" matches an empty name`},
				{14, 47, "options.gh_ost.trash_table", `"del|" matches an empty name, so it matches part of every table name: anchor it, like ^_(.+)_(?:ghc|del)$`},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.src))
			expectErrors(t, err, c.want)
		})
	}

	// Defaults are gh-ost's own names; an override replaces only its own field.
	s, err := Parse("t.yaml", []byte(base+"options:\n  gh_ost: {trash_table: '^(.+)_(?:trash|ghc)$'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if g := s.Options.GhOst; g.ShadowTable != DefaultGhOstShadowTable || g.TrashTable != `^(.+)_(?:trash|ghc)$` {
		t.Errorf("gh_ost %+v", g)
	}
	// The defaults match what gh-ost creates and nothing else.
	s, _ = Parse("t.yaml", []byte(base))
	shadow, trash := s.Options.GhOst.ShadowTable, s.Options.GhOst.TrashTable
	for name, want := range map[string]string{
		"_orders_gho": "shadow", "_orders_ghc": "trash", "_orders_del": "trash", "_orders_20240101120000_del": "trash",
		"_my_table_gho": "shadow", "orders_gho": "", "_orders_gho_x": "", "_orders_new": "", "orders": "", "__gho": "",
	} {
		got := ""
		if matches(shadow, name) {
			got = "shadow"
		}
		if matches(trash, name) {
			got += "trash"
		}
		if got != want {
			t.Errorf("%s: matched %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(s.Redacted(), "  gh_ost:\n    shadow_table: ^_(.+)_gho$\n") {
		t.Errorf("plan lacks the gh_ost defaults:\n%s", s.Redacted())
	}
}

func matches(expr, name string) bool { return regexp.MustCompile(expr).MatchString(name) }

// Optional booleans (*bool): unset means the default, false is kept, a non-boolean
// is an error at its line.
func TestOptionalBooleans(t *testing.T) {
	const head = "name: t\nsource: {host: a, user: u}\ndestination: {host: b, user: u}\ntypes: [schema, full, incremental]\nobjects: [{database: d, tables: [\"*\"]}]\n"
	s, err := Parse("t.yaml", []byte(head))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Options.HeartbeatOn() || !s.Options.Full.Defer() {
		t.Fatalf("defaults: heartbeat %v, defer_indexes %v", s.Options.HeartbeatOn(), s.Options.Full.Defer())
	}
	s, err = Parse("t.yaml", []byte(head+"options:\n  heartbeat: false\n  full: {defer_indexes: false}\n  incremental: {parallel: 8}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Options.HeartbeatOn() || s.Options.Full.Defer() || s.Options.Incremental.Parallel != 8 {
		t.Fatalf("set: heartbeat %v, defer_indexes %v, parallel %d", s.Options.HeartbeatOn(), s.Options.Full.Defer(), s.Options.Incremental.Parallel)
	}
	_, err = Parse("t.yaml", []byte(head+"options:\n  heartbeat: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:7:14: options.heartbeat: expected true or false") {
		t.Fatalf("a number for a boolean: %v", err)
	}
}

// The test-only floor (RetryFloorEnv) lets windows of seconds through; without
// it they are refused.
func TestRetryFloorForTests(t *testing.T) {
	src := base + "options:\n  retry: {connection: 20s, other: 5s}\n"
	if _, err := Parse("w.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "20s is outside 10m-1440m") {
		t.Fatalf("without the floor: %v", err)
	}
	t.Setenv(RetryFloorEnv, "2s")
	s, err := Parse("w.yaml", []byte(src))
	if err != nil {
		t.Fatalf("with the floor: %v", err)
	}
	if s.Options.Retry.Connection.D() != 20*time.Second || s.Options.Retry.Other.D() != 5*time.Second {
		t.Fatalf("retry %+v", s.Options.Retry)
	}
}
