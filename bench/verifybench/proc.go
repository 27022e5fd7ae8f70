package main

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

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// cpuTime is the user+system CPU time a running process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime+stime (fields 14 and 15) of /proc/PID/stat, counted
// after the last ')' (the command name may hold spaces and parentheses).
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

// machineBusy is the CPU time of the whole machine (the "cpu" line of /proc/stat
// less idle and iowait), to tell a run's load from other processes'.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected first line of /proc/stat: %q", line)
	}
	var ticks int64
	for i, s := range f[1:min(len(f), 9)] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// serverPID is the pid of a testenv mariadbd, from the pid file in its directory.
func serverPID(s *testenv.Server) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "mariadbd.pid"))
	if err != nil {
		return 0, fmt.Errorf("%s: pid file: %w", s.Name, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// otherCPU names the machine's busy time not used by the measured processes.
const otherCPU = "other"

// cpuMeter measures the CPU used by long-running processes between two points.
type cpuMeter struct {
	names   []string
	pids    []int
	before  []time.Duration
	machine time.Duration
}

func (b *bench) serverMeter() *cpuMeter {
	m := &cpuMeter{}
	m.add("source mariadbd", b.srcPID)
	m.add("destination mariadbd", b.dstPID)
	return m
}

func (m *cpuMeter) add(name string, pid int) {
	if pid != 0 {
		m.names, m.pids = append(m.names, name), append(m.pids, pid)
	}
}

func (m *cpuMeter) start() {
	m.machine, _ = machineBusy()
	m.before = make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		m.before[i], _ = cpuTime(pid)
	}
}

// stop records each process's CPU seconds since start and, under otherCPU, the
// machine's (runResult.settleOther subtracts the rest).
func (m *cpuMeter) stop(into map[string]float64) {
	if after, err := machineBusy(); err == nil && m.machine > 0 {
		into[otherCPU] = (after - m.machine).Seconds()
	}
	for i, pid := range m.pids {
		if after, err := cpuTime(pid); err == nil {
			into[m.names[i]] = (after - m.before[i]).Seconds()
		}
	}
}

// command is a child with its output in a log file.
type command struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	start   time.Time
}

// startCmd starts a child in its own process group with a parent-death signal.
func startCmd(ctx context.Context, logPath string, env []string, bin string, args ...string) (*command, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = env
	cmd.SysProcAttr = testenv.ChildProcAttr()
	c := &command{cmd: cmd, logPath: logPath, logFile: logFile, start: time.Now()}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return c, nil
}

// wait waits for the child's end: its wall time since the start, its CPU time
// (rusage, children included) and an error with the end of its log.
func (c *command) wait() (time.Duration, float64, error) {
	err := c.cmd.Wait()
	wall := time.Since(c.start)
	c.logFile.Close()
	cpu := 0.0
	if ps := c.cmd.ProcessState; ps != nil {
		cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if err != nil {
		return wall, cpu, fmt.Errorf("%s failed: %w; end of %s:\n%s", filepath.Base(c.cmd.Path), err, c.logPath, tail(c.logPath, 15))
	}
	return wall, cpu, nil
}

// proc is a long-running child (a worker).
type proc struct {
	name    string
	c       *command
	done    chan struct{}
	waitErr error
}

func startProc(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	// A worker outlives any run's context: stop ends it.
	c, err := startCmd(context.Background(), logPath, env, bin, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, c: c, done: make(chan struct{})}
	go func() {
		p.waitErr = c.cmd.Wait()
		c.logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.c.cmd.Process.Pid }

// waitForLog waits until the log holds want, failing early if the process exits.
func (p *proc) waitForLog(ctx context.Context, want string, timeout time.Duration) error {
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
			return fmt.Errorf("%s exited (%v) before logging %q; end of its log:\n%s", p.name, p.waitErr, want, tail(p.c.logPath, 15))
		case <-ctx.Done():
			return fmt.Errorf("%s did not log %q within %s: %w; end of its log:\n%s", p.name, want, timeout, ctx.Err(), tail(p.c.logPath, 15))
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM (a graceful worker stop) and kills after grace.
func (p *proc) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("%s: stop: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.c.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
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
