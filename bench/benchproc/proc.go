// Package benchproc holds what the benchmark programs (bench/fullbench,
// incbench, verifybench) share about processes: /proc readings (CPU time,
// resident set, the machine's busy time), a CPU meter over named processes,
// and children with their output in a log file (a worker started and stopped
// around runs, a command timed to its end).
package benchproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-dev/sluice/testenv"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100 on
// every Linux architecture Go supports (the kernel ABI fixes it; sysconf would
// need cgo).
const clockTicks = 100

// CPUTime is the user+system CPU time a running process has used so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat, counted
// after the last ')' (the command name may hold spaces and parentheses).
func ParseStatCPU(stat string) (time.Duration, error) {
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

// PeakRSS reads VmHWM (the resident set's high-water mark) of a running
// process, in bytes.
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return ParseStatusKB(string(b), "VmHWM:")
}

// ParseStatusKB extracts a "Name:  123 kB" line (VmHWM:, VmRSS: of
// /proc/PID/status; MemTotal: of /proc/meminfo), in bytes.
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

// MachineBusy is the CPU time all processes of the machine have used (the "cpu"
// line of /proc/stat: everything but idle and iowait), to tell a run's load
// from others'.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return ParseProcStat(string(b))
}

// ParseProcStat reads /proc/stat's first line.
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

// ServerPID is the pid of a testenv mariadbd, from the pid file it writes in
// its directory (testenv keeps the process handle unexported).
func ServerPID(s *testenv.Server) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "mariadbd.pid"))
	if err != nil {
		return 0, fmt.Errorf("%s: pid file: %w", s.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: pid file: %w", s.Name, err)
	}
	return pid, nil
}

// Meter measures the CPU used by long-running processes between Start and
// Stop, and the machine's busy time under Other.
type Meter struct {
	// Other names the machine's busy time in Stop's figures.
	Other   string
	names   []string
	pids    []int
	before  []time.Duration
	machine time.Duration
}

// Add registers a process; a pid of 0 (unknown) is skipped.
func (m *Meter) Add(name string, pid int) {
	if pid != 0 {
		m.names, m.pids = append(m.names, name), append(m.pids, pid)
	}
}

// Start reads the processes' and the machine's CPU time.
func (m *Meter) Start() {
	m.machine, _ = MachineBusy()
	m.before = make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		m.before[i], _ = CPUTime(pid)
	}
}

// Stop records into the CPU seconds each process used since Start (missing
// when unreadable) and under Other the machine's busy time: SettleOther turns
// it into the rest of the machine once every measured figure is in.
func (m *Meter) Stop(into map[string]float64) {
	if after, err := MachineBusy(); err == nil && m.machine > 0 {
		into[m.Other] = (after - m.machine).Seconds()
	}
	for i, pid := range m.pids {
		if after, err := CPUTime(pid); err == nil {
			into[m.names[i]] = (after - m.before[i]).Seconds()
		}
	}
}

// SettleOther turns the machine's busy time recorded under other into what the
// other figures of cpu do not account for (never below 0: tick rounding).
func SettleOther(cpu map[string]float64, other string) {
	busy, ok := cpu[other]
	if !ok {
		return
	}
	for k, v := range cpu {
		if k != other {
			busy -= v
		}
	}
	cpu[other] = max(busy, 0)
}

// Command is a child with its output in a log file.
type Command struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	start   time.Time
}

// StartCommand starts a child in its own process group with a parent-death
// signal, so a killed benchmark leaves nothing behind.
func StartCommand(ctx context.Context, logPath string, env []string, bin string, args ...string) (*Command, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = env
	cmd.SysProcAttr = testenv.ChildProcAttr()
	c := &Command{cmd: cmd, logPath: logPath, logFile: logFile, start: time.Now()}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return c, nil
}

// Wait waits for the child's end: its wall time since the start, its CPU time
// (rusage, the children it waited for included) and an error with the end of
// its log.
func (c *Command) Wait() (time.Duration, float64, error) {
	err := c.cmd.Wait()
	wall := time.Since(c.start)
	c.logFile.Close()
	cpu := 0.0
	if ps := c.cmd.ProcessState; ps != nil {
		cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if err != nil {
		return wall, cpu, fmt.Errorf("%s failed: %w; end of %s:\n%s", filepath.Base(c.cmd.Path), err, c.logPath, Tail(c.logPath, 15))
	}
	return wall, cpu, nil
}

// Run runs a command to its end: StartCommand then Wait.
func Run(ctx context.Context, logPath string, env []string, bin string, args ...string) (time.Duration, float64, error) {
	c, err := StartCommand(ctx, logPath, env, bin, args...)
	if err != nil {
		return 0, 0, err
	}
	return c.Wait()
}

// Proc is a long-running child (a worker).
type Proc struct {
	name    string
	c       *Command
	done    chan struct{}
	waitErr error
}

// StartProc starts a long-running child; it outlives any run's context: Stop
// ends it.
func StartProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	c, err := StartCommand(context.Background(), logPath, env, bin, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &Proc{name: name, c: c, done: make(chan struct{})}
	go func() {
		p.waitErr = c.cmd.Wait()
		c.logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// LogPath is the file holding the child's output.
func (p *Proc) LogPath() string { return p.c.logPath }

// PID is the child's process ID.
func (p *Proc) PID() int { return p.c.cmd.Process.Pid }

// WaitForLog waits until the log holds want, failing early if the process exits.
func (p *Proc) WaitForLog(ctx context.Context, want string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if logContains(p.c.logPath, want) {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v) before logging %q; end of its log:\n%s", p.name, p.waitErr, want, Tail(p.c.logPath, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s did not log %q within %s: %w; end of its log:\n%s", p.name, want, timeout, ctx.Err(), Tail(p.c.logPath, 15))
		case <-tick.C:
		}
	}
}

// Stop sends SIGTERM (a graceful worker stop) and kills after grace; an exit
// with an error (before or at the stop) is returned.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	if err := p.c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: stop: %w", p.name, err)
	}
	select {
	case <-p.done:
		return p.exitErr()
	case <-time.After(grace):
	}
	_ = p.c.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
}

func (p *Proc) exitErr() error {
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

// Tail returns the last n lines of a file ("" when unreadable).
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
