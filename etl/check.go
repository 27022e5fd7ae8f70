package etl

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"

	"github.com/sluice-dev/sluice/suggest"
)

// ExprError is a problem with one expression, placed in it: Line and Column are
// 1-based, in characters of the expression.
type ExprError struct {
	// Where is the entry's key: "filter" or "transform.<column>".
	Where  string
	Expr   string
	Line   int
	Column int
	Msg    string
	// Hint is a "did you mean" or how to fix it ("" when none).
	Hint string
}

func (e *ExprError) Error() string {
	s := fmt.Sprintf("%s: %s", e.Where, e.Msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Snippet is the expression's line and a caret under the column.
func (e *ExprError) Snippet() string {
	lines := strings.Split(e.Expr, "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return ""
	}
	l := lines[e.Line-1]
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, string([]rune(l)[:min(max(e.Column-1, 0), len([]rune(l)))]))
	return l + "\n" + pad + "^"
}

// CheckErrors are every problem of a table entry's expressions.
type CheckErrors []*ExprError

func (c CheckErrors) Error() string {
	parts := make([]string, len(c))
	for i, e := range c {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

var (
	undefinedField = regexp.MustCompile(`undefined field '([^']*)'`)
	undeclaredRef  = regexp.MustCompile(`undeclared reference to '([^']*)'`)
	noOverload     = regexp.MustCompile(`found no matching overload for '([^']*)' applied to '(.*)'`)
)

// issueError turns cel-go's first issue into an ExprError with a hint.
func issueError(expr string, iss *cel.Issues, env *cel.Env) *ExprError {
	errs := iss.Errors()
	first := errs[0]
	e := &ExprError{Expr: expr, Line: first.Location.Line(), Column: first.Location.Column() + 1, Msg: first.Message}
	if e.Line < 1 {
		e.Line, e.Column = 1, 1
	}
	if len(errs) > 1 {
		e.Msg += fmt.Sprintf(" (and %d more)", len(errs)-1)
	}
	// Point at the name itself: cel-go places a field error at the '.' and a
	// call error at the '('.
	if lines := strings.Split(expr, "\n"); e.Line <= len(lines) {
		l := []rune(lines[e.Line-1])
		i := e.Column - 1
		switch {
		case i >= 0 && i < len(l) && l[i] == '.' && undefinedField.MatchString(first.Message):
			e.Column++
		case i >= 0 && i < len(l) && l[i] == '(':
			for i > 0 && (unicode.IsLetter(l[i-1]) || unicode.IsDigit(l[i-1]) || l[i-1] == '_') {
				i--
			}
			e.Column = i + 1
		}
	}
	switch {
	case undefinedField.MatchString(first.Message):
		name := undefinedField.FindStringSubmatch(first.Message)[1]
		var cols []string
		if fields, ok := env.CELTypeProvider().FindStructFieldNames(rowTypeName); ok {
			cols = fields
		}
		e.Hint = didYouMean(name, cols)
		if e.Hint == "" && len(cols) > 0 {
			e.Hint = "the table's columns are " + strings.Join(cols, ", ")
		}
	case undeclaredRef.MatchString(first.Message):
		name := undeclaredRef.FindStringSubmatch(first.Message)[1]
		known := []string{"row", "old", "raw", "op", "db", "table"}
		for f := range env.Functions() {
			if !strings.HasPrefix(f, "_") && !strings.Contains(f, "@") {
				known = append(known, f)
			}
		}
		e.Hint = didYouMean(name, known)
	case noOverload.MatchString(first.Message):
		m := noOverload.FindStringSubmatch(first.Message)
		if strings.Contains(m[2], "optional_type(") {
			e.Hint = "a NULL-able column is an optional value: give a default with row.col.orValue(x) or coalesce(row.col, x), or test row.col.hasValue()"
		} else if strings.Contains(m[2], "decimal") && strings.Contains(m[2], "double") {
			e.Hint = "decimals are exact and do not mix with doubles: write decimal(\"1.5\") or convert with double(x)"
		} else if strings.Contains(m[2], "decimal") && (m[1] == "_==_" || m[1] == "_!=_" || m[1] == "@in") {
			e.Hint = "compare a decimal with a decimal: write decimal(\"20\") (or decimal(20))"
		} else if strings.Contains(m[2], "uint") && strings.Contains(m[2], "int") {
			e.Hint = "BIGINT UNSIGNED columns are uint: write the number with a u suffix (7u), or convert with int(…) / uint(…)"
		}
	}
	return e
}

func didYouMean(name string, known []string) string {
	if c := suggest.Closest(name, known); c != "" && c != name {
		return fmt.Sprintf("did you mean %q?", c)
	}
	return ""
}

// typeName is how messages name a CEL type.
func typeName(t *cel.Type) string {
	if t == nil {
		return "nothing"
	}
	return t.String()
}

// assignable: can a transform yielding t be stored in the column (checked
// again, with the value, when it is stored)?
func assignable(ci *colInfo, t *cel.Type) bool {
	switch {
	case t.Kind() == types.DynKind || t.Kind() == types.AnyKind:
		return true
	case t.Kind() == types.NullTypeKind:
		return ci.Nullable
	case t.Kind() == types.OpaqueKind && t.TypeName() == "optional_type":
		return ci.Nullable && len(t.Parameters()) == 1 && assignableBase(ci, t.Parameters()[0])
	}
	return assignableBase(ci, t)
}

func assignableBase(ci *colInfo, t *cel.Type) bool {
	if t.Kind() == types.DynKind {
		return true
	}
	if ci.celType.IsExactType(t) {
		return true
	}
	isInt := t.IsExactType(cel.IntType) || t.IsExactType(cel.UintType)
	switch ci.kind {
	case kInt, kUint, kBit:
		return isInt
	case kDecimal:
		return isInt
	case kJSON:
		return true
	case kSet:
		return t.Kind() == types.ListKind
	case kBytes:
		return t.IsExactType(cel.StringType)
	}
	return false
}

// conversionHint says how to make a value fit a column.
func conversionHint(ci *colInfo, t *cel.Type) string {
	if (t.Kind() == types.OpaqueKind && t.TypeName() == "optional_type") || t.Kind() == types.NullTypeKind {
		if !ci.Nullable {
			return "the column is NOT NULL: give a default, e.g. row.x.orValue(…)"
		}
	}
	switch ci.kind {
	case kDecimal:
		return "convert with decimal(…)"
	case kString:
		return "convert with string(…)"
	case kInt:
		return "convert with int(…)"
	case kUint:
		return "convert with uint(…)"
	case kDouble, kFloat:
		return "convert with double(…)"
	case kTimestamp:
		return "convert with timestamp(…)"
	case kDuration:
		return "convert with duration(…)"
	}
	return ""
}
