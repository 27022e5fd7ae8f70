package spec

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withTables replaces line 12 of base (`tables: ["*"]`) by a block list whose
// entries start on line 13, indented by 6.
func withTables(entries string) string {
	return strings.Replace(base, `    tables: ["*"]`+"\n", "    tables:\n"+entries, 1)
}

func drop(lines ...string) string {
	s := base
	for _, l := range lines {
		s = strings.Replace(s, l+"\n", "", 1)
	}
	return s
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		// Required fields: a missing one is reported at its parent mapping.
		{"missing name", drop("name: t"),
			[]want{{1, 1, "name", "required field is missing"}}},
		{"missing source.host", drop("  host: 127.0.0.1"),
			[]want{{2, 1, "source.host", "required field is missing"}}},
		{"missing destination", drop("destination:", "  host: 127.0.0.2", "  user: u"),
			[]want{{1, 1, "destination", "required field is missing"}}},
		{"empty host", strings.Replace(base, "host: 127.0.0.1", `host: ""`, 1),
			[]want{{3, 9, "source.host", "must not be empty"}}},
		{"missing types", drop("types: [schema, full, incremental]"),
			[]want{{1, 1, "types", "required field is missing"}}},
		{"empty types", strings.Replace(base, "types: [schema, full, incremental]", "types: []", 1),
			[]want{{9, 8, "types", "is empty: list at least one of schema, full, incremental"}}},
		{"missing objects", drop("objects:", "  - database: shop", `    tables: ["*"]`),
			[]want{{1, 1, "objects", "required field is missing"}}},
		{"missing database", strings.Replace(base, "  - database: shop\n    tables", "  - tables", 1),
			[]want{{11, 5, "objects[0].database", "required field is missing"}}},
		{"missing tables", drop(`    tables: ["*"]`),
			[]want{{11, 5, "objects[0].tables", "required field is missing"}}},
		{"empty tables", strings.Replace(base, `tables: ["*"]`, "tables: []", 1),
			[]want{{12, 13, "objects[0].tables", "is empty"}}},

		{"types", strings.Replace(base, "types: [schema, full, incremental]", "types: [schema, ful, schema]", 1),
			[]want{
				{9, 17, "types[1]", `"ful" is not one of schema, full or incremental; did you mean "full"?`},
				{9, 22, "types[2]", "schema is listed twice (also types[0])"},
			}},
		{"name with a space", strings.Replace(base, "name: t", "name: shop demo", 1),
			[]want{{1, 7, "name", `"shop demo" contains ' ': the name becomes the Temporal workflow ID`}}},
		{"name too long", strings.Replace(base, "name: t", "name: "+strings.Repeat("n", 201), 1),
			[]want{{1, 7, "name", "is 201 characters long; at most 200"}}},

		{"port", strings.Replace(base, "  user: u\n  password", "  port: 70000\n  user: u\n  password", 1),
			[]want{{4, 9, "source.port", "70000 is not a TCP port (1-65535)"}}},
		{"port in host", strings.Replace(base, "host: 127.0.0.1", "host: 127.0.0.1:3306", 1),
			[]want{{3, 9, "source.host", "put the port in port: (host: 127.0.0.1, port: 3306)"}}},
		{"bracketed IPv6", strings.Replace(base, "host: 127.0.0.1", `host: "[::1]"`, 1),
			[]want{{3, 9, "source.host", "write the IPv6 address without brackets: ::1"}}},
		{"tls mode", strings.Replace(base, "${SRC_PASSWORD}\n", "${SRC_PASSWORD}\n  tls: {mode: verify_ca}\n", 1),
			[]want{{6, 15, "source.tls.mode", `"verify_ca" is not one of disabled, preferred, required, verify-ca or verify-identity; did you mean "verify-ca"?`}}},
		{"verify-ca needs ca", strings.Replace(base, "${SRC_PASSWORD}\n", "${SRC_PASSWORD}\n  tls: {mode: verify-ca}\n", 1),
			[]want{{6, 3, "source.tls.ca", "tls.mode verify-ca needs tls.ca"}}},
		{"cert without key", strings.Replace(base, "${SRC_PASSWORD}\n", "${SRC_PASSWORD}\n  tls: {cert: /c.pem}\n", 1),
			[]want{{6, 3, "source.tls.key", "tls.cert is set without tls.key"}}},

		{"enum options", base + "options:\n  conflicts: ignor\n  case: Upper\n  triggers: after_full\n  online_ddl: ghost\n",
			[]want{
				{14, 14, "options.conflicts", `"ignor" is not one of precheck or ignore; did you mean "ignore"?`},
				{15, 9, "options.case", `did you mean "upper"?`},
				{16, 13, "options.triggers", `did you mean "after-full"?`},
				{17, 15, "options.online_ddl", `"ghost" is not one of none or gh-ost; did you mean "gh-ost"?`},
			}},
		{"retry windows", base + "options:\n  retry: {connection: 5m, other: 20m}\n",
			[]want{
				{14, 23, "options.retry.connection", "5m is outside 10m-1440m, the range DTS allows"},
				{14, 34, "options.retry.other", "20m must be shorter than retry.connection (5m)"},
			}},
		{"retry too long", base + "options:\n  retry:\n    connection: 25h\n    other: 0.5m\n",
			[]want{
				{15, 17, "options.retry.connection", "1500m is outside 10m-1440m"},
				{16, 12, "options.retry.other", "30s is outside 1m-1440m"},
			}},
		{"retry other equal to connection", base + "options:\n  retry: {connection: 10m, other: 10m}\n",
			[]want{{14, 35, "options.retry.other", "10m must be shorter than retry.connection (10m)"}}},
		{"alert webhook written in the file", base + "options:\n  alerts:\n    webhook: \"https://hooks.slack.com/services/T0/B0/secret\"\n    lag: {for: 5m}\n",
			[]want{
				{15, 14, "options.alerts.webhook", "must be a ${NAME} reference to an environment variable of the worker"},
				{16, 5, "options.alerts.lag.threshold", "required field is missing"},
			}},
		{"alert without a webhook", base + "options:\n  alerts: {lag: {threshold: 30s}}\n",
			[]want{{14, 3, "options.alerts.webhook", "required field is missing"}}},
		{"verify without the phases it follows", strings.Replace(base, "[schema, full, incremental]", "[schema]", 1) + "options:\n  verify: {after_full: true, continuous: true, interval: 5s}\n",
			[]want{
				{14, 24, "options.verify.after_full", "needs full in types"},
				{14, 42, "options.verify.continuous", "needs incremental in types"},
				{14, 58, "options.verify.interval", "5s is outside 10s-1440m"},
			}},
		{"verify interval without continuous, bad throttle", base + "options:\n  verify:\n    after_full: true\n    interval: 1m\n    rps: -5\n    parallel: 300\n",
			[]want{
				{16, 15, "options.verify.interval", "applies to continuous verification only"},
				{17, 10, "options.verify.rps", "-5 is negative"},
				{18, 15, "options.verify.parallel", "300 is outside 0-256"},
			}},
		{"full parallel", base + "options:\n  full: {parallel: 999}\n",
			[]want{{14, 20, "options.full.parallel", "999 is outside 0-256"}}},
		{"incremental parallel", base + "options:\n  incremental: {parallel: 65}\n",
			[]want{{14, 27, "options.incremental.parallel", "65 is outside 0-64"}}},
		{"throttle", base + "options:\n  throttle: {full: {rps: -1}, incremental: {source_qps: 5, mbps: -0.5}}\n",
			[]want{
				{14, 26, "options.throttle.full.rps", "-1 is negative (0 means unlimited)"},
				{14, 57, "options.throttle.incremental.source_qps", "applies to full only"},
				{14, 66, "options.throttle.incremental.mbps", "must be a number >= 0"},
			}},

		{"bad pattern", withTables("      - \"bad[\"\n"),
			[]want{{13, 9, "objects[0].tables[0]", `"bad[" is not a valid pattern`}}},
		{"pattern cannot be renamed", withTables("      - {name: \"o*\", to: x, columns: {a: b}}\n"),
			[]want{
				{13, 26, "objects[0].tables[0].to", `cannot rename a pattern ("o*" can match many tables)`},
				{13, 38, "objects[0].tables[0].columns", `column renames need an exact table name, not the pattern "o*"`},
			}},
		{"database pattern", strings.Replace(base, "database: shop", "database: shop*", 1),
			[]want{{11, 15, "objects[0].database", `"shop*": database must be an exact name`}}},
		{"bad exclude pattern", strings.Replace(base, `tables: ["*"]`, `tables: ["*"]`+"\n    exclude_tables: [\"[\", \"\"]", 1),
			[]want{
				{13, 22, "objects[0].exclude_tables[0]", `"[" is not a valid pattern`},
				{13, 27, "objects[0].exclude_tables[1]", "is empty"},
			}},
		{"identifiers", strings.Replace(base, "  - database: shop\n    tables: [\"*\"]",
			"  - database: "+strings.Repeat("d", 65)+"\n    to: \"x \"\n    tables:\n      - name: \"t\U0001F600\"\n        to: \"\"\n        columns: {\"c\\0\": ok}", 1),
			[]want{
				{11, 15, "objects[0].database", `is 65 characters long; MySQL names have at most 64`},
				{12, 9, "objects[0].to", `"x " ends with a space, which MySQL does not allow`},
				{14, 15, "objects[0].tables[0].name", `outside the Basic Multilingual Plane`},
				{16, 19, `objects[0].tables[0].columns["c\x00"]`, "contains a NUL character"},
			}},
		{"duplicates and clashes", strings.Replace(withTables(
			"      - orders\n      - orders\n      - {name: a, to: t}\n      - {name: b, to: t}\n      - {name: tmp_x}\n"),
			"    tables:\n", "    exclude_tables: [\"tmp_*\"]\n    tables:\n", 1) + "  - database: shop\n    tables: [\"*\"]\n",
			[]want{
				{15, 9, "objects[0].tables[1]", `"orders" is already listed at objects[0].tables[0]`},
				{17, 16, "objects[0].tables[3].name", "goes to the same destination table shop.t as objects[0].tables[2]"},
				{18, 16, "objects[0].tables[4].name", `"tmp_x" is listed here and excluded by exclude_tables "tmp_*"`},
				{19, 15, "objects[1].database", `database "shop" is already listed at objects[0]`},
			}},
		{"case folding makes names clash", withTables("      - {name: a, to: T}\n      - {name: b, to: t}\n") + "options: {case: lower}\n",
			[]want{{14, 16, "objects[0].tables[1].name", "goes to the same destination table shop.t"}}},
		{"columns", withTables("      - name: t\n        columns: {a: x, b: x, c: y}\n        exclude_columns: [c, d, d, e]\n        transform: {e: row.e}\n"),
			[]want{
				{14, 28, "objects[0].tables[0].columns.b", `columns "a" and "b" would both become "x"`},
				{15, 27, "objects[0].tables[0].exclude_columns[0]", `"c" is both renamed (columns) and excluded`},
				{15, 33, "objects[0].tables[0].exclude_columns[2]", `"d" is listed twice (also exclude_columns[1])`},
				{15, 36, "objects[0].tables[0].exclude_columns[3]", `"e" is excluded but has a transform`},
			}},
		{"CEL filter", withTables("      - name: orders\n        filter: 'row.x !='\n"),
			[]want{{14, 26, "objects[0].tables[0].filter", "invalid CEL expression: Syntax error: mismatched input '<EOF>'"}}},
		{"CEL transform", withTables("      - name: orders\n        transform:\n          email: row.email.lowerAscii(\n          note: \" \"\n"),
			[]want{
				{15, 39, "objects[0].tables[0].transform.email", "invalid CEL expression: Syntax error"},
				{16, 17, "objects[0].tables[0].transform.note", "the CEL expression is empty"},
			}},
		{"CEL in a block scalar", withTables("      - name: orders\n        filter: |\n          row.a > 1\n          && (\n"),
			[]want{{17, 1, "objects[0].tables[0].filter", "invalid CEL expression: Syntax error"}}},
		{"operations", withTables("      - {name: a, operations: [insert, delet, insert]}\n      - {name: b, operations: []}\n"),
			[]want{
				{13, 40, "objects[0].tables[0].operations[1]", `"delet" is not one of insert, update, delete or ddl; did you mean "delete"?`},
				{13, 47, "objects[0].tables[0].operations[2]", "insert is listed twice (also operations[0])"},
				{14, 31, "objects[0].tables[1].operations", "is empty: omit operations to replicate all"},
			}},
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

func TestRenamedTablesLimit(t *testing.T) {
	var b strings.Builder
	for i := range MaxRenamedTables + 1 {
		fmt.Fprintf(&b, "      - {name: t%d, to: u%d}\n", i, i)
	}
	_, err := Parse("t.yaml", []byte(withTables(b.String())))
	expectErrors(t, err, []want{{11, 3, "objects", "1001 table entries rename a table or its columns; at most 1000"}})

	// Exactly the limit is fine, and entries that rename nothing do not count.
	b.Reset()
	for i := range MaxRenamedTables {
		fmt.Fprintf(&b, "      - {name: t%d, columns: {a: b}}\n", i)
	}
	b.WriteString("      - {name: plain, filter: 'row.a > 1'}\n")
	if _, err := Parse("t.yaml", []byte(withTables(b.String()))); err != nil {
		t.Fatal(err)
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"schema and incremental without full", strings.Replace(base, "[schema, full, incremental]", "[schema, incremental]", 1),
			[]want{{9, 8, "types", "schema and incremental without full"}}},
		{"row options on a schema-only workflow", strings.Replace(withTables("      - name: a\n        filter: row.x > 1\n        transform: {x: row.x}\n        operations: [insert]\n"),
			"[schema, full, incremental]", "[schema]", 1),
			[]want{
				{14, 17, "objects[0].tables[0].filter", "ignored: a filter applies to rows copied by full and incremental"},
				{15, 20, "objects[0].tables[0].transform", "ignored: a transform applies"},
				{16, 21, "objects[0].tables[0].operations", "ignored: operations select what incremental migration replicates"},
			}},
		{"accounts and online DDL", strings.Replace(base, "[schema, full, incremental]", "[full]", 1) + "options: {accounts: true, online_ddl: gh-ost}\n",
			[]want{
				{13, 21, "options.accounts", "ignored: accounts are migrated by the schema phase"},
				{13, 39, "options.online_ddl", "ignored: online DDL handling applies to incremental migration"},
			}},
		{"tls settings that do nothing", strings.Replace(base, "${SRC_PASSWORD}\n", "${SRC_PASSWORD}\n  tls: {mode: disabled, ca: /ca.pem}\n", 1) +
			"", []want{{6, 15, "source.tls.mode", "TLS is disabled: tls.ca, tls.cert, tls.key and tls.server_name are ignored"}}},
		{"verify throttle without a verification", base + "options:\n  verify: {rps: 100}\n",
			[]want{{14, 11, "options.verify", "rps and parallel are ignored: neither after_full nor continuous is on"}}},
		{"server_name without verify-identity", strings.Replace(base, "${SRC_PASSWORD}\n", "${SRC_PASSWORD}\n  tls: {mode: required, server_name: db}\n", 1),
			[]want{{6, 38, "source.tls.server_name", "only used with tls.mode verify-identity (the mode is required)"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("t.yaml", []byte(c.src))
			if err != nil {
				t.Fatalf("warnings must not be errors: %v", err)
			}
			expectErrors(t, s.Warnings(), c.want)
		})
	}
	s, err := Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("base has warnings: %v", w)
	}
}

// A Spec built in code (no file) is validated the same way, without positions, and
// Validate does not change it.
func TestValidateWithoutFile(t *testing.T) {
	s := &Spec{
		Name:        "x",
		Source:      Endpoint{Host: "h", User: "u", Password: "hunter2"},
		Destination: Endpoint{Host: "h2", User: "u", Password: "${DST}"},
		Types:       []MigrationType{TypeFull},
		Objects:     []Object{{Database: "d", Tables: []Table{{Name: "t", Operations: []string{"upsert"}}}}},
	}
	err := s.Validate()
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
	if got := es[0].Error(); !strings.HasPrefix(got, "source.password: a literal password is not allowed") || strings.Contains(got, "hunter2") {
		t.Errorf("first error %q", got)
	}
	if got := es[1].Error(); !strings.HasPrefix(got, `objects[0].tables[0].operations[0]: "upsert" is not one of`) {
		t.Errorf("second error %q", got)
	}
	if s.Source.Port != 0 || s.Options.Conflicts != "" {
		t.Errorf("Validate changed the spec: %+v", s)
	}
	// The plain string form reports at the entry, the mapping form at its name:.
	s.Source.Password = ""
	s.Objects[0].Tables = []Table{{Name: "a "}, {Name: "b ", To: "c"}}
	err = s.Validate()
	if !errors.As(err, &es) || len(es) != 2 || es[0].Field != "objects[0].tables[0]" || es[1].Field != "objects[0].tables[1].name" {
		t.Fatalf("got %v", err)
	}
}

func TestApplyDefaults(t *testing.T) {
	var s Spec
	s.ApplyDefaults()
	if s.Source.Port != 3306 || s.Destination.Port != 3306 || s.Source.TLS.Mode != "preferred" || s.Destination.TLS.Mode != "preferred" {
		t.Errorf("endpoints %+v %+v", s.Source, s.Destination)
	}
	o := s.Options
	if o.Conflicts != "precheck" || o.Case != "default" || o.Triggers != "after-cutover" || o.OnlineDDL != "none" ||
		o.Retry.Connection.D() != 720*time.Minute || o.Retry.Other.D() != 10*time.Minute {
		t.Errorf("options %+v", o)
	}
	before := s
	s.ApplyDefaults()
	if !reflect.DeepEqual(s, before) {
		t.Errorf("not idempotent")
	}
	// "other" stays below a short connection window.
	s = Spec{Options: Options{Retry: Retry{Connection: Duration(10 * time.Minute)}}}
	s.ApplyDefaults()
	if s.Options.Retry.Other.D() != 9*time.Minute {
		t.Errorf("other = %v", s.Options.Retry.Other)
	}
	// Explicit values are kept.
	s = Spec{Source: Endpoint{Port: 1, TLS: TLS{Mode: "disabled"}}, Options: Options{Conflicts: "ignore", Retry: Retry{Other: Duration(time.Minute)}}}
	s.ApplyDefaults()
	if s.Source.Port != 1 || s.Source.TLS.Mode != "disabled" || s.Options.Conflicts != "ignore" || s.Options.Retry.Other.D() != time.Minute {
		t.Errorf("explicit values changed: %+v", s)
	}
}

func TestIdentProblem(t *testing.T) {
	for name, want := range map[string]string{
		"orders":                  "",
		"naïve_表":                 "",
		strings.Repeat("é", 64):   "",
		strings.Repeat("é", 65):   "is 65 characters long",
		"":                        "is empty",
		"a ":                      "ends with a space",
		" a":                      "",
		"a\x00b":                  "NUL",
		"\xff":                    "not valid UTF-8",
		"x\U0001F600":             "Basic Multilingual Plane",
		"with.dot and `backtick`": "",
	} {
		got := identProblem(name)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("identProblem(%q) = %q, want %q", name, got, want)
		}
	}
}
