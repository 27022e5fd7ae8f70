package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that point tests at existing servers instead of starting them.
const (
	EnvSource        = "SLUICE_TEST_SOURCE"         // user:password@host:port
	EnvDestination   = "SLUICE_TEST_DESTINATION"    // user:password@host:port
	EnvSourceCA      = "SLUICE_TEST_SOURCE_CA"      // optional PEM file of the source's CA
	EnvDestinationCA = "SLUICE_TEST_DESTINATION_CA" // optional PEM file of the destination's CA
)

// Env is a source and a destination server.
type Env struct {
	Source, Destination *Server

	dir     string
	ownsDir bool
}

// tempPrefix names the temporary directories of Start, so stale ones can be found.
const tempPrefix = "sluice-testenv-"

// Start starts a source (binlog for replication, TLS) and a destination (no binlog,
// no TLS) in parallel under dir ("" = a new temporary directory that Stop removes).
func Start(ctx context.Context, dir string) (*Env, error) {
	e := &Env{}
	if dir == "" {
		removeStaleDirs()
		d, err := os.MkdirTemp("", tempPrefix)
		if err != nil {
			return nil, fmt.Errorf("testenv: temp dir: %w", err)
		}
		if err := writeOwner(d); err != nil {
			os.RemoveAll(d)
			return nil, fmt.Errorf("testenv: %w", err)
		}
		e.dir, e.ownsDir = d, true
	} else {
		e.dir = dir
	}
	opts := []ServerOptions{
		{Name: "source", Binlog: true, TLS: true, Dir: filepath.Join(e.dir, "source")},
		{Name: "destination", Dir: filepath.Join(e.dir, "destination")},
	}
	servers := make([]*Server, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = StartServer(ctx, opts[i])
		}()
	}
	wg.Wait()
	e.Source, e.Destination = servers[0], servers[1]
	if err := errors.Join(errs...); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// Stop stops both servers and removes the directory Start created.
func (e *Env) Stop() {
	if e == nil {
		return
	}
	var wg sync.WaitGroup
	for _, s := range []*Server{e.Source, e.Destination} {
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
	}
	wg.Wait()
	if e.ownsDir {
		os.RemoveAll(e.dir)
	}
}

// FromEnv returns the existing servers named by SLUICE_TEST_SOURCE and
// SLUICE_TEST_DESTINATION; ok is false when neither is set.
func FromEnv() (env *Env, ok bool, err error) {
	src, dst := os.Getenv(EnvSource), os.Getenv(EnvDestination)
	if src == "" && dst == "" {
		return nil, false, nil
	}
	if src == "" || dst == "" {
		return nil, true, fmt.Errorf("testenv: set both %s and %s, or neither", EnvSource, EnvDestination)
	}
	s, err := parseServerEnv("source", EnvSource, src, os.Getenv(EnvSourceCA))
	if err != nil {
		return nil, true, err
	}
	d, err := parseServerEnv("destination", EnvDestination, dst, os.Getenv(EnvDestinationCA))
	if err != nil {
		return nil, true, err
	}
	return &Env{Source: s, Destination: d}, true, nil
}

// parseServerEnv reads user:password@host:port. The password may hold ':' and '@'
// (the last '@' ends it); host may be a bracketed IPv6 address. The value is never
// echoed in errors since it holds a password.
func parseServerEnv(name, envName, v, caFile string) (*Server, error) {
	at := strings.LastIndex(v, "@")
	if at < 0 {
		return nil, fmt.Errorf("testenv: %s must look like user:password@host:port (no '@' found)", envName)
	}
	userinfo, hostport := v[:at], v[at+1:]
	user, password, _ := strings.Cut(userinfo, ":")
	if user == "" {
		return nil, fmt.Errorf("testenv: %s must look like user:password@host:port (empty user)", envName)
	}
	colon := strings.LastIndex(hostport, ":")
	if colon < 0 {
		return nil, fmt.Errorf("testenv: %s must look like user:password@host:port (no port in %q)", envName, hostport)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(hostport[:colon], "["), "]")
	port, err := strconv.Atoi(hostport[colon+1:])
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return nil, fmt.Errorf("testenv: %s must look like user:password@host:port (bad host or port in %q)", envName, hostport)
	}
	return &Server{Name: name, Host: host, Port: port, RootUser: user, RootPassword: password, CAFile: caFile}, nil
}

// shared is the one pair per test binary.
var shared struct {
	once sync.Once
	mu   sync.Mutex
	env  *Env
	err  error
}

// Shared returns the test binary's server pair, starting it on first use (or the
// servers named by SLUICE_TEST_SOURCE/SLUICE_TEST_DESTINATION). Main stops it.
// Tests must not stop it, and should use their own database names.
func Shared(t testing.TB) *Env {
	t.Helper()
	Require(t)
	shared.once.Do(func() {
		e, external, err := FromEnv()
		if !external {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			e, err = Start(ctx, "")
		}
		shared.mu.Lock()
		shared.env, shared.err = e, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		t.Fatalf("testenv: MariaDB pair: %v", shared.err)
	}
	if shared.env == nil {
		t.Fatal("testenv: Shared called after Main stopped the pair")
	}
	return shared.env
}

// Main runs the tests and then stops the shared pair (for existing servers it only
// closes connections):
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	env := shared.env
	shared.env = nil
	shared.mu.Unlock()
	env.Stop()
	return code
}

// Require skips the test when MariaDB cannot be started here, or fails it when CI
// is set (a CI run must not pass by skipping). Existing servers from the
// environment variables count as available.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvSource) != "" || os.Getenv(EnvDestination) != "" {
		return
	}
	if _, _, err := findBinaries(); err != nil {
		if InCI() {
			t.Fatalf("%v (CI is set, so this fails instead of skipping)", err)
		}
		t.Skipf("%v; or set %s and %s to existing servers", err, EnvSource, EnvDestination)
	}
}

// SkipOrFail skips the test outside CI and fails it when CI is set: a CI run must not
// pass by skipping what the test is there to prove (for instance because
// SLUICE_TEST_SOURCE points at a server testenv did not start).
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skipf("%s", msg)
}

// InCI reports whether the CI environment variable is set to a true value.
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "false" && v != "0" && v != "no"
}

// writeOwner records which process owns a temporary directory (see removeStaleDirs).
func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// removeStaleDirs deletes temporary directories of test binaries that died without
// running Main (a timeout panic, a kill): each holds ~30 MB. A directory is stale when
// the process named in its owner.pid no longer exists.
func removeStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range matches {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // being created right now, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}
