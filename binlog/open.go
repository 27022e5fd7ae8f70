// Package binlog reads a source's binary log with go-mysql's replication.BinlogSyncer
// and decodes row events into exactly the Go values the full copy's reader
// (rowcodec) yields for the same rows, so the incremental applier writes them with
// rowcodec's writers unchanged. It yields typed events (transaction boundaries, row
// changes, statements, heartbeats) with the position after each, and reconnects by
// itself from the last transaction boundary. README.md records the decisions.
package binlog

import (
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/spec"
)

// Position is a place in the source's binlog. Its fields match inspect.Position, so
// a position recorded there converts with binlog.Position(p).
type Position struct {
	File string
	Pos  uint64
	// GTID is the GTID position in the flavor's format (MariaDB "0-1-100,1-2-5",
	// MySQL "uuid:1-5"); "" when unknown or when the server logs no GTIDs.
	GTID string
}

func (p Position) String() string {
	s := fmt.Sprintf("%s:%d", p.File, p.Pos)
	if p.GTID != "" {
		s += " (gtid " + p.GTID + ")"
	}
	return s
}

// Defaults of Config.
const (
	DefaultHeartbeatPeriod   = time.Second
	DefaultReconnectAttempts = 30
	// readTimeoutHeartbeats: ReadTimeout defaults to this many heartbeat periods
	// (at least minReadTimeout), so one late heartbeat is not a lost connection.
	readTimeoutHeartbeats = 10
	minReadTimeout        = 10 * time.Second
	// eventCache bounds the events go-mysql buffers ahead of the reader: row events
	// are ~8 KiB (binlog_row_event_max_size) but one big BLOB row makes one big event.
	eventCache = 256
)

// Config says how to read a source's binlog.
type Config struct {
	// Endpoint is the source. Its password is resolved with Env (dbconn.Password);
	// its TLS settings are dbconn's, for the SQL and the replication connections.
	Endpoint spec.Endpoint
	// Env looks up ${NAME} password references (os.LookupEnv on a worker).
	Env dbconn.LookupFunc
	// ServerID is the replica server id this reader registers with. It must differ
	// from the source's @@server_id and from every other replica of the source
	// (a second connection with the same id makes the server drop the first):
	// ServerIDFor derives one per migration.
	ServerID uint32
	// Lookup gives the table definitions the decoder checks TableMaps against.
	Lookup Lookup
	// HeartbeatPeriod is how often an idle source sends a heartbeat (default 1s).
	HeartbeatPeriod time.Duration
	// ReadTimeout is how long a silent connection is trusted before it is
	// dropped and reopened (default 10 heartbeats, at least 10s).
	ReadTimeout time.Duration
	// ReconnectAttempts is how many consecutive failed reconnects Next makes before
	// it returns the error (0: DefaultReconnectAttempts; < 0: forever). Waits grow
	// from 1s to 10s between attempts.
	ReconnectAttempts int
	// Logger receives go-mysql's messages (default: discarded).
	Logger *slog.Logger
}

// ServerIDFor derives a replica server id from a name (a migration's id), in
// [2^30, 2^31): away from the small ids servers are usually given.
func ServerIDFor(name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 1<<30 | h.Sum32()&(1<<30-1)
}

// Open connects to the source, checks what decoding relies on (ROW format, FULL
// row image, FULL row metadata, a server id of its own) and starts reading at
// start:
//   - File set: from File/Pos; start.GTID is taken as the GTID position there on
//     MySQL, computed with BINLOG_GTID_POS on MariaDB.
//   - File empty, GTID set: after the transactions of the GTID set.
//   - both empty: from the source's current position.
//
// Resuming from the Pos of a Commit event yields exactly the transactions after it.
func Open(ctx context.Context, cfg Config, start Position) (*Stream, error) {
	if cfg.ServerID == 0 {
		return nil, errors.New("binlog: ServerID must be set (0 is refused by the server): use ServerIDFor")
	}
	if cfg.Lookup == nil {
		return nil, errors.New("binlog: Lookup must be set")
	}
	if cfg.HeartbeatPeriod <= 0 {
		cfg.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = max(readTimeoutHeartbeats*cfg.HeartbeatPeriod, minReadTimeout)
	}
	if cfg.ReadTimeout <= cfg.HeartbeatPeriod {
		return nil, fmt.Errorf("binlog: ReadTimeout %s must be longer than HeartbeatPeriod %s", cfg.ReadTimeout, cfg.HeartbeatPeriod)
	}
	if cfg.ReconnectAttempts == 0 {
		cfg.ReconnectAttempts = DefaultReconnectAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Env == nil {
		cfg.Env = func(string) (string, bool) { return "", false }
	}
	pw, err := dbconn.Password(cfg.Endpoint, cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("binlog: source: %w", err)
	}
	db, err := dbconn.Open(ctx, "source", cfg.Endpoint, cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("binlog: %w", err)
	}
	defer db.Close()
	src, err := inspectSource(ctx, db, cfg, start)
	if err != nil {
		return nil, err
	}
	tlsConf, err := replicationTLS(ctx, db, cfg.Endpoint, pw)
	if err != nil {
		return nil, err
	}
	port := cfg.Endpoint.Port
	if port == 0 {
		port = spec.DefaultPort
	}
	s := &Stream{
		cfg:      cfg,
		flavor:   src.flavor,
		charsets: src.charsets,
		byGTID:   src.start.File == "",
		file:     src.start.File,
		pos:      src.start.Pos,
		plans:    map[uint64]*planEntry{},
		syncCfg: replication.BinlogSyncerConfig{
			ServerID:                cfg.ServerID,
			Flavor:                  src.flavor,
			Host:                    cfg.Endpoint.Host,
			Port:                    uint16(port),
			User:                    cfg.Endpoint.User,
			Password:                pw,
			TLSConfig:               tlsConf,
			TimestampStringLocation: time.UTC,
			RenderJSONAsMySQLText:   true,
			HeartbeatPeriod:         cfg.HeartbeatPeriod,
			ReadTimeout:             cfg.ReadTimeout,
			// Reconnects are the Stream's: go-mysql's own resume from the last
			// event it read (file/pos mode: mid-transaction, invisibly) or from
			// before the last transaction it saw (GTID mode: which replays a
			// committed one). The Stream restarts at the last commit it handed out
			// and says so with a Rollback event.
			DisableRetrySync: true,
			VerifyChecksum:   true,
			DiscardGTIDSet:   true,
			EventCacheCount:  eventCache,
			// MariaDB 11.4+ leaves LogPos 0 in some events; go-mysql computes it.
			FillZeroLogPos: src.flavor == mysql.MariaDBFlavor && src.version.AtLeast(11, 4, 0),
			Logger:         cfg.Logger,
		},
	}
	s.committed = src.start
	if s.gset, err = mysql.ParseGTIDSet(src.flavor, src.start.GTID); err != nil {
		return nil, fmt.Errorf("binlog: start GTID %q: %w", src.start.GTID, err)
	}
	s.gtidKnown = src.start.GTID != ""
	if err := s.connect(); err != nil {
		return nil, err
	}
	return s, nil
}

type sourceInfo struct {
	flavor   string
	version  flavor.Flavor
	start    Position
	charsets map[uint64]string
}

// inspectSource detects the flavor, checks the settings decoding relies on and
// resolves the start position.
func inspectSource(ctx context.Context, db *sql.DB, cfg Config, start Position) (*sourceInfo, error) {
	var version, comment string
	var serverID uint64
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment, @@server_id").Scan(&version, &comment, &serverID); err != nil {
		return nil, fmt.Errorf("binlog: read the source's version: %w", err)
	}
	fl, err := flavor.Detect(version, comment)
	if err != nil {
		return nil, fmt.Errorf("binlog: %w", err)
	}
	info := &sourceInfo{version: fl}
	switch fl.Kind {
	case flavor.MariaDB:
		info.flavor = mysql.MariaDBFlavor
	case flavor.MySQL:
		info.flavor = mysql.MySQLFlavor
	default:
		return nil, fmt.Errorf("binlog: %s has no MySQL binary log to read", fl)
	}
	if uint64(cfg.ServerID) == serverID {
		return nil, fmt.Errorf("binlog: ServerID %d is the source's own @@server_id: pick another", cfg.ServerID)
	}
	vars := map[string]string{}
	rows, err := db.QueryContext(ctx, `SHOW GLOBAL VARIABLES WHERE Variable_name IN
		('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'binlog_row_value_options')`)
	if err != nil {
		return nil, fmt.Errorf("binlog: read the source's binlog settings: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("binlog: read the source's binlog settings: %w", err)
		}
		vars[strings.ToLower(k)] = strings.ToUpper(v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binlog: read the source's binlog settings: %w", err)
	}
	if err := checkSettings(vars); err != nil {
		return nil, err
	}
	if info.charsets, err = loadCharsets(ctx, db); err != nil {
		return nil, err
	}
	switch {
	case start.File == "" && start.GTID == "":
		now, err := inspect.BinlogPosition(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("binlog: current position: %w", err)
		}
		start = Position(*now)
	case start.File != "" && info.flavor == mysql.MariaDBFlavor:
		// The GTID position at the file position, so the positions handed out
		// carry GTIDs from the first commit on. Computed even when given: a
		// recorded one may have been read a transaction after the file position.
		var g sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", start.File, start.Pos).Scan(&g); err != nil {
			return nil, fmt.Errorf("binlog: GTID position at %s: %w", start, err)
		}
		if !g.Valid {
			return nil, fmt.Errorf("binlog: %s is not a position in the source's binary logs", start)
		}
		start.GTID = g.String
	}
	if start.File != "" && start.Pos < 4 {
		start.Pos = 4 // the first event of a file follows its 4-byte magic number
	}
	info.start = start
	return info, nil
}

// checkSettings refuses a source whose binlog cannot be decoded exactly.
func checkSettings(v map[string]string) error {
	var bad []string
	if on := v["log_bin"]; on != "ON" && on != "1" {
		bad = append(bad, "log_bin is off")
	}
	if f := v["binlog_format"]; f != "ROW" {
		bad = append(bad, "binlog_format="+f+" (need ROW)")
	}
	if f := v["binlog_row_image"]; f != "FULL" {
		bad = append(bad, "binlog_row_image="+f+" (need FULL)")
	}
	if m, ok := v["binlog_row_metadata"]; !ok || m != "FULL" {
		bad = append(bad, "binlog_row_metadata="+m+" (need FULL: column names, signedness, ENUM/SET values)")
	}
	if o := v["binlog_row_value_options"]; strings.Contains(o, "PARTIAL_JSON") {
		bad = append(bad, "binlog_row_value_options="+o+" (partial JSON updates cannot be applied)")
	}
	if len(bad) > 0 {
		return fmt.Errorf("binlog: the source's binlog cannot be decoded exactly: %s", strings.Join(bad, "; "))
	}
	return nil
}

// loadCharsets maps collation ids to charset names, to check the TableMap's
// collations against the schema's charsets.
func loadCharsets(ctx context.Context, db *sql.DB) (map[uint64]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("binlog: read collations: %w", err)
	}
	defer rows.Close()
	m := map[uint64]string{}
	for rows.Next() {
		var id uint64
		var cs string
		if err := rows.Scan(&id, &cs); err != nil {
			return nil, fmt.Errorf("binlog: read collations: %w", err)
		}
		m[id] = cs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binlog: read collations: %w", err)
	}
	return m, nil
}

// replicationTLS is dbconn's TLS configuration for the replication connection.
// dbconn's "preferred" falls back to plaintext when the server has no TLS, which
// go-mysql does not do: the SQL connection tells whether TLS was negotiated.
func replicationTLS(ctx context.Context, db *sql.DB, ep spec.Endpoint, pw string) (*tls.Config, error) {
	c, err := dbconn.Config(ep, pw)
	if err != nil {
		return nil, fmt.Errorf("binlog: source: %w", err)
	}
	if c.TLS == nil || !c.AllowFallbackToPlaintext {
		return c.TLS, nil
	}
	var name, cipher string
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil {
		return nil, fmt.Errorf("binlog: read the source's TLS status: %w", err)
	}
	if cipher == "" {
		return nil, nil
	}
	return c.TLS, nil
}

// Compare orders two positions of one server by file and offset: -1, 0 or 1. File
// names are base.NNNNNN; a longer number is later (the server widens it past
// 999999), and names compare as text otherwise.
func (p Position) Compare(q Position) int {
	if p.File != q.File {
		a, b := fileSeq(p.File), fileSeq(q.File)
		switch {
		case len(a) != len(b):
			return cmpInt(len(a), len(b))
		case a != b:
			return strings.Compare(a, b)
		}
		return strings.Compare(p.File, q.File)
	}
	switch {
	case p.Pos < q.Pos:
		return -1
	case p.Pos > q.Pos:
		return 1
	}
	return 0
}

func fileSeq(f string) string {
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		return strings.TrimLeft(f[i+1:], "0")
	}
	return f
}

func cmpInt(a, b int) int {
	if a < b {
		return -1
	}
	return 1
}
