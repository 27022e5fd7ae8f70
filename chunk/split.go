package chunk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
)

// Querier is what Split, Next and Stream read through: *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Estimate returns the server's row count estimate and average row length for a
// table (information_schema; InnoDB's are approximate, possibly 0 on fresh tables).
func Estimate(ctx context.Context, db Querier, tbl Table) (rows, avgRowLength int64, err error) {
	r, err := db.QueryContext(ctx, `SELECT COALESCE(TABLE_ROWS, 0), COALESCE(AVG_ROW_LENGTH, 0)
FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, tbl.Schema, tbl.Name)
	if err != nil {
		return 0, 0, fmt.Errorf("chunk: estimate %s: %w", tbl, err)
	}
	defer r.Close()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return 0, 0, fmt.Errorf("chunk: estimate %s: %w", tbl, err)
		}
		return 0, 0, fmt.Errorf("chunk: estimate %s: table not found", tbl)
	}
	if err := r.Scan(&rows, &avgRowLength); err != nil {
		return 0, 0, fmt.Errorf("chunk: estimate %s: %w", tbl, err)
	}
	return rows, avgRowLength, r.Err()
}

// Split divides a table into about want ranges (at least 1) that together cover
// every key, including keys inserted later below the first or above the last
// boundary. A table with no key is one range (streamed).
//
// A single integer column is split by MIN/MAX arithmetic (two index probes):
// ranges are equal in key span, so a sparse or skewed key gives uneven ranges,
// which costs parallelism but never memory (Next pages inside a range).
// Other keys are split by a keyset walk over the index:
// SELECT key ... WHERE key > prev ORDER BY key LIMIT 1 OFFSET step-1, with step
// from the row estimate; when the estimate was low and boundaries reach 2×want,
// every second one is dropped and step doubles. Cost: one scan of the key's index
// on the server (for a primary key that is the clustered index, i.e. the table),
// about want..2×want small result rows sent, and want..2×want ranges returned.
func Split(ctx context.Context, db Querier, tbl Table, key Key, want int) ([]Range, error) {
	if want < 1 {
		want = 1
	}
	if key.None() || want == 1 {
		return []Range{{}}, nil
	}
	var bounds []Tuple
	var err error
	if key.Integer() {
		bounds, err = integerBounds(ctx, db, tbl, key, want)
	} else {
		var est int64
		if est, _, err = Estimate(ctx, db, tbl); err == nil {
			bounds, err = walkBounds(ctx, db, tbl, key, want, est)
		}
	}
	if err != nil {
		return nil, err
	}
	ranges := make([]Range, 0, len(bounds)+1)
	var lower Tuple
	for i, b := range bounds {
		ranges = append(ranges, Range{Index: i, Lower: lower, Upper: b})
		lower = b
	}
	return append(ranges, Range{Index: len(bounds), Lower: lower}), nil
}

// integerBounds returns the inclusive upper bounds of all but the last range.
func integerBounds(ctx context.Context, db Querier, tbl Table, key Key, want int) ([]Tuple, error) {
	c := key.Columns[0]
	col := selectExpr(c)
	q := "SELECT MIN(" + col + "), MAX(" + col + ") FROM " + tbl.Quoted()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("chunk: split %s: %w", tbl, err)
	}
	defer rows.Close()
	var lo, hi sql.NullString
	if rows.Next() {
		err = rows.Scan(&lo, &hi)
	} else {
		err = errors.Join(rows.Err(), errors.New("no row"))
	}
	if err != nil {
		return nil, fmt.Errorf("chunk: split %s: min/max: %w", tbl, err)
	}
	if !lo.Valid || !hi.Valid { // empty table: one range catches whatever arrives later
		return nil, nil
	}
	minV, ok1 := new(big.Int).SetString(lo.String, 10)
	maxV, ok2 := new(big.Int).SetString(hi.String, 10)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("chunk: split %s: min/max not integers: %q, %q", tbl, lo.String, hi.String)
	}
	span := new(big.Int).Sub(maxV, minV)
	span.Add(span, big.NewInt(1))
	n := big.NewInt(int64(want))
	if span.Cmp(n) < 0 {
		n.Set(span)
	}
	// width = ceil(span / n); bound i = min + width*i - 1, kept while < max.
	width := new(big.Int).Add(span, new(big.Int).Sub(n, big.NewInt(1)))
	width.Quo(width, n)
	var bounds []Tuple
	for i := int64(1); i < n.Int64(); i++ {
		b := new(big.Int).Mul(width, big.NewInt(i))
		b.Add(b, minV)
		b.Sub(b, big.NewInt(1))
		if b.Cmp(maxV) >= 0 {
			break
		}
		bounds = append(bounds, Tuple{b.String()})
	}
	return bounds, nil
}

// walkBounds samples boundaries from the server's own order (collation-aware).
// est is the row estimate: too low costs a few extra boundary queries (the step
// doubles), too high gives fewer ranges than wanted.
func walkBounds(ctx context.Context, db Querier, tbl Table, key Key, want int, est int64) ([]Tuple, error) {
	step := est / int64(want)
	if step < 1 {
		step = 1
	}
	var bounds []Tuple
	var prev Tuple
	for {
		b, err := boundaryAfter(ctx, db, tbl, key, prev, step)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return bounds, nil
		}
		bounds, prev = append(bounds, b), b
		if len(bounds) >= 2*want {
			// The estimate was low: keep every second boundary (the ones at
			// multiples of 2×step) and walk on with the doubled step.
			kept := bounds[:0]
			for i := 1; i < len(bounds); i += 2 {
				kept = append(kept, bounds[i])
			}
			bounds, step = kept, step*2
		}
	}
}

// boundaryAfter returns the key step rows after prev (nil: from the start), or nil
// when fewer rows remain.
func boundaryAfter(ctx context.Context, db Querier, tbl Table, key Key, prev Tuple, step int64) (Tuple, error) {
	cond, args, err := where(key, Range{Lower: prev}, nil)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + keySelect(key) + " FROM " + tbl.Quoted()
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " ORDER BY " + orderBy(key) + " LIMIT 1 OFFSET ?"
	rows, err := db.QueryContext(ctx, q, append(args, step-1)...)
	if err != nil {
		return nil, fmt.Errorf("chunk: split %s: boundary: %w", tbl, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("chunk: split %s: boundary: %w", tbl, err)
		}
		return nil, nil
	}
	t, err := scanKey(rows, key)
	if err != nil {
		return nil, fmt.Errorf("chunk: split %s: boundary: %w", tbl, err)
	}
	return t, nil
}

// scanKey reads a row that holds only the key columns (keySelect).
func scanKey(rows *sql.Rows, key Key) (Tuple, error) {
	raw := make([]sql.RawBytes, len(key.Columns))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	return encodeKey(key, raw)
}

func encodeKey(key Key, raw []sql.RawBytes) (Tuple, error) {
	if len(raw) != len(key.Columns) {
		return nil, fmt.Errorf("key %s has %d columns, row has %d", key, len(key.Columns), len(raw))
	}
	t := make(Tuple, len(key.Columns))
	for i, c := range key.Columns {
		// Key columns are NOT NULL (ChooseKey), and database/sql gives an empty
		// value as nil RawBytes: nil is the empty string here.
		t[i] = encodeValue(c, raw[i])
	}
	return t, nil
}
