package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every example in examples/ loads and validates without warnings: they are what
// users copy.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d examples, want at least 3", len(files))
	}
	names := map[string]string{}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if w := s.Warnings(); len(w) > 0 {
			t.Errorf("%s: warnings:\n%v", f, w)
		}
		if prev, dup := names[s.Name]; dup {
			t.Errorf("%s and %s share the name %q", prev, f, s.Name)
		}
		names[s.Name] = f
	}
}

// make demo depends on these values of examples/shop.yaml.
func TestShopExample(t *testing.T) {
	s, err := Load("../examples/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "shop-demo" || s.WorkflowID() != "sluice-shop-demo" {
		t.Errorf("name %q", s.Name)
	}
	want := Endpoint{Host: "127.0.0.1", Port: 33061, User: "sluice", Password: "${SRC_PASSWORD}", TLS: TLS{Mode: "preferred"}}
	if s.Source != want {
		t.Errorf("source %+v", s.Source)
	}
	want = Endpoint{Host: "127.0.0.1", Port: 33062, User: "sluice", Password: "${DST_PASSWORD}", TLS: TLS{Mode: "preferred"}}
	if s.Destination != want {
		t.Errorf("destination %+v", s.Destination)
	}
	if len(s.Types) != 3 || !s.Has(TypeSchema) || !s.Has(TypeFull) || !s.Has(TypeIncremental) {
		t.Errorf("types %v", s.Types)
	}
	if len(s.Objects) != 1 || s.Objects[0].Database != "shop" || len(s.Objects[0].Tables) != 1 || s.Objects[0].Tables[0].Name != "*" {
		t.Errorf("objects %+v", s.Objects)
	}
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// The complete workflow files shown in the docs and the README (blocks starting with
// "name:") are valid, so the docs cannot drift from the code.
func TestDocExamples(t *testing.T) {
	for _, file := range []string{"../docs/workflow-file.md", "../README.md"} {
		doc, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range yamlBlock.FindAllSubmatch(doc, -1) {
			block := string(m[1])
			if !strings.HasPrefix(block, "name:") {
				continue
			}
			n++
			if _, err := Parse(file, []byte(block)); err != nil {
				t.Errorf("example %d in %s is invalid:\n%v\n%s", n, file, err, block)
			}
		}
		if n == 0 {
			t.Fatalf("no complete example found in %s", file)
		}
	}
}
