package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sluice-dev/sluice/bench/benchproc"
)

// otherCPU names the machine's busy time not used by the measured processes (the
// tools' own CPU comes from rusage and is subtracted by the report).
const otherCPU = "other (rest of the machine)"

// rssSample is one reading of a process's resident set.
type rssSample struct {
	at  time.Time
	rss int64
}

// rssSampler reads VmRSS of a process periodically, to tell which part of a run
// drove the peak (VmHWM alone says only how high it went).
type rssSampler struct {
	samples []rssSample
	stop    chan struct{}
	done    chan struct{}
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				if rss, err := benchproc.ParseStatusKB(string(b), "VmRSS:"); err == nil {
					s.samples = append(s.samples, rssSample{time.Now(), rss})
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

// finish stops sampling and returns the samples (safe to read afterwards).
func (s *rssSampler) finish() []rssSample {
	close(s.stop)
	<-s.done
	return s.samples
}

// maxRSS is the highest sample in [from, to] (0 when none falls inside).
func maxRSS(samples []rssSample, from, to time.Time) int64 {
	var m int64
	for _, x := range samples {
		if !x.at.Before(from) && !x.at.After(to) && x.rss > m {
			m = x.rss
		}
	}
	return m
}
