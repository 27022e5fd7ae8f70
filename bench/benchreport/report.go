// Package benchreport holds what the benchmark programs (bench/fullbench,
// incbench, verifybench) print alike: per-table states compared between two
// servers, CPU figures, counts with thousands separators.
package benchreport

import (
	"fmt"
	"sort"
	"strings"
)

// TableState is what a correct copy must reproduce of one table: its exact row
// count and the server's own checksum (CHECKSUM TABLE: computed from the
// stored rows, independently of any tool).
type TableState struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// CompareStates lists every difference between two servers' tables.
func CompareStates(src, dst []TableState) []string {
	byName := map[string]TableState{}
	for _, t := range dst {
		byName[t.Table] = t
	}
	var diffs []string
	for _, s := range src {
		d, ok := byName[s.Table]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing on the destination", s.Table))
			continue
		}
		delete(byName, s.Table)
		if d.Rows != s.Rows {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows on the destination, %d on the source", s.Table, d.Rows, s.Rows))
		}
		if d.Checksum != s.Checksum {
			diffs = append(diffs, fmt.Sprintf("%s: checksum %s on the destination, %s on the source", s.Table, d.Checksum, s.Checksum))
		}
	}
	var extra []string
	for name := range byName {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		diffs = append(diffs, fmt.Sprintf("%s: on the destination only", name))
	}
	return diffs
}

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
