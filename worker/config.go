package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sluice-dev/sluice/logging"
)

// config is the resolved command line and environment.
type config struct {
	Address                 string
	Namespace               string
	TaskQueue               string
	LogFormat               string
	LogLevel                string
	MaxConcurrentActivities int
	Dev                     bool
	DataDir                 string
	UIPort                  int
	MemoryLimit             string
	MetricsListen           string
}

// envVars maps each flag to the environment variable that sets it when the flag is
// not on the command line.
var envVars = []struct{ flag, env string }{
	{"address", "TEMPORAL_ADDRESS"},
	{"namespace", "SLUICE_NAMESPACE"},
	{"task-queue", "SLUICE_TASK_QUEUE"},
	{"log-format", "SLUICE_LOG_FORMAT"},
	{"log-level", "SLUICE_LOG_LEVEL"},
	{"max-concurrent-activities", "SLUICE_MAX_CONCURRENT_ACTIVITIES"},
	{"dev", "SLUICE_DEV"},
	{"data-dir", "SLUICE_DATA_DIR"},
	{"ui-port", "SLUICE_UI_PORT"},
	{"memory-limit", "SLUICE_MEMORY_LIMIT"},
	{"metrics-listen", "SLUICE_METRICS_LISTEN"},
}

// usageError is a bad flag, argument or environment value: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newFlagSet(cfg *config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("sluice-worker", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&cfg.Address, "address", "127.0.0.1:7233",
		"Temporal frontend host:port; with --dev, where the embedded server listens (env TEMPORAL_ADDRESS)")
	fs.StringVar(&cfg.Namespace, "namespace", "default", "Temporal namespace (env SLUICE_NAMESPACE)")
	fs.StringVar(&cfg.TaskQueue, "task-queue", "sluice",
		"task queue to poll; the sluice CLI must use the same (env SLUICE_TASK_QUEUE)")
	fs.StringVar(&cfg.LogFormat, "log-format", "console", "log format: console or json (env SLUICE_LOG_FORMAT)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error (env SLUICE_LOG_LEVEL)")
	fs.IntVar(&cfg.MaxConcurrentActivities, "max-concurrent-activities", 0,
		"activities this worker runs at once; 0 = Temporal SDK default (env SLUICE_MAX_CONCURRENT_ACTIVITIES)")
	fs.BoolVar(&cfg.Dev, "dev", false,
		"run an embedded Temporal server and Web UI in this process, for development and demos (env SLUICE_DEV)")
	fs.StringVar(&cfg.DataDir, "data-dir", "./.sluice",
		`with --dev: directory of the embedded server's SQLite store; "" = in memory (env SLUICE_DATA_DIR)`)
	fs.IntVar(&cfg.UIPort, "ui-port", 8233, "with --dev: Temporal Web UI port; 0 = no UI (env SLUICE_UI_PORT)")
	fs.StringVar(&cfg.MemoryLimit, "memory-limit", "auto",
		"Go soft memory limit (e.g. 300MiB, 2GiB; 0 = none); auto = 256MiB, plus 256MiB with --dev, unless GOMEMLIMIT is set (env SLUICE_MEMORY_LIMIT)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "",
		`serve Prometheus metrics (sluice's and the Temporal SDK's) at http://ADDR/metrics, e.g. 127.0.0.1:9090; "" = off (env SLUICE_METRICS_LISTEN)`)
	// Help and errors are printed by the caller, so the output stays in one place.
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	return fs
}

// usageText is the --help output.
func usageText() string {
	var cfg config
	fs := newFlagSet(&cfg)
	return `sluice-worker runs the sluice Temporal worker: the migration and precheck workflows
and the activities that talk to MySQL and MariaDB servers. Database passwords referenced
as ${NAME} in workflow files are read from this process's environment.

Usage:
  sluice-worker [flags]

Flags:
` + fs.FlagUsages() + `
Every flag can also be set by the environment variable shown; a flag given on the
command line wins over the variable.

Examples:
  # Development: embedded Temporal server with its Web UI at http://127.0.0.1:8233,
  # state kept in ./.sluice across restarts.
  sluice-worker --dev

  # Production: an existing Temporal cluster, JSON logs.
  TEMPORAL_ADDRESS=temporal.internal:7233 SRC_PASSWORD=... DST_PASSWORD=... \
    sluice-worker --namespace migrations --log-format json --max-concurrent-activities 8
`
}

// parseConfig resolves flags, then environment variables for the flags not given, then
// validates. It returns pflag.ErrHelp for --help and a *usageError for bad input.
func parseConfig(args []string, lookupEnv func(string) (string, bool)) (config, error) {
	var cfg config
	fs := newFlagSet(&cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return cfg, err
		}
		return cfg, &usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected argument %q: sluice-worker takes only flags", fs.Arg(0))
	}
	fromEnv := map[string]string{}
	for _, ev := range envVars {
		if fs.Changed(ev.flag) {
			continue
		}
		// An empty variable counts as unset, as is usual for configuration variables.
		v, ok := lookupEnv(ev.env)
		if !ok || v == "" {
			continue
		}
		if err := fs.Set(ev.flag, v); err != nil {
			return cfg, usagef("invalid %s=%q (sets --%s): %v", ev.env, v, ev.flag, err)
		}
		fromEnv[ev.flag] = ev.env
	}
	// Name the variable in errors about a value that came from one; the user may not
	// know it is set.
	src := func(flag string) string {
		if env, ok := fromEnv[flag]; ok {
			return env + " (--" + flag + ")"
		}
		return "--" + flag
	}
	return cfg, cfg.validate(src)
}

func (c *config) validate(src func(flag string) string) error {
	if err := logging.ValidateFormat(c.LogFormat); err != nil {
		return usagef("%s: %v", src("log-format"), err)
	}
	if _, err := logging.ParseLevel(c.LogLevel); err != nil {
		return usagef("%s: %v", src("log-level"), err)
	}
	if strings.TrimSpace(c.Namespace) == "" {
		return usagef("%s must not be empty", src("namespace"))
	}
	if strings.TrimSpace(c.TaskQueue) == "" {
		return usagef("%s must not be empty", src("task-queue"))
	}
	if c.MaxConcurrentActivities < 0 {
		return usagef("%s must be 0 (SDK default) or more, got %d", src("max-concurrent-activities"), c.MaxConcurrentActivities)
	}
	if _, err := c.memoryLimit(false); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil || host == "" || port == "" {
		return usagef("%s %q: want host:port, e.g. 127.0.0.1:7233", src("address"), c.Address)
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			return usagef("%s %q: want [host]:port, e.g. 127.0.0.1:9090 or :9090", src("metrics-listen"), c.MetricsListen)
		}
	}
	if !c.Dev {
		return nil
	}
	if c.UIPort < 0 || c.UIPort > 65535 {
		return usagef("%s %d: want 1-65535, or 0 for no UI", src("ui-port"), c.UIPort)
	}
	if _, err := c.devFrontend(); err != nil {
		return err
	}
	return nil
}

// devListen is where the embedded server binds, from --address.
type devListen struct {
	IP   string
	Port int
}

func (c *config) devFrontend() (devListen, error) {
	host, portStr, err := net.SplitHostPort(c.Address)
	if err != nil {
		return devListen{}, usagef("--address %q: want host:port", c.Address)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return devListen{}, usagef("--address %q: with --dev the port must be a number 1-65535", c.Address)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if net.ParseIP(host) == nil {
		return devListen{}, usagef("--address %q: with --dev the host must be an IP address of this machine, e.g. 127.0.0.1", c.Address)
	}
	if port == c.UIPort {
		return devListen{}, usagef("--address port and --ui-port are both %d: give them different ports", port)
	}
	return devListen{IP: host, Port: port}, nil
}

// memoryLimit resolves --memory-limit to bytes for debug.SetMemoryLimit; -1 leaves
// the runtime's own setting (GOMEMLIMIT, or none).
//
// Why a default: the copy's heap is bounded (pages and statements, see
// copier.pageBytes) but Go's GC lets the heap grow to twice what is live before it
// collects; a soft limit makes it collect sooner instead of growing the RSS.
func (c config) memoryLimit(goMemLimitSet bool) (int64, error) {
	v := strings.TrimSpace(c.MemoryLimit)
	if v == "auto" || v == "" {
		if goMemLimitSet {
			return -1, nil
		}
		if c.Dev {
			return 512 << 20, nil
		}
		return 256 << 20, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, usagef("invalid --memory-limit %q: want a size such as 300MiB or 2GiB, 0 for none, or auto", c.MemoryLimit)
	}
	if n == 0 {
		return math.MaxInt64, nil
	}
	return n * mult, nil
}
