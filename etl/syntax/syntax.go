// Package syntax checks the syntax of workflow files' CEL expressions without
// type information (validate time: no server). It is apart from etl so spec, and
// through it the workflow code, does not import the row codec and its driver.
package syntax

import (
	"errors"
	"fmt"
	"strings"

	"cel.dev/cel-go/common"
	"cel.dev/cel-go/parser"
)

// SyntaxError is the first problem the CEL parser found in an expression. Line and
// Column are 1-based and count characters (not bytes) of the expression itself, so a
// caller that knows where the expression sits in a file can point at it.
type SyntaxError struct {
	Line   int
	Column int
	Msg    string
	// More is how many further problems the parser reported (often consequences of
	// the first one, so only the first is spelled out).
	More int
}

func (e *SyntaxError) Error() string {
	var b strings.Builder
	if e.Line > 1 {
		fmt.Fprintf(&b, "line %d, ", e.Line)
	}
	fmt.Fprintf(&b, "column %d: %s", e.Column, e.Msg)
	if e.More > 0 {
		fmt.Fprintf(&b, " (and %d more)", e.More)
	}
	return b.String()
}

// MaxExpressionLength bounds an expression (in characters): filters and transforms
// are one-liners, and the spec travels in every workflow history event.
const MaxExpressionLength = 10_000

// The parser is stateless between Parse calls, so one instance serves all callers.
var celParser = func() *parser.Parser {
	p, err := parser.NewParser(
		parser.Macros(parser.AllMacros...),
		parser.ExpressionSizeCodePointLimit(MaxExpressionLength),
		// As the type-checking environment (etl): optional values (NULL-able
		// columns) and backtick-quoted field names (row.`my-column`).
		parser.EnableOptionalSyntax(true),
		parser.EnableIdentEscapeSyntax(true),
	)
	if err != nil {
		// Only reachable if the options above are invalid: a programming error.
		panic(fmt.Sprintf("etl: building the CEL parser: %v", err))
	}
	return p
}()

// CheckSyntax parses a filter or transform expression without type-checking it
// (that needs the live table schema and happens later). A nil result means the
// expression is well-formed CEL; otherwise the error is a *SyntaxError.
func CheckSyntax(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return &SyntaxError{Line: 1, Column: 1, Msg: "the expression is empty"}
	}
	_, issues := celParser.Parse(common.NewTextSource(expr))
	if issues == nil {
		return nil
	}
	errs := issues.GetErrors()
	if len(errs) == 0 {
		return nil
	}
	first := errs[0]
	line, col := first.Location.Line(), first.Location.Column()+1 // CEL columns are 0-based
	if line < 1 {
		// Errors without a location (e.g. the size limit) refer to the whole expression.
		line, col = 1, 1
	}
	return &SyntaxError{Line: line, Column: col, Msg: first.Message, More: len(errs) - 1}
}

// AsSyntaxError is a convenience for callers that place the error in a file.
func AsSyntaxError(err error) (*SyntaxError, bool) {
	var se *SyntaxError
	ok := errors.As(err, &se)
	return se, ok
}
