package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var seq atomic.Int64

// uniq makes a database or user name unique within the test binary and across
// concurrent binaries, keeping the nasty part (`-`, backticks, unicode) given.
func uniq(base string) string {
	return fmt.Sprintf("pc%d_%d_%s", os.Getpid()%100000, seq.Add(1), base)
}

func q(name string) string { return testenv.QuoteIdent(name) }

// harness is one test's view of the servers: the secrets the lookup returns and the
// spec endpoints pointing at them.
type harness struct {
	t       *testing.T
	env     *testenv.Env
	secrets map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, env: testenv.Shared(t), secrets: map[string]string{}}
}

func (h *harness) lookup(name string) (string, bool) {
	v, ok := h.secrets[name]
	return v, ok
}

// endpoint connects as root to srv through a ${NAME} reference.
func (h *harness) endpoint(srv *testenv.Server, ref string) spec.Endpoint {
	h.secrets[ref] = srv.RootPassword
	return spec.Endpoint{Host: srv.Host, Port: srv.Port, User: srv.RootUser, Password: "${" + ref + "}"}
}

// spec is a migration of the given source databases (all tables) with every type.
func (h *harness) spec(objects ...spec.Object) spec.Spec {
	return spec.Spec{
		Name:        "precheck-test",
		Source:      h.endpoint(h.env.Source, "SRC_PW"),
		Destination: h.endpoint(h.env.Destination, "DST_PW"),
		Types:       []spec.MigrationType{spec.TypeSchema, spec.TypeFull, spec.TypeIncremental},
		Objects:     objects,
	}
}

func (h *harness) exec(srv *testenv.Server, sqls ...string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Exec(ctx, sqls...); err != nil {
		h.t.Fatal(err)
	}
}

// database creates a database on srv with the given statements run inside it, and
// drops it when the test ends.
func (h *harness) database(srv *testenv.Server, name string, stmts ...string) {
	h.t.Helper()
	h.exec(srv, "CREATE DATABASE "+q(name)+" CHARACTER SET utf8mb4")
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Exec(ctx, "DROP DATABASE IF EXISTS "+q(name)); err != nil {
			h.t.Errorf("cleanup: %v", err)
		}
	})
	for _, s := range stmts {
		h.exec(srv, "USE "+q(name)+"; "+s)
	}
}

// user creates an account with a random password (returned through the lookup under
// ref) and the given GRANT statements (with %s for the account), dropped at the end.
func (h *harness) user(srv *testenv.Server, ref string, grants ...string) spec.Endpoint {
	h.t.Helper()
	name := uniq("u")
	pw := fmt.Sprintf("Pw-%d-%s", time.Now().UnixNano(), ref)
	acct := testenv.QuoteString(name) + "@'%'"
	h.exec(srv, "CREATE USER "+acct+" IDENTIFIED BY "+testenv.QuoteString(pw))
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Exec(ctx, "DROP USER IF EXISTS "+acct); err != nil {
			h.t.Errorf("cleanup: %v", err)
		}
	})
	for _, g := range grants {
		h.exec(srv, fmt.Sprintf(g, acct))
	}
	h.secrets[ref] = pw
	return spec.Endpoint{Host: srv.Host, Port: srv.Port, User: name, Password: "${" + ref + "}"}
}

// setGlobal changes a global variable for the test and restores it afterwards.
// Tests using it must not run in parallel with each other (none here is parallel).
func (h *harness) setGlobal(srv *testenv.Server, name, value string) {
	h.t.Helper()
	db, err := srv.Open("")
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var old string
	if err := db.QueryRow("SELECT @@GLOBAL." + name).Scan(&old); err != nil {
		h.t.Fatal(err)
	}
	h.exec(srv, fmt.Sprintf("SET GLOBAL %s = %s", name, value))
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		val := old
		if _, err := strconv.ParseFloat(old, 64); err != nil {
			val = testenv.QuoteString(old)
		}
		if err := srv.Exec(ctx, fmt.Sprintf("SET GLOBAL %s = %s", name, val)); err != nil {
			h.t.Errorf("restore %s: %v", name, err)
		}
	})
}

func (h *harness) run(s spec.Spec) precheck.Report {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var steps []string
	r := Precheck(ctx, s, dbconn.LookupFunc(h.lookup), func(st string) { steps = append(steps, st) })
	if len(steps) == 0 || steps[len(steps)-1] != "evaluate" {
		h.t.Errorf("progress steps %q do not end with evaluate", steps)
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	for ref, pw := range h.secrets {
		if pw != "" && strings.Contains(string(b), pw) {
			h.t.Fatalf("the report contains the password of %s", ref)
		}
	}
	h.t.Logf("report:\n%s", b)
	return r
}

func find(r precheck.Report, id string) (precheck.Item, bool) {
	for _, it := range r.Items {
		if it.ID == id {
			return it, true
		}
	}
	return precheck.Item{}, false
}

// expect checks an item's status and that its message (and remedy) say what is wrong.
func expect(t *testing.T, r precheck.Report, id string, status precheck.Status, msgParts []string, remedyParts ...string) precheck.Item {
	t.Helper()
	it, ok := find(r, id)
	if !ok {
		t.Fatalf("item %s missing from the report", id)
	}
	if it.Status != status {
		t.Errorf("%s: status %s, want %s (message %q)", id, it.Status, status, it.Message)
	}
	for _, p := range msgParts {
		if !strings.Contains(it.Message, p) {
			t.Errorf("%s: message %q lacks %q", id, it.Message, p)
		}
	}
	for _, p := range remedyParts {
		if !strings.Contains(it.Remedy, p) {
			t.Errorf("%s: remedy %q lacks %q", id, it.Remedy, p)
		}
	}
	return it
}

func absent(t *testing.T, r precheck.Report, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, ok := find(r, id); ok {
			t.Errorf("item %s should not be in the report", id)
		}
	}
}

// startServer starts an extra server for one test, stopped when the test ends (after
// the cleanups registered later, such as dropping databases on it).
func (h *harness) startServer(opts testenv.ServerOptions) *testenv.Server {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := testenv.StartServer(ctx, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			h.t.Errorf("stop %s: %v", srv.Name, err)
		}
	})
	return srv
}

// pkTable is a well-behaved table.
const pkTable = "CREATE TABLE %s (id BIGINT PRIMARY KEY, name VARCHAR(50)) ENGINE=InnoDB"

func tbl(format, name string) string { return fmt.Sprintf(format, q(name)) }
