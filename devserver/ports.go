package devserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// PortInUseError says which port the dev server needed is taken, and by which
// sluice-worker flag it can be changed.
type PortInUseError struct {
	IP      string
	Port    int
	Purpose string // "Temporal frontend (gRPC)" or "Temporal Web UI"
	Flag    string // the sluice-worker flag that sets this port
	Err     error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d (%s) is already in use on %s: stop what uses it or pass %s",
		e.Port, e.Purpose, e.IP, e.Flag)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// checkPortFree binds ip:port and releases it at once. The UI server cannot report a
// failed listen (it exits the process), and the Temporal server fails deep inside its
// start-up, so both ports are proven free before anything starts.
func checkPortFree(ip string, port int, purpose, flag string) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return &PortInUseError{IP: ip, Port: port, Purpose: purpose, Flag: flag, Err: err}
		}
		return fmt.Errorf("cannot listen on %s port %d (%s): %w (change it with %s)", ip, port, purpose, err, flag)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("release %s port %d after checking it: %w", ip, port, err)
	}
	return nil
}

// freePorts asks the kernel for n distinct free ports on ip. All listeners stay open
// until every port is chosen, so the same port cannot be handed out twice. Another
// process could still take one before the server binds it; the window is small and
// the server then fails to start with a bind error.
func freePorts(ip string, n int) ([]int, error) {
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", ip, err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
