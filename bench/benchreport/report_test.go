package benchreport

import "testing"

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
