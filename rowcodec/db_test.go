package rowcodec

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// openZone opens a pool whose sessions start in time zone tz (a server-side
// setting the codec must override), optionally with interpolateParams (which
// would make ad-hoc queries with arguments use the lossy text protocol).
func openZone(t *testing.T, s *testenv.Server, db, tz string, interpolate bool) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(s.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Params = map[string]string{"time_zone": "'" + tz + "'"}
	cfg.InterpolateParams = interpolate
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool := sql.OpenDB(conn)
	t.Cleanup(func() { pool.Close() })
	var got string
	if err := pool.QueryRow("SELECT @@session.time_zone").Scan(&got); err != nil || got != tz {
		t.Fatalf("session time zone %q (%v), want %q", got, err, tz)
	}
	return pool
}

// setupTypes creates db.t on the source with every type and edge value; FLOAT and
// DOUBLE are set through server-side prepared placeholders (exact on the wire).
func setupTypes(t *testing.T, ctx context.Context, env *testenv.Env, db string) {
	t.Helper()
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db,
		"USE "+db+"; "+testenv.TypesTableDDL,
		"USE "+db+"; SET SESSION sql_mode='NO_AUTO_VALUE_ON_ZERO', time_zone='+00:00'; INSERT INTO t "+testenv.TypesTableColumns+" VALUES "+strings.Join(testenv.TypesTableRows(), ",")); err != nil {
		t.Fatal(err)
	}
	src, err := env.Source.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ids := []int{0, -5, 2, 3}
	for i := 10; i < 150; i++ {
		ids = append(ids, -i*1000)
	}
	for n, id := range ids {
		if _, err := src.ExecContext(ctx, "UPDATE t SET f = ?, d = ? WHERE id = ?", float64(testenv.TypesTableFloats[n%len(testenv.TypesTableFloats)]), testenv.TypesTableDoubles[n%len(testenv.TypesTableDoubles)], id); err != nil {
			t.Fatal(err)
		}
	}
}

// rowHashes computes, on the server behind db, one MD5 per row over every column
// with testenv.HashExprs (independent of the codec).
func rowHashes(t *testing.T, ctx context.Context, db *sql.DB, schema, table string) (map[int64]string, []string) {
	t.Helper()
	exprs := testenv.HashExprs(t, db, schema, table, nil, nil)
	if len(exprs) < 80 {
		t.Fatalf("%s.%s: only %d checksum expressions", schema, table, len(exprs))
	}
	out := map[int64]string{}
	for k, h := range testenv.RowHashes(t, db, schema, table, "id", exprs) {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = h
	}
	return out, exprs
}

// rowDetail shows the checksum inputs of one row, for a failure message.
func rowDetail(ctx context.Context, db *sql.DB, schema string, exprs []string, id int64) string {
	q := fmt.Sprintf("SELECT CONCAT_WS('|', %s) FROM %s.t WHERE id = ?", strings.Join(exprs, ", "), sqltok.Quote(schema))
	var s sql.NullString
	if err := db.QueryRowContext(ctx, q, id).Scan(&s); err != nil {
		return err.Error()
	}
	return s.String
}

func compareTables(t *testing.T, ctx context.Context, src *sql.DB, srcSchema string, dst *sql.DB, dstSchema string) int {
	t.Helper()
	want, exprs := rowHashes(t, ctx, src, srcSchema, "t")
	got, _ := rowHashes(t, ctx, dst, dstSchema, "t")
	diffs := 0
	for id, h := range want {
		g, ok := got[id]
		if !ok {
			t.Logf("%s: row id %d missing", dstSchema, id)
			diffs++
			continue
		}
		if g != h {
			diffs++
			if diffs <= 3 {
				t.Logf("%s: row id %d differs\nsource:      %s\ndestination: %s", dstSchema, id,
					rowDetail(ctx, src, srcSchema, exprs, id), rowDetail(ctx, dst, dstSchema, exprs, id))
			}
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Logf("%s: extra row id %d", dstSchema, id)
			diffs++
		}
	}
	if len(want) != len(got) {
		t.Logf("%s: %d rows, source %d", dstSchema, len(got), len(want))
	}
	return diffs
}

func createLike(t *testing.T, ctx context.Context, env *testenv.Env, src *sql.DB, srcSchema, dstSchema string) {
	t.Helper()
	var name, ddl string
	if err := src.QueryRowContext(ctx, "SHOW CREATE TABLE "+sqltok.Quote(srcSchema)+".t").Scan(&name, &ddl); err != nil {
		t.Fatal(err)
	}
	if err := env.Destination.Exec(ctx, "DROP DATABASE IF EXISTS "+dstSchema, "CREATE DATABASE "+dstSchema, "USE "+dstSchema+"; "+ddl); err != nil {
		t.Fatal(err)
	}
}

func TestTypeExactness(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const srcDB = "rc_types"
	setupTypes(t, ctx, env, srcDB)

	// Copy pools: sessions start in zones that are neither UTC nor equal; the
	// reader pool also interpolates params (the codec must still read binary).
	srcCopy := openZone(t, env.Source, srcDB, "-07:00", true)
	dstCopy := openZone(t, env.Destination, "", "+05:30", false)
	// Comparison pools, kept apart from the copy pools (whose sessions the codec
	// changed), in differing zones too.
	srcCheck := openZone(t, env.Source, "", "-07:00", false)
	dstCheck := openZone(t, env.Destination, "", "+05:30", false)

	cols, err := Columns(ctx, srcCopy, srcDB, "t")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Column{}
	for _, c := range cols {
		names[c.Name] = c
	}
	if _, ok := names["gv"]; ok {
		t.Fatal("virtual generated column gv is in the copied columns")
	}
	if _, ok := names["gs"]; ok {
		t.Fatal("stored generated column gs is in the copied columns")
	}
	if c, ok := names["inv"]; !ok || !c.Invisible {
		t.Fatalf("invisible column inv: %+v present=%v", c, ok)
	}
	if c := names["bu"]; !c.Unsigned || c.Kind != KindInt {
		t.Fatalf("bu: %+v", c)
	}
	if c := names["l1"]; c.Charset != "latin1" || c.Kind != KindBytes {
		t.Fatalf("l1: %+v", c)
	}

	rconn, err := srcCopy.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rconn.Close()
	if err := PrepareReader(ctx, rconn); err != nil {
		t.Fatal(err)
	}
	sel, err := PrepareSelect(ctx, rconn, cols, "SELECT "+ColumnList(cols)+" FROM t WHERE id >= ? ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	rows, err := sel.All(ctx, math.MinInt32)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 145 {
		t.Fatalf("read %d rows, want 145", len(rows))
	}
	// Spot checks of the Go types the binary protocol yields.
	byID := map[int64]Row{}
	for _, r := range rows {
		byID[r[0].(int64)] = r
	}
	idx := map[string]int{}
	for i, c := range cols {
		idx[c.Name] = i
	}
	if v := byID[0][idx["f"]]; v != float32(1.2345678) {
		t.Fatalf("FLOAT read as %T %v, want float32 1.2345678 (lossy protocol?)", v, v)
	}
	if v := byID[0][idx["bu"]]; v != uint64(math.MaxUint64) {
		t.Fatalf("BIGINT UNSIGNED max read as %T %v", v, v)
	}
	if v := byID[-5][idx["y"]]; v != int64(0) {
		t.Fatalf("YEAR 0 read as %T %v", v, v)
	}
	if v, _ := byID[0][idx["l1"]].([]byte); string(v) != "\xe9" {
		t.Fatalf("latin1 é read as %x (transcoded?)", v)
	}
	if v, _ := byID[0][idx["b8"]].([]byte); string(v) != "ab\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("BINARY(8) read as %x", v)
	}
	if v, _ := byID[0][idx["ts"]].([]byte); string(v) != "2038-01-19 03:14:07.999999" {
		t.Fatalf("TIMESTAMP read as %q (not UTC?)", v)
	}

	wconn, err := dstCopy.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wconn.Close()
	if err := PrepareWriter(ctx, wconn, Precheck); err != nil {
		t.Fatal(err)
	}

	t.Run("insert", func(t *testing.T) {
		createLike(t, ctx, env, srcCheck, srcDB, "rc_types_ins")
		stmts, err := InsertStatements(Table{Schema: "rc_types_ins", Name: "t"}, cols, rows, 64<<10, Precheck)
		if err != nil {
			t.Fatal(err)
		}
		if len(stmts) < 3 {
			t.Fatalf("%d statements, want several under 64 KiB", len(stmts))
		}
		res, err := Insert(ctx, wconn, Table{Schema: "rc_types_ins", Name: "t"}, cols, rows, 64<<10, Precheck)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != int64(len(rows)) || res.Affected != res.Sent || res.Skipped != 0 {
			t.Fatalf("result %+v", res)
		}
		if d := compareTables(t, ctx, srcCheck, srcDB, dstCheck, "rc_types_ins"); d != 0 {
			t.Fatalf("%d rows differ", d)
		}
	})
	t.Run("load_data", func(t *testing.T) {
		createLike(t, ctx, env, srcCheck, srcDB, "rc_types_ld")
		var total Result
		for i := 0; i < len(rows); i += 40 {
			res, err := LoadData(ctx, wconn, Table{Schema: "rc_types_ld", Name: "t"}, cols, rows[i:min(i+40, len(rows))], Precheck)
			if err != nil {
				t.Fatal(err)
			}
			total.Add(res)
		}
		if total.Sent != int64(len(rows)) || total.Affected != total.Sent {
			t.Fatalf("result %+v", total)
		}
		if d := compareTables(t, ctx, srcCheck, srcDB, dstCheck, "rc_types_ld"); d != 0 {
			t.Fatalf("%d rows differ", d)
		}
	})
	// Negative control: the same rows read over the text protocol (FLOAT rounded by
	// the server) must be caught by the checksums, or they prove nothing.
	t.Run("text_protocol_is_caught", func(t *testing.T) {
		createLike(t, ctx, env, srcCheck, srcDB, "rc_types_txt")
		rs, err := rconn.QueryContext(ctx, "SELECT "+ColumnList(cols)+" FROM t ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var txt []Row
		for rs.Next() {
			r := make(Row, len(cols))
			ptrs := make([]any, len(r))
			for i := range r {
				ptrs[i] = &r[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if b, ok := r[idx["bu"]].([]byte); ok {
				r[idx["bu"]] = []byte(string(b))
			}
			txt = append(txt, r)
		}
		rs.Close()
		if _, err := Insert(ctx, wconn, Table{Schema: "rc_types_txt", Name: "t"}, cols, txt, 1<<20, Precheck); err != nil {
			t.Fatal(err)
		}
		if d := compareTables(t, ctx, srcCheck, srcDB, dstCheck, "rc_types_txt"); d == 0 {
			t.Fatal("text-protocol copy shows no difference: the checksums do not see FLOAT rounding")
		}
	})
}

func TestConflicts(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ddl = "CREATE TABLE k (id INT NOT NULL PRIMARY KEY, u INT NOT NULL, v VARCHAR(10), UNIQUE KEY (u))"
	if err := env.Source.Exec(ctx, "DROP DATABASE IF EXISTS rc_conf", "CREATE DATABASE rc_conf",
		"USE rc_conf; "+ddl+"; INSERT INTO k SELECT seq, seq, 'src' FROM seq_1_to_10"); err != nil {
		t.Fatal(err)
	}
	src, err := env.Source.Open("rc_conf")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	cols, err := Columns(ctx, src, "rc_conf", "k")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := src.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := PrepareReader(ctx, rc); err != nil {
		t.Fatal(err)
	}
	sel, err := PrepareSelect(ctx, rc, cols, "SELECT "+ColumnList(cols)+" FROM k ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sel.All(ctx)
	sel.Close()
	if err != nil || len(rows) != 10 {
		t.Fatalf("read %d rows: %v", len(rows), err)
	}

	// The destination already holds ids 3 and 5 (primary key duplicates) and a row
	// whose unique u=7 collides with source id 7 (secondary unique duplicate).
	prepare := func(t *testing.T, db string) Table {
		if err := env.Destination.Exec(ctx, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db,
			"USE "+db+"; "+ddl+"; INSERT INTO k VALUES (3,3,'dst'),(5,105,'dst'),(100,7,'dst')"); err != nil {
			t.Fatal(err)
		}
		return Table{Schema: db, Name: "k"}
	}
	check := func(t *testing.T, tb Table) {
		got := map[int]string{}
		rs, err := dst.QueryContext(ctx, "SELECT id, u, v FROM "+tb.Quoted())
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id, u int
			var v string
			if err := rs.Scan(&id, &u, &v); err != nil {
				t.Fatal(err)
			}
			got[id] = fmt.Sprintf("%d/%s", u, v)
		}
		want := map[int]string{1: "1/src", 2: "2/src", 3: "3/dst", 4: "4/src", 5: "105/dst", 6: "6/src",
			8: "8/src", 9: "9/src", 10: "10/src", 100: "7/dst"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("destination rows\n got %v\nwant %v", got, want)
		}
	}
	count := func(t *testing.T, tb Table) int {
		var n int
		if err := dst.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tb.Quoted()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	writer := func(t *testing.T, c Conflicts) *sql.Conn {
		wc, err := dst.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wc.Close() })
		if err := PrepareWriter(ctx, wc, c); err != nil {
			t.Fatal(err)
		}
		return wc
	}

	t.Run("ignore_insert", func(t *testing.T) {
		tb := prepare(t, "rc_conf_ins")
		res, err := Insert(ctx, writer(t, Ignore), tb, cols, rows, 80, Ignore)
		if err != nil {
			t.Fatal(err)
		}
		if res != (Result{Sent: 10, Affected: 7, Skipped: 3}) {
			t.Fatalf("result %+v, want 3 skipped", res)
		}
		check(t, tb)
	})
	t.Run("ignore_load_data", func(t *testing.T) {
		tb := prepare(t, "rc_conf_ld")
		res, err := LoadData(ctx, writer(t, Ignore), tb, cols, rows, Ignore)
		if err != nil {
			t.Fatal(err)
		}
		if res != (Result{Sent: 10, Affected: 7, Skipped: 3}) {
			t.Fatalf("result %+v, want 3 skipped", res)
		}
		check(t, tb)
	})
	t.Run("precheck_insert_fails", func(t *testing.T) {
		tb := prepare(t, "rc_conf_pi")
		if _, err := Insert(ctx, writer(t, Precheck), tb, cols, rows, 1<<20, Precheck); err == nil || !strings.Contains(err.Error(), "Duplicate") {
			t.Fatalf("precheck insert over duplicates: err = %v", err)
		}
		if n := count(t, tb); n != 3 {
			t.Fatalf("%d rows after the failed insert, want the 3 preloaded", n)
		}
	})
	t.Run("precheck_load_data_fails", func(t *testing.T) {
		tb := prepare(t, "rc_conf_pl")
		// In a transaction, rolled back on the error: the batch leaves nothing.
		tx, err := writer(t, Precheck).BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadData(ctx, tx, tb, cols, rows, Precheck)
		tx.Rollback()
		if err == nil || !strings.Contains(err.Error(), "3 of 10 rows not inserted") {
			t.Fatalf("precheck load data over duplicates: err = %v", err)
		}
		if n := count(t, tb); n != 3 {
			t.Fatalf("%d rows after the failed load, want the 3 preloaded (rolled back)", n)
		}
	})
}
