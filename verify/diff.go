package verify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/charset"
	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

// Kinds of difference.
const (
	Missing   = "missing"   // on the source, not on the destination
	Extra     = "extra"     // on the destination, not on the source
	Different = "different" // on both, with other values
)

// Difference is one row that differs.
type Difference struct {
	Kind string `json:"kind"`
	// Key is the row's key, column=value (the source's names; the
	// destination's for a table with transforms).
	Key string `json:"key"`
	// Columns are the differing columns (destination names) of a Different row.
	Columns []string `json:"columns,omitempty"`
	// KeyValues are the key's values as read, KeyColumns their positions among
	// the compared columns (to delete an extra row).
	KeyValues  []any `json:"-"`
	KeyColumns []int `json:"-"`
}

// RowFunc turns source rows into what the destination should hold: the
// copy's filters and transforms (copier.RowsFunc's shape, what the copy runs
// on each page), returning the rows kept. nil: the rows as read.
type RowFunc func(in []rowcodec.Row) (out []rowcodec.Row, filtered, failed int64, err error)

// Diff compares rng's rows on both sides, exactly (the values as the exact
// reader reads them), and returns the differences, at most limit (0: all) in
// key order of the source, and the number of source rows compared (after the
// RowFunc's filter). Rows are
// matched by the bytes of their key values; both sides are read whole, so
// ranges are kept small enough to hold in memory (the chunks of a checksum).
//
// With rows, the source side's Columns are what the RowFunc reads, and its
// output is compared with the destination's Columns; without, both sides'
// Columns correspond one to one.
func Diff(ctx context.Context, src, dst *sql.DB, s, d Side, rng chunk.Range, rows RowFunc, limit int) ([]Difference, int64, error) {
	want, err := readRange(ctx, src, s, rng)
	if err != nil {
		return nil, 0, err
	}
	got, err := readRange(ctx, dst, d, rng)
	if err != nil {
		return nil, 0, err
	}
	return compareRows(s, d, want, got, rows, limit)
}

// compareRows compares the source's rows (before the RowFunc) with the
// destination's: what Diff and DiffKeys find.
func compareRows(s, d Side, want, got []rowcodec.Row, rows RowFunc, limit int) ([]Difference, int64, error) {
	layout := s
	if rows != nil {
		layout = d
	} else if len(s.Columns) != len(d.Columns) {
		return nil, 0, fmt.Errorf("verify: %s has %d compared columns, %s %d", s.Table, len(s.Columns), d.Table, len(d.Columns))
	}
	keyIdx, err := keyIndexes(layout)
	if err != nil {
		return nil, 0, err
	}
	if rows != nil {
		if want, _, _, err = rows(want); err != nil {
			return nil, 0, fmt.Errorf("verify: %s: %w", s.Table, err)
		}
	}
	compared := int64(len(want)) // the source rows the destination should hold
	// A table without a key is matched on every column, and may hold a row
	// twice: each source row takes one destination row of its key, so a row
	// the source has twice and the destination once is missing once.
	byKey := make(map[string][]int, len(got))
	for i, r := range got {
		k := keyOf(r, keyIdx)
		byKey[k] = append(byKey[k], i)
	}
	seen := make([]bool, len(got))
	var out []Difference
	add := func(df Difference) bool {
		out = append(out, df)
		return limit > 0 && len(out) >= limit
	}
	for _, r := range want {
		k := keyOf(r, keyIdx)
		var i int
		ok := len(byKey[k]) > 0
		if ok {
			i, byKey[k] = byKey[k][0], byKey[k][1:]
		}
		if !ok {
			if add(difference(Missing, layout, keyIdx, r, nil)) {
				return out, compared, nil
			}
			continue
		}
		seen[i] = true
		if len(r) != len(got[i]) {
			return nil, 0, fmt.Errorf("verify: %s: rows of %d and %d values", s.Table, len(r), len(got[i]))
		}
		var cols []string
		for j := range r {
			if !equalColumn(layout.Columns[j], d.Columns[j], r[j], got[i][j]) {
				cols = append(cols, d.Columns[j].Name)
			}
		}
		if len(cols) > 0 && add(difference(Different, layout, keyIdx, r, cols)) {
			return out, compared, nil
		}
	}
	for i, r := range got {
		if !seen[i] && add(difference(Extra, layout, keyIdx, r, nil)) {
			break
		}
	}
	return out, compared, nil
}

// ErrNotSettled is what a DiffKeys wait returns when replication did not pass
// the source's position in time.
var ErrNotSettled = errors.New("verify: replication did not reach the source's position in time")

// DiffKeys compares the rows of the given keys (values in key column order,
// as Difference.KeyValues holds them) while the source's rows are locked
// (WithLockedKeys): the destination's rows read after the wait are what
// replication made of exactly these source rows, so what differs then is a
// difference, not a change in flight.
func DiffKeys(ctx context.Context, src, dst *sql.DB, s, d Side, keys [][]any, rows RowFunc, lockWait int, wait func(context.Context) error) ([]Difference, error) {
	var diffs []Difference
	err := WithLockedKeys(ctx, src, s, keys, lockWait, wait, func(want []rowcodec.Row) error {
		dconn, err := dst.Conn(ctx)
		if err != nil {
			return fmt.Errorf("verify: %s: %w", d.Table, err)
		}
		defer dconn.Close()
		if err := rowcodec.PrepareReader(ctx, dconn); err != nil {
			return err
		}
		got, err := readKeys(ctx, dconn, d, keys, "")
		if err != nil {
			return err
		}
		diffs, _, err = compareRows(s, d, want, got, rows, 0)
		return err
	})
	return diffs, err
}

// RepairKeys rewrites the given keys' rows on the destination from the
// source's, while the source's rows are locked and replication has applied
// everything before (WithLockedKeys): in one destination transaction the keys'
// rows are deleted and the source's (through rows, when given) written in
// write's columns. Without the locks a repair could write a row older than a
// change replication applies next, or a row an INSERT still in flight then
// finds as a duplicate.
func RepairKeys(ctx context.Context, src, dst *sql.DB, s, d Side, write []rowcodec.Column, keys [][]any, rows RowFunc, lockWait int, wait func(context.Context) error) error {
	return WithLockedKeys(ctx, src, s, keys, lockWait, wait, func(want []rowcodec.Row) error {
		if rows != nil {
			var err error
			if want, _, _, err = rows(want); err != nil {
				return fmt.Errorf("verify: %s: %w", s.Table, err)
			}
		}
		conn, err := dst.Conn(ctx)
		if err != nil {
			return fmt.Errorf("verify: %s: %w", d.Table, err)
		}
		defer conn.Close()
		if err := rowcodec.PrepareWriter(ctx, conn, rowcodec.Replace); err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		cond, args, err := keyCond(d, keys)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+d.Table.Quoted()+" WHERE "+cond, args...); err != nil {
			return fmt.Errorf("verify: repair %s: delete %d key(s): %w", d.Table, len(keys), err)
		}
		if len(want) > 0 {
			if _, err := rowcodec.Insert(ctx, tx, rowcodec.Table{Schema: d.Table.Schema, Name: d.Table.Name}, write, want, 4<<20, rowcodec.Replace); err != nil {
				return fmt.Errorf("verify: repair %s: %w", d.Table, err)
			}
		}
		return tx.Commit()
	})
}

// WithLockedKeys reads the given keys' source rows with shared locks (gap
// locks where a key is absent, under REPEATABLE READ), so no transaction
// changes them until fn returns; wait lets replication apply everything
// committed before (it reads the source's position then and waits for the
// applier to pass it); fn gets the rows in key order. The locks are held for
// the wait and fn only (lockWait seconds bound waiting for them) and released
// by a rollback whatever happens.
func WithLockedKeys(ctx context.Context, src *sql.DB, s Side, keys [][]any, lockWait int, wait func(context.Context) error, fn func([]rowcodec.Row) error) error {
	if s.Key.None() {
		return fmt.Errorf("verify: %s has no key to lock rows by", s.Table)
	}
	if len(keys) == 0 {
		return nil
	}
	conn, err := src.Conn(ctx)
	if err != nil {
		return fmt.Errorf("verify: %s: %w", s.Table, err)
	}
	defer conn.Close()
	if err := rowcodec.PrepareReader(ctx, conn); err != nil {
		return err
	}
	for _, q := range []string{fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d", max(lockWait, 1)), "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("verify: %s: %s: %w", s.Table, q, err)
		}
	}
	// Whatever happens, the locks go (a rollback: nothing was written), and the
	// pooled connection gets the server's lock wait back.
	defer func() {
		c := context.WithoutCancel(ctx)
		conn.ExecContext(c, "ROLLBACK")
		conn.ExecContext(c, "SET SESSION innodb_lock_wait_timeout = DEFAULT")
	}()
	want, err := readKeys(ctx, conn, s, keys, " LOCK IN SHARE MODE")
	if err != nil {
		return err
	}
	if err := wait(ctx); err != nil {
		return err
	}
	return fn(want)
}

// keyCond is "key IN (…)" of keys on side s, and its arguments.
func keyCond(s Side, keys [][]any) (string, []any, error) {
	cols := make([]string, len(s.Key.Columns))
	for i, k := range s.Key.Columns {
		cols[i] = sqltok.Quote(k.Name)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	lhs := "(" + strings.Join(cols, ", ") + ")"
	if len(cols) == 1 {
		tuple, lhs = "?", cols[0]
	}
	var args []any
	list := make([]string, len(keys))
	for i, k := range keys {
		if len(k) != len(cols) {
			return "", nil, fmt.Errorf("verify: %s: a key of %d values, the key has %d columns", s.Table, len(k), len(cols))
		}
		list[i] = tuple
		args = append(args, k...)
	}
	return lhs + " IN (" + strings.Join(list, ", ") + ")", args, nil
}

// readKeys reads the rows of keys of side s on conn, in key order.
func readKeys(ctx context.Context, conn *sql.Conn, s Side, keys [][]any, suffix string) ([]rowcodec.Row, error) {
	cond, args, err := keyCond(s, keys)
	if err != nil {
		return nil, err
	}
	if s.Where != "" {
		cond += " AND (" + s.Where + ")"
	}
	q := "SELECT " + rowcodec.ColumnList(s.Columns) + " FROM " + s.Table.Quoted() + " WHERE " + cond + " ORDER BY " + chunk.OrderBy(s.Key) + suffix
	st, err := rowcodec.PrepareSelect(ctx, conn, s.Columns, q)
	if err != nil {
		return nil, fmt.Errorf("verify: %s: %w", s.Table, err)
	}
	defer st.Close()
	rows, err := st.All(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("verify: read %d key(s) of %s: %w", len(keys), s.Table, err)
	}
	return rows, nil
}

func difference(kind string, layout Side, keyIdx []int, r rowcodec.Row, cols []string) Difference {
	vals := make([]any, len(keyIdx))
	for n, i := range keyIdx {
		vals[n] = r[i]
	}
	return Difference{Kind: kind, Key: keyText(layout, keyIdx, r), Columns: cols, KeyValues: vals, KeyColumns: keyIdx}
}

// readRange reads rng's rows of side s in key order, exactly.
func readRange(ctx context.Context, db *sql.DB, s Side, rng chunk.Range) ([]rowcodec.Row, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %s: %w", s.Table, err)
	}
	defer conn.Close()
	if err := rowcodec.PrepareReader(ctx, conn); err != nil {
		return nil, err
	}
	w, args, err := s.where(rng)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + rowcodec.ColumnList(s.Columns) + " FROM " + s.Table.Quoted() + w
	if !s.Key.None() {
		q += " ORDER BY " + chunk.OrderBy(s.Key)
	}
	st, err := rowcodec.PrepareSelect(ctx, conn, s.Columns, q)
	if err != nil {
		return nil, fmt.Errorf("verify: %s: %w", s.Table, err)
	}
	defer st.Close()
	rows, err := st.All(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("verify: read %s range %s: %w", s.Table, rng, err)
	}
	return rows, nil
}

// keyIndexes are the positions of the key's columns among the compared ones
// (a table without a key is matched on every column).
func keyIndexes(s Side) ([]int, error) {
	if s.Key.None() {
		idx := make([]int, len(s.Columns))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	var idx []int
	for _, k := range s.Key.Columns {
		found := -1
		for i, c := range s.Columns {
			if strings.EqualFold(c.Name, k.Name) {
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("verify: %s: key column %s is not compared", s.Table, k.Name)
		}
		idx = append(idx, found)
	}
	return idx, nil
}

// keyOf is a row's key as one string: each value's exact form, length-prefixed.
func keyOf(r rowcodec.Row, idx []int) string {
	var b strings.Builder
	for _, i := range idx {
		v := exact(r[i])
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}

// keyText shows a row's key as `col=value, ...` (binary values in hex).
func keyText(s Side, idx []int, r rowcodec.Row) string {
	parts := make([]string, len(idx))
	for n, i := range idx {
		parts[n] = s.Columns[i].Name + "=" + show(r[i])
	}
	return strings.Join(parts, ", ")
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		for _, c := range x {
			if c < 0x20 || c >= 0x7f {
				return fmt.Sprintf("0x%x", x)
			}
		}
		return strconv.Quote(string(x))
	}
	return fmt.Sprint(v)
}

// exact is a value's exact form: a float's bits, bytes as they are.
func exact(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00null"
	case []byte:
		return string(x)
	case float32:
		return strconv.FormatUint(uint64(math.Float32bits(x)), 16)
	case float64:
		return strconv.FormatUint(math.Float64bits(x), 16)
	}
	return fmt.Sprint(v)
}

// equalColumn compares a column's values on both sides: as text when the
// column's character set differs between them (a latin1 é and a utf8mb4 é
// are the same value in other bytes), else exactly.
func equalColumn(sc, dc rowcodec.Column, a, b any) bool {
	if sc.Charset != dc.Charset && sc.Charset != "" && dc.Charset != "" && sc.Charset != "binary" && dc.Charset != "binary" {
		x, okx := a.([]byte)
		y, oky := b.([]byte)
		if okx && oky {
			cx, ok1 := charset.For(sc.Charset)
			cy, ok2 := charset.For(dc.Charset)
			if ok1 && ok2 {
				tx, err1 := cx.Decode(x)
				ty, err2 := cy.Decode(y)
				if err1 == nil && err2 == nil {
					return tx == ty
				}
			}
		}
	}
	return Equal(a, b)
}

// Equal compares two values exactly as the exact reader returns them: NULL
// only equals NULL, bytes byte by byte, floats bit by bit.
func Equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return exact(a) == exact(b)
}
