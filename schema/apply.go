package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/sqltok"
)

// Actions a Result reports.
const (
	Created  = "created"  // the object did not exist and was created
	Exists   = "exists"   // an identical (or, with conflicts: ignore, compatible) object was there already
	Replaced = "replaced" // the object existed and was dropped and created again (or CREATE OR REPLACE)
	Skipped  = "skipped"  // nothing was done (the reason is in Warnings)
)

// Conflict policies (options.conflicts).
const (
	ConflictsPrecheck = "precheck"
	ConflictsIgnore   = "ignore"
)

// Result says what one Apply call did.
type Result struct {
	Object    string   `json:"object"` // kind and names, e.g. table `shop`.`orders` -> `shop2`.`orders`
	Action    string   `json:"action"`
	Statement string   `json:"statement,omitempty"` // the statement run or compared
	Warnings  []string `json:"warnings,omitempty"`
}

// sqlModeTables is the destination session's sql_mode for tables and views: nothing
// strict (a column default the source accepted, like a zero date, must be accepted
// again), and no silent engine substitution (a missing engine is an error, not a
// different table).
const sqlModeTables = "NO_ENGINE_SUBSTITUTION"

// sessionVars are the settings of one destination session.
type sessionVars struct {
	db                  string // current database ("" = none)
	sqlMode             string
	collationConnection string // "" = keep the connection's
}

// withSession runs f on a connection of its own configured with v: foreign-key checks
// off (tables referencing each other can be created in any order), sql_mode and
// collation. The connection is discarded afterwards, so these settings never leak
// into the pool the caller shares with other work. character_set_client stays
// utf8mb4: it is the encoding of the statement text we send, whatever the source
// object was created with (the server already converted SHOW CREATE output to it).
func withSession(ctx context.Context, db *sql.DB, v sessionVars, f func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}()
	set := []string{"SET SESSION foreign_key_checks = 0", "SET SESSION sql_mode = " + sqltok.QuoteString(v.sqlMode)}
	if v.collationConnection != "" {
		set = append(set, "SET SESSION collation_connection = "+sqltok.QuoteString(v.collationConnection))
	}
	if v.db != "" {
		set = append(set, "USE "+sqltok.Quote(v.db))
	}
	for _, q := range set {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return f(conn)
}

// showCreate runs a SHOW CREATE statement on a session with an empty sql_mode (so the
// server prints backquoted names and every option, whatever its global sql_mode) and
// returns the row by column name. found is false when the object does not exist.
func showCreate(ctx context.Context, db *sql.DB, q string, notFound ...uint16) (row map[string]string, found bool, err error) {
	err = withSession(ctx, db, sessionVars{sqlMode: ""}, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return nil
		}
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row = map[string]string{}
		for i, c := range cols {
			row[strings.ToLower(c)] = vals[i].String
		}
		found = true
		return rows.Err()
	})
	var me *mysql.MySQLError
	if errors.As(err, &me) && slices.Contains(notFound, me.Number) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", q, err)
	}
	return row, found, nil
}

// Server error numbers for "does not exist".
const (
	errNoSuchTable     = 1146 // ER_NO_SUCH_TABLE
	errDupKeyName      = 1061 // ER_DUP_KEYNAME
	errSPDoesNotExist  = 1305 // ER_SP_DOES_NOT_EXIST
	errTrgDoesNotExist = 1360 // ER_TRG_DOES_NOT_EXIST
)

// createText returns the definition column of a SHOW CREATE row, or an error saying
// the account may not read it (the server returns NULL then).
func createText(row map[string]string, col, what string) (string, error) {
	s := row[col]
	if s == "" {
		return "", fmt.Errorf("the source shows no definition of %s (the source account needs the privilege to read it)", what)
	}
	return s, nil
}

// maxStatementInError keeps errors readable for huge tables.
const maxStatementInError = 4000

func stmtError(object, stmt string, err error) error {
	if len(stmt) > maxStatementInError {
		stmt = stmt[:maxStatementInError] + "…"
	}
	return fmt.Errorf("apply %s: %w: %s", object, err, stmt)
}

// ApplyDatabase creates the destination database with the source's default character
// set and collation, unless it exists (then a different default is a warning: the
// tables carry their own).
func ApplyDatabase(ctx context.Context, dst *sql.DB, d Database) (Result, error) {
	obj := "database " + plan.QuoteIdent(d.Dest)
	if d.Dest != d.Source {
		obj = "database " + plan.QuoteIdent(d.Source) + " -> " + plan.QuoteIdent(d.Dest)
	}
	var cs, coll string
	err := dst.QueryRowContext(ctx, `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME
		FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`, d.Dest).Scan(&cs, &coll)
	switch {
	case err == nil:
		r := Result{Object: obj, Action: Exists}
		if !strings.EqualFold(coll, d.Collation) {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the destination database's default is %s/%s, the source's %s/%s (tables keep their own character sets)", cs, coll, d.Charset, d.Collation))
		}
		return r, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Result{}, fmt.Errorf("apply %s: read destination information_schema.SCHEMATA: %w", obj, err)
	}
	stmt := "CREATE DATABASE IF NOT EXISTS " + plan.QuoteIdent(d.Dest)
	if d.Charset != "" {
		stmt += " CHARACTER SET " + sqltok.QuoteString(d.Charset)
	}
	if d.Collation != "" {
		stmt += " COLLATE " + sqltok.QuoteString(d.Collation)
	}
	if _, err := dst.ExecContext(ctx, stmt); err != nil {
		return Result{}, stmtError(obj, stmt, err)
	}
	return Result{Object: obj, Action: Created, Statement: stmt}, nil
}

func pairName(kind string, src, dst plan.Name) string {
	if src == dst {
		return kind + " " + src.String()
	}
	return kind + " " + src.String() + " -> " + dst.String()
}

// isBaseTable tells a TABLE_TYPE that holds rows: MariaDB reports its system-versioned
// tables as "SYSTEM VERSIONED" rather than "BASE TABLE".
func isBaseTable(typ string) bool { return typ == "BASE TABLE" || typ == "SYSTEM VERSIONED" }

// destType returns the TABLE_TYPE of a destination table or view ("" when absent).
func destType(ctx context.Context, dst *sql.DB, n plan.Name) (string, error) {
	var typ string
	err := dst.QueryRowContext(ctx, `SELECT TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, n.DB, n.Table).Scan(&typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return typ, err
}

// ApplyTable creates a table on the destination from the source's definition,
// rewritten by n (renames, excluded columns). When the destination table exists:
//   - with conflicts: ignore it is kept, and every destination column of the source
//     table must be in it (a missing one is an error naming it; a different type is a
//     warning);
//   - otherwise (conflicts: precheck, where the precheck made sure no table was there
//     before) it must be the table an earlier run created: its definition, read back
//     through the same rewriter, must equal the rewritten source definition apart from
//     the AUTO_INCREMENT counter. A different definition is an error showing where.
func ApplyTable(ctx context.Context, src, dst *sql.DB, t Table, n ddl.Names, opt TableOptions) (Result, error) {
	obj := pairName("table", t.Source, t.Dest)
	conflicts := opt.Conflicts
	stmt, err := destTableDefinition(ctx, src, t, n)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", obj, err)
	}
	full := stmt
	if opt.DeferIndexes {
		if stmt, _, err = ddl.SplitIndexes(stmt); err != nil {
			return Result{}, fmt.Errorf("apply %s: %w", obj, err)
		}
	}
	res := Result{Object: obj, Statement: stmt}

	typ, err := destType(ctx, dst, t.Dest)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the destination: %w", obj, err)
	}
	switch {
	case typ == "":
		err := withSession(ctx, dst, sessionVars{db: t.Dest.DB, sqlMode: sqlModeTables}, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, stmt)
			return err
		})
		if err != nil {
			return Result{}, stmtError(obj, stmt, err)
		}
		res.Action = Created
		return res, nil
	case !isBaseTable(typ):
		return Result{}, fmt.Errorf("apply %s: the destination already has a %s named %s", obj, strings.ToLower(typ), t.Dest)
	case conflicts == ConflictsIgnore:
		warn, err := compatibleColumns(ctx, src, dst, t, n)
		if err != nil {
			return Result{}, fmt.Errorf("apply %s: %w", obj, err)
		}
		res.Action, res.Warnings = Exists, warn
		return res, nil
	}

	row, found, err := showCreate(ctx, dst, "SHOW CREATE TABLE "+t.Dest.String(), errNoSuchTable)
	if err != nil || !found {
		return Result{}, fmt.Errorf("apply %s: read the destination table: %w", obj, errors.Join(err, errors.New("it vanished")))
	}
	have, err := ddl.RewriteTable(t.Dest.DB, t.Dest.Table, row["create table"], identity{})
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read back the destination table: %w", obj, err)
	}
	stmt = full
	if opt.DeferIndexes {
		// An earlier run created the table without its deferred indexes and may
		// have added some since: compare what is never deferred.
		if stmt, _, err = ddl.SplitIndexes(full); err == nil {
			have, _, err = ddl.SplitIndexes(have)
		}
		if err != nil {
			return Result{}, fmt.Errorf("apply %s: %w", obj, err)
		}
	}
	want, err := canonical(stmt)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", obj, err)
	}
	got, err := canonical(have)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", obj, err)
	}
	want, got = stripTableAutoIncrement(want), stripTableAutoIncrement(got)
	if !slices.Equal(want, got) {
		return Result{}, fmt.Errorf("apply %s: the destination table exists with a different definition (%s); drop it, or set options.conflicts: ignore to keep it", obj, difference(want, got))
	}
	res.Action = Exists
	return res, nil
}

// TableOptions says how ApplyTable treats the destination.
type TableOptions struct {
	// Conflicts is options.conflicts (ConflictsPrecheck or ConflictsIgnore).
	Conflicts string
	// DeferIndexes creates a new table without the secondary indexes
	// ddl.SplitIndexes defers; AddDeferredIndexes adds them after the full copy.
	DeferIndexes bool
}

// destTableDefinition is the source table's CREATE TABLE rewritten for the destination.
func destTableDefinition(ctx context.Context, src *sql.DB, t Table, n ddl.Names) (string, error) {
	row, found, err := showCreate(ctx, src, "SHOW CREATE TABLE "+t.Source.String(), errNoSuchTable)
	if err != nil {
		return "", fmt.Errorf("read the source: %w", err)
	}
	if !found {
		return "", errors.New("the table is no longer on the source")
	}
	create, err := createText(row, "create table", "table "+t.Source.String())
	if err != nil {
		return "", err
	}
	stmt, err := ddl.RewriteTable(t.Source.DB, t.Source.Table, create, n)
	if err != nil {
		return "", fmt.Errorf("rewrite: %w", err)
	}
	return stmt, nil
}

// AddDeferredIndexes adds the secondary indexes ApplyTable deferred (those of the
// source definition the destination table does not have yet), in one ALTER TABLE.
// It is idempotent: a retry after a crash adds only what is missing, and an index
// a still-running earlier ALTER added meanwhile is noticed (duplicate key name)
// and skipped. It returns the names it added.
func AddDeferredIndexes(ctx context.Context, src, dst *sql.DB, t Table, n ddl.Names) ([]string, error) {
	obj := pairName("table", t.Source, t.Dest)
	stmt, err := destTableDefinition(ctx, src, t, n)
	if err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", obj, err)
	}
	_, want, err := ddl.SplitIndexes(stmt)
	if err != nil || len(want) == 0 {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		have := map[string]bool{}
		err := queryRows(ctx, dst, `SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, []any{t.Dest.DB, t.Dest.Table}, func(r *sql.Rows) error {
			var name string
			if err := r.Scan(&name); err != nil {
				return err
			}
			have[strings.ToLower(name)] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("indexes of %s: read the destination: %w", obj, err)
		}
		var missing []ddl.Index
		var names []string
		for _, x := range want {
			if !have[strings.ToLower(x.Name)] {
				missing = append(missing, x)
				names = append(names, x.Name)
			}
		}
		if len(missing) == 0 {
			return nil, nil
		}
		alter := ddl.AddIndexes(t.Dest.String(), missing)
		err = withSession(ctx, dst, sessionVars{db: t.Dest.DB, sqlMode: sqlModeTables}, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, alter)
			return err
		})
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == errDupKeyName && attempt == 0 {
			continue
		}
		if err != nil {
			return nil, stmtError(obj, alter, err)
		}
		return names, nil
	}
}

// compatibleColumns checks an existing destination table against the source table's
// columns as they are named on the destination.
func compatibleColumns(ctx context.Context, src, dst *sql.DB, t Table, n ddl.Names) (warnings []string, err error) {
	type column struct{ name, typ string }
	read := func(db *sql.DB, name plan.Name) ([]column, error) {
		var out []column
		err := queryRows(ctx, db, `SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, []any{name.DB, name.Table}, func(r *sql.Rows) error {
			var c column
			if err := r.Scan(&c.name, &c.typ); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
		return out, err
	}
	srcCols, err := read(src, t.Source)
	if err != nil {
		return nil, fmt.Errorf("read the source columns: %w", err)
	}
	dstCols, err := read(dst, t.Dest)
	if err != nil {
		return nil, fmt.Errorf("read the destination columns: %w", err)
	}
	var missing []string
	for _, sc := range srcCols {
		name, excluded := n.Column(t.Source.DB, t.Source.Table, sc.name)
		if excluded {
			continue
		}
		i := slices.IndexFunc(dstCols, func(c column) bool { return strings.EqualFold(c.name, name) })
		if i < 0 {
			m := sqltok.Quote(name)
			if name != sc.name {
				m += " (source column " + sqltok.Quote(sc.name) + ")"
			}
			missing = append(missing, m)
			continue
		}
		if !strings.EqualFold(dstCols[i].typ, sc.typ) {
			warnings = append(warnings, fmt.Sprintf("column %s is %s on the source and %s on the destination", sqltok.Quote(name), sc.typ, dstCols[i].typ))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("conflicts: ignore keeps the existing destination table %s, but it has no column %s", t.Dest, strings.Join(missing, ", "))
	}
	return warnings, nil
}

// ApplyView creates or replaces a view on the destination. Views run after tables
// and routines, in the order ReadObjects gives (a view after the views it reads).
func ApplyView(ctx context.Context, src, dst *sql.DB, v View, n ddl.Names) (Result, error) {
	obj := pairName("view", v.Source, v.Dest)
	row, found, err := showCreate(ctx, src, "SHOW CREATE VIEW "+v.Source.String(), errNoSuchTable)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the source: %w", obj, err)
	}
	if !found {
		return Result{}, fmt.Errorf("apply %s: the view is no longer on the source", obj)
	}
	create, err := createText(row, "create view", obj)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", obj, err)
	}
	stmt, err := ddl.RewriteView(v.Source.DB, v.Source.Table, create, n)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: rewrite: %w", obj, err)
	}
	if stmt, err = orReplace(stmt); err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", obj, err)
	}
	typ, err := destType(ctx, dst, v.Dest)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the destination: %w", obj, err)
	}
	if typ != "" && typ != "VIEW" {
		return Result{}, fmt.Errorf("apply %s: the destination already has a %s named %s", obj, strings.ToLower(typ), v.Dest)
	}
	err = withSession(ctx, dst, sessionVars{db: v.Dest.DB, sqlMode: sqlModeTables, collationConnection: row["collation_connection"]}, func(c *sql.Conn) error {
		_, err := c.ExecContext(ctx, stmt)
		return err
	})
	if err != nil {
		return Result{}, stmtError(obj, stmt, err)
	}
	res := Result{Object: obj, Action: Created, Statement: stmt}
	if typ != "" {
		res.Action = Replaced
	}
	return res, nil
}

// orReplace makes CREATE [ALGORITHM=…] VIEW into CREATE OR REPLACE …, so re-running
// it replaces what an earlier run created.
func orReplace(stmt string) (string, error) {
	toks, err := code(stmt)
	if err != nil {
		return "", err
	}
	if len(toks) < 2 || !toks[0].Is("CREATE") {
		return "", fmt.Errorf("rewritten view definition does not start with CREATE: %.80s", stmt)
	}
	if toks[1].Is("OR") {
		return stmt, nil
	}
	at := toks[0].End()
	return stmt[:at] + " OR REPLACE" + stmt[at:], nil
}

// definedObject is a routine or trigger: created when missing, kept when the
// destination holds the same definition with the same sql_mode, dropped and created
// again otherwise (a crash between the two leaves it missing, which the next run
// creates).
type definedObject struct {
	obj        string
	destDB     string
	showSource string
	showDest   string
	notFound   uint16
	createCol  string
	drop       string
	// rewrite returns the statement and warnings: renames it could not apply in a
	// body (see ddl.RewriteRoutineWarnings), which the Result carries.
	rewrite func(create string) (string, []string, error)
}

func applyDefined(ctx context.Context, src, dst *sql.DB, d definedObject) (Result, error) {
	row, found, err := showCreate(ctx, src, d.showSource, d.notFound)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the source: %w", d.obj, err)
	}
	if !found {
		return Result{}, fmt.Errorf("apply %s: it is no longer on the source", d.obj)
	}
	create, err := createText(row, d.createCol, d.obj)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: %w", d.obj, err)
	}
	stmt, warnings, err := d.rewrite(create)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: rewrite: %w", d.obj, err)
	}
	res := Result{Object: d.obj, Action: Created, Statement: stmt, Warnings: warnings}
	have, exists, err := showCreate(ctx, dst, d.showDest, d.notFound)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the destination: %w", d.obj, err)
	}
	if exists {
		same, err := sameDefinition(stmt, have[d.createCol], d.destDB)
		if err != nil {
			return Result{}, fmt.Errorf("apply %s: %w", d.obj, err)
		}
		if same && sameSQLMode(have["sql_mode"], row["sql_mode"]) {
			res.Action = Exists
			return res, nil
		}
		res.Action = Replaced
	}
	err = withSession(ctx, dst, sessionVars{db: d.destDB, sqlMode: row["sql_mode"], collationConnection: row["collation_connection"]}, func(c *sql.Conn) error {
		if exists {
			if _, err := c.ExecContext(ctx, d.drop); err != nil {
				return fmt.Errorf("%s: %w", d.drop, err)
			}
		}
		_, err := c.ExecContext(ctx, stmt)
		return err
	})
	if err != nil {
		return Result{}, stmtError(d.obj, stmt, err)
	}
	return res, nil
}

// sameDefinition compares a statement with what a server shows for it, ignoring the
// DEFINER the server adds, whitespace, comments, keyword case, the destination
// database's own qualifier (the rewrite qualifies names the server shows bare) and
// where the SQL SECURITY characteristic stands (the server prints characteristics in
// its own order); the SQL SECURITY values must still agree.
func sameDefinition(stmt, shown, destDB string) (bool, error) {
	var sides [2][]string
	var security [2]string
	for i, s := range []string{stmt, shown} {
		s, err := ddl.StripDefiner(s)
		if err != nil {
			return false, err
		}
		c, err := canonical(s)
		if err != nil {
			return false, err
		}
		security[i] = "DEFINER"
		qualifier := sqltok.Quote(destDB)
		for k := 0; k < len(c); k++ {
			switch {
			case c[k] == "SQL" && k+2 < len(c) && c[k+1] == "SECURITY":
				security[i] = c[k+2]
				k += 2
			case c[k] == qualifier && k+1 < len(c) && c[k+1] == ".":
				k++
			default:
				sides[i] = append(sides[i], c[k])
			}
		}
	}
	return security[0] == security[1] && slices.Equal(sides[0], sides[1]), nil
}

func sameSQLMode(a, b string) bool {
	split := func(s string) []string {
		f := strings.Split(strings.ToUpper(s), ",")
		slices.Sort(f)
		return f
	}
	return slices.Equal(split(a), split(b))
}

// ApplyRoutine creates a stored procedure or function in its destination database,
// with the source routine's own sql_mode (it governs how the body runs).
func ApplyRoutine(ctx context.Context, src, dst *sql.DB, r Routine, n ddl.Names) (Result, error) {
	kind := strings.ToUpper(r.Kind)
	if kind != Procedure && kind != Function {
		return Result{}, fmt.Errorf("apply routine %s: unknown kind %q", plan.Name{DB: r.DB, Table: r.Name}, r.Kind)
	}
	srcName := plan.Name{DB: r.DB, Table: r.Name}
	dstName := plan.Name{DB: r.DestDB, Table: r.Name}
	return applyDefined(ctx, src, dst, definedObject{
		obj:        pairName(strings.ToLower(kind), srcName, dstName),
		destDB:     r.DestDB,
		showSource: "SHOW CREATE " + kind + " " + srcName.String(),
		showDest:   "SHOW CREATE " + kind + " " + dstName.String(),
		notFound:   errSPDoesNotExist,
		createCol:  "create " + strings.ToLower(kind),
		drop:       "DROP " + kind + " IF EXISTS " + dstName.String(),
		rewrite:    func(c string) (string, []string, error) { return ddl.RewriteRoutineWarnings(r.DB, c, n) },
	})
}

// ApplyTrigger creates a trigger on its renamed table, with the source trigger's own
// sql_mode. Call it at the time options.triggers chooses (CreateTriggers does all).
func ApplyTrigger(ctx context.Context, src, dst *sql.DB, tr Trigger, n ddl.Names) (Result, error) {
	srcName := plan.Name{DB: tr.DB, Table: tr.Name}
	dstName := plan.Name{DB: tr.Dest.DB, Table: tr.Name}
	obj := "trigger " + srcName.String() + " on " + plan.Name{DB: tr.DB, Table: tr.Table}.String()
	if srcName != dstName || tr.Table != tr.Dest.Table {
		obj += " -> " + dstName.String() + " on " + tr.Dest.String()
	}
	return applyDefined(ctx, src, dst, definedObject{
		obj:        obj,
		destDB:     tr.Dest.DB,
		showSource: "SHOW CREATE TRIGGER " + srcName.String(),
		showDest:   "SHOW CREATE TRIGGER " + dstName.String(),
		notFound:   errTrgDoesNotExist,
		createCol:  "sql original statement",
		drop:       "DROP TRIGGER IF EXISTS " + dstName.String(),
		rewrite:    func(c string) (string, []string, error) { return ddl.RewriteTriggerWarnings(tr.DB, c, n) },
	})
}

// CreateTriggers applies triggers in order (the order ReadObjects gives keeps their
// firing order), stopping at the first error.
func CreateTriggers(ctx context.Context, src, dst *sql.DB, triggers []Trigger, n ddl.Names) ([]Result, error) {
	var out []Result
	for _, tr := range triggers {
		r, err := ApplyTrigger(ctx, src, dst, tr, n)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// showCreateView reads a source view's definition (for its dependencies when
// information_schema hides it).
func showCreateView(ctx context.Context, src *sql.DB, v plan.Name) (string, error) {
	row, found, err := showCreate(ctx, src, "SHOW CREATE VIEW "+v.String(), errNoSuchTable)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("view %s is no longer on the source", v)
	}
	return createText(row, "create view", "view "+v.String())
}
