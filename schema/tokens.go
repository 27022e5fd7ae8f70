package schema

import (
	"fmt"
	"strings"
)

// The schema phase edits statements the server printed (SHOW CREATE, SHOW GRANTS) in
// small ways: insert IF NOT EXISTS or OR REPLACE, drop a DEFINER clause, strip an
// AUTO_INCREMENT table option, rename the target of a grant. These edits work on
// tokens that respect quotes and comments, never on a regular expression over the
// text, so a name or a string that looks like a keyword is never touched.

type tokKind int

const (
	tokWord    tokKind = iota // keyword, unquoted identifier or number
	tokIdent                  // `quoted identifier`
	tokString                 // 'string' or "string"
	tokPunct                  // one character of punctuation
	tokComment                // -- …, # …, /* … */ (including /*! … */)
)

type token struct {
	kind       tokKind
	text       string // unquoted value (identifiers and strings), or the raw text
	start, end int    // byte offsets in the statement
}

func (t token) is(word string) bool { return t.kind == tokWord && strings.EqualFold(t.text, word) }

// tokenize splits a statement into tokens; whitespace is skipped (offsets keep the
// original text reachable).
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case c == '#' || (c == '-' && strings.HasPrefix(s[i:], "--") && (i+2 == len(s) || isSpace(s[i+2]))):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = len(s) - i
			}
			toks = append(toks, token{tokComment, s[i : i+j], i, i + j})
			i += j
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", i)
			}
			end := i + 2 + j + 2
			toks = append(toks, token{tokComment, s[i:end], i, end})
			i = end
		case c == '`' || c == '\'' || c == '"':
			text, end, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			k := tokString
			if c == '`' {
				k = tokIdent
			}
			toks = append(toks, token{k, text, i, end})
			i = end
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], i, j})
			i = j
		default:
			toks = append(toks, token{tokPunct, string(c), i, i + 1})
			i++
		}
	}
	return toks, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// isWordByte: letters, digits, _, $ and any byte of a multi-byte UTF-8 character (an
// unquoted identifier may hold those).
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// readQuoted reads the quoted token starting at s[i]: a doubled quote stands for
// itself, and inside strings a backslash escapes the next byte.
func readQuoted(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`' && j+1 < len(s):
			b.WriteByte(s[j])
			b.WriteByte(s[j+1])
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			b.WriteByte(q)
			j++
		case s[j] == q:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, fmt.Errorf("unterminated %c quote at offset %d", q, i)
}

// code drops comments, keeping the tokens that mean something.
func code(toks []token) []token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.kind != tokComment {
			out = append(out, t)
		}
	}
	return out
}

// quoteIdent quotes an identifier with backticks, doubling backticks inside.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString quotes a string literal for statements that take no placeholders.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

// splice replaces s[start:end] with repl.
func splice(s string, start, end int, repl string) string { return s[:start] + repl + s[end:] }

// stripDefiner removes a `DEFINER = user@host` clause after CREATE (and its
// modifiers), for comparing a statement with what a server shows.
func stripDefiner(s string) (string, error) {
	toks, err := tokenize(s)
	if err != nil {
		return "", err
	}
	toks = code(toks)
	for i := 0; i < len(toks) && i < 8; i++ {
		if !toks[i].is("DEFINER") {
			continue
		}
		j := i + 1
		if j < len(toks) && toks[j].text == "=" {
			j++
		}
		// user, then optional @host (a role or CURRENT_USER has no host).
		if j < len(toks) {
			j++
		}
		if j+1 < len(toks) && toks[j].text == "@" {
			j += 2
		} else if j < len(toks) && toks[j].kind == tokWord && strings.HasPrefix(toks[j].text, "@") {
			j++
		}
		if j < len(toks) && toks[j].text == "(" && j+1 < len(toks) && toks[j+1].text == ")" {
			j += 2 // CURRENT_USER()
		}
		end := len(s)
		if j < len(toks) {
			end = toks[j].start
		}
		return splice(s, toks[i].start, end, ""), nil
	}
	return s, nil
}

// canonical reduces a statement to its meaningful tokens (no comments, whitespace
// or quoting differences, keywords upper-cased) for comparing two statements.
func canonical(s string) ([]string, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range code(toks) {
		switch t.kind {
		case tokIdent:
			out = append(out, quoteIdent(t.text))
		case tokString:
			out = append(out, "'"+t.text+"'")
		case tokWord:
			out = append(out, strings.ToUpper(t.text))
		default:
			out = append(out, t.text)
		}
	}
	return out, nil
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
