package testenv

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
)

// Querier is a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Row runs a query that returns one row and gives its columns by lower-case name
// (NULL as ""); the test fails when there is no row.
func Row(t testing.TB, db Querier, query string, args ...any) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(cols))
	for i, c := range cols {
		out[strings.ToLower(c)] = vals[i].String
	}
	return out
}

// Rows returns every row of query as text: the columns' values quoted (Go
// syntax) and joined by commas, NULL as NULL. Tests compare servers with it.
func Rows(t testing.TB, db Querier, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = strconv.Quote(v.String)
			}
		}
		out = append(out, strings.Join(parts, ","))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// ShowCreate runs a SHOW CREATE statement and returns the definition it prints,
// whatever the object kind.
func ShowCreate(t testing.TB, db Querier, show string) string {
	t.Helper()
	row := Row(t, db, show)
	for _, c := range []string{"create table", "create view", "create procedure", "create function", "sql original statement", "create database", "create sequence"} {
		if def, ok := row[c]; ok {
			return def
		}
	}
	t.Fatalf("%s: no definition column in %v", show, row)
	return ""
}

// GTIDSeq is the sequence number of a one-domain MariaDB GTID position
// ("0-<server>-<seq>"): the test servers log one domain, so the difference of two
// is the number of transactions committed between them.
func GTIDSeq(t testing.TB, g string) uint64 {
	t.Helper()
	parts := strings.Split(g, "-")
	n, err := strconv.ParseUint(parts[len(parts)-1], 10, 64)
	if err != nil || strings.Contains(g, ",") {
		t.Fatalf("unexpected GTID position %q", g)
	}
	return n
}
