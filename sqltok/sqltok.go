// Package sqltok splits MySQL/MariaDB SQL text into tokens that keep their exact
// source text, so a rewrite can change the tokens it means to and reproduce every
// other byte (spacing, comments, case) unchanged: Join(Tokenize(s)) == s.
//
// It knows the lexical rules that matter for finding names safely: backquoted
// identifiers (with “ escapes), single- and double-quoted strings (backslash escapes
// and doubled quotes), charset introducers and hex/bit literals, numbers, comments
// (`-- `, `#`, `/* */`) and executable comments (`/*!50001 ... */`, `/*M!100101 ... */`),
// whose content is tokenized like ordinary SQL because the server executes it.
// Double quotes are strings, as in the default sql_mode (not ANSI_QUOTES).
package sqltok

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind classifies a token.
type Kind int

const (
	Space     Kind = iota // whitespace
	Comment               // -- ..., # ..., /* ... */ (not executable)
	Word                  // unquoted keyword or identifier
	Ident                 // backquoted identifier, `...`
	String                // '...' or "...", with an adjacent introducer or X/B/N prefix
	Number                // 12, 1.5, .5e3, 0x1F, 0b101
	Op                    // operator or punctuation: ( ) , ; . = <=> := -> ...
	Variable              // @name, @`quoted`, @'quoted', @@name, @@global.name is Variable Op Word
	ExecOpen              // the opening of an executable comment: /*!50001 or /*M!100101 (with the digits)
	ExecClose             // the */ closing an executable comment
)

var kindNames = [...]string{"Space", "Comment", "Word", "Ident", "String", "Number", "Op", "Variable", "ExecOpen", "ExecClose"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Token is one lexical unit. Text is the exact source text; Pos its byte offset.
type Token struct {
	Kind Kind
	Text string
	Pos  int
}

// Trivia reports whether the token carries no meaning (space or plain comment).
// Executable comment markers are trivia too: their content is ordinary tokens.
func (t Token) Trivia() bool {
	return t.Kind == Space || t.Kind == Comment || t.Kind == ExecOpen || t.Kind == ExecClose
}

// End is the byte offset just past the token: s[t.Pos:t.End()] == t.Text.
func (t Token) End() int { return t.Pos + len(t.Text) }

// Is reports whether t is the unquoted word w (compared without case).
func (t Token) Is(w string) bool {
	return t.Kind == Word && strings.EqualFold(t.Text, w)
}

// IsOp reports whether t is the operator or punctuation op.
func (t Token) IsOp(op string) bool {
	return t.Kind == Op && t.Text == op
}

// Name returns the identifier a Word or Ident token names (unquoted), and ok=false
// for other kinds.
func (t Token) Name() (string, bool) {
	switch t.Kind {
	case Word:
		return t.Text, true
	case Ident:
		s, err := Unquote(t.Text)
		return s, err == nil
	}
	return "", false
}

// Error is a lexical error (an unterminated string, identifier or comment).
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("sqltok: %s at offset %d", e.Msg, e.Pos) }

// Tokenize splits s into tokens. It fails only on unterminated quotes and comments.
func Tokenize(s string) ([]Token, error) {
	l := lexer{s: s}
	for l.pos < len(s) {
		if err := l.next(); err != nil {
			return l.toks, err
		}
	}
	if l.inExec {
		return l.toks, &Error{Pos: l.execPos, Msg: "unterminated executable comment"}
	}
	return l.toks, nil
}

// Significant returns the tokens that are not trivia, in order (a new slice).
func Significant(toks []Token) []Token {
	out := make([]Token, 0, len(toks))
	for _, t := range toks {
		if !t.Trivia() {
			out = append(out, t)
		}
	}
	return out
}

// Join concatenates the tokens' texts: Join(Tokenize(s)) == s.
func Join(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}

// Quote quotes an identifier with backticks, doubling backticks inside.
func Quote(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
}

// Unquote returns the name a backquoted identifier text stands for; an unquoted
// word is returned as is.
func Unquote(text string) (string, error) {
	if !strings.HasPrefix(text, "`") {
		return text, nil
	}
	if len(text) < 2 || !strings.HasSuffix(text, "`") {
		return "", fmt.Errorf("sqltok: malformed quoted identifier %q", text)
	}
	inner := text[1 : len(text)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '`' {
			if i+1 >= len(inner) || inner[i+1] != '`' {
				return "", fmt.Errorf("sqltok: malformed quoted identifier %q", text)
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), nil
}

// UnquoteString returns the value of a string literal token text ('...' or "...",
// without introducer): backslash escapes as in the default sql_mode, doubled quotes.
func UnquoteString(text string) (string, error) {
	if len(text) < 2 || (text[0] != '\'' && text[0] != '"') || text[len(text)-1] != text[0] {
		return "", fmt.Errorf("sqltok: malformed string literal %q", text)
	}
	q := text[0]
	inner := text[1 : len(text)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		switch {
		case c == '\\' && i+1 < len(inner):
			i++
			switch e := inner[i]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(0x1a)
			case '%', '_':
				// Kept with the backslash: LIKE patterns need it.
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
		case c == q && i+1 < len(inner) && inner[i+1] == q:
			b.WriteByte(q)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// QuoteString quotes s as a single-quoted string literal.
func QuoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`, "\x00", `\0`, "\n", `\n`, "\r", `\r`, "\x1a", `\Z`)
	return "'" + r.Replace(s) + "'"
}

type lexer struct {
	s       string
	pos     int
	toks    []Token
	inExec  bool
	execPos int
}

func (l *lexer) emit(k Kind, end int) {
	l.toks = append(l.toks, Token{Kind: k, Text: l.s[l.pos:end], Pos: l.pos})
	l.pos = end
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isWordByte: letters, digits, _ and $, and every byte of a multi-byte UTF-8
// character (MySQL allows non-ASCII identifiers unquoted).
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (l *lexer) at(i int) byte {
	if i < len(l.s) {
		return l.s[i]
	}
	return 0
}

var ops3 = []string{"<=>", "->>"}
var ops2 = []string{"<=", ">=", "<>", "!=", ":=", "||", "&&", "<<", ">>", "->"}

func (l *lexer) next() error {
	s, p := l.s, l.pos
	c := s[p]
	switch {
	case isSpace(c):
		e := p
		for e < len(s) && isSpace(s[e]) {
			e++
		}
		l.emit(Space, e)
		return nil
	case c == '*' && l.inExec && l.at(p+1) == '/':
		l.inExec = false
		l.emit(ExecClose, p+2)
		return nil
	case c == '#' || (c == '-' && l.at(p+1) == '-' && (p+2 >= len(s) || isSpace(s[p+2]) || s[p+2] < 0x20)):
		e := strings.IndexByte(s[p:], '\n')
		if e < 0 {
			e = len(s)
		} else {
			e += p // the newline stays a Space token
		}
		l.emit(Comment, e)
		return nil
	case c == '/' && l.at(p+1) == '*':
		return l.blockComment()
	case c == '`':
		e, ok := scanQuoted(s, p, '`', false)
		if !ok {
			return &Error{Pos: p, Msg: "unterminated quoted identifier"}
		}
		l.emit(Ident, e)
		return nil
	case c == '\'' || c == '"':
		e, ok := scanQuoted(s, p, c, true)
		if !ok {
			return &Error{Pos: p, Msg: "unterminated string"}
		}
		l.emit(String, e)
		return nil
	case c == '@':
		return l.variable()
	case isDigit(c) || (c == '.' && isDigit(l.at(p+1)) && !l.qualifierDot()):
		l.number()
		return nil
	case isWordByte(c):
		l.word()
		return nil
	}
	for _, op := range ops3 {
		if strings.HasPrefix(s[p:], op) {
			l.emit(Op, p+3)
			return nil
		}
	}
	for _, op := range ops2 {
		if strings.HasPrefix(s[p:], op) {
			l.emit(Op, p+2)
			return nil
		}
	}
	// One character (a whole UTF-8 sequence never reaches here: >= 0x80 is a word byte).
	_, n := utf8.DecodeRuneInString(s[p:])
	l.emit(Op, p+n)
	return nil
}

// qualifierDot: a '.' right after a name is a qualifier (t.1c), not a number (.5).
func (l *lexer) qualifierDot() bool {
	if len(l.toks) == 0 {
		return false
	}
	k := l.toks[len(l.toks)-1].Kind
	return k == Word || k == Ident
}

// scanQuoted returns the end offset of the quoted text starting at p.
func scanQuoted(s string, p int, q byte, backslash bool) (int, bool) {
	for i := p + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if backslash {
				i++
			}
		case q:
			if i+1 < len(s) && s[i+1] == q {
				i++
				continue
			}
			return i + 1, true
		}
	}
	return 0, false
}

func (l *lexer) blockComment() error {
	s, p := l.s, l.pos
	// Executable comments: /*!NNNNN and /*M!NNNNN run as SQL on the server.
	var prefix int
	switch {
	case strings.HasPrefix(s[p:], "/*!"):
		prefix = 3
	case strings.HasPrefix(s[p:], "/*M!"):
		prefix = 4
	}
	if prefix > 0 && !l.inExec {
		e := p + prefix
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		if strings.Contains(s[e:], "*/") {
			l.inExec, l.execPos = true, p
			l.emit(ExecOpen, e)
			return nil
		}
	}
	end := strings.Index(s[p+2:], "*/")
	if end < 0 {
		return &Error{Pos: p, Msg: "unterminated comment"}
	}
	l.emit(Comment, p+2+end+2)
	return nil
}

func (l *lexer) variable() error {
	s, p := l.s, l.pos
	e := p + 1
	sys := l.at(e) == '@'
	if sys {
		e++
	}
	if c := l.at(e); c == '`' || c == '\'' || c == '"' {
		end, ok := scanQuoted(s, e, c, c != '`')
		if !ok {
			return &Error{Pos: p, Msg: "unterminated quoted variable name"}
		}
		l.emit(Variable, end)
		return nil
	}
	// User variables may contain '.'; for @@global.x the scope stays separate
	// (Variable "@@global", Op ".", Word "x").
	for e < len(s) && (isWordByte(s[e]) || (s[e] == '.' && !sys && isWordByte(l.at(e+1)))) {
		e++
	}
	if e == p+1 || (sys && e == p+2) {
		l.emit(Op, p+1) // a lone @
		return nil
	}
	l.emit(Variable, e)
	return nil
}

func (l *lexer) number() {
	s, p := l.s, l.pos
	e := p
	if s[p] == '0' && (l.at(p+1) == 'x' || l.at(p+1) == 'b') {
		e = p + 2
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		l.emitNumberOrWord(e)
		return
	}
	for e < len(s) && isDigit(s[e]) {
		e++
	}
	if l.at(e) == '.' {
		e++
		for e < len(s) && isDigit(s[e]) {
			e++
		}
	}
	if c := l.at(e); (c == 'e' || c == 'E') && (isDigit(l.at(e+1)) || ((l.at(e+1) == '+' || l.at(e+1) == '-') && isDigit(l.at(e+2)))) {
		e += 2
		for e < len(s) && isDigit(s[e]) {
			e++
		}
	}
	// MySQL identifiers may start with digits (1abc): a digit run glued to word bytes is a word.
	if e < len(s) && isWordByte(s[e]) && !strings.Contains(s[p:e], ".") {
		for e < len(s) && isWordByte(s[e]) {
			e++
		}
		l.emit(Word, e)
		return
	}
	l.emit(Number, e)
}

func (l *lexer) emitNumberOrWord(e int) {
	txt := l.s[l.pos:e]
	hex, bin := txt[1] == 'x', txt[1] == 'b'
	ok := len(txt) > 2
	for _, c := range []byte(txt[2:]) {
		if hex && !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) || bin && c != '0' && c != '1' {
			ok = false
		}
	}
	if ok {
		l.emit(Number, e)
	} else {
		l.emit(Word, e)
	}
}

func (l *lexer) word() {
	s, p := l.s, l.pos
	e := p
	for e < len(s) && isWordByte(s[e]) {
		e++
	}
	w := s[p:e]
	// X'..', B'..', N'..' and _charset'..' glued to their quote are one string token.
	if c := l.at(e); c == '\'' || (c == '"' && strings.HasPrefix(w, "_")) {
		lw := strings.ToLower(w)
		if lw == "x" || lw == "b" || lw == "n" || (strings.HasPrefix(w, "_") && len(w) > 1) {
			if end, ok := scanQuoted(s, e, c, lw != "x" && lw != "b"); ok {
				l.emit(String, end)
				return
			}
		}
	}
	l.emit(Word, e)
}
