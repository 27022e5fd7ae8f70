// Package ddl rewrites the definitions read from the source (SHOW CREATE ...) for the
// destination: renamed databases, tables and columns, excluded columns, the case
// policy, DEFINER removed and SQL SECURITY DEFINER turned into INVOKER.
//
// It is pure (no database): input is the source's own SHOW CREATE text.
package ddl

// Names maps source names to destination names. plan.Plan provides it.
type Names interface {
	// Database returns the destination name of a source database (itself when not renamed).
	Database(db string) string
	// Table returns the destination database and table of a source table; ok is false
	// when the table is not selected for the migration.
	Table(db, table string) (dstDB, dstTable string, ok bool)
	// Column returns the destination name of a column of a selected table, and
	// excluded=true when exclude_columns drops it.
	Column(db, table, column string) (dst string, excluded bool)
}

// TableRef names a table or view a definition depends on.
type TableRef struct {
	Database string
	Name     string
}
