package verify

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The table of the tests: every kind of value, a latin1 column the destination
// holds as utf8mb4 (same text, other bytes: no difference).
const table = "CREATE TABLE %s.`t` (`id` INT PRIMARY KEY, `s` VARCHAR(20) CHARACTER SET %s, `n` VARCHAR(10) NULL, " +
	"`d` DECIMAL(10,%d), `b` VARBINARY(8), `ts` DATETIME(6), `f` FLOAT, `x` DOUBLE, `j` JSON, `bits` BIT(9), `e` ENUM('a','b'), `l` BLOB) ENGINE=InnoDB"

func setup(t *testing.T) (src, dst *sql.DB, srcSide, dstSide Side) {
	t.Helper()
	env := testenv.Shared(t)
	ctx := context.Background()
	var err error
	if src, err = env.Source.Open(""); err != nil {
		t.Fatal(err)
	}
	if dst, err = env.Destination.Open(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close(); dst.Close() })
	const sdb, ddb = "vf src", "vf dst"
	for _, x := range []struct {
		db      *sql.DB
		name    string
		charset string
		scale   int
	}{{src, sdb, "latin1", 1}, {dst, ddb, "utf8mb4", 1}} {
		q := testenv.QuoteIdent(x.name)
		stmts := []string{"DROP DATABASE IF EXISTS " + q, "CREATE DATABASE " + q, fmt.Sprintf(table, q, x.charset, x.scale)}
		var vals []string
		for i := 1; i <= 300; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'café %d', %s, %d.5, X'6162', '2024-01-01 00:00:00.%06d', %d.25, 0.1 + 0.2 + %d, '{\"k\": %d}', b'100000001', 'a', REPEAT('z', %d))",
				i, i, map[bool]string{true: "NULL", false: fmt.Sprintf("'n%d'", i)}[i%7 == 0], i, i, i, i, i, i%50))
		}
		stmts = append(stmts, "INSERT INTO "+q+".`t` VALUES "+strings.Join(vals, ", "))
		for _, s := range stmts {
			if _, err := x.db.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		name := x.name
		t.Cleanup(func() { x.db.Exec("DROP DATABASE IF EXISTS " + testenv.QuoteIdent(name)) })
	}
	side := func(db *sql.DB, name string) Side {
		key, err := chunk.ChooseKey(ctx, db, name, "t")
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rowcodec.Columns(ctx, db, name, "t")
		if err != nil {
			t.Fatal(err)
		}
		return Side{Table: chunk.Table{Schema: name, Name: "t"}, Key: key, Columns: cols}
	}
	return src, dst, side(src, sdb), side(dst, ddb)
}

func ranges(t *testing.T, db *sql.DB, s Side) []chunk.Range {
	t.Helper()
	rs, err := chunk.Split(context.Background(), db, s.Table, s.Key, 6)
	if err != nil || len(rs) < 3 {
		t.Fatalf("split: %d ranges, %v", len(rs), err)
	}
	return rs
}

// Equal data gives equal checksums in every range, and no difference.
func TestNoFalseDifferences(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	for _, r := range ranges(t, src, s) {
		a, err := Checksum(ctx, src, s, r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Checksum(ctx, dst, d, r)
		if err != nil {
			t.Fatal(err)
		}
		if a != b || a.Rows == 0 {
			t.Errorf("range %s: source %+v, destination %+v", r, a, b)
		}
		diffs, n, err := Diff(ctx, src, dst, s, d, r, nil, 0)
		if err != nil || len(diffs) != 0 || n != a.Rows {
			t.Errorf("range %s: %d compared, differences %+v, %v", r, n, diffs, err)
		}
	}
}

// Each planted difference changes its range's checksum and is found, with its
// key and column.
func TestPlantedDifferences(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	dq := d.Table.Quoted()
	for _, q := range []string{
		"UPDATE " + dq + " SET `s` = 'café 4x' WHERE `id` = 4",                       // one changed byte
		"DELETE FROM " + dq + " WHERE `id` = 10",                                     // missing
		"INSERT INTO " + dq + " (`id`, `s`) VALUES (1000, 'extra')",                  // extra
		"UPDATE " + dq + " SET `n` = '' WHERE `id` = 21",                             // NULL vs ''
		"UPDATE " + dq + " SET `b` = X'616200' WHERE `id` = 50",                      // a trailing zero byte
		"UPDATE " + dq + " SET `ts` = '2024-01-01 00:00:00.000101' WHERE `id` = 100", // a microsecond
		"UPDATE " + dq + " SET `x` = 100.30000000000001 WHERE `id` = 100",            // one ULP of a double (100.3 before)
		"UPDATE " + dq + " SET `f` = 150.25001525878906 WHERE `id` = 150",            // one ULP of a float
		"UPDATE " + dq + " SET `j` = '{\"k\": 200 }' WHERE `id` = 200",               // JSON text
		"UPDATE " + dq + " SET `bits` = b'100000011' WHERE `id` = 250",               // a bit
		"UPDATE " + dq + " SET `l` = CONCAT(`l`, 'z') WHERE `id` = 260",              // a blob
		"ALTER TABLE " + dq + " MODIFY `d` DECIMAL(10,2)",                            // 1.0 is not 1.00 ...
	} {
		if _, err := dst.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// ... so every row differs in d: compare without it first, then alone.
	var sNoD, dNoD Side = s, d
	sNoD.Columns, dNoD.Columns = nil, nil
	for i, c := range s.Columns {
		if c.Name != "d" {
			sNoD.Columns = append(sNoD.Columns, c)
			dNoD.Columns = append(dNoD.Columns, d.Columns[i])
		}
	}
	want := []string{
		"missing id=10", "extra id=1000",
		"different id=4 [s]", "different id=21 [n]", "different id=50 [b]", "different id=100 [ts x]",
		"different id=150 [f]", "different id=200 [j]", "different id=250 [bits]", "different id=260 [l]",
	}
	var got []string
	for _, r := range ranges(t, src, s) {
		a, err := Checksum(ctx, src, sNoD, r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Checksum(ctx, dst, dNoD, r)
		if err != nil {
			t.Fatal(err)
		}
		diffs, _, err := Diff(ctx, src, dst, sNoD, dNoD, r, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if (a == b) != (len(diffs) == 0) {
			t.Errorf("range %s: checksums equal %v, but %d differences", r, a == b, len(diffs))
		}
		for _, df := range diffs {
			s := df.Kind + " " + df.Key
			if df.Kind == Different {
				s += fmt.Sprint(" ", df.Columns)
			}
			got = append(got, s)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// DECIMAL(10,1) 1.5 against DECIMAL(10,2) 1.50: every row.
	sD, dD := s, d
	sD.Columns, dD.Columns = nil, nil
	for i, c := range s.Columns {
		if c.Name == "id" || c.Name == "d" {
			sD.Columns = append(sD.Columns, c)
			dD.Columns = append(dD.Columns, d.Columns[i])
		}
	}
	r := chunk.Range{}
	a, _ := Checksum(ctx, src, sD, r)
	b, _ := Checksum(ctx, dst, dD, r)
	diffs, _, err := Diff(ctx, src, dst, sD, dD, r, nil, 5)
	if err != nil || a == b || len(diffs) != 5 || diffs[0].Key != "id=1" || fmt.Sprint(diffs[0].Columns) != "[d]" {
		t.Errorf("decimal scale: checksums %+v %+v, first differences %+v, %v", a, b, diffs, err)
	}
}

// DiffKeys: the source's rows stay locked during the wait (a writer waits for
// them), and what the destination holds after it is compared: a change made
// during the wait (as replication would) counts, a planted difference stays.
func TestDiffKeysLocksTheSourceRows(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	sq, dq := s.Table.Quoted(), d.Table.Quoted()
	// In flight: the source changed row 5 and deleted row 6, the destination
	// does not have it yet. Planted: row 7 differs, and row 8 is missing.
	for _, q := range []string{"UPDATE " + sq + " SET `n` = 'new' WHERE `id` = 5", "DELETE FROM " + sq + " WHERE `id` = 6"} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"UPDATE " + dq + " SET `n` = 'planted' WHERE `id` = 7", "DELETE FROM " + dq + " WHERE `id` = 8"} {
		if _, err := dst.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	keys := [][]any{{int64(5)}, {int64(6)}, {int64(7)}, {int64(8)}}
	blocked := make(chan error, 1)
	diffs, err := DiffKeys(ctx, src, dst, s, d, keys, nil, 1, func(ctx context.Context) error {
		// The rows are locked: a writer times out (1 s lock wait), also on the
		// absent key 6 (a gap lock).
		for _, q := range []string{"UPDATE " + sq + " SET `n` = 'blocked' WHERE `id` = 5", "INSERT INTO " + sq + " (`id`) VALUES (6)"} {
			conn, err := src.Conn(ctx)
			if err != nil {
				return err
			}
			conn.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1")
			_, err = conn.ExecContext(ctx, q)
			conn.Close()
			if err == nil {
				blocked <- fmt.Errorf("%s ran while the rows were locked", q)
				return nil
			}
		}
		// Replication applies the changes in flight.
		for _, q := range []string{"UPDATE " + dq + " SET `n` = 'new' WHERE `id` = 5", "DELETE FROM " + dq + " WHERE `id` = 6"} {
			if _, err := dst.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		t.Fatal(err)
	default:
	}
	var got []string
	for _, df := range diffs {
		got = append(got, fmt.Sprintf("%s %s %v", df.Kind, df.Key, df.Columns))
	}
	if want := "different id=7 [n]\nmissing id=8 []"; strings.Join(got, "\n") != want {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	// The locks are gone.
	if _, err := src.Exec("UPDATE " + sq + " SET `n` = 'after' WHERE `id` = 5"); err != nil {
		t.Errorf("after DiffKeys: %v", err)
	}
	// A wait that fails ends the comparison with its error, locks released.
	if _, err := DiffKeys(ctx, src, dst, s, d, keys, nil, 1, func(context.Context) error { return ErrNotSettled }); err != ErrNotSettled {
		t.Errorf("a failed wait: %v", err)
	}
	if _, err := src.Exec("UPDATE " + sq + " SET `n` = 'again' WHERE `id` = 5"); err != nil {
		t.Errorf("after a failed DiffKeys: %v", err)
	}
}

// RepairKeys rewrites the keys' rows from the source's locked rows: a
// different row, a missing one, an extra one; the range is equal after.
func TestRepairKeys(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	dq := d.Table.Quoted()
	// A repair writes the source's bytes, as the copy does (the schema phase
	// gives both sides one character set): latin1 here too.
	if _, err := dst.Exec("ALTER TABLE " + dq + " MODIFY `s` VARCHAR(20) CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	var err error
	if d.Columns, err = rowcodec.Columns(ctx, dst, d.Table.Schema, d.Table.Name); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE " + dq + " SET `n` = 'planted' WHERE `id` = 7", "DELETE FROM " + dq + " WHERE `id` = 8", "INSERT INTO " + dq + " (`id`) VALUES (1001)"} {
		if _, err := dst.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	waited := false
	err = RepairKeys(ctx, src, dst, s, d, s.Columns, [][]any{{int64(7)}, {int64(8)}, {int64(1001)}}, nil, 1, func(context.Context) error { waited = true; return nil })
	if err != nil || !waited {
		t.Fatalf("repair: %v (waited %v)", err, waited)
	}
	diffs, n, err := Diff(ctx, src, dst, s, d, chunk.Range{}, nil, 0)
	if err != nil || len(diffs) != 0 || n != 300 {
		t.Fatalf("after the repair: %d rows compared, differences %+v, %v", n, diffs, err)
	}
}

// A table without a key may hold a row twice: a row the source has twice and
// the destination once is missing once; one the destination has twice, extra.
func TestKeylessDuplicates(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	for _, x := range []struct {
		db   *sql.DB
		side Side
		rows string
	}{{src, s, "(1, 'a'), (1, 'a'), (2, 'b')"}, {dst, d, "(1, 'a'), (2, 'b'), (2, 'b')"}} {
		q := testenv.QuoteIdent(x.side.Table.Schema) + ".`k`"
		for _, stmt := range []string{"CREATE TABLE " + q + " (`n` INT, `v` VARCHAR(5))", "INSERT INTO " + q + " VALUES " + x.rows} {
			if _, err := x.db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	side := func(db *sql.DB, schema string) Side {
		key, err := chunk.ChooseKey(ctx, db, schema, "k")
		if err != nil || !key.None() {
			t.Fatalf("key %v, %v", key, err)
		}
		cols, err := rowcodec.Columns(ctx, db, schema, "k")
		if err != nil {
			t.Fatal(err)
		}
		return Side{Table: chunk.Table{Schema: schema, Name: "k"}, Key: key, Columns: cols}
	}
	ks, kd := side(src, s.Table.Schema), side(dst, d.Table.Schema)
	diffs, n, err := Diff(ctx, src, dst, ks, kd, chunk.Range{}, nil, 0)
	var got []string
	for _, df := range diffs {
		got = append(got, df.Kind+" "+df.Key)
	}
	if err != nil || n != 3 || strings.Join(got, "; ") != `missing n=1, v="a"; extra n=2, v="b"` {
		t.Fatalf("%d compared, differences %v, %v", n, got, err)
	}
}

// Each planted difference alone changes the checksum (every row in one range,
// so no other difference hides or causes it), and undone, the checksums agree.
func TestEachDifferenceChangesTheChecksum(t *testing.T) {
	src, dst, s, d := setup(t)
	ctx := context.Background()
	dq := d.Table.Quoted()
	sums := func() (Sum, Sum) {
		t.Helper()
		a, err := Checksum(ctx, src, s, chunk.Range{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Checksum(ctx, dst, d, chunk.Range{})
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
	if a, b := sums(); a != b {
		t.Fatalf("equal data: %+v %+v", a, b)
	}
	for _, c := range []struct{ name, plant, undo string }{
		{"one byte changed", "UPDATE " + dq + " SET `s` = 'café 5' WHERE `id` = 4", "UPDATE " + dq + " SET `s` = 'café 4' WHERE `id` = 4"},
		{"a missing row", "DELETE FROM " + dq + " WHERE `id` = 10", "INSERT INTO " + dq + " VALUES (10, 'café 10', 'n10', 10.5, X'6162', '2024-01-01 00:00:00.000010', 10.25, 0.1 + 0.2 + 10, '{\"k\": 10}', b'100000001', 'a', REPEAT('z', 10))"},
		{"an extra row", "INSERT INTO " + dq + " (`id`) VALUES (1000)", "DELETE FROM " + dq + " WHERE `id` = 1000"},
		{"NULL against ''", "UPDATE " + dq + " SET `n` = '' WHERE `id` = 21", "UPDATE " + dq + " SET `n` = NULL WHERE `id` = 21"},
		{"a trailing zero byte", "UPDATE " + dq + " SET `b` = X'616200' WHERE `id` = 50", "UPDATE " + dq + " SET `b` = X'6162' WHERE `id` = 50"},
		{"a microsecond", "UPDATE " + dq + " SET `ts` = '2024-01-01 00:00:00.000101' WHERE `id` = 100", "UPDATE " + dq + " SET `ts` = '2024-01-01 00:00:00.000100' WHERE `id` = 100"},
		{"one ULP of a DOUBLE", "UPDATE " + dq + " SET `x` = 100.30000000000001 WHERE `id` = 100", "UPDATE " + dq + " SET `x` = 0.1 + 0.2 + 100 WHERE `id` = 100"},
		{"one ULP of a FLOAT", "UPDATE " + dq + " SET `f` = 150.25001525878906 WHERE `id` = 150", "UPDATE " + dq + " SET `f` = 150.25 WHERE `id` = 150"},
	} {
		if _, err := dst.Exec(c.plant); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if a, b := sums(); a == b {
			t.Errorf("%s: the checksums agree (%+v)", c.name, a)
		}
		if _, err := dst.Exec(c.undo); err != nil {
			t.Fatalf("%s: undo: %v", c.name, err)
		}
		if a, b := sums(); a != b {
			t.Fatalf("%s: undone, the checksums still differ: %+v %+v", c.name, a, b)
		}
	}
}
