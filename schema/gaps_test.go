package schema

import (
	"slices"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/plan"
)

// A selected sequence is not migrated: ReadObjects lists it and leaves it out of
// Tables, so the phase never tries to create it as a table.
func TestSequencesNotMigrated(t *testing.T) {
	f := newFixture(t, "sch_seq")
	f.exec(f.env.Source, "CREATE SEQUENCE "+q(f.a)+".`seq-1`")
	f.resolve()
	seq := plan.Name{DB: f.a, Table: "seq-1"}
	inPlan := slices.ContainsFunc(f.plan.Tables, func(t plan.Table) bool { return t.Source == seq })
	if !inPlan {
		t.Fatalf("the sequence is not in the plan: the test proves nothing")
	}
	if slices.ContainsFunc(f.objs.Tables, func(t Table) bool { return t.Source == seq }) {
		t.Errorf("the sequence is among the tables to create: %+v", f.objs.Tables)
	}
	if !slices.Equal(f.objs.Sequences, []plan.Name{seq}) {
		t.Errorf("sequences = %v, want [%s]", f.objs.Sequences, seq)
	}
	f.applyAll(ConflictsPrecheck) // fails the test on any error
	if typ, err := destType(f.ctx, f.dst, plan.Name{DB: f.aDst, Table: "seq-1"}); err != nil || typ != "" {
		t.Errorf("the sequence reached the destination (%q, %v)", typ, err)
	}
}

// A routine body naming a renamed column unqualified cannot be rewritten: the
// rewrite's warning reaches the Result, and so does a trigger's.
func TestRoutineAndTriggerWarnings(t *testing.T) {
	f := newFixture(t, "sch_warn")
	A := q(f.a)
	f.exec(f.env.Source,
		"CREATE PROCEDURE "+A+".`p_warn`() SELECT `a``b` FROM `my-table`",
		"CREATE TRIGGER "+A+".`trg_warn` BEFORE UPDATE ON "+A+".`my-table` FOR EACH ROW SET @x = (SELECT MAX(`a``b`) FROM `my-table`)")
	f.resolve()
	for _, d := range f.objs.Databases {
		if _, err := ApplyDatabase(f.ctx, f.dst, d); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range f.objs.Routines {
		if r.Name != "p_warn" {
			continue
		}
		res, err := ApplyRoutine(f.ctx, f.src, f.dst, r, f.names)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Warnings...)
	}
	for _, tr := range f.objs.Triggers {
		if tr.Name != "trg_warn" {
			continue
		}
		for _, tb := range f.objs.Tables {
			if tb.Source.Table == "my-table" {
				if _, err := ApplyTable(f.ctx, f.src, f.dst, tb, f.names, TableOptions{Conflicts: ConflictsPrecheck}); err != nil {
					t.Fatal(err)
				}
			}
		}
		res, err := ApplyTrigger(f.ctx, f.src, f.dst, tr, f.names)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Warnings...)
	}
	if len(got) != 2 {
		t.Fatalf("warnings = %q, want one for the procedure and one for the trigger", got)
	}
	for i, who := range []string{"procedure " + A + ".`p_warn`", "trigger " + A + ".`trg_warn`"} {
		if !strings.Contains(got[i], who) || !strings.Contains(got[i], "renames to `ab`") {
			t.Errorf("warning %d = %q, want it to name %s and the rename", i, got[i], who)
		}
	}
}

// Trigger and routine bodies that use an excluded column are found before anything
// is written (the rewrite would refuse them half way through the phase).
func TestCheckExclusionsBodies(t *testing.T) {
	f := newFixture(t, "sch_exb")
	A := q(f.a)
	excluded := func(tb Table) bool { return tb.Source.Table == "my-table" }
	deps, err := CheckExclusions(f.ctx, f.src, f.objs, f.names, excluded)
	if err != nil || len(deps) != 0 {
		t.Fatalf("before: %q %v", deps, err)
	}
	f.exec(f.env.Source,
		"CREATE TRIGGER "+A+".`trg_secret` BEFORE INSERT ON "+A+".`my-table` FOR EACH ROW SET NEW.secret = 'x'",
		"CREATE PROCEDURE "+A+".`p_secret`() UPDATE `my-table` t SET t.secret = NULL")
	f.resolve()
	deps, err = CheckExclusions(f.ctx, f.src, f.objs, f.names, excluded)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(deps, "\n")
	for _, want := range []string{"trigger " + A + ".`trg_secret`", "procedure " + A + ".`p_secret`", "`secret` is excluded"} {
		if !strings.Contains(all, want) {
			t.Errorf("dependencies miss %q:\n%s", want, all)
		}
	}
}

// A table whose column default reads a sequence depends on it: sequences are not
// migrated, so CREATE TABLE would fail on the destination half way through the phase.
func TestSequenceDefaultIsADependency(t *testing.T) {
	f := newFixture(t, "sch_seqdef")
	f.exec(f.env.Source, "CREATE SEQUENCE "+q(f.a)+".`seq-2`",
		"CREATE TABLE "+q(f.a)+".`uses seq` (id INT PRIMARY KEY, n BIGINT DEFAULT NEXTVAL("+q(f.a)+".`seq-2`))")
	f.resolve()
	deps, err := f.objs.Dependencies(f.ctx, f.src, f.names)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range deps {
		if strings.Contains(d.Dependent, "`uses seq` (default of column `n`)") && d.Source == (plan.Name{DB: f.a, Table: "seq-2"}) && strings.Contains(d.Reason, "sequence") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the sequence default is not a dependency: %+v", deps)
	}
}

func TestSequenceRefs(t *testing.T) {
	for expr, want := range map[string][]plan.Name{
		"nextval(`db`.`s`)":            {{DB: "db", Table: "s"}},
		"nextval(`s-1`)":               {{DB: "here", Table: "s-1"}},
		"lastval(`a``b`.`x`) + 1":      {{DB: "a`b", Table: "x"}},
		"concat('nextval(`x`)', 'y')":  nil,
		"NEXTVAL(s) * 2 + nextval(t2)": {{DB: "here", Table: "s"}, {DB: "here", Table: "t2"}},
	} {
		if got := sequenceRefs("here", expr); !slices.Equal(got, want) {
			t.Errorf("sequenceRefs(%q) = %v, want %v", expr, got, want)
		}
	}
}
