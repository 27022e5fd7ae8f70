package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"golang.org/x/sync/errgroup"

	"github.com/sluice-dev/sluice/chunk"
	"github.com/sluice-dev/sluice/copier"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/verify"
	"github.com/sluice-dev/sluice/workflows"
)

// ErrVerifyFailed is the ApplicationError type of a range that cannot be compared.
const ErrVerifyFailed = "VerifyFailed"

// verifyJob is one range of a verification, as it travels in the workflow.
type verifyJob struct {
	Key   chunk.Key   `json:"key"`
	Range chunk.Range `json:"range"`
}

// VerifyTables lists the tables a verification compares: the full copy's.
func (a *Activities) VerifyTables(ctx context.Context, s spec.Spec) ([]plan.Object, error) {
	return a.FullTables(ctx, s, 0, 1<<30)
}

// PlanVerify picks the table's key and splits it into ranges of about
// chunkRows rows on the source.
func (a *Activities) PlanVerify(ctx context.Context, s spec.Spec, t plan.Object, chunkRows int) (workflows.VerifyPlan, error) {
	src, err := a.openSource(ctx, s)
	if err != nil {
		return workflows.VerifyPlan{}, err
	}
	defer src.Close()
	defer heartbeatTicker(ctx, func() any { return "planning " + t.String() })()
	tbl := chunk.Table{Schema: t.Database, Name: t.Name}
	key, err := chunk.ChooseKey(ctx, src, tbl.Schema, tbl.Name)
	if err != nil {
		return workflows.VerifyPlan{}, classify(fmt.Errorf("verify: %s: choose a key: %w", t, err))
	}
	est, _, err := chunk.Estimate(ctx, src, tbl)
	if err != nil {
		return workflows.VerifyPlan{}, classify(fmt.Errorf("verify: %s: estimate rows: %w", t, err))
	}
	out := workflows.VerifyPlan{Table: t, EstRows: est}
	ranges := []chunk.Range{{}}
	if !key.None() {
		want := min(int(est/int64(max(chunkRows, 1)))+1, maxRangesPerTab)
		if ranges, err = chunk.Split(ctx, src, tbl, key, want); err != nil {
			return out, classify(fmt.Errorf("verify: %s: split by %s: %w", t, key, err))
		}
	}
	for _, r := range ranges {
		b, err := json.Marshal(verifyJob{Key: key, Range: r})
		if err != nil {
			return out, err
		}
		out.Ranges = append(out.Ranges, b)
	}
	return out, nil
}

// VerifyRange compares one range: checksums on both servers at once, and when
// they differ (or the table has filters or transforms, which only Go can
// apply), the rows themselves. With Repair the differing rows are rewritten
// from the source (through the copy path: REPLACE of the source's rows, the
// destination's extra rows deleted) and the range is compared again.
func (a *Activities) VerifyRange(ctx context.Context, s spec.Spec, in workflows.VerifyRangeInput) (workflows.VerifyRangeResult, error) {
	var job verifyJob
	if err := json.Unmarshal(in.Range, &job); err != nil {
		return workflows.VerifyRangeResult{}, temporal.NewNonRetryableApplicationError("verify: bad range: "+err.Error(), ErrVerifyFailed, nil)
	}
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return workflows.VerifyRangeResult{}, err
	}
	defer done()
	stop := heartbeatTicker(ctx, func() any { return "comparing " + in.Table.String() })
	defer stop()
	sv, dv, write, rows, err := a.verifySides(ctx, s, src, dst, r, in.Table, job.Key)
	if err != nil {
		return workflows.VerifyRangeResult{}, err
	}
	res, diffs, err := compareRange(ctx, src, dst, sv, dv, job.Range, rows, in.MaxDiffs)
	if err != nil || !in.Repair || len(diffs) == 0 {
		return res, classify(err)
	}
	// Repair: every difference, not only the reported ones.
	all, _, err := verify.Diff(ctx, src, dst, sv, dv, job.Range, rows, 0)
	if err != nil {
		return res, classify(err)
	}
	if err := repairRange(ctx, src, dst, in.Table, sv, dv, write, job, all, rows); err != nil {
		return res, classify(fmt.Errorf("verify: repair %s range %s: %w", in.Table, job.Range, err))
	}
	again, left, err := compareRange(ctx, src, dst, sv, dv, job.Range, rows, in.MaxDiffs)
	if err != nil {
		return res, classify(err)
	}
	if len(left) > 0 {
		// Still different (the source changes under a live migration): report
		// what is left.
		return again, nil
	}
	res.Repaired = true
	return res, nil
}

// compareRange is one comparison of a range: checksums, then rows if needed.
func compareRange(ctx context.Context, src, dst *sql.DB, sv, dv verify.Side, rng chunk.Range, rows verify.RowFunc, maxDiffs int) (workflows.VerifyRangeResult, []verify.Difference, error) {
	var res workflows.VerifyRangeResult
	if rows == nil {
		var a, b verify.Sum
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) { a, err = verify.Checksum(gctx, src, sv, rng); return })
		g.Go(func() (err error) { b, err = verify.Checksum(gctx, dst, dv, rng); return })
		if err := g.Wait(); err != nil {
			return res, nil, err
		}
		res.Rows = a.Rows
		if a == b {
			return res, nil, nil
		}
	} else {
		res.InGo = true
	}
	diffs, n, err := verify.Diff(ctx, src, dst, sv, dv, rng, rows, 0)
	if err != nil {
		return res, nil, err
	}
	res.Rows = n
	for _, d := range diffs {
		switch d.Kind {
		case verify.Missing:
			res.Missing++
		case verify.Extra:
			res.Extra++
		default:
			res.Different++
		}
		if len(res.Differences) < maxDiffs || maxDiffs <= 0 {
			res.Differences = append(res.Differences, workflows.Difference{Kind: d.Kind, Key: d.Key, Columns: d.Columns})
		}
	}
	return res, diffs, nil
}

// verifySides names the table and its compared columns on both servers (the
// columns the copy writes: excluded ones left out, renamed ones under their
// destination names), and the filters and transforms the source rows go
// through (nil: none).
//
// write is what the copy writes: the source's columns named for the
// destination (Dest), for a repair.
func (a *Activities) verifySides(ctx context.Context, s spec.Spec, src, dst *sql.DB, r *resolvedSchema, t plan.Object, key chunk.Key) (sv, dv verify.Side, write []rowcodec.Column, rows verify.RowFunc, err error) {
	all, err := rowcodec.Columns(ctx, src, t.Database, t.Name)
	if err != nil {
		return sv, dv, nil, nil, classify(fmt.Errorf("verify: %s: columns: %w", t, err))
	}
	dcols, err := rowcodec.Columns(ctx, dst, t.DestDatabase, t.DestName)
	if err != nil {
		return sv, dv, nil, nil, classify(fmt.Errorf("verify: %s: destination columns: %w", t, err))
	}
	byName := map[string]rowcodec.Column{}
	for _, c := range dcols {
		byName[strings.ToLower(c.Name)] = c
	}
	var scols, wcols []rowcodec.Column
	for _, c := range all {
		to, excluded := r.names.Column(t.Database, t.Name, c.Name)
		if excluded {
			continue
		}
		d, ok := byName[strings.ToLower(to)]
		if !ok {
			return sv, dv, nil, nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("verify: %s: the destination has no column %s (from %s)", t, to, c.Name), ErrVerifyFailed, nil)
		}
		if to != c.Name {
			c.Dest = to
		}
		scols = append(scols, c)
		wcols = append(wcols, d)
	}
	dkey := key
	dkey.Columns = append([]chunk.Column(nil), key.Columns...)
	for i, k := range dkey.Columns {
		to, _ := r.names.Column(t.Database, t.Name, k.Name)
		dkey.Columns[i].Name = to
	}
	sv = verify.Side{Table: chunk.Table{Schema: t.Database, Name: t.Name}, Key: key, Columns: scols}
	dv = verify.Side{Table: chunk.Table{Schema: t.DestDatabase, Name: t.DestName}, Key: dkey, Columns: wcols}
	e, ok := entryOf(r, t.Database, t.Name)
	if !ok {
		return sv, dv, scols, nil, nil
	}
	prog, err := compileETL(ctx, src, e, t.Database, t.Name)
	if err != nil || prog == nil {
		return sv, dv, scols, nil, err
	}
	// The source side reads what the expressions read; the RowFunc turns a
	// row into the written columns, as the copy does.
	read := etlColumns(prog)
	batch, err := a.copyRows(prog, read, scols, true, s.Options.ETL.OnError == spec.ETLSkip)
	if err != nil {
		return sv, dv, nil, nil, classify(err)
	}
	sv.Columns = read
	rows = func(row rowcodec.Row) (rowcodec.Row, bool, error) {
		out, _, _, err := batch([]rowcodec.Row{row})
		if err != nil || len(out) == 0 {
			return nil, false, err
		}
		return out[0], true, nil
	}
	return sv, dv, scols, rows, nil
}

// repairRange rewrites a range's differing rows: the source's rows of the
// range through the copy path (REPLACE: missing and different rows), then the
// destination's extra rows deleted by key.
func repairRange(ctx context.Context, src, dst *sql.DB, t plan.Object, sv, dv verify.Side, write []rowcodec.Column, job verifyJob, diffs []verify.Difference, rows verify.RowFunc) error {
	var extra []verify.Difference
	rewrite := false
	for _, d := range diffs {
		if d.Kind == verify.Extra {
			extra = append(extra, d)
		} else {
			rewrite = true
		}
	}
	if rewrite {
		cj := copier.Job{
			Source:    chunk.Table{Schema: t.Database, Name: t.Name},
			Dest:      chunk.Table{Schema: t.DestDatabase, Name: t.DestName},
			Key:       job.Key,
			Range:     job.Range,
			Columns:   write,
			Conflicts: rowcodec.Replace,
		}
		if rows != nil {
			cj.Read = sv.Columns
			cj.Rows = func(in []rowcodec.Row) ([]rowcodec.Row, int64, int64, error) {
				var out []rowcodec.Row
				var filtered int64
				for _, r := range in {
					w, keep, err := rows(r)
					if err != nil {
						return nil, 0, 0, err
					}
					if !keep {
						filtered++
						continue
					}
					out = append(out, w)
				}
				return out, filtered, 0, nil
			}
		}
		if _, err := copier.CopyRange(ctx, src, dst, cj, func(copier.Progress) {}); err != nil {
			return err
		}
	}
	for _, d := range extra {
		where := make([]string, len(d.KeyValues))
		for i, c := range d.KeyColumns {
			where[i] = sqltok.Quote(dv.Columns[c].Name) + " <=> ?"
		}
		if _, err := dst.ExecContext(ctx, "DELETE FROM "+dv.Table.Quoted()+" WHERE "+strings.Join(where, " AND ")+" LIMIT 1", d.KeyValues...); err != nil {
			return fmt.Errorf("delete the extra row %s: %w", d.Key, err)
		}
	}
	return nil
}
