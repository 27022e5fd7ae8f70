package rowcodec

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/sluice-dev/sluice/sqltok"
)

// Conflicts is the spec's `conflicts` option: what a duplicate key on the
// destination means.
type Conflicts string

const (
	// Precheck: the destination tables were checked empty; a duplicate is an error
	// (plain INSERT; LOAD DATA fails the batch when rows were skipped).
	Precheck Conflicts = "precheck"
	// Ignore: keep the destination's row on a duplicate key (DTS semantics) and
	// count the skipped rows (INSERT IGNORE / LOAD DATA ... IGNORE).
	Ignore Conflicts = "ignore"
	// Replace: the destination's row is replaced (REPLACE). The full copy of a
	// migration with incremental replication writes this way: rows move between
	// key ranges while ranges are copied at different times, so a range may bring a
	// unique value an earlier range copied under another key; the replay in safe
	// mode then converges (docs/architecture.md). Not a workflow-file value.
	Replace Conflicts = "replace"
)

// ParseConflicts maps the spec value ("" means precheck, the spec's default).
func ParseConflicts(s string) (Conflicts, error) {
	switch Conflicts(s) {
	case "", Precheck:
		return Precheck, nil
	case Ignore:
		return Ignore, nil
	}
	return "", fmt.Errorf("rowcodec: unknown conflicts mode %q (want precheck or ignore)", s)
}

// WriterSession returns the session settings of a writer.
//   - time_zone '+00:00': the reader's TIMESTAMP text is UTC (see ReaderSession).
//   - sql_mode 'NO_AUTO_VALUE_ON_ZERO', set explicitly (never inherited: MySQL 8's
//     default NO_ZERO_DATE rejects zero dates): keeps a 0 in an AUTO_INCREMENT key;
//     non-strict, because the ENUM error value ” (index 0) only stores non-strictly.
//     Exactness is proven by checksums, not by errors.
//   - foreign_key_checks=0: always safe, the rows were consistent on the source, and
//     tables are copied in parallel in any order.
//   - unique_checks=0 only with Precheck: it lets InnoDB skip the uniqueness check of
//     secondary unique indexes (change buffer, MariaDB's bulk insert into an empty
//     table), which is safe only when the destination held no rows and the rows come
//     from a source with the same unique keys. With Ignore the destination may hold
//     rows, and a secondary-unique duplicate must be found to be skipped.
func WriterSession(conflicts Conflicts) string {
	unique := "1"
	if conflicts == Precheck {
		unique = "0"
	}
	return "SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0, unique_checks = " + unique
}

// PrepareWriter applies WriterSession to conn; write with the same *sql.Conn.
func PrepareWriter(ctx context.Context, conn *sql.Conn, conflicts Conflicts) error {
	if _, err := conn.ExecContext(ctx, WriterSession(conflicts)); err != nil {
		return fmt.Errorf("rowcodec: prepare writer session: %w", err)
	}
	return nil
}

// Result counts one write.
type Result struct {
	Sent     int64 // rows sent
	Affected int64 // rows the server inserted
	Skipped  int64 // Sent - Affected: duplicates kept on the destination (Ignore)
}

// Add accumulates r2 into r.
func (r *Result) Add(r2 Result) {
	r.Sent += r2.Sent
	r.Affected += r2.Affected
	r.Skipped += r2.Skipped
}

// Statement is one multi-row INSERT and the number of rows it carries.
type Statement struct {
	SQL  string
	Rows int
}

// InsertStatements renders rows as multi-row INSERTs into dst with literals (no
// placeholders, so no placeholder limit), each at most maxBytes long (pass
// max_allowed_packet minus some slack). A row that alone exceeds maxBytes is an
// error. conflicts picks INSERT or INSERT IGNORE.
func InsertStatements(dst Table, cols []Column, rows []Row, maxBytes int, conflicts Conflicts) ([]Statement, error) {
	var out []Statement
	err := EachInsert(dst, cols, rows, maxBytes, conflicts, func(st Statement) error {
		out = append(out, Statement{SQL: strings.Clone(st.SQL), Rows: st.Rows})
		return nil
	})
	return out, err
}

// EachInsert is InsertStatements one statement at a time: each is built in one
// reused buffer and handed to f before the next is built, so writing a page
// holds one statement's text in memory, not the whole page's. The statement's
// SQL aliases that buffer: it is valid only until f returns (clone it to keep it).
func EachInsert(dst Table, cols []Column, rows []Row, maxBytes int, conflicts Conflicts, f func(Statement) error) error {
	verb := "INSERT INTO "
	switch conflicts {
	case Ignore:
		verb = "INSERT IGNORE INTO "
	case Replace:
		verb = "REPLACE INTO "
	}
	prefix := verb + dst.Quoted() + " (" + DestColumnList(cols) + ") VALUES "
	bp := stmtBufs.Get().(*[]byte)
	defer stmtBufs.Put(bp)
	buf := append((*bp)[:0], prefix...)
	defer func() { *bp = buf[:0] }()
	emit := func(n int) error {
		// No copy of a statement of up to maxBytes: the driver copies it into its
		// packet buffer before Exec returns, and buf is not touched until then.
		return f(Statement{SQL: unsafe.String(unsafe.SliceData(buf), len(buf)), Rows: n})
	}
	n := 0
	var rowBuf []byte
	for ri, row := range rows {
		var err error
		rowBuf, err = AppendTuple(rowBuf[:0], cols, row)
		if err != nil {
			return fmt.Errorf("rowcodec: row %d: %w", ri, err)
		}
		if len(prefix)+len(rowBuf) > maxBytes {
			return fmt.Errorf("rowcodec: row %d needs %d bytes as an INSERT, over the limit %d (raise max_allowed_packet)", ri, len(prefix)+len(rowBuf), maxBytes)
		}
		if n > 0 && len(buf)+1+len(rowBuf) > maxBytes {
			if err := emit(n); err != nil {
				return err
			}
			buf = append(buf[:0], prefix...)
			n = 0
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, rowBuf...)
		n++
	}
	if n > 0 {
		return emit(n)
	}
	return nil
}

// stmtBufs recycles statement buffers across pages and ranges.
var stmtBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// Execer is what writes run on: a *sql.Conn prepared by PrepareWriter, or a
// *sql.Tx on one, when the caller groups writes into its own transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Insert writes rows as EachInsert's statements, each sent before the next is
// built, and counts them. With Precheck a duplicate key fails the statement.
func Insert(ctx context.Context, ex Execer, dst Table, cols []Column, rows []Row, maxBytes int, conflicts Conflicts) (Result, error) {
	var total Result
	i := 0
	err := EachInsert(dst, cols, rows, maxBytes, conflicts, func(s Statement) error {
		i++
		res, err := ex.ExecContext(ctx, s.SQL)
		if err != nil {
			return fmt.Errorf("insert statement %d (%d rows): %w", i, s.Rows, err)
		}
		aff, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("rows affected: %w", err)
		}
		r := Result{Sent: int64(s.Rows), Affected: aff}
		if conflicts == Ignore {
			r.Skipped = int64(s.Rows) - aff
		}
		total.Add(r)
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("rowcodec: write %s: %w", dst, err)
	}
	return total, nil
}

// AppendTuple appends "(v1,v2,...)" with one literal per column.
func AppendTuple(b []byte, cols []Column, row Row) ([]byte, error) {
	if len(row) != len(cols) {
		return b, fmt.Errorf("rowcodec: row has %d values for %d columns", len(row), len(cols))
	}
	b = append(b, '(')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = AppendLiteral(b, c, row[i]); err != nil {
			return b, err
		}
	}
	return append(b, ')'), nil
}

// AppendLiteral appends the SQL literal that stores v exactly in column c:
//
//	NULL                       nil
//	integers, YEAR             decimal digits (YEAR as a number: '0' means 2000)
//	DECIMAL                    the server's text, unquoted (scale kept)
//	FLOAT, DOUBLE              FormatFloat(float64(v), 'g', -1, 64): bit-exact; the
//	                           32-bit shortest form (3.4028235e+38) is out of range
//	temporal                   '<server text>' (the writer session's zone is +00:00)
//	INET4/INET6/UUID           '<text>'
//	MySQL JSON                 CONVERT(X'hex' USING utf8mb4)
//	everything else            X'hex' of the raw bytes: a binary string, so nothing is
//	                           transcoded and nothing needs escaping
func AppendLiteral(b []byte, c Column, v any) ([]byte, error) {
	if v == nil {
		return append(b, "NULL"...), nil
	}
	switch c.Kind {
	case KindInt, KindYear:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(b, x, 10), nil
		case uint64:
			return strconv.AppendUint(b, x, 10), nil
		case []byte:
			if err := checkNumeric(x, false); err != nil {
				return b, colErr(c, err)
			}
			return append(b, x...), nil
		}
	case KindDecimal:
		if x, ok := v.([]byte); ok {
			if err := checkNumeric(x, true); err != nil {
				return b, colErr(c, err)
			}
			return append(b, x...), nil
		}
	case KindFloat, KindDouble:
		f, err := floatValue(v)
		if err != nil {
			return b, colErr(c, err)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case KindTemporal:
		if x, ok := v.([]byte); ok {
			if err := checkTemporal(x); err != nil {
				return b, colErr(c, err)
			}
			b = append(b, '\'')
			b = append(b, x...)
			return append(b, '\''), nil
		}
	case KindText:
		if x, ok := v.([]byte); ok {
			return append(b, sqltok.QuoteString(string(x))...), nil
		}
	case KindJSON:
		if x, ok := v.([]byte); ok {
			b = append(b, "CONVERT("...)
			b = appendHex(b, x)
			return append(b, " USING utf8mb4)"...), nil
		}
	case KindBytes:
		if x, ok := v.([]byte); ok {
			return appendHex(b, x), nil
		}
	}
	return b, fmt.Errorf("rowcodec: column %s (%s): unexpected value type %T", c.Name, c.DataType, v)
}

func appendHex(b []byte, x []byte) []byte {
	b = append(b, "X'"...)
	b = hex.AppendEncode(b, x)
	return append(b, '\'')
}

func colErr(c Column, err error) error {
	return fmt.Errorf("rowcodec: column %s (%s): %w", c.Name, c.DataType, err)
}

// floatValue widens a FLOAT/DOUBLE value; NaN and infinities cannot be stored.
func floatValue(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float32:
		f = float64(x)
	case float64:
		f = x
	default:
		return 0, fmt.Errorf("unexpected value type %T (FLOAT/DOUBLE must be read over the binary protocol)", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("value %v cannot be stored", f)
	}
	return f, nil
}

var errNotNumeric = errors.New("not a number")

// checkNumeric guards the unquoted paths: server text of a number is digits, sign,
// and for DECIMAL a point (DECIMAL text never has an exponent).
func checkNumeric(x []byte, point bool) error {
	if len(x) == 0 {
		return errNotNumeric
	}
	for i, ch := range x {
		switch {
		case ch >= '0' && ch <= '9':
		case ch == '-' && i == 0:
		case ch == '.' && point:
		default:
			return fmt.Errorf("%w: %q", errNotNumeric, x)
		}
	}
	return nil
}

// checkTemporal guards the quoted temporal path: the server's text is digits,
// '-', ':', '.', ' ' (and a leading '-' for a negative TIME).
func checkTemporal(x []byte) error {
	for _, ch := range x {
		if !(ch >= '0' && ch <= '9' || ch == '-' || ch == ':' || ch == '.' || ch == ' ') {
			return fmt.Errorf("not a temporal value: %q", x)
		}
	}
	return nil
}
