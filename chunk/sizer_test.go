package chunk

import (
	"testing"
	"time"
)

func TestSizerGrowsAtMostOneAndAHalf(t *testing.T) {
	s := NewSizer(SizerOptions{Initial: 1000, MaxRows: 1 << 30})
	prev := s.Rows()
	for i := 0; i < 10; i++ {
		s.Observe(prev, int64(prev)*10, time.Millisecond) // 1000× faster than target
		got := s.Rows()
		if got > int(float64(prev)*Growth) || got <= prev {
			t.Fatalf("step %d: %d -> %d, want growth in (1, %.1f]", i, prev, got, Growth)
		}
		prev = got
	}
	want := 1000
	for i := 0; i < 10; i++ {
		want = int(float64(want) * Growth)
	}
	if prev != want {
		t.Fatalf("after 10 fast batches: %d rows, want %d (full 1.5× each time)", prev, want)
	}
}

func TestSizerShrinksOnSlowBatch(t *testing.T) {
	s := NewSizer(SizerOptions{Initial: 1000})
	s.Observe(1000, 1000, 4*time.Second)
	if s.Rows() != 250 {
		t.Fatalf("after 1000 rows in 4s (target 1s): %d, want 250", s.Rows())
	}
	s.Observe(250, 250, time.Second)
	if s.Rows() != 250 {
		t.Fatalf("on target: %d, want 250 kept", s.Rows())
	}
}

func TestSizerTargetOption(t *testing.T) {
	s := NewSizer(SizerOptions{Initial: 1000, Target: 200 * time.Millisecond})
	s.Observe(1000, 1000, time.Second)
	if s.Rows() != 200 {
		t.Fatalf("rate 1000/s, target 200ms: %d, want 200", s.Rows())
	}
}

func TestSizerPartialBatchUsesRate(t *testing.T) {
	// The end of a range returns fewer rows than asked: the rate still counts,
	// and growth is capped relative to the size asked for.
	s := NewSizer(SizerOptions{Initial: 1000})
	s.Observe(10, 100, 5*time.Millisecond) // 2000 rows/s
	if s.Rows() != 1500 {
		t.Fatalf("got %d, want 1500 (cap 1.5× of 1000)", s.Rows())
	}
	s.Observe(10, 100, 100*time.Millisecond) // 100 rows/s
	if s.Rows() != 100 {
		t.Fatalf("got %d, want 100 (= MinRows and rate)", s.Rows())
	}
}

func TestSizerRowBounds(t *testing.T) {
	s := NewSizer(SizerOptions{Initial: 50, MinRows: 100, MaxRows: 2000})
	if s.Rows() != 100 {
		t.Fatalf("initial below MinRows: %d", s.Rows())
	}
	for i := 0; i < 20; i++ {
		s.Observe(s.Rows(), 0, time.Microsecond)
	}
	if s.Rows() != 2000 {
		t.Fatalf("MaxRows: %d", s.Rows())
	}
	s.Observe(2000, 0, time.Hour)
	if s.Rows() != 100 {
		t.Fatalf("MinRows: %d", s.Rows())
	}
	s.Observe(0, 0, time.Hour) // an empty batch says nothing
	if s.Rows() != 100 {
		t.Fatalf("empty batch changed the size: %d", s.Rows())
	}
}

func TestSizerBytesBound(t *testing.T) {
	s := NewSizer(SizerOptions{Initial: 1000, MinRows: 100, MaxBytes: 16 << 20, AvgRowLength: 1 << 20})
	if s.Rows() != 16 {
		t.Fatalf("1 MiB rows, 16 MiB per batch: %d rows, want 16 (bytes win over MinRows)", s.Rows())
	}
	s.Observe(16, 16*(4<<20), time.Millisecond) // rows turn out 4 MiB: average 2.5 MiB
	if s.Rows() != 6 {
		t.Fatalf("after 4 MiB rows: %d, want 6", s.Rows())
	}
	huge := NewSizer(SizerOptions{MaxBytes: 1 << 20, AvgRowLength: 64 << 20})
	if huge.Rows() != 1 {
		t.Fatalf("rows larger than MaxBytes: %d, want 1", huge.Rows())
	}
	small := NewSizer(SizerOptions{Initial: 1000})
	small.Observe(1000, 100*1000, time.Second)
	if small.Rows() != 1000 {
		t.Fatalf("100-byte rows on target: %d", small.Rows())
	}
}
