package benchproc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tsluice-worker\nVmPeak:\t 2000000 kB\nVmHWM:\t  211456 kB\nVmRSS:\t  150000 kB\n"
	got, err := ParseStatusKB(status, "VmHWM:")
	if err != nil || got != 211456*1024 {
		t.Fatalf("VmHWM = %d, %v; want %d", got, err, 211456*1024)
	}
	if got, err := ParseStatusKB(status, "VmRSS:"); err != nil || got != 150000*1024 {
		t.Fatalf("VmRSS = %d, %v", got, err)
	}
	if _, err := ParseStatusKB("Name:\tx\n", "VmHWM:"); err == nil {
		t.Fatal("no VmHWM line: want an error")
	}
	if _, err := ParseStatusKB("VmHWM:\t 12 MB\n", "VmHWM:"); err == nil {
		t.Fatal("unexpected unit: want an error")
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a ')': fields are counted after the last ')'.
	stat := "4242 (sluice (w) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0"
	got, err := ParseStatCPU(stat)
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("cpu = %v, %v; want 3.25s (250+75 ticks)", got, err)
	}
	if _, err := ParseStatCPU("4242 (x) S 1 2"); err == nil {
		t.Fatal("short stat: want an error")
	}
}

func TestParseProcStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := ParseProcStat("cpu  100 5 50 9999 300 1 2 3 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	if err != nil || got != 1610*time.Millisecond {
		t.Fatalf("busy = %v, %v; want 1.61s (161 ticks: idle and iowait left out)", got, err)
	}
	if _, err := ParseProcStat("intr 1 2 3\n"); err == nil {
		t.Fatal("no cpu line: want an error")
	}
}

func TestSettleOther(t *testing.T) {
	cpu := map[string]float64{"other": 10, "sluice-worker": 6, "source mariadbd": 3}
	SettleOther(cpu, "other")
	if cpu["other"] != 1 {
		t.Fatalf("other = %v, want 1", cpu["other"])
	}
	cpu = map[string]float64{"other": 2, "mydumper": 3}
	SettleOther(cpu, "other")
	if cpu["other"] != 0 {
		t.Fatalf("other = %v, want 0 (never negative)", cpu["other"])
	}
}

// A worker-like child: its log is waited for, it is stopped, a failing
// command's error carries the end of its log, and the meter reads this
// process's CPU.
func TestProcAndCommand(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProc("sleeper", filepath.Join(dir, "p.log"), os.Environ(), "/bin/sh", "-c", "echo ready; exec sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitForLog(context.Background(), "ready", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if p.PID() == 0 {
		t.Fatal("no pid")
	}
	m := &Meter{Other: "other"}
	m.Add("self", os.Getpid())
	m.Add("unknown", 0)
	m.Start()
	cpu := map[string]float64{}
	m.Stop(cpu)
	if _, ok := cpu["self"]; !ok || len(cpu) > 2 {
		t.Errorf("meter: %v", cpu)
	}
	if err := p.Stop(5 * time.Second); err == nil || !strings.Contains(err.Error(), "sleeper") {
		// sleep ends on SIGTERM with a signal status: reported with the name.
		t.Errorf("stop: %v", err)
	}
	_, _, err = Run(context.Background(), filepath.Join(dir, "c.log"), os.Environ(), "/bin/sh", "-c", "echo first; echo last words; exit 3")
	if err == nil || !strings.Contains(err.Error(), "last words") {
		t.Errorf("a failing command: %v", err)
	}
	if got := Tail(filepath.Join(dir, "c.log"), 1); got != "last words" {
		t.Errorf("tail: %q", got)
	}
}
