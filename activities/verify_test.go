package activities

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/verify"
	"github.com/sluice-dev/sluice/workflows"
)

// The unlocked recheck keeps a row found both times by kind and key, whatever
// columns differed each time (a row the application keeps changing).
func TestIntersectByKindAndKey(t *testing.T) {
	first := []verify.Difference{
		{Kind: verify.Different, Key: "id=1", Columns: []string{"a"}},
		{Kind: verify.Missing, Key: "id=2"},
		{Kind: verify.Extra, Key: "id=3"},
	}
	again := []verify.Difference{
		{Kind: verify.Different, Key: "id=1", Columns: []string{"b"}},
		{Kind: verify.Different, Key: "id=2", Columns: []string{"a"}}, // another kind now
		{Kind: verify.Extra, Key: "id=4"},                             // new: not settled twice
	}
	got := intersect(first, again)
	if len(got) != 1 || got[0].Key != "id=1" || got[0].Columns[0] != "a" {
		t.Fatalf("kept %+v", got)
	}
}

func TestTallyCountsAllReportsSome(t *testing.T) {
	var res workflows.VerifyRangeResult
	diffs := []verify.Difference{{Kind: verify.Missing, Key: "1"}, {Kind: verify.Extra, Key: "2"}, {Kind: verify.Different, Key: "3"}, {Kind: verify.Different, Key: "4"}}
	tally(&res, diffs, 2)
	if res.Missing != 1 || res.Extra != 1 || res.Different != 2 || len(res.Differences) != 2 || res.Differences[1].Key != "2" {
		t.Fatalf("%+v", res)
	}
}

// pace holds a range until its rows took rows/rps seconds (and not when no
// limit is set); a cancelled context ends the wait.
func TestPace(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	if err := pace(ctx, start, 100, 1000); err != nil || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("100 rows at 1000/s: returned after %s, %v", time.Since(start), err)
	}
	start = time.Now()
	if err := pace(ctx, start, 100, 0); err != nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("unlimited: waited %s, %v", time.Since(start), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := pace(cctx, time.Now(), 1000, 1); err == nil {
		t.Fatal("a cancelled wait must return its error")
	}
}
