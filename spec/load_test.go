package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// base is a valid file of 12 lines; cases append to it (line 13 onwards) or replace it.
const base = `name: t
source:
  host: 127.0.0.1
  user: u
  password: ${SRC_PASSWORD}
destination:
  host: 127.0.0.2
  user: u
types: [schema, full, incremental]
objects:
  - database: shop
    tables: ["*"]
`

// want is one expected error: its exact position, its field and part of its message.
type want struct {
	line, col int
	field     string
	msg       string
}

func (w want) String() string {
	return fmt.Sprintf("%d:%d: %s: ...%s...", w.line, w.col, w.field, w.msg)
}

// expectErrors asserts that err holds exactly the wanted errors, in file order.
func expectErrors(t *testing.T, err error, wants []want) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v", wants)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, not spec.Errors: %v", err, err)
	}
	if len(es) != len(wants) {
		t.Fatalf("got %d errors, want %d:\n%v\nwant: %v", len(es), len(wants), err, wants)
	}
	for i, w := range wants {
		e := es[i]
		if e.Line != w.line || e.Column != w.col || e.Field != w.field || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d:\n got  %d:%d: %s: %s\n want %v", i, e.Line, e.Column, e.Field, e.Msg, w)
		}
		if e.File != "t.yaml" {
			t.Errorf("error %d: file %q, want t.yaml", i, e.File)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"unknown key with suggestion", base + "options:\n    conflict: ignore\n",
			[]want{{14, 5, "options.conflict", `unknown field; did you mean "conflicts"?`}}},
		{"transposed letters", strings.Replace(base, "  host: 127.0.0.1", "  hots: 127.0.0.1", 1),
			[]want{{3, 3, "source.hots", `unknown field; did you mean "host"?`}}},
		{"no close key lists the known ones", base + "options:\n  speed: 3\n",
			[]want{{14, 3, "options.speed", "known fields here: conflicts, case, triggers"}}},
		{"mis-indented key", base + "port: 3306\n",
			[]want{{13, 1, "port", `"port" belongs under source or under destination: check the indentation`}}},
		{"all unknown keys at once", base + "options:\n  conflict: ignore\n  triggerz: after-full\nsorce: {}\n",
			[]want{
				{14, 3, "options.conflict", `did you mean "conflicts"?`},
				{15, 3, "options.triggerz", `did you mean "triggers"?`},
				{16, 1, "sorce", `did you mean "source"?`},
			}},
		{"strict inside a table mapping", strings.Replace(base, `tables: ["*"]`, "tables:\n      - name: orders\n        colums: {a: b}", 1),
			[]want{{14, 9, "objects[0].tables[0].colums", `did you mean "columns"?`}}},
		{"wrong type names the field and the type", strings.Replace(base, "  user: u\n  password", "  port: abc\n  user: u\n  password", 1),
			[]want{{4, 9, "source.port", `expected an integer, got "abc"`}}},
		{"a fraction is not truncated", base + "options:\n  throttle: {full: {rps: 2.5}}\n",
			[]want{{14, 26, "options.throttle.full.rps", `expected an integer, got "2.5"`}}},
		{"quoted number is not an integer", strings.Replace(base, "  user: u\n  password", "  port: '3306'\n  user: u\n  password", 1),
			[]want{{4, 9, "source.port", `expected an integer, got "3306"`}}},
		{"bool", base + "options:\n  accounts: maybe\n",
			[]want{{14, 13, "options.accounts", `expected true or false, got "maybe"`}}},
		{"scalar where a list belongs", strings.Replace(base, "types: [schema, full, incremental]", "types: full", 1),
			[]want{{9, 8, "types", `expected a list, got "full": write [full]`}}},
		{"list where a mapping belongs", base + "options: [a]\n",
			[]want{{13, 10, "options", "expected a mapping (key: value lines), got a list"}}},
		{"list where a string belongs", strings.Replace(base, "  user: u\n  password", "  user: [u]\n  password", 1),
			[]want{{4, 9, "source.user", "expected a string, got a list"}}},
		{"table entry of the wrong shape", strings.Replace(base, `tables: ["*"]`, "tables:\n      - [a]", 1),
			[]want{{13, 9, "objects[0].tables[0]", "expected a table name or a mapping with name:, got a list"}}},
		{"number changed by YAML", strings.Replace(base, "name: t", "name: 007", 1),
			[]want{{1, 7, "name", `YAML reads 007 as "7": quote it ('007')`}}},
		{"duration without unit", base + "options:\n  retry: {connection: 720}\n",
			[]want{{14, 23, "options.retry.connection", "720 has no unit: write 720m"}}},
		{"bad duration", base + "options:\n  retry:\n    other: soon\n",
			[]want{{15, 12, "options.retry.other", `expected a duration like 720m or 12h, got "soon"`}}},
		{"infinite number", base + "options:\n  throttle: {full: {mbps: .inf}}\n",
			[]want{{14, 27, "options.throttle.full.mbps", "expected a finite number"}}},
		{"duplicate key", base + "name: u\n",
			[]want{{13, 1, "name", "duplicate key; first defined at line 1, column 1"}}},
		{"duplicate nested key", strings.Replace(base, "  user: u\n  password", "  user: u\n  user: v\n  password", 1),
			[]want{{5, 3, "source.user", "duplicate key; first defined at line 4, column 3"}}},
		{"duplicate column", strings.Replace(base, `tables: ["*"]`, "tables:\n      - name: t\n        columns: {a: b, a: c}", 1),
			[]want{{14, 25, "objects[0].tables[0].columns.a", "duplicate key; first defined at line 14, column 19"}}},
		{"unsupported tag", strings.Replace(base, "name: t", "name: !!binary dA==", 1),
			[]want{{1, 7, "name", "YAML tag !!binary is not supported"}}},
		{"alias without anchor", base + "options: *opts\n",
			[]want{{13, 10, "options", "alias *opts refers to no anchor"}}},
		{"merge key not first", strings.Replace(base, "destination:\n  host: 127.0.0.2\n  user: u\n", "destination:\n  host: 127.0.0.2\n  <<: *src\n", 1),
			[]want{{8, 3, "destination", "write the merge key (<<) first"}}},
		{"unquoted star pattern", strings.Replace(base, `tables: ["*"]`, `tables: [*]`, 1),
			[]want{{12, 15, "", `(a value starting with * is an alias in YAML: quote table patterns, e.g. "*")`}}},
		{"unquoted star prefix", strings.Replace(base, `tables: ["*"]`, `tables: ["*", *_old]`, 1),
			[]want{{12, 19, "objects[0].tables[1]", `alias *_old refers to no anchor &_old defined before it; if it is a table pattern, quote it: "*_old"`}}},
		{"pattern where a list belongs", strings.Replace(base, `tables: ["*"]`, `tables: "*"`, 1),
			[]want{{12, 13, "objects[0].tables", `expected a list, got "*": write ["*"]`}}},
		{"unquoted reference in a flow mapping", "name: t\nsource: {host: h, user: u, password: ${SRC_PASSWORD}}\n",
			[]want{{2, 39, "", `quote the reference, e.g. password: "${SRC_PASSWORD}"`}}},
		{"syntax error", "name: [x\n",
			[]want{{1, 7, "", "sequence end token ']' not found"}}},
		{"tab indentation", "name: x\n\tsource: 1\n",
			[]want{{2, 1, "", "cannot start any token"}}},
		{"empty file", "\n  \n",
			[]want{{1, 1, "", "the file is empty"}}},
		{"only comments", "# nothing yet\n",
			[]want{{1, 1, "", "no content"}}},
		{"two documents", base + "---\nname: u\n",
			[]want{{14, 1, "", "one YAML document"}}},
		{"top level is a list", "- a\n- b\n",
			[]want{{1, 1, "", "expected a mapping (key: value lines), got a list"}}},
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

func TestSecretNeverEchoed(t *testing.T) {
	for _, src := range []string{
		strings.Replace(base, "${SRC_PASSWORD}", "hunter2", 1),
		strings.Replace(base, "${SRC_PASSWORD}", "$hunter2", 1),
		strings.Replace(base, "${SRC_PASSWORD}", "'${hunter2'", 1),
		strings.Replace(base, "${SRC_PASSWORD}", "[hunter2]", 1),
		strings.Replace(base, "${SRC_PASSWORD}", "{hunter2: 1}", 1),
		strings.Replace(base, "${SRC_PASSWORD}", "0777", 1), // YAML reads it as a number
	} {
		_, err := Parse("t.yaml", []byte(src))
		if err == nil {
			t.Fatalf("no error for %q", src)
		}
		secret := "hunter2"
		if strings.Contains(src, "0777") {
			secret = "777"
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "source.password") {
			t.Errorf("the error does not name the field: %v", err)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []want
	}{
		{"literal", strings.Replace(base, "${SRC_PASSWORD}", "hunter2", 1),
			[]want{{5, 13, "source.password", "a literal password is not allowed: the workflow file is the workflow input and would be stored in Temporal history in plain text; put it in an environment variable of the worker and write password: ${SRC_PASSWORD}, or use password_file"}}},
		{"literal on the destination suggests DST_PASSWORD", strings.Replace(base, "  host: 127.0.0.2\n", "  host: 127.0.0.2\n  password: hunter2\n", 1),
			[]want{{8, 13, "destination.password", "write password: ${DST_PASSWORD}"}}},
		{"reference without braces", strings.Replace(base, "${SRC_PASSWORD}", "$SRC_PASSWORD", 1),
			[]want{{5, 13, "source.password", "must be exactly one ${NAME} reference"}}},
		{"reference with text around it", strings.Replace(base, "${SRC_PASSWORD}", "x${SRC_PASSWORD}", 1),
			[]want{{5, 13, "source.password", "must be exactly one ${NAME} reference"}}},
		{"reference to a bad name", strings.Replace(base, "${SRC_PASSWORD}", "${1PASS}", 1),
			[]want{{5, 13, "source.password", "not starting with a digit"}}},
		{"two references", strings.Replace(base, "${SRC_PASSWORD}", "${A}${B}", 1),
			[]want{{5, 13, "source.password", "must be exactly one ${NAME} reference"}}},
		{"password and password_file", strings.Replace(base, "  password: ${SRC_PASSWORD}\n", "  password: ${SRC_PASSWORD}\n  password_file: /run/pw\n", 1),
			[]want{{6, 18, "source.password_file", "set either password or password_file, not both"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(c.src))
			expectErrors(t, err, c.want)
		})
	}
	for _, ok := range []string{"${SRC_PASSWORD}", "${_x1}", "''"} {
		if _, err := Parse("t.yaml", []byte(strings.Replace(base, "${SRC_PASSWORD}", ok, 1))); err != nil {
			t.Errorf("password %s: %v", ok, err)
		}
	}
	if _, err := Parse("t.yaml", []byte(strings.Replace(base, "password: ${SRC_PASSWORD}", "password_file: /run/secrets/src", 1))); err != nil {
		t.Errorf("password_file alone: %v", err)
	}
}

func TestPasswordRef(t *testing.T) {
	cases := map[string]string{"${SRC_PASSWORD}": "SRC_PASSWORD", "${_a9}": "_a9", "": "", "$X": "", "${X}y": "", "${9X}": "", "${X-Y}": "", " ${X}": ""}
	for in, wantName := range cases {
		name, ok := Endpoint{Password: in}.PasswordRef()
		if name != wantName || ok != (wantName != "") {
			t.Errorf("PasswordRef(%q) = %q, %v; want %q", in, name, ok, wantName)
		}
	}
}

// fullExample sets every field (with a YAML anchor and merge key for good measure).
const fullExample = `name: full-example
source: &src
  host: "::1"
  port: 3307
  user: dts
  password: ${SRC_PASSWORD}
  tls: {mode: verify-ca, ca: /ca.pem}
destination:
  <<: *src
  host: db2
  password_file: /run/dst
  password: ""
types: [full, incremental]
objects:
  - database: shop
    to: shop2
    exclude_tables: ["tmp_*"]
    tables:
      - "*"
      - name: orders
        to: orders_v2
        columns: {cust: customer_id}
        exclude_columns: [note]
        filter: row.total > 0
        transform: {email: row.email.lowerAscii()}
        operations: [insert, update]
      - name: "2024"
options:
  conflicts: ignore
  case: lower
  triggers: after-full
  online_ddl: gh-ost
  gh_ost: {shadow_table: '^_(.+)_shadow$', trash_table: '^_(.+)_(?:ghc|del|trash)$'}
  accounts: true
  retry: {connection: 2h, other: 90s}
  throttle: {full: {source_qps: 10, rps: 20, mbps: 1.5}, incremental: {rps: 30, mbps: 2}}
  ignore_warnings: [tables.engine]
`

func TestDecodedValues(t *testing.T) {
	s, err := Parse("t.yaml", []byte(fullExample))
	if err != nil {
		t.Fatal(err)
	}
	if s.File != "t.yaml" || s.WorkflowID() != "sluice-full-example" {
		t.Errorf("file %q, workflow ID %q", s.File, s.WorkflowID())
	}
	src1 := Endpoint{Host: "::1", Port: 3307, User: "dts", Password: "${SRC_PASSWORD}", TLS: TLS{Mode: "verify-ca", CA: "/ca.pem"}}
	if s.Source != src1 {
		t.Errorf("source %+v", s.Source)
	}
	// The merge key brings port, user and tls; the keys after it override.
	dst := Endpoint{Host: "db2", Port: 3307, User: "dts", PasswordFile: "/run/dst", TLS: TLS{Mode: "verify-ca", CA: "/ca.pem"}}
	if s.Destination != dst {
		t.Errorf("destination %+v", s.Destination)
	}
	o := s.Objects[0]
	if o.Target() != "shop2" || len(o.Tables) != 3 || o.ExcludeTables[0] != "tmp_*" {
		t.Fatalf("object %+v", o)
	}
	if !o.Tables[0].IsPlain() || !o.Tables[0].IsGlob() || o.Tables[0].Name != "*" {
		t.Errorf("string entry %+v", o.Tables[0])
	}
	tb := o.Tables[1]
	if tb.Target() != "orders_v2" || tb.TargetColumn("cust") != "customer_id" || tb.TargetColumn("id") != "id" ||
		tb.ExcludeColumns[0] != "note" || tb.Filter != "row.total > 0" || tb.Transform["email"] != "row.email.lowerAscii()" ||
		!tb.Allows(OpUpdate) || tb.Allows(OpDelete) || tb.IsGlob() {
		t.Errorf("mapping entry %+v", tb)
	}
	if o.Tables[2].Name != "2024" || !o.Tables[2].Allows(OpDelete) {
		t.Errorf("quoted numeric name %+v", o.Tables[2])
	}
	op := s.Options
	if op.Conflicts != "ignore" || op.Case != "lower" || op.Triggers != "after-full" || op.OnlineDDL != "gh-ost" || !op.Accounts ||
		op.Retry.Connection.D().String() != "2h0m0s" || op.Retry.Other.D().String() != "1m30s" ||
		op.Throttle.Full != (ThrottleLimits{SourceQPS: 10, RPS: 20, MBPS: 1.5}) || op.Throttle.Incremental != (ThrottleLimits{RPS: 30, MBPS: 2}) ||
		len(op.IgnoreWarnings) != 1 || op.GhOst != (GhOst{ShadowTable: `^_(.+)_shadow$`, TrashTable: `^_(.+)_(?:ghc|del|trash)$`}) {
		t.Errorf("options %+v", op)
	}
}

func TestLoadFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "read workflow file") {
		t.Fatalf("missing file: %v", err)
	}
	s, err := Load("../examples/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.File != "../examples/shop.yaml" {
		t.Errorf("File = %q", s.File)
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{File: "shop.yaml", Line: 7, Column: 5, Field: "options.conflict", Msg: `unknown field; did you mean "conflicts"?`},
			`shop.yaml:7:5: options.conflict: unknown field; did you mean "conflicts"?`},
		{Error{Field: "name", Msg: "required field is missing"}, "name: required field is missing"},
		{Error{File: "f.yaml", Field: "name", Msg: "m"}, "f.yaml: name: m"},
		{Error{File: "f.yaml", Line: 1, Column: 7, Msg: "bad"}, "f.yaml:1:7: bad"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
	es := Errors{&cases[0].e, &cases[1].e}
	if got := es.Error(); got != cases[0].want+"\n"+cases[1].want {
		t.Errorf("Errors.Error() = %q", got)
	}
	var one *Error
	if !errors.As(error(es), &one) || one != &cases[0].e {
		t.Errorf("errors.As does not find the first *Error")
	}
}
