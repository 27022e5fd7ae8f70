package binlog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/testenv"
)

// The edge table: what the binlog encodes differently from the client protocol,
// each with the values that trip a decoder (trailing zero bytes and spaces, every
// TIME precision, IPv6 zero runs, SET bit 63, lengths above 255 bytes, ...).
const edgeDDL = "CREATE TABLE e (" +
	"id INT NOT NULL PRIMARY KEY," +
	"ip6 INET6, uu UUID, ip4 INET4," +
	"t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6)," +
	"dt1 DATETIME(1), dt3 DATETIME(3), ts1 TIMESTAMP(1) NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL, da DATE," +
	"s64 SET(%s)," +
	"el ENUM('é','ü','a b ') CHARACTER SET latin1, sl SET('é','ü') CHARACTER SET latin1," +
	"ch5 CHAR(5) CHARACTER SET utf8mb4, chl CHAR(3) CHARACTER SET latin1, chu CHAR(4) CHARACTER SET utf16," +
	"chb CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, cbig CHAR(100) CHARACTER SET utf8mb4," +
	"bn3 BINARY(3), bn1 BINARY(1), bn200 BINARY(200), vb VARBINARY(10)," +
	"bt7 BIT(7), bt9 BIT(9), bt17 BIT(17), bt33 BIT(33), bt63 BIT(63)," +
	"dz DECIMAL(5,0), dd DECIMAL(20,10), dn DECIMAL(9,9), dl DECIMAL(38,19) UNSIGNED," +
	"tiu TINYINT UNSIGNED, siu SMALLINT UNSIGNED, miu MEDIUMINT UNSIGNED, mis MEDIUMINT, biu BIGINT UNSIGNED," +
	"y YEAR, fu FLOAT UNSIGNED, du DOUBLE UNSIGNED," +
	"lt LONGTEXT CHARACTER SET latin1, tb TINYBLOB, mb MEDIUMBLOB, ls LINESTRING, mp MULTIPOLYGON, gc GEOMETRYCOLLECTION," +
	"vv VARCHAR(300) CHARACTER SET utf8mb4," +
	"gv2 VARCHAR(20) AS (CONCAT('v', id)) VIRTUAL," +
	"inv2 VARCHAR(5) INVISIBLE DEFAULT 'hid'" +
	") ENGINE=InnoDB"

func setMembers() []string {
	var m []string
	for i := range 64 {
		m = append(m, fmt.Sprintf("m%d", i))
	}
	return m
}

// edgeValues lists SQL literals per column; row i takes value (i*step) mod len,
// with steps coprime to the list lengths so the combinations vary.
func edgeValues() [][2]any {
	members := setMembers()
	ip6 := []string{"'::'", "'::1'", "'::1.2.3.4'", "'::ffff:1.2.3.4'", "'ffff::ffff:1.2.3.4'", "'1::'", "'0:1::'",
		"'1:0:0:2:0:0:0:3'", "'1:0:0:2:0:0:3:4'", "'1:2:3:4:5:6:7:8'", "'fe80::1'", "'2001:db8::ff00:42:8329'",
		"'1:0:2:0:3:0:4:0'", "'0:0:0:0:0:1:0:0'", "'::ffff:0.0.0.0'", "'::1:0:0:0'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'",
		"'0:0:0:0:0:ffff:0:1'", "'0:0:0:0:1:ffff:1.2.3.4'", "'1:2:3:4:5:6:7:0'", "NULL"}
	// Pseudo-random addresses with zero groups sprinkled in.
	x := uint32(12345)
	groups := []string{"0", "0", "0", "1", "ffff", "abc", "10", "fe80"}
	for range 40 {
		var g []string
		for range 8 {
			x = x*1103515245 + 12345
			g = append(g, groups[(x>>16)%uint32(len(groups))])
		}
		ip6 = append(ip6, "'"+strings.Join(g, ":")+"'")
	}
	times := []string{"'00:00:00'", "'-00:00:00.5'", "'12:34:56.789123'", "'-838:59:59'", "'838:59:59'", "'-00:00:01.01'",
		"'-00:00:00.000001'", "'00:00:00.000001'", "'-12:00:00.1'", "'23:59:59.999999'", "'100:00:00'", "'-1:02:03.4567'", "NULL"}
	tcols := [][2]any{}
	for _, c := range []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6"} {
		tcols = append(tcols, [2]any{c, times})
	}
	return append(tcols, [][2]any{
		{"ip6", ip6},
		{"uu", []string{"'123e4567-e89b-12d3-a456-426614174000'", "'00000000-0000-0000-0000-000000000000'",
			"'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'017f22e2-79b0-7cc3-98c4-dc0c0c07398f'", "'550e8400-e29b-41d4-a716-446655440000'",
			"'6ba7b810-9dad-11d1-80b4-00c04fd430c8'", "'00112233-4455-1677-8899-aabbccddee00'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a00'", "NULL"}},
		{"ip4", []string{"'0.0.0.0'", "'255.255.255.255'", "'10.0.0.1'", "'1.2.3.0'", "'1.0.0.0'", "NULL"}},
		{"dt1", []string{"'0000-00-00 00:00:00'", "'1000-01-01 00:00:00.1'", "'9999-12-31 23:59:59.9'", "'2024-02-29 12:00:00.5'", "'2024-00-00 00:00:00'", "NULL"}},
		{"dt3", []string{"'0000-00-00 00:00:00.000'", "'1000-01-01 00:00:00.001'", "'9999-12-31 23:59:59.999'", "'2024-02-00 12:00:00.5'", "NULL"}},
		{"ts1", []string{"'1970-01-01 00:00:01.1'", "'2038-01-18 03:14:07.9'", "'0000-00-00 00:00:00'", "'2000-06-15 12:00:00'", "NULL"}},
		{"ts4", []string{"'1970-01-01 00:00:01.0001'", "'2038-01-18 03:14:07.9999'", "'0000-00-00 00:00:00.0000'", "'2000-06-15 12:00:00.5'", "NULL"}},
		{"da", []string{"'0000-00-00'", "'2024-02-00'", "'1000-01-01'", "'9999-12-31'", "'2024-00-15'", "NULL"}},
		{"s64", []string{"''", "'m0'", "'m63'", "'m0,m63'", "'" + strings.Join(members, ",") + "'", "'m1,m2,m62'", "NULL"}},
		{"el", []string{"'é'", "'ü'", "'a b '", "'zzz'", "NULL"}},
		{"sl", []string{"''", "'é'", "'é,ü'", "'ü'", "NULL"}},
		{"ch5", []string{"''", "'a'", "'ab   '", "' lead'", "'é😀'", "NULL"}},
		{"chl", []string{"'é'", "'a  '", "''", "' '", "NULL"}},
		{"chu", []string{"'ab  '", "'é'", "'😀'", "''", "NULL"}},
		{"chb", []string{"'x'", "'y  '", "'\\t'", "NULL"}},
		{"cbig", []string{"'big'", "REPEAT('é', 100)", "''", "CONCAT(REPEAT('z', 99), ' ')", "NULL"}},
		{"bn3", []string{"X'00'", "X'000000'", "X'010000'", "X'000001'", "X'FFFF'", "''", "NULL"}},
		{"bn1", []string{"X'00'", "X'61'", "''", "NULL"}},
		{"bn200", []string{"REPEAT(X'00', 200)", "X'01'", "CONCAT(REPEAT(X'AB', 199), X'00')", "REPEAT(X'20', 3)", "NULL"}},
		{"vb", []string{"X'00'", "X'0000'", "''", "X'FF00'", "X'2020'", "NULL"}},
		{"bt7", []string{"b'0'", "b'1111111'", "b'1000000'", "NULL"}},
		{"bt9", []string{"b'100000000'", "b'1'", "b'0'", "b'111111111'", "NULL"}},
		{"bt17", []string{"b'10000000000000001'", "b'0'", "b'1'", "NULL"}},
		{"bt33", []string{"b'100000000000000000000000000000001'", "b'11111111'", "NULL"}},
		{"bt63", []string{"b'100000000000000000000000000000000000000000000000000000000000000'", "b'1'", "NULL"}},
		{"dz", []string{"0", "-99999", "99999", "NULL"}},
		{"dd", []string{"'-1234567890.0123456789'", "'0.0000000001'", "'0'", "'-0.5'", "'9999999999.9999999999'", "NULL"}},
		{"dn", []string{"'0.123456789'", "'-0.000000001'", "'0'", "'0.100000000'", "NULL"}},
		{"dl", []string{"'1234567890123456789.1234567890123456789'", "'0'", "'0.0000000000000000001'", "NULL"}},
		{"tiu", []string{"0", "255", "128", "NULL"}},
		{"siu", []string{"65535", "32768", "0", "NULL"}},
		{"miu", []string{"16777215", "8388608", "0", "NULL"}},
		{"mis", []string{"-8388608", "8388607", "-1", "NULL"}},
		{"biu", []string{"18446744073709551615", "9223372036854775807", "9223372036854775808", "0", "NULL"}},
		{"y", []string{"0", "1901", "2155", "70", "NULL"}},
		{"fu", []string{"0", "3.5", "1e38", "NULL"}},
		{"du", []string{"1e308", "0.1", "0", "NULL"}},
		{"lt", []string{"'é'", "REPEAT('x', 70000)", "''", "NULL"}},
		{"tb", []string{"X'00FF'", "''", "REPEAT(X'00', 255)", "NULL"}},
		{"mb", []string{"REPEAT(X'01', 70000)", "X'00'", "NULL"}},
		{"ls", []string{"ST_GeomFromText('LINESTRING(0 0,1 1,2 2)')", "ST_GeomFromText('LINESTRING(-1.5 2.25,3 4)', 4326)", "NULL"}},
		{"mp", []string{"ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 3857)", "NULL"}},
		{"gc", []string{"ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))')", "NULL"}},
		{"vv", []string{"REPEAT('ä', 300)", "'short'", "''", "NULL"}},
		{"inv2", []string{"'x'", "DEFAULT", "NULL"}},
	}...)
}

const edgeRows = 60

// edgeInsert builds the INSERT of the edge table's rows.
func edgeInsert() string {
	vals := edgeValues()
	var names []string
	for _, v := range vals {
		names = append(names, v[0].(string))
	}
	var rows []string
	steps := []int{1, 3, 7, 11, 13, 17, 19, 23}
	for i := range edgeRows {
		lits := []string{fmt.Sprint(i)}
		for k, v := range vals {
			list := v[1].([]string)
			lits = append(lits, list[(i*steps[k%len(steps)]+k)%len(list)])
		}
		rows = append(rows, "("+strings.Join(lits, ",")+")")
	}
	return "INSERT INTO e (id," + strings.Join(names, ",") + ") VALUES " + strings.Join(rows, ",\n")
}

// rotateUpdate sets every copied column of table from a snapshot copy (a table
// the stream does not replicate) of another row: every type changes between
// before and after images.
func rotateUpdate(cols []rowcodec.Column, table, snapshot, otherID string) string {
	var sets []string
	for _, c := range cols {
		if c.Name == "id" {
			continue
		}
		sets = append(sets, "t."+c.Quoted()+" = c."+c.Quoted())
	}
	return fmt.Sprintf("UPDATE %s AS t JOIN %s AS c ON c.id = %s SET %s", table, snapshot, otherID, strings.Join(sets, ", "))
}

func TestRowImagesMatchReader(t *testing.T) {
	env, db := source(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const schema = "bl_types"
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+schema, "CREATE DATABASE "+schema,
		"USE "+schema+"; "+testenv.TypesTableDDL,
		"USE "+schema+"; "+fmt.Sprintf(edgeDDL, "'"+strings.Join(setMembers(), "','")+"'")); err != nil {
		t.Fatal(err)
	}
	p0 := position(t, db)
	s := open(t, ctx, config(t, env, lookupSkipping(db)), p0)
	r := replica{}

	phase := func(name string, minChanges int, stmts ...string) {
		t.Helper()
		if err := env.Source.Exec(ctx, stmts...); err != nil {
			t.Fatal(err)
		}
		evs := readUntil(t, ctx, s, position(t, db))
		n := r.apply(t, evs)
		if n < minChanges {
			t.Fatalf("%s: %d row changes read, want at least %d", name, n, minChanges)
		}
		compareTable(t, ctx, db, r, schema, "t", evs)
		compareTable(t, ctx, db, r, schema, "e", evs)
		var ops = map[Op]int{}
		for _, e := range evs {
			if e.Kind == Rows {
				ops[e.Op] += len(e.Changes)
			}
		}
		t.Logf("%s: %d events, changes %v", name, len(evs), ops)
	}

	// Inserts, FLOAT/DOUBLE then set through server-side placeholders (updates),
	// as rowcodec's test does; the edge rows in a session zone that is not UTC.
	ids := []int{0, -5, 2, 3}
	for i := 10; i < 150; i++ {
		ids = append(ids, -i*1000)
	}
	src, err := env.Source.Open(schema)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	phase("insert", 145+edgeRows,
		"USE "+schema+"; SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO', time_zone='+00:00'; INSERT INTO t "+testenv.TypesTableColumns+" VALUES "+strings.Join(testenv.TypesTableRows(), ","),
		"USE "+schema+"; SET SESSION sql_mode='', time_zone='-03:00'; "+edgeInsert())
	for n, id := range ids {
		if _, err := src.ExecContext(ctx, "UPDATE t SET f = ?, d = ? WHERE id = ?", float64(testenv.TypesTableFloats[n%len(testenv.TypesTableFloats)]), testenv.TypesTableDoubles[n%len(testenv.TypesTableDoubles)], id); err != nil {
			t.Fatal(err)
		}
	}
	evs := readUntil(t, ctx, s, position(t, db))
	if n := r.apply(t, evs); n < len(ids)-2 {
		t.Fatalf("float updates: %d changes", n)
	}
	compareTable(t, ctx, db, r, schema, "t", evs)

	// Every column of most rows takes another row's values; primary keys move.
	tcols, _ := readRows(t, ctx, db, schema, "t")
	ecols, _ := readRows(t, ctx, db, schema, "e")
	phase("update", 150,
		"USE "+schema+"; CREATE TABLE skip_t AS SELECT "+rowcodec.ColumnList(tcols)+" FROM t; CREATE TABLE skip_e AS SELECT "+rowcodec.ColumnList(ecols)+" FROM e",
		"USE "+schema+"; SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO'; "+rotateUpdate(tcols, "t", "skip_t",
			"CASE t.id WHEN 0 THEN -5 WHEN -5 THEN 2 WHEN 2 THEN 3 WHEN 3 THEN 1 WHEN 1 THEN 0 ELSE t.id - 1000 END"),
		"USE "+schema+"; SET SESSION sql_mode=''; "+rotateUpdate(ecols, "e", "skip_e", fmt.Sprintf("(t.id + 1) %% %d", edgeRows)),
		"USE "+schema+"; UPDATE t SET id = id - 1 WHERE id <= -10000 ORDER BY id; UPDATE e SET id = id + 1000 WHERE id % 5 = 0",
	)
	phase("delete", 50,
		"USE "+schema+"; DELETE FROM t WHERE id % 3 = 0 OR id = 1; DELETE FROM e WHERE id % 2 = 0")
}
