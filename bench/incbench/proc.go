package main

import (
	"os"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/bench/benchproc"
)

// selfName is this process in CPU figures: during sluice's catch-up it is the
// applier and the binlog reader (nothing else of the benchmark runs then).
const selfName = "incbench (sluice)"

// otherCPU is the machine's busy time not used by the measured processes.
const otherCPU = "other (rest of the machine)"

// cpuMeter measures this process's and the servers' CPU between start and
// stop, and the rest of the machine's.
type cpuMeter struct{ benchproc.Meter }

func (b *bench) meter() *cpuMeter {
	m := &cpuMeter{benchproc.Meter{Other: otherCPU}}
	m.Add(selfName, os.Getpid())
	for _, s := range b.servers() {
		m.Add(s.Name, b.pids[s.Name])
	}
	return m
}

func (m *cpuMeter) start() { m.Start() }

// stop returns the CPU seconds of each process since start, and under otherCPU
// the rest of the machine's (never below 0: tick rounding).
func (m *cpuMeter) stop() map[string]float64 {
	out := map[string]float64{}
	m.Stop(out)
	benchproc.SettleOther(out, otherCPU)
	return out
}

// selfMaxRSS is this process's peak resident set (getrusage ru_maxrss, kB on
// Linux), in bytes.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// rssSampler reads this process's VmRSS periodically, for the peak of one phase
// (ru_maxrss is the whole life's).
type rssSampler struct {
	peak int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile("/proc/self/status"); err == nil {
				if rss, err := benchproc.ParseStatusKB(string(b), "VmRSS:"); err == nil && rss > s.peak {
					s.peak = rss
				}
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// finish stops sampling and returns the highest VmRSS seen.
func (s *rssSampler) finish() int64 {
	close(s.stop)
	<-s.done
	return s.peak
}
