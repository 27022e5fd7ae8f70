package etl

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// DecimalType is the CEL type of DECIMAL columns: exact, never a float.
var DecimalType = types.NewOpaqueType("decimal")

// divScale is how many digits a division adds to the dividend's scale, as
// MySQL's div_precision_increment (default 4) does.
const divScale = 4

// maxDecimalDigits bounds a decimal's digits (MySQL's DECIMAL has at most 65):
// products of products could otherwise grow without end.
const maxDecimalDigits = 200

// Decimal is an exact decimal number: unscaled × 10^-scale. The scale is kept
// ("1.50" stays "1.50"), equality and comparison are numeric (1.5 == 1.50).
type Decimal struct {
	unscaled *big.Int
	scale    int32
}

var bigTen = big.NewInt(10)

// smallPow10 caches 10^0..10^63 (read-only: callers never modify the result).
var smallPow10 = func() []*big.Int {
	out := make([]*big.Int, 64)
	out[0] = big.NewInt(1)
	for i := 1; i < len(out); i++ {
		out[i] = new(big.Int).Mul(out[i-1], bigTen)
	}
	return out
}()

// pow10 is 10^n; the result must not be modified.
func pow10(n int32) *big.Int {
	if n >= 0 && int(n) < len(smallPow10) {
		return smallPow10[n]
	}
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// ParseDecimal reads "-12.340", "1e3", "+.5". The scale is the number of
// digits after the point (less the exponent, never below 0).
func ParseDecimal(s string) (Decimal, error) {
	orig := s
	s = strings.TrimSpace(s)
	exp := int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil || e > 1000 || e < -1000 {
			return Decimal{}, fmt.Errorf("%q is not a decimal number", orig)
		}
		exp, s = e, s[:i]
	}
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", orig)
	}
	var u *big.Int
	if len(digits) <= 18 {
		// The common case: no big-number parsing.
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return Decimal{}, fmt.Errorf("%q is not a decimal number", orig)
		}
		u = big.NewInt(n)
	} else {
		var ok bool
		if u, ok = new(big.Int).SetString(digits, 10); !ok {
			return Decimal{}, fmt.Errorf("%q is not a decimal number", orig)
		}
	}
	if neg {
		u.Neg(u)
	}
	scale := int64(len(frac)) - exp
	if scale < 0 {
		u.Mul(u, pow10(int32(-scale)))
		scale = 0
	}
	d := Decimal{unscaled: u, scale: int32(scale)}
	return d, d.check()
}

// DecimalFromInt is n with scale 0.
func DecimalFromInt(n int64) Decimal { return Decimal{unscaled: big.NewInt(n), scale: 0} }

// DecimalFromUint is n with scale 0.
func DecimalFromUint(n uint64) Decimal { return Decimal{unscaled: new(big.Int).SetUint64(n), scale: 0} }

// DecimalFromFloat is the shortest decimal that reads back as f.
func DecimalFromFloat(f float64) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, fmt.Errorf("%v has no decimal value", f)
	}
	return ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
}

// maxDecimalBits is about maxDecimalDigits decimal digits (log2(10) ≈ 3.33).
const maxDecimalBits = maxDecimalDigits * 10 / 3

func (d Decimal) check() error {
	if d.unscaled.BitLen() > maxDecimalBits || d.scale > maxDecimalDigits {
		return fmt.Errorf("decimal with more than %d digits", maxDecimalDigits)
	}
	return nil
}

// String is the exact text with the scale's digits after the point.
func (d Decimal) String() string {
	if d.unscaled == nil {
		return "0"
	}
	s := new(big.Int).Abs(d.unscaled).String()
	neg := d.unscaled.Sign() < 0
	if d.scale > 0 {
		if len(s) <= int(d.scale) {
			s = strings.Repeat("0", int(d.scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Scale is the number of digits after the point.
func (d Decimal) Scale() int32 { return d.scale }

// align returns both unscaled values at the larger scale.
func align(a, b Decimal) (*big.Int, *big.Int, int32) {
	switch {
	case a.scale == b.scale:
		return a.unscaled, b.unscaled, a.scale
	case a.scale > b.scale:
		return a.unscaled, new(big.Int).Mul(b.unscaled, pow10(a.scale-b.scale)), a.scale
	default:
		return new(big.Int).Mul(a.unscaled, pow10(b.scale-a.scale)), b.unscaled, b.scale
	}
}

// Cmp compares numerically: -1, 0, +1.
func (d Decimal) Cmp(o Decimal) int {
	x, y, _ := align(d, o)
	return x.Cmp(y)
}

// Plus is exact.
func (d Decimal) Plus(o Decimal) (Decimal, error) {
	x, y, s := align(d, o)
	r := Decimal{unscaled: new(big.Int).Add(x, y), scale: s}
	return r, r.check()
}

// Minus is exact.
func (d Decimal) Minus(o Decimal) (Decimal, error) {
	x, y, s := align(d, o)
	r := Decimal{unscaled: new(big.Int).Sub(x, y), scale: s}
	return r, r.check()
}

// Times is exact (the scales add, as in SQL).
func (d Decimal) Times(o Decimal) (Decimal, error) {
	r := Decimal{unscaled: new(big.Int).Mul(d.unscaled, o.unscaled), scale: d.scale + o.scale}
	return r, r.check()
}

// Quo has the dividend's scale plus divScale digits, rounded half away from
// zero (MySQL's rule).
func (d Decimal) Quo(o Decimal) (Decimal, error) {
	if o.unscaled.Sign() == 0 {
		return Decimal{}, errors.New("decimal division by zero")
	}
	scale := d.scale + divScale
	// d/o at scale: d.u*10^(scale - d.scale + o.scale) / o.u
	num := new(big.Int).Mul(d.unscaled, pow10(scale-d.scale+o.scale+1))
	q := new(big.Int).Quo(num, o.unscaled)
	r := Decimal{unscaled: roundLastDigit(q), scale: scale}
	return r, r.check()
}

// Rem is the remainder with the sign of the dividend (SQL's MOD).
func (d Decimal) Rem(o Decimal) (Decimal, error) {
	if o.unscaled.Sign() == 0 {
		return Decimal{}, errors.New("decimal modulus by zero")
	}
	x, y, s := align(d, o)
	return Decimal{unscaled: new(big.Int).Rem(x, y), scale: s}, nil
}

// Neg is -d.
func (d Decimal) Neg() Decimal {
	return Decimal{unscaled: new(big.Int).Neg(d.unscaled), scale: d.scale}
}

// roundLastDigit drops q's last digit, rounding half away from zero.
func roundLastDigit(q *big.Int) *big.Int {
	r := new(big.Int)
	quo, rem := new(big.Int).QuoRem(q, bigTen, r)
	if rem.CmpAbs(big.NewInt(5)) >= 0 {
		if q.Sign() < 0 {
			quo.Sub(quo, big.NewInt(1))
		} else {
			quo.Add(quo, big.NewInt(1))
		}
	}
	return quo
}

// Round sets the scale, rounding half away from zero (MySQL's ROUND and the
// rounding of a DECIMAL column on insert); a larger scale pads with zeros.
func (d Decimal) Round(scale int32) Decimal {
	if scale >= d.scale {
		return Decimal{unscaled: new(big.Int).Mul(d.unscaled, pow10(scale-d.scale)), scale: scale}
	}
	q := new(big.Int).Quo(d.unscaled, pow10(d.scale-scale-1))
	return Decimal{unscaled: roundLastDigit(q), scale: scale}
}

// Trunc drops the fraction (toward zero).
func (d Decimal) Trunc() *big.Int {
	return new(big.Int).Quo(d.unscaled, pow10(d.scale))
}

// IntDigits is the number of digits before the point (0 for |d| < 1).
func (d Decimal) IntDigits() int {
	t := d.Trunc()
	if t.Sign() == 0 {
		return 0
	}
	return len(new(big.Int).Abs(t).String())
}

// Float is the nearest float64.
func (d Decimal) Float() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// --- ref.Val ---

// ConvertToNative supports string, Decimal and float64.
func (d Decimal) ConvertToNative(t reflect.Type) (any, error) {
	switch t {
	case reflect.TypeFor[Decimal]():
		return d, nil
	case reflect.TypeFor[string]():
		return d.String(), nil
	case reflect.TypeFor[float64]():
		return d.Float(), nil
	}
	if t.Kind() == reflect.Interface && reflect.TypeFor[Decimal]().Implements(t) {
		return d, nil
	}
	return nil, fmt.Errorf("decimal: no conversion to %v", t)
}

// ConvertToType supports string, double, int, uint and type().
func (d Decimal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.StringType:
		return types.String(d.String())
	case types.DoubleType:
		return types.Double(d.Float())
	case types.IntType:
		i := d.Trunc()
		if !i.IsInt64() {
			return types.NewErr("decimal %s out of int range", d)
		}
		return types.Int(i.Int64())
	case types.UintType:
		i := d.Trunc()
		if !i.IsUint64() {
			return types.NewErr("decimal %s out of uint range", d)
		}
		return types.Uint(i.Uint64())
	case types.TypeType:
		return DecimalType
	}
	if t.TypeName() == DecimalType.TypeName() {
		return d
	}
	return types.NewErr("type conversion error from decimal to '%s'", t.TypeName())
}

// Equal is numeric equality with a decimal, int or uint.
func (d Decimal) Equal(other ref.Val) ref.Val {
	o, ok := d.other(other)
	if !ok {
		return types.False
	}
	return types.Bool(d.Cmp(o) == 0)
}

// decimalRuntimeType is a decimal value's runtime type: DecimalType's name, with
// the operator traits the standard operators dispatch on.
type decimalRuntimeType struct{}

func (decimalRuntimeType) HasTrait(t int) bool {
	return t&(traits.AdderType|traits.SubtractorType|traits.MultiplierType|traits.DividerType|
		traits.ModderType|traits.NegatorType|traits.ComparerType) == t
}

func (decimalRuntimeType) TypeName() string { return DecimalType.TypeName() }

// Type is the decimal runtime type (named like DecimalType).
func (d Decimal) Type() ref.Type { return decimalRuntimeType{} }

// Value is the Decimal itself.
func (d Decimal) Value() any { return d }

// --- operator traits (the standard operators dispatch to them) ---

func (d Decimal) other(o ref.Val) (Decimal, bool) {
	switch x := o.(type) {
	case Decimal:
		return x, true
	case types.Int:
		return DecimalFromInt(int64(x)), true
	case types.Uint:
		return DecimalFromUint(uint64(x)), true
	}
	return Decimal{}, false
}

func (d Decimal) arith(o ref.Val, f func(a, b Decimal) (Decimal, error)) ref.Val {
	x, ok := d.other(o)
	if !ok {
		return types.MaybeNoSuchOverloadErr(o)
	}
	r, err := f(d, x)
	if err != nil {
		return types.WrapErr(err)
	}
	return r
}

// Add implements traits.Adder.
func (d Decimal) Add(o ref.Val) ref.Val { return d.arith(o, Decimal.Plus) }

// Subtract implements traits.Subtractor.
func (d Decimal) Subtract(o ref.Val) ref.Val { return d.arith(o, Decimal.Minus) }

// Multiply implements traits.Multiplier.
func (d Decimal) Multiply(o ref.Val) ref.Val { return d.arith(o, Decimal.Times) }

// Divide implements traits.Divider.
func (d Decimal) Divide(o ref.Val) ref.Val { return d.arith(o, Decimal.Quo) }

// Modulo implements traits.Modder.
func (d Decimal) Modulo(o ref.Val) ref.Val { return d.arith(o, Decimal.Rem) }

// Negate implements traits.Negater.
func (d Decimal) Negate() ref.Val { return d.Neg() }

// Compare implements traits.Comparer.
func (d Decimal) Compare(o ref.Val) ref.Val {
	x, ok := d.other(o)
	if !ok {
		return types.MaybeNoSuchOverloadErr(o)
	}
	return types.Int(d.Cmp(x))
}
