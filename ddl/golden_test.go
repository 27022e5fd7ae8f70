package ddl

import (
	"github.com/sluice-dev/sluice/sqltok"

	"strings"
	"testing"
)

const goldenRewritten = "testdata/rewritten.sql"

// rewriteObject applies the rewrite for o's kind.
func rewriteObject(o object, n Names) (string, []string, error) {
	switch o.Kind {
	case "table", "sequence":
		out, err := RewriteTable(o.Database, o.Name, o.SQL, n)
		return out, nil, err
	case "view":
		out, err := RewriteView(o.Database, o.Name, o.SQL, n)
		return out, nil, err
	case "procedure", "function":
		return RewriteRoutineWarnings(o.Database, o.SQL, n)
	case "trigger":
		return RewriteTriggerWarnings(o.Database, o.SQL, n)
	}
	panic("unknown kind " + o.Kind)
}

// TestRewriteGolden rewrites every captured object with the renames scenario and
// compares with testdata/rewritten.sql (reviewed by hand; -update rewrites it).
func TestRewriteGolden(t *testing.T) {
	objs := parseObjects(t, readGolden(t, goldenSource))
	if len(objs) < 20 {
		t.Fatalf("only %d objects in %s", len(objs), goldenSource)
	}
	var b strings.Builder
	for _, o := range objs {
		out, warns, err := rewriteObject(o, renames())
		b.WriteString(o.header() + "\n")
		for _, w := range warns {
			b.WriteString("-- warning: " + w + "\n")
		}
		if err != nil {
			b.WriteString("-- error: " + err.Error() + "\n")
			continue
		}
		b.WriteString(out + "\n")
	}
	got := b.String()
	if *update {
		writeGolden(t, goldenRewritten, got)
		return
	}
	if want := readGolden(t, goldenRewritten); got != want {
		t.Errorf("rewrites differ from %s:\n%s", goldenRewritten, lineDiff(want, got))
	}
}

// TestRewriteIdentity: with no renames, a table comes back byte for byte except
// for its qualified name, and every other kind changes only DEFINER/SECURITY/name.
func TestRewriteIdentity(t *testing.T) {
	for _, o := range parseObjects(t, readGolden(t, goldenSource)) {
		if o.Kind == "sequence" {
			continue
		}
		out, warns, err := rewriteObject(o, identity)
		if err != nil {
			t.Errorf("%s: %v", o.header(), err)
			continue
		}
		if len(warns) > 0 {
			t.Errorf("%s: warnings without renames: %v", o.header(), warns)
		}
		if o.Kind == "table" {
			want := strings.Replace(o.SQL, "CREATE TABLE "+sqltok.Quote(o.Name), "CREATE TABLE "+qualify(o.Database, o.Name), 1)
			// Same-database REFERENCES are qualified on purpose (see RewriteTable).
			out = strings.ReplaceAll(out, "REFERENCES "+sqltok.Quote(o.Database)+".", "REFERENCES ")
			if out != want {
				t.Errorf("%s: identity rewrite changed the table:\n%s", o.header(), lineDiff(want, out))
			}
		}
		if strings.Contains(out, "DEFINER=") || strings.Contains(out, "SECURITY DEFINER") {
			t.Errorf("%s: DEFINER left in %s", o.header(), out)
		}
	}
}
