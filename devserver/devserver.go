// Package devserver embeds a Temporal server (SQLite store) and the Temporal Web UI in
// the calling process, the way `temporal server start-dev` does, so `sluice-worker --dev`
// needs nothing else installed.
package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Defaults, matching `temporal server start-dev`.
const (
	DefaultIP           = "127.0.0.1"
	DefaultFrontendPort = 7233
	DefaultUIPort       = 8233
	DefaultNamespace    = "default"
)

const (
	clusterName   = "active"
	storeName     = "sqlite-default"
	readyTimeout  = 30 * time.Second
	flagFrontend  = "--address"
	flagUI        = "--ui-port"
	purposeFE     = "Temporal frontend (gRPC)"
	purposeUI     = "Temporal Web UI"
	pollInterval  = 50 * time.Millisecond
	serverLogName = "temporal"
)

// Options configures Start. The zero value is an in-memory server without UI on
// 127.0.0.1:7233; set UIPort to DefaultUIPort for the UI.
type Options struct {
	// DataDir holds the SQLite file store (DataDir/temporal.db, created if missing),
	// its server-version record and a lock. Empty means in-memory: nothing survives Stop.
	DataDir string
	// IP the frontend and the UI listen on (default 127.0.0.1). The internal history,
	// matching and worker services use free ports on the same address.
	IP string
	// FrontendPort is the gRPC port clients and workers dial (default 7233).
	FrontendPort int
	// UIPort is the Temporal Web UI's HTTP port; 0 means no UI.
	UIPort int
	// Namespace is created if missing (default "default").
	Namespace string
	// Logger receives the server's logs (named "temporal"); nil discards them.
	Logger *zap.Logger
	// ServerLogLevel is the least level of the server's own logs that reach Logger:
	// debug, info, warn or error. Empty means warn, since the server is very chatty.
	ServerLogLevel string
}

// Server is a running embedded Temporal server.
type Server struct {
	frontend  string
	uiAddress string
	namespace string
	temporal  temporal.Server
	ui        *uiserver.Server
	unlock    func()
	stopOnce  sync.Once
	log       *zap.Logger
	// serverLevel filters the server's own logs; Stop raises it because a stopping
	// server's internal workers log failed polls and cancelled calls that mean nothing.
	serverLevel zap.AtomicLevel
}

// FrontendAddress is the host:port to dial with the Temporal SDK.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIAddress is the Web UI's base URL (e.g. http://127.0.0.1:8233), or "" without UI.
func (s *Server) UIAddress() string { return s.uiAddress }

// Namespace is the namespace Start created or found.
func (s *Server) Namespace() string { return s.namespace }

// Stop stops the UI and the server and releases the data dir. Safe to call twice.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.Stop()
		}
		s.stopServer()
		if s.unlock != nil {
			s.unlock()
		}
	})
}

func (s *Server) stopServer() {
	s.serverLevel.SetLevel(zapcore.DPanicLevel)
	if err := s.temporal.Stop(); err != nil {
		s.log.Warn("stopping the embedded Temporal server", zap.Error(err))
	}
}

// Start checks the ports, prepares the store and the namespace, starts the server and
// the UI, and returns once the frontend answers for the namespace and the UI serves.
func Start(opts Options) (*Server, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	bindIP, dialIP, err := resolveIP(opts.IP)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	serverLevel, err := parseLevel(opts.ServerLogLevel)
	if err != nil {
		return nil, err
	}

	if err := checkPortFree(bindIP, opts.FrontendPort, purposeFE, flagFrontend); err != nil {
		return nil, err
	}
	if opts.UIPort != 0 {
		if err := checkPortFree(bindIP, opts.UIPort, purposeUI, flagUI); err != nil {
			return nil, err
		}
	}
	// history, matching, worker, and the frontend's HTTP API (without which the server
	// warns that Nexus is unavailable).
	internal, err := freePorts(dialIP, 4)
	if err != nil {
		return nil, err
	}

	s := &Server{
		frontend:  net.JoinHostPort(dialIP, strconv.Itoa(opts.FrontendPort)),
		namespace: opts.Namespace,
		log:       logger,
	}
	sqlCfg, err := s.prepareStore(opts.DataDir)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok && s.unlock != nil {
			s.unlock()
		}
	}()

	nsCfg, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", opts.Namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, nsCfg); err != nil {
		return nil, fmt.Errorf("create namespace %q: %w", opts.Namespace, err)
	}

	s.serverLevel = zap.NewAtomicLevelAt(serverLevel)
	serverLog := tlog.NewZapLogger(logger.Named(serverLogName).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &levelFilter{Core: c, level: s.serverLevel}
	})))
	cfg := buildConfig(sqlCfg, bindIP, dialIP, opts.FrontendPort, internal)
	srvOpts, err := serverOptions(cfg, dialIP, opts.FrontendPort, internal, serverLog)
	if err != nil {
		return nil, err
	}
	srv, err := temporal.NewServer(srvOpts...)
	if err != nil {
		return nil, fmt.Errorf("build the embedded Temporal server: %w", err)
	}
	s.temporal = srv
	if err := srv.Start(); err != nil {
		s.stopServer()
		return nil, fmt.Errorf("start the embedded Temporal server on %s: %w", s.frontend, err)
	}
	if err := waitForNamespace(s.frontend, opts.Namespace); err != nil {
		s.stopServer()
		return nil, err
	}
	if opts.UIPort != 0 {
		if err := s.startUI(bindIP, dialIP, opts.UIPort); err != nil {
			s.stopServer()
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (o *Options) setDefaults() error {
	if o.IP == "" {
		o.IP = DefaultIP
	}
	if o.FrontendPort == 0 {
		o.FrontendPort = DefaultFrontendPort
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.FrontendPort < 0 || o.FrontendPort > 65535 {
		return fmt.Errorf("frontend port %d is out of range 1-65535", o.FrontendPort)
	}
	if o.UIPort < 0 || o.UIPort > 65535 {
		return fmt.Errorf("UI port %d is out of range 0-65535 (0 disables the UI)", o.UIPort)
	}
	if o.UIPort == o.FrontendPort {
		return fmt.Errorf("the frontend and the Web UI cannot share port %d: change %s or %s",
			o.UIPort, flagFrontend, flagUI)
	}
	return nil
}

// resolveIP returns the address to bind and the address to dial. A wildcard bind
// (0.0.0.0, ::) is dialled on loopback.
func resolveIP(s string) (bind, dial string, err error) {
	if s == "localhost" {
		return "127.0.0.1", "127.0.0.1", nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return "", "", fmt.Errorf("dev server IP %q is not an IP address", s)
	}
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			return ip.String(), "127.0.0.1", nil
		}
		return ip.String(), "::1", nil
	}
	return ip.String(), ip.String(), nil
}

func parseLevel(s string) (zapcore.Level, error) {
	if s == "" {
		return zapcore.WarnLevel, nil
	}
	var l zapcore.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("server log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// levelFilter drops entries below a level that can change while the server runs.
type levelFilter struct {
	zapcore.Core
	level zap.AtomicLevel
}

func (f *levelFilter) Enabled(l zapcore.Level) bool {
	return f.level.Enabled(l) && f.Core.Enabled(l)
}

func (f *levelFilter) With(fields []zapcore.Field) zapcore.Core {
	return &levelFilter{Core: f.Core.With(fields), level: f.level}
}

func (f *levelFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !f.level.Enabled(e.Level) {
		return ce
	}
	return f.Core.Check(e, ce)
}

// prepareStore returns the SQLite persistence config, creating the schema of a new file.
func (s *Server) prepareStore(dir string) (*config.SQL, error) {
	if dir == "" {
		// A random name keeps two in-memory servers in one process apart. The plugin
		// creates the schema itself on the first connection in memory mode.
		return &config.SQL{
			PluginName:        sqliteplugin.PluginName,
			DatabaseName:      fmt.Sprintf("sluice-%d", rand.Int64()),
			ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
		}, nil
	}
	d, err := openDataDir(dir)
	if err != nil {
		return nil, err
	}
	s.unlock = d.unlock
	cfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      d.dbPath,
		ConnectAttributes: map[string]string{"mode": "rwc"},
	}
	if d.isNew {
		if err := sqliteschema.SetupSchema(cfg); err != nil {
			d.unlock()
			s.unlock = nil
			return nil, fmt.Errorf("create the Temporal schema in %s: %w", d.dbPath, err)
		}
	}
	return cfg, nil
}

func buildConfig(sqlCfg *config.SQL, bindIP, dialIP string, frontendPort int, internal []int) *config.Config {
	frontendAddr := net.JoinHostPort(dialIP, strconv.Itoa(frontendPort))
	cfg := &config.Config{}
	cfg.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: dialIP}
	cfg.Persistence = config.Persistence{
		DefaultStore:     storeName,
		VisibilityStore:  storeName,
		NumHistoryShards: 1, // fixed forever once a file exists; 1 is plenty for one process
		DataStores:       map[string]config.DataStore{storeName: {SQL: sqlCfg}},
	}
	cfg.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendAddr,
				HTTPAddress:            net.JoinHostPort(dialIP, strconv.Itoa(internal[3])),
			},
		},
	}
	cfg.DCRedirectionPolicy = config.DCRedirectionPolicy{Policy: "noop"}
	service := func(ip string, port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: ip}}
	}
	cfg.Services = map[string]config.Service{
		string(primitives.FrontendService): {RPC: config.RPC{GRPCPort: frontendPort, BindOnIP: bindIP, HTTPPort: internal[3]}},
		string(primitives.HistoryService):  service(dialIP, internal[0]),
		string(primitives.MatchingService): service(dialIP, internal[1]),
		string(primitives.WorkerService):   service(dialIP, internal[2]),
	}
	cfg.Archival.History.State = "disabled"
	cfg.Archival.Visibility.State = "disabled"
	cfg.NamespaceDefaults.Archival.History.State = "disabled"
	cfg.NamespaceDefaults.Archival.Visibility.State = "disabled"
	cfg.PublicClient.HostPort = frontendAddr
	return cfg
}

func serverOptions(cfg *config.Config, dialIP string, frontendPort int, internal []int, logger tlog.Logger) ([]temporal.ServerOption, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&cfg.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("build the Temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("build the Temporal claim mapper: %w", err)
	}
	host := func(port int) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(dialIP, strconv.Itoa(port)))
	}
	dyn := dynamicconfig.StaticClient{
		// The UI lists workflows often; the default of 10 visibility requests per
		// second is easy to exceed with one browser tab.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
	return []temporal.ServerOption{
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		// Static membership: no ringpop, so no membership ports to bind.
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(frontendPort),
			primitives.HistoryService:  host(internal[0]),
			primitives.MatchingService: host(internal[1]),
			primitives.WorkerService:   host(internal[2]),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	}, nil
}

// waitForNamespace returns once the frontend answers DescribeNamespace, so callers can
// start workers and workflows at once.
func waitForNamespace(frontend, namespace string) error {
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		lastErr = describeNamespace(frontend, namespace, quiet)
		if lastErr == nil {
			return nil
		}
		time.Sleep(pollInterval)
	}
	return fmt.Errorf("embedded Temporal server on %s did not serve namespace %q within %s: %w",
		frontend, namespace, readyTimeout, lastErr)
}

func describeNamespace(frontend, namespace string, logger sdklog.Logger) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: frontend, Logger: logger})
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = nc.Describe(ctx, namespace)
	return err
}

func (s *Server) startUI(bindIP, dialIP string, port int) error {
	ui := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                bracketIPv6(bindIP),
		Port:                port,
		TemporalGRPCAddress: s.frontend,
		EnableUI:            true,
		DefaultNamespace:    s.namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true}, // plain http on loopback
		HideLogs:            true,
		DisableNewsFetch:    true, // no calls to temporal.io from a migration host
	}))
	s.ui = ui
	s.uiAddress = "http://" + net.JoinHostPort(dialIP, strconv.Itoa(port))
	// Start blocks until Stop, and exits the process if it cannot listen; the port was
	// checked free above.
	go func() {
		if err := ui.Start(); err != nil {
			s.log.Error("Temporal Web UI stopped", zap.Error(err))
		}
	}()
	// Returning before the UI listens would let a quick Stop race its Start.
	deadline := time.Now().Add(readyTimeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := hc.Get(s.uiAddress + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %s", resp.Status)
		}
		lastErr = err
		time.Sleep(pollInterval)
	}
	ui.Stop()
	return fmt.Errorf("temporal Web UI on %s did not become ready within %s: %w",
		s.uiAddress, readyTimeout, lastErr)
}

func bracketIPv6(ip string) string {
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		return "[" + ip + "]"
	}
	return ip
}
