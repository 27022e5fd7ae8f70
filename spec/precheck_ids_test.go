package spec_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/precheck" // registers the precheck IDs with spec
	"github.com/sluice-dev/sluice/spec"
)

const minimal = `name: t
source: {host: a, user: u}
destination: {host: b, user: u}
types: [full]
objects: [{database: d, tables: ["*"]}]
options:
  ignore_warnings: [tables.engines, tables.engine, tables.engine, source.binlog_retention]
`

func TestIgnoreWarningsAreKnownIDs(t *testing.T) {
	_, err := spec.Parse("t.yaml", []byte(minimal))
	var es spec.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
	if got, want := es[0].Error(), `t.yaml:7:21: options.ignore_warnings[0]: "tables.engines" is not a precheck item ID; did you mean "tables.engine"?`; !strings.HasPrefix(got, want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got, want := es[1].Error(), "t.yaml:7:52: options.ignore_warnings[2]: tables.engine is listed twice (also ignore_warnings[1])"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// AllIDs must list every constant of precheck/ids.go (and nothing else), or a valid
// ID would be refused in ignore_warnings.
func TestAllIDsComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../precheck/ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			for _, v := range sp.(*ast.ValueSpec).Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, s)
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no IDs found in ids.go")
	}
	all := precheck.AllIDs()
	for _, id := range declared {
		if !slices.Contains(all, id) {
			t.Errorf("precheck.AllIDs() misses %q (declared in ids.go)", id)
		}
	}
	for _, id := range all {
		if !slices.Contains(declared, id) {
			t.Errorf("precheck.AllIDs() lists %q, which ids.go does not declare", id)
		}
	}
	if c := slices.Compact(slices.Sorted(slices.Values(all))); len(c) != len(all) {
		t.Errorf("precheck.AllIDs() has duplicates")
	}
	if reg := spec.PrecheckIDs(); len(reg) < len(all) {
		t.Errorf("only %d of %d IDs are registered with spec", len(reg), len(all))
	}
}
