package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

// config is everything a demo run needs; main fills it from flags and environment.
type config struct {
	Dir             string
	BinDir          string
	Workflow        string
	Sample          string
	SourcePort      int
	DestinationPort int
	TemporalAddress string
	UIAddress       string
	Namespace       string
	TaskQueue       string
	Once            bool
	OnceTimeout     time.Duration
	StreamWorker    bool
	// ReadyTimeout bounds the wait for the worker's Temporal frontend (a first start
	// creates the SQLite schema, which takes a while on a small machine).
	ReadyTimeout time.Duration
}

// The workflow file examples/shop.yaml names these ports; other ports need a rewritten copy.
const (
	defaultSourcePort      = 33061
	defaultDestinationPort = 33062
)

func defaultConfig() config {
	return config{
		Dir:             filepath.Join(".sluice", "demo"),
		BinDir:          "bin",
		Workflow:        filepath.Join("examples", "shop.yaml"),
		Sample:          filepath.Join("examples", "sample", "shop.sql"),
		SourcePort:      defaultSourcePort,
		DestinationPort: defaultDestinationPort,
		TemporalAddress: "127.0.0.1:7233",
		UIAddress:       "127.0.0.1:8233",
		Namespace:       "default",
		TaskQueue:       "sluice",
		OnceTimeout:     10 * time.Minute,
		ReadyTimeout:    3 * time.Minute,
	}
}

// The accounts sluice uses. The source grants are what the precheck asks for:
// REPLICATION CLIENT is shown as BINLOG MONITOR by MariaDB 10.5+; SLAVE MONITOR
// (MariaDB 10.5.9+) lets it tell whether the source is itself a replica; TRIGGER
// lets it read trigger definitions (and spot pt-online-schema-change triggers).
const (
	sluiceUser        = "sluice"
	sourceGrants      = "SELECT, SHOW VIEW, TRIGGER, REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR"
	destinationGrants = "ALL PRIVILEGES"
	sourcePasswordEnv = "SRC_PASSWORD"
	destPasswordEnv   = "DST_PASSWORD"
	credentialsFile   = "credentials.env"
	workerLogFile     = "worker.log"
	rewrittenWorkflow = "shop.yaml"
)

// exitInterrupted is the exit code when Ctrl-C cut the start-up short (128+SIGINT).
const exitInterrupted = 130

// demo holds what a run started, so shutdown stops exactly that.
type demo struct {
	ctx            context.Context
	cfg            config
	out, errOut    io.Writer
	src, dst       *testenv.Server
	worker         *child
	cli            *child // the running sluice command, if any
	workerLog      string
	srcPW, dstPW   string
	workflowPath   string
	workerEnv      []string // with the passwords: the worker resolves ${NAME}
	cliEnv         []string // without them: the CLI never reads a password
	startedWorker  bool
	shutdownOnce   sync.Once
	shutdownFailed bool
}

// run is the whole demo; it returns the process exit code.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	d := &demo{ctx: ctx, cfg: cfg, out: stdout, errOut: stderr}
	code := d.run(ctx)
	d.shutdown()
	if d.shutdownFailed && code == 0 {
		code = 1
	}
	return code
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "sluice-demo: "+format+"\n", args...)
}

// fail reports an error; after Ctrl-C the "error" is only the interruption.
func (d *demo) fail(format string, args ...any) int {
	if d.ctx.Err() != nil {
		return exitInterrupted
	}
	fmt.Fprintf(d.errOut, "sluice-demo: error: "+format+"\n", args...)
	return 1
}

func (d *demo) run(ctx context.Context) int {
	cfg := d.cfg
	worker := filepath.Join(cfg.BinDir, "sluice-worker")
	cli := filepath.Join(cfg.BinDir, "sluice")
	for _, f := range []struct{ path, hint string }{
		{cfg.Workflow, "run sluice-demo from the repository root (make demo)"},
		{cfg.Sample, "run sluice-demo from the repository root (make demo)"},
		{worker, "build it first: make build (make demo does)"},
		{cli, "build it first: make build (make demo does)"},
	} {
		if _, err := os.Stat(f.path); err != nil {
			return d.fail("%s not found: %s", f.path, f.hint)
		}
	}
	if err := checkAddresses(cfg); err != nil {
		return d.fail("%v", err)
	}
	if code := d.checkPorts(); code != 0 {
		return code
	}

	// A fresh demo every time: old servers' data and old workflow histories would
	// make the precheck fail (the destination would already hold `shop`).
	for _, sub := range []string{"source", "destination", "temporal", workerLogFile, credentialsFile, rewrittenWorkflow} {
		if err := os.RemoveAll(filepath.Join(cfg.Dir, sub)); err != nil {
			return d.fail("clean %s: %v", cfg.Dir, err)
		}
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return d.fail("%v", err)
	}

	if code := d.startServers(ctx); code != 0 {
		return code
	}
	if code := d.loadSample(ctx); code != 0 {
		return code
	}
	if code := d.createUsers(ctx); code != 0 {
		return code
	}
	if code := d.prepareWorkflow(); code != 0 {
		return code
	}
	if code := d.startWorker(ctx, worker); code != 0 {
		return code
	}
	d.banner()

	d.say("running: %s precheck -f %s", cli, d.workflowPath)
	pre, err := d.runCLI(cli, "precheck", "-f", d.workflowPath)
	if err != nil {
		return d.fail("%v", err)
	}
	if code, died := d.waitFor(ctx, pre, 0); died != 0 {
		return died
	} else if code < 0 {
		return exitInterrupted
	} else if code != 0 {
		if cfg.Once {
			return d.fail("sluice precheck failed (exit status %d)", code)
		}
		d.say("sluice precheck failed (exit status %d): see the report above and the UI; not starting the migration.", code)
		d.say("everything keeps running so you can look around; Ctrl-C stops it.")
		return d.idle(ctx, 1)
	}

	id, err := workflowID(d.workflowPath)
	if err != nil {
		return d.fail("%v", err)
	}
	d.say("running: %s start -f %s --follow", cli, d.workflowPath)
	follow, err := d.runCLI(cli, "start", "-f", d.workflowPath, "--follow")
	if err != nil {
		return d.fail("%v", err)
	}
	deadline := time.Time{}
	if cfg.Once {
		deadline = time.Now().Add(cfg.OnceTimeout)
	}
	// The migration runs until someone cuts over: once replication runs, the demo
	// plays the application (writes on the source), then cuts over (--once) or
	// tells the user how to.
	if code, ok := d.replicate(ctx, cli, id, follow, deadline); !ok {
		return code
	}
	var timeout time.Duration
	if cfg.Once {
		timeout = max(time.Until(deadline), time.Second)
	}
	code, died := d.waitFor(ctx, follow, timeout)
	switch {
	case died != 0:
		return died
	case code == -1 && cfg.Once:
		return exitInterrupted
	case code == -1:
		return 0 // Ctrl-C while following: the normal way to end the demo
	case code == -2:
		return d.fail("sluice start --follow did not return within %v", cfg.OnceTimeout)
	case cfg.Once && code != 0:
		return d.fail("sluice start --follow failed (exit status %d)", code)
	case cfg.Once:
		if code := d.compare(ctx); code != 0 {
			return code
		}
		d.say("sluice start --follow finished; --once: stopping")
		return 0
	case code != 0:
		d.say("sluice start --follow exited with status %d; everything keeps running until Ctrl-C.", code)
		return d.idle(ctx, 1)
	default:
		if code := d.compare(ctx); code != 0 {
			return d.idle(ctx, code)
		}
		d.say("sluice start --follow returned; everything keeps running until Ctrl-C.")
		return d.idle(ctx, 0)
	}
}

// workflowID is the ID `sluice start` gives the workflow of the file.
func workflowID(path string) (string, error) {
	s, err := spec.Load(path)
	if err != nil {
		return "", err
	}
	return s.WorkflowID(), nil
}

// appWrites is what the demo's "application" does on the source while sluice
// replicates: inserts across three tables in one transaction, updates that fire
// the source's audit trigger (its rows reach the destination through the binlog,
// the destination's copy of the trigger is only created at cutover), a price
// change and deletes.
var appWrites = []string{
	"START TRANSACTION;" +
		"INSERT INTO `shop`.`customers` (`email`, `full_name`, `country`, `preferences`, `created_at`) VALUES ('ada.replica@example.com', 'Ada Replica', 'NL', 'newsletter,push', NOW());" +
		"INSERT INTO `shop`.`orders` (`customer_id`, `ordered_at`, `total`, `shipping_address`) SELECT `id`, NOW(), 42.50, JSON_OBJECT('city', 'Delft') FROM `shop`.`customers` WHERE `email` = 'ada.replica@example.com';" +
		"INSERT INTO `shop`.`order_items` (`order_id`, `line_no`, `product_id`, `quantity`, `unit_price`) SELECT MAX(`id`), 1, 1, 2, 21.25 FROM `shop`.`orders`;" +
		"COMMIT",
	"UPDATE `shop`.`orders` SET `status` = 'paid' WHERE `status` = 'pending' ORDER BY `id` LIMIT 25",
	"UPDATE `shop`.`products` SET `price` = `price` * 1.10 WHERE `id` <= 10",
	"DELETE FROM `shop`.`order-events` ORDER BY `id` LIMIT 5",
	// Cascades to its order_items on the source, without logging them: the
	// applier deletes them on the destination.
	"DELETE FROM `shop`.`orders` WHERE `id` = 7",
}

// replicate waits until the workflow replicates, writes on the source, then cuts
// over (--once) or says how to. ok=false: the demo ends with code.
func (d *demo) replicate(ctx context.Context, cli, id string, follow *child, deadline time.Time) (code int, ok bool) {
	for {
		phase, state := d.phase(ctx, cli, id)
		if phase == "incremental" && state == "running" {
			break
		}
		if state != "" && state != "running" {
			return 0, true // ended before replicating (failed, or no incremental type): follow reports it
		}
		var timer <-chan time.Time
		if !deadline.IsZero() {
			if time.Now().After(deadline) {
				return d.fail("the workflow did not reach the incremental phase within %v", d.cfg.OnceTimeout), false
			}
			timer = time.After(time.Until(deadline))
		}
		select {
		case <-follow.done:
			return 0, true // start --follow returned: the caller reports how
		case <-ctx.Done():
			return exitInterrupted, false
		case <-d.worker.done:
			return d.workerDied(), false
		case <-timer:
		case <-time.After(2 * time.Second):
		}
	}
	d.say("replication is running; writing to the source as the application would:")
	for _, q := range appWrites {
		d.say("  %s", q)
	}
	if err := d.src.Exec(ctx, appWrites...); err != nil {
		return d.fail("write to the source: %v", err), false
	}
	if !d.cfg.Once {
		d.say("these changes reach the destination within a second (sluice status %s shows the lag).", id)
		d.say("to finish: %s cutover %s   (waits for lag <= 1s, applies the last changes, creates the triggers, completes)",
			filepath.Join(d.cfg.BinDir, "sluice"), id)
		return 0, true
	}
	d.say("running: %s cutover %s --max-lag 1s", cli, id)
	cut, err := d.runCLI(cli, "cutover", id, "--max-lag", "1s", "--timeout", "5m")
	if err != nil {
		return d.fail("%v", err), false
	}
	c, died := d.waitFor(ctx, cut, time.Until(deadline))
	switch {
	case died != 0:
		return died, false
	case c == -1:
		return exitInterrupted, false
	case c == -2:
		return d.fail("sluice cutover did not return within %v", d.cfg.OnceTimeout), false
	case c != 0:
		return d.fail("sluice cutover failed (exit status %d)", c), false
	}
	d.cli = follow
	return 0, true
}

// phase asks `sluice status --json` for the workflow's state and phase ("" when
// it cannot tell yet).
func (d *demo) phase(ctx context.Context, cli, id string) (phase, state string) {
	var out bytes.Buffer
	c, err := startChild("sluice status", d.cliEnv, &out, io.Discard, cli, "status", id, "--json")
	if err != nil {
		return "", ""
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		_ = c.stop(syscall.SIGINT, exitAfter.cli)
		return "", ""
	}
	var st struct {
		State  string `json:"state"`
		Status struct {
			Phase string `json:"phase"`
		} `json:"status"`
	}
	if c.exitCode() != 0 || json.Unmarshal(out.Bytes(), &st) != nil {
		return "", ""
	}
	return st.Status.Phase, st.State
}

// compare checks, independently of sluice, that every table of the sample
// database holds the same rows on both servers: each row read back as text (every
// column, generated ones included), compared as multisets. (Not CHECKSUM TABLE:
// MariaDB 10.11 gives tables with a STORED generated column, like order_items,
// different checksums for the same rows.)
func (d *demo) compare(ctx context.Context) int {
	src, err := d.src.Open("")
	if err != nil {
		return d.fail("%v", err)
	}
	defer src.Close()
	dst, err := d.dst.Open("")
	if err != nil {
		return d.fail("%v", err)
	}
	defer dst.Close()
	rows, err := src.QueryContext(ctx, "SELECT `TABLE_NAME` FROM information_schema.`TABLES` WHERE `TABLE_SCHEMA` = 'shop' AND `TABLE_TYPE` = 'BASE TABLE' ORDER BY 1")
	if err != nil {
		return d.fail("list the source's tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return d.fail("list the source's tables: %v", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d.fail("list the source's tables: %v", err)
	}
	var differ []string
	total := 0
	for _, t := range tables {
		a, err := readRows(ctx, src, t)
		if err != nil {
			return d.fail("read %s on the source: %v", t, err)
		}
		b, err := readRows(ctx, dst, t)
		if err != nil {
			differ = append(differ, fmt.Sprintf("%s: %v", t, err))
			continue
		}
		total += len(a)
		if diff := rowDiff(a, b); diff != "" {
			differ = append(differ, fmt.Sprintf("%s (source: %d rows, destination: %d rows):%s", t, len(a), len(b), diff))
		}
	}
	if len(differ) > 0 {
		return d.fail("source and destination differ:\n  %s", strings.Join(differ, "\n  "))
	}
	d.say("source and destination hold the same data: %d tables, %d rows (read back and compared row by row)", len(tables), total)
	return 0
}

// readRows returns every row of shop.table as text, every column named.
func readRows(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM `shop`."+testenv.QuoteIdent(table))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	raw := make([]sql.RawBytes, len(cols))
	dest := make([]any, len(cols))
	for i := range raw {
		dest[i] = &raw[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		var b strings.Builder
		for i, v := range raw {
			if v == nil {
				fmt.Fprintf(&b, " %s=NULL", cols[i])
			} else {
				fmt.Fprintf(&b, " %s=%q", cols[i], v)
			}
		}
		out = append(out, b.String())
	}
	return out, rows.Err()
}

// rowDiff names the first rows only one side holds ("" when the multisets are equal).
func rowDiff(src, dst []string) string {
	n := map[string]int{}
	for _, r := range src {
		n[r]++
	}
	for _, r := range dst {
		n[r]--
	}
	var diffs []string
	for r, c := range n {
		switch {
		case c > 0:
			diffs = append(diffs, "only on the source:"+r)
		case c < 0:
			diffs = append(diffs, "only on the destination:"+r)
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 4 {
		diffs = append(diffs[:4], fmt.Sprintf("and %d more", len(diffs)-4))
	}
	if len(diffs) == 0 {
		return ""
	}
	return "\n    " + strings.Join(diffs, "\n    ")
}

// checkAddresses rejects Temporal and UI addresses sluice-worker --dev cannot serve:
// it listens for both on one IP, the frontend's.
func checkAddresses(cfg config) error {
	feHost, fePort, err := splitAddress(cfg.TemporalAddress)
	if err != nil {
		return fmt.Errorf("--temporal-address: %w", err)
	}
	uiHost, uiPort, err := splitAddress(cfg.UIAddress)
	if err != nil {
		return fmt.Errorf("--ui-address: %w", err)
	}
	if feHost != uiHost {
		return fmt.Errorf("--ui-address %s and --temporal-address %s must have the same host: sluice-worker --dev serves both on one IP",
			cfg.UIAddress, cfg.TemporalAddress)
	}
	if fePort == uiPort {
		return fmt.Errorf("--ui-address and --temporal-address both use port %d", fePort)
	}
	return nil
}

func splitAddress(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: want host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: the port must be a number 1-65535", addr)
	}
	return host, port, nil
}

// portUse is a port the demo needs, who needs it, and how to free or move it.
type portUse struct{ addr, what, fix string }

func (d *demo) sqlPorts() []portUse {
	return []portUse{
		{net.JoinHostPort("127.0.0.1", strconv.Itoa(d.cfg.SourcePort)), "the source MariaDB", "set " + envSourcePort + " to a free port"},
		{net.JoinHostPort("127.0.0.1", strconv.Itoa(d.cfg.DestinationPort)), "the destination MariaDB", "set " + envDestinationPort + " to a free port"},
	}
}

func (d *demo) temporalPorts() []portUse {
	return []portUse{
		{d.cfg.TemporalAddress, "the Temporal frontend of sluice-worker --dev",
			"stop the other Temporal server or sluice-worker --dev (another sluice-demo?), or pass --temporal-address"},
		{d.cfg.UIAddress, "the Temporal Web UI of sluice-worker --dev",
			"stop the program that uses it (another sluice-demo or Temporal server?), or pass --ui-address"},
	}
}

// takenPorts lists the ports of uses that some other program holds now.
func takenPorts(uses []portUse) []string {
	var taken []string
	for _, u := range uses {
		l, err := net.Listen("tcp", u.addr)
		if err != nil {
			taken = append(taken, fmt.Sprintf("port %s (for %s) is already in use: %s", u.addr, u.what, u.fix))
			continue
		}
		l.Close()
	}
	return taken
}

// checkPorts says clearly which port is taken before anything starts.
func (d *demo) checkPorts() int {
	cfg := d.cfg
	if cfg.SourcePort == cfg.DestinationPort {
		return d.fail("the source and destination ports are both %d: set %s or %s", cfg.SourcePort, envSourcePort, envDestinationPort)
	}
	taken := takenPorts(append(d.sqlPorts(), d.temporalPorts()...))
	for _, t := range taken {
		fmt.Fprintf(d.errOut, "sluice-demo: error: %s\n", t)
	}
	if len(taken) > 0 {
		return 1
	}
	return 0
}

func (d *demo) startServers(ctx context.Context) int {
	d.say("starting MariaDB source on 127.0.0.1:%d and destination on 127.0.0.1:%d (data in %s)",
		d.cfg.SourcePort, d.cfg.DestinationPort, d.cfg.Dir)
	opts := []testenv.ServerOptions{
		{Name: "source", Binlog: true, TLS: true, Port: d.cfg.SourcePort, Dir: filepath.Join(d.cfg.Dir, "source")},
		{Name: "destination", Port: d.cfg.DestinationPort, Dir: filepath.Join(d.cfg.Dir, "destination")},
	}
	servers := make([]*testenv.Server, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = testenv.StartServer(ctx, opts[i])
		}()
	}
	wg.Wait()
	d.src, d.dst = servers[0], servers[1]
	if err := errors.Join(errs...); err != nil {
		if errors.Is(err, testenv.ErrNoMariaDB) {
			return d.fail("%v\n  (make demo installs it with apt when run as root)", err)
		}
		return d.fail("%v", err)
	}
	d.say("source MariaDB ready: binlog ROW/FULL/FULL metadata, GTID, TLS (CA: %s)", d.src.CAFile)
	d.say("destination MariaDB ready")
	return 0
}

func (d *demo) loadSample(ctx context.Context) int {
	sqlText, err := os.ReadFile(d.cfg.Sample)
	if err != nil {
		return d.fail("read sample: %v", err)
	}
	d.say("loading %s into the source", d.cfg.Sample)
	if err := d.src.Exec(ctx, string(sqlText)); err != nil {
		return d.fail("load %s: %v", d.cfg.Sample, err)
	}
	db, err := d.src.Open("shop")
	if err != nil {
		return d.fail("%v", err)
	}
	defer db.Close()
	var parts []string
	for _, t := range []string{"customers", "products", "orders", "order_items", "order-events"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+testenv.QuoteIdent(t)).Scan(&n); err != nil {
			return d.fail("count %s: %v", t, err)
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, t))
	}
	d.say("sample database `shop` loaded: %s", strings.Join(parts, ", "))
	return 0
}

// createUsers makes the `sluice` accounts with fresh random passwords, checks they
// can log in, and writes the passwords to DIR/credentials.env (never to the terminal).
func (d *demo) createUsers(ctx context.Context) int {
	var err error
	if d.srcPW, err = randomPassword(); err != nil {
		return d.fail("%v", err)
	}
	if d.dstPW, err = randomPassword(); err != nil {
		return d.fail("%v", err)
	}
	for _, u := range []struct {
		s      *testenv.Server
		pw     string
		grants string
	}{{d.src, d.srcPW, sourceGrants}, {d.dst, d.dstPW, destinationGrants}} {
		account := testenv.QuoteString(sluiceUser) + "@'%'"
		if err := u.s.Exec(ctx,
			"CREATE USER "+account+" IDENTIFIED BY "+testenv.QuoteString(u.pw),
			"GRANT "+u.grants+" ON *.* TO "+account,
		); err != nil {
			return d.fail("create user %s on the %s: %v", sluiceUser, u.s.Name, err)
		}
		if err := pingAs(ctx, u.s, sluiceUser, u.pw); err != nil {
			return d.fail("log in as %s on the %s: %v", sluiceUser, u.s.Name, err)
		}
	}
	d.say("created user %s on both servers (source: %s; destination: %s)", sluiceUser, sourceGrants, destinationGrants)

	creds := fmt.Sprintf("# Written by sluice-demo; valid until the next demo run.\n"+
		"%s=%s\n%s=%s\nSRC_ROOT_PASSWORD=%s\nDST_ROOT_PASSWORD=%s\n",
		sourcePasswordEnv, d.srcPW, destPasswordEnv, d.dstPW, d.src.RootPassword, d.dst.RootPassword)
	path := filepath.Join(d.cfg.Dir, credentialsFile)
	if err := os.WriteFile(path, []byte(creds), 0o600); err != nil {
		return d.fail("write %s: %v", path, err)
	}
	d.say("passwords are in %s (e.g. mariadb -h 127.0.0.1 -P %d -u %s -p)", path, d.cfg.SourcePort, sluiceUser)
	d.workerEnv, d.cliEnv = childEnvs(os.Environ(), d.cfg, d.srcPW, d.dstPW)
	return 0
}

// Variables the worker and the CLI read that the demo sets itself: an inherited
// TEMPORAL_ADDRESS (say, of a real cluster) would send the children elsewhere than
// the demo waits on, and inherited passwords must not reach any child.
var demoSetEnv = []string{
	sourcePasswordEnv, destPasswordEnv,
	"TEMPORAL_ADDRESS", "SLUICE_NAMESPACE", "SLUICE_TASK_QUEUE", // worker and CLI
	"SLUICE_DEV", "SLUICE_DATA_DIR", "SLUICE_UI_PORT", // worker
	"SLUICE_UI_URL", // CLI
}

// childEnvs derives the children's environments from the demo's own (PATH, HOME,
// locale... pass through). Only the worker gets the passwords: it resolves the
// workflow file's ${SRC_PASSWORD}/${DST_PASSWORD}; the CLI sends the file's text
// to the workflow and never reads a password, so it has no reason to hold one.
// cfg must have passed checkAddresses.
func childEnvs(base []string, cfg config, srcPW, dstPW string) (worker, cli []string) {
	var common []string
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(demoSetEnv, name) {
			common = append(common, kv)
		}
	}
	common = append(common,
		"TEMPORAL_ADDRESS="+cfg.TemporalAddress,
		"SLUICE_NAMESPACE="+cfg.Namespace,
		"SLUICE_TASK_QUEUE="+cfg.TaskQueue,
	)
	_, uiPort, _ := splitAddress(cfg.UIAddress)
	worker = append(slices.Clip(common),
		"SLUICE_UI_PORT="+strconv.Itoa(uiPort),
		sourcePasswordEnv+"="+srcPW,
		destPasswordEnv+"="+dstPW,
	)
	cli = append(slices.Clip(common), "SLUICE_UI_URL=http://"+cfg.UIAddress)
	return worker, cli
}

func pingAs(ctx context.Context, s *testenv.Server, user, pw string) error {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	cfg.User, cfg.Passwd = user, pw
	cfg.Timeout = 10 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	return db.PingContext(ctx)
}

// prepareWorkflow uses the workflow file as is, or a copy with the ports replaced
// when the servers run on other ports than the file names.
func (d *demo) prepareWorkflow() int {
	d.workflowPath = d.cfg.Workflow
	if d.cfg.SourcePort == defaultSourcePort && d.cfg.DestinationPort == defaultDestinationPort {
		return 0
	}
	text, err := os.ReadFile(d.cfg.Workflow)
	if err != nil {
		return d.fail("read %s: %v", d.cfg.Workflow, err)
	}
	out, err := rewritePorts(text, map[int]int{
		defaultSourcePort:      d.cfg.SourcePort,
		defaultDestinationPort: d.cfg.DestinationPort,
	})
	if err != nil {
		return d.fail("%s: %v", d.cfg.Workflow, err)
	}
	d.workflowPath = filepath.Join(d.cfg.Dir, rewrittenWorkflow)
	if err := os.WriteFile(d.workflowPath, out, 0o644); err != nil {
		return d.fail("write %s: %v", d.workflowPath, err)
	}
	d.say("servers run on other ports than %s names: using the copy %s", d.cfg.Workflow, d.workflowPath)
	return 0
}

var portRE = regexp.MustCompile(`(\bport:\s*)(\d+)\b`)

// rewritePorts replaces `port: OLD` values in a workflow file, keeping everything else.
func rewritePorts(text []byte, ports map[int]int) ([]byte, error) {
	found := map[int]bool{}
	out := portRE.ReplaceAllFunc(text, func(m []byte) []byte {
		sub := portRE.FindSubmatch(m)
		old, _ := strconv.Atoi(string(sub[2]))
		if to, ok := ports[old]; ok {
			found[old] = true
			return []byte(string(sub[1]) + strconv.Itoa(to))
		}
		return m
	})
	for old, to := range ports {
		if old != to && !found[old] {
			return nil, fmt.Errorf("no `port: %d` to replace with %d", old, to)
		}
	}
	return out, nil
}

func (d *demo) startWorker(ctx context.Context, worker string) int {
	dataDir := filepath.Join(d.cfg.Dir, "temporal")
	d.workerLog = filepath.Join(d.cfg.Dir, workerLogFile)
	logFile, err := os.Create(d.workerLog)
	if err != nil {
		return d.fail("%v", err)
	}
	var w io.Writer = logFile
	if d.cfg.StreamWorker {
		w = io.MultiWriter(logFile, newPrefixWriter(d.out, "worker | "))
	}
	d.say("starting %s --dev --data-dir %s (Temporal on %s, Web UI on %s; log: %s)",
		worker, dataDir, d.cfg.TemporalAddress, d.cfg.UIAddress, d.workerLog)
	d.worker, err = startChild("sluice-worker", d.workerEnv, w, w, worker, "--dev", "--data-dir", dataDir)
	logFile.Close() // the child has its own descriptor
	if err != nil {
		return d.fail("%v", err)
	}
	d.startedWorker = true

	// Ready means: the frontend accepts connections, and the worker polls its task
	// queue (the CLI refuses to start a workflow nobody would run). The pollers are
	// read from the Web UI's HTTP API, which also proves the UI is serving.
	deadline := time.NewTimer(d.cfg.ReadyTimeout)
	defer deadline.Stop()
	answered, frontendUp := false, false
	for {
		// Checked first: if another program took the frontend or UI port after
		// checkPorts, the dial and even the poller query below succeed against it
		// while the worker fails on that port.
		if d.worker.exited() {
			return d.workerStartFailed()
		}
		// So a frontend that answers is announced one poll later, with the worker
		// still running, rather than at once.
		if answered && !frontendUp {
			frontendUp = true
			d.say("Temporal frontend is up on %s; waiting for the worker to poll task queue %q", d.cfg.TemporalAddress, d.cfg.TaskQueue)
		}
		if !answered {
			if c, err := net.DialTimeout("tcp", d.cfg.TemporalAddress, time.Second); err == nil {
				c.Close()
				answered = true
			}
		}
		if frontendUp && d.pollersPresent(ctx) && !d.worker.exited() {
			d.say("sluice-worker is ready")
			return 0
		}
		select {
		case <-d.worker.done:
			return d.workerStartFailed()
		case <-ctx.Done():
			return exitInterrupted
		case <-deadline.C:
			what := "open " + d.cfg.TemporalAddress
			if frontendUp {
				what = fmt.Sprintf("poll task queue %q (checked at http://%s)", d.cfg.TaskQueue, d.cfg.UIAddress)
			}
			return d.fail("sluice-worker did not %s within %v; last lines of %s:\n%s",
				what, d.cfg.ReadyTimeout, d.workerLog, tail(d.workerLog, 30))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// workerStartFailed reports a worker that exited before it was ready. The usual cause
// is a Temporal or UI port taken after checkPorts (e.g. by a second demo started
// meanwhile): the worker logs that, and the demo names the port and its own flag.
func (d *demo) workerStartFailed() int {
	var b strings.Builder
	fmt.Fprintf(&b, "sluice-worker exited during start-up (%v)", d.worker.err)
	for _, t := range takenPorts(d.temporalPorts()) {
		fmt.Fprintf(&b, "\n  %s", t)
	}
	fmt.Fprintf(&b, "\n  last lines of %s:\n%s", d.workerLog, indent(tail(d.workerLog, 30), "    "))
	return d.fail("%s", b.String())
}

// pollersPresent asks the Web UI's HTTP API whether both the workflow and the
// activity side of the task queue have a poller.
func (d *demo) pollersPresent(ctx context.Context) bool {
	for _, typ := range []string{"1", "2"} { // TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY
		u := url.URL{
			Scheme:   "http",
			Host:     d.cfg.UIAddress,
			Path:     "/api/v1/namespaces/" + d.cfg.Namespace + "/task-queues/" + d.cfg.TaskQueue,
			RawQuery: "taskQueueType=" + typ,
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
		if err != nil {
			cancel()
			return false
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			return false
		}
		var body struct {
			Pollers []json.RawMessage `json:"pollers"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
		resp.Body.Close()
		cancel()
		if err != nil || resp.StatusCode != http.StatusOK || len(body.Pollers) == 0 {
			return false
		}
	}
	return true
}

func (d *demo) banner() {
	url := "http://" + d.cfg.UIAddress
	line := strings.Repeat("=", 66)
	fmt.Fprintf(d.out, "\n%s\n  Temporal Web UI:  %s\n  workflows:        %s/namespaces/%s/workflows\n%s\n\n",
		line, url, url, d.cfg.Namespace, line)
}

func (d *demo) runCLI(cli string, args ...string) (*child, error) {
	c, err := startChild("sluice "+args[0], d.cliEnv, d.out, d.errOut, cli, args...)
	if err == nil {
		d.cli = c
	}
	return c, err
}

// waitFor waits for c to exit. It returns c's exit code, -1 when interrupted, -2
// on timeout; died is non-zero (the exit code for the demo) when the worker or a
// server died meanwhile.
func (d *demo) waitFor(ctx context.Context, c *child, timeout time.Duration) (code, died int) {
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-c.done:
		return c.exitCode(), 0
	case <-ctx.Done():
		return -1, 0
	case <-timer:
		return -2, 0
	case <-d.worker.done:
		return 0, d.workerDied()
	case <-d.src.Exited():
		return 0, d.serverDied(d.src)
	case <-d.dst.Exited():
		return 0, d.serverDied(d.dst)
	}
}

// idle keeps everything running until Ctrl-C, or until something dies.
func (d *demo) idle(ctx context.Context, code int) int {
	d.say("press Ctrl-C to stop the worker and both servers")
	select {
	case <-ctx.Done():
		return code
	case <-d.worker.done:
		return d.workerDied()
	case <-d.src.Exited():
		return d.serverDied(d.src)
	case <-d.dst.Exited():
		return d.serverDied(d.dst)
	}
}

func (d *demo) workerDied() int {
	return d.fail("sluice-worker exited unexpectedly (%v); last lines of %s:\n%s", d.worker.err, d.workerLog, indent(tail(d.workerLog, 30), "    "))
}

func (d *demo) serverDied(s *testenv.Server) int {
	return d.fail("the %s MariaDB exited unexpectedly (%v); last lines of %s:\n%s", s.Name, s.ExitErr(), s.ErrorLog(), s.LogTail(30))
}

// shutdown stops, in order, what the run started: the CLI, the worker, the servers.
func (d *demo) shutdown() {
	d.shutdownOnce.Do(func() {
		if d.cli != nil && !d.cli.exited() {
			d.say("stopping %s", d.cli.name)
			if err := d.cli.stop(syscall.SIGINT, exitAfter.cli); err != nil {
				fmt.Fprintf(d.errOut, "sluice-demo: error: %v\n", err)
			}
		}
		if d.worker != nil {
			if d.worker.exited() {
				d.say("sluice-worker had already stopped")
			} else {
				d.say("stopping sluice-worker")
				if err := d.worker.stop(syscall.SIGTERM, exitAfter.worker); err != nil {
					fmt.Fprintf(d.errOut, "sluice-demo: error: %v\n", err)
					d.shutdownFailed = true
				} else {
					d.say("stopped sluice-worker")
				}
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range []*testenv.Server{d.src, d.dst} {
			if s == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Stop()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					fmt.Fprintf(d.errOut, "sluice-demo: error: %v\n", err)
					d.shutdownFailed = true
					return
				}
				d.say("stopped the %s MariaDB (127.0.0.1:%d)", s.Name, s.Port)
			}()
		}
		wg.Wait()
		if d.src != nil || d.startedWorker {
			d.say("all stopped; data and logs stay in %s until the next run", d.cfg.Dir)
		}
	})
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// prefixWriter prefixes every line, so interleaved worker lines stay recognizable.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			// Keep the incomplete line for the next write.
			rest := append([]byte(nil), line...)
			p.buf.Reset()
			p.buf.Write(rest)
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s", p.prefix, line); err != nil {
			return len(b), err
		}
	}
}

// child is a started program whose exit is watched.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startChild(name string, env []string, stdout, stderr io.Writer, path string, args ...string) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = testenv.ChildProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *child) exitCode() int {
	if c.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode()
	}
	return 1
}

// stop signals the child and kills it when it has not exited after grace.
func (c *child) stop(sig syscall.Signal, grace time.Duration) error {
	if c.exited() {
		return nil
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("%s did not stop within %v and was killed", c.name, grace)
}
