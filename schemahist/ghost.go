package schemahist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/sqltok"
)

// gh-ost (`online_ddl: gh-ost`): its shadow table `_t_gho` is altered and filled
// while t serves, then swapped in. Its rows are never replicated; its ALTERs are
// saved (rewritten for t's destination and for t's shadow here) and run at the
// cut-over, as DTS's "adapt to gh-ost" does. The saved statements live in
// `sluice`.`ghost_alters` on the destination, keyed by the binlog position of the
// ALTER, so a DDL replayed after a crash saves nothing twice; a cut-over marks
// them with its own position, so a replayed cut-over finds them again.
const ghostDDL = "CREATE TABLE IF NOT EXISTS `sluice`.`ghost_alters` (" +
	"`task` VARBINARY(512) NOT NULL, `at` VARCHAR(3000) NOT NULL, `seq` INT NOT NULL," +
	"`source_db` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
	"`source_table` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL," +
	"`dest_sql` MEDIUMTEXT NOT NULL, `shadow_sql` MEDIUMTEXT NOT NULL, `cut_over_at` VARCHAR(3000) NULL," +
	"`n` BIGINT NOT NULL AUTO_INCREMENT UNIQUE," +
	"PRIMARY KEY (`task`, `at`(255), `seq`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

// Replicate is the whole handling of one replicated DDL for the applier: the
// history is updated, and the statements for the destination returned. at is the
// DDL's binlog position (a stable key); retried: it may have run already.
func (h *History) Replicate(ctx context.Context, sel ddl.Selector, ghost *ddl.GhostNames, defaultDB, statement, at string, retried bool) (ddl.ReplicatedDDL, error) {
	rd, err := ddl.ReplicateDDL(defaultDB, statement, sel, ghost)
	if err != nil {
		return rd, err
	}
	shadow, err := ddl.ReplicateDDL(defaultDB, statement, shadowNames{h}, ghost)
	if err != nil {
		return rd, fmt.Errorf("schema history: %w", err)
	}
	switch rd.Kind {
	case ddl.KindGhostAlter:
		if rd.GhostTable == nil {
			return rd, nil
		}
		if err := h.saveGhost(ctx, *rd.GhostTable, at, rd.Statements, shadow.Statements); err != nil {
			return rd, err
		}
		rd.Statements = nil
		return rd, nil
	case ddl.KindGhostShadow, ddl.KindGhostRevert:
		if rd.GhostTable != nil {
			// A new or abandoned gh-ost run: what an older one saved is void.
			_, err := h.dst.ExecContext(ctx, "DELETE FROM `sluice`.`ghost_alters` WHERE `task` = ? AND `source_db` = ? AND `source_table` = ? AND `cut_over_at` IS NULL AND `at` <> ?",
				h.task, rd.GhostTable.Database, rd.GhostTable.Name, at)
			if err != nil {
				return rd, fmt.Errorf("schema history: forget gh-ost ALTERs: %w", err)
			}
		}
		rd.Statements = nil
		return rd, nil
	case ddl.KindGhostCutover:
		if rd.GhostTable == nil {
			return rd, nil
		}
		dest, sh, err := h.takeGhost(ctx, *rd.GhostTable, at)
		if err != nil {
			return rd, err
		}
		if err := h.exec(ctx, sh, retried); err != nil {
			return rd, err
		}
		rd.Statements = dest
		return rd, nil
	case ddl.KindGhostRenameAway, ddl.KindGhostTrash:
		rd.Statements = nil
		return rd, nil
	}
	if rd.Kind == ddl.KindRenameTable && rd.NotIdempotent != "" {
		return h.guardedRename(ctx, rd, shadow, at)
	}
	if !shapesTables(rd.Kind) {
		// Views, routines, triggers: the decoder never looks them up, and the
		// shadow holds tables only (a view over a view from before replication
		// would not even be created there).
		return rd, nil
	}
	for _, t := range shadow.Tables {
		if h.sel.Selects(t.Database, t.Name) {
			if err := h.ensureDB(ctx, t.Database); err != nil {
				return rd, err
			}
		}
	}
	return rd, h.exec(ctx, shadow.Statements, retried)
}

// guardedRename runs a RENAME cycle (a swap) so that running it again after a
// crash is safe: each RENAME also moves a guard table of the task and position
// (`sluice`.`g_<hash>_s` for the shadow, `_d` for the destination) to its
// `_done` name, in the same atomic statement. A guard found done means that
// rename ran: it is not run again (it would swap back).
func (h *History) guardedRename(ctx context.Context, rd, shadow ddl.ReplicatedDDL, at string) (ddl.ReplicatedDDL, error) {
	if len(rd.Statements) > 1 || len(shadow.Statements) != 1 {
		return rd, fmt.Errorf("schema history: a RENAME cycle rewrote to %d destination and %d shadow statements", len(rd.Statements), len(shadow.Statements))
	}
	sum := sha256.Sum256([]byte(h.task + "\x00" + at))
	guard := "g_" + hex.EncodeToString(sum[:8])
	// Guards of earlier DDLs of the task are done with: their checkpoints passed.
	if err := h.dropGuards(ctx, guard); err != nil {
		return rd, err
	}
	run := func(side, stmt string) (string, bool, error) {
		g := "`sluice`." + sqltok.Quote(guard+"_"+side)
		done := "`sluice`." + sqltok.Quote(guard+"_"+side+"_done")
		var n int
		if err := h.dst.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sluice' AND TABLE_NAME = ?", guard+"_"+side+"_done").Scan(&n); err != nil {
			return "", false, fmt.Errorf("schema history: %w", err)
		}
		if n > 0 {
			return "", true, nil // this rename ran before the crash
		}
		if _, err := h.dst.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+g+" (`x` INT) ENGINE=InnoDB COMMENT "+sqltok.QuoteString(guardComment(h.task))); err != nil {
			return "", false, fmt.Errorf("schema history: guard table: %w", err)
		}
		return stmt + ", " + g + " TO " + done, false, nil
	}
	sq, done, err := run("s", shadow.Statements[0])
	if err != nil {
		return rd, err
	}
	if !done {
		if err := h.exec(ctx, []string{sq}, false); err != nil {
			return rd, err
		}
	}
	if len(rd.Statements) == 1 {
		dq, done, err := run("d", rd.Statements[0])
		if err != nil {
			return rd, err
		}
		rd.Statements = nil
		if !done {
			rd.Statements = []string{dq}
		}
	}
	rd.NotIdempotent = "" // guarded
	return rd, nil
}

// guardComment marks a task's guard tables (other tasks may share the destination).
func guardComment(task string) string {
	sum := sha256.Sum256([]byte(task))
	return "sluice rename guard " + hex.EncodeToString(sum[:8])
}

// dropGuards drops the task's guard tables but those of keep.
func (h *History) dropGuards(ctx context.Context, keep string) error {
	rows, err := h.dst.QueryContext(ctx, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'sluice' AND TABLE_NAME LIKE 'g\\_%' AND TABLE_COMMENT = ?", guardComment(h.task))
	if err != nil {
		return fmt.Errorf("schema history: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("schema history: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if strings.HasPrefix(n, keep) {
			continue
		}
		if _, err := h.dst.ExecContext(ctx, "DROP TABLE IF EXISTS `sluice`."+sqltok.Quote(n)); err != nil {
			return fmt.Errorf("schema history: %w", err)
		}
	}
	return nil
}

// shapesTables: DDL kinds that change a table definition (or which tables exist).
func shapesTables(k ddl.DDLKind) bool {
	switch k {
	case ddl.KindAlterTable, ddl.KindCreateTable, ddl.KindDropTable, ddl.KindRenameTable,
		ddl.KindTruncateTable, ddl.KindCreateIndex, ddl.KindDropIndex, ddl.KindCreateDatabase, ddl.KindDropDatabase:
		return true
	}
	return false
}

func (h *History) saveGhost(ctx context.Context, t ddl.TableRef, at string, dest, shadow []string) error {
	if len(dest) != len(shadow) {
		return fmt.Errorf("schema history: gh-ost ALTER of %s rewrites to %d destination and %d shadow statements", t.Name, len(dest), len(shadow))
	}
	for i := range dest {
		_, err := h.dst.ExecContext(ctx, "INSERT IGNORE INTO `sluice`.`ghost_alters` (`task`, `at`, `seq`, `source_db`, `source_table`, `dest_sql`, `shadow_sql`) VALUES (?, ?, ?, ?, ?, ?, ?)",
			h.task, at, i, t.Database, t.Name, dest[i], shadow[i])
		if err != nil {
			return fmt.Errorf("schema history: save a gh-ost ALTER of %s: %w", t.Name, err)
		}
	}
	return nil
}

// takeGhost returns the saved statements of t (in binlog order) and marks them
// as run by the cut-over at `at`.
func (h *History) takeGhost(ctx context.Context, t ddl.TableRef, at string) (dest, shadow []string, err error) {
	rows, err := h.dst.QueryContext(ctx, "SELECT `dest_sql`, `shadow_sql` FROM `sluice`.`ghost_alters` WHERE `task` = ? AND `source_db` = ? AND `source_table` = ? AND (`cut_over_at` IS NULL OR `cut_over_at` = ?) ORDER BY `n`",
		h.task, t.Database, t.Name, at)
	if err != nil {
		return nil, nil, fmt.Errorf("schema history: read gh-ost ALTERs: %w", err)
	}
	for rows.Next() {
		var d, s string
		if err := rows.Scan(&d, &s); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("schema history: read gh-ost ALTERs: %w", err)
		}
		dest, shadow = append(dest, d), append(shadow, s)
	}
	rows.Close()
	if _, err := h.dst.ExecContext(ctx, "UPDATE `sluice`.`ghost_alters` SET `cut_over_at` = ? WHERE `task` = ? AND `source_db` = ? AND `source_table` = ? AND `cut_over_at` IS NULL",
		at, h.task, t.Database, t.Name); err != nil {
		return nil, nil, fmt.Errorf("schema history: mark gh-ost ALTERs: %w", err)
	}
	return dest, shadow, nil
}

func (h *History) exec(ctx context.Context, stmts []string, retried bool) error {
	if len(stmts) == 0 {
		return nil
	}
	conn, err := h.session(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			if retried && dbconn.DDLAlreadyApplied(err) {
				continue
			}
			return fmt.Errorf("schema history: apply DDL to the shadow: %w", err)
		}
	}
	return nil
}
