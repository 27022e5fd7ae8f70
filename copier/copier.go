// Package copier copies one key range of a table from the source to the
// destination exactly and resumably: the body of a full-copy chunk activity
// (issue 4). It combines chunk (key ranges, keyset pages, the Sizer) with rowcodec
// (exact reading and writing) and paces reads with a Limiter. No Temporal here:
// the activity heartbeats what the progress callback reports. README.md has the
// resume rule.
package copier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/throttle"
)

// WritePath is how pages are written to the destination.
type WritePath string

const (
	// Auto writes with Insert: with parallel ranges it is as fast as LOAD DATA
	// (measured, README), and parallel LOAD DATA into one MariaDB table was once
	// seen to hang (README, "Known issue").
	Auto WritePath = ""
	// Insert writes multi-row INSERTs with literals, each under MaxBytes.
	Insert WritePath = "insert"
	// LoadData writes with LOAD DATA LOCAL INFILE from a stream (the faster path,
	// docs/research/full-copy.md §4); only where rowcodec.LocalInfile allows it.
	LoadData WritePath = "load-data"
)

// Job is one range to copy. It is JSON-serialisable (an activity input), except
// the Limiter, which the worker supplies.
type Job struct {
	Source chunk.Table `json:"source"`
	Dest   chunk.Table `json:"dest"`
	// Key is the key the table is paged by; Key.None() means a no-key table,
	// copied in one streamed pass (Range and Cursor must then be empty).
	Key chunk.Key `json:"key"`
	// Columns are the copied columns (rowcodec.Columns: generated ones left out).
	Columns []rowcodec.Column `json:"columns"`
	Range   chunk.Range       `json:"range"`
	// Cursor is where to resume: the Cursor of the last Progress the previous
	// attempt reported (nil: the start of Range).
	Cursor    chunk.Cursor       `json:"cursor,omitempty"`
	Conflicts rowcodec.Conflicts `json:"conflicts"`
	Write     WritePath          `json:"write,omitempty"`
	// MaxBytes bounds one INSERT statement (the destination's max_allowed_packet
	// minus slack, see MaxStatementBytes); 0 reads it from the destination.
	MaxBytes int `json:"max_bytes,omitempty"`
	// Sizer bounds the adaptive page size (chunk.SizerOptions; zero = defaults).
	Sizer chunk.SizerOptions `json:"sizer"`
	// Limiter paces the source reads; nil = unlimited.
	Limiter throttle.Limiter `json:"-"`

	// Where is a condition on the source rows (a filter's exact SQL part), added
	// to every SELECT. Read, when set, are the columns to read (a superset of
	// Columns that filters and transforms may need) and Rows turns a page of
	// them into the rows to write (Columns' values) and the count it dropped.
	Where string            `json:"where,omitempty"`
	Read  []rowcodec.Column `json:"read,omitempty"`
	Rows  RowsFunc          `json:"-"`

	// afterCommit, a test hook, runs after page n's transaction committed and
	// before its Progress is reported; an error ends CopyRange (a simulated crash).
	afterCommit func(n int) error
}

// RowsFunc filters and transforms a page: the rows to write, how many of the
// page's rows the filter left out, and how many it skipped on an error.
type RowsFunc func(rows []rowcodec.Row) (out []rowcodec.Row, filtered, failed int64, err error)

// Progress is reported after every committed page (for a keyed range).
// Counts are totals of this CopyRange call, not of earlier attempts.
type Progress struct {
	// Cursor is the key of the last row committed on the destination: heartbeat
	// it and pass it as Job.Cursor on a retry. Nil for a no-key table (no resume
	// point: its pass is one transaction, see README).
	Cursor chunk.Cursor `json:"cursor,omitempty"`
	Rows   int64        `json:"rows"`  // rows now on the destination from this call (incl. Found)
	Bytes  int64        `json:"bytes"` // value bytes read (strings: length, numbers: 8)
	// Skipped counts duplicates kept on the destination (conflicts: ignore).
	Skipped int64 `json:"skipped"`
	// Found counts rows a crashed earlier attempt had committed after Cursor
	// (found on the destination at the start under precheck, see README).
	Found int64 `json:"found,omitempty"`
	// Filtered counts rows read and left out by Job.Rows' filter (not those
	// the SELECT's Where excluded: they are never read); Failed those it skipped
	// because an expression failed on them (options.etl.on_error: skip).
	Filtered int64 `json:"filtered,omitempty"`
	Failed   int64 `json:"failed,omitempty"`
	Pages    int   `json:"pages"`
}

// pageBytes bounds a page's values by default. A range holds one page and one
// INSERT statement (maxStatement) at a time, so with options.full.parallel ranges
// on a worker its heap is about parallel × (2 × pageBytes + maxStatement) whatever
// the table's size or key distribution (TestBoundedMemory); 4 MiB pages are
// already thousands of rows, past the size where bigger transactions pay.
const pageBytes = 4 << 20

// Result is the final Progress of a range that was copied to its end.
type Result = Progress

// CopyRange copies job.Range (from job.Cursor on) from src to dst, page by page:
// read a page after the cursor (one prepared keyset SELECT on an exact reader
// session), wait for the Limiter, write the page in one destination transaction,
// then report Progress (the cursor of the committed page). A page is either fully
// written or not at all, so a retry from the last reported cursor is exact; rows
// committed after it by a crashed attempt are handled as README.md explains.
func CopyRange(ctx context.Context, src, dst *sql.DB, job Job, progress func(Progress)) (Result, error) {
	if err := job.validate(); err != nil {
		return Result{}, err
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	if job.Limiter == nil {
		job.Limiter = throttle.Unlimited{}
	}
	s, err := OpenSource(ctx, src)
	if err != nil {
		return Result{}, err
	}
	defer s.Close()
	d, err := OpenDest(ctx, dst, job.Conflicts)
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	if job.Write, err = resolveWrite(ctx, d.conn, job.Write); err != nil {
		return Result{}, err
	}
	if job.Sizer.MaxBytes <= 0 {
		job.Sizer.MaxBytes = pageBytes
	}
	if job.MaxBytes <= 0 {
		if job.MaxBytes, err = MaxStatementBytes(ctx, d.conn); err != nil {
			return Result{}, err
		}
	}
	if job.Key.None() {
		return copyStream(ctx, s, d, job, progress)
	}
	return copyKeyed(ctx, s, d, job, progress)
}

func (j *Job) validate() error {
	if j.Source.Name == "" || j.Dest.Name == "" {
		return errors.New("copier: job needs a source and a destination table")
	}
	if len(j.Columns) == 0 {
		return fmt.Errorf("copier: %s: no columns to copy", j.Source)
	}
	if j.Conflicts != rowcodec.Replace {
		if _, err := rowcodec.ParseConflicts(string(j.Conflicts)); err != nil {
			return fmt.Errorf("copier: %s: %w", j.Source, err)
		}
	}
	if j.Conflicts == "" {
		j.Conflicts = rowcodec.Precheck
	}
	switch j.Write {
	case Auto, Insert, LoadData:
	default:
		return fmt.Errorf("copier: %s: unknown write path %q", j.Source, j.Write)
	}
	if j.Key.None() && (j.Cursor != nil || j.Range.Lower != nil || j.Range.Upper != nil) {
		return fmt.Errorf("copier: %s has no key: a range or cursor makes no sense", j.Source)
	}
	if (j.Read != nil) != (j.Rows != nil) {
		return fmt.Errorf("copier: %s: Read and Rows go together", j.Source)
	}
	return nil
}

// readColumns are the columns a SELECT reads.
func (j *Job) readColumns() []rowcodec.Column {
	if j.Read != nil {
		return j.Read
	}
	return j.Columns
}

// where adds the job's condition to a query's conditions.
func (j *Job) where() string {
	if j.Where == "" {
		return ""
	}
	return "(" + j.Where + ")"
}

// resolveWrite turns Auto into a path and refuses LoadData where LOAD DATA
// LOCAL is disabled.
func resolveWrite(ctx context.Context, conn *sql.Conn, w WritePath) (WritePath, error) {
	if w == Insert || w == Auto {
		return Insert, nil
	}
	ok, err := rowcodec.LocalInfile(ctx, conn)
	if err != nil {
		return "", fmt.Errorf("copier: %w", err)
	}
	switch {
	case ok:
		return LoadData, nil
	case w == LoadData:
		return "", errors.New("copier: LOAD DATA LOCAL is disabled on the destination (local_infile=0): write with INSERT")
	}
	return Insert, nil
}

// MaxStatementBytes is the largest INSERT statement to send to the server on
// conn: max_allowed_packet minus slack for the protocol header and rounding.
func MaxStatementBytes(ctx context.Context, conn interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var packet int64
	if err := conn.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return 0, fmt.Errorf("copier: read @@max_allowed_packet: %w", err)
	}
	const slack = 64 << 10
	if packet > 2*slack {
		return int(packet - slack), nil
	}
	return int(packet / 2), nil
}

// destKey is job.Key with the destination's column names (renamed columns are
// written under Column.Dest): highWater reads the destination table by it.
func destKey(job Job) (chunk.Key, error) {
	k := job.Key
	k.Columns = slices.Clone(k.Columns)
	for i, kc := range k.Columns {
		j := slices.IndexFunc(job.Columns, func(c rowcodec.Column) bool { return c.Name == kc.Name })
		if j < 0 {
			return k, fmt.Errorf("copier: %s: key column %s is not copied (excluded?): the destination cannot be read by it", job.Source, kc.Name)
		}
		if d := job.Columns[j].Dest; d != "" {
			k.Columns[i].Name = d
		}
	}
	return k, nil
}

// keyColumns are rowcodec columns for the key values PageQuery selects first:
// integers as KindInt (int64, or uint64 above MaxInt64), the rest as the exact
// bytes of CAST(... AS BINARY).
func keyColumns(key chunk.Key) []rowcodec.Column {
	out := make([]rowcodec.Column, len(key.Columns))
	for i, c := range key.Columns {
		k := rowcodec.KindBytes
		if c.Kind == chunk.Signed || c.Kind == chunk.Unsigned {
			k = rowcodec.KindInt
		}
		out[i] = rowcodec.Column{Name: "key " + c.Name, DataType: c.DataType, Kind: k}
	}
	return out
}

// cursorOf is the chunk.Cursor of a row's leading key values.
func cursorOf(key chunk.Key, vals []any) (chunk.Cursor, error) {
	raw := make([]sql.RawBytes, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case int64:
			raw[i] = strconv.AppendInt(nil, x, 10)
		case uint64:
			raw[i] = strconv.AppendUint(nil, x, 10)
		case []byte:
			raw[i] = x
		default:
			return nil, fmt.Errorf("copier: key column %s: unexpected value %T", key.Columns[i].Name, v)
		}
	}
	return chunk.CursorOf(key, raw)
}

func copyKeyed(ctx context.Context, s *Source, d *Dest, job Job, progress func(Progress)) (Result, error) {
	var res Result
	res.Cursor = job.Cursor
	// rowcodec's precheck writer sets unique_checks=0, which puts MariaDB 10.6+
	// into bulk-insert mode for the first insert into an empty table: an
	// exclusive table lock until commit. Ranges of one table are written in
	// parallel, so that lock serialises them, and it hung (measured, 10.11: the
	// bulk LOAD DATA never finished while another range's SELECT on the table
	// waited in "Statistics"). mydumper stopped setting it on MariaDB for the
	// same lock (mydumper#988). The no-key pass, one writer, keeps it.
	if _, err := d.conn.ExecContext(ctx, "SET SESSION unique_checks = 1"); err != nil {
		return res, fmt.Errorf("copier: destination session: %w", err)
	}
	if job.Conflicts == rowcodec.Precheck {
		// The destination held none of these rows when the migration started and
		// only this range writes them: any row after the cursor was committed by an
		// earlier attempt whose Progress never reached the heartbeat (README).
		dk, err := destKey(job)
		if err != nil {
			return res, err
		}
		cur, n, err := d.highWater(ctx, job.Dest, dk, job.Range, job.Cursor)
		if err != nil {
			return res, err
		}
		if n > 0 {
			res.Cursor, res.Rows, res.Found = cur, n, n
			progress(res)
		}
	}
	nk := len(job.Key.Columns)
	read := job.readColumns()
	names := make([]string, len(read))
	for i, c := range read {
		names[i] = c.Name
	}
	selCols := append(keyColumns(job.Key), read...)
	dstTable := rowcodec.Table{Schema: job.Dest.Schema, Name: job.Dest.Name}
	sizer := chunk.NewSizer(job.Sizer)
	avgRow := float64(job.Sizer.AvgRowLength)
	for {
		limit := sizer.Rows()
		// Under a throttle a page is a fraction of a second's budget, so the
		// rate is smooth (a page of seconds' worth would make it a staircase).
		if p, ok := job.Limiter.(throttle.Pager); ok {
			if c := p.PageRows(avgRow); c > 0 && c < limit {
				limit = c
			}
		}
		q, err := chunk.PageQueryWhere(job.Source, job.Key, names, job.Range, res.Cursor, limit, job.where())
		if err != nil {
			return res, fmt.Errorf("copier: %w", err)
		}
		st, err := s.prepare(ctx, selCols, q.SQL)
		if err != nil {
			return res, err
		}
		start := time.Now()
		var rows []rowcodec.Row
		var bytes int64
		var last []any
		err = st.Each(ctx, q.Args, func(r rowcodec.Row) error {
			last = r[:nk]
			data := r[nk:]
			bytes += size(data)
			rows = append(rows, data)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("copier: read %s range %s: %w", job.Source, job.Range, err)
		}
		took := time.Since(start)
		if err := job.Limiter.Wait(ctx, len(rows), int(bytes)); err != nil {
			return res, fmt.Errorf("copier: %s range %s: throttle: %w", job.Source, job.Range, err)
		}
		n := len(rows)
		if n == 0 {
			return res, nil
		}
		cur, err := cursorOf(job.Key, last)
		if err != nil {
			return res, err
		}
		start = time.Now()
		if job.Rows != nil {
			var filtered, failed int64
			if rows, filtered, failed, err = job.Rows(rows); err != nil {
				return res, fmt.Errorf("copier: %s range %s: %w", job.Source, job.Range, err)
			}
			res.Filtered += filtered
			res.Failed += failed
		}
		var wr rowcodec.Result
		if len(rows) > 0 {
			// A deadlock or lock wait timeout rolled the page back: it is
			// written again in place (not an attempt's failure; issue 7's
			// windows do not count it).
			for try := 1; ; try++ {
				wr, err = d.writePage(ctx, job, dstTable, rows)
				if err == nil || !dbconn.IsLockConflict(err) || try == lockRetries || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Duration(try) * 50 * time.Millisecond)
			}
			if err != nil {
				return res, err
			}
		}
		took += time.Since(start)
		res.Pages++
		if job.afterCommit != nil {
			if err := job.afterCommit(res.Pages); err != nil {
				return res, err
			}
		}
		res.Cursor = cur
		res.Rows += wr.Affected
		res.Skipped += wr.Skipped
		res.Bytes += bytes
		progress(res)
		sizer.Observe(n, bytes, took)
		avgRow = float64(bytes) / float64(n)
		if n < limit {
			return res, nil
		}
	}
}

// lockRetries bounds the in-place retries of a page after lock conflicts.
const lockRetries = 10

// writePage writes one page in one transaction.
func (d *Dest) writePage(ctx context.Context, job Job, dst rowcodec.Table, rows []rowcodec.Row) (rowcodec.Result, error) {
	tx, err := d.conn.BeginTx(ctx, nil)
	if err != nil {
		return rowcodec.Result{}, fmt.Errorf("copier: write %s: begin: %w", dst, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	r, err := d.writeTx(ctx, tx, job.Write, dst, job.Columns, rows, job.MaxBytes)
	if err != nil {
		return r, err
	}
	if err := tx.Commit(); err != nil {
		return rowcodec.Result{}, fmt.Errorf("copier: write %s: commit: %w", dst, err)
	}
	return r, nil
}

// size is what a page's values weigh for the Sizer and the MB/s limit.
func size(values []any) int64 {
	var n int64
	for _, v := range values {
		switch v := v.(type) {
		case nil:
		case []byte:
			n += int64(len(v))
		default:
			n += 8
		}
	}
	return n
}
