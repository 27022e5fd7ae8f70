// Package charset turns the bytes of a MySQL/MariaDB character column into
// UTF-8 text and back: what CEL expressions see (etl) and how verification
// compares a column whose character set differs between the servers (verify).
// MySQL's latin1 is cp1252 with the five undefined bytes as C1 controls, so
// every byte round-trips.
package charset

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Codec turns a column's stored bytes into text and back.
type Codec interface {
	Decode([]byte) (string, error)
	Encode(string) ([]byte, error)
}

// UTF8 is the codec of utf8mb4 (and of text the server sends as UTF-8).
var UTF8 Codec = utf8Codec{}

// For returns the codec of a MySQL character set; ok=false: unknown.
func For(charset string) (Codec, bool) {
	switch strings.ToLower(charset) {
	case "utf8mb4", "utf8mb3", "utf8":
		return utf8Codec{}, true
	case "ascii":
		return asciiCodec{}, true
	case "latin1":
		return latin1Codec{}, true
	}
	if e, ok := xEncodings[strings.ToLower(charset)]; ok {
		return xCodec{e}, true
	}
	return nil, false
}

var xEncodings = map[string]encoding.Encoding{
	"sjis": japanese.ShiftJIS, "cp932": japanese.ShiftJIS, "ujis": japanese.EUCJP, "eucjpms": japanese.EUCJP,
	"gbk": simplifiedchinese.GBK, "gb2312": simplifiedchinese.GBK, "gb18030": simplifiedchinese.GB18030,
	"big5": traditionalchinese.Big5, "euckr": korean.EUCKR,
	"utf16": unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "ucs2": unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"utf16le": unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf32": utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM),
	"latin2": charmap.ISO8859_2, "latin5": charmap.ISO8859_9, "latin7": charmap.ISO8859_13,
	"greek": charmap.ISO8859_7, "hebrew": charmap.ISO8859_8,
	"cp1250": charmap.Windows1250, "cp1251": charmap.Windows1251, "cp1256": charmap.Windows1256, "cp1257": charmap.Windows1257,
	"koi8r": charmap.KOI8R, "koi8u": charmap.KOI8U, "cp866": charmap.CodePage866, "cp850": charmap.CodePage850,
	"macroman": charmap.Macintosh,
}

type utf8Codec struct{}

func (utf8Codec) Decode(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", fmt.Errorf("invalid utf8 bytes %q", b)
	}
	return string(b), nil
}
func (utf8Codec) Encode(s string) ([]byte, error) { return []byte(s), nil }

type asciiCodec struct{}

func (asciiCodec) Decode(b []byte) (string, error) { return string(b), nil }
func (asciiCodec) Encode(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, fmt.Errorf("%q has no ascii encoding", r)
		}
	}
	return []byte(s), nil
}

// latin1Codec is MySQL's latin1: cp1252, whose five undefined bytes map to the
// C1 control characters of the same value (so every byte round-trips).
type latin1Codec struct{}

var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func (latin1Codec) Decode(b []byte) (string, error) {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		switch {
		case c < 0x80 || c >= 0xA0:
			sb.WriteRune(rune(c))
		default:
			sb.WriteRune(cp1252High[c-0x80])
		}
	}
	return sb.String(), nil
}

func (latin1Codec) Encode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xA0 && r <= 0xFF):
			out = append(out, byte(r))
		default:
			i := -1
			for j, x := range cp1252High {
				if x == r {
					i = j
				}
			}
			if i < 0 {
				return nil, fmt.Errorf("%q has no latin1 encoding", r)
			}
			out = append(out, byte(0x80+i))
		}
	}
	return out, nil
}

type xCodec struct{ e encoding.Encoding }

func (c xCodec) Decode(b []byte) (string, error) {
	s, err := c.e.NewDecoder().Bytes(b)
	return string(s), err
}

func (c xCodec) Encode(s string) ([]byte, error) { return c.e.NewEncoder().Bytes([]byte(s)) }

// IsUTF8 reports the codec of utf8mb4/utf8mb3: its bytes are the text's.
func IsUTF8(c Codec) bool { _, ok := c.(utf8Codec); return ok }

// IsASCII reports the codec of ascii: its bytes are the text's, below 0x80.
func IsASCII(c Codec) bool { _, ok := c.(asciiCodec); return ok }
