package benchkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat and of
// /proc/stat. It is 100 on every Linux architecture Go supports (the kernel ABI
// fixes it; sysconf would need cgo).
const clockTicks = 100

// OtherCPU is the key under which CPUMeter.Stop records the machine's busy time and
// SettleOther leaves what the measured processes did not use: the rest of the machine.
const OtherCPU = "other (rest of the machine)"

// ParseStatusKB extracts a "Name:  123 kB" line (VmHWM:, VmRSS:, MemTotal:) of
// /proc/PID/status or /proc/meminfo, in bytes.
func ParseStatusKB(status, name string) (int64, error) {
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
	return 0, fmt.Errorf("no %s line in /proc status", name)
}

// CPUTime is the user+system CPU time a running process has used so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat. The command
// name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
func ParseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14 = f[11], stime field 15 = f[12].
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

// MachineBusy is the CPU time all processes of the machine have used (the "cpu" line
// of /proc/stat: everything but idle and iowait), to tell a run's load from others'.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return ParseProcStat(string(b))
}

// ParseProcStat reads the busy time of the first ("cpu") line of /proc/stat.
func ParseProcStat(stat string) (time.Duration, error) {
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

// ServerPID is the pid of a testenv mariadbd, from the pid file it writes in its
// directory (testenv keeps the process handle unexported).
func ServerPID(s *testenv.Server) (int, error) {
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

// CPUMeter measures the CPU used by named long-running processes between Start
// and Stop, and the machine's busy time in the same span. The zero value is ready.
type CPUMeter struct {
	names   []string
	pids    []int
	before  []time.Duration
	machine time.Duration
}

// Add registers a process; a pid of 0 (unknown) is skipped.
func (m *CPUMeter) Add(name string, pid int) {
	if pid == 0 {
		return
	}
	m.names = append(m.names, name)
	m.pids = append(m.pids, pid)
}

// Start reads every process's CPU time and the machine's busy time.
func (m *CPUMeter) Start() {
	m.machine, _ = MachineBusy()
	m.before = make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		m.before[i], _ = CPUTime(pid)
	}
}

// Stop records into the CPU seconds each process used since Start (left out when
// unreadable) and, under OtherCPU, the whole machine's busy time: the caller adds
// what else it measured (children's rusage) and then calls SettleOther.
func (m *CPUMeter) Stop(into map[string]float64) {
	if after, err := MachineBusy(); err == nil && m.machine > 0 {
		into[OtherCPU] = (after - m.machine).Seconds()
	}
	for i, pid := range m.pids {
		after, err := CPUTime(pid)
		if err != nil {
			continue
		}
		into[m.names[i]] = (after - m.before[i]).Seconds()
	}
}

// SettleOther turns the machine's busy time recorded under OtherCPU into what the
// other entries of cpu did not use (never below 0: tick rounding).
func SettleOther(cpu map[string]float64) {
	busy, ok := cpu[OtherCPU]
	if !ok {
		return
	}
	for k, v := range cpu {
		if k != OtherCPU {
			busy -= v
		}
	}
	cpu[OtherCPU] = max(busy, 0)
}

// RSSSample is one reading of a process's resident set.
type RSSSample struct {
	At  time.Time
	RSS int64
}

// RSSSampler reads VmRSS of a process periodically: the peak of one phase (VmHWM
// and ru_maxrss are the whole life's) and, when asked, every reading, to tell
// which part of a run drove the peak.
type RSSSampler struct {
	keep    bool
	peak    int64
	samples []RSSSample
	stop    chan struct{}
	done    chan struct{}
}

// SampleRSS starts sampling VmRSS of pid every interval until Finish. keep says
// whether to keep every sample; without it the sampler holds only the peak, so
// sampling its own process adds nothing to what it measures.
func SampleRSS(pid int, every time.Duration, keep bool) *RSSSampler {
	s := &RSSSampler{keep: keep, stop: make(chan struct{}), done: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				if rss, err := ParseStatusKB(string(b), "VmRSS:"); err == nil {
					s.peak = max(s.peak, rss)
					if s.keep {
						s.samples = append(s.samples, RSSSample{time.Now(), rss})
					}
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

// Finish stops sampling and returns the highest VmRSS seen and, when kept, every
// sample (safe to read afterwards).
func (s *RSSSampler) Finish() (peak int64, samples []RSSSample) {
	close(s.stop)
	<-s.done
	return s.peak, s.samples
}

// MaxRSS is the highest sample in [from, to] (0 when none falls inside).
func MaxRSS(samples []RSSSample, from, to time.Time) int64 {
	var m int64
	for _, x := range samples {
		if !x.At.Before(from) && !x.At.After(to) && x.RSS > m {
			m = x.RSS
		}
	}
	return m
}

// Tail returns the last n lines of a file ("" when unreadable), for error messages
// that quote a child's log.
func Tail(path string, n int) string {
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
