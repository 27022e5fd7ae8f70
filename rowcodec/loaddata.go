package rowcodec

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/sqltok"
)

// The LOAD DATA stream format: tab-separated fields, LF-terminated lines, no
// enclosing, backslash escapes, NULL as \N, and CHARACTER SET binary so the server
// stores the bytes as they come (latin1 E9 stays E9).

// LoadDataStatement is the LOAD DATA LOCAL statement reading the stream registered
// with the driver as readerName (mysql.RegisterReaderHandler). The column list names
// every copied column and there is no SET clause: with a SET clause and the key in
// the list, MariaDB replaces a key 0 with an AUTO_INCREMENT value despite
// NO_AUTO_VALUE_ON_ZERO (measured). BIT values go as raw bytes, which load exactly.
//
// LOCAL turns errors into warnings: a duplicate key is skipped (IGNORE, stated
// explicitly for Ignore), so Precheck must compare sent and affected (LoadData does).
func LoadDataStatement(dst Table, readerName string, cols []Column, conflicts Conflicts) string {
	var b strings.Builder
	b.WriteString("LOAD DATA LOCAL INFILE ")
	b.WriteString(sqltok.QuoteString("Reader::" + readerName))
	switch conflicts {
	case Ignore:
		b.WriteString(" IGNORE")
	case Replace:
		b.WriteString(" REPLACE")
	}
	b.WriteString(" INTO TABLE ")
	b.WriteString(dst.Quoted())
	b.WriteString(` CHARACTER SET binary FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\' LINES STARTING BY '' TERMINATED BY '\n' (`)
	b.WriteString(DestColumnList(cols))
	b.WriteString(")")
	return b.String()
}

// AppendLoadDataRow appends one line of the stream (fields and the final LF).
func AppendLoadDataRow(b []byte, cols []Column, row Row) ([]byte, error) {
	if len(row) != len(cols) {
		return b, fmt.Errorf("rowcodec: row has %d values for %d columns", len(row), len(cols))
	}
	for i, c := range cols {
		if i > 0 {
			b = append(b, '\t')
		}
		var err error
		if b, err = AppendLoadDataField(b, c, row[i]); err != nil {
			return b, err
		}
	}
	return append(b, '\n'), nil
}

// AppendLoadDataField appends one field: \N for NULL, numbers as text (YEAR as
// four digits: "0" would load as 2000), FLOAT/DOUBLE as FormatFloat(...,'g',-1,64),
// temporal text as is, and bytes escaped (\ → \\, TAB → \t, LF → \n, NUL → \0).
// An empty field is the empty string, not NULL. Without ENCLOSED BY the word NULL
// is the string "NULL".
func AppendLoadDataField(b []byte, c Column, v any) ([]byte, error) {
	if v == nil {
		return append(b, `\N`...), nil
	}
	switch c.Kind {
	case KindYear:
		if x, ok := v.(int64); ok {
			if x < 0 || x > 9999 {
				return b, colErr(c, fmt.Errorf("YEAR value %d out of range", x))
			}
			s := strconv.FormatInt(x, 10)
			for i := len(s); i < 4; i++ {
				b = append(b, '0')
			}
			return append(b, s...), nil
		}
	case KindInt, KindDecimal, KindFloat, KindDouble, KindTemporal:
		// Their SQL literal is also their stream text, minus the temporal quotes.
		if c.Kind == KindTemporal {
			if x, ok := v.([]byte); ok {
				if err := checkTemporal(x); err != nil {
					return b, colErr(c, err)
				}
				return append(b, x...), nil
			}
			break
		}
		return AppendLiteral(b, c, v)
	case KindText:
		if x, ok := v.([]byte); ok {
			bin, err := textToBinary(c.DataType, x)
			if err != nil {
				return b, colErr(c, err)
			}
			return appendEscaped(b, bin), nil
		}
	case KindBytes, KindJSON:
		if x, ok := v.([]byte); ok {
			return appendEscaped(b, x), nil
		}
	}
	return b, fmt.Errorf("rowcodec: column %s (%s): unexpected value type %T", c.Name, c.DataType, v)
}

// textToBinary converts the text form of INET4/INET6/UUID to the binary form the
// server takes from a binary-charset field: with CHARACTER SET binary it does not
// parse text (measured: '1:2:3:4:5:6:7:88', 16 characters, was stored as those 16
// bytes; a 15-character IPv4 text became NULL).
func textToBinary(dataType string, x []byte) ([]byte, error) {
	switch dataType {
	case "inet4", "inet6":
		ip, err := netip.ParseAddr(string(x))
		if err != nil {
			return nil, fmt.Errorf("%s text %q: %w", dataType, x, err)
		}
		if dataType == "inet4" {
			if !ip.Is4() {
				return nil, fmt.Errorf("inet4 text %q is not IPv4", x)
			}
			a := ip.As4()
			return a[:], nil
		}
		a := ip.As16()
		return a[:], nil
	case "uuid":
		h := strings.ReplaceAll(string(x), "-", "")
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 16 {
			return nil, fmt.Errorf("uuid text %q is not 32 hex digits", x)
		}
		return b, nil
	}
	return nil, fmt.Errorf("no binary form known for %s", dataType)
}

func appendEscaped(b, x []byte) []byte {
	for _, ch := range x {
		switch ch {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case 0:
			b = append(b, '\\', '0')
		default:
			b = append(b, ch)
		}
	}
	return b
}

// LoadDataReader streams rows in the LOAD DATA format, encoding one row at a time
// (memory: one row plus the caller's read buffer). A row that cannot be encoded
// ends the stream with an error before any of its bytes are sent, so the server
// receives only whole rows; run the LOAD DATA in a transaction (as LoadData does)
// to discard them.
type LoadDataReader struct {
	cols []Column
	rows []Row
	next int
	buf  []byte
	off  int
	err  error
}

// NewLoadDataReader returns a stream of rows for LoadDataStatement.
func NewLoadDataReader(cols []Column, rows []Row) *LoadDataReader {
	return &LoadDataReader{cols: cols, rows: rows}
}

func (r *LoadDataReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.off == len(r.buf) {
			if r.err != nil {
				break
			}
			if r.next == len(r.rows) {
				r.err = io.EOF
				break
			}
			var err error
			r.buf, err = AppendLoadDataRow(r.buf[:0], r.cols, r.rows[r.next])
			r.off = 0
			if err != nil {
				r.buf = r.buf[:0]
				r.err = fmt.Errorf("rowcodec: load data row %d: %w", r.next, err)
				break
			}
			r.next++
		}
		c := copy(p[n:], r.buf[r.off:])
		r.off += c
		n += c
	}
	if n > 0 {
		return n, nil
	}
	return 0, r.err
}

var readerSeq atomic.Uint64

// LoadData writes rows into dst with one LOAD DATA LOCAL INFILE statement on ex
// (a connection PrepareWriter set up, or a transaction on one). With Precheck, a
// skipped row (a duplicate key: LOCAL makes it a warning) is an error: run it in
// a transaction, and roll that back, for the batch to leave nothing.
func LoadData(ctx context.Context, ex Execer, dst Table, cols []Column, rows []Row, conflicts Conflicts) (Result, error) {
	if len(rows) == 0 {
		return Result{}, nil
	}
	name := "sluice-rowcodec-" + strconv.FormatUint(readerSeq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return NewLoadDataReader(cols, rows) })
	defer mysql.DeregisterReaderHandler(name)
	res, err := ex.ExecContext(ctx, LoadDataStatement(dst, name, cols, conflicts))
	if err != nil {
		return Result{}, fmt.Errorf("rowcodec: load data into %s: %w", dst, err)
	}
	aff, err := res.RowsAffected()
	if err != nil {
		return Result{}, fmt.Errorf("rowcodec: load data into %s: rows affected: %w", dst, err)
	}
	r := Result{Sent: int64(len(rows)), Affected: aff}
	if conflicts != Replace {
		// REPLACE counts a replaced row twice: nothing is skipped.
		r.Skipped = int64(len(rows)) - aff
	}
	// LOCAL turns duplicate-key errors into warnings: under Precheck a skipped row
	// is the error a plain INSERT would have raised.
	if conflicts != Ignore && r.Skipped != 0 {
		return Result{}, fmt.Errorf("rowcodec: load data into %s: %d of %d rows not inserted (duplicate keys in a table that should be empty?)%s",
			dst, r.Skipped, r.Sent, warnings(ctx, ex))
	}
	return r, nil
}

// warnings returns the first server warnings, for an error message.
func warnings(ctx context.Context, ex Execer) string {
	rows, err := ex.QueryContext(ctx, "SHOW WARNINGS LIMIT 3")
	if err != nil {
		return ""
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var level, msg string
		var code int
		if rows.Scan(&level, &code, &msg) == nil {
			msgs = append(msgs, fmt.Sprintf("%s %d: %s", level, code, msg))
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// LocalInfile reports whether the server accepts LOAD DATA LOCAL (@@local_infile);
// when it does not, write with InsertStatements.
func LocalInfile(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var v int
	if err := db.QueryRowContext(ctx, "SELECT @@GLOBAL.local_infile").Scan(&v); err != nil {
		return false, fmt.Errorf("rowcodec: read @@local_infile: %w", err)
	}
	return v == 1, nil
}
