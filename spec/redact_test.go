package spec

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// comparable strips what is not part of the plan (the file name and positions).
func comparable(s *Spec) Spec {
	c := *s
	c.File = ""
	c.pos = nil
	// Where expressions sit in the file differs between the file and the plan.
	c.Objects = nil
	for _, o := range s.Objects {
		o.Tables = append([]Table(nil), o.Tables...)
		for i := range o.Tables {
			o.Tables[i].ExprLines = nil
		}
		c.Objects = append(c.Objects, o)
	}
	return c
}

// The rendered plan is itself a valid workflow file that means the same thing.
func TestRedactedRoundTrip(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	inputs := map[string][]byte{"fullExample": []byte(fullExample), "base": []byte(base)}
	for _, f := range files {
		inputs[f] = nil
	}
	for name, data := range inputs {
		var s1 *Spec
		if data == nil {
			s1, err = Load(name)
		} else {
			s1, err = Parse(name, data)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plan := s1.Redacted()
		s2, err := Parse("plan.yaml", []byte(plan))
		if err != nil {
			t.Fatalf("%s: the plan does not parse: %v\n%s", name, err, plan)
		}
		if a, b := comparable(s1), comparable(s2); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v\nplan:\n%s", name, a, b, plan)
		}
		if again := s2.Redacted(); again != plan {
			t.Errorf("%s: rendering is not stable:\n%s\n---\n%s", name, plan, again)
		}
	}
}

func TestRedactedContent(t *testing.T) {
	s, err := Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	plan := s.Redacted()
	for _, want := range []string{
		"# Resolved plan of workflow sluice-t",
		"  password: ${SRC_PASSWORD}\n",
		"  port: 3306\n",
		"    mode: preferred\n",
		"  conflicts: precheck\n",
		"  triggers: after-cutover\n",
		"    connection: 720m\n",
		"    other: 10m\n",
		"      - \"*\"\n",
		"types: [schema, full, incremental]\n",
		"      mbps: 0\n",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	// The destination has no password at all: nothing is invented.
	if strings.Count(plan, "  password:") != 1 {
		t.Errorf("unexpected password lines:\n%s", plan)
	}
}

// Whatever is in a password field, only a ${NAME} reference is ever shown.
func TestRedactedNeverShowsSecrets(t *testing.T) {
	s := &Spec{
		Name:        "x",
		Source:      Endpoint{Host: "h", User: "u", Password: "hunter2"},
		Destination: Endpoint{Host: "h", User: "u", Password: "${DST_PASSWORD}", PasswordFile: "/run/pw"},
	}
	plan := s.Redacted()
	if strings.Contains(plan, "hunter2") {
		t.Fatalf("the plan shows a literal password:\n%s", plan)
	}
	for _, want := range []string{"password: <redacted>", "password: ${DST_PASSWORD}", "password_file: /run/pw"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if s.Source.Port != 0 {
		t.Errorf("Redacted changed the spec")
	}
}

// The spec is the workflow input: it must survive Temporal's JSON payload converter.
func TestJSONRoundTrip(t *testing.T) {
	s1, err := Parse("t.yaml", []byte(fullExample))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s1)
	if err != nil {
		t.Fatal(err)
	}
	var s2 Spec
	if err := json.Unmarshal(b, &s2); err != nil {
		t.Fatal(err)
	}
	// Everything survives, expression positions included.
	a := *s1
	a.File, a.pos = "", nil
	s2.File = ""
	if len(a.Objects[0].Tables[1].ExprLines) != 2 || !reflect.DeepEqual(a, s2) {
		t.Errorf("JSON round trip differs:\n%+v\n%+v\n%s", a, s2, b)
	}
	if strings.Contains(string(b), "pos") {
		t.Errorf("positions leaked into JSON: %s", b)
	}
}

func TestWorkflowID(t *testing.T) {
	if got := (&Spec{Name: "shop-demo"}).WorkflowID(); got != "sluice-shop-demo" {
		t.Errorf("WorkflowID = %q", got)
	}
}

// Names that are awkward in YAML survive the rendered plan.
func TestRedactedOddNames(t *testing.T) {
	src := withTables("      - {name: \"a,b\", exclude_columns: [\"x,y\", \"[z\", \"yes\", \"007\", \"é t\", \"q\\\"\"], operations: [insert]}\n      - \"*\"\n")
	src = strings.Replace(src, "    tables:\n", "    exclude_tables: [\"tmp,*\", \"#x\"]\n    tables:\n", 1)
	s1, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plan := s1.Redacted()
	s2, err := Parse("plan.yaml", []byte(plan))
	if err != nil {
		t.Fatalf("%v\n%s", err, plan)
	}
	if a, b := comparable(s1), comparable(s2); !reflect.DeepEqual(a, b) {
		t.Errorf("round trip differs:\n%+v\n%+v\n%s", a.Objects, b.Objects, plan)
	}
}
