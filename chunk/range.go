package chunk

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// Tuple is one key value, one string per key column, encoded losslessly so it can
// travel as JSON (activity inputs, heartbeat details): integers as decimal text
// (any int64 or uint64), every other value as the lower-case hex of its exact bytes.
type Tuple []string

// Range is a chunk: the rows whose key is > Lower and <= Upper, in the server's
// order for the key. A nil Lower starts at the first row, a nil Upper runs to the
// last (so rows inserted past the ends during the copy are also read).
type Range struct {
	Index int   `json:"index"`
	Lower Tuple `json:"lower,omitempty"` // exclusive
	Upper Tuple `json:"upper,omitempty"` // inclusive
}

// Cursor is the key of the last row copied in a range (nil: none yet). A chunk
// activity heartbeats it; a retry resumes after it.
type Cursor Tuple

// String is a short readable form for logs and activity summaries.
func (r Range) String() string {
	b := func(t Tuple, open string) string {
		if t == nil {
			return open
		}
		return "(" + strings.Join(t, ",") + ")"
	}
	return fmt.Sprintf("#%d %s..%s", r.Index, b(r.Lower, "-inf"), b(r.Upper, "+inf"))
}

// encodeValue turns a value read from the server (as sql.RawBytes) into its Tuple form.
func encodeValue(c Column, raw []byte) string {
	switch c.Kind {
	case Signed, Unsigned:
		return string(raw)
	}
	return hex.EncodeToString(raw)
}

// bindValue is the driver argument for one Tuple value of column c.
func bindValue(c Column, v string) (any, error) {
	switch c.Kind {
	case Signed:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chunk: key column %s: %w", c.Name, err)
		}
		return n, nil
	case Unsigned:
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chunk: key column %s: %w", c.Name, err)
		}
		return n, nil
	case Text, Binary:
		// Sent as ASCII hex and turned back into bytes by the server, so the
		// client character set never transcodes the value.
		if _, err := hex.DecodeString(v); err != nil {
			return nil, fmt.Errorf("chunk: key column %s: %w", c.Name, err)
		}
		return v, nil
	case Cast:
		b, err := hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("chunk: key column %s: %w", c.Name, err)
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("chunk: key column %s: unsupported kind %q", c.Name, c.Kind)
}

// placeholder is the SQL for one bound value of column c, typed so the server
// compares it as the column's type and collation.
func placeholder(c Column) string {
	switch c.Kind {
	case Text:
		return "CONVERT(UNHEX(?) USING " + c.Charset + ") COLLATE " + c.Collation
	case Binary:
		return "UNHEX(?)"
	case Cast:
		return "CAST(? AS " + c.CastType + ")"
	}
	return "?"
}

// selectExpr reads a key column so its bytes are exact whatever the session's
// character_set_results: strings as binary, everything else as the server sends it.
func selectExpr(c Column) string {
	q := sqltok.Quote(c.Name)
	switch c.Kind {
	case Text, Cast:
		return "CAST(" + q + " AS BINARY)"
	}
	return q
}

// compare builds "key > t" (strict) or "key <= t" as SQL over the key columns,
// with its arguments. A row constructor (a,b) > (?,?) is not turned into an index
// range by MariaDB, so it is expanded: a >= ? AND (a > ? OR (a = ? AND b > ?)).
// The leading a >= ? (a <= ?) lets even a simple optimizer bound the first column.
func compare(k Key, t Tuple, greater bool) (string, []any, error) {
	if len(t) != len(k.Columns) {
		return "", nil, fmt.Errorf("chunk: key %s has %d columns, value has %d", k, len(k.Columns), len(t))
	}
	args := make([]any, len(t))
	for i, c := range k.Columns {
		a, err := bindValue(c, t[i])
		if err != nil {
			return "", nil, err
		}
		args[i] = a
	}
	strict, wide := ">", ">="
	if !greater {
		strict, wide = "<", "<="
	}
	var out []any
	var expr func(i int) string
	expr = func(i int) string {
		c := k.Columns[i]
		col, ph := sqltok.Quote(c.Name), placeholder(c)
		if i == len(k.Columns)-1 {
			out = append(out, args[i])
			if greater {
				return col + " > " + ph
			}
			return col + " <= " + ph
		}
		out = append(out, args[i], args[i])
		return "(" + col + " " + strict + " " + ph + " OR (" + col + " = " + ph + " AND " + expr(i+1) + "))"
	}
	first := k.Columns[0]
	if len(k.Columns) == 1 {
		return expr(0), out, nil
	}
	out = append(out, args[0])
	lead := sqltok.Quote(first.Name) + " " + wide + " " + placeholder(first)
	return lead + " AND " + expr(0), out, nil
}

// Where is the WHERE clause (without the keyword, "" if none) for the rows of
// rng, with its arguments.
func Where(k Key, rng Range) (string, []any, error) { return where(k, rng, nil) }

// OrderBy is the key's ORDER BY list ("`a`, `b`").
func OrderBy(k Key) string { return orderBy(k) }

// where is the WHERE clause (without the keyword, "" if none) for the rows of
// rng after cur.
func where(k Key, rng Range, cur Cursor) (string, []any, error) {
	var parts []string
	var args []any
	lower := rng.Lower
	if cur != nil {
		lower = Tuple(cur)
	}
	if lower != nil {
		s, a, err := compare(k, lower, true)
		if err != nil {
			return "", nil, err
		}
		parts, args = append(parts, s), append(args, a...)
	}
	if rng.Upper != nil {
		s, a, err := compare(k, rng.Upper, false)
		if err != nil {
			return "", nil, err
		}
		parts, args = append(parts, s), append(args, a...)
	}
	return strings.Join(parts, " AND "), args, nil
}

// orderBy is "`a`, `b`".
func orderBy(k Key) string {
	cols := make([]string, len(k.Columns))
	for i, c := range k.Columns {
		cols[i] = sqltok.Quote(c.Name)
	}
	return strings.Join(cols, ", ")
}

// keySelect is the key columns' select list, exact bytes.
func keySelect(k Key) string {
	cols := make([]string, len(k.Columns))
	for i, c := range k.Columns {
		cols[i] = selectExpr(c)
	}
	return strings.Join(cols, ", ")
}
