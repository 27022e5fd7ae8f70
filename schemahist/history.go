// Package schemahist keeps the source's table definitions as of the binlog event
// being read: a shadow copy of every replicated table, empty, in databases of its
// own on the destination server, to which each replicated DDL is applied as the
// source ran it. The binlog decoder looks tables up there (binlog.LoadTable), so an
// event written before an ALTER is decoded with the columns it was written with,
// whatever the source's schema is now. The server itself interprets the DDL: no
// parser of ours has to agree with MariaDB on what an ALTER does.
package schemahist

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/sqltok"
)

// Selector is the migration's selection (ddl.Selector without renames: the
// shadow keeps source names).
type Selector interface {
	Selects(db, table string) bool
	SelectsDatabase(db string) (selected, allTables bool)
}

// History is one task's shadow schema.
type History struct {
	dst  *sql.DB
	task string
	sel  Selector
}

// Open prepares the bookkeeping table (`sluice`.`shadows`: which shadow database
// holds which source database for which task).
func Open(ctx context.Context, dst *sql.DB, task string, sel Selector) (*History, error) {
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS `sluice`",
		"CREATE TABLE IF NOT EXISTS `sluice`.`shadows` (`task` VARBINARY(512) NOT NULL, `source_db` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, `shadow_db` VARCHAR(64) NOT NULL, PRIMARY KEY (`task`, `source_db`)) ENGINE=InnoDB",
		ghostDDL,
		originsDDL,
	} {
		if _, err := dst.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("schema history: %w", err)
		}
	}
	return &History{dst: dst, task: task, sel: sel}, nil
}

// Shadow names the shadow database of a source database: short, valid whatever
// the source name, distinct per task.
func (h *History) Shadow(db string) string {
	sum := sha256.Sum256([]byte(h.task + "\x00" + db))
	return "sluice_h_" + hex.EncodeToString(sum[:8])
}

// Initialized reports whether Init ran for this task.
func (h *History) Initialized(ctx context.Context) (bool, error) {
	var n int
	// The marker row (source_db '') is written when every table is shadowed.
	if err := h.dst.QueryRowContext(ctx, "SELECT COUNT(*) FROM `sluice`.`shadows` WHERE `task` = ? AND `source_db` = ''", h.task).Scan(&n); err != nil {
		return false, fmt.Errorf("schema history: %w", err)
	}
	return n > 0, nil
}

// Table is a source table to shadow.
type Table struct{ DB, Name string }

// Definitions are tables' SHOW CREATE TABLE texts.
type Definitions map[Table]string

// ReadDefinitions reads the source's current definitions of tables.
func ReadDefinitions(ctx context.Context, src *sql.DB, tables []Table) (Definitions, error) {
	out := Definitions{}
	for _, t := range tables {
		var name, create string
		if err := src.QueryRowContext(ctx, "SHOW CREATE TABLE "+sqltok.Quote(t.DB)+"."+sqltok.Quote(t.Name)).Scan(&name, &create); err != nil {
			return nil, fmt.Errorf("schema history: read %s.%s: %w", t.DB, t.Name, err)
		}
		out[t] = create
	}
	return out, nil
}

// Equal reports that both hold the same tables with the same definitions.
func (d Definitions) Equal(o Definitions) bool {
	if len(d) != len(o) {
		return false
	}
	for t, c := range d {
		if o[t] != c {
			return false
		}
	}
	return true
}

// Init copies the definitions of tables from the source (its SHOW CREATE TABLE,
// the schema as of the start position when nothing changed it since) into the
// shadow databases. It is idempotent.
func (h *History) Init(ctx context.Context, src *sql.DB, tables []Table) error {
	defs, err := ReadDefinitions(ctx, src, tables)
	if err != nil {
		return err
	}
	return h.InitFrom(ctx, defs, false)
}

// InitFrom creates the shadows from definitions read before (ReadDefinitions):
// the full copy reads them with its start position, so a DDL during the copy is
// replayed onto the definitions it changed. Without replace the first call that
// completes wins (a retried attempt keeps what an earlier one made); with
// replace (StartFull, whose retry reads a new start position) the shadows are
// made again from defs.
func (h *History) InitFrom(ctx context.Context, defs Definitions, replace bool) error {
	if replace {
		if _, err := h.dst.ExecContext(ctx, "DELETE FROM `sluice`.`shadows` WHERE `task` = ? AND `source_db` = ''", h.task); err != nil {
			return fmt.Errorf("schema history: %w", err)
		}
	} else if done, err := h.Initialized(ctx); err != nil || done {
		return err
	}
	tables := make([]Table, 0, len(defs))
	for t := range defs {
		tables = append(tables, t)
	}
	slices.SortFunc(tables, func(a, b Table) int { return cmp.Or(cmp.Compare(a.DB, b.DB), cmp.Compare(a.Name, b.Name)) })
	dbs := map[string]bool{}
	for _, t := range tables {
		dbs[t.DB] = true
	}
	for db := range dbs {
		if err := h.ensureDB(ctx, db); err != nil {
			return err
		}
	}
	conn, err := h.session(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, t := range tables {
		// Not initialized yet: a shadow left by an interrupted earlier attempt may
		// hold other definitions.
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+sqltok.Quote(h.Shadow(t.DB))+"."+sqltok.Quote(t.Name)); err != nil {
			return fmt.Errorf("schema history: %w", err)
		}
		q, err := ddl.RewriteTable(t.DB, t.Name, defs[t], shadowNames{h})
		if err != nil {
			return fmt.Errorf("schema history: %s.%s: %w", t.DB, t.Name, err)
		}
		if _, err := conn.ExecContext(ctx, q); err != nil && !dbconn.DDLAlreadyApplied(err) {
			return fmt.Errorf("schema history: create the shadow of %s.%s: %w", t.DB, t.Name, err)
		}
	}
	if _, err := h.dst.ExecContext(ctx, "INSERT IGNORE INTO `sluice`.`shadows` VALUES (?, '', '')", h.task); err != nil {
		return fmt.Errorf("schema history: %w", err)
	}
	return nil
}

func (h *History) ensureDB(ctx context.Context, db string) error {
	sh := h.Shadow(db)
	if _, err := h.dst.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+sqltok.Quote(sh)); err != nil {
		return fmt.Errorf("schema history: create %s: %w", sh, err)
	}
	if _, err := h.dst.ExecContext(ctx, "INSERT IGNORE INTO `sluice`.`shadows` VALUES (?, ?, ?)", h.task, db, sh); err != nil {
		return fmt.Errorf("schema history: %w", err)
	}
	return nil
}

// session is a connection for shadow DDL: no foreign-key checks (referenced
// tables may not be shadowed), the server's defaults otherwise.
func (h *History) session(ctx context.Context) (*sql.Conn, error) {
	c, err := h.dst.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("schema history: %w", err)
	}
	if _, err := c.ExecContext(ctx, "SET SESSION foreign_key_checks = 0, sql_mode = ''"); err != nil {
		c.Close()
		return nil, fmt.Errorf("schema history: %w", err)
	}
	return c, nil
}

// Lookup is the binlog decoder's view: the shadow's definition, nil for a table
// the migration does not replicate.
func (h *History) Lookup(ctx context.Context, db, table string) (*binlog.Table, error) {
	if !h.sel.Selects(db, table) {
		return nil, nil
	}
	t, err := binlog.LoadTable(ctx, h.dst, h.Shadow(db), table)
	if err != nil {
		return nil, err
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("schema history: %s.%s is replicated but has no definition in the history (created before the start position and not shadowed?)", db, table)
	}
	return t, nil
}

// Drop removes the task's shadow databases (after the cutover or a stop).
func (h *History) Drop(ctx context.Context) error {
	rows, err := h.dst.QueryContext(ctx, "SELECT `shadow_db` FROM `sluice`.`shadows` WHERE `task` = ?", h.task)
	if err != nil {
		return fmt.Errorf("schema history: %w", err)
	}
	var dbs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return fmt.Errorf("schema history: %w", err)
		}
		dbs = append(dbs, s)
	}
	rows.Close()
	if err := h.dropGuards(ctx, "\x00"); err != nil {
		return err
	}
	for _, s := range dbs {
		if s == "" {
			continue // the Init marker
		}
		if _, err := h.dst.ExecContext(ctx, "DROP DATABASE IF EXISTS "+sqltok.Quote(s)); err != nil {
			return fmt.Errorf("schema history: drop %s: %w", s, err)
		}
	}
	// Origins stay: triggers are created after this, under the same names.
	for _, q := range []string{"DELETE FROM `sluice`.`shadows` WHERE `task` = ?", "DELETE FROM `sluice`.`ghost_alters` WHERE `task` = ?"} {
		if _, err := h.dst.ExecContext(ctx, q, h.task); err != nil {
			return fmt.Errorf("schema history: %w", err)
		}
	}
	return nil
}

// Tables renamed during replication keep the workflow-file entry they were
// migrated under: their destination table has that entry's column renames and
// exclusions, whatever entry the new name would match. `sluice`.`origins` maps a
// table's current name to the name whose entry applies (kept on the destination
// so every attempt of the task sees the same; written before the DDL's
// checkpoint, idempotently).
const originsDDL = "CREATE TABLE IF NOT EXISTS `sluice`.`origins` (`task` VARBINARY(512) NOT NULL," +
	"`db` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, `tbl` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
	"`origin_db` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, `origin_tbl` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
	"PRIMARY KEY (`task`, `db`, `tbl`)) ENGINE=InnoDB"

// SourceOf returns the source database a shadow database stands for.
func (h *History) SourceOf(ctx context.Context, shadow string) (string, bool) {
	var db string
	err := h.dst.QueryRowContext(ctx, "SELECT `source_db` FROM `sluice`.`shadows` WHERE `task` = ? AND `shadow_db` = ? AND `source_db` <> ''", h.task, shadow).Scan(&db)
	return db, err == nil
}

// Origins returns the task's renamed tables: current name → the name whose
// workflow-file entry applies.
func (h *History) Origins(ctx context.Context) (map[Table]Table, error) {
	rows, err := h.dst.QueryContext(ctx, "SELECT `db`, `tbl`, `origin_db`, `origin_tbl` FROM `sluice`.`origins` WHERE `task` = ?", h.task)
	if err != nil {
		return nil, fmt.Errorf("schema history: %w", err)
	}
	defer rows.Close()
	out := map[Table]Table{}
	for rows.Next() {
		var t, o Table
		if err := rows.Scan(&t.DB, &t.Name, &o.DB, &o.Name); err != nil {
			return nil, fmt.Errorf("schema history: %w", err)
		}
		out[t] = o
	}
	return out, rows.Err()
}

// SetOrigin records that table now answers to origin's entry; origin equal to
// table (a dropped or newly created name) forgets any.
func (h *History) SetOrigin(ctx context.Context, table, origin Table) error {
	var err error
	if table == origin {
		_, err = h.dst.ExecContext(ctx, "DELETE FROM `sluice`.`origins` WHERE `task` = ? AND `db` = ? AND `tbl` = ?", h.task, table.DB, table.Name)
	} else {
		_, err = h.dst.ExecContext(ctx, "REPLACE INTO `sluice`.`origins` VALUES (?, ?, ?, ?, ?)", h.task, table.DB, table.Name, origin.DB, origin.Name)
	}
	if err != nil {
		return fmt.Errorf("schema history: record the origin of %s.%s: %w", table.DB, table.Name, err)
	}
	return nil
}

// shadowNames maps every source database to its shadow, names unchanged, nothing
// excluded; selection as the migration's.
type shadowNames struct{ h *History }

func (n shadowNames) Database(db string) string { return n.h.Shadow(db) }

func (n shadowNames) Table(db, table string) (string, string, bool) {
	return n.h.Shadow(db), table, n.h.sel.Selects(db, table)
}

func (n shadowNames) Column(db, table, column string) (string, bool) { return column, false }

func (n shadowNames) Selects(db, table string) bool { return n.h.sel.Selects(db, table) }

func (n shadowNames) SelectsDatabase(db string) (bool, bool) { return n.h.sel.SelectsDatabase(db) }
