package etl

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// libraryOptions is the language of filters and transforms: CEL's standard
// library, pinned versions of the ext libraries, optional values, and sluice's
// own functions (README.md lists them).
func libraryOptions() []cel.EnvOption {
	dec := DecimalType
	opts := []cel.EnvOption{
		cel.OptionalTypes(cel.OptionalTypesVersion(2)),
		cel.EnableIdentifierEscapeSyntax(),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(ext.StringsVersion(4)),
		ext.Math(ext.MathVersion(2)),
		ext.Encoders(ext.EncodersVersion(1)),
		ext.Regex(),
		ext.Lists(ext.ListsVersion(3)),
		ext.Sets(),

		// Hashing and masking.
		cel.Function("sha256",
			cel.Overload("sha256_string", []*cel.Type{cel.StringType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				h := sha256.Sum256([]byte(v.(types.String)))
				return types.String(hex.EncodeToString(h[:]))
			})),
			cel.Overload("sha256_bytes", []*cel.Type{cel.BytesType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				h := sha256.Sum256([]byte(v.(types.Bytes)))
				return types.String(hex.EncodeToString(h[:]))
			}))),
		cel.Function("md5",
			cel.Overload("md5_string", []*cel.Type{cel.StringType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				h := md5.Sum([]byte(v.(types.String)))
				return types.String(hex.EncodeToString(h[:]))
			})),
			cel.Overload("md5_bytes", []*cel.Type{cel.BytesType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				h := md5.Sum([]byte(v.(types.Bytes)))
				return types.String(hex.EncodeToString(h[:]))
			}))),
		cel.Function("mask",
			cel.Overload("mask_string_int_int", []*cel.Type{cel.StringType, cel.IntType, cel.IntType}, cel.StringType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					return mask(string(args[0].(types.String)), int64(args[1].(types.Int)), int64(args[2].(types.Int)))
				}))),

		// Time.
		cel.Function("now",
			cel.Overload("now", nil, cel.TimestampType, cel.FunctionBinding(func(...ref.Val) ref.Val {
				return types.Timestamp{Time: time.Now().UTC()}
			}))),
		cel.Function("dateFormat",
			cel.Overload("dateFormat_timestamp_string", []*cel.Type{cel.TimestampType, cel.StringType}, cel.StringType,
				cel.BinaryBinding(func(t, f ref.Val) ref.Val {
					return dateFormat(t.(types.Timestamp).Time.UTC(), string(f.(types.String)))
				}))),

		// NULL handling: the first value present.
		cel.Function("coalesce",
			cel.Overload("coalesce_optional_value", []*cel.Type{cel.OptionalType(cel.TypeParamType("T")), cel.TypeParamType("T")}, cel.TypeParamType("T"),
				cel.BinaryBinding(func(a, b ref.Val) ref.Val {
					if o := a.(*types.Optional); o.HasValue() {
						return o.GetValue()
					}
					return b
				})),
			cel.Overload("coalesce_optional_optional_value", []*cel.Type{cel.OptionalType(cel.TypeParamType("T")), cel.OptionalType(cel.TypeParamType("T")), cel.TypeParamType("T")}, cel.TypeParamType("T"),
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					for _, a := range args[:2] {
						if o := a.(*types.Optional); o.HasValue() {
							return o.GetValue()
						}
					}
					return args[2]
				}))),

		// JSON.
		cel.Function("json",
			cel.Overload("json_string", []*cel.Type{cel.StringType}, cel.DynType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				out, err := parseJSON([]byte(v.(types.String)))
				if err != nil {
					return types.WrapErr(err)
				}
				return out
			}))),
		cel.Function("jsonText",
			cel.Overload("jsonText_dyn", []*cel.Type{cel.DynType}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val {
				b, err := jsonText(v)
				if err != nil {
					return types.WrapErr(err)
				}
				return types.String(b)
			}))),
		cel.Function("jsonPath",
			cel.Overload("jsonPath_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, cel.OptionalType(cel.DynType),
				cel.BinaryBinding(func(v, p ref.Val) ref.Val { return jsonPath(v, string(p.(types.String))) }))),

		// Decimals: exact arithmetic and comparison, conversions.
		cel.Function("decimal",
			cel.Overload("decimal_string", []*cel.Type{cel.StringType}, dec, cel.UnaryBinding(func(v ref.Val) ref.Val {
				d, err := decimalLiterals.parse(string(v.(types.String)))
				if err != nil {
					return types.WrapErr(err)
				}
				return d
			})),
			cel.Overload("decimal_int", []*cel.Type{cel.IntType}, dec, cel.UnaryBinding(func(v ref.Val) ref.Val { return DecimalFromInt(int64(v.(types.Int))) })),
			cel.Overload("decimal_uint", []*cel.Type{cel.UintType}, dec, cel.UnaryBinding(func(v ref.Val) ref.Val { return DecimalFromUint(uint64(v.(types.Uint))) })),
			cel.Overload("decimal_double", []*cel.Type{cel.DoubleType}, dec, cel.UnaryBinding(func(v ref.Val) ref.Val {
				d, err := DecimalFromFloat(float64(v.(types.Double)))
				if err != nil {
					return types.WrapErr(err)
				}
				return d
			})),
			cel.Overload("decimal_decimal", []*cel.Type{dec}, dec, cel.UnaryBinding(func(v ref.Val) ref.Val { return v }))),
		cel.Function("round",
			cel.Overload("round_decimal_int", []*cel.Type{dec, cel.IntType}, dec, cel.BinaryBinding(func(v, s ref.Val) ref.Val {
				n := int64(s.(types.Int))
				if n < 0 || n > 30 {
					return types.NewErr("round: scale %d is not within 0-30", n)
				}
				return v.(Decimal).Round(int32(n))
			}))),
		cel.Function(overloads.TypeConvertString,
			cel.Overload("string_decimal", []*cel.Type{dec}, cel.StringType, cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(v.(Decimal).String()) }))),
		cel.Function(overloads.TypeConvertDouble,
			cel.Overload("double_decimal", []*cel.Type{dec}, cel.DoubleType, cel.UnaryBinding(func(v ref.Val) ref.Val { return types.Double(v.(Decimal).Float()) }))),
		cel.Function(overloads.TypeConvertInt,
			cel.Overload("int_decimal", []*cel.Type{dec}, cel.IntType, cel.UnaryBinding(func(v ref.Val) ref.Val { return v.(Decimal).ConvertToType(types.IntType) }))),
		cel.Function(overloads.TypeConvertUint,
			cel.Overload("uint_decimal", []*cel.Type{dec}, cel.UintType, cel.UnaryBinding(func(v ref.Val) ref.Val { return v.(Decimal).ConvertToType(types.UintType) }))),
		cel.Function(operators.Negate, cel.Overload("negate_decimal", []*cel.Type{dec}, dec)),
	}
	// Arithmetic and comparison: decimal with decimal, int or uint (exact), the
	// decimal first (Decimal implements the operator traits); never with double
	// (that would make the exact inexact). Declarations only: the standard
	// operators dispatch to the traits.
	for _, name := range []string{operators.Add, operators.Subtract, operators.Multiply, operators.Divide, operators.Modulo} {
		var ovs []cel.FunctionOpt
		for _, pair := range decimalPairs() {
			ovs = append(ovs, cel.Overload(strings.Trim(name, "_")+"_"+pair.id, []*cel.Type{pair.a, pair.b}, dec))
		}
		opts = append(opts, cel.Function(name, ovs...))
	}
	for _, name := range []string{operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals} {
		var ovs []cel.FunctionOpt
		for _, pair := range decimalPairs() {
			ovs = append(ovs, cel.Overload("cmp"+name+"_"+pair.id, []*cel.Type{pair.a, pair.b}, cel.BoolType))
		}
		opts = append(opts, cel.Function(name, ovs...))
	}
	return opts
}

type decPair struct {
	id   string
	a, b *cel.Type
}

func decimalPairs() []decPair {
	d := DecimalType
	return []decPair{{"decimal_decimal", d, d}, {"decimal_int", d, cel.IntType}, {"decimal_uint", d, cel.UintType}}
}

func toDecimal(v ref.Val) Decimal {
	switch x := v.(type) {
	case Decimal:
		return x
	case types.Int:
		return DecimalFromInt(int64(x))
	case types.Uint:
		return DecimalFromUint(uint64(x))
	}
	return DecimalFromInt(0)
}

// mask keeps the first and last characters and replaces the others with '*';
// a string too short to keep both is masked whole.
func mask(s string, first, last int64) ref.Val {
	if first < 0 || last < 0 {
		return types.NewErr("mask: negative counts %d, %d", first, last)
	}
	n := int64(utf8.RuneCountInString(s))
	if n <= first+last {
		return types.String(strings.Repeat("*", int(n)))
	}
	r := []rune(s)
	for i := first; i < n-last; i++ {
		r[i] = '*'
	}
	return types.String(string(r))
}

// dateFormat formats like MySQL's DATE_FORMAT (the specifiers users of a MySQL
// migration know): %Y %y %m %c %d %e %H %k %h %l %i %s %S %f %p %M %b %W %a %j %T %r %%.
func dateFormat(t time.Time, f string) ref.Val {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'c':
			b.WriteString(strconv.Itoa(int(t.Month())))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'k':
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'h', 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'l':
			b.WriteString(strconv.Itoa((t.Hour()+11)%12 + 1))
		case 'i':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 's', 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			b.WriteString(t.Month().String())
		case 'b':
			b.WriteString(t.Month().String()[:3])
		case 'W':
			b.WriteString(t.Weekday().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'r':
			b.WriteString(t.Format("03:04:05 PM"))
		case '%':
			b.WriteByte('%')
		default:
			return types.NewErr("dateFormat: unknown specifier %%%c", f[i])
		}
	}
	return types.String(b.String())
}

// jsonText renders a value as JSON text.
func jsonText(v ref.Val) (string, error) {
	nat, err := celToJSON(v)
	if err != nil {
		return "", err
	}
	b, err := marshalJSON(nat)
	return string(b), err
}

// jsonPath reads "$.a.b[0]" (MySQL's path syntax, without wildcards) from a
// JSON value (or JSON text); none when the path does not exist.
func jsonPath(v ref.Val, path string) ref.Val {
	if s, ok := v.(types.String); ok {
		parsed, err := parseJSON([]byte(s))
		if err != nil {
			return types.WrapErr(err)
		}
		v = parsed
	}
	if !strings.HasPrefix(path, "$") {
		return types.NewErr("jsonPath: %q must start with $", path)
	}
	rest := path[1:]
	cur := v
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			var key string
			if strings.HasPrefix(rest, `"`) {
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					return types.NewErr("jsonPath: unterminated key in %q", path)
				}
				key, rest = rest[1:end+1], rest[end+2:]
			} else {
				end := strings.IndexAny(rest, ".[")
				if end < 0 {
					end = len(rest)
				}
				key, rest = rest[:end], rest[end:]
			}
			m, ok := cur.(traits.Mapper)
			if !ok {
				return types.OptionalNone
			}
			val, found := m.Find(types.String(key))
			if !found {
				return types.OptionalNone
			}
			cur = val
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return types.NewErr("jsonPath: unterminated index in %q", path)
			}
			idx, err := strconv.Atoi(strings.TrimSpace(rest[1:end]))
			if err != nil || idx < 0 {
				return types.NewErr("jsonPath: bad index in %q", path)
			}
			rest = rest[end+1:]
			l, ok := cur.(traits.Lister)
			if !ok || int64(l.Size().(types.Int)) <= int64(idx) {
				return types.OptionalNone
			}
			cur = l.Get(types.Int(idx))
		default:
			return types.NewErr("jsonPath: unexpected %q in %q", rest[:1], path)
		}
	}
	return types.OptionalOf(cur)
}

// decimalLiterals remembers parsed decimal("…") arguments: an expression's
// constants are parsed once, not once per row (decimals are immutable).
var decimalLiterals = &decimalCache{m: map[string]Decimal{}}

type decimalCache struct {
	mu sync.RWMutex
	m  map[string]Decimal
}

const decimalCacheSize = 4096

func (c *decimalCache) parse(s string) (Decimal, error) {
	c.mu.RLock()
	d, ok := c.m[s]
	c.mu.RUnlock()
	if ok {
		return d, nil
	}
	d, err := ParseDecimal(s)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	if len(c.m) < decimalCacheSize {
		c.m[s] = d
	}
	c.mu.Unlock()
	return d, nil
}
