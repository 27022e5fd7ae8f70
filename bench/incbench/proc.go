package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's utime/stime: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// selfName is this process in CPU figures: during sluice's catch-up it is the
// applier and the binlog reader (nothing else of the benchmark runs then).
const selfName = "incbench (sluice)"

// otherCPU is the machine's busy time not used by the measured processes.
const otherCPU = "other (rest of the machine)"

// parseStatusKB extracts a "Name:  123 kB" line of /proc/PID/status or
// /proc/meminfo, in bytes.
func parseStatusKB(status, name string) (int64, error) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", name, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s line %q: %w", name, line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", name)
}

// cpuTime is the user+system CPU time a running process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat, counted
// after the last ')' since the command name may hold spaces and parentheses.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the name", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// serverPID is the pid of a testenv mariadbd, from the pid file in its directory.
func serverPID(s *testenv.Server) (int, error) {
	b, err := os.ReadFile(s.Dir + "/mariadbd.pid")
	if err != nil {
		return 0, fmt.Errorf("%s: pid file: %w", s.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: pid file: %w", s.Name, err)
	}
	return pid, nil
}

// machineBusy is the CPU time the whole machine has used (/proc/stat's cpu line
// less idle and iowait).
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected first line of /proc/stat: %q", line)
	}
	var ticks int64
	// user nice system idle iowait irq softirq steal: skip idle (4) and iowait (5).
	for i, s := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// cpuMeter measures the CPU used by named processes between start and stop,
// and the machine's busy time beyond them.
type cpuMeter struct {
	names   []string
	pids    []int
	before  []time.Duration
	machine time.Duration
}

func (b *bench) meter() *cpuMeter {
	m := &cpuMeter{}
	m.add(selfName, os.Getpid())
	for _, s := range b.servers() {
		m.add(s.Name, b.pids[s.Name])
	}
	return m
}

func (m *cpuMeter) add(name string, pid int) {
	if pid == 0 {
		return
	}
	m.names = append(m.names, name)
	m.pids = append(m.pids, pid)
}

func (m *cpuMeter) start() {
	m.machine, _ = machineBusy()
	m.before = make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		m.before[i], _ = cpuTime(pid)
	}
}

// stop returns the CPU seconds of each process since start, and under otherCPU
// the rest of the machine's (never below 0: tick rounding).
func (m *cpuMeter) stop() map[string]float64 {
	out := map[string]float64{}
	total := 0.0
	for i, pid := range m.pids {
		after, err := cpuTime(pid)
		if err != nil {
			continue
		}
		out[m.names[i]] = (after - m.before[i]).Seconds()
		total += out[m.names[i]]
	}
	if after, err := machineBusy(); err == nil && m.machine > 0 {
		out[otherCPU] = max((after-m.machine).Seconds()-total, 0)
	}
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
				if rss, err := parseStatusKB(string(b), "VmRSS:"); err == nil && rss > s.peak {
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

// tail returns the last n lines of a file ("" when unreadable).
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 256 * 1024
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
