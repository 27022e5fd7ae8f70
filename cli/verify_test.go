package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/workflows"
)

func TestVerifyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"verify"},
		{"verify", "a", "b"},
		{"verify", "a", "-f", "x.yaml"},
		{"verify", "a", "--max-diffs", "0"},
		{"verify", "a", "--chunk-rows", "0"},
		{"verify", "a", "--parallel", "999"},
		{"verify", "a", "--rps", "-1"},
	} {
		if code, _, errOut := run(args...); code != ExitUsage || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
}

func TestPrintVerify(t *testing.T) {
	var b bytes.Buffer
	printVerify(&b, workflows.VerifyReport{Rows: 30, Differences: 2, Tables: []workflows.TableVerify{
		{Table: "table `a`.`t`", Rows: 10, Chunks: 3, ChunksDone: 3, ChunksDiffer: 1, Missing: 1, Different: 1, Repaired: 1, Rechecks: 2, Unsettled: 1,
			Differences: []workflows.Difference{{Kind: "different", Key: "id=2", Columns: []string{"v"}}, {Kind: "missing", Key: "id=9"}, {Kind: "extra", Key: "id=10", Repaired: true}}},
		{Table: "table `a`.`w`", Rows: 20, Whole: true},
		{Table: "table `a`.`f`", InGo: true, Failed: "part 1: boom"},
	}})
	out := b.String()
	for _, want := range []string{
		"table `a`.`t`  10    3       1       1        0      1          1         checksums, 2 recheck(s) after replication caught up, 1 part(s) UNSETTLED",
		"CHECKSUM TABLE (same definitions)", "FAILED: part 1: boom",
		"  different id=2 columns [v]\n  missing id=9\n  extra id=10 (repaired)",
		"DIFFERENT: 2 row(s) differ of 30 compared",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
