package throttle

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock: After advances the clock by d at once (a sequential caller "sleeps"
// in zero real time), or, when manual, never fires.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	manual bool
	slept  int
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept++
	if c.manual {
		return nil
	}
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) elapsed(since time.Time) time.Duration { return c.Now().Sub(since) }

func within(t *testing.T, what string, got, want, tol time.Duration) {
	t.Helper()
	if got < want-tol || got > want+tol {
		t.Fatalf("%s: elapsed %v, want %v ± %v", what, got, want, tol)
	}
}

func TestTokenBucketRowsPerSecond(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	tb := newTokenBucket(Limits{RowsPerSec: 1000}, clk)
	start := clk.Now()
	for range 100 {
		if err := tb.Wait(ctx, 100, 0); err != nil {
			t.Fatal(err)
		}
	}
	// 10000 rows at 1000 rows/s with a full 1 s bucket at the start: 9 s.
	within(t, "10000 rows at 1000/s", clk.elapsed(start), 9*time.Second, time.Millisecond)
}

func TestTokenBucketQPSAndBytes(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	tb := newTokenBucket(Limits{SourceQPS: 10}, clk)
	start := clk.Now()
	for range 50 {
		if err := tb.Wait(ctx, 1_000_000, 1<<30); err != nil { // rows and bytes unlimited
			t.Fatal(err)
		}
	}
	within(t, "50 statements at 10/s", clk.elapsed(start), 4*time.Second, time.Millisecond)

	clk = newFakeClock()
	tb = newTokenBucket(Limits{MBPerSec: 1, RowsPerSec: 1e9}, clk)
	start = clk.Now()
	for range 30 {
		if err := tb.Wait(ctx, 10, 100_000); err != nil {
			t.Fatal(err)
		}
	}
	within(t, "3 MB at 1 MB/s", clk.elapsed(start), 2*time.Second, time.Millisecond)

	// The most restrictive limit wins: 20 statements of 500 rows, 100/s vs 1000 rows/s.
	clk = newFakeClock()
	tb = newTokenBucket(Limits{SourceQPS: 100, RowsPerSec: 1000}, clk)
	start = clk.Now()
	for range 20 {
		if err := tb.Wait(ctx, 500, 0); err != nil {
			t.Fatal(err)
		}
	}
	within(t, "10000 rows at 1000/s under 100 qps", clk.elapsed(start), 9*time.Second, time.Millisecond)
}

func TestTokenBucketLargeCostIsDebt(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	tb := newTokenBucket(Limits{RowsPerSec: 100}, clk)
	start := clk.Now()
	// A page bigger than the burst passes once the bucket is full...
	if err := tb.Wait(ctx, 1000, 0); err != nil {
		t.Fatal(err)
	}
	within(t, "first oversized page", clk.elapsed(start), 0, 0)
	// ...and the next caller repays it: 900 rows of debt + 1 row at 100/s.
	if err := tb.Wait(ctx, 1, 0); err != nil {
		t.Fatal(err)
	}
	within(t, "after a 900-row debt", clk.elapsed(start), 9010*time.Millisecond, time.Millisecond)
}

func TestTokenBucketUnlimited(t *testing.T) {
	clk := newFakeClock()
	tb := newTokenBucket(Limits{}, clk)
	for range 1000 {
		if err := tb.Wait(context.Background(), 1e9, 1e9); err != nil {
			t.Fatal(err)
		}
	}
	if clk.slept != 0 {
		t.Fatalf("unlimited bucket slept %d times", clk.slept)
	}
}

func TestTokenBucketSetLimits(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	tb := newTokenBucket(Limits{RowsPerSec: 1000}, clk)
	start := clk.Now()
	if err := tb.Wait(ctx, 1000, 0); err != nil { // empties the bucket
		t.Fatal(err)
	}
	tb.SetLimits(Limits{RowsPerSec: 100})
	if got := tb.Limits(); got.RowsPerSec != 100 {
		t.Fatalf("Limits() = %+v", got)
	}
	if err := tb.Wait(ctx, 100, 0); err != nil {
		t.Fatal(err)
	}
	within(t, "100 rows at the lowered 100/s", clk.elapsed(start), time.Second, time.Millisecond)

	// A waiter blocked under a tiny limit is released when the limit is lifted.
	clk.mu.Lock()
	clk.manual = true
	clk.mu.Unlock()
	tb.SetLimits(Limits{})
	tb.SetLimits(Limits{RowsPerSec: 1})        // newly limited: a full 1-row burst
	if err := tb.Wait(ctx, 1, 0); err != nil { // takes it
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tb.Wait(ctx, 1000, 0) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v without tokens", err)
	case <-time.After(50 * time.Millisecond):
	}
	tb.SetLimits(Limits{})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SetLimits(unlimited) did not release the waiter")
	}

	// A cancelled context ends a wait.
	tb.SetLimits(Limits{RowsPerSec: 1})
	_ = tb.Wait(ctx, 1, 0)
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := tb.Wait(cctx, 10, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v", err)
	}
}

// Concurrent callers under a real clock and changing limits (run with -race).
func TestTokenBucketConcurrent(t *testing.T) {
	tb := NewTokenBucket(Limits{RowsPerSec: 1e6, SourceQPS: 1e5})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := tb.Wait(context.Background(), 10, 100); err != nil {
					t.Error(err)
					return
				}
				if g == 0 && i%20 == 0 {
					tb.SetLimits(Limits{RowsPerSec: 1e6 + float64(i), MBPerSec: 100})
				}
			}
		}()
	}
	wg.Wait()
}

// A paused bucket blocks every Wait, unlimited or not, until resumed; a Wait
// blocked by the pause returns when ctx ends.
func TestPause(t *testing.T) {
	for _, l := range []Limits{{}, {RowsPerSec: 1e6}} {
		tb := NewTokenBucket(l)
		tb.SetPaused(true)
		done := make(chan error, 1)
		go func() { done <- tb.Wait(context.Background(), 10, 10) }()
		select {
		case err := <-done:
			t.Fatalf("%+v: Wait returned while paused: %v", l, err)
		case <-time.After(50 * time.Millisecond):
		}
		tb.SetPaused(false)
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Second):
			t.Fatalf("%+v: Wait still blocked after resume", l)
		}
	}
	tb := NewTokenBucket(Limits{})
	tb.SetPaused(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tb.Wait(ctx, 1, 1); !errors.Is(err, context.DeadlineExceeded) || !tb.Paused() {
		t.Errorf("paused Wait with an ending ctx: %v", err)
	}
}

func TestPageRows(t *testing.T) {
	tb := NewTokenBucket(Limits{})
	if n := tb.PageRows(100); n != 0 {
		t.Fatalf("unlimited: PageRows = %d, want 0 (no cap)", n)
	}
	tb.SetLimits(Limits{RowsPerSec: 800})
	if n := tb.PageRows(0); n != 100 {
		t.Fatalf("800 rows/s: PageRows = %d, want 100", n)
	}
	// 1 MB/s of 1000-byte rows is 1000 rows/s: the tighter rows limit wins, then the bytes.
	tb.SetLimits(Limits{RowsPerSec: 800, MBPerSec: 1})
	if n := tb.PageRows(1000); n != 100 {
		t.Fatalf("800 rows/s and 1 MB/s of 1 kB rows: PageRows = %d, want 100", n)
	}
	tb.SetLimits(Limits{MBPerSec: 0.4})
	if n := tb.PageRows(1000); n != 50 {
		t.Fatalf("0.4 MB/s of 1 kB rows: PageRows = %d, want 50", n)
	}
	tb.SetLimits(Limits{RowsPerSec: 2})
	if n := tb.PageRows(0); n != 1 {
		t.Fatalf("2 rows/s: PageRows = %d, want at least 1", n)
	}
}
