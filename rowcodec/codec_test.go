package rowcodec

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
)

func testCols() []Column {
	return []Column{
		{Name: "id", DataType: "int", Kind: KindInt},
		{Name: "y", DataType: "year", Kind: KindYear},
		{Name: "dec", DataType: "decimal", Kind: KindDecimal},
		{Name: "f", DataType: "float", Kind: KindFloat},
		{Name: "d", DataType: "double", Kind: KindDouble},
		{Name: "ts", DataType: "timestamp", Kind: KindTemporal},
		{Name: "ip", DataType: "inet6", Kind: KindText},
		{Name: "b`q", DataType: "blob", Kind: KindBytes},
	}
}

func TestAppendLiteral(t *testing.T) {
	cols := testCols()
	row := Row{int64(-5), int64(0), []byte("-1.50"), float32(math.MaxFloat32), 5e-324, []byte("0000-00-00 00:00:00.000000"), []byte("::1"), []byte{0, 'a', 0xff, '\'', '\\', '\n', '\r', 0x1a, '"'}}
	got, err := AppendTuple(nil, cols, row)
	if err != nil {
		t.Fatal(err)
	}
	want := `(-5,0,-1.50,3.4028234663852886e+38,5e-324,'0000-00-00 00:00:00.000000','::1',X'0061ff275c0a0d1a22')`
	if string(got) != want {
		t.Fatalf("tuple:\n got %s\nwant %s", got, want)
	}
	nulls := make(Row, len(cols))
	got, err = AppendTuple(nil, cols, nulls)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "(NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)" {
		t.Fatalf("nulls: %s", got)
	}
	if v, _ := AppendLiteral(nil, cols[3], float32(1.2345678)); string(v) != "1.2345677614212036" {
		t.Fatalf("float32 1.2345678 = %s", v)
	}
	if v, _ := AppendLiteral(nil, cols[0], uint64(math.MaxUint64)); string(v) != "18446744073709551615" {
		t.Fatalf("uint64 max = %s", v)
	}
	for _, bad := range []struct {
		col int
		v   any
	}{
		{0, []byte("1; DROP")}, {2, []byte("1e5")}, {3, []byte("1.23457")}, {3, math.NaN()},
		{4, math.Inf(1)}, {5, []byte("2024-01-01' OR '1")}, {7, int64(1)},
	} {
		if _, err := AppendLiteral(nil, cols[bad.col], bad.v); err == nil {
			t.Errorf("column %s value %v: no error", cols[bad.col].Name, bad.v)
		}
	}
}

func TestLoadDataRow(t *testing.T) {
	cols := testCols()
	row := Row{int64(0), int64(5), []byte("1.0"), float32(0.1), 0.1, []byte("2038-01-19 03:14:07"), []byte("::1"), []byte("a\\b\tc\nd\x00e\r\\N")}
	got, err := AppendLoadDataRow(nil, cols, row)
	if err != nil {
		t.Fatal(err)
	}
	want := "0\t0005\t1.0\t0.10000000149011612\t0.1\t2038-01-19 03:14:07\t" + strings.Repeat(`\0`, 15) + "\x01\ta\\\\b\\tc\\nd\\0e\r\\\\N\n"
	if string(got) != want {
		t.Fatalf("row:\n got %q\nwant %q", got, want)
	}
	got, err = AppendLoadDataRow(nil, cols, make(Row, len(cols)))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat(`\N`+"\t", len(cols)-1) + `\N` + "\n"; string(got) != want {
		t.Fatalf("nulls: %q", got)
	}
	if _, err := AppendLoadDataField(nil, cols[1], int64(10000)); err == nil {
		t.Fatal("YEAR 10000: no error")
	}
}

func TestLoadDataReader(t *testing.T) {
	cols := testCols()
	var rows []Row
	var want []byte
	for i := range 50 {
		r := Row{int64(i), int64(1901 + i), []byte("3.14"), float32(i) / 3, float64(i) / 7, []byte("1000-01-01 00:00:00"), nil, bytes.Repeat([]byte{byte(i), '\t'}, i)}
		rows = append(rows, r)
		var err error
		if want, err = AppendLoadDataRow(want, cols, r); err != nil {
			t.Fatal(err)
		}
	}
	// One byte per Read: rows must be split across reads correctly.
	got, err := io.ReadAll(iotest.OneByteReader(NewLoadDataReader(cols, rows)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stream differs: %d vs %d bytes", len(got), len(want))
	}
	// A bad row ends the stream with an error after the whole rows before it.
	rows[10] = Row{int64(10), "not bytes", nil, nil, nil, nil, nil, nil}
	got, err = io.ReadAll(NewLoadDataReader(cols, rows))
	if err == nil || !strings.Contains(err.Error(), "row 10") {
		t.Fatalf("bad row: err = %v", err)
	}
	if n := bytes.Count(got, []byte("\n")); n != 10 || got[len(got)-1] != '\n' {
		t.Fatalf("bad row: stream has %d lines, ends %q", n, got[len(got)-1])
	}
}

func TestLoadDataStatement(t *testing.T) {
	cols := testCols()[:2]
	got := LoadDataStatement(Table{Schema: "d`b", Name: "t"}, "r'1", cols, Ignore)
	want := "LOAD DATA LOCAL INFILE 'Reader::r''1' IGNORE INTO TABLE `d``b`.`t` CHARACTER SET binary FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES STARTING BY '' TERMINATED BY '\\n' (`id`,`y`)"
	if got != want {
		t.Fatalf("statement:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(LoadDataStatement(Table{Name: "t"}, "r", cols, Precheck), "IGNORE") {
		t.Fatal("precheck statement has IGNORE")
	}
}

func TestInsertStatementsSplit(t *testing.T) {
	cols := testCols()
	var rows []Row
	for i := range 500 {
		rows = append(rows, Row{int64(i), int64(2000), []byte("1.5"), float32(i), float64(i), []byte("2024-01-01"), []byte("::1"), bytes.Repeat([]byte{'x'}, i%97)})
	}
	dst := Table{Schema: "s", Name: "t"}
	all, err := InsertStatements(dst, cols, rows, 1<<30, Precheck)
	if err != nil || len(all) != 1 || all[0].Rows != len(rows) {
		t.Fatalf("unlimited: %d statements, err %v", len(all), err)
	}
	prefix := "INSERT INTO `s`.`t` (`id`,`y`,`dec`,`f`,`d`,`ts`,`ip`,`b``q`) VALUES "
	for _, max := range []int{600, 1000, 4096, 16384} {
		stmts, err := InsertStatements(dst, cols, rows, max, Precheck)
		if err != nil {
			t.Fatalf("max %d: %v", max, err)
		}
		if len(stmts) < 2 {
			t.Fatalf("max %d: %d statements, want a split", max, len(stmts))
		}
		total := 0
		var tuples []string
		for _, s := range stmts {
			if len(s.SQL) > max {
				t.Fatalf("max %d: statement of %d bytes", max, len(s.SQL))
			}
			if !strings.HasPrefix(s.SQL, prefix) {
				t.Fatalf("max %d: statement starts %q", max, s.SQL[:60])
			}
			total += s.Rows
			tuples = append(tuples, strings.TrimPrefix(s.SQL, prefix))
		}
		if total != len(rows) {
			t.Fatalf("max %d: %d rows in statements, want %d", max, total, len(rows))
		}
		if strings.Join(tuples, ",") != strings.TrimPrefix(all[0].SQL, prefix) {
			t.Fatalf("max %d: split statements do not carry the same tuples in order", max)
		}
	}
	if _, err := InsertStatements(dst, cols, rows, 200, Precheck); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("row over the limit: err = %v", err)
	}
	ign, err := InsertStatements(dst, cols, rows[:1], 1000, Ignore)
	if err != nil || !strings.HasPrefix(ign[0].SQL, "INSERT IGNORE INTO ") {
		t.Fatalf("ignore: %v %v", ign, err)
	}
}

func TestKindAndGenerated(t *testing.T) {
	for dt, k := range map[string]Kind{"BIGINT": KindInt, "year": KindYear, "decimal": KindDecimal, "float": KindFloat,
		"double": KindDouble, "time": KindTemporal, "timestamp": KindTemporal, "inet6": KindText, "uuid": KindText,
		"json": KindJSON, "longtext": KindBytes, "bit": KindBytes, "geometry": KindBytes, "set": KindBytes} {
		if got := KindOf(dt); got != k {
			t.Errorf("KindOf(%s) = %s, want %s", dt, got, k)
		}
	}
	for extra, want := range map[string]bool{"VIRTUAL GENERATED": true, "STORED GENERATED": true, "DEFAULT_GENERATED": false,
		"DEFAULT_GENERATED on update CURRENT_TIMESTAMP": false, "INVISIBLE": false, "auto_increment": false, "": false} {
		if got := generatedExtra(extra); got != want {
			t.Errorf("generatedExtra(%q) = %v", extra, got)
		}
	}
	if _, err := ParseConflicts("replace"); err == nil {
		t.Error("ParseConflicts(replace): no error")
	}
	if c, _ := ParseConflicts(""); c != Precheck {
		t.Error("ParseConflicts(\"\") is not precheck")
	}
}
