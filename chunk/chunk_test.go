package chunk

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// setup creates a fresh database on the source and returns a pool on it.
func setup(t *testing.T, dbName string, stmts ...string) *sql.DB {
	t.Helper()
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q := testenv.QuoteIdent(dbName)
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+q, "CREATE DATABASE "+q); err != nil {
		t.Fatal(err)
	}
	db, err := env.Source.Open(dbName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db
}

// render turns driver values into a comparable string.
func render(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		if b, ok := v.([]byte); ok {
			parts[i] = fmt.Sprintf("%x", b)
		} else {
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, "|")
}

// serverKeys is every key on the server, read independently of the package.
func serverKeys(t *testing.T, db *sql.DB, tbl Table, cols []string) map[string]int {
	t.Helper()
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = testenv.QuoteIdent(c)
	}
	// An argument makes the driver use the binary protocol, like Next does.
	rows, err := db.Query("SELECT "+strings.Join(q, ", ")+" FROM "+tbl.Quoted()+" WHERE 1 = ?", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	vals := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out[render(vals)]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// copyAll splits the table, pages through every range (through a JSON round trip
// of the range and of the cursor, as Temporal would carry them) and checks that
// every row is seen exactly once and no page exceeds limit.
func copyAll(t *testing.T, db *sql.DB, tbl Table, key Key, want, limit int) []Range {
	t.Helper()
	ctx := context.Background()
	ranges, err := Split(ctx, db, tbl, key, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) < 1 || len(ranges) > 2*want {
		t.Fatalf("Split(want %d): %d ranges", want, len(ranges))
	}
	if ranges[0].Lower != nil || ranges[len(ranges)-1].Upper != nil {
		t.Fatalf("ranges do not cover both ends: %v", ranges)
	}
	cols := key.ColumnNames()
	seen := map[string]int{}
	for i, rng := range ranges {
		if rng.Index != i || (i > 0 && !reflect.DeepEqual(rng.Lower, ranges[i-1].Upper)) {
			t.Fatalf("range %d not contiguous: %v after %v", i, rng, ranges[i-1])
		}
		rng = roundTrip(t, rng)
		var cur Cursor
		for pages := 0; ; pages++ {
			if pages > 100000 {
				t.Fatalf("range %v: no end after %d pages", rng, pages)
			}
			n := 0
			p, err := Next(ctx, db, tbl, key, cols, rng, cur, limit, func(v []any) error {
				n++
				seen[render(v)]++
				return nil
			})
			if err != nil {
				t.Fatalf("range %v cursor %v: %v", rng, cur, err)
			}
			if n != p.Rows || p.Rows > limit {
				t.Fatalf("page of %d rows (callback %d), limit %d", p.Rows, n, limit)
			}
			if p.Done != (p.Rows < limit) {
				t.Fatalf("done %v with %d rows, limit %d", p.Done, p.Rows, limit)
			}
			if p.Rows == 0 && !reflect.DeepEqual(p.Cursor, cur) {
				t.Fatalf("empty page moved the cursor %v -> %v", cur, p.Cursor)
			}
			cur = Cursor(roundTrip(t, Range{Lower: Tuple(p.Cursor)}).Lower)
			if p.Done {
				break
			}
		}
	}
	want2 := serverKeys(t, db, tbl, cols)
	for k, n := range want2 {
		if seen[k] != n {
			t.Errorf("key %s: seen %d times, on the server %d", k, seen[k], n)
		}
	}
	for k := range seen {
		if _, ok := want2[k]; !ok {
			t.Errorf("key %s seen but not on the server", k)
		}
	}
	return ranges
}

func roundTrip(t *testing.T, r Range) Range {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out Range
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, r) {
		t.Fatalf("JSON round trip changed %#v into %#v (%s)", r, out, b)
	}
	return out
}

func chooseKey(t *testing.T, db *sql.DB, tbl Table) Key {
	t.Helper()
	k, err := ChooseKey(context.Background(), db, tbl.Schema, tbl.Name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func insertInts(t *testing.T, db *sql.DB, table string, vals []string) {
	t.Helper()
	for start := 0; start < len(vals); start += 500 {
		end := min(start+500, len(vals))
		q := "INSERT INTO " + testenv.QuoteIdent(table) + " VALUES (" + strings.Join(vals[start:end], "),(") + ")"
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIntegerKeys(t *testing.T) {
	db := setup(t, "chunk_int",
		"CREATE TABLE s (id BIGINT PRIMARY KEY)",
		"CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY)",
		"CREATE TABLE tiny (id TINYINT PRIMARY KEY)",
		"CREATE TABLE gaps (id INT PRIMARY KEY, v VARCHAR(10))",
		"CREATE TABLE empty (id INT PRIMARY KEY)",
		"CREATE TABLE one (id INT UNSIGNED PRIMARY KEY)",
		"CREATE TABLE umax (id BIGINT UNSIGNED PRIMARY KEY)",
	)
	s := []string{"-9223372036854775808", "-9223372036854775807", "-1000000", "-1", "0", "1", "9223372036854775807", "9223372036854775806"}
	for i := 2; i < 400; i++ {
		s = append(s, fmt.Sprint(i), fmt.Sprint(-i*7))
	}
	insertInts(t, db, "s", s)
	u := []string{"0", "1", "9223372036854775807", "9223372036854775808", "18446744073709551614", "18446744073709551615"}
	for i := 2; i < 300; i++ {
		u = append(u, fmt.Sprint(i*3))
	}
	insertInts(t, db, "u", u)
	var tiny []string
	for i := -128; i <= 127; i++ {
		tiny = append(tiny, fmt.Sprint(i))
	}
	insertInts(t, db, "tiny", tiny)
	var gaps []string
	for i := 1; i <= 1000; i++ {
		gaps = append(gaps, fmt.Sprintf("%d,'r%d'", i, i))
	}
	gaps = append(gaps, "2000000000,'far'", "-2000000000,'neg'")
	insertInts(t, db, "gaps", gaps)
	insertInts(t, db, "one", []string{"42"})
	insertInts(t, db, "umax", []string{"18446744073709551615"})

	for _, c := range []struct {
		table       string
		want, limit int
		ranges      int // expected number of ranges
	}{
		{"s", 8, 7, 8},
		{"u", 5, 13, 5},
		{"tiny", 3, 10, 3},
		{"gaps", 16, 50, 16},
		{"empty", 4, 3, 1},
		{"one", 4, 3, 1},
		{"umax", 7, 1, 1},
		{"s", 1, 100, 1},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.table, c.want), func(t *testing.T) {
			tbl := Table{"chunk_int", c.table}
			key := chooseKey(t, db, tbl)
			if !key.Integer() || key.Name != "PRIMARY" {
				t.Fatalf("key %+v", key)
			}
			ranges := copyAll(t, db, tbl, key, c.want, c.limit)
			if len(ranges) != c.ranges {
				t.Fatalf("%d ranges, want %d: %v", len(ranges), c.ranges, ranges)
			}
		})
	}
	// tiny -128..127 in 3: equal spans of 86 keys.
	r, err := Split(context.Background(), db, Table{"chunk_int", "tiny"}, chooseKey(t, db, Table{"chunk_int", "tiny"}), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r); got != "[#0 -inf..(-43) #1 (-43)..(43) #2 (43)..+inf]" {
		t.Fatalf("tiny ranges: %s", got)
	}
}

func TestCompositeKeySkewedOnFirstColumn(t *testing.T) {
	// The Flink CDC #2676 case: VARCHAR (case-insensitive) + INT, one first-column
	// value holding 90% of the rows.
	db := setup(t, "chunk_skew",
		"CREATE TABLE t (a VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, b INT NOT NULL, v CHAR(10), PRIMARY KEY (a, b))")
	var vals []string
	for i := 0; i < 1800; i++ {
		hot := []string{"hot", "Hot", "HOT"}[i%3] // one value under _ci, three spellings
		vals = append(vals, fmt.Sprintf("'%s',%d,'x'", hot, i-900))
	}
	for i := 0; i < 200; i++ {
		vals = append(vals, fmt.Sprintf("'%s%03d',%d,'y'", []string{"a", "Z", "h", "i"}[i%4], i, i))
	}
	insertInts(t, db, "t", vals)
	if _, err := db.Exec("ANALYZE TABLE t"); err != nil {
		t.Fatal(err)
	}
	tbl := Table{"chunk_skew", "t"}
	key := chooseKey(t, db, tbl)
	if got := fmt.Sprint(key.ColumnNames()); key.Name != "PRIMARY" || got != "[a b]" || key.Columns[0].Kind != Text || key.Columns[1].Kind != Signed {
		t.Fatalf("key %+v", key)
	}
	ranges := copyAll(t, db, tbl, key, 8, 37)
	// Boundaries come from row counts, not from first-column values: the hot value
	// must be cut into several ranges.
	hotRanges := 0
	for _, r := range ranges {
		if r.Upper != nil && strings.EqualFold(string(mustHex(t, r.Upper[0])), "hot") {
			hotRanges++
		}
	}
	if hotRanges < 4 {
		t.Fatalf("only %d ranges end inside the hot value: %v", hotRanges, ranges)
	}
	// A page in the middle of the hot value must read about limit index entries,
	// not the whole hot value (the expanded row comparison gives an index range).
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cur := Cursor{fmt.Sprintf("%x", "HoT"), "0"}
	before := handlerReads(t, conn)
	p, err := Next(ctx, conn, tbl, key, []string{"a", "b", "v"}, Range{}, cur, 10, func([]any) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	reads := handlerReads(t, conn) - before
	if p.Rows != 10 || p.Cursor[1] != "10" {
		t.Fatalf("page after (HoT,0): %+v", p)
	}
	if reads > 2*10 {
		t.Fatalf("a 10-row page read %d index entries: the key range is not used", reads)

	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handlerReads sums the session's Handler_read_* counters.
func handlerReads(t *testing.T, conn *sql.Conn) int64 {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), "SHOW SESSION STATUS LIKE 'Handler_read%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

func TestStringKeysCollations(t *testing.T) {
	db := setup(t, "chunk_str",
		"CREATE TABLE ci (k VARCHAR(30) COLLATE utf8mb4_general_ci PRIMARY KEY)",
		"CREATE TABLE nopad (k VARCHAR(30) COLLATE utf8mb4_general_nopad_ci PRIMARY KEY)",
		"CREATE TABLE l1 (k VARCHAR(30) CHARACTER SET latin1 COLLATE latin1_swedish_ci PRIMARY KEY)",
		"CREATE TABLE bin (k VARBINARY(30) PRIMARY KEY)",
		"CREATE TABLE ch (k CHAR(10) COLLATE utf8mb4_unicode_ci PRIMARY KEY)",
	)
	var ci, nopad, l1, bin []string
	for i := 0; i < 300; i++ {
		base := fmt.Sprintf("%s%03d", []string{"k", "K", "b", "B", "é", "😀", "", " "}[i%8], i)
		// Trailing spaces: PAD SPACE collations ignore them, so each base appears once.
		ci = append(ci, "'"+base+strings.Repeat(" ", i%3)+"'")
		nopad = append(nopad, "'"+base+"'", "'"+base+" '") // distinct under NO PAD
		l1 = append(l1, fmt.Sprintf("X'%x'", strings.NewReplacer("é", "\xe9", "😀", "\xff").Replace(base)+"\xe9"))
		bin = append(bin, fmt.Sprintf("X'%x'", fmt.Sprintf("%s\x00%c", base, byte(i))))
	}
	ci = append(ci, "''")
	bin = append(bin, "''", "X'00'", "X'0000'", "X'ff'")
	insertInts(t, db, "ci", ci)
	insertInts(t, db, "nopad", nopad)
	insertInts(t, db, "l1", l1)
	insertInts(t, db, "bin", bin)
	insertInts(t, db, "ch", []string{"'a'", "'B '", "'c  '", "'D'", "''", "'e'", "'F'"})
	for _, c := range []struct {
		table string
		kind  Kind
	}{{"ci", Text}, {"nopad", Text}, {"l1", Text}, {"bin", Binary}, {"ch", Text}} {
		for _, want := range []int{1, 3, 7} {
			t.Run(fmt.Sprintf("%s/%d", c.table, want), func(t *testing.T) {
				tbl := Table{"chunk_str", c.table}
				key := chooseKey(t, db, tbl)
				if key.Columns[0].Kind != c.kind {
					t.Fatalf("key %+v", key)
				}
				copyAll(t, db, tbl, key, want, 11)
			})
		}
	}
}

func TestDecimalAndTemporalKey(t *testing.T) {
	db := setup(t, "chunk_cast",
		"CREATE TABLE t (d DECIMAL(30,5) NOT NULL, ts DATETIME(6) NOT NULL, dt DATE NOT NULL, PRIMARY KEY (d, ts, dt))")
	var vals []string
	for i := 0; i < 400; i++ {
		d := []string{"-99999.99999", "0.00000", "0.00001", "1234567890123456789012345.12345"}[i%4]
		vals = append(vals, fmt.Sprintf("'%s','2024-02-29 23:59:%02d.%06d','%04d-01-01'", d, i%60, i, 2000+i/60))
	}
	insertInts(t, db, "t", vals)
	tbl := Table{"chunk_cast", "t"}
	key := chooseKey(t, db, tbl)
	if key.Columns[0].CastType != "DECIMAL(30,5)" || key.Columns[1].CastType != "DATETIME(6)" || key.Columns[2].CastType != "DATE" {
		t.Fatalf("key %+v", key)
	}
	copyAll(t, db, tbl, key, 5, 9)
}

func TestUniqueKeyChoice(t *testing.T) {
	db := setup(t, "chunk_uk",
		// No PK; uq_null has a nullable column; uq2 has two columns; uq_s is one
		// string; uq_i one integer (preferred).
		"CREATE TABLE u (x INT NULL, code VARCHAR(10) NOT NULL, n INT NOT NULL, m INT NOT NULL, "+
			"UNIQUE KEY uq_null (x), UNIQUE KEY uq2 (code, n), UNIQUE KEY uq_s (code), UNIQUE KEY uq_i (m))",
		"CREATE TABLE u2 (x INT NULL, code VARCHAR(10) NOT NULL, n INT NOT NULL, UNIQUE KEY uq_null (x), UNIQUE KEY uq2 (code, n))",
		"CREATE TABLE nullable (x INT NULL, UNIQUE KEY (x))",
		"CREATE TABLE prefix (t TEXT NOT NULL, PRIMARY KEY (t(10)))",
		"CREATE TABLE hash (b BLOB NOT NULL, UNIQUE KEY (b))", // MariaDB long unique: HASH
		"CREATE TABLE enumk (e ENUM('b','a') NOT NULL PRIMARY KEY)",
		"CREATE TABLE fallback (e ENUM('b','a') NOT NULL PRIMARY KEY, id INT NOT NULL, UNIQUE KEY (id))",
		"CREATE TABLE nokey (a INT, b TEXT, KEY (a))",
	)
	for table, want := range map[string]string{
		"u": "uq_i(m)", "u2": "uq2(code,n)", "nullable": "(no key)", "prefix": "(no key)",
		"hash": "(no key)", "enumk": "(no key)", "fallback": "id(id)", "nokey": "(no key)",
	} {
		if got := chooseKey(t, db, Table{"chunk_uk", table}).String(); got != want {
			t.Errorf("%s: key %s, want %s", table, got, want)
		}
	}
	var vals []string
	for i := 0; i < 250; i++ {
		vals = append(vals, fmt.Sprintf("NULL,'C%d',%d", i%7, i))
	}
	insertInts(t, db, "u2", vals)
	tbl := Table{"chunk_uk", "u2"}
	copyAll(t, db, tbl, chooseKey(t, db, tbl), 4, 6)
}

func TestNoKeyStream(t *testing.T) {
	db := setup(t, "chunk_nokey", "CREATE TABLE t (a INT, b FLOAT, c VARBINARY(10))")
	var vals []string
	for i := 0; i < 3000; i++ {
		vals = append(vals, fmt.Sprintf("%d,1.2345678,X'%02x00'", i%10, i%256)) // duplicates on purpose
	}
	insertInts(t, db, "t", vals)
	tbl := Table{"chunk_nokey", "t"}
	key := chooseKey(t, db, tbl)
	if !key.None() {
		t.Fatalf("key %v", key)
	}
	ranges, err := Split(context.Background(), db, tbl, key, 8)
	if err != nil || len(ranges) != 1 || ranges[0].Lower != nil || ranges[0].Upper != nil {
		t.Fatalf("Split of a no-key table: %v, %v", ranges, err)
	}
	if _, err := Next(context.Background(), db, tbl, key, []string{"a"}, ranges[0], nil, 10, nil); err == nil {
		t.Fatal("Next on a no-key table: no error")
	}
	seen := map[string]int{}
	floats := 0
	n, bytes, err := Stream(context.Background(), db, tbl, []string{"a", "b", "c"}, func(v []any) error {
		if f, ok := v[1].(float32); ok && f == 1.2345678 {
			floats++ // the binary protocol: FLOAT arrives exact
		}
		seen[render(v)]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3000 || bytes != 3000*(8+8+2) || floats != 3000 {
		t.Fatalf("stream: %d rows, %d bytes, %d exact floats", n, bytes, floats)
	}
	if want := serverKeys(t, db, tbl, []string{"a", "b", "c"}); !reflect.DeepEqual(seen, want) {
		t.Fatalf("stream saw %d distinct rows, server has %d", len(seen), len(want))
	}
}

func TestPageQueryIsKeyset(t *testing.T) {
	key := Key{Name: "PRIMARY", Columns: []Column{
		{Name: "a`b", Kind: Text, Charset: "utf8mb4", Collation: "utf8mb4_general_ci"},
		{Name: "n", Kind: Unsigned},
	}}
	q, err := PageQuery(Table{"s", "t"}, key, []string{"v"}, Range{Upper: Tuple{"6869", "18446744073709551615"}}, Cursor{"", "0"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	wantSQL := "SELECT CAST(`a``b` AS BINARY), `n`, `v` FROM `s`.`t` WHERE " +
		"`a``b` >= CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci AND (`a``b` > CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci OR (`a``b` = CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci AND `n` > ?)) AND " +
		"`a``b` <= CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci AND (`a``b` < CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci OR (`a``b` = CONVERT(UNHEX(?) USING utf8mb4) COLLATE utf8mb4_general_ci AND `n` <= ?)) " +
		"ORDER BY `a``b`, `n` LIMIT ?"
	if q.SQL != wantSQL {
		t.Fatalf("SQL:\n%s\nwant\n%s", q.SQL, wantSQL)
	}
	wantArgs := []any{"", "", "", uint64(0), "6869", "6869", "6869", uint64(18446744073709551615), int64(5)}
	if !reflect.DeepEqual(q.Args, wantArgs) {
		t.Fatalf("args %#v", q.Args)
	}
	if _, err := PageQuery(Table{"s", "t"}, key, nil, Range{Lower: Tuple{"zz"}}, nil, 5); err == nil {
		t.Fatal("a lower bound with the wrong arity: no error")
	}
	if _, err := PageQuery(Table{"s", "t"}, key, nil, Range{Lower: Tuple{"6g", "1"}}, nil, 5); err == nil {
		t.Fatal("bad hex: no error")
	}
	if _, err := PageQuery(Table{"s", "t"}, key, nil, Range{Lower: Tuple{"", "-1"}}, nil, 5); err == nil {
		t.Fatal("negative unsigned: no error")
	}
}

func TestWalkBoundsWithWrongEstimates(t *testing.T) {
	db := setup(t, "chunk_walk", "CREATE TABLE t (k VARCHAR(10) PRIMARY KEY)")
	var vals []string
	for i := 0; i < 1000; i++ {
		vals = append(vals, fmt.Sprintf("'k%04d'", i))
	}
	insertInts(t, db, "t", vals)
	tbl := Table{"chunk_walk", "t"}
	key := chooseKey(t, db, tbl)
	ctx := context.Background()
	for _, c := range []struct {
		est       int64
		min, max  int // boundaries
		firstStep string
	}{
		{est: 1000, min: 8, max: 8, firstStep: "k0124"}, // exact: step 125, the last boundary is the last row
		{est: 0, min: 8, max: 15, firstStep: "k0063"},   // step 1, doubled 6 times to 64
		{est: 5000, min: 1, max: 1, firstStep: "k0624"}, // step 625: one boundary
		{est: 1 << 40, min: 0, max: 0, firstStep: ""},   // one range
	} {
		b, err := walkBounds(ctx, db, tbl, key, 8, c.est)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < c.min || len(b) > c.max {
			t.Errorf("est %d: %d boundaries, want %d..%d", c.est, len(b), c.min, c.max)
			continue
		}
		if len(b) > 0 && string(mustHex(t, b[0][0])) != c.firstStep {
			t.Errorf("est %d: first boundary %q, want %q", c.est, mustHex(t, b[0][0]), c.firstStep)
		}
	}
}
