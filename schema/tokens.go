package schema

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// The schema phase edits statements the server printed (SHOW CREATE, SHOW GRANTS) in
// small ways: insert OR REPLACE, rename the target of a grant, drop its IDENTIFIED
// clause. These edits work on sqltok tokens, which respect quotes and comments, never
// on a regular expression over the text, so a name or a string that looks like a
// keyword is never touched. Edits splice the original text at token offsets
// (Token.Pos, Token.End).

// code tokenizes s and keeps the tokens that mean something (no space or comments).
func code(s string) ([]sqltok.Token, error) {
	toks, err := sqltok.Tokenize(s)
	if err != nil {
		return nil, err
	}
	return sqltok.Significant(toks), nil
}

// canonical reduces a statement to its meaningful tokens (no comments, whitespace
// or quoting differences, keywords upper-cased) for comparing two statements.
// Executable comments (/*!50100 … */) are left out as a whole: they hold clauses one
// server version prints and another does not.
func canonical(s string) ([]string, error) {
	toks, err := sqltok.Tokenize(s)
	if err != nil {
		return nil, err
	}
	var out []string
	inExec := false
	for _, t := range toks {
		switch t.Kind {
		case sqltok.ExecOpen:
			inExec = true
			continue
		case sqltok.ExecClose:
			inExec = false
			continue
		}
		if inExec || t.Trivia() {
			continue
		}
		switch t.Kind {
		case sqltok.Ident:
			name, err := sqltok.Unquote(t.Text)
			if err != nil {
				return nil, err
			}
			out = append(out, sqltok.Quote(name))
		case sqltok.String:
			str, err := canonicalString(t.Text)
			if err != nil {
				return nil, err
			}
			out = append(out, str)
		case sqltok.Word, sqltok.Number:
			out = append(out, strings.ToUpper(t.Text))
		case sqltok.Variable:
			if strings.ContainsAny(t.Text, "`'\"") {
				out = append(out, t.Text)
			} else {
				out = append(out, strings.ToUpper(t.Text))
			}
		default:
			out = append(out, t.Text)
		}
	}
	return out, nil
}

// canonicalString quotes a string literal's value one way (a doubled quote, a
// backslash escape or the other quote character give the same string); an
// introducer or X/B/N prefix is kept, upper-cased.
func canonicalString(text string) (string, error) {
	q := strings.IndexAny(text, `'"`)
	if q < 0 {
		return "", fmt.Errorf("malformed string literal %q", text)
	}
	v, err := sqltok.UnquoteString(text[q:])
	if err != nil {
		return "", err
	}
	return strings.ToUpper(text[:q]) + sqltok.QuoteString(v), nil
}

// stripTableAutoIncrement removes the AUTO_INCREMENT=N table option (the next value
// moves with the data; it says nothing about the definition). The column attribute
// AUTO_INCREMENT has no value and stays.
func stripTableAutoIncrement(toks []string) []string {
	out := make([]string, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		if toks[i] == "AUTO_INCREMENT" {
			j := i + 1
			if j < len(toks) && toks[j] == "=" {
				j++
			}
			if j < len(toks) && isNumber(toks[j]) {
				i = j
				continue
			}
		}
		out = append(out, toks[i])
	}
	return out
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// difference describes where two canonical token lists first differ, with a little
// context of each, for an error message.
func difference(want, got []string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	excerpt := func(t []string) string {
		if i >= len(t) {
			return "(end)"
		}
		from := max(0, i-3)
		to := min(len(t), i+6)
		s := strings.Join(t[from:to], " ")
		if from > 0 {
			s = "… " + s
		}
		if to < len(t) {
			s += " …"
		}
		return s
	}
	return fmt.Sprintf("expected %s, found %s", excerpt(want), excerpt(got))
}
