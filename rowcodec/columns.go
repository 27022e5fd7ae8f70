// Package rowcodec reads rows from a source table exactly and writes them to a
// destination table exactly: the row codec of the full copy (issue 4). It knows
// nothing of chunking or workflows. The facts behind every choice are measured in
// docs/research/full-copy.md; README.md summarises them.
package rowcodec

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// Kind is how a column's value travels: it decides the Go type the reader yields
// and the literal the writer produces.
type Kind int

const (
	// KindBytes: strings, binary strings, BIT, ENUM, SET, JSON (MariaDB), GEOMETRY
	// and anything unknown. Raw bytes, written as X'hex' (no transcoding, no escaping).
	KindBytes Kind = iota
	// KindInt: TINYINT..BIGINT. int64, or uint64 for a BIGINT UNSIGNED above MaxInt64.
	KindInt
	// KindYear: YEAR. int64; written as a number (the string '0' would mean 2000).
	KindYear
	// KindDecimal: DECIMAL/NUMERIC. The server's text, written unquoted (scale kept).
	KindDecimal
	// KindFloat: FLOAT. float32 from the binary protocol (the text protocol rounds
	// to 6 digits).
	KindFloat
	// KindDouble: DOUBLE/REAL. float64.
	KindDouble
	// KindTemporal: DATE, DATETIME, TIMESTAMP, TIME. The server's text, quoted.
	KindTemporal
	// KindText: types whose value is their text form and whose binary form differs
	// (MariaDB INET4, INET6, UUID: a 16-byte binary string is taken as the binary
	// form, so X'hex' of the text would be misread). Written as a quoted string.
	KindText
	// KindJSON: MySQL's JSON type, which refuses binary-charset input; written as
	// CONVERT(X'hex' USING utf8mb4). MariaDB's JSON is LONGTEXT (KindBytes).
	KindJSON
)

var kindNames = [...]string{"bytes", "int", "year", "decimal", "float", "double", "temporal", "text", "json"}

func (k Kind) String() string {
	if int(k) >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Column is one copied column of a table.
type Column struct {
	Name       string // unquoted
	DataType   string // information_schema DATA_TYPE, lower case (e.g. "varchar")
	ColumnType string // full COLUMN_TYPE (e.g. "bigint(20) unsigned")
	Nullable   bool
	Charset    string // CHARACTER_SET_NAME, "" for non-string types
	// Collation is COLLATION_NAME ("" for non-string types).
	Collation string `json:"collation,omitempty"`
	Unsigned  bool
	Invisible bool // MariaDB/MySQL INVISIBLE: SELECT * omits it, so it is always named
	Kind      Kind
	// Dest is the column's name on the destination when it is renamed (columns:);
	// "" means Name. Writers name destination columns with DestName.
	Dest string `json:"dest,omitempty"`
}

// DestName is the column's name on the destination.
func (c Column) DestName() string {
	if c.Dest != "" {
		return c.Dest
	}
	return c.Name
}

// Quoted is the column name quoted for SQL.
func (c Column) Quoted() string { return sqltok.Quote(c.Name) }

// KindOf classifies an information_schema DATA_TYPE.
func KindOf(dataType string) Kind {
	switch strings.ToLower(dataType) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return KindInt
	case "year":
		return KindYear
	case "decimal", "numeric":
		return KindDecimal
	case "float":
		return KindFloat
	case "double", "real", "double precision":
		return KindDouble
	case "date", "datetime", "timestamp", "time":
		return KindTemporal
	case "inet4", "inet6", "uuid":
		return KindText
	case "json":
		return KindJSON
	}
	return KindBytes
}

// Table names a table, optionally qualified by its schema.
type Table struct {
	Schema string // may be empty: the connection's default database
	Name   string
}

// Quoted is `schema`.`name` (or `name` without a schema).
func (t Table) Quoted() string {
	if t.Schema == "" {
		return sqltok.Quote(t.Name)
	}
	return sqltok.Quote(t.Schema) + "." + sqltok.Quote(t.Name)
}

func (t Table) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// Columns returns the columns the copy reads and writes, in ordinal order.
// Generated columns (VIRTUAL, STORED/PERSISTENT) are left out: they are never
// written, the destination computes them. Invisible columns are included (the
// caller names them explicitly, as ColumnList does).
func Columns(ctx context.Context, db *sql.DB, schema, table string) ([]Column, error) {
	// EXTRA is parsed in Go: MySQL 8 marks expression defaults "DEFAULT_GENERATED",
	// which a LIKE '%GENERATED%' would take for a generated column.
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
		COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), EXTRA, COALESCE(GENERATION_EXPRESSION, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
		ORDER BY ORDINAL_POSITION`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("rowcodec: columns of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var nullable, extra, genExpr string
		if err := rows.Scan(&c.Name, &c.DataType, &c.ColumnType, &nullable, &c.Charset, &c.Collation, &extra, &genExpr); err != nil {
			return nil, fmt.Errorf("rowcodec: columns of %s.%s: %w", schema, table, err)
		}
		if generatedExtra(extra) {
			continue
		}
		c.DataType = strings.ToLower(c.DataType)
		c.Nullable = nullable == "YES"
		c.Unsigned = strings.Contains(strings.ToLower(c.ColumnType), "unsigned")
		c.Invisible = strings.Contains(strings.ToUpper(extra), "INVISIBLE")
		c.Kind = KindOf(c.DataType)
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rowcodec: columns of %s.%s: %w", schema, table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("rowcodec: table %s.%s not found or has no copyable columns", schema, table)
	}
	return cols, nil
}

// generatedExtra reports whether an EXTRA value marks a generated column:
// "VIRTUAL GENERATED", "STORED GENERATED" (MariaDB shows PERSISTENT as STORED),
// not MySQL's "DEFAULT_GENERATED".
func generatedExtra(extra string) bool {
	for _, w := range strings.Fields(strings.ToUpper(extra)) {
		if w == "GENERATED" {
			return true
		}
	}
	return false
}

// DestColumnList is the quoted, comma-separated list of destination column names,
// for writers.
func DestColumnList(cols []Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(sqltok.Quote(c.DestName()))
	}
	return b.String()
}

// ColumnList is the quoted, comma-separated column list of source names: `a`,`b`,`c`.
func ColumnList(cols []Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.Quoted())
	}
	return b.String()
}
