package inspect

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// maxETLProblems caps the problems reported (a bad filter on a "*" entry fails
// on every table).
const maxETLProblems = 20

// checkExpressions compiles every selected table's filter and transforms
// against its columns on the source; nil when no entry has any.
func checkExpressions(ctx context.Context, src *sql.DB, s spec.Spec, p plan.Plan, red func(string) string) *precheck.ETLFacts {
	var out *precheck.ETLFacts
	for _, t := range p.Tables {
		e := t.Entry
		if e.Filter == "" && len(e.Transform) == 0 {
			continue
		}
		if out == nil {
			out = &precheck.ETLFacts{}
		}
		out.Tables++
		out.Expressions += len(e.Transform)
		if e.Filter != "" {
			out.Expressions++
		}
		base := fmt.Sprintf("objects[%d].tables[%d]", t.Object, t.EntryIndex)
		add := func(pr precheck.ETLProblem) {
			out.Failed++
			if len(out.Problems) < maxETLProblems {
				out.Problems = append(out.Problems, pr)
			}
		}
		tbl, err := etl.LoadTable(ctx, src, t.Source.DB, t.Source.Table)
		if err != nil {
			add(precheck.ETLProblem{Place: s.File, Path: base, Table: t.Source.String(), Msg: "cannot read the table's columns: " + red(err.Error())})
			continue
		}
		_, err = etl.Compile(tbl, etl.Spec{Filter: e.Filter, Transform: e.Transform})
		errs, ok := err.(etl.CheckErrors)
		if err != nil && !ok {
			add(precheck.ETLProblem{Place: s.File, Path: base, Table: t.Source.String(), Msg: red(err.Error())})
			continue
		}
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Where < errs[j].Where })
		for _, x := range errs {
			path := base + "." + x.Where
			place := path
			if at, ok := e.ExprPos(x.Where, x.Line, x.Column); ok && s.File != "" {
				place = fmt.Sprintf("%s:%d:%d", s.File, at.Line, at.Column)
			}
			add(precheck.ETLProblem{Place: place, Path: path, Table: t.Source.String(), Msg: x.Msg, Hint: x.Hint, Snippet: x.Snippet()})
		}
	}
	if out != nil {
		// A pattern entry's problem on many tables is reported once, naming
		// every table it concerns (a glob's expression must check on each).
		var merged []precheck.ETLProblem
		tables := map[int][]string{}
		for _, p := range out.Problems {
			i := slices.IndexFunc(merged, func(m precheck.ETLProblem) bool {
				return m.Place == p.Place && m.Path == p.Path && m.Msg == p.Msg && m.Hint == p.Hint
			})
			if i < 0 {
				merged = append(merged, p)
				i = len(merged) - 1
			}
			tables[i] = append(tables[i], p.Table)
		}
		for i := range merged {
			if ts := tables[i]; len(ts) > 1 {
				if len(ts) > 5 {
					ts = append(ts[:5:5], fmt.Sprintf("and %d more", len(ts)-5))
				}
				merged[i].Table = strings.Join(ts, ", ")
			}
		}
		out.Problems = merged
	}
	return out
}
