package applier

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/rowcodec"
)

// maxStatement bounds one statement's text (max_allowed_packet is 16 MiB by
// default on MariaDB; 1 MiB keeps latency and memory small).
const maxStatement = 1 << 20

type stmtKind int

const (
	kindInsert  stmtKind = iota + 1 // INSERT: a duplicate is an error (divergence)
	kindReplace                     // REPLACE: upsert by every unique key
	kindDelete                      // DELETE by key
)

// writer batches consecutive changes of one table and kind into multi-row
// statements, in order, inside a slot's transaction.
type writer struct {
	tx      *sql.Tx
	replace bool
	t       *target
	kind    stmtKind
	buf     []byte
	n       int
	// multi: statements are joined with ';' into batches of up to maxBatch bytes,
	// one round trip each (the connection allows multi-statements).
	multi bool
	batch []byte
	nb    int
}

// maxBatch bounds a multi-statement batch (max_allowed_packet is 16 MiB by
// default on MariaDB; 4 MiB leaves room).
const maxBatch = 4 << 20

// add writes one change:
//   - insert: INSERT (REPLACE in safe mode or with Replace);
//   - update: REPLACE of the after-image; when the key changes (or there is no
//     key), the before-image is deleted first;
//   - delete: DELETE by key.
func (w *writer) add(ctx context.Context, c change, safe bool) error {
	if c.cascadeOnly {
		after := c.after
		if c.op == binlog.Delete {
			after = nil
		}
		// With checks on, InnoDB carries the action to grandchildren; an
		// update's check needs the parent's new row, which the destination
		// holds only when the change brought it into the filter.
		stmts, err := c.t.cascadeStatements(c.before, after, c.op == binlog.Delete || c.upsert)
		if err != nil {
			return fmt.Errorf("%s: %w", c.t, err)
		}
		return w.raw(ctx, stmts...)
	}
	switch c.op {
	case binlog.Insert:
		k := kindInsert
		// Without replicated deletes the destination keeps rows the source
		// deleted, and the source may insert the key again.
		if safe || w.replace || c.t.ops&opDelete == 0 || c.upsert {
			k = kindReplace
		}
		if c.t.key == nil {
			k = kindInsert
		}
		return w.row(ctx, c.t, k, c.after)
	case binlog.Update:
		var cascades []string
		if len(c.t.cascades) > 0 {
			var err error
			if cascades, err = c.t.cascadeStatements(c.before, c.after, true); err != nil {
				return fmt.Errorf("%s: %w", c.t, err)
			}
		}
		if c.t.key == nil {
			if err := w.row(ctx, c.t, kindDelete, c.before); err != nil {
				return err
			}
			if err := w.row(ctx, c.t, kindInsert, c.after); err != nil {
				return err
			}
			return w.raw(ctx, cascades...)
		}
		if c.t.keyChanged(c.before, c.after) {
			if err := w.row(ctx, c.t, kindDelete, c.before); err != nil {
				return err
			}
		}
		if err := w.row(ctx, c.t, kindReplace, c.after); err != nil {
			return err
		}
		// After the parent's new row: the children's check needs it.
		return w.raw(ctx, cascades...)
	case binlog.Delete:
		if len(c.t.cascades) > 0 && !c.left {
			stmts, err := c.t.cascadeStatements(c.before, nil, true)
			if err != nil {
				return fmt.Errorf("%s: %w", c.t, err)
			}
			if err := w.raw(ctx, stmts...); err != nil {
				return err
			}
		}
		return w.row(ctx, c.t, kindDelete, c.before)
	}
	return fmt.Errorf("unknown operation %v", c.op)
}

func (w *writer) row(ctx context.Context, t *target, k stmtKind, r rowcodec.Row) error {
	// A keyless delete is one statement per row (LIMIT 1).
	if w.t != t || w.kind != k || len(w.buf) > maxStatement || (k == kindDelete && t.key == nil && w.n > 0) {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	var err error
	if w.n == 0 {
		w.t, w.kind = t, k
		w.buf = w.head(w.buf[:0])
	} else {
		w.buf = append(w.buf, ',')
	}
	switch {
	case k == kindDelete && t.key == nil:
		w.buf, err = appendMatch(w.buf, t, r)
	case k == kindDelete:
		w.buf, err = appendKey(w.buf, t, r)
	default:
		w.buf, err = appendValues(w.buf, t, r)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	w.n++
	return nil
}

func (w *writer) head(b []byte) []byte {
	t := w.t
	switch w.kind {
	case kindInsert:
		b = append(b, "INSERT INTO "...)
	case kindReplace:
		b = append(b, "REPLACE INTO "...)
	case kindDelete:
		b = append(b, "DELETE FROM "...)
		b = append(b, t.dst.Quoted()...)
		if t.key == nil {
			return append(b, " WHERE "...)
		}
		b = append(b, " WHERE ("...)
		for i, ci := range t.key {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, rowcodec.Column{Name: t.cols[ci].DestName()}.Quoted()...)
		}
		return append(b, ") IN ("...)
	}
	b = append(b, t.dst.Quoted()...)
	b = append(b, ' ')
	b = append(b, t.insertCols...)
	return append(b, " VALUES "...)
}

// flush executes the pending statement.
func (w *writer) flush(ctx context.Context) error {
	if w.n == 0 {
		return nil
	}
	if w.kind == kindDelete {
		if w.t.key == nil {
			w.buf = append(w.buf, " LIMIT 1"...)
		} else {
			w.buf = append(w.buf, ')')
		}
	}
	t, n := w.t, w.n
	w.n, w.t = 0, nil
	if w.multi {
		if len(w.batch) > 0 {
			w.batch = append(w.batch, ';')
		}
		w.batch = append(w.batch, w.buf...)
		w.nb++
		if len(w.batch) >= maxBatch {
			return w.send(ctx)
		}
		return nil
	}
	if _, err := w.tx.ExecContext(ctx, string(w.buf)); err != nil {
		return fmt.Errorf("%s %d row(s) into %s: %w", verb(w.kind), n, t.dst, err)
	}
	return nil
}

// raw writes statements of its own (cascades), in order after what is pending.
func (w *writer) raw(ctx context.Context, stmts ...string) error {
	if len(stmts) == 0 {
		return nil
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	for _, q := range stmts {
		if w.multi {
			if len(w.batch) > 0 {
				w.batch = append(w.batch, ';')
			}
			w.batch = append(w.batch, q...)
			w.nb++
			continue
		}
		if _, err := w.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("foreign key action: %w", err)
		}
	}
	if len(w.batch) >= maxBatch {
		return w.send(ctx)
	}
	return nil
}

// finish writes everything pending.
func (w *writer) finish(ctx context.Context) error {
	if err := w.flush(ctx); err != nil {
		return err
	}
	return w.send(ctx)
}

func (w *writer) send(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	n := w.nb
	_, err := w.tx.ExecContext(ctx, string(w.batch))
	w.batch, w.nb = w.batch[:0], 0
	if err != nil {
		return fmt.Errorf("a batch of %d statement(s): %w", n, err)
	}
	return nil
}

func verb(k stmtKind) string {
	switch k {
	case kindInsert:
		return "insert"
	case kindReplace:
		return "replace"
	}
	return "delete"
}

func appendValues(b []byte, t *target, r rowcodec.Row) ([]byte, error) {
	if len(r) != len(t.cols) {
		return b, fmt.Errorf("row has %d values for %d columns", len(r), len(t.cols))
	}
	b = append(b, '(')
	for i, ci := range t.keep {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = rowcodec.AppendLiteral(b, t.cols[ci], r[ci]); err != nil {
			return b, err
		}
	}
	return append(b, ')'), nil
}

// appendKey appends "(k1,k2)" for a delete by key. String keys carry their
// charset introducer, so they compare under the column's collation and use the
// index (a bare X'..' is a binary string: a binary comparison, no index).
func appendKey(b []byte, t *target, r rowcodec.Row) ([]byte, error) {
	b = append(b, '(')
	for i, ci := range t.key {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendKeyLiteral(b, t.cols[ci], r[ci]); err != nil {
			return b, err
		}
	}
	return append(b, ')'), nil
}

func appendKeyLiteral(b []byte, c rowcodec.Column, v any) ([]byte, error) {
	if x, ok := v.([]byte); ok && c.Kind == rowcodec.KindBytes && c.Charset != "" && c.Charset != "binary" {
		b = append(b, '_')
		b = append(b, c.Charset...)
		b = append(b, ' ')
		return rowcodec.AppendLiteral(b, c, x)
	}
	return rowcodec.AppendLiteral(b, c, v)
}

// appendMatch appends "c1 <=> v1 AND ..." over the written columns: a keyless
// table's row is matched on its bytes (binary comparison of X'..' literals).
func appendMatch(b []byte, t *target, r rowcodec.Row) ([]byte, error) {
	for i, ci := range t.keep {
		if i > 0 {
			b = append(b, " AND "...)
		}
		b = append(b, rowcodec.Column{Name: t.cols[ci].DestName()}.Quoted()...)
		b = append(b, " <=> "...)
		var err error
		if b, err = rowcodec.AppendLiteral(b, t.cols[ci], r[ci]); err != nil {
			return b, err
		}
	}
	return b, nil
}
