package ddl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// Selector says which source tables the migration replicates and how they are
// named on the destination. Names answers for the tables known when the
// migration started; Selects answers for any name (a table created or renamed
// later) by the workflow file's rules (exact names, globs, exclude_tables).
type Selector interface {
	Names
	// Selects reports whether the source table or view db.table is replicated.
	Selects(db, table string) bool
	// SelectsDatabase reports whether an object of the workflow selects db, and
	// whether it selects all its tables (no `tables:` or a "*" entry), in which
	// case its stored routines are migrated too.
	SelectsDatabase(db string) (selected, allTables bool)
}

// DDLKind classifies a replicated statement.
type DDLKind string

// The kinds ReplicateDDL reports. Ghost kinds appear only with gh-ost support on.
const (
	KindAlterTable     DDLKind = "ALTER TABLE"
	KindCreateTable    DDLKind = "CREATE TABLE"
	KindDropTable      DDLKind = "DROP TABLE"
	KindRenameTable    DDLKind = "RENAME TABLE"
	KindTruncateTable  DDLKind = "TRUNCATE TABLE"
	KindCreateIndex    DDLKind = "CREATE INDEX"
	KindDropIndex      DDLKind = "DROP INDEX"
	KindCreateView     DDLKind = "CREATE VIEW"
	KindAlterView      DDLKind = "ALTER VIEW"
	KindDropView       DDLKind = "DROP VIEW"
	KindCreateRoutine  DDLKind = "CREATE ROUTINE" // FUNCTION or PROCEDURE
	KindAlterRoutine   DDLKind = "ALTER ROUTINE"
	KindDropRoutine    DDLKind = "DROP ROUTINE"
	KindCreateDatabase DDLKind = "CREATE DATABASE"
	KindAlterDatabase  DDLKind = "ALTER DATABASE"
	KindDropDatabase   DDLKind = "DROP DATABASE"
	// KindCreateTrigger is never run when read: triggers are created at cut-over.
	// Deferred holds the rewritten trigger for that moment.
	KindCreateTrigger DDLKind = "CREATE TRIGGER"
	KindDropTrigger   DDLKind = "DROP TRIGGER"
	// KindDML is a row change logged as a statement (binlog_format is not ROW):
	// its rows are not in row events, so the destination cannot follow.
	KindDML DDLKind = "DML"
	// KindOther is everything that is not replicated (GRANT, CREATE USER, SET,
	// FLUSH, ANALYZE, events, sequences, ...).
	KindOther DDLKind = "OTHER"

	// KindGhostShadow: gh-ost created its shadow table (_t_gho) for GhostTable;
	// any ALTER saved for GhostTable belongs to an older run and is void.
	KindGhostShadow DDLKind = "GH-OST SHADOW"
	// KindGhostAlter: gh-ost altered its shadow table. Statements are the same
	// change rewritten for GhostTable on the destination: save them and run them
	// at KindGhostCutover.
	KindGhostAlter DDLKind = "GH-OST ALTER"
	// KindGhostCutover: gh-ost swapped its shadow table in place of GhostTable:
	// run the saved GhostAlter statements now.
	KindGhostCutover DDLKind = "GH-OST CUT-OVER"
	// KindGhostRenameAway: the first step of gh-ost's two-step cut-over
	// (GhostTable renamed to _t_del); nothing to run, the cut-over follows.
	KindGhostRenameAway DDLKind = "GH-OST RENAME AWAY"
	// KindGhostRevert: gh-ost put the original table back (test-on-replica, or a
	// failed two-step cut-over): the saved GhostAlter statements are void.
	KindGhostRevert DDLKind = "GH-OST REVERT"
	// KindGhostTrash: any statement on gh-ost's changelog, old or sentry tables.
	KindGhostTrash DDLKind = "GH-OST TRASH"
)

// ReplicatedDDL is what to do on the destination for one statement of the
// source's binlog.
type ReplicatedDDL struct {
	Kind DDLKind
	// Tables are the source objects the statement changes, qualified (the
	// default database filled in), in statement order: tables and views; for a
	// RENAME each old and new name; for a routine or trigger its own name (a
	// trigger then its table); for a database Database only.
	Tables []TableRef
	// Statements are what to run on the destination, in order, qualified with
	// destination names (they never depend on the session's current database).
	// Empty means nothing to run now.
	Statements []string
	// Skip says why Statements is empty.
	Skip string
	// Deferred is a CREATE TRIGGER rewritten for the destination, to create at
	// cut-over (KindCreateTrigger).
	Deferred string
	// Like is the source table a CREATE TABLE ... LIKE copies. The destination
	// copy gets Like's destination columns: the caller must check that the new
	// table's column renames and exclusions equal Like's (see README).
	Like *TableRef
	// Warnings are rewrites that could not be applied exactly (unqualified
	// column names in routine or trigger bodies; a column placed last because
	// AFTER named an excluded column).
	Warnings []string
	// GhostTable is the real table a gh-ost statement belongs to (source name),
	// set only when that table is replicated.
	GhostTable *TableRef
	// NotIdempotent, when set, says why running Statements a second time would
	// succeed with another result instead of failing (a RENAME cycle such as a
	// swap, EXCHANGE PARTITION): after a crash between them and the checkpoint,
	// check whether they ran before running them again.
	NotIdempotent string
}

// GhostNames recognises gh-ost's tables by name (options.gh_ost). A nil
// *GhostNames means gh-ost support is off.
type GhostNames struct {
	// Shadow matches the table gh-ost builds and swaps in; its first capture
	// group is the original table's name (_<table>_gho).
	Shadow *regexp.Regexp
	// Trash matches gh-ost's changelog, old and sentry tables (_<table>_ghc, _<table>_del).
	Trash *regexp.Regexp
}

// CompileGhostNames compiles spec.GhOst's two expressions (RE2 syntax).
func CompileGhostNames(shadow, trash string) (*GhostNames, error) {
	sh, err := regexp.Compile(shadow)
	if err != nil {
		return nil, fmt.Errorf("gh-ost shadow table expression: %w", err)
	}
	if sh.NumSubexp() == 0 {
		return nil, fmt.Errorf("gh-ost shadow table expression %q has no capture group for the original table's name", shadow)
	}
	tr, err := regexp.Compile(trash)
	if err != nil {
		return nil, fmt.Errorf("gh-ost trash table expression: %w", err)
	}
	return &GhostNames{Shadow: sh, Trash: tr}, nil
}

// Ignored reports whether table is one of gh-ost's own tables, whose rows are
// never replicated (whatever the selection says).
func (g *GhostNames) Ignored(table string) bool {
	role, _ := g.role(table)
	return role != ghostNone
}

type ghostRole int

const (
	ghostNone ghostRole = iota
	ghostShadow
	ghostTrash
)

// role classifies a table name; for a shadow table it returns the original's name.
func (g *GhostNames) role(table string) (ghostRole, string) {
	if g == nil {
		return ghostNone, ""
	}
	if g.Shadow != nil {
		if m := g.Shadow.FindStringSubmatch(table); m != nil {
			if len(m) > 1 && m[1] != "" {
				return ghostShadow, m[1]
			}
			return ghostTrash, "" // no original name to follow
		}
	}
	if g.Trash != nil && g.Trash.MatchString(table) {
		return ghostTrash, ""
	}
	return ghostNone, ""
}

// ReplicateDDL classifies a statement read from a Query event of the source's
// binlog and rewrites it for the destination. defaultDB is the event's schema
// (the session's current database; "" when none). ghost is nil when gh-ost
// support is off. See the README ("Replicated DDL") for each kind.
//
// An error means the statement cannot be replicated faithfully (an excluded
// column still needed, a rename across the selection's boundary, statement-based
// rows, ...); the caller must stop rather than skip it. Errors and Skip never
// quote the statement (it may hold a password).
func ReplicateDDL(defaultDB, statement string, sel Selector, ghost *GhostNames) (ReplicatedDDL, error) {
	s, err := tokenize("replicated statement", statement)
	if err != nil {
		return ReplicatedDDL{}, err
	}
	// A trailing ";" is not part of the statement.
	if n := len(s.sig); n > 0 && s.tok(n-1).IsOp(";") {
		for n > 0 && s.tok(n-1).IsOp(";") {
			n--
			s.blank(s.sig[n], s.sig[n]+1)
		}
		if s, err = tokenize("replicated statement", s.String()); err != nil {
			return ReplicatedDDL{}, err
		}
	}
	if len(s.sig) == 0 {
		return ReplicatedDDL{}, errors.New("replicated statement is empty")
	}
	r := &repl{s: s, defaultDB: defaultDB, sel: sel, ghost: ghost}
	err = r.dispatch()
	if err == nil {
		err = r.err
	}
	if err == nil {
		for _, out := range append(append([]string(nil), r.out.Statements...), r.out.Deferred) {
			if err = checkRewritten(out); err != nil {
				break
			}
		}
	}
	if err != nil {
		return ReplicatedDDL{Kind: r.out.Kind, Tables: r.out.Tables}, fmt.Errorf("replicating %s: %w", r.what(), err)
	}
	if len(r.out.Statements) > 0 {
		r.out.Skip = ""
	} else if r.out.Skip == "" {
		r.out.Skip = "nothing to run on the destination"
	}
	return r.out, nil
}

// checkRewritten verifies that a rewrite left a well-formed statement: every
// quote and comment closed and no executable comment cut in half (a stray */).
func checkRewritten(out string) error {
	if out == "" {
		return nil
	}
	toks, err := sqltok.Tokenize(out)
	if err != nil {
		return fmt.Errorf("the rewritten statement is malformed: %w", err)
	}
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].IsOp("*") && toks[i+1].IsOp("/") && toks[i].End() == toks[i+1].Pos {
			return errors.New("the rewrite would cut a /*!...*/ comment in half")
		}
	}
	return nil
}

// repl is one statement being replicated.
type repl struct {
	s         *stmt
	defaultDB string
	sel       Selector
	ghost     *GhostNames
	out       ReplicatedDDL
	err       error // the first error of an in-place edit
}

func (r *repl) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *repl) warn(format string, args ...any) {
	r.out.Warnings = append(r.out.Warnings, fmt.Sprintf(format, args...))
}

// what names the statement for errors: its kind and first table.
func (r *repl) what() string {
	w := string(r.out.Kind)
	if w == "" {
		w = "statement"
	}
	if len(r.out.Tables) > 0 {
		w += " " + refText(r.out.Tables[0])
	}
	return w
}

func refText(t TableRef) string {
	if t.Name == "" {
		return sqltok.Quote(t.Database)
	}
	return qualify(t.Database, t.Name)
}

func upper(t sqltok.Token) string {
	if t.Kind != sqltok.Word {
		return ""
	}
	return strings.ToUpper(t.Text)
}

// ifExists skips IF EXISTS (or IF NOT EXISTS) at k.
func (s *stmt) ifExists(k int) int {
	if s.tok(k).Is("IF") && s.tok(k+1).Is("EXISTS") {
		return k + 2
	}
	if s.tok(k).Is("IF") && s.tok(k+1).Is("NOT") && s.tok(k+2).Is("EXISTS") {
		return k + 3
	}
	return k
}

// waitOption skips WAIT n | NOWAIT at k.
func (s *stmt) waitOption(k int) int {
	if s.tok(k).Is("WAIT") && s.tok(k+1).Kind == sqltok.Number {
		return k + 2
	}
	if s.tok(k).Is("NOWAIT") {
		return k + 1
	}
	return k
}

// name reads a table-like name [db.]name at k; an unqualified one is in the
// default database. It returns the index after the name.
func (r *repl) name(k int) (TableRef, int, error) {
	parts, after := r.s.qualified(k, 2)
	switch {
	case len(parts) == 0:
		return TableRef{}, k, fmt.Errorf("expected a name, found %q", r.s.tok(k).Text)
	case len(parts) == 2:
		return TableRef{Database: parts[0], Name: parts[1]}, after, nil
	case r.defaultDB == "":
		return TableRef{}, k, fmt.Errorf("%s is not qualified and the statement has no default database", sqltok.Quote(parts[0]))
	}
	return TableRef{Database: r.defaultDB, Name: parts[0]}, after, nil
}

// ghostOf classifies a table; for a shadow table it returns the original table
// (gh-ost keeps it in the same database).
func (r *repl) ghostOf(t TableRef) (ghostRole, TableRef) {
	role, real := r.ghost.role(t.Name)
	return role, TableRef{Database: t.Database, Name: real}
}

// dest returns the destination name of a replicated table or view: Names for
// tables known at start, else the database's destination name and the same
// table name when Selects says so. gh-ost's tables are never replicated.
func (r *repl) dest(t TableRef) (TableRef, bool) {
	if role, _ := r.ghostOf(t); role != ghostNone {
		return TableRef{}, false
	}
	if d, n, ok := r.sel.Table(t.Database, t.Name); ok {
		return TableRef{Database: d, Name: n}, true
	}
	if r.sel.Selects(t.Database, t.Name) {
		return TableRef{Database: r.sel.Database(t.Database), Name: t.Name}, true
	}
	return TableRef{}, false
}

// destOrOwn is the destination name of a table a statement refers to: mapped
// when replicated, else its own name in its database's destination (as
// RewriteTable does for REFERENCES).
func (r *repl) destOrOwn(t TableRef) TableRef {
	if d, ok := r.dest(t); ok {
		return d
	}
	return TableRef{Database: r.sel.Database(t.Database), Name: t.Name}
}

func notSelected(refs ...TableRef) string {
	names := make([]string, len(refs))
	for i, t := range refs {
		names[i] = refText(t)
	}
	if len(refs) == 1 {
		return names[0] + " is not selected"
	}
	return strings.Join(names, ", ") + " are not selected"
}

// cut blanks significant tokens from..to and the spaces before them.
func (r *repl) cut(from, to int) {
	start := r.s.sig[from]
	for start > 0 && r.s.toks[start-1].Kind == sqltok.Space {
		start--
	}
	r.cutRaw(start, r.s.sig[to]+1)
}

// cutRaw blanks raw tokens from..to-1, refusing to cut an executable comment's
// opening without its closing (or the reverse).
func (r *repl) cutRaw(from, to int) {
	depth := 0
	for i := from; i < to; i++ {
		switch r.s.toks[i].Kind {
		case sqltok.ExecOpen:
			depth++
		case sqltok.ExecClose:
			depth--
		}
		if depth < 0 {
			break
		}
	}
	if depth != 0 {
		r.fail(errors.New("cannot remove a clause that a /*!...*/ comment only partly covers"))
		return
	}
	r.s.blank(from, to)
}

// replace replaces significant tokens from..to by text (checked like cutRaw).
func (r *repl) replace(from, to int, text string) {
	if from == to {
		r.s.set(from, text)
		return
	}
	r.cutRaw(r.s.sig[from], r.s.sig[to]+1)
	r.s.toks[r.s.sig[from]].Text = text
}

// cutItems removes the dropped items of a comma-separated list with their
// separating commas, keeping the layout of the other lines: an item followed by
// a kept one goes with the comma after it; the dropped items at the end go with
// the comma after the last kept item. At least one item must be kept.
func (r *repl) cutItems(all []item, drop []bool) {
	lastKept := -1
	for i := range all {
		if !drop[i] {
			lastKept = i
		}
	}
	if lastKept < 0 {
		r.fail(errors.New("every item of a list would be removed"))
		return
	}
	for i, it := range all {
		if drop[i] && i < lastKept {
			r.cut(it.from, it.comma)
		}
	}
	if lastKept < len(all)-1 {
		r.cutRaw(r.s.sig[all[lastKept].comma], r.s.sig[all[len(all)-1].to]+1)
	}
}

// dispatch reads the statement's head and hands it to the kind's handler.
func (r *repl) dispatch() error {
	s := r.s
	switch upper(s.tok(0)) {
	case "ALTER":
		return r.alter()
	case "CREATE":
		return r.create()
	case "DROP":
		return r.drop()
	case "RENAME":
		if s.tok(1).Is("TABLE") || s.tok(1).Is("TABLES") {
			return r.renameTable(2)
		}
		return r.other("RENAME " + upper(s.tok(1)))
	case "TRUNCATE":
		return r.truncate()
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		r.out.Kind = KindDML
		r.out.Skip = upper(s.tok(0)) + " logged as a statement: its rows are not in row events (binlog_format must be ROW)"
		return nil
	case "BEGIN", "COMMIT", "ROLLBACK", "XA", "SAVEPOINT", "RELEASE":
		r.out.Kind = KindOther
		r.out.Skip = "transaction control, not DDL"
		return nil
	}
	return r.other(upper(s.tok(0)))
}

// other reports a statement that is not replicated. what is made of keywords
// only (never names or literals).
func (r *repl) other(what string) error {
	r.out.Kind = KindOther
	what = strings.TrimSpace(what)
	if what == "" {
		what = "this statement"
	}
	reason := ""
	switch {
	case strings.HasSuffix(what, "EVENT"):
		reason = ": events are not migrated"
	case strings.HasSuffix(what, "SEQUENCE"):
		reason = ": sequences are not migrated"
	case strings.HasSuffix(what, "USER") || strings.HasSuffix(what, "ROLE") || what == "GRANT" || what == "REVOKE":
		reason = ": accounts and privileges are not replicated"
	}
	r.out.Skip = what + " is not replicated" + reason
	return nil
}

// headFlags are the head words that matter to a handler.
type headFlags struct {
	orReplace, temporary bool
}

// head skips the words between CREATE/ALTER/DROP and the object keyword
// (OR REPLACE, DEFINER=..., ALGORITHM=..., SQL SECURITY ..., ONLINE, ...); it
// returns the index of the object keyword and the flags seen.
func (r *repl) head(k int) (int, headFlags) {
	s := r.s
	var f headFlags
	for k < len(s.sig) {
		switch upper(s.tok(k)) {
		case "OR":
			if !s.tok(k + 1).Is("REPLACE") {
				return k, f
			}
			f.orReplace = true
			k += 2
		case "DEFINER":
			k = definerEnd(s, k) + 1
		case "ALGORITHM":
			k++
			if s.tok(k).IsOp("=") {
				k++
			}
			k++
		case "SQL":
			if !s.tok(k + 1).Is("SECURITY") {
				return k, f
			}
			k += 3
		case "TEMPORARY":
			f.temporary = true
			k++
		case "ONLINE", "OFFLINE", "IGNORE", "UNIQUE", "FULLTEXT", "SPATIAL", "AGGREGATE":
			k++
		default:
			return k, f
		}
	}
	return k, f
}

func (r *repl) alter() error {
	s := r.s
	k, _ := r.head(1)
	switch upper(s.tok(k)) {
	case "TABLE":
		return r.alterTable(k)
	case "VIEW":
		return r.view(k, true)
	case "FUNCTION", "PROCEDURE":
		return r.alterRoutine(k)
	case "DATABASE", "SCHEMA":
		return r.alterDatabase(k)
	}
	return r.other("ALTER " + upper(s.tok(k)))
}

func (r *repl) create() error {
	s := r.s
	k, f := r.head(1)
	switch upper(s.tok(k)) {
	case "TABLE":
		return r.createTable(k, f.temporary)
	case "INDEX":
		return r.createIndex(k)
	case "VIEW":
		return r.view(k, false)
	case "FUNCTION", "PROCEDURE":
		return r.createRoutine(k)
	case "TRIGGER":
		return r.createTrigger(k)
	case "DATABASE", "SCHEMA":
		return r.createDatabase(k)
	}
	return r.other("CREATE " + upper(s.tok(k)))
}

func (r *repl) drop() error {
	s := r.s
	k, f := r.head(1)
	switch upper(s.tok(k)) {
	case "TABLE", "TABLES":
		return r.dropTables(k, KindDropTable, f.temporary)
	case "VIEW":
		return r.dropTables(k, KindDropView, false)
	case "INDEX":
		return r.dropIndex(k)
	case "FUNCTION", "PROCEDURE":
		return r.dropRoutine(k)
	case "TRIGGER":
		return r.dropTrigger(k)
	case "DATABASE", "SCHEMA":
		return r.dropDatabase(k)
	}
	return r.other("DROP " + upper(s.tok(k)))
}

// ---- tables ----

// createTable: CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] name
// {(definitions) [options] [partitioning] | [(] LIKE other [)]}. k is at TABLE.
func (r *repl) createTable(k int, temporary bool) error {
	s := r.s
	r.out.Kind = KindCreateTable
	nameAt := s.ifExists(k + 1)
	ref, after, err := r.name(nameAt)
	if err != nil {
		return err
	}
	r.out.Tables = []TableRef{ref}
	if temporary {
		r.out.Skip = "temporary tables belong to one session and are not replicated"
		return nil
	}
	switch role, real := r.ghostOf(ref); role {
	case ghostShadow:
		r.out.Kind = KindGhostShadow
		return r.ghostOwner(real, "gh-ost's shadow table of "+refText(real))
	case ghostTrash:
		r.out.Kind = KindGhostTrash
		r.out.Skip = refText(ref) + " is one of gh-ost's own tables"
		return nil
	}
	dst, ok := r.dest(ref)
	if !ok {
		r.out.Skip = notSelected(ref)
		return nil
	}
	if s.findWord(after, "SELECT") >= 0 {
		// With binlog_format=ROW the server logs CREATE ... SELECT as a plain
		// CREATE TABLE followed by row events; a SELECT here means its rows are
		// not in the binlog.
		return errors.New("CREATE TABLE ... SELECT logged as a statement: its rows are not in row events (binlog_format must be ROW)")
	}
	likeAt := -1
	if s.tok(after).Is("LIKE") {
		likeAt = after
	} else if s.tok(after).IsOp("(") && s.tok(after+1).Is("LIKE") {
		likeAt = after + 1
	}
	if likeAt >= 0 {
		src, srcAfter, err := r.name(likeAt + 1)
		if err != nil {
			return fmt.Errorf("LIKE: %w", err)
		}
		srcDst, ok := r.dest(src)
		if !ok {
			return fmt.Errorf("%s is created LIKE %s, which is not selected: the destination has no copy of it to take the structure from (select %s too)",
				refText(ref), refText(src), refText(src))
		}
		r.out.Like = &src
		r.replace(likeAt+1, srcAfter-1, qualify(srcDst.Database, srcDst.Name))
		r.replace(nameAt, after-1, qualify(dst.Database, dst.Name))
		r.out.Statements = []string{s.String()}
		return nil
	}
	if !s.tok(after).IsOp("(") {
		return fmt.Errorf("expected ( or LIKE after the table name, found %q", s.tok(after).Text)
	}
	closing := s.matching(after)
	if closing < 0 {
		return errors.New("unbalanced parentheses in the table body")
	}
	d := &defRW{r: r, s: s, db: ref.Database, table: ref.Name, cols: map[string]bool{}}
	items := s.splitTop(after+1, closing)
	columns := 0
	for _, it := range items {
		if d.isColumnItem(it.from) {
			d.cols[strings.ToLower(s.name(it.from))] = true
			columns++
		}
	}
	drop := make([]bool, len(items))
	dropped := 0
	for i, it := range items {
		if d.isColumnItem(it.from) {
			if d.columnDef(it.from, it.to, false) {
				drop[i] = true
				dropped++
			}
			continue
		}
		d.constraint(it.from, it.to)
	}
	d.tableOptions(closing+1, len(s.sig)-1)
	d.partitionExprs(closing+1, len(s.sig)-1)
	if err := d.deps.err(); err != nil {
		return err
	}
	if columns > 0 && dropped == columns {
		return fmt.Errorf("every column of %s is excluded", refText(ref))
	}
	if dropped > 0 {
		r.cutItems(items, drop)
	}
	r.replace(nameAt, after-1, qualify(dst.Database, dst.Name))
	r.out.Statements = []string{s.String()}
	return nil
}

// ghostOwner finishes a gh-ost statement that belongs to real: GhostTable is
// set when real is replicated.
func (r *repl) ghostOwner(real TableRef, what string) error {
	if _, ok := r.dest(real); !ok {
		r.out.Skip = what + ", which is not selected"
		return nil
	}
	r.out.GhostTable = &real
	r.out.Skip = what
	return nil
}

// renamePair is one "old TO new" of a RENAME TABLE (or ALTER TABLE ... RENAME).
type renamePair struct{ old, new TableRef }

// alterTable: ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] name [WAIT n|NOWAIT]
// clause, clause, ... [partitioning]. k is at TABLE.
func (r *repl) alterTable(k int) error {
	s := r.s
	r.out.Kind = KindAlterTable
	nameAt := s.ifExists(k + 1)
	ref, after, err := r.name(nameAt)
	if err != nil {
		return err
	}
	r.out.Tables = []TableRef{ref}
	items := s.splitTop(s.waitOption(after), len(s.sig))
	if len(items) == 0 {
		r.out.Skip = "no change"
		return nil
	}
	rename := -1
	var pair renamePair
	for i, it := range items {
		if at, ok := r.tableRenameAt(it); ok {
			nw, _, err := r.name(at)
			if err != nil {
				return fmt.Errorf("RENAME: %w", err)
			}
			if rename >= 0 {
				return errors.New("two RENAME clauses")
			}
			rename, pair = i, renamePair{old: ref, new: nw}
		}
	}
	if rename >= 0 {
		r.out.Tables = append(r.out.Tables, pair.new)
	}

	// gh-ost: its shadow table is altered (saved for the cut-over) and renamed
	// (the two-step cut-over); its trash tables are ignored.
	role, real := r.ghostOf(ref)
	newRole := ghostNone
	if rename >= 0 {
		newRole, _ = r.ghostOf(pair.new)
	}
	if rename >= 0 && (role != ghostNone || newRole != ghostNone) {
		if len(items) != 1 {
			return errors.New("a gh-ost table is renamed together with other changes")
		}
		return r.ghostRenames([]renamePair{pair})
	}
	switch role {
	case ghostShadow:
		r.out.Kind = KindGhostAlter
		dst, ok := r.dest(real)
		if !ok {
			r.out.Skip = "gh-ost's shadow table of " + refText(real) + ", which is not selected"
			return nil
		}
		r.out.GhostTable = &real
		d := &defRW{r: r, s: s, db: real.Database, table: real.Name}
		r.replace(nameAt, after-1, qualify(dst.Database, dst.Name))
		return r.alterClauses(d, items, nil)
	case ghostTrash:
		r.out.Kind = KindGhostTrash
		r.out.Skip = refText(ref) + " is one of gh-ost's own tables"
		return nil
	}

	others, err := r.otherTables(items)
	if err != nil {
		return err
	}
	dst, selected := r.dest(ref)
	if !selected {
		if rename >= 0 {
			if _, ok := r.dest(pair.new); ok {
				return renameAcross(pair, false)
			}
		}
		for _, o := range others {
			if _, ok := r.dest(o.ref); ok {
				return fmt.Errorf("%s of %s, which is not selected, moves rows into %s, which is: they are not in the binlog", o.what, refText(ref), refText(o.ref))
			}
		}
		r.out.Skip = notSelected(ref)
		return nil
	}
	if rename >= 0 {
		if _, ok := r.dest(pair.new); !ok {
			return renameAcross(pair, true)
		}
	}
	for _, o := range others {
		if _, ok := r.dest(o.ref); !ok {
			return fmt.Errorf("%s moves rows between %s and %s, which is not selected: they are not in the binlog", o.what, refText(ref), refText(o.ref))
		}
		r.out.Tables = append(r.out.Tables, o.ref)
	}
	d := &defRW{r: r, s: s, db: ref.Database, table: ref.Name}
	r.replace(nameAt, after-1, qualify(dst.Database, dst.Name))
	return r.alterClauses(d, items, &pair)
}

// renameAcross is the error for a rename between a selected and an unselected name.
func renameAcross(p renamePair, oldSelected bool) error {
	if oldSelected {
		return fmt.Errorf("%s is renamed to %s, which is not selected: replication of its rows would silently stop (select the new name too, e.g. with a glob)",
			refText(p.old), refText(p.new))
	}
	return fmt.Errorf("%s, which is not selected, is renamed to %s, which is: the destination would get a table whose rows were never copied",
		refText(p.old), refText(p.new))
}

// tableRenameAt returns where the new name of a RENAME [TO|AS] name clause is.
func (r *repl) tableRenameAt(it item) (int, bool) {
	s := r.s
	if !s.tok(it.from).Is("RENAME") {
		return 0, false
	}
	k := it.from + 1
	switch upper(s.tok(k)) {
	case "COLUMN", "INDEX", "KEY":
		return 0, false
	case "TO", "AS":
		k++
	}
	return k, s.isName(k)
}

// otherTable is a table an ALTER TABLE clause exchanges rows with.
type otherTable struct {
	ref      TableRef
	from, to int // the name's significant range
	what     string
}

// otherTables finds EXCHANGE PARTITION ... WITH TABLE t and CONVERT PARTITION
// ... TO TABLE t / CONVERT TABLE t TO PARTITION ...
func (r *repl) otherTables(items []item) ([]otherTable, error) {
	s := r.s
	var out []otherTable
	for _, it := range items {
		first := upper(s.tok(it.from))
		if first != "EXCHANGE" && !(first == "CONVERT" && !s.tok(it.from+1).Is("TO")) {
			continue
		}
		at := s.findWord(it.from+1, "TABLE")
		if at < 0 || at > it.to {
			continue
		}
		ref, after, err := r.name(at + 1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", first, err)
		}
		out = append(out, otherTable{ref: ref, from: at + 1, to: after - 1, what: first + " PARTITION"})
	}
	return out, nil
}

// alterClauses rewrites the clauses of an ALTER TABLE for d's table; clauses
// that only concern excluded columns are removed. rename is the table rename
// when there is one (nil for a gh-ost shadow table).
func (r *repl) alterClauses(d *defRW, items []item, rename *renamePair) error {
	s := r.s
	drop := make([]bool, len(items))
	noop := make([]bool, len(items))
	for i := 0; i < len(items); i++ {
		it := items[i]
		to := it.to
		// Partition options follow the last clause without a comma.
		if p := s.partitionBy(it.from, it.to); p >= 0 {
			d.partitionExprs(p, it.to)
			to = p - 1
		}
		if to < it.from {
			continue
		}
		switch upper(s.tok(it.from)) {
		case "ADD":
			drop[i] = d.add(it.from, to)
		case "CHANGE":
			drop[i] = d.change(it.from, to)
		case "MODIFY":
			k := s.ifExists(d.skipColumn(it.from + 1))
			drop[i] = d.columnDef(k, to, true)
		case "DROP":
			drop[i] = d.dropClause(it.from, to)
		case "ALTER":
			drop[i] = d.alterColumn(it.from, to)
		case "RENAME":
			if at, ok := r.tableRenameAt(it); ok && rename != nil {
				_, after, _ := r.name(at)
				nd, _ := r.dest(rename.new)
				r.replace(at, after-1, qualify(nd.Database, nd.Name))
				continue
			}
			drop[i] = d.renameColumn(it.from, to)
		case "ORDER":
			n, gone := d.orderBy(items, i)
			for j := i; j <= i+n; j++ {
				drop[j] = gone
			}
			i += n
		case "EXCHANGE", "CONVERT":
			if at := s.findWord(it.from+1, "TABLE"); at >= 0 && at <= to && !s.tok(it.from+1).Is("TO") {
				ref, after, err := r.name(at + 1)
				if err != nil {
					return err
				}
				nd := r.destOrOwn(ref)
				r.replace(at+1, after-1, qualify(nd.Database, nd.Name))
			}
		case "DISCARD":
			r.out.Statements = nil
			r.out.Skip = "DISCARD TABLESPACE detaches the source's own data files; not replicated"
			return nil
		case "IMPORT":
			return errors.New("IMPORT TABLESPACE brings rows that are not in the binlog: the destination cannot follow (copy the table again)")
		case "ALGORITHM", "LOCK":
			noop[i] = true
		default:
			d.tableOptions(it.from, to)
		}
	}
	if err := d.deps.err(); err != nil {
		return err
	}
	dropped, meaningful := false, 0
	for i := range items {
		if drop[i] {
			dropped = true
		} else if !noop[i] {
			meaningful++
		}
	}
	if dropped && meaningful == 0 {
		r.out.Skip = "every change concerns excluded columns"
		return nil
	}
	if dropped {
		r.cutItems(items, drop)
	}
	r.out.Statements = []string{s.String()}
	var olds, news []string
	for i, it := range items {
		switch {
		case drop[i]:
		case s.tok(it.from).Is("EXCHANGE"):
			r.out.NotIdempotent = "EXCHANGE PARTITION run again swaps the rows back"
		case s.tok(it.from).Is("CHANGE"):
			if k := s.ifExists(d.skipColumn(it.from + 1)); s.isName(k) && s.isName(k+1) {
				olds, news = append(olds, s.name(k)), append(news, s.name(k+1))
			}
		case s.tok(it.from).Is("RENAME") && s.tok(it.from+1).Is("COLUMN") && s.isName(it.from+2) && s.isName(it.from+4):
			olds, news = append(olds, s.name(it.from+2)), append(news, s.name(it.from+4))
		}
	}
	// The clauses of one ALTER name the columns as they were before it, so a
	// second run fails unless every renamed column is also a new name (a cycle,
	// such as a swap). CHANGE a a (a type change) is no rename.
	targets := map[string]bool{}
	for i := range olds {
		if !foldEq(olds[i], news[i]) {
			targets[strings.ToLower(news[i])] = true
		}
	}
	cycle := len(targets) > 0
	for i := range olds {
		if !foldEq(olds[i], news[i]) && !targets[strings.ToLower(olds[i])] {
			cycle = false
		}
	}
	if cycle {
		r.out.NotIdempotent = "the column renames form a cycle: run again, they undo themselves"
	}
	return nil
}

// partitionBy finds PARTITION BY at depth 0 in from..to, or -1.
func (s *stmt) partitionBy(from, to int) int {
	depth := 0
	for k := from; k <= to; k++ {
		switch t := s.tok(k); {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && t.Is("PARTITION") && s.tok(k+1).Is("BY"):
			return k
		}
	}
	return -1
}

// renameTable: RENAME TABLE[S] [IF EXISTS] a [WAIT n|NOWAIT] TO b [, c TO d ...].
// k is after TABLE.
func (r *repl) renameTable(k int) error {
	s := r.s
	r.out.Kind = KindRenameTable
	k = s.ifExists(k)
	var pairs []renamePair
	for _, it := range s.splitTop(k, len(s.sig)) {
		old, after, err := r.name(it.from)
		if err != nil {
			return err
		}
		j := s.waitOption(after)
		if !s.tok(j).Is("TO") {
			return fmt.Errorf("expected TO after %s", refText(old))
		}
		nw, _, err := r.name(j + 1)
		if err != nil {
			return err
		}
		pairs = append(pairs, renamePair{old: old, new: nw})
		r.out.Tables = append(r.out.Tables, old, nw)
	}
	if len(pairs) == 0 {
		return errors.New("no table to rename")
	}
	for _, p := range pairs {
		ro, _ := r.ghostOf(p.old)
		rn, _ := r.ghostOf(p.new)
		if ro != ghostNone || rn != ghostNone {
			return r.ghostRenames(pairs)
		}
	}
	// Renames chain within one statement (a TO tmp, b TO a, tmp TO b): what
	// must agree is the selection of a chain's first and last names; a name
	// in the middle only lives during the statement.
	type chain struct {
		first, last TableRef
	}
	chainOf := make([]int, len(pairs))
	var chains []chain
	open := map[TableRef]int{} // current name -> chain
	for i, p := range pairs {
		c, ok := open[p.old]
		if ok {
			delete(open, p.old)
			chains[c].last = p.new
		} else {
			c = len(chains)
			chains = append(chains, chain{first: p.old, last: p.new})
		}
		open[p.new] = c
		chainOf[i] = c
	}
	replicated := make([]bool, len(chains))
	for c, ch := range chains {
		_, fromSel := r.dest(ch.first)
		_, toSel := r.dest(ch.last)
		if fromSel != toSel {
			return renameAcross(renamePair{old: ch.first, new: ch.last}, fromSel)
		}
		replicated[c] = fromSel
	}
	var parts []string
	var skipped []TableRef
	for i, p := range pairs {
		if !replicated[chainOf[i]] {
			skipped = append(skipped, p.old)
			continue
		}
		od, nd := r.destOrOwn(p.old), r.destOrOwn(p.new)
		parts = append(parts, qualify(od.Database, od.Name)+" TO "+qualify(nd.Database, nd.Name))
	}
	if len(parts) == 0 {
		r.out.Skip = notSelected(skipped...)
		return nil
	}
	r.out.Statements = []string{"RENAME TABLE " + strings.Join(parts, ", ")}
	olds, news := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		olds[i], news[i] = refText(p.old), refText(p.new)
	}
	if replaySucceeds(olds, news) {
		r.out.NotIdempotent = "the renames form a cycle: run again, they undo themselves"
	}
	return nil
}

// replaySucceeds reports whether renames applied in order (olds[i] TO news[i]),
// once run, would run again without error. Simulated on the names they
// mention: a name exists before the statement when it is first mentioned as a
// source, and not when first mentioned as a target.
func replaySucceeds(olds, news []string) bool {
	exists := map[string]bool{}
	for i := range olds {
		if _, seen := exists[olds[i]]; !seen {
			exists[olds[i]] = true
		}
		if _, seen := exists[news[i]]; !seen {
			exists[news[i]] = false
		}
	}
	run := func() bool {
		for i := range olds {
			if !exists[olds[i]] || exists[news[i]] {
				return false
			}
			exists[olds[i]], exists[news[i]] = false, true
		}
		return true
	}
	// The second run is the replay after a crash: state carries over.
	first := run()
	return first && run()
}

// ghostRenames classifies renames that involve gh-ost's tables: the cut-over
// (t TO _t_del, _t_gho TO t, in one statement or two), its revert, or renames
// among gh-ost's own tables. Nothing is run on the destination.
func (r *repl) ghostRenames(pairs []renamePair) error {
	var real *TableRef
	cutover, away, revert := false, false, false
	owner := func(t TableRef) error {
		if real != nil && *real != t {
			return fmt.Errorf("gh-ost renames of %s and %s in one statement", refText(*real), refText(t))
		}
		real = &t
		return nil
	}
	for _, p := range pairs {
		ro, shadowOf := r.ghostOf(p.old)
		rn, _ := r.ghostOf(p.new)
		var err error
		switch {
		case ro == ghostShadow && rn == ghostNone:
			if p.new != shadowOf {
				return fmt.Errorf("gh-ost's shadow table %s is renamed to %s instead of %s", refText(p.old), refText(p.new), refText(shadowOf))
			}
			cutover = true
			err = owner(p.new)
		case ro == ghostNone && rn == ghostTrash:
			away = true
			err = owner(p.old)
		case ro == ghostNone && rn == ghostShadow:
			revert = true
			err = owner(p.old)
		case ro == ghostTrash && rn == ghostNone:
			revert = true
			err = owner(p.new)
		case ro == ghostNone && rn == ghostNone:
			return fmt.Errorf("%s TO %s is renamed together with gh-ost's tables", refText(p.old), refText(p.new))
		case ro == ghostShadow && rn == ghostShadow:
			return fmt.Errorf("gh-ost's shadow table %s is renamed to another shadow name %s", refText(p.old), refText(p.new))
		}
		if err != nil {
			return err
		}
	}
	switch {
	case cutover && revert:
		return errors.New("gh-ost's cut-over and its revert in one statement")
	case cutover:
		r.out.Kind = KindGhostCutover
	case revert:
		r.out.Kind = KindGhostRevert
	case away:
		r.out.Kind = KindGhostRenameAway
	default:
		r.out.Kind = KindGhostTrash
		r.out.Skip = "renames among gh-ost's own tables"
		return nil
	}
	what := map[DDLKind]string{
		KindGhostCutover:    "gh-ost's cut-over of ",
		KindGhostRevert:     "gh-ost puts back ",
		KindGhostRenameAway: "gh-ost's two-step cut-over renames away ",
	}[r.out.Kind] + refText(*real)
	return r.ghostOwner(*real, what)
}

// dropTables: DROP [TEMPORARY] TABLE[S] | VIEW [IF EXISTS] a, b, ... [WAIT n|NOWAIT]
// [RESTRICT|CASCADE]. The statement is rebuilt with the selected names only,
// with IF EXISTS (the same effect, and a replay after a crash succeeds).
func (r *repl) dropTables(k int, kind DDLKind, temporary bool) error {
	s := r.s
	r.out.Kind = kind
	k = s.ifExists(k + 1)
	var keep []string
	var skipped []TableRef
	ghosts := 0
	items := s.splitTop(k, len(s.sig))
	for _, it := range items {
		ref, _, err := r.name(it.from)
		if err != nil {
			return err
		}
		r.out.Tables = append(r.out.Tables, ref)
		if role, _ := r.ghostOf(ref); role != ghostNone {
			ghosts++
			continue
		}
		if d, ok := r.dest(ref); ok {
			keep = append(keep, qualify(d.Database, d.Name))
		} else {
			skipped = append(skipped, ref)
		}
	}
	if len(items) == 0 {
		return errors.New("nothing to drop")
	}
	switch {
	case temporary:
		r.out.Skip = "temporary tables belong to one session and are not replicated"
	case len(keep) > 0:
		word := "TABLE"
		if kind == KindDropView {
			word = "VIEW"
		}
		r.out.Statements = []string{"DROP " + word + " IF EXISTS " + strings.Join(keep, ", ")}
	case ghosts == len(items):
		r.out.Kind = KindGhostTrash
		r.out.Skip = "only gh-ost's own tables"
	default:
		r.out.Skip = notSelected(skipped...)
	}
	return nil
}

// truncate: TRUNCATE [TABLE] name [WAIT n|NOWAIT].
func (r *repl) truncate() error {
	s := r.s
	r.out.Kind = KindTruncateTable
	k := 1
	if s.tok(k).Is("TABLE") {
		k++
	}
	ref, _, err := r.name(k)
	if err != nil {
		return err
	}
	r.out.Tables = []TableRef{ref}
	if role, _ := r.ghostOf(ref); role != ghostNone {
		r.out.Kind = KindGhostTrash
		r.out.Skip = refText(ref) + " is one of gh-ost's own tables"
		return nil
	}
	d, ok := r.dest(ref)
	if !ok {
		r.out.Skip = notSelected(ref)
		return nil
	}
	r.out.Statements = []string{"TRUNCATE TABLE " + qualify(d.Database, d.Name)}
	return nil
}

// indexTable reads the ON table of CREATE/DROP INDEX and resolves gh-ost's
// tables: an index on the shadow table is a change to save for the cut-over.
// ok is false when the statement is skipped.
func (r *repl) indexTable(k int) (on, after int, ctx, dst TableRef, ok bool, err error) {
	s := r.s
	on = s.findWord(k, "ON")
	if on < 0 {
		return 0, 0, ctx, dst, false, errors.New("no ON table")
	}
	ref, after, err := r.name(on + 1)
	if err != nil {
		return 0, 0, ctx, dst, false, err
	}
	r.out.Tables = []TableRef{ref}
	ctx = ref
	switch role, real := r.ghostOf(ref); role {
	case ghostTrash:
		r.out.Kind = KindGhostTrash
		r.out.Skip = refText(ref) + " is one of gh-ost's own tables"
		return on, after, ctx, dst, false, nil
	case ghostShadow:
		r.out.Kind = KindGhostAlter
		ctx = real
	}
	dst, ok = r.dest(ctx)
	if !ok {
		r.out.Skip = notSelected(ctx)
		return on, after, ctx, dst, false, nil
	}
	if r.out.Kind == KindGhostAlter {
		r.out.GhostTable = &ctx
	}
	return on, after, ctx, dst, true, nil
}

// createIndex: CREATE [OR REPLACE] [ONLINE|OFFLINE] [UNIQUE|FULLTEXT|SPATIAL]
// INDEX [IF NOT EXISTS] name [USING type] ON table (key parts) [options].
func (r *repl) createIndex(k int) error {
	s := r.s
	r.out.Kind = KindCreateIndex
	iname := ""
	if j := s.ifExists(k + 1); s.isName(j) {
		iname = s.name(j)
	}
	on, after, ctx, dst, ok, err := r.indexTable(k)
	if err != nil || !ok {
		return err
	}
	open := s.nextOp(after, len(s.sig)-1, "(")
	if open < 0 {
		return errors.New("no key parts")
	}
	d := &defRW{r: r, s: s, db: ctx.Database, table: ctx.Name}
	d.keyParts(open, "index "+sqltok.Quote(iname)+d.owner())
	if err := d.deps.err(); err != nil {
		return err
	}
	r.replace(on+1, after-1, qualify(dst.Database, dst.Name))
	r.out.Statements = []string{s.String()}
	return nil
}

// dropIndex: DROP INDEX [ONLINE|OFFLINE] [IF EXISTS] name ON table [options].
func (r *repl) dropIndex(k int) error {
	r.out.Kind = KindDropIndex
	on, after, _, dst, ok, err := r.indexTable(k)
	if err != nil || !ok {
		return err
	}
	r.replace(on+1, after-1, qualify(dst.Database, dst.Name))
	r.out.Statements = []string{r.s.String()}
	return nil
}

// ---- views, routines, triggers, databases ----

// replNames is the Names view of a replication: tables created or renamed after
// the start are mapped through Selects.
type replNames struct{ r *repl }

func (n replNames) Database(db string) string { return n.r.sel.Database(db) }

func (n replNames) Table(db, table string) (string, string, bool) {
	if d, ok := n.r.dest(TableRef{Database: db, Name: table}); ok {
		return d.Database, d.Name, true
	}
	return n.r.sel.Database(db), table, false
}

func (n replNames) Column(db, table, column string) (string, bool) {
	return n.r.sel.Column(db, table, column)
}

// viewNames names a view that lives in another database than the statement's
// default one (RewriteView takes one database for both).
type viewNames struct {
	replNames
	as, view TableRef
}

func (n viewNames) Table(db, table string) (string, string, bool) {
	if (TableRef{Database: db, Name: table}) == n.as {
		return n.replNames.Table(n.view.Database, n.view.Name)
	}
	return n.replNames.Table(db, table)
}

// view: CREATE [OR REPLACE] [ALGORITHM=..] [DEFINER=..] [SQL SECURITY ..] VIEW
// [IF NOT EXISTS] name [(cols)] AS select [WITH CHECK OPTION], or ALTER VIEW
// (replayed as CREATE OR REPLACE VIEW, which is what it does). k is at VIEW.
func (r *repl) view(k int, alter bool) error {
	s := r.s
	r.out.Kind = KindCreateView
	if alter {
		r.out.Kind = KindAlterView
	}
	nameAt := s.ifExists(k + 1)
	ifNotExists := nameAt > k+1
	ref, _, err := r.name(nameAt)
	if err != nil {
		return err
	}
	r.out.Tables = []TableRef{ref}
	if _, ok := r.dest(ref); !ok {
		r.out.Skip = notSelected(ref)
		return nil
	}
	if ifNotExists {
		r.cut(k+1, nameAt-1) // RewriteView reads the name right after VIEW
	}
	if alter {
		s.set(0, "CREATE OR REPLACE")
	}
	// Unqualified tables of the SELECT are in the session's database.
	srcDB := r.defaultDB
	var n Names = replNames{r}
	if srcDB == "" {
		srcDB = ref.Database
	} else if srcDB != ref.Database {
		n = viewNames{replNames: replNames{r}, as: TableRef{Database: srcDB, Name: ref.Name}, view: ref}
	}
	if r.err != nil {
		return r.err
	}
	out, err := RewriteView(srcDB, ref.Name, s.String(), n)
	if err != nil {
		return err
	}
	if ifNotExists {
		o, err := tokenize("rewritten view", out)
		if err != nil {
			return err
		}
		v := o.findWord(0, "VIEW")
		o.set(v, o.tok(v).Text+" IF NOT EXISTS")
		out = o.String()
	}
	r.out.Statements = []string{out}
	return nil
}

// routineName reads a routine name at k; ok=false for a loadable function (UDF:
// no database, or RETURNS ... SONAME without a parameter list).
func (r *repl) routineName(k int) (TableRef, int, bool, error) {
	s := r.s
	parts, after := s.qualified(k, 2)
	if len(parts) == 0 {
		return TableRef{}, k, false, fmt.Errorf("expected a routine name, found %q", s.tok(k).Text)
	}
	if len(parts) == 1 && r.defaultDB == "" {
		return TableRef{Name: parts[0]}, after, false, nil
	}
	ref, after, err := r.name(k)
	return ref, after, true, err
}

// routineSelected: routines of a database are migrated when its object selects
// all its tables (as the schema phase does).
func (r *repl) routineSelected(ref TableRef) bool {
	if _, all := r.sel.SelectsDatabase(ref.Database); !all {
		r.out.Skip = "routines of " + sqltok.Quote(ref.Database) + " are not migrated (its object does not select all its tables)"
		return false
	}
	return true
}

func (r *repl) createRoutine(k int) error {
	s := r.s
	r.out.Kind = KindCreateRoutine
	ref, after, ok, err := r.routineName(s.ifExists(k + 1))
	if err != nil {
		return err
	}
	if !ok || !s.tok(after).IsOp("(") {
		return r.other("CREATE FUNCTION ... SONAME (a loadable function)")
	}
	r.out.Tables = []TableRef{ref}
	if !r.routineSelected(ref) {
		return nil
	}
	out, warnings, err := RewriteRoutineWarnings(ref.Database, s.String(), replNames{r})
	if err != nil {
		return err
	}
	r.out.Statements, r.out.Warnings = []string{out}, append(r.out.Warnings, warnings...)
	return nil
}

// alterRoutine: ALTER FUNCTION|PROCEDURE name characteristics; SQL SECURITY
// DEFINER becomes INVOKER as for created routines.
func (r *repl) alterRoutine(k int) error {
	s := r.s
	r.out.Kind = KindAlterRoutine
	ref, after, ok, err := r.routineName(k + 1)
	if err != nil {
		return err
	}
	if !ok {
		return r.other("ALTER FUNCTION (a loadable function)")
	}
	r.out.Tables = []TableRef{ref}
	if !r.routineSelected(ref) {
		return nil
	}
	for j := after; j+2 < len(s.sig); j++ {
		if s.tok(j).Is("SQL") && s.tok(j+1).Is("SECURITY") && s.tok(j+2).Is("DEFINER") {
			s.set(j+2, "INVOKER")
		}
	}
	r.replace(k+1, after-1, qualify(r.sel.Database(ref.Database), ref.Name))
	r.out.Statements = []string{s.String()}
	return nil
}

func (r *repl) dropRoutine(k int) error {
	s := r.s
	r.out.Kind = KindDropRoutine
	ref, _, ok, err := r.routineName(s.ifExists(k + 1))
	if err != nil {
		return err
	}
	if !ok {
		return r.other("DROP FUNCTION (a loadable function)")
	}
	r.out.Tables = []TableRef{ref}
	if !r.routineSelected(ref) {
		return nil
	}
	r.out.Statements = []string{"DROP " + upper(s.tok(k)) + " IF EXISTS " + qualify(r.sel.Database(ref.Database), ref.Name)}
	return nil
}

// createTrigger is reported, not run: triggers are created at cut-over (before
// it they would fire on the rows the applier writes). Deferred holds it
// rewritten for the destination.
func (r *repl) createTrigger(k int) error {
	s := r.s
	r.out.Kind = KindCreateTrigger
	trig, after, err := r.name(s.ifExists(k + 1))
	if err != nil {
		return err
	}
	on := s.findWord(after, "ON")
	if on < 0 {
		return errors.New("no ON table")
	}
	// The table is in the trigger's database (the server requires it).
	parts, _ := s.qualified(on+1, 2)
	if len(parts) == 0 {
		return errors.New("no table after ON")
	}
	table := TableRef{Database: trig.Database, Name: parts[len(parts)-1]}
	if len(parts) == 2 {
		table.Database = parts[0]
	}
	r.out.Tables = []TableRef{trig, table}
	if role, _ := r.ghostOf(table); role != ghostNone {
		r.out.Kind = KindGhostTrash
		r.out.Skip = "a trigger on gh-ost's table " + refText(table)
		return nil
	}
	if _, ok := r.dest(table); !ok {
		r.out.Skip = notSelected(table)
		return nil
	}
	out, warnings, err := RewriteTriggerWarnings(trig.Database, s.String(), replNames{r})
	if err != nil {
		return err
	}
	r.out.Deferred, r.out.Warnings = out, append(r.out.Warnings, warnings...)
	r.out.Skip = "triggers are created at cut-over (Deferred holds it)"
	return nil
}

func (r *repl) dropTrigger(k int) error {
	r.out.Kind = KindDropTrigger
	trig, _, err := r.name(r.s.ifExists(k + 1))
	if err != nil {
		return err
	}
	r.out.Tables = []TableRef{trig}
	r.out.Skip = "triggers are created at cut-over: forget this one if it was deferred"
	return nil
}

// createDatabase: replicated for a selected database, with IF NOT EXISTS.
func (r *repl) createDatabase(k int) error {
	s := r.s
	r.out.Kind = KindCreateDatabase
	nameAt := s.ifExists(k + 1)
	if !s.isName(nameAt) {
		return errors.New("no database name")
	}
	db := s.name(nameAt)
	r.out.Tables = []TableRef{{Database: db}}
	if sel, _ := r.sel.SelectsDatabase(db); !sel {
		r.out.Skip = sqltok.Quote(db) + " is not selected"
		return nil
	}
	name := sqltok.Quote(r.sel.Database(db))
	if nameAt == k+1 {
		name = "IF NOT EXISTS " + name
	}
	s.set(nameAt, name)
	r.out.Statements = []string{s.String()}
	return nil
}

// alterDatabase: ALTER DATABASE [name] options (defaults that CREATE TABLE
// without a charset relies on).
func (r *repl) alterDatabase(k int) error {
	s := r.s
	r.out.Kind = KindAlterDatabase
	nameAt := k + 1
	named := s.isName(nameAt)
	switch upper(s.tok(nameAt)) {
	case "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "COMMENT":
		named = false
	}
	db := r.defaultDB
	if named {
		db = s.name(nameAt)
	}
	if db == "" {
		return errors.New("no database named and no default database")
	}
	r.out.Tables = []TableRef{{Database: db}}
	if s.findWord(k, "UPGRADE") >= 0 {
		r.out.Skip = "UPGRADE DATA DIRECTORY NAME concerns the source's files"
		return nil
	}
	if sel, _ := r.sel.SelectsDatabase(db); !sel {
		r.out.Skip = sqltok.Quote(db) + " is not selected"
		return nil
	}
	name := sqltok.Quote(r.sel.Database(db))
	if named {
		s.set(nameAt, name)
	} else {
		s.set(k, s.tok(k).Text+" "+name)
	}
	r.out.Statements = []string{s.String()}
	return nil
}

// dropDatabase of a selected database is an error: the destination database
// may hold more than what was migrated, and the source's tables are gone.
func (r *repl) dropDatabase(k int) error {
	s := r.s
	r.out.Kind = KindDropDatabase
	nameAt := s.ifExists(k + 1)
	if !s.isName(nameAt) {
		return errors.New("no database name")
	}
	db := s.name(nameAt)
	r.out.Tables = []TableRef{{Database: db}}
	if sel, _ := r.sel.SelectsDatabase(db); sel {
		return fmt.Errorf("the source dropped %s, which the migration replicates: its tables are gone from the source; sluice does not drop a destination database (drop %s there yourself if that is intended, then start a new migration)",
			sqltok.Quote(db), sqltok.Quote(r.sel.Database(db)))
	}
	r.out.Skip = sqltok.Quote(db) + " is not selected"
	return nil
}

// ---- definitions ----

// defRW rewrites column definitions, key parts and expressions that name the
// columns of one source table (db.table): renames through Names.Column, and a
// *DependencyError for an excluded column something still uses.
type defRW struct {
	r         *repl
	s         *stmt
	db, table string
	cols      map[string]bool // CREATE TABLE: the lower-case names of the columns it defines
	deps      depErrs
}

func (d *defRW) owner() string { return " of table " + qualify(d.db, d.table) }

func (d *defRW) column(name string) (string, bool) { return d.r.sel.Column(d.db, d.table, name) }

// rename rewrites the column reference at k; dependent names what uses it.
func (d *defRW) rename(k int, dependent string) {
	name := d.s.name(k)
	dst, excluded := d.column(name)
	if excluded {
		d.deps.add(&DependencyError{Database: d.db, Table: d.table, Column: name, Dependent: dependent})
		return
	}
	if dst != name {
		d.s.set(k, sqltok.Quote(dst))
	}
}

// constraintStart reports whether the word at k starts a key, constraint or
// period rather than a column definition.
func (d *defRW) constraintStart(k int) bool {
	switch upper(d.s.tok(k)) {
	case "PRIMARY", "UNIQUE", "KEY", "INDEX", "FULLTEXT", "SPATIAL", "CONSTRAINT", "FOREIGN", "CHECK":
		return true
	case "PERIOD":
		return d.s.tok(k + 1).Is("FOR")
	}
	return false
}

func (d *defRW) isColumnItem(k int) bool {
	t := d.s.tok(k)
	return t.Kind == sqltok.Ident || t.Kind == sqltok.Word && !d.constraintStart(k)
}

func (d *defRW) skipColumn(k int) int {
	if d.s.tok(k).Is("COLUMN") {
		return k + 1
	}
	return k
}

// columnDef rewrites "name definition" at k..to; it returns true when the
// column is excluded (the caller removes it). position allows FIRST/AFTER.
func (d *defRW) columnDef(k, to int, position bool) bool {
	s := d.s
	if !s.isName(k) {
		return false
	}
	name := s.name(k)
	dst, excluded := d.column(name)
	if excluded {
		return true
	}
	if dst != name {
		s.set(k, sqltok.Quote(dst))
	}
	d.definition(k+1, to, name, position)
	return false
}

// definition rewrites the expressions of a column definition: generated (AS),
// CHECK, DEFAULT, inline REFERENCES, and AFTER col.
func (d *defRW) definition(from, to int, col string, position bool) {
	s := d.s
	own := sqltok.Quote(col)
	for k := from; k <= to && k < len(s.sig); k++ {
		t := s.tok(k)
		switch {
		case t.IsOp("("):
			if m := s.matching(k); m > k {
				k = m // type arguments
			}
		case (t.Is("AS") || t.Is("CHECK")) && s.tok(k+1).IsOp("("):
			dep := "generated column " + own
			if t.Is("CHECK") {
				dep = "the CHECK constraint of column " + own
			}
			closing := s.matching(k + 1)
			d.expr(k+1, closing, dep+d.owner())
			k = closing
		case t.Is("DEFAULT"):
			k = d.defaultExpr(k, "the DEFAULT of column "+own+d.owner())
		case t.Is("REFERENCES"):
			k = d.references(k, "the foreign key of column "+own+d.owner())
		case position && t.Is("AFTER") && s.isName(k+1):
			name := s.name(k + 1)
			dst, excluded := d.column(name)
			switch {
			case excluded:
				d.r.cut(k, k+1)
				d.r.warn("column %s of %s is placed last on the destination: AFTER names %s, an excluded column", own, qualify(d.db, d.table), sqltok.Quote(name))
			case dst != name:
				s.set(k+1, sqltok.Quote(dst))
			}
			k++
		}
	}
}

// defaultExpr handles DEFAULT (expr) and DEFAULT fn(args) at k; it returns the
// last index consumed.
func (d *defRW) defaultExpr(k int, dependent string) int {
	s := d.s
	j := k + 1
	if s.tok(j).IsOp("(") {
		closing := s.matching(j)
		d.expr(j, closing, dependent)
		return closing
	}
	if s.isName(j) {
		if _, after := s.qualified(j, 2); s.tok(after).IsOp("(") {
			closing := s.matching(after)
			d.expr(j, closing, dependent)
			return closing
		}
	}
	return k
}

// references rewrites REFERENCES [db.]table (cols) at k: the table's destination
// name (an unqualified one is in this table's database) and its columns through
// Names.Column of that table. It returns the last index consumed.
func (d *defRW) references(k int, dependent string) int {
	s := d.s
	parts, after := s.qualified(k+1, 2)
	if len(parts) == 0 {
		d.r.fail(fmt.Errorf("%s: no table after REFERENCES", dependent))
		return k
	}
	ref := TableRef{Database: d.db, Name: parts[len(parts)-1]}
	if len(parts) == 2 {
		ref.Database = parts[0]
	}
	nd := d.r.destOrOwn(ref)
	d.r.replace(k+1, after-1, qualify(nd.Database, nd.Name))
	if !s.tok(after).IsOp("(") {
		d.r.fail(fmt.Errorf("%s: no referenced columns", dependent))
		return after - 1
	}
	closing := s.matching(after)
	for j := after + 1; j < closing; j++ {
		if !s.isName(j) {
			continue
		}
		name := s.name(j)
		dst, excluded := d.r.sel.Column(ref.Database, ref.Name, name)
		if excluded {
			d.deps.add(&DependencyError{Database: ref.Database, Table: ref.Name, Column: name, Dependent: dependent})
			continue
		}
		if dst != name {
			s.set(j, sqltok.Quote(dst))
		}
	}
	return closing
}

// keyParts rewrites a key-part list "(col[(len)] [ASC|DESC], (expr), ...)" at open.
func (d *defRW) keyParts(open int, dependent string) {
	s := d.s
	closing := s.matching(open)
	if closing < 0 {
		d.r.fail(errors.New("unbalanced parentheses in a key"))
		return
	}
	for _, it := range s.splitTop(open+1, closing) {
		k := it.from
		switch {
		case s.tok(k).IsOp("("):
			d.expr(k, s.matching(k), dependent)
		case s.isName(k) && !s.tok(k+1).Is("WITHOUT"): // a period name before WITHOUT OVERLAPS
			d.rename(k, dependent)
		}
	}
}

// indexWords come before an index's name.
var indexWords = map[string]bool{
	"PRIMARY": true, "UNIQUE": true, "KEY": true, "INDEX": true, "FULLTEXT": true, "SPATIAL": true,
	"IF": true, "NOT": true, "EXISTS": true,
}

// constraint rewrites a key, foreign key, CHECK or PERIOD definition at k..to
// (a CREATE TABLE item or what follows ADD).
func (d *defRW) constraint(k, to int) {
	s := d.s
	cname := ""
	if s.tok(k).Is("CONSTRAINT") {
		k = s.ifExists(k + 1)
		if s.isName(k) && !d.constraintStart(k) {
			cname = s.name(k)
			k++
		}
	}
	named := func(what string) string {
		if cname != "" {
			return what + " " + sqltok.Quote(cname)
		}
		return what
	}
	first := upper(s.tok(k))
	open := s.nextOp(k, to, "(")
	if open < 0 {
		d.r.fail(fmt.Errorf("%s has no column list", strings.ToLower(first)))
		return
	}
	switch first {
	case "CHECK":
		d.expr(open, s.matching(open), named("CHECK constraint")+d.owner())
	case "FOREIGN":
		dep := named("foreign key") + d.owner()
		d.keyParts(open, dep)
		if ref := s.findWord(s.matching(open), "REFERENCES"); ref >= 0 && ref <= to {
			d.references(ref, dep)
		} else {
			d.r.fail(fmt.Errorf("%s has no REFERENCES", dep))
		}
	case "PERIOD":
		d.keyParts(open, "period "+sqltok.Quote(s.name(k+2))+d.owner())
	default:
		dep := "the primary key"
		if first != "PRIMARY" {
			iname := ""
			for j := k; j < open && iname == ""; j++ {
				switch {
				case s.tok(j).Is("USING") || s.tok(j).Is("TYPE"):
					j++
				case s.isName(j) && !indexWords[upper(s.tok(j))]:
					iname = s.name(j)
				}
			}
			if iname == "" {
				iname = cname
			}
			dep = "index " + sqltok.Quote(iname)
			if iname == "" {
				dep = "an unnamed index"
			}
		}
		d.keyParts(open, dep+d.owner())
	}
}

// intervalUnits are the units of INTERVAL, EXTRACT and TIMESTAMPADD/DIFF.
var intervalUnits = map[string]bool{
	"MICROSECOND": true, "SECOND": true, "MINUTE": true, "HOUR": true, "DAY": true, "WEEK": true,
	"MONTH": true, "QUARTER": true, "YEAR": true, "SECOND_MICROSECOND": true, "MINUTE_MICROSECOND": true,
	"MINUTE_SECOND": true, "HOUR_MICROSECOND": true, "HOUR_SECOND": true, "HOUR_MINUTE": true,
	"DAY_MICROSECOND": true, "DAY_SECOND": true, "DAY_MINUTE": true, "DAY_HOUR": true, "YEAR_MONTH": true,
	"SQL_TSI_SECOND": true, "SQL_TSI_MINUTE": true, "SQL_TSI_HOUR": true, "SQL_TSI_DAY": true,
	"SQL_TSI_WEEK": true, "SQL_TSI_MONTH": true, "SQL_TSI_QUARTER": true, "SQL_TSI_YEAR": true,
}

// expr rewrites the column references of an expression (significant indexes
// from..to) of d's table. Backquoted names are always names; an unquoted word
// is taken for a column unless it is reserved, a function name, or in a
// keyword position (a type after AS, an INTERVAL unit, after COLLATE, CHARSET,
// CHARACTER SET, USING or IS, a typed literal such as DATE '...'). Qualified
// names: db.t.col and t.col (t this table) are columns; db.fn(...) is a
// stored function (its database is mapped); another db.x is a table or
// sequence (mapped like a REFERENCES table).
func (d *defRW) expr(from, to int, dependent string) {
	s := d.s
	depth, typeDepth := 0, -1
	interval := map[int]bool{} // depth -> an INTERVAL waits for its unit
	for k := from; k <= to && k < len(s.sig); k++ {
		t := s.tok(k)
		switch {
		case t.IsOp("("):
			depth++
			continue
		case t.IsOp(")"):
			if typeDepth == depth {
				typeDepth = -1
			}
			delete(interval, depth)
			depth--
			continue
		case t.IsOp(","):
			if typeDepth == depth {
				typeDepth = -1
			}
			delete(interval, depth)
			continue
		}
		if !s.isName(k) || s.tok(k-1).IsOp(".") {
			continue
		}
		if t.Kind == sqltok.Word {
			w := upper(t)
			switch {
			case w == "AS":
				typeDepth = depth
				continue
			case w == "INTERVAL":
				interval[depth] = true
				continue
			case typeDepth == depth:
				continue
			case intervalUnits[w] && (interval[depth] && !s.tok(k-1).Is("INTERVAL") || s.tok(k+1).Is("FROM") || d.unitArgument(k)):
				// INTERVAL expr unit: a unit word right after INTERVAL is the expression.
				delete(interval, depth)
				continue
			case reserved[w] || d.keywordPosition(k):
				continue
			}
		}
		parts, after := s.qualified(k, 3)
		call := s.tok(after).IsOp("(")
		switch {
		case call && len(parts) == 2:
			if db := d.r.sel.Database(parts[0]); db != parts[0] {
				s.set(k, sqltok.Quote(db))
			}
		case call:
			// a built-in or stored function of the current database
		case len(parts) == 3:
			d.qualifiedColumn(k, after-1, TableRef{Database: parts[0], Name: parts[1]}, parts[2], dependent)
		case len(parts) == 2 && foldEq(parts[0], d.table):
			d.qualifiedColumn(k, after-1, TableRef{Database: d.db, Name: d.table}, parts[1], dependent)
		case len(parts) == 2:
			nd := d.r.destOrOwn(TableRef{Database: parts[0], Name: parts[1]})
			d.r.replace(k, after-1, qualify(nd.Database, nd.Name))
		case t.Kind == sqltok.Word && d.cols != nil && !d.cols[strings.ToLower(parts[0])]:
			// not a column of the table being created
		default:
			d.rename(k, dependent)
		}
		k = after - 1
	}
}

// qualifiedColumn rewrites a qualified column reference [db.]t.col (significant
// k..end) of table ref.
func (d *defRW) qualifiedColumn(k, end int, ref TableRef, col, dependent string) {
	dst, excluded := d.r.sel.Column(ref.Database, ref.Name, col)
	if excluded {
		d.deps.add(&DependencyError{Database: ref.Database, Table: ref.Name, Column: col, Dependent: dependent})
		return
	}
	nd := d.r.destOrOwn(ref)
	text := sqltok.Quote(nd.Name) + "." + sqltok.Quote(dst)
	if end-k == 4 { // db . t . col
		text = qualify(nd.Database, nd.Name) + "." + sqltok.Quote(dst)
	}
	d.r.replace(k, end, text)
}

// unitArgument: the first argument of TIMESTAMPADD/TIMESTAMPDIFF is a unit.
func (d *defRW) unitArgument(k int) bool {
	s := d.s
	return s.tok(k-1).IsOp("(") && (s.tok(k-2).Is("TIMESTAMPADD") || s.tok(k-2).Is("TIMESTAMPDIFF"))
}

// keywordPosition reports whether the word at k is a keyword by its position.
func (d *defRW) keywordPosition(k int) bool {
	s := d.s
	prev := s.tok(k - 1)
	switch {
	case prev.Is("COLLATE") || prev.Is("CHARSET") || prev.Is("USING") || prev.Is("IS"):
		return true
	case prev.Is("SET") && s.tok(k-2).Is("CHARACTER"):
		return true
	case prev.Is("NOT") && s.tok(k-2).Is("IS"):
		return true
	case s.tok(k+1).Kind == sqltok.String: // DATE '2020-01-01'
		return true
	case (s.tok(k).Is("NEXT") || s.tok(k).Is("PREVIOUS")) && s.tok(k+1).Is("VALUE"):
		return true
	case s.tok(k).Is("VALUE") && (prev.Is("NEXT") || prev.Is("PREVIOUS")):
		return true
	}
	return false
}

// partitionExprs renames the columns of PARTITION BY / SUBPARTITION BY
// expressions in from..to (partition names and VALUES are left alone).
func (d *defRW) partitionExprs(from, to int) {
	s := d.s
	for k := from; k <= to; k++ {
		if !(s.tok(k).Is("PARTITION") || s.tok(k).Is("SUBPARTITION")) || !s.tok(k+1).Is("BY") {
			continue
		}
		j := k + 2
		if s.tok(j).Is("LINEAR") {
			j++
		}
		if s.tok(j).Is("SYSTEM_TIME") {
			continue // no column expression
		}
		open := s.nextOp(j, to, "(")
		if open < 0 {
			return
		}
		closing := s.matching(open)
		if closing < 0 {
			return
		}
		d.expr(open, closing, "the partitioning"+d.owner())
		k = closing
	}
}

// tableOptions maps the tables of a MERGE table's UNION=(...) option in from..to.
func (d *defRW) tableOptions(from, to int) {
	s := d.s
	k := s.findWord(from, "UNION")
	if k < 0 || k > to {
		return
	}
	j := k + 1
	if s.tok(j).IsOp("=") {
		j++
	}
	if !s.tok(j).IsOp("(") {
		return
	}
	closing := s.matching(j)
	for _, it := range s.splitTop(j+1, closing) {
		parts, after := s.qualified(it.from, 2)
		if len(parts) == 0 {
			continue
		}
		ref := TableRef{Database: d.db, Name: parts[len(parts)-1]}
		if len(parts) == 2 {
			ref.Database = parts[0]
		}
		nd := d.r.destOrOwn(ref)
		d.r.replace(it.from, after-1, qualify(nd.Database, nd.Name))
	}
}

// ---- ALTER TABLE clauses; each returns true when the clause is removed ----

// add: ADD [COLUMN] [IF NOT EXISTS] col def | ADD [COLUMN] (col def, ...) |
// ADD key/constraint/period | ADD PARTITION ... | ADD SYSTEM VERSIONING.
func (d *defRW) add(from, to int) bool {
	s := d.s
	k := from + 1
	column := s.tok(k).Is("COLUMN")
	if column {
		k++
	}
	k = s.ifExists(k)
	switch {
	case s.tok(k).IsOp("("):
		closing := s.matching(k)
		items := s.splitTop(k+1, closing)
		drop := make([]bool, len(items))
		dropped := 0
		for i, it := range items {
			if d.columnDef(it.from, it.to, false) {
				drop[i] = true
				dropped++
			}
		}
		if dropped == len(items) {
			return true
		}
		if dropped > 0 {
			d.r.cutItems(items, drop)
		}
		return false
	case !column && d.constraintStart(k):
		d.constraint(k, to)
		return false
	case !column && (s.tok(k).Is("PARTITION") || s.tok(k).Is("SYSTEM")):
		return false
	}
	return d.columnDef(k, to, true)
}

// change: CHANGE [COLUMN] [IF EXISTS] old new def [FIRST|AFTER col].
func (d *defRW) change(from, to int) bool {
	s := d.s
	k := s.ifExists(d.skipColumn(from + 1))
	if !s.isName(k) || !s.isName(k+1) {
		return false
	}
	old, nw := s.name(k), s.name(k+1)
	if drop, done := d.renamedColumn(from, to, old, nw); done {
		return drop
	}
	d.rename(k, "")
	if dst, _ := d.column(nw); dst != nw {
		s.set(k+1, sqltok.Quote(dst))
	}
	d.definition(k+2, to, nw, true)
	return false
}

// renamedColumn handles a column rename (CHANGE, RENAME COLUMN) across the
// exclusion: both excluded, the clause goes; into an excluded name, the
// destination drops the column; out of an excluded name, an error. done=false
// when neither name is excluded.
func (d *defRW) renamedColumn(from, to int, old, nw string) (drop, done bool) {
	oldDst, oldEx := d.column(old)
	_, newEx := d.column(nw)
	switch {
	case oldEx && newEx:
		return true, true
	case oldEx:
		d.r.fail(fmt.Errorf("column %s of %s is excluded (exclude_columns) and renamed to %s, which is not: the destination has no such column (exclude %s too)",
			sqltok.Quote(old), qualify(d.db, d.table), sqltok.Quote(nw), sqltok.Quote(nw)))
		return false, true
	case newEx:
		d.r.replace(from, to, "DROP COLUMN "+sqltok.Quote(oldDst))
		d.r.warn("column %s of %s is renamed to %s, which exclude_columns excludes: dropped on the destination", sqltok.Quote(old), qualify(d.db, d.table), sqltok.Quote(nw))
		return false, true
	}
	return false, false
}

// dropClause: DROP [COLUMN] [IF EXISTS] col | DROP key/constraint/partition/...
func (d *defRW) dropClause(from, to int) bool {
	s := d.s
	k := from + 1
	switch upper(s.tok(k)) {
	case "COLUMN":
		k++
	case "INDEX", "KEY", "PRIMARY", "FOREIGN", "CONSTRAINT", "CHECK", "PARTITION":
		return false
	case "SYSTEM":
		if s.tok(k + 1).Is("VERSIONING") {
			return false
		}
	case "PERIOD":
		if s.tok(k + 1).Is("FOR") {
			return false
		}
	}
	k = s.ifExists(k)
	if !s.isName(k) {
		return false
	}
	name := s.name(k)
	dst, excluded := d.column(name)
	if excluded {
		return true
	}
	if dst != name {
		s.set(k, sqltok.Quote(dst))
	}
	return false
}

// alterColumn: ALTER [COLUMN] [IF EXISTS] col {SET DEFAULT expr | DROP DEFAULT |
// SET [IN]VISIBLE} | ALTER {INDEX|KEY} ...
func (d *defRW) alterColumn(from, to int) bool {
	s := d.s
	k := from + 1
	switch upper(s.tok(k)) {
	case "INDEX", "KEY", "CHECK", "CONSTRAINT":
		return false
	}
	k = s.ifExists(d.skipColumn(k))
	if !s.isName(k) {
		return false
	}
	name := s.name(k)
	dst, excluded := d.column(name)
	if excluded {
		return true
	}
	if dst != name {
		s.set(k, sqltok.Quote(dst))
	}
	if def := s.findWord(k, "DEFAULT"); def >= 0 && def < to {
		d.expr(def+1, to, "the DEFAULT of column "+sqltok.Quote(name)+d.owner())
	}
	return false
}

// renameColumn: RENAME COLUMN old TO new | RENAME {INDEX|KEY} a TO b.
func (d *defRW) renameColumn(from, to int) bool {
	s := d.s
	if !s.tok(from + 1).Is("COLUMN") {
		return false
	}
	k := from + 2
	if !s.isName(k) || !s.tok(k+1).Is("TO") || !s.isName(k+2) {
		return false
	}
	old, nw := s.name(k), s.name(k+2)
	if drop, done := d.renamedColumn(from, to, old, nw); done {
		return drop
	}
	d.rename(k, "")
	if dst, _ := d.column(nw); dst != nw {
		s.set(k+2, sqltok.Quote(dst))
	}
	return false
}

// orderBy: ORDER BY col [ASC|DESC], col ... spans several comma-separated items.
// It returns how many items after i belong to it, and whether the whole clause
// goes (it names an excluded column: the order is only physical).
func (d *defRW) orderBy(items []item, i int) (int, bool) {
	s := d.s
	var names []int
	first := items[i]
	if s.isName(first.from+2) && s.tok(first.from+1).Is("BY") {
		names = append(names, first.from+2)
	}
	n := 0
	for j := i + 1; j < len(items); j++ {
		it := items[j]
		if !s.isName(it.from) || (it.to > it.from && !(it.to == it.from+1 && (s.tok(it.to).Is("ASC") || s.tok(it.to).Is("DESC")))) {
			break
		}
		names = append(names, it.from)
		n++
	}
	for _, k := range names {
		if _, excluded := d.column(s.name(k)); excluded {
			return n, true
		}
	}
	for _, k := range names {
		d.rename(k, "ORDER BY"+d.owner())
	}
	return n, false
}
