package binlog

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-dev/sluice/rowcodec"
)

// decodeRow turns one go-mysql row image into a rowcodec.Row: the copied columns in
// table order, each typed as rowcodec's reader types it. skipped lists the columns
// missing from the image (a non-FULL binlog_row_image).
func (p *plan) decodeRow(in []any, skipped []int) (rowcodec.Row, error) {
	if len(in) != p.ncols {
		return nil, &MismatchError{Schema: p.schema, Table: p.table,
			Detail: fmt.Sprintf("row image has %d columns, table map %d", len(in), p.ncols)}
	}
	for _, s := range skipped {
		for _, cp := range p.colPlans {
			if cp.src == s {
				return nil, fmt.Errorf("binlog: %s.%s: column %s missing from the row image: set binlog_row_image=FULL on the source",
					p.schema, p.table, cp.col.Name)
			}
		}
	}
	out := make(rowcodec.Row, len(p.colPlans))
	for k := range p.colPlans {
		v, err := p.colPlans[k].convert(in[p.colPlans[k].src])
		if err != nil {
			return nil, fmt.Errorf("binlog: %s.%s column %s: %w", p.schema, p.table, p.colPlans[k].col.Name, err)
		}
		out[k] = v
	}
	return out, nil
}

// convert maps go-mysql's value (see replication.RowsEvent) to rowcodec's. Every
// []byte returned is a fresh copy: go-mysql's strings and blobs point into the
// event buffer.
func (cp *colPlan) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch cp.typ {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG:
		return integer(v)
	case mysql.MYSQL_TYPE_YEAR:
		if y, ok := v.(int); ok {
			return int64(y), nil
		}
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		// go-mysql's default (UseDecimal off) is the exact text with the column's
		// scale, as the server prints it.
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case mysql.MYSQL_TYPE_FLOAT:
		if f, ok := v.(float32); ok {
			return f, nil
		}
	case mysql.MYSQL_TYPE_DOUBLE:
		if f, ok := v.(float64); ok {
			return f, nil
		}
	case mysql.MYSQL_TYPE_BIT:
		// go-mysql folds the big-endian bytes into an int64 (negative for BIT(64)
		// with the top bit set); the server sends BIT as (n+7)/8 big-endian bytes.
		if i, ok := v.(int64); ok {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(i))
			return append([]byte(nil), b[8-cp.length:]...), nil
		}
	case mysql.MYSQL_TYPE_ENUM:
		// The 1-based index of the member; 0 is the '' a non-strict insert stores.
		if i, ok := v.(int64); ok {
			if i == 0 {
				return []byte{}, nil
			}
			if i < 0 || int(i) > len(cp.values) {
				return nil, fmt.Errorf("enum index %d out of %d members", i, len(cp.values))
			}
			return append([]byte{}, cp.values[i-1]...), nil
		}
	case mysql.MYSQL_TYPE_SET:
		// A bitmap over the members, printed by the server in member order.
		if i, ok := v.(int64); ok {
			bits := uint64(i)
			if len(cp.values) < 64 && bits>>uint(len(cp.values)) != 0 {
				return nil, fmt.Errorf("set bitmap %#x has bits beyond its %d members", bits, len(cp.values))
			}
			out := []byte{}
			for k := range cp.values {
				if bits&(1<<uint(k)) != 0 {
					if len(out) > 0 {
						out = append(out, ',')
					}
					out = append(out, cp.values[k]...)
				}
			}
			return out, nil
		}
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		if s, ok := v.(string); ok {
			return timeText(s, cp.dec), nil
		}
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		// Strings with the column's fractional digits (ParseTime off), zero dates
		// kept, TIMESTAMP rendered in UTC (TimestampStringLocation), like the
		// reader's session time_zone '+00:00'.
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case mysql.MYSQL_TYPE_STRING:
		if s, ok := v.(string); ok {
			b := []byte(s)
			if cp.padZero && len(b) < cp.length {
				b = append(b, make([]byte, cp.length-len(b))...)
			}
			if cp.col.Kind == rowcodec.KindText {
				return fixedText(cp.col.DataType, b)
			}
			return b, nil
		}
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR:
		if b, ok := v.([]byte); ok {
			return append([]byte{}, b...), nil
		}
	case mysql.MYSQL_TYPE_JSON:
		// MySQL's binary JSON, rendered by go-mysql as MySQL's own text
		// (RenderJSONAsMySQLText); an empty document stays empty.
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		case []byte:
			return append([]byte{}, x...), nil
		}
		return nil, fmt.Errorf("partial JSON update (%T): set binlog_row_value_options='' on the source", v)
	}
	return nil, fmt.Errorf("unexpected value %T for binlog type %d", v, cp.typ)
}

// integer maps go-mysql's sized integers to int64, as the binary protocol delivers
// them, except BIGINT UNSIGNED above MaxInt64, which rowcodec's reader yields as
// uint64.
func integer(v any) (any, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return x, nil
		}
		return int64(x), nil
	}
	return nil, fmt.Errorf("unexpected integer %T", v)
}

// timeText gives TIME the server's text: go-mysql drops a zero fraction
// ("838:59:59" for TIME(6) '838:59:59.000000', "00:00:00" for any zero TIME), the
// server prints dec digits always.
func timeText(s string, dec int) []byte {
	b := []byte(s)
	if dec == 0 {
		return b
	}
	for _, c := range b {
		if c == '.' {
			return b
		}
	}
	b = append(b, '.')
	for range dec {
		b = append(b, '0')
	}
	return b
}

// fixedText renders MariaDB's INET4, INET6 and UUID binary forms (what the binlog
// holds) as the text the server sends a client (what rowcodec's reader holds).
func fixedText(dataType string, b []byte) ([]byte, error) {
	switch dataType {
	case "inet4":
		if len(b) != 4 {
			return nil, fmt.Errorf("inet4 value of %d bytes", len(b))
		}
		return fmt.Appendf(nil, "%d.%d.%d.%d", b[0], b[1], b[2], b[3]), nil
	case "inet6":
		if len(b) != 16 {
			return nil, fmt.Errorf("inet6 value of %d bytes", len(b))
		}
		return inet6Text(b), nil
	case "uuid":
		if len(b) != 16 {
			return nil, fmt.Errorf("uuid value of %d bytes", len(b))
		}
		out := make([]byte, 36)
		hex.Encode(out[0:8], b[0:4])
		out[8] = '-'
		hex.Encode(out[9:13], b[4:6])
		out[13] = '-'
		hex.Encode(out[14:18], b[6:8])
		out[18] = '-'
		hex.Encode(out[19:23], b[8:10])
		out[23] = '-'
		hex.Encode(out[24:36], b[10:16])
		return out, nil
	}
	return nil, fmt.Errorf("no text form known for %s", dataType)
}

// inet6Text formats an IPv6 address the way MariaDB's INET6 type (and MySQL's
// INET6_NTOA) does, which differs from RFC 5952 / net/netip: the longest run of zero
// groups is compressed even when it is a single group (the first run wins a tie),
// and the IPv4 tail is printed dotted only for IPv4-compatible (::a.b.c.d, the first
// six groups zero and the seventh not) and IPv4-mapped (::ffff:a.b.c.d) addresses.
func inet6Text(b []byte) []byte {
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	gapPos, gapLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > gapLen {
			gapPos, gapLen = i, j-i
		}
		i = j
	}
	out := make([]byte, 0, 40)
	for i := 0; i < 8; i++ {
		switch {
		case i == gapPos:
			if i == 0 {
				out = append(out, ':')
			}
			out = append(out, ':')
			i += gapLen - 1
		case i == 6 && gapPos == 0 && (gapLen == 6 || gapLen == 5 && w[5] == 0xffff):
			return fmt.Appendf(out, "%d.%d.%d.%d", b[12], b[13], b[14], b[15])
		default:
			out = strconv.AppendUint(out, uint64(w[i]), 16)
			if i != 7 {
				out = append(out, ':')
			}
		}
	}
	return out
}
