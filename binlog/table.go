package binlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

// Table is what the decoder must know about a table as of the event being read:
// every column in ordinal order, exactly as the binlog's TableMap lists them.
// Generated columns are in it (MariaDB logs VIRTUAL and STORED columns in FULL row
// images, with their computed values: measured on 10.11) so that they can be told
// apart from columns the schema does not know; they are dropped from the images.
type Table struct {
	Columns []TableColumn
}

// TableColumn is one column of a Table.
type TableColumn struct {
	rowcodec.Column
	// Generated: VIRTUAL or STORED/PERSISTENT. Not in the decoded images (the full
	// copy does not copy them either: rowcodec.Columns leaves them out).
	Generated bool
}

// Copied is the column list of the decoded images: the non-generated columns, in
// table order, the same list rowcodec.Columns returns for the table.
func (t *Table) Copied() []rowcodec.Column {
	var out []rowcodec.Column
	for _, c := range t.Columns {
		if !c.Generated {
			out = append(out, c.Column)
		}
	}
	return out
}

// Lookup returns the definition of schema.table as of the event being read. A nil
// Table with a nil error means the table is not replicated: its row events are
// skipped (transaction boundaries and positions are still reported). The later
// schema history implements it from replicated DDL; LookupFromDB reads the current
// definitions from information_schema.
type Lookup func(ctx context.Context, schema, table string) (*Table, error)

// LookupFromDB reads definitions from information_schema on db (the source). It
// sees the current schema only, so it is right while no DDL is replayed between the
// event and now. Every table is replicated.
func LookupFromDB(db *sql.DB) Lookup {
	return func(ctx context.Context, schema, table string) (*Table, error) {
		return LoadTable(ctx, db, schema, table)
	}
}

// LoadTable reads schema.table's columns from information_schema: the copied ones
// through rowcodec.Columns (so Kind, Charset, Unsigned are the full copy's, by
// construction) and the full ordinal list with the generated flags.
func LoadTable(ctx context.Context, db *sql.DB, schema, table string) (*Table, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, table)
	if err != nil {
		return nil, fmt.Errorf("binlog: columns of %s.%s: %w", schema, table, err)
	}
	type nameGen struct {
		name string
		gen  bool
	}
	var all []nameGen
	for rows.Next() {
		var n, extra string
		if err := rows.Scan(&n, &extra); err != nil {
			rows.Close()
			return nil, fmt.Errorf("binlog: columns of %s.%s: %w", schema, table, err)
		}
		all = append(all, nameGen{n, generatedExtra(extra)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("binlog: columns of %s.%s: %w", schema, table, err)
	}
	copied, err := rowcodec.Columns(ctx, db, schema, table)
	if err != nil {
		return nil, fmt.Errorf("binlog: %w", err)
	}
	t := &Table{}
	k := 0
	for _, c := range all {
		if c.gen {
			t.Columns = append(t.Columns, TableColumn{Column: rowcodec.Column{Name: c.name}, Generated: true})
			continue
		}
		// Both lists come from two reads; a DDL in between would show here.
		if k >= len(copied) || copied[k].Name != c.name {
			return nil, fmt.Errorf("binlog: columns of %s.%s changed while being read", schema, table)
		}
		t.Columns = append(t.Columns, TableColumn{Column: copied[k]})
		k++
	}
	if k != len(copied) {
		return nil, fmt.Errorf("binlog: columns of %s.%s changed while being read", schema, table)
	}
	return t, nil
}

// generatedExtra is rowcodec's rule: EXTRA "VIRTUAL GENERATED"/"STORED GENERATED",
// not MySQL's "DEFAULT_GENERATED".
func generatedExtra(extra string) bool {
	for _, w := range strings.Fields(strings.ToUpper(extra)) {
		if w == "GENERATED" {
			return true
		}
	}
	return false
}

// MismatchError says that a TableMap event does not describe the table the schema
// lookup returned. Decoding stops: guessing would shift or misread columns.
type MismatchError struct {
	Schema, Table string
	Detail        string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("binlog: table %s.%s: the binlog's table map does not match the known schema: %s",
		e.Schema, e.Table, e.Detail)
}

// ErrNoMetadata is returned for a TableMap without column names: the source must log
// binlog_row_metadata=FULL, or columns could not be checked (nor ENUM/SET mapped).
var ErrNoMetadata = errors.New("binlog: table map carries no column names: set binlog_row_metadata=FULL on the source")

// colPlan says how one copied column is read from a row image.
type colPlan struct {
	src     int  // index in the binlog row
	typ     byte // binlog real type (ENUM/SET resolved)
	meta    uint16
	length  int      // STRING/BIT: bytes of the value on the server
	padZero bool     // binary-charset CHAR: restore the trailing zeros the binlog strips
	dec     int      // TIME: fractional digits
	values  [][]byte // ENUM/SET members, in the column's charset
	col     rowcodec.Column
}

// plan decodes the rows of one TableMap.
type plan struct {
	schema, table string
	cols          []rowcodec.Column
	colPlans      []colPlan
	ncols         int // columns in the binlog rows
}

// collation ids of the binary pseudo charset: 63 on both servers.
const binaryCollation = 63

// newPlan checks tm against t and prepares the per-column conversions. charsets maps
// collation ids to charset names (nil: not checked).
func newPlan(tm *replication.TableMapEvent, t *Table, charsets map[uint64]string) (*plan, error) {
	schema, table := string(tm.Schema), string(tm.Table)
	bad := func(format string, args ...any) error {
		return &MismatchError{Schema: schema, Table: table, Detail: fmt.Sprintf(format, args...)}
	}
	names := tm.ColumnNameString()
	if len(names) == 0 {
		return nil, fmt.Errorf("%s.%s: %w", schema, table, ErrNoMetadata)
	}
	// MariaDB appends hidden columns that no SELECT or information_schema
	// shows: DB_ROW_HASH_<n> (BIGINT) for each UNIQUE key on a BLOB/TEXT (measured
	// on 10.11: logged with the computed hash) and row_start/row_end of
	// implicitly system-versioned tables (whose updates also log the history
	// row as an insert).
	known := len(t.Columns)
	hidden := 0
	for i := known; i < len(names); i++ {
		if isRowHash(names[i]) && tm.ColumnType[i] == mysql.MYSQL_TYPE_LONGLONG {
			hidden++
		}
	}
	if int(tm.ColumnCount) == known+2 && hidden == 0 && names[known] == "row_start" && names[known+1] == "row_end" {
		return nil, bad("system-versioned table (row_start/row_end logged): not supported")
	}
	if int(tm.ColumnCount) != known+hidden {
		return nil, bad("%d columns logged, %d known", tm.ColumnCount, len(t.Columns))
	}
	for i, c := range t.Columns {
		if names[i] != c.Name {
			return nil, bad("column %d is %s in the binlog, %s in the schema", i+1, sqltok.Quote(names[i]), sqltok.Quote(c.Name))
		}
	}
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	enumSetCollations := tm.EnumSetCollationMap()
	enums, sets := tm.EnumStrValueMap(), tm.SetStrValueMap()

	// Hidden hash columns are never copied: like generated columns they are
	// not in the plan, so they are dropped from the images.
	p := &plan{schema: schema, table: table, ncols: int(tm.ColumnCount)}
	for i, c := range t.Columns {
		if c.Generated {
			continue
		}
		cp := colPlan{src: i, typ: realType(tm, i), meta: tm.ColumnMeta[i], col: c.Column}
		if err := checkType(&cp, c.Column); err != nil {
			return nil, bad("column %s: %v", sqltok.Quote(c.Name), err)
		}
		if tm.IsNumericColumn(i) && cp.typ != mysql.MYSQL_TYPE_YEAR {
			// YEAR is unsigned inside the server but its COLUMN_TYPE never says so.
			u, ok := unsigned[i]
			if !ok {
				return nil, bad("column %s: no signedness logged (binlog_row_metadata=FULL needed)", sqltok.Quote(c.Name))
			}
			if u != c.Unsigned {
				return nil, bad("column %s: unsigned=%v in the binlog, %v in the schema", sqltok.Quote(c.Name), u, c.Unsigned)
			}
		}
		coll, hasColl := collations[i]
		if cp.typ == mysql.MYSQL_TYPE_ENUM || cp.typ == mysql.MYSQL_TYPE_SET {
			coll, hasColl = enumSetCollations[i]
		}
		if hasColl && charsets != nil {
			if cs, ok := charsets[coll]; ok {
				want := c.Charset
				if want == "" {
					want = "binary"
				}
				if cs != want {
					return nil, bad("column %s: charset %s in the binlog, %s in the schema", sqltok.Quote(c.Name), cs, want)
				}
			}
		}
		switch cp.typ {
		case mysql.MYSQL_TYPE_STRING:
			cp.length = stringLength(cp.meta)
			// A binary CHAR (BINARY(n), INET4, INET6, UUID) loses its trailing zero
			// bytes in the binlog (pack() strips the pad character); the server
			// returns them, so they are restored. Other charsets pad with spaces,
			// which a SELECT strips as well.
			cp.padZero = hasColl && coll == binaryCollation || !hasColl && c.Charset == ""
		case mysql.MYSQL_TYPE_BIT:
			nbits := int(cp.meta>>8)*8 + int(cp.meta&0xff)
			cp.length = (nbits + 7) / 8
		case mysql.MYSQL_TYPE_TIME2:
			cp.dec = int(cp.meta)
		case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
			vals, ok := enums[i]
			if cp.typ == mysql.MYSQL_TYPE_SET {
				vals, ok = sets[i]
			}
			if !ok {
				return nil, bad("column %s: no %s values logged (binlog_row_metadata=FULL needed)", sqltok.Quote(c.Name), c.DataType)
			}
			if n, err := countMembers(c.ColumnType); err == nil && n != len(vals) {
				return nil, bad("column %s: %d %s values in the binlog, %d in the schema", sqltok.Quote(c.Name), len(vals), c.DataType, n)
			}
			for _, v := range vals {
				cp.values = append(cp.values, []byte(v))
			}
		}
		p.cols = append(p.cols, c.Column)
		p.colPlans = append(p.colPlans, cp)
	}
	return p, nil
}

// isRowHash matches MariaDB's hidden long-unique hash column names, DB_ROW_HASH_<n>.
func isRowHash(name string) bool {
	d, ok := strings.CutPrefix(name, "DB_ROW_HASH_")
	if !ok || d == "" {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// realType resolves CHAR-coded ENUM/SET (logged as MYSQL_TYPE_STRING with the real
// type in the metadata) and the old DATE code.
func realType(tm *replication.TableMapEvent, i int) byte {
	t := tm.ColumnType[i]
	if t == mysql.MYSQL_TYPE_STRING {
		if rt := byte(tm.ColumnMeta[i] >> 8); rt == mysql.MYSQL_TYPE_ENUM || rt == mysql.MYSQL_TYPE_SET {
			return rt
		}
	}
	return t
}

// stringLength is the byte length of a MYSQL_TYPE_STRING column from its metadata
// (the same packing go-mysql and the server use: lengths above 255 borrow two bits
// of the type byte).
func stringLength(meta uint16) int {
	if meta < 256 {
		return int(meta)
	}
	b0, b1 := uint8(meta>>8), uint8(meta&0xff)
	if b0&0x30 != 0x30 {
		return int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
	}
	return int(b1)
}

// checkType verifies that the binlog type can carry the column's Kind and data
// type, so a value is never converted by the wrong rule.
func checkType(cp *colPlan, c rowcodec.Column) error {
	t := cp.typ
	ok := false
	switch c.Kind {
	case rowcodec.KindInt:
		ok = t == mysql.MYSQL_TYPE_TINY || t == mysql.MYSQL_TYPE_SHORT || t == mysql.MYSQL_TYPE_INT24 ||
			t == mysql.MYSQL_TYPE_LONG || t == mysql.MYSQL_TYPE_LONGLONG
	case rowcodec.KindYear:
		ok = t == mysql.MYSQL_TYPE_YEAR
	case rowcodec.KindDecimal:
		ok = t == mysql.MYSQL_TYPE_NEWDECIMAL
	case rowcodec.KindFloat:
		ok = t == mysql.MYSQL_TYPE_FLOAT
	case rowcodec.KindDouble:
		ok = t == mysql.MYSQL_TYPE_DOUBLE
	case rowcodec.KindTemporal:
		switch c.DataType {
		case "date":
			ok = t == mysql.MYSQL_TYPE_DATE || t == mysql.MYSQL_TYPE_NEWDATE
		case "time":
			ok = t == mysql.MYSQL_TYPE_TIME || t == mysql.MYSQL_TYPE_TIME2
		case "datetime":
			ok = t == mysql.MYSQL_TYPE_DATETIME || t == mysql.MYSQL_TYPE_DATETIME2
		case "timestamp":
			ok = t == mysql.MYSQL_TYPE_TIMESTAMP || t == mysql.MYSQL_TYPE_TIMESTAMP2
		}
	case rowcodec.KindText:
		ok = t == mysql.MYSQL_TYPE_STRING
	case rowcodec.KindJSON:
		ok = t == mysql.MYSQL_TYPE_JSON
	case rowcodec.KindBytes:
		switch c.DataType {
		case "enum":
			ok = t == mysql.MYSQL_TYPE_ENUM
		case "set":
			ok = t == mysql.MYSQL_TYPE_SET
		case "bit":
			ok = t == mysql.MYSQL_TYPE_BIT
		case "char", "binary":
			ok = t == mysql.MYSQL_TYPE_STRING
		case "varchar", "varbinary":
			ok = t == mysql.MYSQL_TYPE_VARCHAR || t == mysql.MYSQL_TYPE_VAR_STRING
		default:
			// TEXT/BLOB families, MariaDB JSON (LONGTEXT), GEOMETRY and its
			// subtypes, VECTOR: length-prefixed bytes.
			ok = t == mysql.MYSQL_TYPE_BLOB || t == mysql.MYSQL_TYPE_GEOMETRY || t == mysql.MYSQL_TYPE_VECTOR
		}
	}
	if !ok {
		return fmt.Errorf("binlog type %s cannot hold a %s (%s) column", typeName(t), c.DataType, c.Kind)
	}
	return nil
}

// countMembers counts the quoted members of an enum('a','b')/set(...) COLUMN_TYPE.
func countMembers(columnType string) (int, error) {
	open := strings.IndexByte(columnType, '(')
	if open < 0 || !strings.HasSuffix(columnType, ")") {
		return 0, fmt.Errorf("no member list in %q", columnType)
	}
	toks, err := sqltok.Tokenize(columnType[open+1 : len(columnType)-1])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tk := range sqltok.Significant(toks) {
		if tk.Kind == sqltok.String {
			n++
		}
	}
	return n, nil
}

var typeNames = map[byte]string{
	mysql.MYSQL_TYPE_DECIMAL: "DECIMAL", mysql.MYSQL_TYPE_TINY: "TINY", mysql.MYSQL_TYPE_SHORT: "SHORT",
	mysql.MYSQL_TYPE_LONG: "LONG", mysql.MYSQL_TYPE_FLOAT: "FLOAT", mysql.MYSQL_TYPE_DOUBLE: "DOUBLE",
	mysql.MYSQL_TYPE_NULL: "NULL", mysql.MYSQL_TYPE_TIMESTAMP: "TIMESTAMP", mysql.MYSQL_TYPE_LONGLONG: "LONGLONG",
	mysql.MYSQL_TYPE_INT24: "INT24", mysql.MYSQL_TYPE_DATE: "DATE", mysql.MYSQL_TYPE_TIME: "TIME",
	mysql.MYSQL_TYPE_DATETIME: "DATETIME", mysql.MYSQL_TYPE_YEAR: "YEAR", mysql.MYSQL_TYPE_NEWDATE: "NEWDATE",
	mysql.MYSQL_TYPE_VARCHAR: "VARCHAR", mysql.MYSQL_TYPE_BIT: "BIT", mysql.MYSQL_TYPE_TIMESTAMP2: "TIMESTAMP2",
	mysql.MYSQL_TYPE_DATETIME2: "DATETIME2", mysql.MYSQL_TYPE_TIME2: "TIME2", mysql.MYSQL_TYPE_JSON: "JSON",
	mysql.MYSQL_TYPE_NEWDECIMAL: "NEWDECIMAL", mysql.MYSQL_TYPE_ENUM: "ENUM", mysql.MYSQL_TYPE_SET: "SET",
	mysql.MYSQL_TYPE_BLOB: "BLOB", mysql.MYSQL_TYPE_VAR_STRING: "VAR_STRING", mysql.MYSQL_TYPE_STRING: "STRING",
	mysql.MYSQL_TYPE_GEOMETRY: "GEOMETRY", mysql.MYSQL_TYPE_VECTOR: "VECTOR",
}

// typeName names a binlog column type for messages.
func typeName(t byte) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", t)
}
