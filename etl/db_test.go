package etl

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// readAll reads a table through rowcodec's exact reader, as the copy does.
func readAll(t *testing.T, db *sql.DB, tbl Table) []rowcodec.Row {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := rowcodec.PrepareReader(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var cols []rowcodec.Column
	for _, c := range tbl.Columns {
		cols = append(cols, c.Column)
	}
	sel, err := rowcodec.PrepareSelect(ctx, conn, cols, "SELECT "+rowcodec.ColumnList(cols)+" FROM "+tbl.String()+" ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sel.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The pushed-down condition selects exactly the rows the filter keeps when it
// says it is complete, and a superset otherwise: computed both ways on MariaDB.
func TestPushDownAgreesWithCEL(t *testing.T) {
	env := testenv.Shared(t)
	db, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{
		"DROP DATABASE IF EXISTS etl_push", "CREATE DATABASE etl_push",
		"CREATE TABLE etl_push.t (id INT NOT NULL PRIMARY KEY, n INT NOT NULL, u BIGINT UNSIGNED NOT NULL," +
			" s VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, c CHAR(5) COLLATE utf8mb4_unicode_ci NOT NULL," +
			" e ENUM('a','B','ü') NOT NULL, nn INT NULL, lat VARCHAR(10) CHARACTER SET latin1 NOT NULL, asc1 VARCHAR(10) CHARACTER SET ascii NOT NULL," +
			" ip INET6 NOT NULL, ip4 INET4 NOT NULL, uu UUID NOT NULL)",
		"INSERT INTO etl_push.t VALUES (1, -5, 0, 'abc', 'abc', 'a', NULL, 'é', 'x', '::1', '10.0.0.1', '123e4567-e89b-12d3-a456-426655440000')," +
			"(2, 0, 18446744073709551615, 'ABC', 'ABC  ', 'B', 1, 'e', 'y', '::2', '10.0.0.2', '00000000-0000-0000-0000-000000000001')," +
			"(3, 7, 7, 'abc ', 'äbc', 'ü', 2, 'é', 'abc', '::1', '10.0.0.1', '123e4567-e89b-12d3-a456-426655440000')," +
			"(4, 100, 9223372036854775808, 'äbc', ' abc', 'a', NULL, 'E', 'ABC', 'fe80::1', '192.168.0.1', '00000000-0000-0000-0000-000000000002')," +
			"(5, 2147483647, 1, '', '', 'B', 3, '', '', '::', '0.0.0.0', '00000000-0000-0000-0000-000000000003')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS etl_push") })
	tbl, err := LoadTable(ctx, db, "etl_push", "t")
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, db, tbl)
	for _, c := range []struct {
		filter   string
		complete bool
	}{
		{`row.n > 0`, true},
		{`row.n >= -5 && row.n < 100`, true},
		{`row.u > 9223372036854775807u`, true},
		{`row.u == 0u || row.n == 7`, true},
		{`row.s == "abc"`, true}, // not 'ABC' nor 'abc ' (collation, PAD SPACE)
		{`row.s < "b"`, true},    // byte order: 'ABC' < 'abc' < 'b' < 'äbc'
		{`row.c == "abc"`, true}, // CHAR: stored without trailing spaces
		{`row.e == "b" || row.e == "ü"`, true},
		{`row.s in ["abc", "äbc", ""]`, true},
		{`!(row.n in [0, 7])`, true},
		{`row.id > 1 && row.s.size() == 3`, false}, // size() stays in Go
		{`row.nn.orValue(0) > 1`, false},           // NULL-able: not pushed
		{`row.lat == "é"`, false},                  // latin1: not pushed
		{`row.asc1 == "abc"`, true},
		{`row.asc1 != "é"`, false},
		{`true && row.n != 100`, true},
		// Read as text, stored otherwise: never pushed.
		{`row.ip == "::1"`, false},
		{`row.ip4 == "10.0.0.1" && row.n > 0`, false},
		{`row.uu == "123e4567-e89b-12d3-a456-426655440000"`, false},
	} {
		p, err := Compile(tbl, Spec{Filter: c.filter})
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		where, complete := p.PushDown()
		if complete != c.complete {
			t.Errorf("%s: complete=%v, want %v (where %q)", c.filter, complete, c.complete, where)
		}
		var inGo []string
		for _, r := range rows {
			keep, err := p.Keep(r, nil, OpInsert)
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			if keep {
				inGo = append(inGo, valueText(r[0]))
			}
		}
		q := "SELECT id FROM etl_push.t"
		if where != "" {
			q += " WHERE " + where
		}
		var inSQL []string
		rs, err := db.QueryContext(ctx, q+" ORDER BY id")
		if err != nil {
			t.Fatalf("%s: %s: %v", c.filter, q, err)
		}
		for rs.Next() {
			var id string
			rs.Scan(&id)
			inSQL = append(inSQL, id)
		}
		rs.Close()
		switch {
		case complete && !slices.Equal(inGo, inSQL):
			t.Errorf("%s: CEL keeps %v, SQL (%s) %v", c.filter, inGo, where, inSQL)
		case !complete:
			for _, id := range inGo {
				if !slices.Contains(inSQL, id) {
					t.Errorf("%s: SQL (%s) drops row %s that CEL keeps", c.filter, where, id)
				}
			}
		}
		t.Logf("%-40s -> %-50s CEL %s", c.filter, where, strings.Join(inGo, ","))
	}
}

// LoadTable: MariaDB's JSON (LONGTEXT with json_valid) is JSON, lengths and
// keys come from the server; a JSON column reads as a dynamic value.
func TestLoadTable(t *testing.T) {
	env := testenv.Shared(t)
	db, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{"DROP DATABASE IF EXISTS etl_load", "CREATE DATABASE etl_load",
		"CREATE TABLE etl_load.t (a INT NOT NULL, b VARCHAR(7) NOT NULL, doc JSON, note TEXT, g INT AS (a + 1) VIRTUAL, UNIQUE KEY u (a, b), KEY k (note(5)))",
		`INSERT INTO etl_load.t (a, b, doc, note) VALUES (1, 'x', '{"k": [1, "two"]}', NULL)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS etl_load") })
	tbl, err := LoadTable(ctx, db, "etl_load", "t")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range tbl.Columns {
		got = append(got, fmt.Sprintf("%s:len=%d,json=%v,key=%v", c.Name, c.MaxLength, c.JSON, c.Key))
	}
	if want := "a:len=0,json=false,key=true b:len=7,json=false,key=true doc:len=4294967295,json=true,key=false note:len=65535,json=false,key=false"; strings.Join(got, " ") != want {
		t.Errorf("columns %s\nwant    %s", strings.Join(got, " "), want)
	}
	p, err := Compile(tbl, Spec{Filter: `row.doc.orValue({}).k[1] == "two" && row.a == 1`})
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, db, tbl)
	if keep, err := p.Keep(rows[0], nil, OpInsert); !keep || err != nil {
		t.Errorf("JSON filter: %v %v", keep, err)
	}
}
