// Package precheck holds the precheck report (shared by activities, workflows and the
// CLI) and the pure rules that turn inspected server facts into report items.
// It imports no database driver: workflow code uses its types.
package precheck

import "slices"

type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Item is one line of the report. ID is stable (users list it in options.ignore_warnings).
type Item struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
	// Details are lines shown under the item (one problem each, with the place
	// in the workflow file and a caret under the column).
	Details []string `json:"details,omitempty"`
}

// Report is what the precheck phase returns.
type Report struct {
	Items []Item `json:"items"`
}

// SuccessRate is the share of items that passed, in percent.
func (r Report) SuccessRate() float64 {
	if len(r.Items) == 0 {
		return 100
	}
	n := 0
	for _, it := range r.Items {
		if it.Status == Pass {
			n++
		}
	}
	return 100 * float64(n) / float64(len(r.Items))
}

// Blocking lists the items that stop the workflow: every fail, and every warning
// whose ID is not in ignore.
func (r Report) Blocking(ignore []string) []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Status == Fail || (it.Status == Warn && !slices.Contains(ignore, it.ID)) {
			out = append(out, it)
		}
	}
	return out
}
