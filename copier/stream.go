package copier

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/rowcodec"
)

// streamWriteTimeout is the source session's net_write_timeout during a no-key
// pass: the server blocks sending rows while a batch is written (and throttled)
// and would drop the reader after the default 60 s.
const streamWriteTimeout = 86400

// copyStream copies a table with no usable key: one SELECT without ORDER BY, read
// row by row (a prepared statement, so exact FLOAT whatever the DSN), written in
// batches the Sizer picks, all in ONE destination transaction. There is no
// position to resume from, so a failed or killed pass must leave nothing behind:
// the server rolls the open transaction back when the connection ends, and the
// retry starts from an untouched table. This needs neither a TRUNCATE (which
// under conflicts: ignore would destroy the destination's own rows) nor to know
// whether this is a retry.
func copyStream(ctx context.Context, s *Source, d *Dest, job Job, progress func(Progress)) (Result, error) {
	var res Result
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("SET SESSION net_write_timeout = %d", streamWriteTimeout)); err != nil {
		return res, fmt.Errorf("copier: stream %s: %w", job.Source, err)
	}
	read := job.readColumns()
	q := "SELECT " + rowcodec.ColumnList(read) + " FROM " + job.Source.Quoted()
	if w := job.where(); w != "" {
		q += " WHERE " + w
	}
	st, err := s.prepare(ctx, read, q)
	if err != nil {
		return res, err
	}
	dstTable := rowcodec.Table{Schema: job.Dest.Schema, Name: job.Dest.Name}
	tx, err := d.conn.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("copier: stream into %s: begin: %w", job.Dest, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	maxBatchBytes := job.Sizer.MaxBytes
	if maxBatchBytes <= 0 {
		maxBatchBytes = 16 << 20
	}
	sizer := chunk.NewSizer(job.Sizer)
	var batch []rowcodec.Row
	var batchBytes int64
	since := time.Now()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		read := time.Since(since)
		if err := job.Limiter.Wait(ctx, len(batch), int(batchBytes)); err != nil {
			return fmt.Errorf("copier: stream %s: throttle: %w", job.Source, err)
		}
		start := time.Now()
		rows := batch
		if job.Rows != nil {
			filtered, failed, err := int64(0), int64(0), error(nil)
			if rows, filtered, failed, err = job.Rows(batch); err != nil {
				return fmt.Errorf("copier: stream %s: %w", job.Source, err)
			}
			res.Filtered += filtered
			res.Failed += failed
		}
		var wr rowcodec.Result
		if len(rows) > 0 {
			var err error
			if wr, err = d.writeTx(ctx, tx, job.Write, dstTable, job.Columns, rows, job.MaxBytes); err != nil {
				return err
			}
		}
		res.Pages++
		res.Rows += wr.Affected
		res.Skipped += wr.Skipped
		res.Bytes += batchBytes
		if job.afterCommit != nil { // here: after the batch, before its report
			if err := job.afterCommit(res.Pages); err != nil {
				return err
			}
		}
		progress(res)
		sizer.Observe(len(batch), batchBytes, read+time.Since(start))
		batch, batchBytes = nil, 0
		since = time.Now()
		return nil
	}
	err = st.Each(ctx, nil, func(r rowcodec.Row) error {
		batch = append(batch, r)
		batchBytes += size(r)
		if len(batch) >= sizer.Rows() || batchBytes >= maxBatchBytes {
			return flush()
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("copier: stream %s: %w", job.Source, err)
	}
	if err := flush(); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("copier: stream into %s: commit: %w", job.Dest, err)
	}
	return res, nil
}
