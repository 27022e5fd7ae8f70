package etl

import (
	"encoding/hex"
	"strconv"
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/sluice-dev/sluice/charset"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/sqltok"
)

// PushDown returns the part of the filter that SQL computes exactly as CEL does,
// as a condition for the source SELECT, and whether that is the whole filter.
// Only comparisons of NOT NULL integer columns with integer literals and of NOT
// NULL UTF-8 (or ASCII) text columns with string literals (compared as bytes, as
// CEL compares strings: no collation, no padding), combined with &&, || and !,
// and `in` lists of such literals translate. With a partial translation the
// filter still runs in Go on the rows SQL returns (the pushed conjuncts only
// drop rows the filter would drop).
func (p *Program) PushDown() (where string, complete bool) {
	if p.filterAST == nil {
		return "", true
	}
	e := p.filterAST.NativeRep().Expr()
	var conj []celast.Expr
	var split func(e celast.Expr)
	split = func(e celast.Expr) {
		if e.Kind() == celast.CallKind && e.AsCall().FunctionName() == operators.LogicalAnd {
			for _, a := range e.AsCall().Args() {
				split(a)
			}
			return
		}
		conj = append(conj, e)
	}
	split(e)
	var parts []string
	complete = true
	for _, c := range conj {
		if s, ok := p.sql(c); ok {
			parts = append(parts, s)
		} else {
			complete = false
		}
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, " AND "), complete
}

// sql translates one expression; ok=false when it has no exact SQL form.
func (p *Program) sql(e celast.Expr) (string, bool) {
	switch e.Kind() {
	case celast.LiteralKind:
		if b, ok := e.AsLiteral().(types.Bool); ok {
			if b {
				return "TRUE", true
			}
			return "FALSE", true
		}
		return "", false
	case celast.CallKind:
	default:
		return "", false
	}
	call := e.AsCall()
	args := call.Args()
	switch fn := call.FunctionName(); fn {
	case operators.LogicalAnd, operators.LogicalOr:
		var parts []string
		for _, a := range args {
			s, ok := p.sql(a)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		op := " AND "
		if fn == operators.LogicalOr {
			op = " OR "
		}
		return "(" + strings.Join(parts, op) + ")", true
	case operators.LogicalNot:
		s, ok := p.sql(args[0])
		if !ok {
			return "", false
		}
		return "(NOT " + s + ")", true
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		op := map[string]string{operators.Equals: "=", operators.NotEquals: "<>", operators.Less: "<", operators.LessEquals: "<=",
			operators.Greater: ">", operators.GreaterEquals: ">="}[fn]
		if ci, ok := p.pushColumn(args[0]); ok {
			if lit, ok := p.literal(ci, args[1]); ok {
				return "(" + p.colSQL(ci) + " " + op + " " + lit + ")", true
			}
		}
		if ci, ok := p.pushColumn(args[1]); ok {
			if lit, ok := p.literal(ci, args[0]); ok {
				return "(" + lit + " " + op + " " + p.colSQL(ci) + ")", true
			}
		}
	case operators.In:
		ci, ok := p.pushColumn(args[0])
		if !ok || args[1].Kind() != celast.ListKind {
			return "", false
		}
		elems := args[1].AsList().Elements()
		if len(elems) == 0 {
			return "FALSE", true
		}
		var lits []string
		for _, el := range elems {
			lit, ok := p.literal(ci, el)
			if !ok {
				return "", false
			}
			lits = append(lits, lit)
		}
		return "(" + p.colSQL(ci) + " IN (" + strings.Join(lits, ", ") + "))", true
	}
	return "", false
}

// pushColumn recognises row.<col> of a column SQL compares like CEL.
func (p *Program) pushColumn(e celast.Expr) (*colInfo, bool) {
	if e.Kind() != celast.SelectKind {
		return nil, false
	}
	sel := e.AsSelect()
	if sel.IsTestOnly() || sel.Operand().Kind() != celast.IdentKind || sel.Operand().AsIdent() != "row" {
		return nil, false
	}
	i := p.column(sel.FieldName())
	if i < 0 {
		return nil, false
	}
	ci := &p.cols[i]
	if ci.Nullable {
		return nil, false
	}
	switch ci.kind {
	case kInt, kUint:
		return ci, true
	case kString:
		// Text columns and ENUMs only: INET4/INET6/UUID read as text but store
		// another form, which CAST(… AS BINARY) returns.
		if ci.Kind != rowcodec.KindBytes {
			return nil, false
		}
		if charset.IsUTF8(ci.codec) || charset.IsASCII(ci.codec) {
			return ci, true
		}
	}
	return nil, false
}

func (p *Program) colSQL(ci *colInfo) string {
	if ci.kind == kString {
		// Bytes, as CEL compares strings (no collation, no PAD SPACE).
		return "CAST(" + sqltok.Quote(ci.Name) + " AS BINARY)"
	}
	return sqltok.Quote(ci.Name)
}

func (p *Program) literal(ci *colInfo, e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	switch v := e.AsLiteral().(type) {
	case types.Int:
		if ci.kind == kInt || ci.kind == kUint {
			return strconv.FormatInt(int64(v), 10), true
		}
	case types.Uint:
		if ci.kind == kInt || ci.kind == kUint {
			return strconv.FormatUint(uint64(v), 10), true
		}
	case types.String:
		if ci.kind != kString {
			return "", false
		}
		if charset.IsASCII(ci.codec) {
			for _, r := range string(v) {
				if r >= 0x80 {
					return "", false
				}
			}
		}
		if len(v) == 0 {
			return "''", true
		}
		return "X'" + hex.EncodeToString([]byte(v)) + "'", true
	}
	return "", false
}
