package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/copier"
	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
)

// ErrETL is the ApplicationError type of a filter or transform that fails:
// a retry evaluates it the same way.
const ErrETL = "ETLFailed"

// entryOf is the workflow-file entry a resolved source table was selected by.
func entryOf(r *resolvedSchema, db, table string) (spec.Table, bool) {
	for _, t := range r.resolved.Plan.Tables {
		if t.Source == (plan.Name{DB: db, Table: table}) {
			return t.Entry, true
		}
	}
	return spec.Table{}, false
}

// compileETL compiles a table entry's filter and transforms against the table
// as the source has it now; nil without expressions.
func compileETL(ctx context.Context, src *sql.DB, e spec.Table, db, table string) (*etl.Program, error) {
	if e.Filter == "" && len(e.Transform) == 0 {
		return nil, nil
	}
	t, err := etl.LoadTable(ctx, src, db, table)
	if err != nil {
		return nil, classify(fmt.Errorf("etl: %s: %w", plan.Name{DB: db, Table: table}, err))
	}
	p, err := etl.Compile(t, etl.Spec{Filter: e.Filter, Transform: e.Transform})
	if err != nil {
		// The precheck compiled it: the table changed since.
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("etl: %s: the expressions no longer type-check against the table: %v", plan.Name{DB: db, Table: table}, err), ErrETL, nil)
	}
	return p, nil
}

// copyRows is the full copy's RowsFunc: the filter in Go (unless SQL applied
// all of it), the transforms, then the written columns only. On an evaluation
// error the row fails the chunk, or with on_error skip is left out and logged.
func (a *Activities) copyRows(p *etl.Program, read, write []rowcodec.Column, filterInGo, skip bool) (copier.RowsFunc, error) {
	idx := make([]int, len(write))
	for i, w := range write {
		idx[i] = -1
		for j, c := range read {
			if c.Name == w.Name {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("etl: column %s is written but not read", w.Name)
		}
	}
	return func(rows []rowcodec.Row) ([]rowcodec.Row, int64, int64, error) {
		out := rows[:0:0]
		var filtered, failed int64
		for _, r := range rows {
			keep := true
			var err error
			if filterInGo {
				keep, err = p.Keep(r, nil, etl.OpInsert)
			}
			if err == nil && keep {
				r, err = p.Transform(r, nil, etl.OpInsert)
			}
			if err != nil {
				var ee *etl.EvalError
				if skip && errors.As(err, &ee) {
					a.Log.Warn("etl: row skipped (options.etl.on_error: skip)", zap.Error(err))
					failed++
					continue
				}
				return nil, 0, 0, temporal.NewNonRetryableApplicationError(err.Error()+"; fix the expression, or set options.etl.on_error: skip to leave such rows out", ErrETL, nil)
			}
			if !keep {
				filtered++
				continue
			}
			w := make(rowcodec.Row, len(idx))
			for i, j := range idx {
				w[i] = r[j]
			}
			out = append(out, w)
		}
		return out, filtered, failed, nil
	}, nil
}

// etlColumns lists a program's columns for the copier (Read).
func etlColumns(p *etl.Program) []rowcodec.Column {
	var out []rowcodec.Column
	for _, c := range p.Table().Columns {
		out = append(out, c.Column)
	}
	return out
}
