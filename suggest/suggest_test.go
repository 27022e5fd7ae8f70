package suggest

import (
	"testing"
)

func TestClosest(t *testing.T) {
	optionKeys := []string{"conflicts", "case", "triggers", "online_ddl", "accounts", "retry", "throttle", "ignore_warnings"}
	endpointKeys := []string{"host", "port", "user", "password", "password_file", "tls"}
	cases := []struct {
		in    string
		known []string
		want  string
	}{
		{"conflict", optionKeys, "conflicts"},
		{"hots", endpointKeys, "host"},
		{"Host", endpointKeys, "host"},
		{"pasword", endpointKeys, "password"},
		{"password-file", endpointKeys, "password_file"},
		{"online-ddl", optionKeys, "online_ddl"},
		{"ignore_warning", optionKeys, "ignore_warnings"},
		{"trigers", optionKeys, "triggers"},
		{"xyz", endpointKeys, ""},
		{"speed", optionKeys, ""},
		{"", endpointKeys, ""},
		{"ful", []string{"schema", "full", "incremental"}, "full"},
		{"ghost", []string{"none", "gh-ost"}, "gh-ost"},
	}
	for _, c := range cases {
		if got := Closest(c.in, c.known); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"host", "host", 0},
		{"hots", "host", 1}, {"conflict", "conflicts", 1}, {"kitten", "sitting", 3},
		{"ca", "abc", 3}, {"naïve", "naive", 1},
	} {
		if got := EditDistance(c.a, c.b); got != c.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := EditDistance(c.b, c.a); got != c.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.d)
		}
	}
}
