package chunk

import (
	"math"
	"time"
)

// SizerOptions bound a Sizer. Zero values take the defaults.
type SizerOptions struct {
	Target   time.Duration // time aimed at per batch; default 1s
	Initial  int           // rows of the first batch; default 1000 (then clamped)
	MinRows  int           // default 100
	MaxRows  int           // default 100000
	MaxBytes int64         // per batch; default 16 MiB
	// AvgRowLength seeds the bytes bound before the first batch is measured
	// (information_schema AVG_ROW_LENGTH, see Estimate); 0 = unknown.
	AvgRowLength int64
}

// Sizer picks the row limit of the next batch so a batch takes about Target:
// it grows by at most 1.5× per batch (a fast batch may be luck, and a big jump
// risks a batch far over target), shrinks at once to the measured rate on a slow
// batch (a chunk activity must keep heartbeating), and stays within
// MinRows..MaxRows and under MaxBytes at the average row length seen so far
// (bytes win over MinRows, down to one row: memory is the hard bound).
// One Sizer per reading loop; it is not safe for concurrent use.
type Sizer struct {
	opts   SizerOptions
	rows   int
	avgRow float64 // bytes per row, smoothed
}

// Growth is the largest factor between two consecutive batch sizes.
const Growth = 1.5

// NewSizer returns a Sizer with opts' zero values defaulted.
func NewSizer(opts SizerOptions) *Sizer {
	if opts.Target <= 0 {
		opts.Target = time.Second
	}
	if opts.MinRows < 1 {
		opts.MinRows = 100
	}
	if opts.MaxRows < 1 {
		opts.MaxRows = 100000
	}
	if opts.MaxRows < opts.MinRows {
		opts.MaxRows = opts.MinRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 16 << 20
	}
	if opts.Initial < 1 {
		opts.Initial = 1000
	}
	s := &Sizer{opts: opts, avgRow: float64(opts.AvgRowLength)}
	s.rows = s.clamp(float64(opts.Initial))
	return s
}

// Rows is the limit for the next batch.
func (s *Sizer) Rows() int { return s.rows }

// Observe records a finished batch: rows read, their bytes, and how long the
// batch took (read and write, whatever the caller wants to pace).
func (s *Sizer) Observe(rows int, bytes int64, took time.Duration) {
	if rows <= 0 {
		return
	}
	per := float64(bytes) / float64(rows)
	if s.avgRow == 0 {
		s.avgRow = per
	} else {
		s.avgRow = 0.5*s.avgRow + 0.5*per
	}
	ideal := math.Inf(1)
	if took > 0 {
		ideal = float64(rows) * float64(s.opts.Target) / float64(took)
	}
	if limit := float64(s.rows) * Growth; ideal > limit {
		ideal = limit
	}
	s.rows = s.clamp(ideal)
}

func (s *Sizer) clamp(n float64) int {
	n = min(max(n, float64(s.opts.MinRows)), float64(s.opts.MaxRows))
	// Memory first: the bytes bound wins over MinRows (down to one row).
	if s.avgRow > 0 {
		n = min(n, float64(s.opts.MaxBytes)/s.avgRow)
	}
	return max(int(n), 1)
}
