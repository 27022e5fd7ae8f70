//go:build !linux

package testenv

import "syscall"

// childProcAttr puts a child in its own process group (no parent-death signal
// outside Linux: Stop must run).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
