//go:build linux

package testenv

import "syscall"

// ChildProcAttr is for any child a test or the demo starts. It puts the child in its
// own process group, so a terminal's Ctrl-C reaches only the parent (which stops
// children in order), and has the kernel send SIGTERM to the child if the parent
// dies, so a killed test binary leaves no server behind.
func ChildProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
