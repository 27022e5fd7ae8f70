package sqltok

import (
	"math/rand"
	"strings"
	"testing"
)

var samples = []string{
	"CREATE TABLE `a``b` (`x` int DEFAULT 'it''s, `q`', `y` enum('a,b','c\\'d') COMMENT \"x\"\"y\")",
	"select `t`.`名前` AS `n` from `db`.`my-table` `t` where `t`.`x` <> 'x, y' -- trailing ` comment\n",
	"SELECT 1 # hash comment with 'quote\nFROM DUAL",
	"/* block `not an ident` 'nor a string' */ SELECT /*!50001 `v` */ 1 /*M!100101 , 2 */",
	"SELECT _utf8mb4'abc' COLLATE utf8mb4_bin, X'0aFF', b'101', N'x', 0x1F, 0b11, 1.5e-3, .5, t.1c, 12abc",
	"SET @a = 1, @`b c` = 2, @'d' := 3, @@global.sql_mode = '', @@session.x = @a.b",
	"CREATE DEFINER=`root`@`localhost` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = OLD.b <=> 1 && 2 || 3 ->> '$.a'",
	"SELECT '\\\\' , '\\'' , \"\\\"\", 'a''b'",
	"--not a comment\nSELECT 1--1",
	"",
	"   \n\t",
}

func TestRoundTripSamples(t *testing.T) {
	for _, s := range samples {
		toks, err := Tokenize(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if got := Join(toks); got != s {
			t.Errorf("Join(Tokenize(%q)) = %q", s, got)
		}
		pos := 0
		for _, tk := range toks {
			if tk.Pos != pos || tk.Text == "" {
				t.Errorf("%q: token %+v at %d", s, tk, pos)
			}
			pos += len(tk.Text)
		}
	}
}

// kinds returns "Kind:text" for the non-space tokens of s.
func kinds(t *testing.T, s string) []string {
	t.Helper()
	toks, err := Tokenize(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	var out []string
	for _, tk := range toks {
		if tk.Kind != Space {
			out = append(out, tk.Kind.String()+":"+tk.Text)
		}
	}
	return out
}

func TestKinds(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"`a``b`.`c`", "Ident:`a``b` Op:. Ident:`c`"},
		{"'x''y' \"z\"", "String:'x''y' String:\"z\""},
		{"_utf8mb4'a' X'0F' b'1' _latin1\"q\"", "String:_utf8mb4'a' String:X'0F' String:b'1' String:_latin1\"q\""},
		{"-- c\n#d\n/* e */", "Comment:-- c Comment:#d Comment:/* e */"},
		{"1--1", "Number:1 Op:- Op:- Number:1"},
		{"a-- b", "Word:a Comment:-- b"},
		{"/*!50001 CREATE */", "ExecOpen:/*!50001 Word:CREATE ExecClose:*/"},
		{"/*M!100101 x */", "ExecOpen:/*M!100101 Word:x ExecClose:*/"},
		{"t.1c .5 1.5e3 0x1F 0xZZ 12abc", "Word:t Op:. Word:1c Number:.5 Number:1.5e3 Number:0x1F Word:0xZZ Word:12abc"},
		{"`root`@`localhost`", "Ident:`root` Variable:@`localhost`"},
		{"@@global.x @a.b @ x", "Variable:@@global Op:. Word:x Variable:@a.b Op:@ Word:x"},
		{"a<=>b:=c->>d!=e", "Word:a Op:<=> Word:b Op::= Word:c Op:->> Word:d Op:!= Word:e"},
		{"名前.列", "Word:名前 Op:. Word:列"},
		{"'a\\'b' 'c'", "String:'a\\'b' String:'c'"},
	}
	for _, c := range cases {
		if got := strings.Join(kinds(t, c.in), " "); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, s := range []string{"'abc", "`abc", "/* abc", "\"abc\\\"", "select /*!50001 x", "@`x"} {
		if _, err := Tokenize(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

func TestQuoteUnquote(t *testing.T) {
	for _, id := range []string{"a", "a`b", "``", "名前", "with space", "x`"} {
		q := Quote(id)
		toks, err := Tokenize(q)
		if err != nil || len(toks) != 1 || toks[0].Kind != Ident {
			t.Errorf("Quote(%q) = %q does not tokenize as one identifier: %v %v", id, q, toks, err)
		}
		back, err := Unquote(q)
		if err != nil || back != id {
			t.Errorf("Unquote(Quote(%q)) = %q, %v", id, back, err)
		}
	}
	if _, err := Unquote("`a`b`"); err == nil {
		t.Error("Unquote accepted a lone backtick inside")
	}
	for _, v := range []string{"", "it's", `back\slash`, "nl\nx", "\x00"} {
		q := QuoteString(v)
		back, err := UnquoteString(q)
		if err != nil || back != v {
			t.Errorf("UnquoteString(QuoteString(%q)) = %q, %v", v, back, err)
		}
	}
	if got, _ := UnquoteString(`"a""b\tc"`); got != "a\"b\tc" {
		t.Errorf("UnquoteString = %q", got)
	}
}

// TestRandomRoundTrip glues random fragments (quotes, comments, escapes,
// multi-byte text, unbalanced pieces) and checks Join(Tokenize(s)) == s whenever
// tokenizing succeeds, and that it fails only with an unterminated construct.
func TestRandomRoundTrip(t *testing.T) {
	frags := []string{"`", "``", "'", "''", "\"", "\\", "\\'", "--", "-- ", "#", "/*", "*/", "/*!", "/*M!", "50001",
		"\n", " ", "\t", "a", "SELECT", "名", "@", "@@", ".", ",", "(", ")", "0x", "1", "e", "+", "-", "<", "=", ">", "!", ":", "_utf8mb4", "X", ";"}
	r := rand.New(rand.NewSource(1))
	ok := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := r.Intn(30); j >= 0; j-- {
			b.WriteString(frags[r.Intn(len(frags))])
		}
		s := b.String()
		toks, err := Tokenize(s)
		if err != nil {
			if _, isErr := err.(*Error); !isErr {
				t.Fatalf("%q: unexpected error type %T", s, err)
			}
			continue
		}
		ok++
		if got := Join(toks); got != s {
			t.Fatalf("Join(Tokenize(%q)) = %q", s, got)
		}
	}
	if ok < 2000 {
		t.Fatalf("only %d random inputs tokenized", ok)
	}
}

func FuzzTokenize(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := Tokenize(s)
		if err != nil {
			return
		}
		if got := Join(toks); got != s {
			t.Fatalf("Join(Tokenize(%q)) = %q", s, got)
		}
	})
}

func TestSignificantEnd(t *testing.T) {
	s := "GRANT /* c */ SELECT /*!50001 `v` */ ON `d`.* TO 'u'@'h' -- x\n"
	toks, err := Tokenize(s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range Significant(toks) {
		if s[tk.Pos:tk.End()] != tk.Text {
			t.Errorf("%+v: End %d does not delimit the text", tk, tk.End())
		}
		got = append(got, tk.Text)
	}
	want := "GRANT SELECT `v` ON `d` . * TO 'u' @'h'"
	if strings.Join(got, " ") != want {
		t.Errorf("Significant = %q, want %q", strings.Join(got, " "), want)
	}
}
