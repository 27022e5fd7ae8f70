package charset

import "testing"

func TestRoundTrips(t *testing.T) {
	for _, c := range []struct {
		name  string
		bytes []byte
		text  string
	}{
		{"latin1", []byte{'c', 'a', 'f', 0xE9, 0x80, 0x81}, "café€\u0081"},
		{"utf8mb4", []byte("café😀"), "café😀"},
		{"ascii", []byte("plain"), "plain"},
		{"cp1251", []byte{0xCF, 0xF0, 0xE8}, "При"},
	} {
		cd, ok := For(c.name)
		if !ok {
			t.Fatalf("%s: no codec", c.name)
		}
		got, err := cd.Decode(c.bytes)
		if err != nil || got != c.text {
			t.Errorf("%s: decode %q, %v; want %q", c.name, got, err, c.text)
		}
		back, err := cd.Encode(c.text)
		if err != nil || string(back) != string(c.bytes) {
			t.Errorf("%s: encode % x, %v", c.name, back, err)
		}
	}
	if _, ok := For("no-such"); ok {
		t.Error("an unknown character set has a codec")
	}
	if !IsUTF8(UTF8) || IsASCII(UTF8) {
		t.Error("IsUTF8/IsASCII")
	}
}
