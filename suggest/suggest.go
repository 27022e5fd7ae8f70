// Package suggest finds the known word a user most likely meant, for "did you mean" hints.
package suggest

import (
	"fmt"
	"strings"
)

// Closest returns the candidate nearest to s, or "" when none is close enough to be
// a plausible typo. Case, '-' versus '_' and a transposed pair count as small slips.
func Closest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(x), "-", "_") }
	ns := norm(s)
	best, bestD := "", -1
	for _, c := range candidates {
		d := EditDistance(ns, norm(c))
		if d < bestD || bestD < 0 {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > maxSlips(len([]rune(s))) {
		return ""
	}
	return best
}

// maxSlips allows more typos in longer words: one in "hots", two in "conflict".
func maxSlips(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 12:
		return 2
	default:
		return 3
	}
}

// EditDistance is the optimal-string-alignment distance: insertions, deletions,
// substitutions and transpositions of adjacent characters each cost one.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// DidYouMean is the message tail for a bad value among known ones.
func DidYouMean(s string, known []string) string {
	if c := Closest(s, known); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

// OneOf renders "a, b or c" for messages.
func OneOf(known []string) string {
	switch len(known) {
	case 0:
		return ""
	case 1:
		return known[0]
	}
	return strings.Join(known[:len(known)-1], ", ") + " or " + known[len(known)-1]
}
