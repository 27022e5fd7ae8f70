package etl

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/rowcodec"
)

// col builds a column as rowcodec.Columns reads it.
func col(name, dataType, columnType string, nullable bool, charset string) Column {
	c := rowcodec.Column{Name: name, DataType: dataType, ColumnType: columnType, Nullable: nullable, Charset: charset,
		Unsigned: strings.Contains(columnType, "unsigned"), Kind: rowcodec.KindOf(dataType)}
	return Column{Column: c}
}

func testTable() Table {
	id := col("id", "bigint", "bigint(20) unsigned", false, "")
	id.Key = true
	email := col("email", "varchar", "varchar(100)", false, "utf8mb4")
	email.MaxLength = 100
	phone := col("phone", "varchar", "varchar(20)", true, "utf8mb4")
	phone.MaxLength = 20
	return Table{Schema: "shop", Name: "customers", Columns: []Column{
		id, email, phone,
		col("qty", "int", "int(11)", false, ""),
		col("price", "decimal", "decimal(10,2)", false, ""),
		col("status", "enum", "enum('active','deleted','it''s')", false, "utf8mb4"),
		col("tags", "set", "set('a','b','c')", false, "utf8mb4"),
		col("created", "datetime", "datetime(6)", false, ""),
		col("doc", "json", "json", true, ""),
		col("f", "float", "float", false, ""),
		col("latin", "varchar", "varchar(10)", false, "latin1"),
		col("bits", "bit", "bit(10)", false, ""),
		col("bin", "varbinary", "varbinary(8)", false, "binary"),
		col("t", "time", "time", false, ""),
	}}
}

func testRow() rowcodec.Row {
	return rowcodec.Row{int64(7), []byte("Ada@Example.com"), nil, int64(12), []byte("19.90"), []byte("active"), []byte("a,c"),
		[]byte("2024-02-29 13:14:15.123456"), []byte(`{"a": {"b": [1, 2.5, "x"]}}`), float32(1.1), []byte{'c', 'a', 'f', 0xE9},
		[]byte{0x02, 0x01}, []byte{0, 1, 2}, []byte("-01:02:03")}
}

func mustCompile(t *testing.T, s Spec) *Program {
	t.Helper()
	p, err := Compile(testTable(), s)
	if err != nil {
		t.Fatalf("compile %+v: %v", s, err)
	}
	return p
}

func TestFilters(t *testing.T) {
	row := testRow()
	for _, c := range []struct {
		expr string
		want bool
	}{
		{`row.id == 7u`, true},
		{`row.qty > 10`, true},
		{`row.price > decimal("19.89") && row.price < 20`, true},
		{`row.price == decimal("19.9")`, true},
		{`row.status != "deleted"`, true},
		{`"c" in row.tags && !("b" in row.tags)`, true},
		{`row.created < timestamp("2024-03-01T00:00:00Z") && row.created.getMonth() == 1`, true},
		{`!row.phone.hasValue() && row.phone.orValue("x") == "x"`, true},
		{`coalesce(row.phone, "none") == "none"`, true},
		{`row.doc.orValue({}).a.b[1] == 2.5`, true},
		{`jsonPath(row.doc.orValue(null), "$.a.b[2]") == optional.of("x")`, true},
		{`row.f == 1.1`, true},
		{`row.latin == "café"`, true},
		{`row.bits == 513u`, true},
		{`row.bin == b"\x00\x01\x02"`, true},
		{`row.t == duration("-3723s")`, true},
		{`raw.created == "2024-02-29 13:14:15.123456" && raw.price == "19.90"`, true},
		{`op == "insert" && db == "shop" && table == "customers"`, true},
		{`row.email.lowerAscii().endsWith("@example.com")`, true},
		{"row.`email` == old.email", true},
		{`row.qty > 100`, false},
	} {
		p := mustCompile(t, Spec{Filter: c.expr})
		got, err := p.Keep(row, nil, OpInsert)
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.expr, got, err, c.want)
		}
	}
}

func TestTransforms(t *testing.T) {
	row := testRow()
	p := mustCompile(t, Spec{Transform: map[string]string{
		"email":   `sha256(row.email.lowerAscii())`,
		"phone":   `row.phone.hasValue() ? optional.of(mask(row.phone.value(), 2, 2)) : optional.none()`,
		"price":   `row.price * decimal("1.1")`,
		"status":  `row.qty > 10 ? "deleted" : row.status`,
		"tags":    `row.tags + ["b"]`,
		"created": `row.created + duration("1h")`,
		"doc":     `{"n": row.qty, "p": row.price}`,
		"latin":   `"€uro"`,
		"bits":    `row.bits + 1u`,
		"qty":     `row.qty * 2`,
		"t":       `duration("838h59m59s")`,
	}})
	out, err := p.Transform(row, nil, OpInsert)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		1:  fmt.Sprintf("%x", sha256.Sum256([]byte("ada@example.com"))),
		4:  "21.89",
		5:  "deleted",
		6:  "a,b,c",
		7:  "2024-02-29 14:14:15.123456",
		8:  `{"n":12,"p":19.90}`,
		10: "\x80uro",
		11: "\x02\x02",
		13: "838:59:59",
	}
	for i, w := range want {
		if got := string(out[i].([]byte)); got != w {
			t.Errorf("column %d = %q, want %q", i, got, w)
		}
	}
	if out[2] != nil {
		t.Errorf("phone: NULL in, %v out", out[2])
	}
	if got := out[3]; got != int64(24) {
		t.Errorf("qty = %v", got)
	}
	if string(row[1].([]byte)) != "Ada@Example.com" {
		t.Error("Transform modified its input row")
	}
}

func TestCheckErrors(t *testing.T) {
	for _, c := range []struct {
		spec       Spec
		msg, hint  string
		line, colm int
	}{
		{Spec{Filter: `row.emial == "x"`}, "undefined field 'emial'", `did you mean "email"?`, 1, 5},
		{Spec{Filter: `row.qty + 1`}, "must be a bool expression", "", 1, 1},
		{Spec{Filter: `sha265(row.email) == ""`}, "undeclared reference to 'sha265'", `did you mean "sha256"?`, 1, 1},
		{Spec{Filter: `row.phone.startsWith("+")`}, "found no matching overload", "NULL-able column", 1, 11},
		{Spec{Filter: "row.qty > 1 &&\n  row.price > 1.5"}, "found no matching overload for '_>_'", "decimals are exact", 2, 13},
		{Spec{Transform: map[string]string{"price": `"12"`}}, "yields string, and column price is decimal(10,2)", "decimal(", 1, 1},
		{Spec{Transform: map[string]string{"qty": `row.phone`}}, "yields optional_type(string)", "NOT NULL", 1, 1},
		{Spec{Transform: map[string]string{"id": `row.id + 1u`}}, "part of the key", "", 1, 1},
		{Spec{Transform: map[string]string{"emial": `"x"`}}, `has no column "emial"`, `did you mean "email"?`, 1, 1},
	} {
		_, err := Compile(testTable(), c.spec)
		var ce CheckErrors
		if !errors.As(err, &ce) || len(ce) != 1 {
			t.Errorf("%+v: error %v, want one CheckErrors item", c.spec, err)
			continue
		}
		e := ce[0]
		if !strings.Contains(e.Msg, c.msg) || !strings.Contains(e.Hint, c.hint) || e.Line != c.line || e.Column != c.colm {
			t.Errorf("%+v: %d:%d %q (%q); want %d:%d %q (%q)", c.spec, e.Line, e.Column, e.Msg, e.Hint, c.line, c.colm, c.msg, c.hint)
		}
	}
}
