package spec

import (
	"github.com/sluice-dev/sluice/suggest"

	"fmt"
	"math"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/etl/syntax"
	"github.com/sluice-dev/sluice/flavor"
)

// Allowed values of the enumerated fields, in documentation order.
var (
	AllTypes      = []MigrationType{TypeSchema, TypeFull, TypeIncremental}
	TLSModes      = []string{"disabled", "preferred", "required", "verify-ca", "verify-identity"}
	ConflictModes = []string{"precheck", "ignore"}
	CaseModes     = []string{"default", "source", "destination", "lower", "upper"}
	TriggerModes  = []string{TriggersAfterFull, TriggersAfterCutover}
	OnlineDDLs    = []string{"none", "gh-ost"}
)

// Limits checked without a database.
const (
	// MaxNameLength keeps "sluice-" + name a comfortable Temporal workflow ID.
	MaxNameLength = 200
	// MaxRenamedTables is DTS's limit on one task that renames tables or columns.
	MaxRenamedTables = 1000
	// MaxIdentifierLength is MySQL's limit for database, table and column names.
	MaxIdentifierLength = 64
)

// DTS's retry ranges.
var (
	RetryConnectionMin = Duration(10 * time.Minute)
	RetryOtherMin      = Duration(time.Minute)
	RetryMax           = Duration(1440 * time.Minute)
	// RetryFloorEnv is a test-only setting: a Go duration ("5s") that replaces
	// both floors above, so a test can outlast a retry window in seconds. Read
	// where the workflow file is validated (sluice start); never set it in
	// production.
	RetryFloorEnv = "SLUICE_TEST_RETRY_FLOOR"
)

// precheckIDs is filled by package precheck (which imports spec, so spec cannot
// import it); see RegisterPrecheckIDs.
var (
	precheckIDsMu sync.RWMutex
	precheckIDs   []string
)

// RegisterPrecheckIDs declares the precheck item IDs that options.ignore_warnings may
// name. Package precheck calls it from init, so every program that can run a
// precheck validates the IDs; without a registration the IDs are not checked.
func RegisterPrecheckIDs(ids ...string) {
	precheckIDsMu.Lock()
	defer precheckIDsMu.Unlock()
	for _, id := range ids {
		if !slices.Contains(precheckIDs, id) {
			precheckIDs = append(precheckIDs, id)
		}
	}
}

// PrecheckIDs returns the registered precheck item IDs (nil when none are).
func PrecheckIDs() []string {
	precheckIDsMu.RLock()
	defer precheckIDsMu.RUnlock()
	return slices.Clone(precheckIDs)
}

var workflowName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate checks everything that needs no database: required fields, allowed values,
// names, globs, CEL syntax, retry windows, limits. It validates the spec as it would
// run, i.e. with defaults applied (on a copy: s is not changed). The result is Errors
// (with file positions when s came from Load or Parse), or nil.
func (s *Spec) Validate() error {
	return s.check().errs.err()
}

// Warnings are the findings that do not stop a workflow but probably surprise its
// author (a filter on a schema-only workflow, schema+incremental without full, ...).
// The CLI prints them after validation.
func (s *Spec) Warnings() Errors {
	return s.check().warns
}

type checker struct {
	s           *Spec
	file        string
	pos         *positions
	errs, warns Errors
}

func (s *Spec) check() *checker {
	resolved := *s // shallow: ApplyDefaults only sets scalar fields
	resolved.ApplyDefaults()
	c := &checker{s: &resolved, file: s.File, pos: s.pos}
	c.name()
	c.endpoint("source", resolved.Source, "SRC_PASSWORD")
	c.endpoint("destination", resolved.Destination, "DST_PASSWORD")
	c.types()
	c.objects()
	c.options()
	c.errs.sort()
	c.warns.sort()
	return c
}

func (c *checker) at(p Pos, path, format string, args ...any) *Error {
	return &Error{File: c.file, Line: p.Line, Column: p.Column, Field: path, Msg: fmt.Sprintf(format, args...)}
}

// errf reports at the value of path (or, when path is not in the file, at the
// nearest enclosing mapping that is).
func (c *checker) errf(path, format string, args ...any) {
	p, _ := c.pos.of(path)
	c.errs = append(c.errs, c.at(p, path, format, args...))
}

func (c *checker) warnf(path, format string, args ...any) {
	p, _ := c.pos.of(path)
	c.warns = append(c.warns, c.at(p, path, format, args...))
}

// keyErrf reports at the key itself, for problems with a map key (a column name).
func (c *checker) keyErrf(path, format string, args ...any) {
	p, ok := Pos{}, false
	if c.pos != nil {
		p, ok = c.pos.key[path]
	}
	if !ok {
		p, _ = c.pos.of(path)
	}
	c.errs = append(c.errs, c.at(p, path, format, args...))
}

func (c *checker) written(path string) bool {
	if c.pos == nil {
		return false
	}
	_, ok := c.pos.key[path]
	return ok
}

// required reports an empty required field; false means it was missing.
func (c *checker) required(path, value string) bool {
	if value != "" {
		return true
	}
	if c.written(path) {
		c.errf(path, "must not be empty")
	} else {
		c.errf(path, "required field is missing")
	}
	return false
}

func (c *checker) enum(path, value string, allowed []string) {
	if slices.Contains(allowed, value) {
		return
	}
	c.errf(path, "%q is not one of %s%s", value, suggest.OneOf(allowed), suggest.DidYouMean(value, allowed))
}

func (c *checker) name() {
	name := c.s.Name
	if !c.required("name", name) {
		return
	}
	if !workflowName.MatchString(name) {
		bad := strings.IndexFunc(name, func(r rune) bool {
			return !(r < utf8.RuneSelf && workflowName.MatchString(string(r)))
		})
		r, _ := utf8.DecodeRuneInString(name[bad:])
		c.errf("name", "%q contains %q: the name becomes the Temporal workflow ID, use only letters, digits, '.', '_' and '-'", name, r)
	}
	if n := len(name); n > MaxNameLength {
		c.errf("name", "is %d characters long; at most %d (it becomes the Temporal workflow ID)", n, MaxNameLength)
	}
}

func (c *checker) endpoint(p string, e Endpoint, envHint string) {
	if e.Host == "" && e.User == "" && !c.written(p) {
		c.errf(p, "required field is missing: the %s server's host, user and password", p)
		return
	}
	if c.required(p+".host", e.Host) {
		c.host(p+".host", e.Host)
	}
	if e.Port < 1 || e.Port > 65535 {
		c.errf(p+".port", "%d is not a TCP port (1-65535)", e.Port)
	}
	c.required(p+".user", e.User)
	switch {
	case e.Password != "" && e.PasswordFile != "":
		c.errf(p+".password_file", "set either password or password_file, not both")
	case e.Password != "":
		if _, ok := e.PasswordRef(); ok {
			break
		}
		// Never echo the value: it may be the secret itself.
		if strings.Contains(e.Password, "$") {
			c.errf(p+".password", "must be exactly one ${NAME} reference to an environment variable of the worker (NAME: letters, digits and _, not starting with a digit), e.g. ${%s}", envHint)
		} else {
			c.errf(p+".password", "a literal password is not allowed: the workflow file is the workflow input and would be stored in Temporal history in plain text; put it in an environment variable of the worker and write password: ${%s}, or use password_file", envHint)
		}
	}
	t := e.TLS
	c.enum(p+".tls.mode", t.Mode, TLSModes)
	if t.Mode == "verify-ca" && t.CA == "" {
		c.errf(p+".tls.ca", "tls.mode verify-ca needs tls.ca (the CA certificate file, PEM, on the worker)")
	}
	if t.Cert != "" && t.Key == "" {
		c.errf(p+".tls.key", "tls.cert is set without tls.key: a client certificate needs its key")
	}
	if t.Key != "" && t.Cert == "" {
		c.errf(p+".tls.cert", "tls.key is set without tls.cert: a client key needs its certificate")
	}
	if t.Mode == "disabled" && (t.CA != "" || t.Cert != "" || t.Key != "" || t.ServerName != "") {
		c.warnf(p+".tls.mode", "TLS is disabled: tls.ca, tls.cert, tls.key and tls.server_name are ignored")
	} else if t.ServerName != "" && t.Mode != "verify-identity" {
		c.warnf(p+".tls.server_name", "only used with tls.mode verify-identity (the mode is %s)", t.Mode)
	}
}

func (c *checker) host(p, h string) {
	switch {
	case strings.ContainsAny(h, " \t\r\n/"):
		c.errf(p, "%q is not a host name or IP address", h)
	case strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]"):
		c.errf(p, "write the IPv6 address without brackets: %s", strings.Trim(h, "[]"))
	case strings.Contains(h, ":") && net.ParseIP(h) == nil:
		if hh, port, err := net.SplitHostPort(h); err == nil {
			c.errf(p, "put the port in port: (host: %s, port: %s)", hh, port)
		} else {
			c.errf(p, "%q is not a host name or IP address", h)
		}
	}
}

func (c *checker) types() {
	ts := c.s.Types
	if ts == nil && !c.written("types") {
		c.errf("types", "required field is missing: list the phases to run, e.g. [schema, full, incremental]")
		return
	}
	if len(ts) == 0 {
		c.errf("types", "is empty: list at least one of schema, full, incremental")
		return
	}
	names := make([]string, len(AllTypes))
	for i, t := range AllTypes {
		names[i] = string(t)
	}
	seen := map[MigrationType]int{}
	for i, t := range ts {
		tp := indexPath("types", i)
		if !slices.Contains(AllTypes, t) {
			c.errf(tp, "%q is not one of %s%s", t, suggest.OneOf(names), suggest.DidYouMean(string(t), names))
			continue
		}
		if j, dup := seen[t]; dup {
			c.errf(tp, "%s is listed twice (also types[%d])", t, j)
			continue
		}
		seen[t] = i
	}
	if c.s.Has(TypeSchema) && c.s.Has(TypeIncremental) && !c.s.Has(TypeFull) {
		c.warnf("types", "schema and incremental without full: the tables are created empty and only changes made after the start are copied; rows that already exist are not (updates and deletes of them find nothing)")
	}
}

// identProblem says why s cannot be a MySQL database, table or column name, or "".
func identProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "contains a NUL character, which MySQL names cannot hold"
	case utf8.RuneCountInString(s) > MaxIdentifierLength:
		return fmt.Sprintf("is %d characters long; MySQL names have at most %d", utf8.RuneCountInString(s), MaxIdentifierLength)
	case strings.HasSuffix(s, " "):
		return "ends with a space, which MySQL does not allow"
	}
	for _, r := range s {
		if r > 0xFFFF {
			return fmt.Sprintf("contains %q, outside the Basic Multilingual Plane: MySQL names cannot hold it", r)
		}
	}
	return ""
}

func (c *checker) ident(p, s string) {
	if prob := identProblem(s); prob != "" {
		c.errf(p, "%q %s", s, prob)
	}
}

func (c *checker) identKey(p, s string) {
	if prob := identProblem(s); prob != "" {
		c.keyErrf(p, "column name %q %s", s, prob)
	}
}

// fold applies options.case to a destination name, to find two entries that would
// land on the same table.
func (c *checker) fold(s string) string {
	switch c.s.Options.Case {
	case "lower":
		return strings.ToLower(s)
	case "upper":
		return strings.ToUpper(s)
	}
	return s
}

func (c *checker) objects() {
	objs := c.s.Objects
	if objs == nil && !c.written("objects") {
		c.errf("objects", "required field is missing: list the databases to migrate, e.g. [{database: shop, tables: [\"*\"]}]")
		return
	}
	if len(objs) == 0 {
		c.errf("objects", "is empty: list at least one database")
		return
	}
	seenDB := map[string]int{}
	targets := map[string]string{} // destination db.table -> path of the entry
	renamed := 0
	for i, o := range objs {
		op := indexPath("objects", i)
		if c.required(op+".database", o.Database) {
			if IsGlob(o.Database) {
				c.errf(op+".database", "%q: database must be an exact name (patterns are for tables)", o.Database)
			} else {
				c.ident(op+".database", o.Database)
			}
			if j, dup := seenDB[o.Database]; dup {
				c.errf(op+".database", "database %q is already listed at objects[%d]: put all its tables in one entry", o.Database, j)
			} else {
				seenDB[o.Database] = i
			}
		}
		if o.To != "" {
			c.ident(op+".to", o.To)
		}
		for k, pat := range o.ExcludeTables {
			kp := indexPath(op+".exclude_tables", k)
			if pat == "" {
				c.errf(kp, "is empty")
			} else if _, err := path.Match(pat, ""); err != nil {
				c.errf(kp, "%q is not a valid pattern (use *, ? and [...])", pat)
			}
		}
		if o.Tables == nil && !c.written(op+".tables") {
			c.errf(op+".tables", "required field is missing: list table names or patterns, e.g. [\"*\"] for all")
			continue
		}
		if len(o.Tables) == 0 {
			c.errf(op+".tables", "is empty: list table names or patterns, e.g. [\"*\"] for all")
			continue
		}
		seenTable := map[string]string{}
		for j, t := range o.Tables {
			if t.To != "" || len(t.Columns) > 0 {
				renamed++
			}
			c.table(op, j, o, t, seenTable, targets)
		}
	}
	if renamed > MaxRenamedTables {
		c.errf("objects", "%d table entries rename a table or its columns; at most %d per workflow: split it into several workflows", renamed, MaxRenamedTables)
	}
}

func (c *checker) table(op string, j int, o Object, t Table, seen, targets map[string]string) {
	tp := indexPath(op+".tables", j)
	// The string form has no "name:" key: report its problems at the entry itself.
	mapping := c.written(tp+".name") || !t.IsPlain()
	np := tp
	if mapping {
		np = tp + ".name"
	}
	glob := t.IsGlob()
	switch {
	case t.Name == "" && mapping:
		c.required(np, t.Name)
	case t.Name == "":
		c.errf(np, "table name is empty")
	case glob:
		if _, err := path.Match(t.Name, ""); err != nil {
			c.errf(np, "%q is not a valid pattern (use *, ? and [...]; \\ escapes)", t.Name)
		}
		if t.To != "" {
			c.errf(tp+".to", "cannot rename a pattern (%q can match many tables): list the table by its exact name", t.Name)
		}
		if len(t.Columns) > 0 {
			c.errf(tp+".columns", "column renames need an exact table name, not the pattern %q", t.Name)
		}
	default:
		c.ident(np, t.Name)
	}
	if t.Name != "" {
		prev, dup := seen[t.Name]
		if dup {
			c.errf(np, "%q is already listed at %s", t.Name, prev)
		} else {
			seen[t.Name] = tp
		}
		if !glob && !dup {
			for _, pat := range o.ExcludeTables {
				if ok, _ := path.Match(pat, t.Name); ok {
					c.errf(np, "%q is listed here and excluded by exclude_tables %q", t.Name, pat)
					break
				}
			}
			dst := c.fold(o.Target()) + "." + c.fold(t.Target())
			if prev, clash := targets[dst]; clash {
				c.errf(np, "goes to the same destination table %s as %s", dst, prev)
			} else {
				targets[dst] = tp
			}
		}
	}
	if t.To != "" {
		c.ident(tp+".to", t.To)
	}

	renamedTo := map[string]string{}
	for _, src := range sortedKeys(t.Columns) {
		cp := childPath(tp+".columns", src)
		c.identKey(cp, src)
		dst := t.Columns[src]
		if prob := identProblem(dst); prob != "" {
			c.errf(cp, "%q %s", dst, prob)
			continue
		}
		if other, clash := renamedTo[dst]; clash {
			c.errf(cp, "columns %q and %q would both become %q", other, src, dst)
		} else {
			renamedTo[dst] = src
		}
	}
	excluded := map[string]int{}
	for k, col := range t.ExcludeColumns {
		kp := indexPath(tp+".exclude_columns", k)
		if prob := identProblem(col); prob != "" {
			c.errf(kp, "%q %s", col, prob)
			continue
		}
		if prev, dup := excluded[col]; dup {
			c.errf(kp, "%q is listed twice (also exclude_columns[%d])", col, prev)
			continue
		}
		excluded[col] = k
		if _, ok := t.Columns[col]; ok {
			c.errf(kp, "%q is both renamed (columns) and excluded", col)
		}
		if _, ok := t.Transform[col]; ok {
			c.errf(kp, "%q is excluded but has a transform", col)
		}
	}
	if t.Filter != "" {
		c.cel(tp+".filter", t.Filter, t, "filter")
	}
	for _, col := range sortedKeys(t.Transform) {
		xp := childPath(tp+".transform", col)
		c.identKey(xp, col)
		c.cel(xp, t.Transform[col], t, "transform."+col)
	}
	if t.Operations != nil {
		op := tp + ".operations"
		if len(t.Operations) == 0 {
			c.errf(op, "is empty: omit operations to replicate all of insert, update, delete, ddl, or list the ones to keep")
		}
		seenOp := map[string]int{}
		for k, o := range t.Operations {
			kp := indexPath(op, k)
			if !slices.Contains(AllOperations, o) {
				c.errf(kp, "%q is not one of %s%s", o, suggest.OneOf(AllOperations), suggest.DidYouMean(o, AllOperations))
				continue
			}
			if prev, dup := seenOp[o]; dup {
				c.errf(kp, "%s is listed twice (also operations[%d])", o, prev)
				continue
			}
			seenOp[o] = k
		}
		if !c.s.Has(TypeIncremental) {
			c.warnf(op, "ignored: operations select what incremental migration replicates, and types has no incremental")
		}
	}
	if !c.s.Has(TypeFull) && !c.s.Has(TypeIncremental) {
		if t.Filter != "" {
			c.warnf(tp+".filter", "ignored: a filter applies to rows copied by full and incremental, and types has neither")
		}
		if len(t.Transform) > 0 {
			c.warnf(tp+".transform", "ignored: a transform applies to rows copied by full and incremental, and types has neither")
		}
	}
}

// cel checks an expression's syntax and places a problem at the character it
// is about (with the line and a caret under it), else at the YAML value.
func (c *checker) cel(p, expr string, t Table, key string) {
	if strings.TrimSpace(expr) == "" {
		c.errf(p, "the CEL expression is empty")
		return
	}
	err := syntax.CheckSyntax(expr)
	if err == nil {
		return
	}
	se, ok := syntax.AsSyntaxError(err)
	if !ok {
		c.errf(p, "invalid CEL expression: %v", err)
		return
	}
	msg := fmt.Sprintf("invalid CEL expression: %s%s", se.Msg, more(se.More))
	if at, ok := t.ExprPos(key, se.Line, se.Column); ok {
		c.errs = append(c.errs, c.at(at, p, "%s\n%s", msg, Caret(expr, se.Line, se.Column)))
		return
	}
	c.errf(p, "invalid CEL expression: %v", err)
}

func more(n int) string {
	if n > 0 {
		return fmt.Sprintf(" (and %d more)", n)
	}
	return ""
}

// Caret renders line `line` of expr with a caret under column `col` (1-based),
// indented for a message.
func Caret(expr string, line, col int) string {
	lines := strings.Split(expr, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := []rune(lines[line-1])
	col = min(max(col, 1), len(l)+1)
	var pad strings.Builder
	for _, r := range l[:col-1] {
		if r == '\t' {
			pad.WriteRune('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return "    " + string(l) + "\n    " + pad.String() + "^"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *checker) options() {
	o := c.s.Options
	c.enum("options.conflicts", o.Conflicts, ConflictModes)
	c.enum("options.case", o.Case, CaseModes)
	c.enum("options.triggers", o.Triggers, TriggerModes)
	c.enum("options.online_ddl", o.OnlineDDL, OnlineDDLs)
	c.enum("options.etl.on_error", o.ETL.OnError, []string{ETLFail, ETLSkip})
	c.tableRegexp("options.gh_ost.shadow_table", o.GhOst.ShadowTable, DefaultGhOstShadowTable, true)
	c.tableRegexp("options.gh_ost.trash_table", o.GhOst.TrashTable, DefaultGhOstTrashTable, false)
	c.start("options.incremental.start", o.Incremental.Start)

	conn, other := o.Retry.Connection, o.Retry.Other
	connMin, otherMin := RetryConnectionMin, RetryOtherMin
	if f, err := time.ParseDuration(os.Getenv(RetryFloorEnv)); err == nil && f > 0 {
		connMin, otherMin = Duration(f), Duration(f)
	}
	if conn < connMin || conn > RetryMax {
		c.errf("options.retry.connection", "%s is outside %s-%s, the range DTS allows", minutes(conn), minutes(connMin), minutes(RetryMax))
	}
	if other < otherMin || other > RetryMax {
		c.errf("options.retry.other", "%s is outside %s-%s, the range DTS allows", minutes(other), minutes(otherMin), minutes(RetryMax))
	} else if other >= conn {
		c.errf("options.retry.other", "%s must be shorter than retry.connection (%s)", minutes(other), minutes(conn))
	}

	if o.Incremental.Parallel < 0 || o.Incremental.Parallel > MaxIncrementalParallel {
		c.errf("options.incremental.parallel", "%d is outside 0-%d (0 = 4)", o.Incremental.Parallel, MaxIncrementalParallel)
	}
	if o.Full.Parallel < 0 || o.Full.Parallel > MaxFullParallel {
		c.errf("options.full.parallel", "%d is outside 0-%d (0 = twice the worker's cores)", o.Full.Parallel, MaxFullParallel)
	}
	c.alerts("options.alerts", o.Alerts)
	c.verify("options.verify", o.Verify)
	c.throttle("options.throttle.full", o.Throttle.Full)
	c.throttle("options.throttle.incremental", o.Throttle.Incremental)
	if o.Throttle.Incremental.SourceQPS != 0 {
		c.errf("options.throttle.incremental.source_qps", "applies to full only: incremental reads the binlog and sends no queries to the source tables")
	}

	known := PrecheckIDs()
	seen := map[string]int{}
	for i, id := range o.IgnoreWarnings {
		p := indexPath("options.ignore_warnings", i)
		if known != nil && !slices.Contains(known, id) {
			c.errf(p, "%q is not a precheck item ID%s (see docs/precheck.md)", id, suggest.DidYouMean(id, known))
			continue
		}
		if prev, dup := seen[id]; dup {
			c.errf(p, "%s is listed twice (also ignore_warnings[%d])", id, prev)
			continue
		}
		seen[id] = i
	}

	if o.Accounts && !c.s.Has(TypeSchema) {
		c.warnf("options.accounts", "ignored: accounts are migrated by the schema phase, and types has no schema")
	}
	if o.OnlineDDL != DefaultOnlineDDL && !c.s.Has(TypeIncremental) {
		c.warnf("options.online_ddl", "ignored: online DDL handling applies to incremental migration, and types has no incremental")
	}
}

// tableRegexp checks a regular expression matched against table names. A shadow
// table pattern needs a capture group: its first one names the original table.
func (c *checker) tableRegexp(p, expr, example string, needGroup bool) {
	re, err := regexp.Compile(expr)
	switch {
	case err != nil:
		c.errf(p, "invalid regular expression (Go RE2 syntax): %s", regexpProblem(err))
	case re.MatchString(""):
		c.errf(p, "%q matches an empty name, so it matches part of every table name: anchor it, like %s", expr, example)
	case needGroup && re.NumSubexp() == 0:
		c.errf(p, "%q has no capture group: the first group ( ) must capture the original table's name, like %s", expr, example)
	}
}

// regexpProblem drops the "error parsing regexp: " prefix that says nothing here.
func regexpProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// binlogFileName is what servers name binlog files: the log-bin base name, a dot and
// a sequence number of at least six digits. No path: the server looks the name up
// in its own binlog index.
var binlogFileName = regexp.MustCompile(`^[^/\\\s\x00-\x1f]+\.[0-9]{6,}$`)

// MinBinlogPos is the first event's offset: every binlog file starts with a 4-byte
// magic number.
const MinBinlogPos = 4

// start checks options.incremental.start: a file and position, or a GTID position
// (in either flavor's syntax: which one the source speaks is known only when the
// precheck connects), and only for an incremental-only workflow.
func (c *checker) start(p string, st BinlogPosition) {
	given := func(key string) bool { return c.written(p + "." + key) }
	filePos := st.BinlogFile != "" || st.BinlogPos != 0 || given("binlog_file") || given("binlog_pos")
	gtid := st.GTID != "" || given("gtid")
	switch {
	case !filePos && !gtid:
		if c.written(p) {
			c.errf(p, "is empty: give binlog_file and binlog_pos, or gtid; or leave start out to begin at the source's position when the workflow starts")
		}
		return
	case filePos && gtid:
		c.errf(p+".gtid", "give either binlog_file and binlog_pos, or gtid, not both")
	case filePos:
		switch {
		case st.BinlogFile == "":
			c.required(p+".binlog_file", st.BinlogFile)
		case !binlogFileName.MatchString(st.BinlogFile):
			c.errf(p+".binlog_file", "%q is not a binlog file name: write it as SHOW BINARY LOGS lists it, like mysql-bin.000003 (no directory)", st.BinlogFile)
		}
		switch {
		case st.BinlogPos == 0 && !given("binlog_pos"):
			c.errf(p+".binlog_pos", "required field is missing: binlog_file needs binlog_pos, the offset in that file (4 for its beginning)")
		case st.BinlogPos < MinBinlogPos:
			c.errf(p+".binlog_pos", "%d is before the first event: positions start at %d (after the file's 4-byte header)", st.BinlogPos, MinBinlogPos)
		}
	default:
		switch g, err := flavor.ParseAnyGTIDSet(st.GTID); {
		case strings.TrimSpace(st.GTID) == "":
			c.errf(p+".gtid", "must not be empty")
		case err != nil:
			c.errf(p+".gtid", "%q is not a GTID position (%v): write a MariaDB position like 0-1-100 (domain-server-sequence, one per domain, comma-separated) or a MySQL GTID set like 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100", st.GTID, err)
		case g.IsEmpty():
			c.errf(p+".gtid", "must not be empty")
		}
	}
	if len(c.s.Types) != 1 || c.s.Types[0] != TypeIncremental {
		c.errf(p, "only for types: [incremental]: with full, incremental starts where the full copy's snapshot was taken, and with schema alone the tables are created empty, so no earlier position fits")
	}
}

func (c *checker) throttle(p string, t ThrottleLimits) {
	if t.SourceQPS < 0 {
		c.errf(p+".source_qps", "%d is negative (0 means unlimited)", t.SourceQPS)
	}
	if t.RPS < 0 {
		c.errf(p+".rps", "%d is negative (0 means unlimited)", t.RPS)
	}
	if math.IsNaN(t.MBPS) || math.IsInf(t.MBPS, 0) || t.MBPS < 0 {
		c.errf(p+".mbps", "%v must be a number >= 0 (0 means unlimited)", t.MBPS)
	}
}

func (c *checker) verify(p string, v Verify) {
	if v.AfterFull && !c.s.Has(TypeFull) {
		c.errf(p+".after_full", "needs full in types: it compares the tables once the full copy is done (run sluice verify for a migration without it)")
	}
	if v.Continuous && !c.s.Has(TypeIncremental) {
		c.errf(p+".continuous", "needs incremental in types: it compares the tables while replication runs (run sluice verify for a migration without it)")
	}
	if c.written(p+".interval") && !v.Continuous {
		c.errf(p+".interval", "applies to continuous verification only: set continuous: true, or leave interval out")
	}
	if v.Interval != 0 && (v.Interval < MinVerifyInterval || v.Interval > RetryMax) {
		c.errf(p+".interval", "%s is outside %s-%s", minutes(v.Interval), minutes(MinVerifyInterval), minutes(RetryMax))
	}
	if v.RPS < 0 {
		c.errf(p+".rps", "%d is negative (0 means unlimited)", v.RPS)
	}
	if v.Parallel < 0 || v.Parallel > MaxFullParallel {
		c.errf(p+".parallel", "%d is outside 0-%d (0 = %d)", v.Parallel, MaxFullParallel, DefaultVerifyParallel)
	}
	if !v.On() && (v.RPS != 0 || v.Parallel != 0) {
		c.warnf(p, "rps and parallel are ignored: neither after_full nor continuous is on")
	}
}

func (c *checker) alerts(p string, a Alerts) {
	if a.Webhook == "" {
		if a.Lag.Threshold != 0 || a.OnFailure != nil {
			c.errf(p+".webhook", "required field is missing: alerts go to a webhook (webhook: ${ALERT_WEBHOOK})")
		}
		return
	}
	if _, ok := a.WebhookRef(); !ok {
		// Webhook URLs carry their token in the path or query (Slack, Teams,
		// PagerDuty), and the file's values are stored in Temporal's history.
		c.errf(p+".webhook", "must be a ${NAME} reference to an environment variable of the worker that holds the URL (webhook URLs carry tokens, and the workflow file is stored in Temporal's history), e.g. webhook: ${ALERT_WEBHOOK}")
	}
	if a.Lag.Threshold < 0 || a.Lag.For < 0 {
		c.errf(p+".lag", "threshold and for must not be negative")
	}
	if a.Lag.For > 0 && a.Lag.Threshold == 0 {
		c.errf(p+".lag.threshold", "required field is missing: the lag above which to alert (e.g. 30s)")
	}
}

// minutes renders a duration the way the file writes it: "720m" rather than "12h0m0s".
func minutes(d Duration) string {
	td := time.Duration(d)
	if td%time.Minute == 0 {
		return fmt.Sprintf("%dm", td/time.Minute)
	}
	return td.String()
}
