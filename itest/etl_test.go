package itest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// etlLoad changes customers and events until stop closes: inserts, updates that
// move rows in and out of the filters (status, credit, kind), changes of the
// transformed columns, deletes.
func etlLoad(t *testing.T, src *sql.DB, db string, stop <-chan struct{}, n *int64) {
	r := rand.New(rand.NewPCG(9, 9))
	q := "`" + db + "`"
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		id := 1 + r.IntN(8000)
		var stmts []string
		switch r.IntN(8) {
		case 0:
			stmts = []string{fmt.Sprintf("INSERT INTO %s.customers VALUES (%d, 'New.User%d@Example.COM', '%s', %d.%02d, %s, 'n') ON DUPLICATE KEY UPDATE note = 'dup'",
				q, 10000+i, i, []string{"active", "deleted"}[r.IntN(2)], r.IntN(30), r.IntN(100), []string{"NULL", "'+3161234'", "'7'"}[r.IntN(3)])}
		case 1:
			stmts = []string{fmt.Sprintf("UPDATE %s.customers SET status = IF(status = 'active', 'deleted', 'active') WHERE id = %d", q, id)}
		case 2:
			stmts = []string{fmt.Sprintf("UPDATE %s.customers SET credit = %d.%02d WHERE id = %d", q, r.IntN(20), r.IntN(100), id)}
		case 3:
			stmts = []string{fmt.Sprintf("UPDATE %s.customers SET email = CONCAT('Changed', %d, '@x.org'), phone = IF(phone IS NULL, '12345', NULL) WHERE id = %d", q, i, id)}
		case 4:
			stmts = []string{fmt.Sprintf("DELETE FROM %s.customers WHERE id = %d", q, id)}
		case 5:
			// A transaction moving one row in and another out.
			stmts = []string{
				fmt.Sprintf("UPDATE %s.customers SET status = 'active', credit = 50 WHERE id = %d", q, id),
				fmt.Sprintf("UPDATE %s.customers SET status = 'deleted' WHERE id = %d", q, 1+r.IntN(8000)),
			}
		case 6:
			stmts = []string{fmt.Sprintf("UPDATE %s.events SET kind = %d WHERE id = %d", q, r.IntN(5), id)}
		case 7:
			stmts = []string{fmt.Sprintf("INSERT INTO %s.events VALUES (%d, %d, 'e%d')", q, 20000+i, r.IntN(5), i)}
		}
		tx, err := src.Begin()
		if err != nil {
			t.Error(err)
			return
		}
		ok := true
		for _, s := range stmts {
			if _, err := tx.Exec(s); err != nil {
				ok = false
				break
			}
		}
		if !ok {
			tx.Rollback()
			continue
		}
		if err := tx.Commit(); err != nil {
			t.Error(err)
			return
		}
		*n++
	}
}

// Issue 6: a filtered and transformed migration, schema + full + incremental with
// writes during both, rows moving in and out of the filter. The destination must
// hold exactly the rows the filter keeps, with the transformed values, both
// computed here independently (in SQL on the source).
func TestFilteredTransformedMigration(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	const srcDB, dstDB, id = "ite_src", "ite_dst", "sluice-itetl"
	src, dst := databases(t, env, []string{srcDB}, []string{dstDB}, "CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, status ENUM('active','deleted') NOT NULL,"+
			" credit DECIMAL(10,2) NOT NULL, phone VARCHAR(20) NULL, note TEXT NULL)",
		"INSERT INTO "+srcDB+".customers SELECT seq, CONCAT('User', seq, '@Example.com'), IF(seq % 3 = 0, 'deleted', 'active'),"+
			" (seq % 25) + 0.55, IF(seq % 4 = 0, NULL, CONCAT('+49', seq)), IF(seq % 5 = 0, NULL, 'x') FROM "+srcDB+".seq_1_to_8000",
		"CREATE TABLE "+srcDB+".events (id INT PRIMARY KEY, kind INT NOT NULL, payload VARCHAR(20) NOT NULL)",
		"INSERT INTO "+srcDB+".events SELECT seq, seq % 5, CONCAT('p', seq) FROM "+srcDB+".seq_1_to_12000",
	)
	file := writeFile(t, "itetl", servers(env, "itetl", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables:
      - name: customers
        filter: 'row.status == "active" && row.credit >= 10'
        transform:
          email: sha256(row.email.lowerAscii())
          phone: 'row.phone.hasValue() ? optional.of(mask(row.phone.value(), 0, 2)) : optional.none()'
          credit: row.credit * decimal("1.1")
      - name: events
        filter: row.kind != 3            # all SQL: pushed into the chunk SELECT
options:
  throttle: {full: {rps: 5000}}
`, srcDB, dstDB))

	var writes int64
	stopLoad := background(t, func(stop <-chan struct{}) { etlLoad(t, src, srcDB, stop, &writes) })
	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.sluice(t, "status", id)
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		p, ok := incrementalProgress(ctx, s, id)
		if ok && p.Txns > 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replication did not get going")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	stopLoad()
	t.Logf("the load committed %d transactions", writes)
	code, out, _ := s.sluice(t, "cutover", id, "--max-lag", "2s", "--timeout", "2m")
	if code != 0 || !strings.Contains(out, "Cut over at") {
		t.Fatalf("cutover: exit %d", code)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(wctx, id, "").Get(wctx, &res); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if res.Full == nil || res.Full.Totals.Filtered == 0 {
		t.Errorf("the full copy reports no filtered rows: %+v", res.Full)
	}

	// What the semantics define, computed by the source server from its rows.
	compare := func(what, want, got string) {
		t.Helper()
		w, g := testenv.Rows(t, src, want), testenv.Rows(t, dst, got)
		if len(w) < 100 {
			t.Errorf("%s: only %d expected rows", what, len(w))
		}
		if strings.Join(w, "\n") != strings.Join(g, "\n") {
			diff := 0
			gs := map[string]bool{}
			for _, x := range g {
				gs[x] = true
			}
			for _, x := range w {
				if !gs[x] {
					diff++
					if diff <= 5 {
						t.Errorf("%s: expected row missing or different: %s", what, x)
					}
				}
			}
			t.Errorf("%s: %d expected rows, %d on the destination, %d differ", what, len(w), len(g), diff)
		}
	}
	compare("customers",
		"SELECT id, SHA2(LOWER(email), 256), status, ROUND(credit * 1.1, 2),"+
			" IF(phone IS NULL, NULL, IF(CHAR_LENGTH(phone) <= 2, REPEAT('*', CHAR_LENGTH(phone)), CONCAT(REPEAT('*', CHAR_LENGTH(phone) - 2), RIGHT(phone, 2)))), note"+
			" FROM "+srcDB+".customers WHERE status = 'active' AND credit >= 10 ORDER BY id",
		"SELECT id, email, status, credit, phone, note FROM "+dstDB+".customers ORDER BY id")
	compare("events",
		"SELECT id, kind, payload FROM "+srcDB+".events WHERE kind <> 3 ORDER BY id",
		"SELECT id, kind, payload FROM "+dstDB+".events ORDER BY id")
}

// Issue 6: a bad expression stops the migration at the precheck and nothing is
// written; a transform failing on a row fails the copy naming the table, the
// row's key and the expression, or with on_error: skip leaves that row out and
// counts it.
func TestETLErrors(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	const db = "it_etlerr"
	_, dst := databases(t, env, []string{db}, []string{db}, "CREATE DATABASE "+db, "CREATE TABLE "+db+".t (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(5) NOT NULL)",
		"INSERT INTO "+db+".t SELECT seq, seq, 'ab' FROM "+db+".seq_1_to_100", "UPDATE "+db+".t SET s = 'abcd' WHERE id = 42")
	file := func(name, entry, options string) string {
		return writeFile(t, name, strings.Replace(workflowFile(env, name, db, options), `    tables: ["*"]`, "    tables:\n"+entry, 1))
	}
	dbExists := func() bool {
		var n int
		dst.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&n)
		return n > 0
	}

	// A misspelt column: the precheck fails, the destination stays untouched.
	code, out, _ := s.sluice(t, "start", "-f", file("etlbad", "      - {name: t, filter: 'row.vv > 1'}\n", ""), "--follow")
	if code != 1 || !strings.Contains(out, "etl.expressions") || !strings.Contains(out, `undefined field 'vv' (did you mean "v"?)`) || !strings.Contains(out, "nothing was written") {
		t.Errorf("bad expression: exit %d", code)
	}
	if dbExists() {
		t.Fatal("the destination was written to despite a bad expression")
	}

	// A value that does not fit on one row (id 42: 'abcd' + '!!' > VARCHAR(5)).
	entry := "      - {name: t, transform: {s: 'row.s + \"!!\"'}}\n"
	code, out, errOut := s.sluice(t, "start", "-f", file("etlfail", entry, ""), "--follow")
	out += errOut
	if code == 0 || !strings.Contains(out, "`"+db+"`.`t` row (id=42): transform.s") || !strings.Contains(out, "do not fit varchar(5)") ||
		!strings.Contains(out, "options.etl.on_error: skip") {
		t.Errorf("failing transform: exit %d", code)
	}
	env.Destination.Exec(ctx, "DROP DATABASE IF EXISTS "+db)

	// The same with skip: 99 rows, one counted as skipped.
	code, out, _ = s.sluice(t, "start", "-f", file("etlskip", entry, "options:\n  etl: {on_error: skip}\n"), "--follow")
	if code != 0 || !strings.Contains(out, "1 row(s) skipped because an expression failed") {
		t.Errorf("skipping transform: exit %d", code)
	}
	var n, bang int
	if err := dst.QueryRow("SELECT COUNT(*), SUM(s = 'ab!!') FROM "+db+".t").Scan(&n, &bang); err != nil || n != 99 || bang != 99 {
		t.Errorf("destination: %d rows, %d transformed (%v); want 99, 99", n, bang, err)
	}
	var res workflows.Result
	if err := s.client.GetWorkflow(ctx, "sluice-etlskip", "").Get(ctx, &res); err != nil || res.Full == nil || res.Full.Totals.ETLFailed != 1 {
		t.Errorf("result %+v, %v", res.Full, err)
	}
}
