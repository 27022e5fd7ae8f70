package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100 on
// every Linux architecture Go supports (the kernel ABI fixes it; sysconf would need cgo).
const clockTicks = 100

// peakRSS reads VmHWM (the resident set's high-water mark) of a running process, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return parseStatusKB(string(b), "VmHWM:")
}

// parseStatusKB extracts a "Name:  123 kB" line (VmHWM:, VmRSS:) of /proc/PID/status, in bytes.
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
	return 0, fmt.Errorf("no %s line in /proc status", name)
}

// cpuTime is the user+system CPU time a running process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat. The command
// name (field 2) may hold spaces and parentheses, so fields are counted after the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
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

// serverPID is the pid of a testenv mariadbd, from the pid file it writes in its
// directory (testenv keeps the process handle unexported).
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

// cpuMeter measures the CPU used by long-running processes between two points.
type cpuMeter struct {
	names   []string
	pids    []int
	before  []time.Duration
	machine time.Duration
}

// otherCPU names the machine's busy time not used by the measured processes (the
// tools' own CPU comes from rusage and is subtracted by the report).
const otherCPU = "other (rest of the machine)"

func newCPUMeter() *cpuMeter { return &cpuMeter{} }

// add registers a process; a pid of 0 (unknown) is skipped.
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

// stop records the CPU seconds each process used since start (missing when
// unreadable), and under otherCPU the machine's busy time (the caller subtracts).
func (m *cpuMeter) stop(into map[string]float64) {
	if after, err := machineBusy(); err == nil && m.machine > 0 {
		into[otherCPU] = (after - m.machine).Seconds()
	}
	for i, pid := range m.pids {
		after, err := cpuTime(pid)
		if err != nil {
			continue
		}
		into[m.names[i]] = (after - m.before[i]).Seconds()
	}
}

// proc is a long-running child (a worker) whose output goes to a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startProc starts a child in its own process group with a parent-death signal, so
// a killed benchmark leaves no worker behind.
func startProc(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: log file: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = env
	cmd.SysProcAttr = testenv.ChildProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: start %s: %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// waitForLog waits until the log holds want, failing early if the process exits.
func (p *proc) waitForLog(ctx context.Context, want string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if logContains(p.logPath, want) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v) before logging %q; end of its log:\n%s", p.name, p.waitErr, want, tail(p.logPath, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s did not log %q within %s: %w; end of its log:\n%s", p.name, want, timeout, ctx.Err(), tail(p.logPath, 15))
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM (a graceful worker stop) and kills after grace.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: stop: %w", p.name, err)
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
}

func (p *proc) exitErr() error {
	if p.waitErr != nil {
		return fmt.Errorf("%s: %w", p.name, p.waitErr)
	}
	return nil
}

func logContains(path, want string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			return true
		}
	}
	return false
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
				if rss, err := parseStatusKB(string(b), "VmRSS:"); err == nil {
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

// machineBusy is the CPU time all processes of the machine have used (the "cpu" line
// of /proc/stat: everything but idle and iowait), to tell a run's load from others'.
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
