package benchreport

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

func TestThousandsAndCPUText(t *testing.T) {
	for f, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.6: "1,234,568", 999999.5: "1,000,000"} {
		if got := Thousands(f); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", f, got, want)
		}
	}
	if got := CPUText(map[string]float64{"b": 1.25, "a": 2}); got != "a 2.0, b 1.2; total 3.2" {
		t.Errorf("CPUText: %q", got)
	}
}
