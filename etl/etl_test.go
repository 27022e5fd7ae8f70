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

// eval compiles one transform of column c and returns the stored value (or error).
func evalTransform(t *testing.T, tbl Table, row rowcodec.Row, colName, expr string) (any, error) {
	t.Helper()
	p, err := Compile(tbl, Spec{Transform: map[string]string{colName: expr}})
	if err != nil {
		return nil, err
	}
	out, err := p.Transform(row, nil, OpInsert)
	if err != nil {
		return nil, err
	}
	return out[p.column(colName)], nil
}

func oneCol(c Column) Table {
	id := col("id", "int", "int(11)", false, "")
	id.Key = true
	return Table{Schema: "d", Name: "t", Columns: []Column{id, c}}
}

// Every type's mapping, both ways, with NULLs, precision and range limits.
func TestTypeMappings(t *testing.T) {
	for _, c := range []struct {
		name      string
		col       Column
		in        any
		filter    string // must be true for `in`
		transform string
		want      any    // stored value; string means its bytes
		err       string // instead of want
	}{
		{"tinyint range", col("v", "tinyint", "tinyint(4)", false, ""), int64(-128), "row.v == -128", "row.v + 127", int64(-1), ""},
		{"tinyint overflow", col("v", "tinyint", "tinyint(4)", false, ""), int64(100), "row.v == 100", "row.v + 28", nil, "out of range"},
		{"unsigned bigint max", col("v", "bigint", "bigint(20) unsigned", false, ""), uint64(18446744073709551615), "row.v == 18446744073709551615u", "row.v", uint64(18446744073709551615), ""},
		{"unsigned overflow in CEL", col("v", "bigint", "bigint(20) unsigned", false, ""), uint64(18446744073709551615), "row.v > 0u", "row.v + 1u", nil, "overflow"},
		{"int unsigned is an int", col("v", "int", "int(10) unsigned", false, ""), int64(4294967295), "row.v == 4294967295", "row.v - 4294967295", int64(0), ""},
		{"unsigned below zero", col("v", "int", "int(10) unsigned", false, ""), int64(0), "row.v == 0", "row.v - 1", nil, "out of range"},
		{"unsigned above range", col("v", "smallint", "smallint(5) unsigned", false, ""), int64(65535), "row.v == 65535", "row.v + 1", nil, "out of range"},
		{"signed bigint overflow in CEL", col("v", "bigint", "bigint(20)", false, ""), int64(9223372036854775807), "row.v > 0", "row.v + 1", nil, "overflow"},
		{"mediumint range", col("v", "mediumint", "mediumint(9)", false, ""), int64(-8388608), "row.v == -8388608", "row.v * 2", nil, "out of range"},
		{"year", col("v", "year", "year(4)", false, ""), int64(2024), "row.v == 2024", "row.v + 1", int64(2025), ""},
		{"decimal exact", col("v", "decimal", "decimal(65,30)", false, ""), []byte("12345678901234567890123456789012345.123456789012345678901234567890"),
			`row.v == decimal("12345678901234567890123456789012345.12345678901234567890123456789")`, `row.v + decimal("0.000000000000000000000000000001")`,
			"12345678901234567890123456789012345.123456789012345678901234567891", ""},
		{"decimal scale kept, rounded half up", col("v", "decimal", "decimal(10,2)", false, ""), []byte("1.00"), `string(row.v) == "1.00" && row.v == decimal("1")`, `row.v / 3 * 2 + decimal("0.005")`, "0.67", ""},
		{"decimal too wide", col("v", "decimal", "decimal(4,2)", false, ""), []byte("99.99"), "row.v > 99", "row.v * 2", nil, "does not fit"},
		{"decimal negative", col("v", "decimal", "decimal(6,3)", false, ""), []byte("-0.500"), "row.v < 0", "-row.v", "0.500", ""},
		{"float", col("v", "float", "float", false, ""), float32(0.1), "row.v == 0.1", "row.v * 2.0", float32(0.2), ""},
		{"double", col("v", "double", "double", false, ""), 1e308, "row.v > 1e307", "row.v * 10.0", nil, "cannot be stored"},
		{"NULL in, NULL out", col("v", "varchar", "varchar(5)", true, "utf8mb4"), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL into NOT NULL", col("v", "varchar", "varchar(5)", false, "utf8mb4"), []byte("x"), `row.v == "x"`, "null", nil, "yields null"},
		{"string too long", func() Column { c := col("v", "varchar", "varchar(3)", false, "utf8mb4"); c.MaxLength = 3; return c }(), []byte("abc"), `row.v.size() == 3`, `row.v + "é"`, nil, "do not fit"},
		{"utf8mb4 emoji", col("v", "varchar", "varchar(3)", false, "utf8mb4"), []byte("a😀"), `row.v.size() == 2`, `row.v + "!"`, "a😀!", ""},
		{"latin1 both ways", col("v", "varchar", "varchar(5)", false, "latin1"), []byte{0x80, 'a'}, `row.v == "€a"`, `row.v + "é"`, string([]byte{0x80, 'a', 0xE9}), ""},
		{"latin1 unencodable", col("v", "varchar", "varchar(5)", false, "latin1"), []byte("a"), `row.v == "a"`, `"日本"`, nil, "no latin1 encoding"},
		{"enum member", col("v", "enum", "enum('a','b')", false, "utf8mb4"), []byte("a"), `row.v == "a"`, `"b"`, "b", ""},
		{"enum non-member", col("v", "enum", "enum('a','b')", false, "utf8mb4"), []byte("a"), `row.v == "a"`, `"c"`, nil, "not a member"},
		{"set order and dedupe", col("v", "set", "set('x','y','z')", false, "utf8mb4"), []byte(""), `row.v.size() == 0`, `["z", "x", "z"]`, "x,z", ""},
		{"bit", col("v", "bit", "bit(9)", false, ""), []byte{1, 0}, "row.v == 256u", "row.v + 255u", []byte{1, 0xff}, ""},
		{"bit overflow", col("v", "bit", "bit(9)", false, ""), []byte{1, 0}, "row.v == 256u", "row.v * 2u", nil, "does not fit"},
		{"binary bytes", col("v", "varbinary", "varbinary(4)", false, "binary"), []byte{0, 0xff}, `row.v == b"\x00\xff"`, `row.v + b"\x00"`, []byte{0, 0xff, 0}, ""},
		{"date", col("v", "date", "date", false, ""), []byte("2024-02-29"), `row.v.getDayOfMonth() == 28`, `row.v + duration("24h")`, "2024-03-01", ""},
		{"datetime(3)", col("v", "datetime", "datetime(3)", false, ""), []byte("1999-12-31 23:59:59.999"), `row.v.getFullYear() == 1999`, `row.v + duration("1ms")`, "2000-01-01 00:00:00.000", ""},
		{"timestamp range", col("v", "timestamp", "timestamp", false, ""), []byte("2038-01-19 03:14:07"), "true", `row.v + duration("1s")`, nil, "out of TIMESTAMP range"},
		{"zero date is an error", col("v", "datetime", "datetime", false, ""), []byte("0000-00-00 00:00:00"), "", "row.v", nil, "zero date"},
		{"zero date through raw", col("v", "datetime", "datetime", false, ""), []byte("0000-00-00 00:00:00"), `raw.v == "0000-00-00 00:00:00"`, `raw.v == "0000-00-00 00:00:00" ? timestamp("2000-01-01T00:00:00Z") : row.v`, "2000-01-01 00:00:00", ""},
		{"time negative", col("v", "time", "time(1)", false, ""), []byte("-838:59:59.0"), `row.v < duration("0s")`, `row.v + duration("1s")`, "-838:59:58.0", ""},
		{"time overflow", col("v", "time", "time", false, ""), []byte("838:59:59"), `true`, `row.v + duration("1s")`, nil, "out of TIME range"},
		{"json number exact", col("v", "json", "json", false, ""), []byte(`{"n": 12345678901234567, "f": 1.5}`), `row.v.n == 12345678901234567`, `{"n": row.v.n + 1, "f": row.v.f}`, `{"f":1.5,"n":12345678901234568}`, ""},
		{"mariadb json text", func() Column { c := col("v", "longtext", "longtext", false, "utf8mb4"); c.JSON = true; return c }(), []byte(`[1,"a"]`), `row.v[1] == "a"`, `jsonPath(row.v, "$[0]").orValue(0)`, `1`, ""},
		{"geometry bytes", col("v", "point", "point", false, ""), []byte{0, 0, 0, 0, 1}, `row.v.size() == 5`, `row.v`, []byte{0, 0, 0, 0, 1}, ""},
		{"inet6 text", col("v", "inet6", "inet6", false, ""), []byte("::1"), `row.v == "::1"`, `"::2"`, "::2", ""},
		{"inet4 text", col("v", "inet4", "inet4", false, ""), []byte("10.0.0.1"), `row.v == "10.0.0.1"`, `row.v.replace(".1", ".2")`, "10.0.0.2", ""},
		{"uuid text", col("v", "uuid", "uuid", false, ""), []byte("123e4567-e89b-12d3-a456-426614174000"), `row.v.startsWith("123e")`, `row.v.upperAscii()`, "123E4567-E89B-12D3-A456-426614174000", ""},
		// NULL, type by type: absent in, kept absent; a default given where it is.
		{"NULL int", col("v", "int", "int(11)", true, ""), nil, "!row.v.hasValue()", "row.v.orValue(-1)", int64(-1), ""},
		{"NULL bigint unsigned", col("v", "bigint", "bigint(20) unsigned", true, ""), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL double", col("v", "double", "double", true, ""), nil, "!row.v.hasValue()", "row.v.orValue(0.5)", 0.5, ""},
		{"NULL decimal", col("v", "decimal", "decimal(10,2)", true, ""), nil, "!row.v.hasValue()", `row.v.orValue(decimal("1.5"))`, "1.50", ""},
		{"NULL decimal kept", col("v", "decimal", "decimal(10,2)", true, ""), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL date", col("v", "date", "date", true, ""), nil, "!row.v.hasValue()", `row.v.orValue(timestamp("2024-01-02T00:00:00Z"))`, "2024-01-02", ""},
		{"NULL datetime kept", col("v", "datetime", "datetime(6)", true, ""), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL time", col("v", "time", "time", true, ""), nil, "!row.v.hasValue()", `row.v.orValue(duration("90s"))`, "00:01:30", ""},
		{"NULL json", col("v", "json", "json", true, ""), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL bit", col("v", "bit", "bit(8)", true, ""), nil, "!row.v.hasValue()", "row.v.orValue(5u)", []byte{5}, ""},
		{"NULL enum", col("v", "enum", "enum('a','b')", true, "utf8mb4"), nil, "!row.v.hasValue()", `row.v.orValue("b")`, "b", ""},
		{"NULL set", col("v", "set", "set('x','y')", true, "utf8mb4"), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"NULL varbinary", col("v", "varbinary", "varbinary(4)", true, "binary"), nil, "!row.v.hasValue()", `row.v.orValue(b"\x01")`, []byte{1}, ""},
		{"NULL inet4", col("v", "inet4", "inet4", true, ""), nil, "!row.v.hasValue()", "row.v", nil, ""},
		{"value into NULL-able", col("v", "int", "int(11)", true, ""), int64(7), "row.v.hasValue() && row.v.value() == 7", "optional.none()", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tbl := oneCol(c.col)
			row := rowcodec.Row{int64(1), c.in}
			if c.filter != "" {
				p, err := Compile(tbl, Spec{Filter: c.filter})
				if err != nil {
					t.Fatalf("filter: %v", err)
				}
				keep, err := p.Keep(row, nil, OpInsert)
				if err != nil || !keep {
					t.Errorf("filter %s = %v, %v", c.filter, keep, err)
				}
			}
			got, err := evalTransform(t, tbl, row, "v", c.transform)
			switch {
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("%s: got %v, %v; want an error containing %q", c.transform, got, err, c.err)
				}
			case err != nil:
				t.Errorf("%s: %v", c.transform, err)
			default:
				want := c.want
				if s, ok := want.(string); ok {
					want = []byte(s)
				}
				if fmt.Sprintf("%v", got) != fmt.Sprintf("%v", want) {
					t.Errorf("%s = %v (%q), want %v", c.transform, got, got, want)
				}
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`sha256("abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{`md5(b"abc")`, "900150983cd24fb0d6963f7d28e17f72"},
		{`mask("4111111111111111", 0, 4)`, "************1111"},
		{`mask("ab", 1, 1)`, "**"},
		{`mask("héllo", 1, 1)`, "h***o"},
		{`dateFormat(timestamp("2024-03-05T07:08:09.123456Z"), "%Y-%m-%d %H:%i:%s.%f %W %b %j %p %y %e %k %T %%")`, "2024-03-05 07:08:09.123456 Tuesday Mar 065 AM 24 5 7 07:08:09 %"},
		{`regex.replace("a1b22", "[0-9]+", "#")`, "a#b#"},
		{`coalesce(optional.none(), "d")`, "d"},
		{`coalesce(optional.none(), optional.of("x"), "d")`, "x"},
		{`jsonText({"a": [1, 2.5, "x", null, true]})`, `{"a":[1,2.5,"x",null,true]}`},
		{`jsonText(json("{\"k\": 1}"))`, `{"k":1}`},
		{`string(jsonPath("{\"a\": {\"b\": [10, 20]}}", "$.a.b[1]").value())`, "20"},
		{`jsonPath("{}", "$.missing").hasValue() ? "yes" : "no"`, "no"},
		{`string(round(decimal("2.345"), 2)) + " " + string(round(decimal("-2.345"), 2))`, "2.35 -2.35"},
		{`string(decimal(1.1) + decimal(2))`, "3.1"},
		{`string(int(decimal("-7.9"))) + " " + string(double(decimal("0.5")))`, "-7 0.5"},
		{`string(decimal("10") % 3) + " " + string(decimal("1") / 3)`, "1 0.3333"},
		{`base64.encode(b"hi")`, "aGk="},
		{`"Hello".lowerAscii() + "-x-".trim() + "a,b".split(",")[1] + "abc".substring(1)`, "hello-x-bbc"},
		{`string(math.greatest(1, 5, 3))`, "5"},
		{`now() > timestamp("2020-01-01T00:00:00Z") ? "later" : "earlier"`, "later"},
	} {
		p2, err := Compile(oneCol(col("v", "text", "text", false, "utf8mb4")), Spec{Transform: map[string]string{"v": c.expr}})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		out, err := p2.Transform(rowcodec.Row{int64(1), []byte("")}, nil, OpInsert)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := string(out[1].([]byte)); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
}

// A user expression cannot run away: the cost limit stops it.
func TestCostLimit(t *testing.T) {
	p, err := Compile(oneCol(col("v", "text", "text", false, "utf8mb4")), Spec{Filter: `lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))`})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Keep(rowcodec.Row{int64(1), []byte("")}, nil, OpInsert)
	if err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Errorf("got %v, want the cost limit", err)
	}
}

// Zero dates, of every temporal type and kind (all zero, a zero month or day),
// are errors whose hint shows the column's own zero text.
func TestZeroDates(t *testing.T) {
	for _, c := range []struct {
		col  Column
		in   string
		hint string
	}{
		{col("v", "date", "date", false, ""), "0000-00-00", `raw.v == "0000-00-00"`},
		{col("v", "date", "date", false, ""), "2024-00-10", `raw.v == "0000-00-00"`},
		{col("v", "datetime", "datetime(3)", false, ""), "2024-05-00 10:00:00.000", `raw.v == "0000-00-00 00:00:00.000"`},
		{col("v", "timestamp", "timestamp", false, ""), "0000-00-00 00:00:00", `raw.v == "0000-00-00 00:00:00"`},
	} {
		p, err := Compile(oneCol(c.col), Spec{Filter: `row.v > timestamp("2000-01-01T00:00:00Z")`})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Keep(rowcodec.Row{int64(1), []byte(c.in)}, nil, OpInsert)
		if err == nil || !strings.Contains(err.Error(), "zero date") || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("%s %s: %v", c.col.ColumnType, c.in, err)
		}
		p, err = Compile(oneCol(c.col), Spec{Filter: `raw.v.startsWith("0000") || raw.v.contains("-00")`})
		if err != nil {
			t.Fatal(err)
		}
		if keep, err := p.Keep(rowcodec.Row{int64(1), []byte(c.in)}, nil, OpInsert); !keep || err != nil {
			t.Errorf("%s %s through raw: %v %v", c.col.ColumnType, c.in, keep, err)
		}
	}
}

// More of the library: both overloads of the hashes, conversions, the
// specifiers dateFormat knows, and the errors of bad arguments.
func TestFunctionsMore(t *testing.T) {
	text := oneCol(col("v", "text", "text", false, "utf8mb4"))
	for _, c := range []struct{ expr, want, err string }{
		{`md5("abc")`, "900150983cd24fb0d6963f7d28e17f72", ""},
		{`sha256(b"abc")`, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ""},
		{`string(uint(decimal("18446744073709551615"))) + " " + string(decimal(7u))`, "18446744073709551615 7", ""},
		{`dateFormat(timestamp("2024-03-05T17:08:09Z"), "%c %h %I %l %M %a %r")`, "3 05 05 5 March Tue 05:08:09 PM", ""},
		{`dateFormat(timestamp("2024-03-05T00:00:00Z"), "%Q")`, "", "unknown specifier %Q"},
		{`mask("abc", -1, 0)`, "", "negative"},
		{`jsonText(jsonPath("{\"a\": 1}", "a").value())`, "", "must start with $"},
		{`jsonText(json("{bad"))`, "", "JSON"},
		{`string(int(decimal("99999999999999999999")))`, "", "out of int range"},
		{`string(decimal("1") / decimal("0"))`, "", "division by zero"},
		{`string(round(decimal("1.5"), 40))`, "", "scale 40"},
	} {
		p, err := Compile(text, Spec{Transform: map[string]string{"v": c.expr}})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		out, err := p.Transform(rowcodec.Row{int64(1), []byte("")}, nil, OpInsert)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error with %q", c.expr, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.expr, err)
		case string(out[1].([]byte)) != c.want:
			t.Errorf("%s = %q, want %q", c.expr, out[1], c.want)
		}
	}
}

// Runtime errors name the table, the row by its key and the expression, never
// another column's value.
func TestEvalErrorMessage(t *testing.T) {
	p, err := Compile(testTable(), Spec{Transform: map[string]string{"qty": `row.qty * 1000000000000`}})
	if err != nil {
		t.Fatal(err)
	}
	row := testRow()
	row[3] = int64(9999999)
	_, err = p.Transform(row, nil, OpInsert)
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Key != "(id=7)" || ee.Where != "transform.qty" ||
		err.Error() != "`shop`.`customers` row (id=7): transform.qty \"row.qty * 1000000000000\": 9999999000000000000 is out of range for qty (int(11))" &&
			!strings.Contains(err.Error(), "overflow") {
		t.Errorf("%v", err)
	}
	if strings.Contains(err.Error(), "Example.com") {
		t.Error("a non-key value in the message")
	}
}
