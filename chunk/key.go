// Package chunk splits a table into key ranges for the full copy and pages through
// a range with keyset queries. Key values never get compared in Go: every ordering
// decision is made by the server, under the key's own collation.
package chunk

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// Table names a table.
type Table struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
}

// Quoted is `schema`.`name`.
func (t Table) Quoted() string { return sqltok.Quote(t.Schema) + "." + sqltok.Quote(t.Name) }

func (t Table) String() string { return t.Schema + "." + t.Name }

// Kind says how a key column's values are carried and compared.
type Kind string

const (
	// Signed integers (TINYINT..BIGINT, YEAR): decimal text, bound as int64.
	Signed Kind = "signed"
	// Unsigned integers: decimal text, bound as uint64 (up to 18446744073709551615).
	Unsigned Kind = "unsigned"
	// Text is a character string column (CHAR, VARCHAR, TEXT): the exact stored bytes,
	// compared as CONVERT(UNHEX(?) USING charset) COLLATE collation.
	Text Kind = "text"
	// Binary is a binary string column (BINARY, VARBINARY, BLOB): exact bytes, UNHEX(?).
	Binary Kind = "binary"
	// Cast is a DECIMAL or temporal column: the server's text form, compared as
	// CAST(? AS <type>) so the comparison is typed, not a string or double one.
	Cast Kind = "cast"
)

// Column is one key column.
type Column struct {
	Name       string `json:"name"`
	DataType   string `json:"data_type"`   // information_schema DATA_TYPE, lower case
	ColumnType string `json:"column_type"` // e.g. "bigint(20) unsigned"
	Kind       Kind   `json:"kind"`
	Charset    string `json:"charset,omitempty"`   // Text only
	Collation  string `json:"collation,omitempty"` // Text only
	// CastType is the CAST target for Kind Cast, e.g. "DECIMAL(10,2)", "DATETIME(6)".
	CastType string `json:"cast_type,omitempty"`
}

// Key is the unique key a table is chunked and paged by. A Key with no columns
// means the table has no usable key: it is copied in one streamed pass.
type Key struct {
	Name    string   `json:"name,omitempty"` // "PRIMARY" or the unique index name
	Columns []Column `json:"columns,omitempty"`
}

// None reports that the table has no usable key.
func (k Key) None() bool { return len(k.Columns) == 0 }

// Integer reports a single integer column key, split by MIN/MAX arithmetic.
func (k Key) Integer() bool {
	return len(k.Columns) == 1 && (k.Columns[0].Kind == Signed || k.Columns[0].Kind == Unsigned)
}

// ColumnNames are the key's column names in index order.
func (k Key) ColumnNames() []string {
	names := make([]string, len(k.Columns))
	for i, c := range k.Columns {
		names[i] = c.Name
	}
	return names
}

func (k Key) String() string {
	if k.None() {
		return "(no key)"
	}
	return k.Name + "(" + strings.Join(k.ColumnNames(), ",") + ")"
}

// ChooseKey picks the key to chunk by: the primary key, else the unique key whose
// columns are all NOT NULL with the fewest columns (all-integer first, then by
// name), else none. Keys are skipped when they cannot give an index-ordered keyset
// scan: column prefixes (`KEY (c(10))`), MariaDB's hash-based long UNIQUE, and
// column types whose ORDER BY and comparison orders differ or are not exact
// (ENUM/SET sort by index but compare as strings; FLOAT/DOUBLE, BIT, JSON, spatial).
func ChooseKey(ctx context.Context, db *sql.DB, schema, table string) (Key, error) {
	const q = `SELECT s.INDEX_NAME, s.COLUMN_NAME, s.SUB_PART, s.INDEX_TYPE,
  c.IS_NULLABLE, c.DATA_TYPE, c.COLUMN_TYPE, c.CHARACTER_SET_NAME, c.COLLATION_NAME,
  c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.DATETIME_PRECISION
FROM information_schema.STATISTICS s
JOIN information_schema.COLUMNS c
  ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX`
	rows, err := db.QueryContext(ctx, q, schema, table)
	if err != nil {
		return Key{}, fmt.Errorf("chunk: unique keys of %s.%s: %w", schema, table, err)
	}
	defer rows.Close()
	type cand struct {
		key    Key
		usable bool
	}
	var order []string
	cands := map[string]*cand{}
	for rows.Next() {
		var (
			index, col, nullable, dataType, colType string
			subPart, charset, collation, indexType  sql.NullString
			prec, scale, dtPrec                     sql.NullInt64
		)
		if err := rows.Scan(&index, &col, &subPart, &indexType, &nullable, &dataType, &colType,
			&charset, &collation, &prec, &scale, &dtPrec); err != nil {
			return Key{}, fmt.Errorf("chunk: unique keys of %s.%s: %w", schema, table, err)
		}
		c, ok := cands[index]
		if !ok {
			c = &cand{key: Key{Name: index}, usable: true}
			cands[index] = c
			order = append(order, index)
		}
		column := Column{Name: col, DataType: strings.ToLower(dataType), ColumnType: strings.ToLower(colType)}
		kind, castType, ok := classify(column.DataType, column.ColumnType, prec, scale, dtPrec)
		column.Kind, column.CastType = kind, castType
		if kind == Text {
			column.Charset, column.Collation = charset.String, collation.String
			ok = ok && charset.Valid && collation.Valid
		}
		if !ok || nullable != "NO" || subPart.Valid || !strings.EqualFold(indexType.String, "BTREE") {
			c.usable = false
		}
		c.key.Columns = append(c.key.Columns, column)
	}
	if err := rows.Err(); err != nil {
		return Key{}, fmt.Errorf("chunk: unique keys of %s.%s: %w", schema, table, err)
	}
	var usable []Key
	for _, name := range order {
		if c := cands[name]; c.usable {
			if name == "PRIMARY" {
				return c.key, nil
			}
			usable = append(usable, c.key)
		}
	}
	if len(usable) == 0 {
		return Key{}, nil
	}
	allInt := func(k Key) bool {
		for _, c := range k.Columns {
			if c.Kind != Signed && c.Kind != Unsigned {
				return false
			}
		}
		return true
	}
	sort.SliceStable(usable, func(i, j int) bool {
		a, b := usable[i], usable[j]
		if len(a.Columns) != len(b.Columns) {
			return len(a.Columns) < len(b.Columns)
		}
		if allInt(a) != allInt(b) {
			return allInt(a)
		}
		return a.Name < b.Name
	})
	return usable[0], nil
}

// classify maps a column type to the way its values are bound and compared; ok is
// false for types a keyset scan cannot use exactly.
func classify(dataType, columnType string, prec, scale, dtPrec sql.NullInt64) (Kind, string, bool) {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		if strings.Contains(columnType, "unsigned") {
			return Unsigned, "", true
		}
		return Signed, "", true
	case "year":
		return Signed, "", true
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		return Text, "", true
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return Binary, "", true
	case "decimal", "numeric":
		if !prec.Valid || !scale.Valid {
			return "", "", false
		}
		return Cast, fmt.Sprintf("DECIMAL(%d,%d)", prec.Int64, scale.Int64), true
	case "date":
		return Cast, "DATE", true
	case "datetime", "timestamp":
		// TIMESTAMP text is in the session time zone: callers pin time_zone='+00:00'
		// (README), so boundaries read and bound in any session agree.
		return Cast, fmt.Sprintf("DATETIME(%d)", dtPrec.Int64), true
	case "time":
		return Cast, fmt.Sprintf("TIME(%d)", dtPrec.Int64), true
	}
	return "", "", false
}
