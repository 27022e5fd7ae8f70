package copier

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
)

// Source is one source connection set up for exact reading (rowcodec's reader
// session: time_zone '+00:00', character_set_results binary, sql_mode ”), with
// the page SELECTs it prepared. The session settings live on this connection
// only, so every read of a range goes through it.
type Source struct {
	conn  *sql.Conn
	stmts map[string]*rowcodec.Select // by SQL text: a range has at most two shapes
}

// OpenSource takes a connection from db and prepares its reader session.
func OpenSource(ctx context.Context, db *sql.DB) (*Source, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copier: source connection: %w", err)
	}
	if err := rowcodec.PrepareReader(ctx, conn); err != nil {
		discard(conn)
		return nil, fmt.Errorf("copier: source: %w", err)
	}
	return &Source{conn: conn, stmts: map[string]*rowcodec.Select{}}, nil
}

// Conn is the prepared connection.
func (s *Source) Conn() *sql.Conn { return s.conn }

// prepare returns the prepared statement for query, preparing it once.
func (s *Source) prepare(ctx context.Context, cols []rowcodec.Column, query string) (*rowcodec.Select, error) {
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := rowcodec.PrepareSelect(ctx, s.conn, cols, query)
	if err != nil {
		return nil, fmt.Errorf("copier: source: %w", err)
	}
	s.stmts[query] = st
	return st, nil
}

// Close closes the prepared statements and the connection (not returned to its
// pool, see discard).
func (s *Source) Close() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, discard(s.conn))...)
}

// discard closes conn and drops it from its pool instead of returning it: its
// session was changed (character_set_results binary, sql_mode, time_zone,
// foreign_key_checks=0...) and must not leak to the pool's other users. The
// driver does not reset sessions, so one new connection per range is the price.
func discard(conn *sql.Conn) error {
	err := conn.Raw(func(any) error { return driver.ErrBadConn })
	if errors.Is(err, driver.ErrBadConn) {
		return nil
	}
	return errors.Join(err, conn.Close())
}

// Dest is one destination connection set up as a writer (rowcodec's writer
// session for the job's conflicts mode: time_zone '+00:00',
// sql_mode 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks 0, unique_checks 0 only
// for precheck).
type Dest struct {
	conn      *sql.Conn
	conflicts rowcodec.Conflicts
}

// OpenDest takes a connection from db and prepares its writer session.
func OpenDest(ctx context.Context, db *sql.DB, conflicts rowcodec.Conflicts) (*Dest, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copier: destination connection: %w", err)
	}
	if err := rowcodec.PrepareWriter(ctx, conn, conflicts); err != nil {
		discard(conn)
		return nil, fmt.Errorf("copier: destination: %w", err)
	}
	return &Dest{conn: conn, conflicts: conflicts}, nil
}

// Conn is the prepared connection.
func (d *Dest) Conn() *sql.Conn { return d.conn }

// Close closes the connection (not returned to its pool, see discard).
func (d *Dest) Close() error { return discard(d.conn) }

// writeTx writes rows into dst inside tx, by path. It does not commit. INSERTs
// are at most maxStatement bytes each, sent before the next is built: a page's
// memory is its rows plus one statement.
func (d *Dest) writeTx(ctx context.Context, tx *sql.Tx, path WritePath, dst rowcodec.Table, cols []rowcodec.Column, rows []rowcodec.Row, maxBytes int) (rowcodec.Result, error) {
	if path == LoadData {
		return rowcodec.LoadData(ctx, tx, dst, cols, rows, d.conflicts)
	}
	return rowcodec.Insert(ctx, tx, dst, cols, rows, min(maxBytes, maxStatement), d.conflicts)
}

// highWater finds the rows the destination already holds in rng after cur: the
// last key among them (the true resume cursor under precheck, see README) and
// how many there are. It pages key-only through the destination's index.
func (d *Dest) highWater(ctx context.Context, dst chunk.Table, key chunk.Key, rng chunk.Range, cur chunk.Cursor) (chunk.Cursor, int64, error) {
	var n int64
	for {
		p, err := chunk.Next(ctx, d.conn, dst, key, nil, rng, cur, highWaterPage, func([]any) error { return nil })
		if err != nil {
			return nil, 0, fmt.Errorf("copier: rows already in %s: %w", dst, err)
		}
		n += int64(p.Rows)
		cur = p.Cursor
		if p.Done {
			return cur, n, nil
		}
	}
}

// maxStatement caps one INSERT of a page (under max_allowed_packet). Under 256 KiB
// the driver writes it through its cached packet buffer; a bigger one costs a fresh
// allocation per statement. Throughput is the same from 255 KiB to 2 MiB
// (BenchmarkCopyRange: 165-175k rows/s either way), so the smaller wins on memory.
const maxStatement = 255 << 10

// highWaterPage is the key-only page size of highWater.
const highWaterPage = 20000
