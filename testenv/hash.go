package testenv

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/sqltok"
)

// HashExprs lists, for every column of schema.table (generated and invisible
// included, from information_schema), SQL expressions that render its stored value
// exactly and independently of any codec: FLOAT through CAST AS DOUBLE (its exact
// text), DOUBLE as its shortest round-trip text, TIMESTAMP as UNIX_TIMESTAMP
// (independent of the session zone), everything else as HEX of its bytes; each
// with ISNULL. skip leaves columns out (e.g. excluded ones); rename maps a name
// to the one to read (the destination's).
func HashExprs(t testing.TB, db *sql.DB, schema, table string, skip []string, rename map[string]string) []string {
	t.Helper()
	rows, err := db.Query("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY ORDINAL_POSITION", schema, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var exprs []string
	for rows.Next() {
		var name, dt string
		if err := rows.Scan(&name, &dt); err != nil {
			t.Fatal(err)
		}
		skipped := false
		for _, s := range skip {
			skipped = skipped || strings.EqualFold(s, name)
		}
		if skipped {
			continue
		}
		if r, ok := rename[name]; ok {
			name = r
		}
		q := sqltok.Quote(name)
		var e string
		switch dt {
		case "float":
			e = "CONCAT(CAST(" + q + " AS DOUBLE))"
		case "double":
			e = "CONCAT(" + q + ")"
		case "timestamp":
			e = "UNIX_TIMESTAMP(" + q + ")"
		default:
			e = "HEX(CAST(" + q + " AS BINARY))"
		}
		exprs = append(exprs, e, "ISNULL("+q+")")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return exprs
}

// RowHashes returns key → MD5 of the row's HashExprs, for every row of
// schema.table on db (exprs from HashExprs, possibly of the other server).
func RowHashes(t testing.TB, db *sql.DB, schema, table, key string, exprs []string) map[string]string {
	t.Helper()
	q := fmt.Sprintf("SELECT CAST(%s AS CHAR), MD5(CONCAT_WS('|', %s)) FROM %s.%s", sqltok.Quote(key), strings.Join(exprs, ", "), sqltok.Quote(schema), sqltok.Quote(table))
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var k, h string
		if err := rs.Scan(&k, &h); err != nil {
			t.Fatal(err)
		}
		out[k] = h
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
