package binlog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-dev/sluice/rowcodec"
)

// Binary form (HEX(CAST(x AS INET6))) and text (CAST(... AS CHAR)) recorded from
// MariaDB 10.11.
var inet6Recorded = [][2]string{
	{"00000000000000000000000000000000", "::"},
	{"00000000000000000000000000000001", "::1"},
	{"00000000000000000000000001020304", "::1.2.3.4"},
	{"00000000000000000000FFFF01020304", "::ffff:1.2.3.4"},
	{"FFFF0000000000000000FFFF01020304", "ffff::ffff:102:304"},
	{"00010000000000000000000000000000", "1::"},
	{"00000001000000000000000000000000", "0:1::"},
	{"00010000000000020000000000000003", "1:0:0:2::3"},
	{"00010000000000020000000000030004", "1::2:0:0:3:4"},
	{"00010002000300040005000600070008", "1:2:3:4:5:6:7:8"},
	{"00010000000200000003000000040000", "1::2:0:3:0:4:0"},
	{"00000000000000000000FFFF00000000", "::ffff:0.0.0.0"},
	{"00000000000000000001000000000000", "::1:0:0:0"},
	{"00000000000000000000FFFF00000001", "::ffff:0.0.0.1"},
	{"00000000000000000001FFFF01020304", "::1:ffff:102:304"},
	{"00010002000300040005000600070000", "1:2:3:4:5:6:7::"},
	{"00000000000000000000000000000100", "::100"},
	{"00000000000000000000000000010000", "::0.1.0.0"},
}

func TestInet6Text(t *testing.T) {
	for _, c := range inet6Recorded {
		b, err := hex.DecodeString(c[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := string(inet6Text(b)); got != c[1] {
			t.Errorf("%s: %q, want %q", c[0], got, c[1])
		}
	}
}

func TestFixedText(t *testing.T) {
	u, _ := hex.DecodeString("123e4567e89b12d3a456426614174000")
	if got, err := fixedText("uuid", u); err != nil || string(got) != "123e4567-e89b-12d3-a456-426614174000" {
		t.Fatalf("uuid %q %v", got, err)
	}
	if got, err := fixedText("inet4", []byte{1, 2, 3, 0}); err != nil || string(got) != "1.2.3.0" {
		t.Fatalf("inet4 %q %v", got, err)
	}
	for _, dt := range []string{"uuid", "inet6", "inet4"} {
		if _, err := fixedText(dt, []byte{1, 2}); err == nil {
			t.Fatalf("%s of 2 bytes accepted", dt)
		}
	}
}

func TestTimeText(t *testing.T) {
	cases := []struct {
		in   string
		dec  int
		want string
	}{
		{"838:59:59", 6, "838:59:59.000000"},
		{"00:00:00", 2, "00:00:00.00"},
		{"-00:00:00.5", 1, "-00:00:00.5"},
		{"12:00:00", 0, "12:00:00"},
		{"-12:34:56.7800", 4, "-12:34:56.7800"},
	}
	for _, c := range cases {
		if got := string(timeText(c.in, c.dec)); got != c.want {
			t.Errorf("timeText(%q, %d) = %q, want %q", c.in, c.dec, got, c.want)
		}
	}
}

func TestConvert(t *testing.T) {
	enum := colPlan{typ: mysql.MYSQL_TYPE_ENUM, values: [][]byte{[]byte("a"), []byte("\xe9")}}
	set := colPlan{typ: mysql.MYSQL_TYPE_SET, values: [][]byte{[]byte("x"), []byte("y"), []byte("z")}}
	bit9 := colPlan{typ: mysql.MYSQL_TYPE_BIT, length: 2}
	bit64 := colPlan{typ: mysql.MYSQL_TYPE_BIT, length: 8}
	bin := colPlan{typ: mysql.MYSQL_TYPE_STRING, length: 4, padZero: true, col: rowcodec.Column{Kind: rowcodec.KindBytes}}
	char := colPlan{typ: mysql.MYSQL_TYPE_STRING, length: 4, col: rowcodec.Column{Kind: rowcodec.KindBytes}}
	long := colPlan{typ: mysql.MYSQL_TYPE_LONGLONG}
	year := colPlan{typ: mysql.MYSQL_TYPE_YEAR}
	cases := []struct {
		cp   colPlan
		in   any
		want any
	}{
		{enum, int64(0), []byte{}},
		{enum, int64(2), []byte("\xe9")},
		{set, int64(0), []byte{}},
		{set, int64(5), []byte("x,z")},
		{bit9, int64(0x101), []byte{1, 1}},
		{bit64, int64(math.MinInt64 + 1), []byte{0x80, 0, 0, 0, 0, 0, 0, 1}},
		{bin, "ab", []byte("ab\x00\x00")},
		{bin, "", []byte("\x00\x00\x00\x00")},
		{char, "ab", []byte("ab")},
		{long, uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{long, uint64(5), int64(5)},
		{long, int64(-5), int64(-5)},
		{colPlan{typ: mysql.MYSQL_TYPE_INT24}, uint32(16777215), int64(16777215)},
		{colPlan{typ: mysql.MYSQL_TYPE_TINY}, int8(-128), int64(-128)},
		{year, 0, int64(0)},
		{year, 2155, int64(2155)},
		{colPlan{typ: mysql.MYSQL_TYPE_NEWDECIMAL}, "-0.50", []byte("-0.50")},
		{colPlan{typ: mysql.MYSQL_TYPE_FLOAT}, float32(1.5), float32(1.5)},
		{colPlan{typ: mysql.MYSQL_TYPE_BLOB}, nil, nil},
	}
	for i, c := range cases {
		got, err := c.cp.convert(c.in)
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if !sameValue(c.want, got) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", c.want) {
			t.Errorf("case %d: convert(%#v) = %s, want %s", i, c.in, show(got), show(c.want))
		}
	}
	bad := []struct {
		cp colPlan
		in any
	}{
		{enum, int64(3)},        // beyond the members
		{set, int64(8)},         // a bit beyond the members
		{long, "12"},            // not what go-mysql yields for the type
		{year, int64(2000)},     // go-mysql yields int
		{bin, []byte("ab")},     // CHAR comes as string
		{colPlan{typ: 0xf0}, 1}, // unknown type
	}
	for i, c := range bad {
		if v, err := c.cp.convert(c.in); err == nil {
			t.Errorf("bad case %d: accepted as %s", i, show(v))
		}
	}
	// The images own their bytes: go-mysql's values point into the event.
	buf := []byte("shared")
	blob := colPlan{typ: mysql.MYSQL_TYPE_BLOB}
	got, _ := blob.convert(buf)
	buf[0] = 'X'
	if string(got.([]byte)) != "shared" {
		t.Fatal("blob value aliases the event buffer")
	}
}

func TestStringLength(t *testing.T) {
	// BINARY(16) and CHAR(10) latin1 as recorded from the server; 400 and 800
	// bytes (CHAR(100), CHAR(200) utf8mb4) packed as the server does: the bits
	// above 255, XORed into the type byte's 0x30.
	for _, c := range []struct {
		meta uint16
		want int
	}{{0xee90, 400}, {0xfe10, 16}, {0xfe0a, 10}, {0xce20, 800}, {8, 8}} {
		if got := stringLength(c.meta); got != c.want {
			t.Errorf("stringLength(%#x) = %d, want %d", c.meta, got, c.want)
		}
	}
}

func TestCountMembers(t *testing.T) {
	for _, c := range []struct {
		ct   string
		want int
	}{
		{"enum('a','b,c','it''s','x\"y\\\\z')", 4},
		{"set('x','y''q','z')", 3},
		{"enum('')", 1},
	} {
		if n, err := countMembers(c.ct); err != nil || n != c.want {
			t.Errorf("countMembers(%s) = %d %v, want %d", c.ct, n, err, c.want)
		}
	}
	if _, err := countMembers("int(11)x"); err == nil {
		t.Error("no member list accepted")
	}
}

func TestRetryable(t *testing.T) {
	yes := []error{
		fmt.Errorf("io.ReadFull(header) failed: %w", mysql.ErrBadConn),
		fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}),
		io.EOF,
		&mysql.MyError{Code: 1927, Message: "Connection was killed"},
		&mysql.MyError{Code: 1053, Message: "Server shutdown in progress"},
	}
	no := []error{
		&mysql.MyError{Code: 1236, Message: "Could not find first log file name in binary log index file"},
		&mysql.MyError{Code: 1045, Message: "Access denied"},
		errors.New("panic: index out of range"),
		&MismatchError{Schema: "a", Table: "b", Detail: "x"},
	}
	for _, e := range yes {
		if !retryable(e) {
			t.Errorf("%v: not retried", e)
		}
	}
	for _, e := range no {
		if retryable(e) {
			t.Errorf("%v: retried", e)
		}
	}
}

func TestCheckSettings(t *testing.T) {
	good := map[string]string{"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL", "binlog_row_metadata": "FULL"}
	if err := checkSettings(good); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"log_bin": "OFF", "binlog_format": "MIXED", "binlog_row_image": "MINIMAL",
		"binlog_row_metadata": "MINIMAL", "binlog_row_value_options": "PARTIAL_JSON"} {
		bad := map[string]string{}
		for k2, v2 := range good {
			bad[k2] = v2
		}
		bad[k] = v
		if err := checkSettings(bad); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	delete(good, "binlog_row_metadata") // servers before MySQL 8.0.1 / MariaDB 10.5
	if err := checkSettings(good); err == nil {
		t.Error("a server without binlog_row_metadata accepted")
	}
}

func TestServerIDFor(t *testing.T) {
	seen := map[uint32]string{}
	for i := range 1000 {
		name := fmt.Sprintf("migration-%d", i)
		id := ServerIDFor(name)
		if id < 1<<30 || id >= 1<<31 {
			t.Fatalf("%s: %d out of range", name, id)
		}
		if other, ok := seen[id]; ok {
			t.Fatalf("%s and %s share id %d", name, other, id)
		}
		seen[id] = name
	}
	first, again := ServerIDFor("a"), ServerIDFor(string([]byte{'a'}))
	if first != again {
		t.Fatal("not deterministic")
	}
}
