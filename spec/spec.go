// Package spec is the workflow-file model: the YAML a user writes, decoded strictly,
// validated without touching a database, and passed (secret-free) as the Temporal
// workflow input.
package spec

import (
	"net"
	"strconv"
	"time"
)

// When triggers are created on the destination (options.triggers).
const (
	TriggersAfterFull    = "after-full"
	TriggersAfterCutover = "after-cutover"
)

// MigrationType is one phase the user asks for.
type MigrationType string

const (
	TypeSchema      MigrationType = "schema"
	TypeFull        MigrationType = "full"
	TypeIncremental MigrationType = "incremental"
)

// Spec is a whole workflow file. It travels as the workflow input and is stored in
// Temporal history in plain text, so it never holds a secret: passwords are only
// references (${NAME} or password_file) that the worker expands.
type Spec struct {
	Name        string          `yaml:"name" json:"name"`
	Source      Endpoint        `yaml:"source" json:"source"`
	Destination Endpoint        `yaml:"destination" json:"destination"`
	Types       []MigrationType `yaml:"types" json:"types"`
	Objects     []Object        `yaml:"objects" json:"objects"`
	Options     Options         `yaml:"options" json:"options"`

	// File is the path the spec was loaded from (for messages), not a YAML key.
	File string `yaml:"-" json:"file,omitempty"`

	// pos maps field paths to where they were written, for validation messages.
	// Unexported: it never travels in the workflow input.
	pos *positions
}

// Endpoint is a MySQL-compatible server to connect to.
type Endpoint struct {
	Host string `yaml:"host" json:"host"`
	Port int    `yaml:"port" json:"port"`
	User string `yaml:"user" json:"user"`
	// Password is empty or a reference "${NAME}" expanded from the worker's environment.
	Password string `yaml:"password" json:"password,omitempty"`
	// PasswordFile is a path on the worker whose content (trailing newline trimmed) is the password.
	PasswordFile string `yaml:"password_file" json:"password_file,omitempty"`
	TLS          TLS    `yaml:"tls" json:"tls"`
}

// TLS modes follow the MySQL client's --ssl-mode.
type TLS struct {
	Mode       string `yaml:"mode" json:"mode,omitempty"` // disabled|preferred|required|verify-ca|verify-identity
	CA         string `yaml:"ca" json:"ca,omitempty"`     // PEM file path on the worker
	Cert       string `yaml:"cert" json:"cert,omitempty"`
	Key        string `yaml:"key" json:"key,omitempty"`
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// Object selects tables of one source database.
type Object struct {
	Database      string   `yaml:"database" json:"database"`
	To            string   `yaml:"to" json:"to,omitempty"`
	Tables        []Table  `yaml:"tables" json:"tables"`
	ExcludeTables []string `yaml:"exclude_tables" json:"exclude_tables,omitempty"`
}

// Table is one entry of `tables:`. In YAML it is either a plain string (a name or a
// glob) or a mapping with the fields below.
type Table struct {
	Name           string            `yaml:"name" json:"name"`
	To             string            `yaml:"to" json:"to,omitempty"`
	Columns        map[string]string `yaml:"columns" json:"columns,omitempty"` // source column -> destination column
	ExcludeColumns []string          `yaml:"exclude_columns" json:"exclude_columns,omitempty"`
	Filter         string            `yaml:"filter" json:"filter,omitempty"`
	Transform      map[string]string `yaml:"transform" json:"transform,omitempty"`
	Operations     []string          `yaml:"operations" json:"operations,omitempty"` // insert|update|delete|ddl

	// ExprLines places the filter and transform expressions in the workflow file
	// ("filter", "transform.<column>" → where each line of the expression
	// starts), so the worker's precheck can point at a column inside one. Not a
	// YAML key; it travels in the workflow input with the expressions.
	ExprLines map[string][]Pos `yaml:"-" json:"expr_lines,omitempty"`
}

// ExprPos maps a 1-based line and column inside one of the entry's expressions
// (key "filter" or "transform.<column>") to the file; ok=false when unknown.
func (t Table) ExprPos(key string, line, col int) (Pos, bool) {
	starts := t.ExprLines[key]
	if line < 1 || line > len(starts) {
		return Pos{}, false
	}
	p := starts[line-1]
	return Pos{Line: p.Line, Column: p.Column + col - 1}, true
}

// Options are the task-wide settings.
type Options struct {
	Conflicts      string      `yaml:"conflicts" json:"conflicts"`   // precheck|ignore
	Case           string      `yaml:"case" json:"case"`             // default|source|destination|lower|upper
	Triggers       string      `yaml:"triggers" json:"triggers"`     // after-full|after-cutover
	OnlineDDL      string      `yaml:"online_ddl" json:"online_ddl"` // none|gh-ost
	GhOst          GhOst       `yaml:"gh_ost" json:"gh_ost"`
	Accounts       bool        `yaml:"accounts" json:"accounts"`
	Incremental    Incremental `yaml:"incremental" json:"incremental"`
	Full           Full        `yaml:"full" json:"full"`
	Retry          Retry       `yaml:"retry" json:"retry"`
	Throttle       Throttle    `yaml:"throttle" json:"throttle"`
	IgnoreWarnings []string    `yaml:"ignore_warnings" json:"ignore_warnings,omitempty"`
	// Heartbeat (default true) writes `sluice`.`heartbeat` on the source every
	// second during incremental replication, so lag is exact on an idle source.
	Heartbeat *bool `yaml:"heartbeat" json:"heartbeat,omitempty"`
	ETL       ETL   `yaml:"etl" json:"etl"`
	// Alerts are POSTed to a webhook when the task fails or lags.
	Alerts Alerts `yaml:"alerts" json:"alerts"`
	// Verify compares the source and the destination during the migration.
	Verify Verify `yaml:"verify" json:"verify"`
}

// Verify: verification run by the migration itself (sluice verify runs one on
// demand). AfterFull compares every table once the full copy is done (with
// incremental, once replication has caught up with the source after it, so
// the copy's safe mode is over); Continuous keeps comparing during
// replication, one round every Interval, at most RPS rows per second.
type Verify struct {
	AfterFull  bool     `yaml:"after_full" json:"after_full,omitempty"`
	Continuous bool     `yaml:"continuous" json:"continuous,omitempty"`
	Interval   Duration `yaml:"interval" json:"interval,omitempty"`
	// RPS bounds the rows compared per second (0: unlimited).
	RPS int `yaml:"rps" json:"rps,omitempty"`
	// Parallel is the ranges compared at once (0: DefaultVerifyParallel).
	Parallel int `yaml:"parallel" json:"parallel,omitempty"`
}

// Verification defaults and bounds.
const (
	DefaultVerifyInterval = Duration(10 * time.Minute)
	MinVerifyInterval     = Duration(10 * time.Second)
	DefaultVerifyParallel = 2
)

// On reports whether the migration verifies at all.
func (v Verify) On() bool { return v.AfterFull || v.Continuous }

// Every is the pause between continuous rounds.
func (v Verify) Every() time.Duration {
	if v.Interval == 0 {
		return DefaultVerifyInterval.D()
	}
	return v.Interval.D()
}

// Alerts: a JSON payload POSTed to Webhook (retried, never holding the data path)
// when the task fails, and when replication lag stays above Lag.Threshold for
// Lag.For (and again when it is back under).
type Alerts struct {
	// Webhook is a ${NAME} reference to a worker environment variable holding
	// the URL (webhook URLs carry tokens; the file is stored in the history).
	Webhook string `yaml:"webhook" json:"webhook,omitempty"`
	// OnFailure (default true) alerts when the task fails.
	OnFailure *bool    `yaml:"on_failure" json:"on_failure,omitempty"`
	Lag       LagAlert `yaml:"lag" json:"lag"`
}

// LagAlert: Threshold 0 = no lag alert.
type LagAlert struct {
	Threshold Duration `yaml:"threshold" json:"threshold,omitempty"`
	For       Duration `yaml:"for" json:"for,omitempty"`
}

// AlertOnFailure reports whether a failure is alerted.
func (a Alerts) AlertOnFailure() bool { return a.Webhook != "" && (a.OnFailure == nil || *a.OnFailure) }

// WebhookRef returns NAME for a webhook written as ${NAME}.
func (a Alerts) WebhookRef() (envName string, ok bool) {
	m := envRef.FindStringSubmatch(a.Webhook)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ETL settles what a filter or transform that fails on a row does.
type ETL struct {
	// OnError: fail (default) stops the task naming the table, key and
	// expression; skip leaves the row out and counts it.
	OnError string `yaml:"on_error" json:"on_error,omitempty"`
}

// ETL on_error values.
const (
	ETLFail = "fail"
	ETLSkip = "skip"
)

// HeartbeatOn reports whether the source heartbeat table is written.
func (o Options) HeartbeatOn() bool { return o.Heartbeat == nil || *o.Heartbeat }

// GhOst recognises the tables gh-ost creates, by name: Go regular expressions
// (RE2 syntax) matched against table names. The precheck reports tables matching
// either as leftovers; with online_ddl: gh-ost, incremental migration will follow a
// shadow table into the table whose name its first capture group holds.
type GhOst struct {
	// ShadowTable matches the table gh-ost builds and swaps in (_<table>_gho).
	ShadowTable string `yaml:"shadow_table" json:"shadow_table"`
	// TrashTable matches its changelog table and the original it renames away
	// (_<table>_ghc, _<table>_del, _<table>_<timestamp>_del).
	TrashTable string `yaml:"trash_table" json:"trash_table"`
}

// Incremental holds settings of incremental migration.
type Incremental struct {
	// Start is where a workflow of types [incremental] starts reading the source's
	// binlog; zero means the source's position when the workflow starts.
	Start BinlogPosition `yaml:"start" json:"start"`
	// Parallel is the number of destination connections applying transactions
	// concurrently (0 = 4).
	Parallel int `yaml:"parallel" json:"parallel,omitempty"`
}

// BinlogPosition is a place in the source's binlog, written either as a file and
// offset (what SHOW BINARY LOG STATUS, mysqldump --source-data and mariabackup
// report) or as a GTID position in the source's own format.
type BinlogPosition struct {
	BinlogFile string `yaml:"binlog_file" json:"binlog_file,omitempty"`
	BinlogPos  int64  `yaml:"binlog_pos" json:"binlog_pos,omitempty"`
	// GTID is a MariaDB position (0-1-100, one domain-server-sequence per domain: the
	// last transaction already applied) or a MySQL GTID set (uuid:1-100: every
	// transaction already applied).
	GTID string `yaml:"gtid" json:"gtid,omitempty"`
}

// IsZero reports that no position is given.
func (p BinlogPosition) IsZero() bool { return p == BinlogPosition{} }

// Retry windows (DTS ranges): connection 10–1440 min, other 1–1440 min and below connection.
// Values are Go durations ("720m", "12h").
type Retry struct {
	Connection Duration `yaml:"connection" json:"connection"`
	Other      Duration `yaml:"other" json:"other"`
}

// Full tunes the full copy.
type Full struct {
	// Parallel bounds the chunk copies in flight across all workers; 0 = twice the
	// cores of the worker that plans the copy.
	Parallel int `yaml:"parallel" json:"parallel,omitempty"`
	// DeferIndexes (default true) creates tables without their plain secondary
	// indexes and adds them when the table's rows are copied (ddl.SplitIndexes).
	// Only with conflicts: precheck, where the schema phase creates the tables.
	DeferIndexes *bool `yaml:"defer_indexes" json:"defer_indexes,omitempty"`
}

// Defer reports whether secondary indexes are added after the copy.
func (f Full) Defer() bool { return f.DeferIndexes == nil || *f.DeferIndexes }

// MaxIncrementalParallel bounds options.incremental.parallel (destination
// connections of the applier).
const MaxIncrementalParallel = 64

// MaxFullParallel bounds options.full.parallel: each chunk holds a connection on both
// servers.
const MaxFullParallel = 256

type Throttle struct {
	Full        ThrottleLimits `yaml:"full" json:"full"`
	Incremental ThrottleLimits `yaml:"incremental" json:"incremental"`
}

// ThrottleLimits: 0 means unlimited.
type ThrottleLimits struct {
	SourceQPS int     `yaml:"source_qps" json:"source_qps,omitempty"`
	RPS       int     `yaml:"rps" json:"rps,omitempty"`
	MBPS      float64 `yaml:"mbps" json:"mbps,omitempty"`
}

// Has reports whether t is among the chosen migration types.
func (s *Spec) Has(t MigrationType) bool {
	for _, x := range s.Types {
		if x == t {
			return true
		}
	}
	return false
}

// Address is host:port, IPv6-safe.
func (e Endpoint) Address() string {
	port := e.Port
	if port == 0 {
		port = 3306
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(port))
}
