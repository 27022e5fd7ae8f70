// Package benchreport holds what the benchmark programs (bench/fullbench,
// incbench, verifybench) print alike: CPU figures, counts with thousands
// separators.
package benchreport

import (
	"fmt"
	"sort"
	"strings"
)

// CPUText is "name seconds, ...; total seconds", names sorted.
func CPUText(cpu map[string]float64) string {
	keys := make([]string, 0, len(cpu))
	for k := range cpu {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	total := 0.0
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, cpu[k]))
		total += cpu[k]
	}
	return fmt.Sprintf("%s; total %.1f", strings.Join(parts, ", "), total)
}

// Thousands rounds f and groups its digits by three: 1234567.6 is "1,234,568".
func Thousands(f float64) string {
	s := fmt.Sprintf("%d", int64(f+0.5))
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
