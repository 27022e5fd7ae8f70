package flavor

import (
	"strings"
	"testing"
)

// Versions and statements written from the vendors' documentation, except MariaDB
// 10.11 whose mysql.user.is_role was checked on the server testenv starts.
func TestAccountsQuery(t *testing.T) {
	for _, tc := range []struct {
		version, comment, want string
	}{
		{"10.11.6-MariaDB-0+deb12u1-log", "Debian 12", "is_role"},
		{"10.0.4-MariaDB", "", "'N'"},
		{"8.0.36", "MySQL Community Server - GPL", "mysql.role_edges"},
		{"5.7.44-log", "MySQL Community Server (GPL)", "'N'"},
		{"5.7.5", "MySQL Community Server (GPL)", "'N'"},
	} {
		f, err := Detect(tc.version, tc.comment)
		if err != nil {
			t.Fatal(err)
		}
		if q := f.AccountsQuery(); !strings.Contains(q, tc.want) {
			t.Errorf("%s: AccountsQuery() = %q, want it to contain %q", tc.version, q, tc.want)
		}
	}
}
