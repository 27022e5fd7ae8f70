package etl

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/sluice-dev/sluice/charset"
	"github.com/sluice-dev/sluice/rowcodec"
)

// Column is a source column as expressions see it.
type Column struct {
	rowcodec.Column
	// MaxLength is CHARACTER_MAXIMUM_LENGTH: characters for text, bytes for binary
	// strings (0: not a string type).
	MaxLength int64 `json:"max_length,omitempty"`
	// JSON marks a column holding JSON: MySQL's type, or MariaDB's LONGTEXT with a
	// json_valid() check.
	JSON bool `json:"json,omitempty"`
	// Key marks a column of the key rows are identified by (the primary key, or
	// without one every NOT NULL unique key): a transform may not change it.
	Key bool `json:"key,omitempty"`
}

// Table is a source table as expressions see it: its copied columns (generated
// ones left out) in ordinal order, the order of rowcodec rows.
type Table struct {
	Schema  string   `json:"schema"`
	Name    string   `json:"name"`
	Columns []Column `json:"columns"`
}

func (t Table) String() string { return rowcodec.Table{Schema: t.Schema, Name: t.Name}.Quoted() }

// kind is how a column's value looks to CEL.
type kind int

const (
	kInt kind = iota
	kUint
	kDouble
	kFloat // FLOAT: a double in CEL, float32 in the row
	kDecimal
	kString // text in a known charset, ENUM, INET/UUID
	kBytes  // binary strings, GEOMETRY, text in an unknown charset
	kTimestamp
	kDuration
	kJSON // dyn
	kSet  // list(string)
	kBit  // uint
)

// colInfo is everything evaluation needs about one column.
type colInfo struct {
	Column
	kind    kind
	codec   charset.Codec // kString on a character column
	members []string
	// precision/scale of DECIMAL, fsp of temporal types, bits of BIT.
	precision, scale int
	celType          *cel.Type // without the optional wrapper
	// decLimit is 10^precision: a DECIMAL value at the column's scale must be
	// below it. lo/hi bound an integer column.
	decLimit *big.Int
	lo, hi   *big.Int
}

func newColInfo(c Column) colInfo {
	ci := colInfo{Column: c}
	ct := strings.ToLower(c.ColumnType)
	switch c.Kind {
	case rowcodec.KindInt:
		// Unsigned types up to INT fit an int64: they are ints, so `row.id == 7`
		// type-checks; BIGINT UNSIGNED does not fit and is a uint.
		ci.kind = kInt
		if c.Unsigned && c.DataType == "bigint" {
			ci.kind = kUint
		}
	case rowcodec.KindYear:
		ci.kind = kInt
	case rowcodec.KindDecimal:
		ci.kind = kDecimal
		ci.precision, ci.scale = 10, 0
		if a, ok := typeArgs(ct); ok && len(a) >= 1 {
			ci.precision, _ = strconv.Atoi(a[0])
			if len(a) >= 2 {
				ci.scale, _ = strconv.Atoi(a[1])
			}
		}
	case rowcodec.KindFloat:
		ci.kind = kFloat
	case rowcodec.KindDouble:
		ci.kind = kDouble
	case rowcodec.KindTemporal:
		ci.kind = kTimestamp
		if c.DataType == "time" {
			ci.kind = kDuration
		}
		if a, ok := typeArgs(ct); ok && len(a) == 1 {
			ci.scale, _ = strconv.Atoi(a[0])
		}
	case rowcodec.KindText:
		ci.kind, ci.codec = kString, charset.UTF8
	case rowcodec.KindJSON:
		ci.kind = kJSON
	default:
		switch c.DataType {
		case "enum":
			ci.kind = kString
			ci.members = enumMembers(c.ColumnType)
		case "set":
			ci.kind = kSet
			ci.members = enumMembers(c.ColumnType)
		case "bit":
			ci.kind = kBit
			ci.precision = 1
			if a, ok := typeArgs(ct); ok && len(a) == 1 {
				ci.precision, _ = strconv.Atoi(a[0])
			}
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
			ci.kind = kBytes
			if c.JSON {
				ci.kind = kJSON
			} else if cd, ok := charset.For(c.Charset); ok && c.Charset != "binary" {
				ci.kind, ci.codec = kString, cd
			}
		default:
			ci.kind = kBytes
		}
	}
	if ci.kind == kString && ci.codec == nil {
		ci.codec = charset.UTF8
		if cd, ok := charset.For(c.Charset); ok {
			ci.codec = cd
		}
	}
	if ci.kind == kSet && ci.codec == nil {
		ci.codec = charset.UTF8
		if cd, ok := charset.For(c.Charset); ok {
			ci.codec = cd
		}
	}
	ci.celType = ci.kind.celType()
	if ci.kind == kDecimal {
		ci.decLimit = pow10(int32(ci.precision))
	}
	if ci.kind == kInt || ci.kind == kUint {
		ci.lo, ci.hi = ci.intRange()
	}
	return ci
}

func (k kind) celType() *cel.Type {
	switch k {
	case kInt:
		return cel.IntType
	case kUint, kBit:
		return cel.UintType
	case kDouble, kFloat:
		return cel.DoubleType
	case kDecimal:
		return DecimalType
	case kString:
		return cel.StringType
	case kTimestamp:
		return cel.TimestampType
	case kDuration:
		return cel.DurationType
	case kJSON:
		return cel.DynType
	case kSet:
		return cel.ListType(cel.StringType)
	}
	return cel.BytesType
}

// fieldType is the column's type in `row`: NULL-able columns are optional.
func (ci *colInfo) fieldType() *cel.Type {
	if ci.Nullable {
		return cel.OptionalType(ci.celType)
	}
	return ci.celType
}

// rawType is the column's type in `raw`: its stored text, or bytes.
func (ci *colInfo) rawType() *cel.Type {
	t := cel.StringType
	if ci.kind == kBytes || ci.kind == kBit {
		t = cel.BytesType
	}
	if ci.Nullable {
		return cel.OptionalType(t)
	}
	return t
}

// typeArgs returns the arguments of "decimal(10,2) unsigned" → ["10","2"].
func typeArgs(ct string) ([]string, bool) {
	i := strings.IndexByte(ct, '(')
	j := strings.IndexByte(ct, ')')
	if i < 0 || j < i {
		return nil, false
	}
	parts := strings.Split(ct[i+1:j], ",")
	for k := range parts {
		parts[k] = strings.TrimSpace(parts[k])
	}
	return parts, true
}

// enumMembers parses "enum('a','b”c')" (COLUMN_TYPE doubles quotes).
func enumMembers(ct string) []string {
	i := strings.IndexByte(ct, '(')
	if i < 0 {
		return nil
	}
	s := ct[i+1:]
	var out []string
	for len(s) > 0 && s[0] == '\'' {
		var b strings.Builder
		j := 1
		for j < len(s) {
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					b.WriteByte('\'')
					j += 2
					continue
				}
				break
			}
			b.WriteByte(s[j])
			j++
		}
		out = append(out, b.String())
		s = strings.TrimLeft(s[min(j+1, len(s)):], ",")
	}
	return out
}

// --- reading: row value → CEL ---

// toCEL converts a rowcodec value (never nil here) to the column's CEL value.
func (ci *colInfo) toCEL(v any) ref.Val {
	switch ci.kind {
	case kInt:
		switch x := v.(type) {
		case int64:
			return types.Int(x)
		case uint64:
			return types.NewErr("%s: %d out of int range", ci.Name, x)
		}
	case kUint:
		switch x := v.(type) {
		case int64:
			return types.Uint(uint64(x))
		case uint64:
			return types.Uint(x)
		}
	case kDouble:
		switch x := v.(type) {
		case float64:
			return types.Double(x)
		case []byte:
			f, err := strconv.ParseFloat(string(x), 64)
			if err == nil {
				return types.Double(f)
			}
		}
	case kFloat:
		// The value MySQL shows (1.1), not the binary float32 (1.100000023841858).
		switch x := v.(type) {
		case float32:
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
			return types.Double(f)
		case float64:
			return types.Double(x)
		}
	case kDecimal:
		if b, ok := v.([]byte); ok {
			d, err := ParseDecimal(string(b))
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return d
		}
	case kString:
		if b, ok := v.([]byte); ok {
			s, err := ci.codec.Decode(b)
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return types.String(s)
		}
	case kSet:
		if b, ok := v.([]byte); ok {
			s, err := ci.codec.Decode(b)
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			var items []string
			if s != "" {
				items = strings.Split(s, ",")
			}
			return types.NewStringList(types.DefaultTypeAdapter, items)
		}
	case kBit:
		if b, ok := v.([]byte); ok {
			var n uint64
			for _, c := range b {
				n = n<<8 | uint64(c)
			}
			return types.Uint(n)
		}
	case kTimestamp:
		if b, ok := v.([]byte); ok {
			t, err := parseTemporal(string(b))
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return types.Timestamp{Time: t}
		}
	case kDuration:
		if b, ok := v.([]byte); ok {
			d, err := parseTime(string(b))
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return types.Duration{Duration: d}
		}
	case kJSON:
		if b, ok := v.([]byte); ok {
			val, err := parseJSON(b)
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return val
		}
	case kBytes:
		if b, ok := v.([]byte); ok {
			return types.Bytes(b)
		}
	}
	return types.NewErr("%s: unexpected value %T", ci.Name, v)
}

// rawCEL is the value of `raw.col`: the stored text (bytes for binary columns).
func (ci *colInfo) rawCEL(v any) ref.Val {
	switch x := v.(type) {
	case []byte:
		if ci.kind == kBytes || ci.kind == kBit {
			return types.Bytes(x)
		}
		if ci.codec != nil {
			s, err := ci.codec.Decode(x)
			if err != nil {
				return types.NewErr("%s: %v", ci.Name, err)
			}
			return types.String(s)
		}
		return types.String(x)
	case int64:
		return types.String(strconv.FormatInt(x, 10))
	case uint64:
		return types.String(strconv.FormatUint(x, 10))
	case float32:
		return types.String(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		return types.String(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return types.NewErr("%s: unexpected value %T", ci.Name, v)
}

// ErrZeroDate is the evaluation error of a zero date read as a timestamp.
const zeroDateHelp = "a zero date has no timestamp value: compare raw.%s (its text) instead, e.g. raw.%s == %q"

// parseTemporal reads DATE, DATETIME and TIMESTAMP text (UTC: the reader's
// session zone) into a UTC time. Zero dates (0000-00-00, or a zero month or
// day) are an error: they have no timestamp.
func parseTemporal(s string) (time.Time, error) {
	layout := "2006-01-02"
	if len(s) > 10 {
		layout = "2006-01-02 15:04:05.999999"
	}
	if strings.HasPrefix(s, "0000-") || strings.Contains(s[:min(len(s), 10)], "-00") {
		return time.Time{}, fmt.Errorf("zero date %q", s)
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("temporal value %q: %w", s, err)
	}
	return t, nil
}

// parseTime reads TIME text "-838:59:59.000000".
func parseTime(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	hms, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("TIME value %q", s)
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("TIME value %q", s)
		}
		n[i] = v
	}
	d := time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second
	if frac != "" {
		f := (frac + "000000000")[:9]
		ns, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("TIME value %q", s)
		}
		d += time.Duration(ns)
	}
	if neg {
		d = -d
	}
	return d, nil
}

// parseJSON decodes JSON text into CEL values: integers that fit int64 as int,
// other numbers as double.
func parseJSON(b []byte) (ref.Val, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return types.DefaultTypeAdapter.NativeToValue(jsonNumbers(v)), nil
}

func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
		return x
	}
	return v
}

// --- writing: CEL → row value ---

// fromCEL converts a transform's result to the value the row holds for the
// column (what rowcodec writes), checking that the column can hold it.
func (ci *colInfo) fromCEL(v ref.Val) (any, error) {
	if o, ok := v.(*types.Optional); ok {
		if !o.HasValue() {
			v = types.NullValue
		} else {
			v = o.GetValue()
		}
	}
	if v == types.NullValue || v.Type() == types.NullType {
		if !ci.Nullable {
			return nil, fmt.Errorf("NULL for the NOT NULL column %s", ci.Name)
		}
		return nil, nil
	}
	switch ci.kind {
	case kInt, kUint:
		// Fast paths: an int64 or uint64 inside the column's range.
		switch x := v.(type) {
		case types.Int:
			if ci.lo.IsInt64() && ci.hi.IsInt64() && int64(x) >= ci.lo.Int64() && int64(x) <= ci.hi.Int64() {
				return int64(x), nil
			}
		case types.Uint:
			if ci.hi.IsUint64() && uint64(x) <= ci.hi.Uint64() {
				if x <= math.MaxInt64 {
					return int64(x), nil
				}
				return uint64(x), nil
			}
		}
		n, err := toBigInt(v)
		if err != nil {
			return nil, err
		}
		return ci.intValue(n)
	case kDouble, kFloat:
		var f float64
		switch x := v.(type) {
		case types.Double:
			f = float64(x)
		case types.Int:
			f = float64(x)
		case types.Uint:
			f = float64(x)
		case Decimal:
			f = x.Float()
		default:
			return nil, typeErr(ci, v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v cannot be stored in %s", f, ci.Name)
		}
		if ci.kind == kFloat {
			if math.Abs(f) > math.MaxFloat32 {
				return nil, fmt.Errorf("%v is out of FLOAT range for %s", f, ci.Name)
			}
			return float32(f), nil
		}
		return f, nil
	case kDecimal:
		var d Decimal
		switch x := v.(type) {
		case Decimal:
			d = x
		case types.Int:
			d = DecimalFromInt(int64(x))
		case types.Uint:
			d = DecimalFromUint(uint64(x))
		default:
			return nil, typeErr(ci, v)
		}
		d = d.Round(int32(ci.scale))
		if d.unscaled.CmpAbs(ci.decLimit) >= 0 {
			return nil, fmt.Errorf("%s does not fit %s", d, ci.ColumnType)
		}
		return []byte(d.String()), nil
	case kString:
		s, ok := v.(types.String)
		if !ok {
			return nil, typeErr(ci, v)
		}
		if ci.members != nil {
			for _, m := range ci.members {
				if m == string(s) {
					return ci.codec.Encode(m)
				}
			}
			return nil, fmt.Errorf("%q is not a member of %s", string(s), ci.ColumnType)
		}
		if ci.MaxLength > 0 && int64(utf8.RuneCountInString(string(s))) > ci.MaxLength {
			return nil, fmt.Errorf("%d characters do not fit %s", utf8.RuneCountInString(string(s)), ci.ColumnType)
		}
		b, err := ci.codec.Encode(string(s))
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", ci.Name, ci.Charset, err)
		}
		return b, nil
	case kSet:
		l, ok := v.(traits.Lister)
		if !ok {
			return nil, typeErr(ci, v)
		}
		n := int(l.Size().(types.Int))
		want := map[string]bool{}
		for i := 0; i < n; i++ {
			s, ok := l.Get(types.Int(i)).(types.String)
			if !ok {
				return nil, typeErr(ci, v)
			}
			want[string(s)] = true
		}
		var out []string
		for _, m := range ci.members {
			if want[m] {
				out = append(out, m)
				delete(want, m)
			}
		}
		for s := range want {
			return nil, fmt.Errorf("%q is not a member of %s", s, ci.ColumnType)
		}
		return ci.codec.Encode(strings.Join(out, ","))
	case kBit:
		n, err := toBigInt(v)
		if err != nil {
			return nil, err
		}
		if n.Sign() < 0 || n.BitLen() > ci.precision {
			return nil, fmt.Errorf("%s does not fit %s", n, ci.ColumnType)
		}
		b := make([]byte, (ci.precision+7)/8)
		n.FillBytes(b)
		return b, nil
	case kTimestamp:
		ts, ok := v.(types.Timestamp)
		if !ok {
			return nil, typeErr(ci, v)
		}
		return ci.formatTimestamp(ts.Time.UTC())
	case kDuration:
		d, ok := v.(types.Duration)
		if !ok {
			return nil, typeErr(ci, v)
		}
		return ci.formatTime(d.Duration)
	case kJSON:
		nat, err := celToJSON(v)
		if err != nil {
			return nil, fmt.Errorf("%s: not a JSON value: %w", ci.Name, err)
		}
		b, err := marshalJSON(nat)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ci.Name, err)
		}
		return b, nil
	case kBytes:
		var b []byte
		switch x := v.(type) {
		case types.Bytes:
			b = []byte(x)
		case types.String:
			b = []byte(x)
		default:
			return nil, typeErr(ci, v)
		}
		if ci.MaxLength > 0 && int64(len(b)) > ci.MaxLength {
			return nil, fmt.Errorf("%d bytes do not fit %s", len(b), ci.ColumnType)
		}
		return b, nil
	}
	return nil, typeErr(ci, v)
}

func typeErr(ci *colInfo, v ref.Val) error {
	return fmt.Errorf("a %s value cannot be stored in %s (%s)", v.Type().TypeName(), ci.Name, ci.ColumnType)
}

func toBigInt(v ref.Val) (*big.Int, error) {
	switch x := v.(type) {
	case types.Int:
		return big.NewInt(int64(x)), nil
	case types.Uint:
		return new(big.Int).SetUint64(uint64(x)), nil
	case Decimal:
		if x.Round(0).Cmp(x) != 0 {
			return nil, fmt.Errorf("%s is not an integer", x)
		}
		return x.Trunc(), nil
	}
	return nil, fmt.Errorf("a %s value is not an integer", v.Type().TypeName())
}

// intRange is [min, max] of an integer column type.
func (ci *colInfo) intRange() (*big.Int, *big.Int) {
	bits := map[string]uint{"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}[ci.DataType]
	if ci.DataType == "year" {
		return big.NewInt(0), big.NewInt(2155)
	}
	if bits == 0 {
		bits = 64
	}
	one := big.NewInt(1)
	if ci.Unsigned {
		return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
	}
	hi := new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
	return new(big.Int).Neg(new(big.Int).Lsh(one, bits-1)), hi
}

func (ci *colInfo) intValue(n *big.Int) (any, error) {
	lo, hi := ci.lo, ci.hi
	if n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
		return nil, fmt.Errorf("%s is out of range for %s (%s)", n, ci.Name, ci.ColumnType)
	}
	if n.IsInt64() {
		return n.Int64(), nil
	}
	return n.Uint64(), nil
}

func (ci *colInfo) formatTimestamp(t time.Time) (any, error) {
	if ci.DataType == "date" {
		return []byte(t.Format("2006-01-02")), nil
	}
	if t.Year() < 1000 || t.Year() > 9999 {
		return nil, fmt.Errorf("%s is out of range for %s", t.Format(time.RFC3339Nano), ci.ColumnType)
	}
	if ci.DataType == "timestamp" {
		lo := time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
		hi := time.Date(2038, 1, 19, 3, 14, 7, 999999999, time.UTC)
		if t.Before(lo) || t.After(hi) {
			return nil, fmt.Errorf("%s is out of TIMESTAMP range for %s", t.Format(time.RFC3339Nano), ci.Name)
		}
	}
	s := t.Format("2006-01-02 15:04:05")
	if ci.scale > 0 {
		frac := fmt.Sprintf("%09d", t.Nanosecond())
		s += "." + frac[:ci.scale]
	}
	return []byte(s), nil
}

func (ci *colInfo) formatTime(d time.Duration) (any, error) {
	const limit = 838*time.Hour + 59*time.Minute + 59*time.Second
	if d > limit+time.Second-time.Nanosecond || d < -(limit+time.Second-time.Nanosecond) {
		return nil, fmt.Errorf("%s is out of TIME range for %s", d, ci.Name)
	}
	neg := d < 0
	if neg {
		d = -d
	}
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	sec := (d % time.Minute) / time.Second
	s := fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
	if ci.scale > 0 {
		frac := fmt.Sprintf("%09d", d%time.Second)
		s += "." + frac[:ci.scale]
	}
	if neg {
		s = "-" + s
	}
	return []byte(s), nil
}

// celToJSON turns a CEL value into what encoding/json writes: numbers exactly
// (decimals and big integers as their text), timestamps as RFC 3339 text.
func celToJSON(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case types.Uint:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v is not a JSON number", f)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case Decimal:
		return json.Number(x.String()), nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return []byte(x), nil // base64, as encoding/json writes bytes
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	case *types.Optional:
		if !x.HasValue() {
			return nil, nil
		}
		return celToJSON(x.GetValue())
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("a JSON object key must be a string, not %s", k.Type().TypeName())
			}
			e, err := celToJSON(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		out := []any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			e, err := celToJSON(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%v", v)
	}
	return nil, fmt.Errorf("a %s value has no JSON form", v.Type().TypeName())
}

// marshalJSON is encoding/json without HTML escaping (MySQL's JSON text has none).
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// LoadTable reads a source table's copied columns (rowcodec.Columns) with what
// expressions need besides: string lengths, JSON columns (MariaDB's JSON is a
// LONGTEXT with a json_valid() check) and the key columns.
func LoadTable(ctx context.Context, db *sql.DB, schema, table string) (Table, error) {
	cols, err := rowcodec.Columns(ctx, db, schema, table)
	if err != nil {
		return Table{}, err
	}
	t := Table{Schema: schema, Name: table}
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Column: c})
	}
	index := func(name string) int {
		for i, c := range t.Columns {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	rows, err := db.QueryContext(ctx, "SELECT COLUMN_NAME, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", schema, table)
	if err != nil {
		return Table{}, fmt.Errorf("etl: columns of %s: %w", t, err)
	}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return Table{}, fmt.Errorf("etl: columns of %s: %w", t, err)
		}
		if i := index(name); i >= 0 {
			t.Columns[i].MaxLength = n
		}
	}
	rows.Close()
	// MariaDB: JSON columns carry CHECK (json_valid(`c`)). MySQL has no such
	// table before 8.0.16 and a real JSON type: a failing query is ignored.
	if rows, err := db.QueryContext(ctx, "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?", schema, table); err == nil {
		for rows.Next() {
			var clause string
			if rows.Scan(&clause) != nil {
				continue
			}
			if m := jsonValid.FindStringSubmatch(clause); m != nil {
				if i := index(strings.ReplaceAll(m[1], "``", "`")); i >= 0 {
					t.Columns[i].JSON = true
				}
			}
		}
		rows.Close()
	}
	// The key: the primary key, else every NOT NULL unique key (the copy pages
	// by one of them, replication matches rows by the first).
	rows, err = db.QueryContext(ctx, `SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE FROM information_schema.STATISTICS s
JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX`, schema, table)
	if err != nil {
		return Table{}, fmt.Errorf("etl: keys of %s: %w", t, err)
	}
	keys := map[string][]string{}
	nullable := map[string]bool{}
	var order []string
	for rows.Next() {
		var idx, name, null string
		if err := rows.Scan(&idx, &name, &null); err != nil {
			rows.Close()
			return Table{}, fmt.Errorf("etl: keys of %s: %w", t, err)
		}
		if _, ok := keys[idx]; !ok {
			order = append(order, idx)
		}
		keys[idx] = append(keys[idx], name)
		nullable[idx] = nullable[idx] || null == "YES"
	}
	rows.Close()
	for _, idx := range order {
		if nullable[idx] {
			continue
		}
		for _, name := range keys[idx] {
			if i := index(name); i >= 0 {
				t.Columns[i].Key = true
			}
		}
		if idx == "PRIMARY" {
			break
		}
	}
	return t, nil
}

var jsonValid = regexp.MustCompile("^json_valid\\(`((?:[^`]|``)+)`\\)$")
