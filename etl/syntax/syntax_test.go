package syntax

import (
	"strings"
	"testing"
)

func TestCheckSyntax(t *testing.T) {
	cases := []struct {
		expr       string
		line, col  int
		msgContain string // empty: the expression must parse
	}{
		{expr: `row.status != "deleted"`},
		{expr: `row.email.lowerAscii()`},
		{expr: `has(row.note) ? row.note : ""`},
		{expr: `row.items.exists(i, i > 2)`},
		{expr: `row["naïve col"] == 1`},
		{expr: `row.x !=`, line: 1, col: 9, msgContain: "mismatched input '<EOF>'"},
		{expr: `1 +* 2`, line: 1, col: 4, msgContain: "extraneous input '*'"},
		{expr: `row.a == 'x`, line: 1, col: 10, msgContain: "token recognition error"},
		{expr: "row.a\n  + ", line: 2, col: 5, msgContain: "mismatched input"},
		{expr: `if`, line: 1, col: 1, msgContain: "reserved identifier: if"},
		{expr: "   ", line: 1, col: 1, msgContain: "empty"},
		{expr: "", line: 1, col: 1, msgContain: "empty"},
		{expr: strings.Repeat("1+", MaxExpressionLength) + "1", line: 1, col: 1, msgContain: "size"},
	}
	for _, c := range cases {
		err := CheckSyntax(c.expr)
		name := c.expr
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		if c.msgContain == "" {
			if err != nil {
				t.Errorf("%q: unexpected error %v", name, err)
			}
			continue
		}
		se, ok := AsSyntaxError(err)
		if !ok {
			t.Errorf("%q: want *SyntaxError, got %T %v", name, err, err)
			continue
		}
		if se.Line != c.line || se.Column != c.col {
			t.Errorf("%q: position %d:%d, want %d:%d (%v)", name, se.Line, se.Column, c.line, c.col, se)
		}
		if !strings.Contains(se.Error(), c.msgContain) {
			t.Errorf("%q: message %q does not contain %q", name, se.Error(), c.msgContain)
		}
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	e := &SyntaxError{Line: 2, Column: 5, Msg: "boom", More: 1}
	if got, want := e.Error(), "line 2, column 5: boom (and 1 more)"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	e = &SyntaxError{Line: 1, Column: 3, Msg: "boom"}
	if got, want := e.Error(), "column 3: boom"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}
