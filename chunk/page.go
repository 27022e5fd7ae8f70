package chunk

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// RowFunc receives one row: the values of the requested columns as the driver
// returned them (with the binary protocol: int64, uint64, float32, float64,
// []byte or nil). The slice is reused between calls; []byte values inside are
// copies the callee may keep.
type RowFunc func(values []any) error

// Page is the outcome of one Next call.
type Page struct {
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`  // sum of value sizes (strings: length, numbers: 8)
	Cursor Cursor `json:"cursor"` // key of the last row read; the input cursor when no row was
	Done   bool   `json:"done"`   // the range has no rows after Cursor
}

// Query is a page's SELECT: the key columns (exact bytes) come first, then the
// requested columns. For callers that scan rows themselves (see CursorOf).
type Query struct {
	SQL  string
	Args []any
	// KeyColumns is how many leading result columns are the key.
	KeyColumns int
}

// PageQuery builds SELECT key, cols FROM t WHERE key > cursor AND key <= upper
// ORDER BY key LIMIT n. LIMIT is always a placeholder so that, without
// interpolateParams, the driver uses the binary protocol (exact FLOAT values).
func PageQuery(tbl Table, key Key, cols []string, rng Range, cur Cursor, limit int) (Query, error) {
	return PageQueryWhere(tbl, key, cols, rng, cur, limit, "")
}

// PageQueryWhere is PageQuery with a further condition on the rows (SQL,
// parenthesised by the caller): the page holds the next limit rows meeting it.
func PageQueryWhere(tbl Table, key Key, cols []string, rng Range, cur Cursor, limit int, extra string) (Query, error) {
	if key.None() {
		return Query{}, fmt.Errorf("chunk: %s has no key to page by (use Stream)", tbl)
	}
	if limit < 1 {
		return Query{}, fmt.Errorf("chunk: page limit %d < 1", limit)
	}
	cond, args, err := where(key, rng, cur)
	if err != nil {
		return Query{}, fmt.Errorf("chunk: %s range %s: %w", tbl, rng, err)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(keySelect(key))
	for _, c := range cols {
		b.WriteString(", ")
		b.WriteString(sqltok.Quote(c))
	}
	b.WriteString(" FROM ")
	b.WriteString(tbl.Quoted())
	switch {
	case cond != "" && extra != "":
		b.WriteString(" WHERE " + cond + " AND " + extra)
	case cond != "":
		b.WriteString(" WHERE " + cond)
	case extra != "":
		b.WriteString(" WHERE " + extra)
	}
	b.WriteString(" ORDER BY ")
	b.WriteString(orderBy(key))
	b.WriteString(" LIMIT ?")
	return Query{SQL: b.String(), Args: append(args, int64(limit)), KeyColumns: len(key.Columns)}, nil
}

// CursorOf encodes the key columns of a row read with a PageQuery (scanned into
// sql.RawBytes) as a Cursor.
func CursorOf(key Key, raw []sql.RawBytes) (Cursor, error) {
	t, err := encodeKey(key, raw)
	return Cursor(t), err
}

// Next reads up to limit rows of rng after cur, in key order, handing each to fn,
// and returns the new cursor. Memory is bounded by limit rows: the caller sizes
// limit (see Sizer). Each call is one short query, so a chunk activity can
// heartbeat Page.Cursor between calls and resume from it after a retry.
func Next(ctx context.Context, db Querier, tbl Table, key Key, cols []string, rng Range, cur Cursor, limit int, fn RowFunc) (Page, error) {
	q, err := PageQuery(tbl, key, cols, rng, cur, limit)
	if err != nil {
		return Page{}, err
	}
	rows, err := db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return Page{}, fmt.Errorf("chunk: read %s range %s: %w", tbl, rng, err)
	}
	defer rows.Close()
	nk := q.KeyColumns
	raw := make([]sql.RawBytes, nk)
	values := make([]any, len(cols))
	dest := make([]any, nk+len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	for i := range values {
		dest[nk+i] = &values[i]
	}
	p := Page{Cursor: cur}
	var last []sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return Page{}, fmt.Errorf("chunk: read %s range %s: %w", tbl, rng, err)
		}
		if err := fn(values); err != nil {
			return Page{}, err
		}
		p.Rows++
		p.Bytes += size(values)
		// RawBytes die at the next rows.Next: keep a copy of the latest key.
		last = copyRaw(last, raw)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("chunk: read %s range %s: %w", tbl, rng, err)
	}
	if p.Rows > 0 {
		if p.Cursor, err = CursorOf(key, last); err != nil {
			return Page{}, fmt.Errorf("chunk: read %s range %s: %w", tbl, rng, err)
		}
	}
	p.Done = p.Rows < limit
	return p, nil
}

// Stream reads a table that has no usable key in one pass (SELECT without ORDER
// BY), row by row: the driver streams the result, so memory stays at one row.
// There is no position to resume from: a retry restarts the table from its first
// row (the writer must tolerate the re-sent rows, or the destination table be
// emptied first). The server ends a stalled read after net_write_timeout, so the
// caller raises it on the session when fn can block (e.g. on a slow destination).
func Stream(ctx context.Context, db Querier, tbl Table, cols []string, fn RowFunc) (rowsRead, bytes int64, err error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sqltok.Quote(c))
	}
	b.WriteString(" FROM ")
	b.WriteString(tbl.Quoted())
	b.WriteString(" LIMIT ?") // a placeholder, only to get the binary protocol
	rows, err := db.QueryContext(ctx, b.String(), int64(math.MaxInt64))
	if err != nil {
		return 0, 0, fmt.Errorf("chunk: stream %s: %w", tbl, err)
	}
	defer rows.Close()
	values := make([]any, len(cols))
	dest := make([]any, len(cols))
	for i := range values {
		dest[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return rowsRead, bytes, fmt.Errorf("chunk: stream %s: %w", tbl, err)
		}
		if err := fn(values); err != nil {
			return rowsRead, bytes, err
		}
		rowsRead++
		bytes += size(values)
	}
	if err := rows.Err(); err != nil {
		return rowsRead, bytes, fmt.Errorf("chunk: stream %s: %w", tbl, err)
	}
	return rowsRead, bytes, nil
}

func size(values []any) int64 {
	var n int64
	for _, v := range values {
		switch v := v.(type) {
		case nil:
		case []byte:
			n += int64(len(v))
		case string:
			n += int64(len(v))
		default:
			n += 8
		}
	}
	return n
}

func copyRaw(dst, src []sql.RawBytes) []sql.RawBytes {
	if dst == nil {
		dst = make([]sql.RawBytes, len(src))
	}
	for i, b := range src {
		dst[i] = append(dst[i][:0], b...)
	}
	return dst
}
