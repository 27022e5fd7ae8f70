package inspect

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// Bad expressions fail the precheck with the place in the workflow file, a caret
// under the column and a hint; good ones pass.
func TestExpressionsAreTypeChecked(t *testing.T) {
	h := newHarness(t)
	db := uniq("etl")
	h.database(h.env.Source, db,
		"CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20) NOT NULL, total DECIMAL(10,2) NOT NULL, email VARCHAR(100) NULL)",
		"CREATE TABLE good (id INT PRIMARY KEY, v INT NOT NULL)")
	src := h.endpoint(h.env.Source, "SRC_PW")
	dst := h.endpoint(h.env.Destination, "DST_PW")
	file := fmt.Sprintf(`name: etl-check
source: {host: %s, port: %d, user: %s, password: "${SRC_PW}"}
destination: {host: %s, port: %d, user: %s, password: "${DST_PW}"}
types: [full]
objects:
  - database: %s
    tables:
      - name: orders
        filter: 'row.stauts != "x"'
        transform:
          total: |
            row.total *
              sha265(row.status)
          email: row.total
      - {name: good, filter: "row.v > 1", transform: {v: "row.v * 2"}}
`, src.Host, src.Port, src.User, dst.Host, dst.Port, dst.User, db)
	s, err := spec.Parse("wf.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(*s)
	it := expect(t, r, precheck.IDETLExpressions, precheck.Fail, []string{"3 expressions of 5 do not type-check"}, "fix the expressions")
	got := strings.Join(it.Details, "\n")
	for _, want := range []string{
		"wf.yaml:9:22: objects[0].tables[0].filter (`" + db + "`.`orders`): undefined field 'stauts' (did you mean \"status\"?)",
		"row.stauts != \"x\"\n    ^",
		"wf.yaml:14:18: objects[0].tables[0].transform.email (`" + db + "`.`orders`): the expression yields decimal, and column email is varchar(100) (optional_type(string)) (convert with string(…))",
		"wf.yaml:13:15: objects[0].tables[0].transform.total (`" + db + "`.`orders`): undeclared reference to 'sha265'",
		"(did you mean \"sha256\"?)",
		"  sha265(row.status)\n  ^",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "good") {
		t.Errorf("the good table's expressions are reported:\n%s", got)
	}
}

// A pattern entry whose filter names a column some matched tables lack: one
// problem, naming each table.
func TestGlobExpressionNamesEveryTable(t *testing.T) {
	h := newHarness(t)
	db := uniq("etlglob")
	h.database(h.env.Source, db,
		"CREATE TABLE log_a (id INT PRIMARY KEY, level INT NOT NULL)",
		"CREATE TABLE log_b (id INT PRIMARY KEY)",
		"CREATE TABLE log_c (id INT PRIMARY KEY)")
	s := h.spec(spec.Object{Database: db, Tables: []spec.Table{{Name: "log_*", Filter: "row.level > 1"}}})
	r := h.run(s)
	it := expect(t, r, precheck.IDETLExpressions, precheck.Fail, []string{"2 expressions of 3 do not type-check"}, "fix the expressions")
	got := strings.Join(it.Details, "\n")
	if !strings.Contains(got, "(`"+db+"`.`log_b`, `"+db+"`.`log_c`): undefined field 'level'") || strings.Count(got, "undefined field") != 1 {
		t.Errorf("details:\n%s", got)
	}
}
