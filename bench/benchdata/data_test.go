package benchdata

import (
	"strings"
	"testing"
)

func TestCompareStates(t *testing.T) {
	src := []TableState{{"a", 10, "111"}, {"b", 5, "222"}, {"c", 1, "333"}}
	if d := CompareStates(src, src); len(d) != 0 {
		t.Fatalf("equal states: %v", d)
	}
	dst := []TableState{{"a", 9, "111"}, {"b", 5, "999"}, {"z", 1, "1"}, {"y", 1, "1"}}
	want := "a: 9 rows on the destination, 10 on the source\nb: checksum 999 on the destination, 222 on the source\nc: missing on the destination\ny: on the destination only\nz: on the destination only"
	if got := strings.Join(CompareStates(src, dst), "\n"); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
