package ddl

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/sqltok"
	"github.com/sluice-dev/sluice/testenv"
)

// -update rewrites the golden files in testdata from what the server and the rewrites produce.
var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// object is one SHOW CREATE output of the captured source schema.
type object struct {
	Kind     string // table, view, procedure, function, trigger, sequence
	Database string
	Name     string
	SQL      string
}

func (o object) header() string {
	return fmt.Sprintf("-- object: %s %s.%s", o.Kind, sqltok.Quote(o.Database), sqltok.Quote(o.Name))
}

const goldenSource = "testdata/source.sql"

// schemaStatements splits testdata/schema.sql on its "-- ;;" lines.
func schemaStatements(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, part := range strings.Split(string(b), "\n-- ;;\n") {
		// Drop the leading comment block of the file.
		lines := strings.Split(part, "\n")
		for len(lines) > 0 && strings.HasPrefix(lines[0], "--") {
			lines = lines[1:]
		}
		if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// captureDatabases are the databases schema.sql creates.
var captureDatabases = []string{"ddl_shop", "ddl_ref"}

// createSourceSchema runs schema.sql on srv (dropping a previous copy) and returns
// every object's SHOW CREATE text, in a stable order.
func createSourceSchema(t testing.TB, srv *testenv.Server) []object {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, d := range captureDatabases {
		if err := srv.Exec(ctx, "DROP DATABASE IF EXISTS "+sqltok.Quote(d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range schemaStatements(t) {
		if err := srv.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	db, err := srv.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var objs []object
	for _, d := range captureDatabases {
		objs = append(objs, showCreateAll(t, ctx, db, d)...)
	}
	return objs
}

// showCreateAll reads every table, view, sequence, routine and trigger of database d.
func showCreateAll(t testing.TB, ctx context.Context, db *sql.DB, d string) []object {
	t.Helper()
	var objs []object
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? ORDER BY TABLE_TYPE, BINARY TABLE_NAME`, d)
	if err != nil {
		t.Fatal(err)
	}
	type nk struct{ name, kind string }
	var tabs []nk
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			t.Fatal(err)
		}
		kind := map[string]string{"BASE TABLE": "table", "SYSTEM VERSIONED": "table", "VIEW": "view", "SEQUENCE": "sequence"}[typ]
		if kind == "" {
			t.Fatalf("unexpected table type %q of %s.%s", typ, d, n)
		}
		tabs = append(tabs, nk{n, kind})
	}
	rows.Close()
	for _, x := range tabs {
		q := fmt.Sprintf("SHOW CREATE %s %s.%s", strings.ToUpper(x.kind), sqltok.Quote(d), sqltok.Quote(x.name))
		if x.kind == "sequence" {
			q = fmt.Sprintf("SHOW CREATE SEQUENCE %s.%s", sqltok.Quote(d), sqltok.Quote(x.name))
		}
		objs = append(objs, object{Kind: x.kind, Database: d, Name: x.name, SQL: testenv.ShowCreate(t, db, q)})
	}
	rows, err = db.QueryContext(ctx, `SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, BINARY ROUTINE_NAME`, d)
	if err != nil {
		t.Fatal(err)
	}
	var routines []nk
	for rows.Next() {
		var n, typ string
		if err := rows.Scan(&n, &typ); err != nil {
			t.Fatal(err)
		}
		routines = append(routines, nk{n, strings.ToLower(typ)})
	}
	rows.Close()
	for _, r := range routines {
		q := fmt.Sprintf("SHOW CREATE %s %s.%s", strings.ToUpper(r.kind), sqltok.Quote(d), sqltok.Quote(r.name))
		objs = append(objs, object{Kind: r.kind, Database: d, Name: r.name, SQL: testenv.ShowCreate(t, db, q)})
	}
	rows, err = db.QueryContext(ctx, `SELECT TRIGGER_NAME FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = ? ORDER BY BINARY TRIGGER_NAME`, d)
	if err != nil {
		t.Fatal(err)
	}
	var triggers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		triggers = append(triggers, n)
	}
	rows.Close()
	for _, n := range triggers {
		q := fmt.Sprintf("SHOW CREATE TRIGGER %s.%s", sqltok.Quote(d), sqltok.Quote(n))
		objs = append(objs, object{Kind: "trigger", Database: d, Name: n, SQL: testenv.ShowCreate(t, db, q)})
	}
	return objs
}

func formatObjects(objs []object) string {
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.header())
		b.WriteString("\n")
		b.WriteString(o.SQL)
		b.WriteString("\n")
	}
	return b.String()
}

// parseObjects reads the format formatObjects writes.
func parseObjects(t testing.TB, text string) []object {
	t.Helper()
	var objs []object
	for _, part := range strings.Split(text, "-- object: ")[1:] {
		head, body, ok := strings.Cut(part, "\n")
		if !ok {
			t.Fatalf("bad object header %q", part)
		}
		kind, qname, _ := strings.Cut(head, " ")
		toks := identTokens(t, qname)
		if len(toks) != 2 {
			t.Fatalf("bad object name %q", qname)
		}
		objs = append(objs, object{Kind: kind, Database: toks[0], Name: toks[1], SQL: strings.TrimSuffix(body, "\n")})
	}
	return objs
}

func readGolden(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ddl -update against a MariaDB to create it)", err)
	}
	return string(b)
}

func writeGolden(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSourceCapture checks that testdata/source.sql is what MariaDB really prints
// for testdata/schema.sql (or rewrites it with -update).
func TestSourceCapture(t *testing.T) {
	env := testenv.Shared(t)
	objs := createSourceSchema(t, env.Source)
	got := formatObjects(objs)
	if *update {
		writeGolden(t, goldenSource, got)
		return
	}
	if want := readGolden(t, goldenSource); got != want {
		t.Errorf("SHOW CREATE output differs from %s (server version change? rerun with -update and review):\n%s", goldenSource, lineDiff(want, got))
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, a, c)
			if n++; n >= 10 {
				break
			}
		}
	}
	return b.String()
}

// identTokens returns the names of the Ident/Word tokens of s (for `db`.`name` headers).
func identTokens(t testing.TB, s string) []string {
	t.Helper()
	toks, err := sqltok.Tokenize(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tk := range toks {
		if n, ok := tk.Name(); ok {
			out = append(out, n)
		}
	}
	return out
}
