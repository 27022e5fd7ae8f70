// Command sluice-worker runs the sluice Temporal worker: the migration workflows and
// the activities that read and write the databases. With --dev it also runs an
// embedded Temporal server and Web UI in the same process.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/activities"
	"github.com/sluice-dev/sluice/devserver"
	"github.com/sluice-dev/sluice/logging"
	"github.com/sluice-dev/sluice/metrics"
	"github.com/sluice-dev/sluice/workflows"
)

// workerStopTimeout is how long a stopping worker waits for running activities. They
// see activity.GetWorkerStopChannel close at once and use the time to heartbeat their
// cursor, so the next attempt resumes where this one stopped.
const workerStopTimeout = 30 * time.Second

// version is set at build time (make build: -X main.version=...).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(realMain(ctx, stop, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// realMain returns the exit status: 0 ok (including a stop by signal), 1 runtime
// failure, 2 usage error. stopSignals restores default signal handling once shutdown
// begins, so a second Ctrl-C kills a shutdown that hangs.
func realMain(ctx context.Context, stopSignals func(), args []string, lookupEnv func(string) (string, bool),
	stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, lookupEnv)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprint(stdout, usageText())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice-worker: %v\nRun 'sluice-worker --help' for usage.\n", err)
		return 2
	}
	logger, err := logging.New(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		fmt.Fprintf(stderr, "sluice-worker: %v\n", err)
		return 2
	}
	defer func() { _ = logger.Sync() }()
	g, _ := lookupEnv("GOMEMLIMIT")
	if lim, _ := cfg.memoryLimit(g != ""); lim >= 0 {
		debug.SetMemoryLimit(lim)
		logger.Debug("go memory limit", zap.Int64("bytes", lim))
	}

	if err := run(ctx, stopSignals, cfg, logger, stderr); err != nil {
		if strings.EqualFold(cfg.LogFormat, "json") {
			// Log collectors expect every line to be JSON.
			logger.Error("sluice-worker failed", zap.Error(err))
		} else {
			fmt.Fprintf(stderr, "sluice-worker: %s\n", logging.Redact(err.Error()))
		}
		return 1
	}
	return 0
}

// run starts the dev server when asked, then the worker, and blocks until ctx is done
// (a signal: returns nil after a graceful stop) or the worker fails.
func run(ctx context.Context, stopSignals func(), cfg config, logger *zap.Logger, stderr io.Writer) error {
	address := cfg.Address
	if cfg.Dev {
		listen, err := cfg.devFrontend()
		if err != nil {
			return err
		}
		srv, err := devserver.Start(devserver.Options{
			DataDir:      cfg.DataDir,
			IP:           listen.IP,
			FrontendPort: listen.Port,
			UIPort:       cfg.UIPort,
			Namespace:    cfg.Namespace,
			Logger:       logger,
		})
		if err != nil {
			return fmt.Errorf("start the embedded Temporal dev server: %w", err)
		}
		// Deferred first, so it runs last: after the worker and the client are stopped.
		defer func() {
			srv.Stop()
			logger.Info("embedded Temporal dev server stopped")
		}()
		address = srv.FrontendAddress()
		if ui := srv.UIAddress(); ui != "" {
			fmt.Fprintf(stderr, "Temporal Web UI: %s\n", ui)
		}
		store := cfg.DataDir
		if store == "" {
			store = "(in memory)"
		}
		logger.Info("embedded Temporal dev server started", zap.String("frontend", address),
			zap.String("ui", srv.UIAddress()), zap.String("data_dir", store),
			zap.String("temporal_version", devserver.ServerVersion))
	}

	var m *metrics.Metrics
	if cfg.MetricsListen != "" {
		m = metrics.New()
		ln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("--metrics-listen %s: %w", cfg.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		logger.Info("metrics", zap.String("url", "http://"+ln.Addr().String()+"/metrics"))
	}
	c, err := client.DialContext(ctx, client.Options{
		HostPort:       address,
		Namespace:      cfg.Namespace,
		Logger:         logging.NewSDKLogger(logger),
		MetricsHandler: m.SDK(),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped by a signal while connecting
		}
		if cfg.Dev {
			return fmt.Errorf("cannot reach the embedded Temporal server at %s: %w", address, err)
		}
		return fmt.Errorf("cannot reach the Temporal frontend at %s: %w (start a Temporal server there, "+
			"point --address or TEMPORAL_ADDRESS at one, or pass --dev to run an embedded one)", address, err)
	}
	defer c.Close()
	if err := checkNamespace(ctx, c, cfg.Namespace, address); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	fatal := make(chan error, 1)
	acts := activities.New(logger)
	acts.Client = c
	acts.Metrics = m
	w := worker.New(c, cfg.TaskQueue, worker.Options{
		// The retry windows (options.retry) of every activity.
		Interceptors:                       []interceptor.WorkerInterceptor{activities.Interceptor(acts)},
		MaxConcurrentActivityExecutionSize: cfg.MaxConcurrentActivities,
		WorkerStopTimeout:                  workerStopTimeout,
		// Heartbeats carry the live progress (lag, cutover stage) sluice status
		// shows: sent every second instead of every 0.8 heartbeat timeouts.
		MaxHeartbeatThrottleInterval: activities.HeartbeatThrottle,
		OnFatalError: func(err error) {
			select {
			case fatal <- err:
			default:
			}
		},
	})
	workflows.Register(w)
	activities.Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the worker on task queue %q: %w", cfg.TaskQueue, err)
	}
	logger.Info("worker started", zap.String("version", version), zap.String("address", address), zap.String("namespace", cfg.Namespace),
		zap.String("task_queue", cfg.TaskQueue), zap.Int("max_concurrent_activities", cfg.MaxConcurrentActivities))

	select {
	case <-ctx.Done():
		stopSignals()
		logger.Info("stopping: running activities get up to " + workerStopTimeout.String() +
			" to save their progress; press Ctrl-C again to force")
		w.Stop()
		logger.Info("worker stopped")
		return nil
	case err := <-fatal:
		w.Stop()
		return fmt.Errorf("worker stopped on a fatal error: %w", err)
	}
}

// checkNamespace turns a missing namespace into one clear error instead of a stream of
// failed polls.
func checkNamespace(ctx context.Context, c client.Client, namespace, address string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("namespace %q does not exist on %s: create it (temporal operator namespace create --namespace %s) "+
			"or pass another --namespace", namespace, address, namespace)
	}
	if err != nil {
		return fmt.Errorf("describe namespace %q on %s: %w", namespace, address, err)
	}
	return nil
}
