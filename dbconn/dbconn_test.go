package dbconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func env(kv ...string) LookupFunc {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ep      spec.Endpoint
		want    string
		wantErr string
	}{
		{spec.Endpoint{Password: "${SRC}"}, "s3cret", ""},
		{spec.Endpoint{}, "", ""},
		{spec.Endpoint{PasswordFile: f}, "from-file", ""},
		{spec.Endpoint{User: "dts", Host: "db1", Port: 3306, Password: "${MISSING}"}, "", "environment variable MISSING (password of dts@db1:3306) is not set on the worker"},
		{spec.Endpoint{PasswordFile: filepath.Join(dir, "nope")}, "", "read password_file"},
		{spec.Endpoint{Password: "literal-secret"}, "", "must be a ${NAME} reference"},
	}
	for _, c := range cases {
		got, err := Password(c.ep, env("SRC", "s3cret"))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%+v: error %v, want %q", c.ep, err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "literal-secret") {
				t.Errorf("error repeats the literal password: %v", err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %q %v, want %q", c.ep, got, err, c.want)
		}
	}
}

func TestTLSModes(t *testing.T) {
	for mode, check := range map[string]func(*mysql.Config) bool{
		"disabled":  func(c *mysql.Config) bool { return c.TLS == nil },
		"":          func(c *mysql.Config) bool { return c.TLS != nil && c.AllowFallbackToPlaintext },
		"preferred": func(c *mysql.Config) bool { return c.TLS != nil && c.AllowFallbackToPlaintext },
		"required": func(c *mysql.Config) bool {
			return c.TLS != nil && c.TLS.InsecureSkipVerify && !c.AllowFallbackToPlaintext
		},
		"verify-identity": func(c *mysql.Config) bool {
			return c.TLS != nil && !c.TLS.InsecureSkipVerify && c.TLS.ServerName == "db.example"
		},
	} {
		cfg, err := Config(spec.Endpoint{Host: "db.example", TLS: spec.TLS{Mode: mode}}, "")
		if err != nil || !check(cfg) {
			t.Errorf("mode %q: unexpected config (err %v)", mode, err)
		}
	}
	if _, err := Config(spec.Endpoint{TLS: spec.TLS{Mode: "verify-ca"}}, ""); err == nil || !strings.Contains(err.Error(), "needs tls.ca") {
		t.Errorf("verify-ca without ca: %v", err)
	}
	if _, err := Config(spec.Endpoint{TLS: spec.TLS{Mode: "sometimes"}}, ""); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestRedactAndClassify(t *testing.T) {
	err := Redact(errors.New("dial user:hunter2@tcp"), "hunter2")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "******") {
		t.Fatalf("not redacted: %v", err)
	}
	if !IsConnectionError(&mysql.MySQLError{Number: 2013}) || IsConnectionError(&mysql.MySQLError{Number: 1146}) {
		t.Fatal("misclassified MySQL errors")
	}
	if !IsConnectionError(&ConnectError{Err: errors.New("connection refused")}) || IsConnectionError(&ConnectError{Err: &mysql.MySQLError{Number: 1045}}) {
		t.Fatal("misclassified connect errors: a wrong password is not worth retrying for hours")
	}
}

// Against the real TLS source of testenv: the CA verifies; a wrong CA or a wrong
// host name is refused with a certificate error and a remedy.
func TestOpenVerifiesTLSOnRealServer(t *testing.T) {
	e := testenv.Shared(t)
	if e.Source.CAFile == "" {
		t.Fatal("testenv source has no CA file")
	}
	lookup := env("PW", e.Source.RootPassword)
	ep := spec.Endpoint{Host: e.Source.Host, Port: e.Source.Port, User: e.Source.RootUser, Password: "${PW}",
		TLS: spec.TLS{Mode: "verify-identity", CA: e.Source.CAFile}}
	ctx := context.Background()
	db, err := Open(ctx, "source", ep, lookup)
	if err != nil {
		t.Fatalf("verify-identity with the right CA: %v", err)
	}
	var name, cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err != nil || cipher == "" {
		t.Fatalf("connection is not encrypted: %q %v", cipher, err)
	}
	db.Close()

	ep.TLS.ServerName = "not-the-server.example"
	_, err = Open(ctx, "source", ep, lookup)
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(ce.Remedy(), "tls.ca") {
		t.Fatalf("wrong server name: %v", err)
	}
	// verify-ca ignores the name but checks the chain.
	ep.TLS.Mode = "verify-ca"
	if db, err := Open(ctx, "source", ep, lookup); err != nil {
		t.Fatalf("verify-ca with the right CA: %v", err)
	} else {
		db.Close()
	}

	// Wrong password: the error says access denied, never the password.
	bad := ep
	bad.Password = "${BAD}"
	_, err = Open(ctx, "source", bad, env("BAD", "Zz-not-it-981"))
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Access denied") || strings.Contains(err.Error(), "Zz-not-it-981") {
		t.Fatalf("wrong password: %v", err)
	}
	if !strings.Contains(ce.Remedy(), "password") {
		t.Fatalf("remedy: %s", ce.Remedy())
	}
}
