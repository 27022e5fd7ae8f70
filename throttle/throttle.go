// Package throttle paces the data paths: the full copy's reads and the
// incremental applier's writes. A TokenBucket holds the limits (statements,
// rows, bytes per second) and a pause; both change at runtime (sluice throttle,
// pause, resume) and wake the waiters.
package throttle

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limiter paces a data path. The full copy calls Wait once after every SELECT
// it ran on the source, with the rows and bytes that statement returned, before
// writing them (a streamed read once per batch); the applier once per epoch,
// before applying it.
type Limiter interface {
	Wait(ctx context.Context, rows, bytes int) error
}

// Limits are the throttle limits; 0 means unlimited.
type Limits struct {
	SourceQPS  float64 // SELECT statements per second on the source
	RowsPerSec float64 // rows read per second
	MBPerSec   float64 // megabytes (10^6 bytes) of values read per second
}

// clock is time for the TokenBucket; tests use a fake one.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TokenBucket is a Limiter with one token bucket per limit (statements, rows,
// bytes), each refilled at its rate and holding at most one second of it (the
// burst). Wait blocks until every limited bucket holds the call's cost (or a full
// burst, for a cost larger than the burst), then takes the whole cost: a bucket
// may go negative after a large page, and later callers repay that debt. So over
// any interval T the callers get at most burst + rate×T + one page.
//
// SetLimits changes the limits at runtime (the control issue's throttle changes)
// and wakes every waiter to re-evaluate under the new limits; a debt is kept in
// units (rows, bytes) and repaid at the new rate. Safe for concurrent use: one
// TokenBucket can pace every chunk of a migration running in a worker.
type TokenBucket struct {
	mu      sync.Mutex
	clk     clock
	buckets [3]bucket     // statements, rows, bytes
	paused  bool          // Wait blocks until resumed
	changed chan struct{} // closed and replaced by SetLimits and SetPaused
}

type bucket struct {
	rate   float64 // units per second; 0 = unlimited
	tokens float64
	last   time.Time
}

// NewTokenBucket returns a TokenBucket with limits l (buckets start full).
func NewTokenBucket(l Limits) *TokenBucket { return newTokenBucket(l, realClock{}) }

func newTokenBucket(l Limits, clk clock) *TokenBucket {
	tb := &TokenBucket{clk: clk, changed: make(chan struct{})}
	tb.setLocked(l)
	return tb
}

// SetLimits replaces the limits.
func (tb *TokenBucket) SetLimits(l Limits) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.setLocked(l)
	close(tb.changed)
	tb.changed = make(chan struct{})
}

// SetPaused pauses (every Wait blocks, however the limits stand) or resumes.
func (tb *TokenBucket) SetPaused(p bool) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.paused == p {
		return
	}
	tb.paused = p
	close(tb.changed)
	tb.changed = make(chan struct{})
}

// Paused reports whether the bucket is paused.
func (tb *TokenBucket) Paused() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.paused
}

// Limits returns the current limits.
func (tb *TokenBucket) Limits() Limits {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return Limits{SourceQPS: tb.buckets[0].rate, RowsPerSec: tb.buckets[1].rate, MBPerSec: tb.buckets[2].rate / 1e6}
}

func (tb *TokenBucket) setLocked(l Limits) {
	now := tb.clk.Now()
	rates := [3]float64{l.SourceQPS, l.RowsPerSec, l.MBPerSec * 1e6}
	for i := range tb.buckets {
		b := &tb.buckets[i]
		r := rates[i]
		if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			r = 0
		}
		b.refill(now)
		switch {
		case r == 0:
			b.tokens = 0
		case b.rate == 0:
			b.tokens = r // newly limited: start with a full burst
		default:
			b.tokens = min(b.tokens, r) // a debt (negative) is kept
		}
		b.rate, b.last = r, now
	}
}

func (b *bucket) refill(now time.Time) {
	if b.rate > 0 {
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(b.rate, b.tokens+b.rate*d.Seconds()) // burst = 1 s of rate
		}
	}
	b.last = now
}

// tolerance absorbs float rounding between the computed sleep and the refill.
const tolerance = 1e-6

// Wait blocks until the limits allow one statement returning rows rows and bytes
// bytes, or ctx ends (its error is returned).
func (tb *TokenBucket) Wait(ctx context.Context, rows, bytes int) error {
	costs := [3]float64{1, float64(max(rows, 0)), float64(max(bytes, 0))}
	for {
		tb.mu.Lock()
		if tb.paused {
			changed := tb.changed
			tb.mu.Unlock()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-changed:
			}
			continue
		}
		now := tb.clk.Now()
		var wait time.Duration
		for i := range tb.buckets {
			b := &tb.buckets[i]
			b.refill(now)
			if b.rate == 0 {
				continue
			}
			need := min(costs[i], b.rate)
			if short := need - b.tokens; short > tolerance {
				d := time.Duration(math.Ceil(short / b.rate * float64(time.Second)))
				wait = max(wait, d)
			}
		}
		if wait == 0 {
			for i := range tb.buckets {
				if tb.buckets[i].rate > 0 {
					tb.buckets[i].tokens -= costs[i]
				}
			}
			tb.mu.Unlock()
			return nil
		}
		changed := tb.changed
		tb.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-tb.clk.After(wait):
		}
	}
}

// Unlimited is the Limiter of no limits.
type Unlimited struct{}

// Wait returns at once (ctx's error if it ended).
func (Unlimited) Wait(ctx context.Context, _, _ int) error { return ctx.Err() }

// Pager is a Limiter that says how large one call should be for the pacing to
// stay smooth: a page (or epoch) worth several seconds of the budget makes the
// rate a staircase, the copy standing still while its debt is repaid.
type Pager interface {
	// PageRows is the most rows one Wait should cover (0: no cap), for rows of
	// avgRowBytes bytes on average (0: unknown).
	PageRows(avgRowBytes float64) int
}

// pageFraction: a page costs at most 1/pageFraction of a second's budget, so
// several chunks sharing a bucket still move in small steps.
const pageFraction = 8

// PageRows implements Pager.
func (tb *TokenBucket) PageRows(avgRowBytes float64) int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	n := math.Inf(1)
	if r := tb.buckets[1].rate; r > 0 {
		n = r / pageFraction
	}
	if r := tb.buckets[2].rate; r > 0 && avgRowBytes > 0 {
		n = min(n, r/avgRowBytes/pageFraction)
	}
	if math.IsInf(n, 1) {
		return 0
	}
	return max(1, int(n))
}
