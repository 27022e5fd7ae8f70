package copier

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/chunk"
)

// peakHeap runs f while sampling the Go heap every millisecond and returns the
// highest heap in use above the level before f.
func peakHeap(t *testing.T, f func()) uint64 {
	t.Helper()
	// A low soft limit makes the GC keep the heap near what is live, so the peak
	// measures what the copy holds rather than garbage not yet collected.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(24 << 20))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				mu.Lock()
				peak = max(peak, m.HeapAlloc)
				mu.Unlock()
			}
		}
	}()
	f()
	close(stop)
	<-done
	if peak < base {
		return 0
	}
	return peak - base
}

// TestBoundedMemory copies tables much larger than the memory bound: a skewed
// composite key (95% of the rows under one first-column value) and a table with no
// usable key (one streamed pass). The heap stays under a bound far below the
// table's size: pages are bounded by bytes whatever the key distribution.
func TestBoundedMemory(t *testing.T) {
	const rows = 20000 // × 4 KB = 80 MB per table
	p := setupPair(t, "copier_mem", []string{"skew", "nokey"},
		"CREATE TABLE skew (tag VARCHAR(10) NOT NULL, n INT NOT NULL, body BLOB, PRIMARY KEY (tag, n))",
		fmt.Sprintf("INSERT INTO skew SELECT IF(seq %% 20 = 0, CONCAT('t', seq %% 7), 'hot'), seq, REPEAT(CHAR(65 + seq %% 26), 4000) FROM seq_1_to_%d", rows),
		"CREATE TABLE nokey (n INT, body BLOB)",
		fmt.Sprintf("INSERT INTO nokey SELECT seq %% 100, REPEAT(CHAR(97 + seq %% 26), 4000) FROM seq_1_to_%d", rows))
	const bound = 40 << 20
	for _, tbl := range []string{"skew", "nokey"} {
		j := p.job(t, tbl)
		j.Sizer = chunk.SizerOptions{MaxBytes: 4 << 20}
		var err error
		peak := peakHeap(t, func() {
			_, err = CopyRange(context.Background(), p.src, p.dst, j, nil)
		})
		if err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		t.Logf("%s: peak heap %.1f MB for a %d MB table", tbl, float64(peak)/(1<<20), rows*4000>>20)
		if peak > bound {
			t.Errorf("%s: peak heap %.1f MB, bound %d MB", tbl, float64(peak)/(1<<20), bound>>20)
		}
		assertSame(t, p, tbl, rows)
	}
}
