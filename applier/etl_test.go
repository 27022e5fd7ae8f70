package applier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

func etlTable() etl.Table {
	id := etl.Column{Column: rowcodec.Column{Name: "id", DataType: "int", ColumnType: "int(11)", Kind: rowcodec.KindInt}, Key: true}
	st := etl.Column{Column: rowcodec.Column{Name: "status", DataType: "varchar", ColumnType: "varchar(20)", Charset: "utf8mb4", Kind: rowcodec.KindBytes}, MaxLength: 20}
	return etl.Table{Schema: "d", Name: "t", Columns: []etl.Column{id, st}}
}

// The semantics table of docs/etl.md, change by change, with the variables
// replication passes (op, old).
func TestFilterChangeSemantics(t *testing.T) {
	p, err := etl.Compile(etlTable(), etl.Spec{
		Filter:    `row.status == "in"`,
		Transform: map[string]string{"status": `op + ":" + old.status + ">" + row.status`},
	})
	if err != nil {
		t.Fatal(err)
	}
	row := func(s string) rowcodec.Row { return rowcodec.Row{int64(1), []byte(s)} }
	str := func(r rowcodec.Row) string {
		if r == nil {
			return "-"
		}
		return string(r[1].([]byte))
	}
	for _, c := range []struct {
		name            string
		op              binlog.Op
		before, after   rowcodec.Row
		keep            bool
		wantOp          binlog.Op
		upsert, left    bool
		before2, after2 string
	}{
		{"insert in", binlog.Insert, nil, row("in"), true, binlog.Insert, false, false, "-", "insert:in>in"},
		{"insert out", binlog.Insert, nil, row("out"), false, 0, false, false, "", ""},
		{"delete in", binlog.Delete, row("in"), nil, true, binlog.Delete, false, false, "delete:in>in", "-"},
		{"delete out", binlog.Delete, row("out"), nil, false, 0, false, false, "", ""},
		{"update in→in", binlog.Update, row("in"), row("in"), true, binlog.Update, false, false, "update:in>in", "update:in>in"},
		{"update out→in", binlog.Update, row("out"), row("in"), true, binlog.Insert, true, false, "-", "update:out>in"},
		{"update in→out", binlog.Update, row("in"), row("out"), true, binlog.Delete, false, true, "update:in>in", "-"},
		{"update out→out", binlog.Update, row("out"), row("out"), false, 0, false, false, "", ""},
	} {
		ch := change{op: c.op, before: c.before, after: c.after}
		keep, err := filterChange(p, &ch)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if keep != c.keep {
			t.Errorf("%s: keep %v, want %v", c.name, keep, c.keep)
			continue
		}
		if !keep {
			continue
		}
		if ch.op != c.wantOp || ch.upsert != c.upsert || ch.left != c.left || str(ch.before) != c.before2 || str(ch.after) != c.after2 {
			t.Errorf("%s: op %v upsert %v left %v before %q after %q; want %v %v %v %q %q", c.name, ch.op, ch.upsert, ch.left,
				str(ch.before), str(ch.after), c.wantOp, c.upsert, c.left, c.before2, c.after2)
		}
	}
	// An error names the table, the key and the expression; the input is intact.
	bad, err := etl.Compile(etlTable(), etl.Spec{Transform: map[string]string{"status": `row.status + "-much-too-long-for-it"`}})
	if err != nil {
		t.Fatal(err)
	}
	ch := change{op: binlog.Insert, after: row("in")}
	_, err = filterChange(bad, &ch)
	var ee *etl.EvalError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "`d`.`t` row (id=1): transform.status") || !strings.Contains(err.Error(), "do not fit varchar(20)") {
		t.Errorf("error %v", err)
	}
}

// Replication with a transform that fails on some rows: with SkipETLErrors
// those changes are left out and counted, the others applied; without, the
// run stops with the expression's error.
func TestETLSkipAndFail(t *testing.T) {
	env, src, dst, srcDB, dstDB := pair(t, "etlskip")
	sq, dq := sqltok.Quote(srcDB), sqltok.Quote(dstDB)
	start := position(t, src)
	mustExec(t, src, "INSERT INTO "+sq+".`audit` VALUES ('ok1', 1), ('bad', 2), ('ok2', 3)")
	end := position(t, src)
	// n - 100u underflows for the 'bad' row.
	compile := func(ctx context.Context, db, table string, cols []rowcodec.Column) (*etl.Program, error) {
		if table != "audit" {
			return nil, nil
		}
		var tc []etl.Column
		for _, c := range cols {
			tc = append(tc, etl.Column{Column: c, Key: c.Name == "k"})
		}
		return etl.Compile(etl.Table{Schema: db, Name: table, Columns: tc}, etl.Spec{Transform: map[string]string{"n": `row.k == "bad" ? row.n - 100u : row.n * 10u`}})
	}
	var skipped []error
	cfg := Config{Task: "test-etlskip", Dest: dst, Source: src, Select: testSelection{srcDB, dstDB}, Slots: 2,
		ETL: compile, SkipETLErrors: true, OnETLSkip: func(err error) { skipped = append(skipped, err) }}
	resetTask(t, dst, cfg.Task)
	prog, done := runUntil(t, env, cfg, start, end, time.Minute)
	if !done {
		t.Fatal("not caught up")
	}
	if got := strings.Join(dump(t, dst, "SELECT `k`, `n` FROM "+dq+".`audit` ORDER BY `k`"), " "); got != `"ok1","10" "ok2","30"` {
		t.Errorf("destination %s", got)
	}
	if prog.ETLSkipped != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "(k=\"bad\")") {
		t.Errorf("skipped %d, %v", prog.ETLSkipped, skipped)
	}
	// The same without skip: the task stops on the failing change.
	mustExec(t, dst, "DELETE FROM "+dq+".`audit`")
	cfg.Task, cfg.SkipETLErrors = "test-etlfail", false
	resetTask(t, dst, cfg.Task)
	a, err := New(context.Background(), cfg, binlog.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.SetStart(start)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := binlog.Open(ctx, streamConfig(t, env, cfg.Select), start)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = a.Run(ctx, st)
	var ee *etl.EvalError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "transform.n") {
		t.Errorf("without skip: %v", err)
	}
}
