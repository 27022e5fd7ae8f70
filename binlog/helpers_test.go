package binlog

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The replication account of the tests requires TLS: a stream that reads at all
// proves that the replication connection (not only the SQL one) uses dbconn's TLS
// settings.
const (
	replUser     = "bl_repl"
	replPassword = "bl-repl-Secret-7"
	replPassEnv  = "SLUICE_BINLOG_TEST_PASSWORD"
)

var replOnce sync.Once

// source returns the shared pair and a root pool on the source.
func source(t *testing.T) (*testenv.Env, *sql.DB) {
	t.Helper()
	env := testenv.Shared(t)
	db, err := env.Source.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var setupErr error
	replOnce.Do(func() {
		req := ""
		if env.Source.CAFile != "" {
			req = " REQUIRE SSL"
		}
		setupErr = env.Source.Exec(context.Background(),
			"CREATE USER IF NOT EXISTS "+sqltok.QuoteString(replUser)+"@'%' IDENTIFIED BY "+sqltok.QuoteString(replPassword)+req,
			"GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO "+sqltok.QuoteString(replUser)+"@'%'")
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return env, db
}

// config reads the source as the TLS-only replication account, verifying the
// server certificate, the password coming from a ${NAME} reference.
func config(t *testing.T, env *testenv.Env, lookup Lookup) Config {
	ep := spec.Endpoint{Host: env.Source.Host, Port: env.Source.Port, User: replUser, Password: "${" + replPassEnv + "}",
		TLS: spec.TLS{Mode: "verify-identity", CA: env.Source.CAFile}}
	if env.Source.CAFile == "" {
		ep.TLS = spec.TLS{Mode: "preferred"}
	}
	return Config{
		Endpoint: ep,
		Env: func(name string) (string, bool) {
			if name == replPassEnv {
				return replPassword, true
			}
			return "", false
		},
		ServerID: ServerIDFor(t.Name()),
		Lookup:   lookup,
	}
}

// skipPrefix names tables a test's Lookup does not replicate.
const skipPrefix = "skip_"

func lookupSkipping(db *sql.DB) Lookup {
	return func(ctx context.Context, schema, table string) (*Table, error) {
		if strings.HasPrefix(table, skipPrefix) {
			return nil, nil
		}
		return LoadTable(ctx, db, schema, table)
	}
}

func position(t *testing.T, db *sql.DB) Position {
	t.Helper()
	p, err := inspect.BinlogPosition(context.Background(), db)
	if err != nil || p == nil {
		t.Fatalf("binlog position: %v %v", p, err)
	}
	return Position(*p)
}

func open(t *testing.T, ctx context.Context, cfg Config, start Position) *Stream {
	t.Helper()
	s, err := Open(ctx, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// reached reports whether p is at or past target in the binlog.
func reached(p, target Position) bool {
	return mysql.Position{Name: p.File, Pos: uint32(p.Pos)}.Compare(mysql.Position{Name: target.File, Pos: uint32(target.Pos)}) >= 0
}

// readUntil reads events up to the Commit at or past target.
func readUntil(t *testing.T, ctx context.Context, s *Stream, target Position) []*Event {
	t.Helper()
	var out []*Event
	for {
		e, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		if e.Kind == Heartbeat {
			continue
		}
		out = append(out, e)
		if e.Kind == Commit && reached(e.Pos, target) {
			return out
		}
	}
}

// readRows reads all rows of schema.table through rowcodec's reader, keyed by the
// first column (an integer id).
func readRows(t *testing.T, ctx context.Context, db *sql.DB, schema, table string) ([]rowcodec.Column, map[int64]rowcodec.Row) {
	t.Helper()
	cols, err := rowcodec.Columns(ctx, db, schema, table)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := rowcodec.PrepareReader(ctx, conn); err != nil {
		t.Fatal(err)
	}
	tb := rowcodec.Table{Schema: schema, Name: table}
	sel, err := rowcodec.PrepareSelect(ctx, conn, cols, "SELECT "+rowcodec.ColumnList(cols)+" FROM "+tb.Quoted())
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	rows, err := sel.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]rowcodec.Row{}
	for _, r := range rows {
		out[r[0].(int64)] = r
	}
	return cols, out
}

// replica is the state of tables rebuilt from row events only.
type replica map[string]map[int64]rowcodec.Row

// apply applies the row events of evs. An update's or delete's before image must
// equal the row as known: that checks before images value by value.
func (r replica) apply(t *testing.T, evs []*Event) (changes int) {
	t.Helper()
	for _, e := range evs {
		if e.Kind != Rows {
			continue
		}
		tbl := e.Schema + "." + e.Table
		if r[tbl] == nil {
			r[tbl] = map[int64]rowcodec.Row{}
		}
		m := r[tbl]
		for _, c := range e.Changes {
			changes++
			if c.Before != nil {
				id := c.Before[0].(int64)
				known, ok := m[id]
				if !ok {
					t.Fatalf("%s %s: before image of unknown row %d", tbl, e.Op, id)
				}
				if d := diffRow(e.Columns, known, c.Before); d != "" {
					t.Fatalf("%s %s: before image of row %d differs from the row known: %s", tbl, e.Op, id, d)
				}
				delete(m, id)
			}
			if c.After != nil {
				id := c.After[0].(int64)
				if _, ok := m[id]; ok {
					t.Fatalf("%s %s: row %d already exists", tbl, e.Op, id)
				}
				m[id] = c.After
			}
		}
	}
	return changes
}

// diffRow compares two rows value by value, Go types included; "" when equal.
func diffRow(cols []rowcodec.Column, want, got rowcodec.Row) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d values, want %d", len(got), len(want))
	}
	var diffs []string
	for i := range want {
		if !sameValue(want[i], got[i]) {
			diffs = append(diffs, fmt.Sprintf("%s (%s): got %s, want %s", cols[i].Name, cols[i].ColumnType, show(got[i]), show(want[i])))
		}
	}
	return strings.Join(diffs, "; ")
}

func show(v any) string {
	if b, ok := v.([]byte); ok {
		return fmt.Sprintf("[]byte %q", b)
	}
	return fmt.Sprintf("%T %#v", v, v)
}

func sameValue(a, b any) bool {
	if ab, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && bytes.Equal(ab, bb)
	}
	return a == b
}

// compareTable requires the rebuilt table to equal what rowcodec reads now.
func compareTable(t *testing.T, ctx context.Context, db *sql.DB, r replica, schema, table string, evs []*Event) {
	t.Helper()
	cols, want := readRows(t, ctx, db, schema, table)
	got := r[schema+"."+table]
	for _, e := range evs {
		if e.Kind == Rows && e.Schema == schema && e.Table == table {
			if fmt.Sprintf("%#v", e.Columns) != fmt.Sprintf("%#v", cols) {
				t.Fatalf("%s.%s: event columns\n%#v\nrowcodec.Columns\n%#v", schema, table, e.Columns, cols)
			}
		}
	}
	var ids []int64
	for id := range want {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	bad := 0
	for _, id := range ids {
		g, ok := got[id]
		if !ok {
			t.Errorf("%s.%s: row %d missing from the binlog replica", schema, table, id)
			bad++
		} else if d := diffRow(cols, want[id], g); d != "" {
			t.Errorf("%s.%s row %d: %s", schema, table, id, d)
			bad++
		}
		if bad > 10 {
			t.FailNow()
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s.%s: row %d in the binlog replica is not in the table", schema, table, id)
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s.%s: no rows to compare", schema, table)
	}
}
