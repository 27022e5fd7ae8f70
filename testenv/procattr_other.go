//go:build !linux

package testenv

import "syscall"

// ChildProcAttr puts a child in its own process group (there is no parent-death
// signal outside Linux: Stop must run).
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
