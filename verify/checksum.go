// Package verify compares a table's rows on the source and the destination
// (issue 8): a checksum per key range computed by each server, and for a range
// whose checksums differ, a row-by-row comparison that names each missing,
// extra or different row and the columns that differ.
package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

// Side is one server's copy of a table: its name, its key (this side's column
// names) and the compared columns, this side's names, in the same order on
// both sides.
type Side struct {
	Table   chunk.Table
	Key     chunk.Key
	Columns []rowcodec.Column
	// Where limits the rows compared (a migration's filter, where SQL computes
	// it exactly: etl.Program.PushDown); "" for all.
	Where string
}

// where joins the range's condition and the side's own.
func (s Side) where(rng chunk.Range) (string, []any, error) {
	var conds []string
	var args []any
	if !s.Key.None() {
		w, a, err := chunk.Where(s.Key, rng)
		if err != nil {
			return "", nil, err
		}
		if w != "" {
			conds = append(conds, "("+w+")")
		}
		args = a
	}
	if s.Where != "" {
		conds = append(conds, "("+s.Where+")")
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// Sum is one range's checksum on one side: the row count and the XOR and the
// sum of the rows' CRC32s (two aggregates: changes that cancel in one do not in
// the other).
type Sum struct {
	Rows int64  `json:"rows"`
	Xor  uint64 `json:"xor"`
	Add  uint64 `json:"add"`
}

// session pins what changes how values are rendered to text: TIMESTAMP in
// UTC, no sql_mode padding CHAR.
const session = "SET SESSION time_zone = '+00:00', sql_mode = ''"

// Checksum computes rng's checksum of s on db, in one statement the server
// runs over the key's index.
func Checksum(ctx context.Context, db *sql.DB, s Side, rng chunk.Range) (Sum, error) {
	q, args, err := checksumQuery(s, rng)
	if err != nil {
		return Sum{}, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return Sum{}, fmt.Errorf("verify: %s: %w", s.Table, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, session); err != nil {
		return Sum{}, fmt.Errorf("verify: %s: session: %w", s.Table, err)
	}
	var sum Sum
	if err := conn.QueryRowContext(ctx, q, args...).Scan(&sum.Rows, &sum.Xor, &sum.Add); err != nil {
		return Sum{}, fmt.Errorf("verify: checksum %s range %s: %w", s.Table, rng, err)
	}
	return sum, nil
}

// checksumQuery is the statement of Checksum. The row's text is the values
// joined with a separator, each rendered so that equal values give equal bytes
// on both servers whatever the column's character set, plus a NULL marker per
// nullable column (NULL and "" differ; Nullable must say the same on both
// sides: nullable on either). Each row's CRC is computed once, in a derived
// table the LIMIT keeps the server from merging into the outer query (merged,
// the expression is evaluated for each aggregate: twice the CPU, measured
// with make bench-verify).
func checksumQuery(s Side, rng chunk.Range) (string, []any, error) {
	if len(s.Columns) == 0 {
		return "", nil, fmt.Errorf("verify: %s: no columns to compare", s.Table)
	}
	exprs := make([]string, 0, len(s.Columns)+1)
	var nulls []string
	for _, c := range s.Columns {
		exprs = append(exprs, valueExpr(c))
		if c.Nullable {
			nulls = append(nulls, "ISNULL("+sqltok.Quote(c.Name)+")")
		}
	}
	if len(nulls) > 0 {
		exprs = append(exprs, "CONCAT("+strings.Join(nulls, ", ")+")")
	}
	w, args, err := s.where(rng)
	if err != nil {
		return "", nil, err
	}
	row := "CRC32(CONCAT_WS('#', " + strings.Join(exprs, ", ") + "))"
	return "SELECT COUNT(*), COALESCE(BIT_XOR(`h`), 0), COALESCE(SUM(`h`), 0) FROM (SELECT " + row + " AS `h` FROM " + s.Table.Quoted() + w +
		" LIMIT 18446744073709551615) AS `r`", args, nil
}

// valueExpr renders a column as text for the checksum:
//   - character strings as utf8mb4 bytes (a latin1 column and its utf8mb4 copy
//     hold the same text in other bytes): converted, or as they are when the
//     column is utf8mb4 already (CONVERT copies every value); all labelled
//     utf8mb4_bin, so columns of other collations mix in CONCAT_WS;
//   - FLOAT widened to DOUBLE (* 1e0), DOUBLE as the server renders it (every digit
//     that round-trips), so no digit is rounded away;
//   - everything else as the server renders it: DECIMAL with its scale (1.0 is
//     not 1.00), temporal values with their fractional digits, binary strings,
//     BIT and GEOMETRY as their bytes.
func valueExpr(c rowcodec.Column) string {
	q := sqltok.Quote(c.Name)
	switch {
	case c.Kind == rowcodec.KindFloat:
		// Widened by arithmetic: CAST(… AS DOUBLE) is MySQL 8.0.17+ only, and
		// a product keeps -0 (a sum with 0 would make it +0).
		return "(" + q + " * 1e0)"
	case c.Charset == "utf8mb4":
		return q + " COLLATE utf8mb4_bin"
	case c.Charset != "" && c.Charset != "binary":
		return "CONVERT(" + q + " USING utf8mb4) COLLATE utf8mb4_bin"
	}
	return q
}
