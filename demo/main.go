// Command sluice-demo is the `make demo` experience: it starts a source and a
// destination MariaDB, loads the sample database, starts `sluice-worker --dev`
// (embedded Temporal and its Web UI), runs `sluice precheck` and
// `sluice start --follow` on examples/shop.yaml, and keeps everything running until
// Ctrl-C. With --once it stops after `sluice start --follow` returns (for CI).
//
// It runs the sluice binaries as child processes and never imports the Temporal
// server, so it builds in seconds.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// Environment variables that move the servers off their default ports.
const (
	envSourcePort      = "SLUICE_DEMO_SOURCE_PORT"
	envDestinationPort = "SLUICE_DEMO_DESTINATION_PORT"
)

func main() {
	cfg := defaultConfig()
	fs := pflag.NewFlagSet("sluice-demo", pflag.ContinueOnError)
	fs.BoolVar(&cfg.Once, "once", false, "run precheck and start --follow, then stop everything and exit with their result (for CI)")
	fs.DurationVar(&cfg.OnceTimeout, "once-timeout", cfg.OnceTimeout, "with --once: fail when `sluice start --follow` has not returned by then")
	fs.StringVar(&cfg.Dir, "dir", cfg.Dir, "working directory of the demo (wiped at start)")
	fs.StringVar(&cfg.BinDir, "bin", cfg.BinDir, "directory holding sluice and sluice-worker")
	fs.StringVar(&cfg.Workflow, "workflow", cfg.Workflow, "workflow file to precheck and start")
	fs.StringVar(&cfg.Sample, "sample", cfg.Sample, "SQL file loaded into the source")
	fs.BoolVar(&cfg.StreamWorker, "worker-logs", false, "show the worker's log lines here instead of only in DIR/worker.log")
	fs.StringVar(&cfg.TemporalAddress, "temporal-address", cfg.TemporalAddress, "where sluice-worker --dev serves the Temporal frontend")
	fs.StringVar(&cfg.UIAddress, "ui-address", cfg.UIAddress, "where sluice-worker --dev serves the Temporal Web UI")
	fs.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "Temporal namespace the worker uses")
	fs.StringVar(&cfg.TaskQueue, "task-queue", cfg.TaskQueue, "task queue the worker polls")
	fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", cfg.ReadyTimeout, "how long to wait for sluice-worker to be ready")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, `sluice-demo starts two MariaDB servers, loads a sample shop database, starts
sluice-worker --dev and runs a precheck and a migration, with the Temporal Web UI
at http://127.0.0.1:8233. Ctrl-C stops everything it started.

Usage: sluice-demo [flags]   (run from the repository root: make demo)

Environment: %s (default %d), %s (default %d).

Flags:
%s`, envSourcePort, cfg.SourcePort, envDestinationPort, cfg.DestinationPort, fs.FlagUsages())
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == pflag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	for _, p := range []struct {
		env  string
		port *int
	}{{envSourcePort, &cfg.SourcePort}, {envDestinationPort, &cfg.DestinationPort}} {
		if v := os.Getenv(p.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				fmt.Fprintf(os.Stderr, "sluice-demo: %s=%q is not a port number\n", p.env, v)
				os.Exit(2)
			}
			*p.port = n
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stdout, "\nsluice-demo: got %v, stopping everything (press Ctrl-C again to force)\n", sig)
		// A second signal kills the demo at once; its children then get SIGTERM
		// from the kernel (parent-death signal).
		signal.Reset(syscall.SIGINT, syscall.SIGTERM)
		cancel()
	}()
	code := run(ctx, cfg, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// exitAfter is how long the demo waits for a child to stop before killing it.
var exitAfter = struct{ cli, worker time.Duration }{cli: 15 * time.Second, worker: 60 * time.Second}
