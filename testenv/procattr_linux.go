//go:build linux

package testenv

import "syscall"

// childProcAttr puts a child in its own process group, so a terminal's Ctrl-C reaches
// only the parent (which stops children in order), and has the kernel send SIGTERM
// to it if the parent dies, so a killed test binary leaves no server behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
