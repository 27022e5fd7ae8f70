package itest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/sluice-dev/sluice/activities"
	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// Issue 8: after a migration (with a filtered and transformed table), sluice
// verify reports equal; planted differences are each found with their key and
// column, and --repair rewrites them so a second verification is equal.
func TestVerifyAndRepair(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	const srcDB, dstDB = "itvf", "itvf dst"
	src, dst := databases(t, env, []string{srcDB}, []string{dstDB},
		"CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".t (id INT PRIMARY KEY, s VARCHAR(20), n VARCHAR(10) NULL, b VARBINARY(8), ts DATETIME(6), x DOUBLE)",
		fmt.Sprintf("INSERT INTO %s.t SELECT seq, CONCAT('row ', seq), IF(seq %% 5 = 0, NULL, CONCAT('n', seq)), X'6162', "+
			"'2024-01-01 00:00:00.000001' + INTERVAL seq SECOND, seq / 3 FROM %s.seq_1_to_5000", srcDB, srcDB),
		"CREATE TABLE "+srcDB+".f (id INT PRIMARY KEY, v INT NOT NULL, name VARCHAR(20) NOT NULL)",
		fmt.Sprintf("INSERT INTO %s.f SELECT seq, seq, CONCAT('name', seq) FROM %s.seq_1_to_300", srcDB, srcDB),
		"CREATE TABLE "+srcDB+".g (id INT PRIMARY KEY, v INT NOT NULL, name VARCHAR(20) NOT NULL)",
		fmt.Sprintf("INSERT INTO %s.g SELECT seq, seq, CONCAT('name', seq) FROM %s.seq_1_to_300", srcDB, srcDB),
		// No key: rows may repeat.
		"CREATE TABLE "+srcDB+".k (n INT, v VARCHAR(5))",
		fmt.Sprintf("INSERT INTO %s.k SELECT seq %% 10, 'v' FROM %s.seq_1_to_20", srcDB, srcDB))
	file := writeFile(t, "vf", servers(env, "vf", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf(`types: [schema, full]
objects:
  - database: %s
    to: %s
    tables:
      - t
      - name: f
        filter: row.v %% 2 == 0
        transform: {name: row.name.upperAscii()}
      - name: g
        filter: row.v > 100
      - k
options:
  ignore_warnings: [tables.primary_key]
`, srcDB, dstDB))
	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.client.GetWorkflow(ctx, "sluice-vf", "").Get(ctx, nil); err != nil {
		t.Fatalf("migration: %v", err)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	verifyRun := func(want int, args ...string) workflows.VerifyReport {
		t.Helper()
		code, out, errOut := s.sluice(t, append([]string{"verify"}, append(args, "--output", report, "--chunk-rows", "1000")...)...)
		if code != want {
			t.Fatalf("verify %v: exit %d, want %d\n%s%s", args, code, want, out, errOut)
		}
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		var rep workflows.VerifyReport
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// Equal after the migration, by the migration's ID and by the file.
	rep := verifyRun(0, "sluice-vf")
	if !rep.Equal || rep.Rows != 5000+150+200+20 || len(rep.Tables) != 4 {
		t.Fatalf("after the migration: %+v", rep)
	}
	for _, tv := range rep.Tables {
		// t has the same definition on both servers: CHECKSUM TABLE; f and g
		// have filters: ranges, in Go for f's transform, in SQL for g's filter.
		whole := strings.Contains(tv.Table, "`t`") || strings.Contains(tv.Table, "`k`")
		if strings.Contains(tv.Table, "`f`") != tv.InGo || tv.Whole != whole || (!whole && tv.Chunks < 1) || tv.ChunksDone != tv.Chunks {
			t.Errorf("table %+v: CHECKSUM TABLE for t, ranges for f and g, in Go only for the transformed f", tv)
		}
	}

	dq := "`" + dstDB + "`"
	for _, q := range []string{
		"UPDATE " + dq + ".t SET s = 'row 4x' WHERE id = 4",
		"DELETE FROM " + dq + ".t WHERE id = 10",
		"INSERT INTO " + dq + ".t (id, s) VALUES (100000, 'extra')",
		"UPDATE " + dq + ".t SET n = '' WHERE id = 20",
		"UPDATE " + dq + ".t SET b = X'616200' WHERE id = 50",
		"UPDATE " + dq + ".t SET ts = ts + INTERVAL 1 MICROSECOND WHERE id = 3000",
		"UPDATE " + dq + ".t SET x = x + 1e-12 WHERE id = 4999",
		"UPDATE " + dq + ".f SET name = 'name8' WHERE id = 8",   // the transform would upper-case it
		"INSERT INTO " + dq + ".f VALUES (301, 301, 'NAME301')", // the filter leaves odd v out
		"DELETE FROM " + dq + ".f WHERE id = 200",
		"INSERT INTO " + dq + ".g VALUES (50, 50, 'name50')", // the filter leaves v <= 100 out
		"UPDATE " + dq + ".g SET name = 'x' WHERE id = 150",
		"DELETE FROM " + dq + ".k WHERE n = 3 LIMIT 1",       // the source has (3, 'v') twice
		"INSERT INTO " + dq + ".k VALUES (4, 'v'), (4, 'v')", // and (4, 'v') twice, not four times
	} {
		if _, err := dst.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rep = verifyRun(1, "-f", file)
	var got []string
	for _, tv := range rep.Tables {
		for _, d := range tv.Differences {
			got = append(got, fmt.Sprintf("%s %s %v", d.Kind, d.Key, d.Columns))
		}
	}
	sort.Strings(got)
	want := []string{
		"different id=20 [n]", "different id=3000 [ts]", "different id=4 [s]", "different id=4999 [x]", "different id=50 [b]",
		"different id=8 [name]", "extra id=100000 []", "extra id=301 []", "missing id=10 []", "missing id=200 []",
		"extra id=50 []", "different id=150 [name]",
		`missing n=3, v="v" []`, `extra n=4, v="v" []`, `extra n=4, v="v" []`,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || rep.Differences != 15 || rep.Equal {
		t.Errorf("differences (%d):\n%s\nwant:\n%s", rep.Differences, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// --max-diffs bounds the keys listed, not the counts; --rps holds the
	// comparison to that many rows a second (the whole-table checksum, one
	// scan nothing paces, is off with a limit).
	started := time.Now()
	rep = verifyRun(1, "-f", file, "--max-diffs", "1", "--rps", "5000")
	elapsed := time.Since(started)
	if rep.Differences != 15 || rep.Rows != 5370 {
		t.Errorf("--max-diffs 1: %d difference(s) in %d rows, want 15 in 5370", rep.Differences, rep.Rows)
	}
	for _, tv := range rep.Tables {
		if len(tv.Differences) > 1 || tv.Whole {
			t.Errorf("--max-diffs 1 --rps: %s lists %d difference(s), whole %v", tv.Table, len(tv.Differences), tv.Whole)
		}
	}
	if min := 5370 * time.Second * 9 / 10 / 5000; elapsed < min {
		t.Errorf("--rps 5000 compared 5370 rows in %s, under %s", elapsed, min)
	}
	t.Logf("--rps 5000: 5370 rows in %s", elapsed.Round(time.Millisecond))

	// Repair, then verify again: equal, and the destination is the source's.
	rep = verifyRun(0, "sluice-vf", "--repair") // by the finished migration's ID
	if !rep.Equal {
		t.Fatalf("after repair: %+v", rep)
	}
	var repaired int64
	for _, tv := range rep.Tables {
		repaired += tv.Repaired
	}
	if repaired != 15 {
		t.Errorf("repaired %d rows, want 15", repaired)
	}
	if rep = verifyRun(0, "-f", file); !rep.Equal {
		t.Fatalf("verify after the repair: %+v", rep)
	}
	// sluice status shows a verification's report, by its ID and in its
	// migration's status (the last sluice verify ID).
	verifyRun(0, "sluice-vf")
	for _, id := range []string{"sluice-vf-verify", "sluice-vf"} {
		code, out, _ := s.sluice(t, "status", id)
		if code != 0 || !strings.Contains(out, "table `itvf`.`t` -> `itvf dst`.`t`  5000") || !strings.Contains(out, "Equal: 5370 row(s) compared.") {
			t.Errorf("status %s: exit %d\n%s", id, code, out)
		}
	}
	sn, ss := checksum(t, src, srcDB+".t", "id, s, IFNULL(n, 'NULL'), HEX(b), ts, x")
	dn, ds := checksum(t, dst, dq+".t", "id, s, IFNULL(n, 'NULL'), HEX(b), ts, x")
	if sn != dn || ss != ds {
		t.Errorf("t after repair: source %s rows (%s), destination %s rows (%s)", sn, ss, dn, ds)
	}
	wantF := testenv.Rows(t, src, "SELECT id, v, UPPER(name) FROM "+srcDB+".f WHERE v % 2 = 0 ORDER BY id")
	gotF := testenv.Rows(t, dst, "SELECT id, v, name FROM "+dq+".f ORDER BY id")
	if strings.Join(wantF, "\n") != strings.Join(gotF, "\n") {
		t.Errorf("f after repair: %d rows, want %d", len(gotF), len(wantF))
	}
	wantK := testenv.Rows(t, src, "SELECT n, v, COUNT(*) FROM "+srcDB+".k GROUP BY n, v ORDER BY n")
	gotK := testenv.Rows(t, dst, "SELECT n, v, COUNT(*) FROM "+dq+".k GROUP BY n, v ORDER BY n")
	if strings.Join(wantK, "\n") != strings.Join(gotK, "\n") {
		t.Errorf("k after repair: %v, want %v", gotK, wantK)
	}
	wantG := testenv.Rows(t, src, "SELECT id, v, name FROM "+srcDB+".g WHERE v > 100 ORDER BY id")
	gotG := testenv.Rows(t, dst, "SELECT id, v, name FROM "+dq+".g ORDER BY id")
	if strings.Join(wantG, "\n") != strings.Join(gotG, "\n") {
		t.Errorf("g after repair: %d rows, want %d", len(gotG), len(wantG))
	}

	// A string key of another collation on the destination: rows cannot be
	// matched by key (nor ranges bounded alike), so the table is refused,
	// saying why, and nothing is written.
	for _, x := range []struct {
		db      *sql.DB
		name, c string
	}{{src, srcDB, "utf8mb4_general_ci"}, {dst, dq, "utf8mb4_bin"}} {
		for _, q := range []string{"CREATE TABLE " + x.name + ".sk (code VARCHAR(10) COLLATE " + x.c + " PRIMARY KEY, v INT)", "INSERT INTO " + x.name + ".sk VALUES ('a', 1), ('B', 2)"} {
			if _, err := x.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	kfile := writeFile(t, "vk", servers(env, "vk", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf("types: [full]\nobjects:\n  - database: %s\n    to: %s\n    tables: [sk]\n", srcDB, dstDB))
	code, out, _ := s.sluice(t, "verify", "-f", kfile, "--repair")
	if code != 1 || !strings.Contains(out, "key column code is utf8mb4 (utf8mb4_general_ci) on the source and utf8mb4 (utf8mb4_bin) on the destination") {
		t.Errorf("a key of another collation: exit %d\n%s", code, out)
	}
	if n := countRows(dst, dq+".sk"); n != 2 {
		t.Errorf("the refused table has %d rows on the destination, want its 2", n)
	}

	// DECIMAL 1.0 against 1.00: the destination's column has another scale.
	// Found with its key and column, with the reason; --repair cannot make
	// them equal (it rewrites values, not definitions) and says so.
	for _, x := range []struct {
		db          *sql.DB
		name, scale string
	}{{src, srcDB, "1"}, {dst, dq, "2"}} {
		for _, q := range []string{"CREATE TABLE " + x.name + ".dm (id INT PRIMARY KEY, d DECIMAL(10," + x.scale + "))", "INSERT INTO " + x.name + ".dm VALUES (1, 1.0), (2, NULL)"} {
			if _, err := x.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	dfile := writeFile(t, "vd", servers(env, "vd", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf("types: [full]\nobjects:\n  - database: %s\n    to: %s\n    tables: [dm]\n", srcDB, dstDB))
	for _, args := range [][]string{{"verify", "-f", dfile}, {"verify", "-f", dfile, "--repair"}} {
		code, out, _ := s.sluice(t, args...)
		if code != 1 || !strings.Contains(out, "different id=1 columns [d]") ||
			!strings.Contains(out, "note: column d is decimal(10,1) on the source and decimal(10,2) on the destination") || !strings.Contains(out, "DIFFERENT: 1 row(s) differ") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// Issue 8: while replication runs, a range that differs is compared again once
// the applier has passed the source's position, and its rows under the
// source's locks: changes in flight are not differences, a planted one is.
// Replication is paused so the changes are certainly in flight when the
// verification first compares, and resumed once it waits for replication.
func TestVerifyWhileReplicating(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	const srcDB, dstDB, id = "itvr", "itvr dst", "sluice-vr"
	src, dst := databases(t, env, []string{srcDB}, []string{dstDB},
		"CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".t (id INT PRIMARY KEY, v INT NOT NULL, s VARCHAR(40) CHARACTER SET latin1)",
		fmt.Sprintf("INSERT INTO %s.t SELECT seq, seq, CONCAT('café ', seq) FROM %s.seq_1_to_20000", srcDB, srcDB))
	file := writeFile(t, "vr", servers(env, "vr", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables: ["*"]
options:
  verify: {after_full: true, continuous: true, interval: 10s}
  alerts: {webhook: "${VR_HOOK}"}
`, srcDB, dstDB))
	hook, alerts := webhook(t)
	s.setEnv("VR_HOOK", hook)
	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	t.Cleanup(func() { s.sluice(t, "stop", id) })
	waitUntil(t, "replication", 2*time.Minute, func() bool {
		p, ok := incrementalProgress(context.Background(), s, id)
		return ok && p.Stage == workflows.StageReplicating && !p.SafeMode
	})
	// options.verify: the migration's own verification, once replication has
	// caught up after the copy, then every 10 s; sluice status shows it.
	autoVerify := func() *workflows.VerifyReport {
		q, err := s.client.QueryWorkflow(context.Background(), workflows.AutoVerifyID(id), "", workflows.VerifyStatusQuery)
		var rep workflows.VerifyReport
		if err != nil || q.Get(&rep) != nil {
			return nil
		}
		if rep.Done {
			return &rep
		}
		return rep.Last
	}
	waitUntil(t, "the migration's verification to complete a round", time.Minute, func() bool { r := autoVerify(); return r != nil && r.Done })
	if r := autoVerify(); !r.Equal || r.Rows != 20000 {
		t.Fatalf("the migration's first verification: %+v", r)
	}
	if code, out, _ := s.sluice(t, "status", id); code != 0 || !strings.Contains(out, "Verification (options.verify, workflow "+workflows.AutoVerifyID(id)+")") ||
		!strings.Contains(out, "Equal: ") {
		t.Errorf("status shows the verification: exit %d\n%s", code, out)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	verifyRun := func(args ...string) (int, workflows.VerifyReport) {
		t.Helper()
		code, _, _ := s.sluice(t, append([]string{"verify", id, "--output", report, "--chunk-rows", "2000"}, args...)...)
		var rep workflows.VerifyReport
		if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &rep) != nil {
			t.Fatalf("verify: exit %d, no report: %v", code, err)
		}
		return code, rep
	}

	// A write load through replication: no false difference.
	stopLoad := background(t, func(stop <-chan struct{}) {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := 1 + (i*7919)%20000
			for _, q := range []string{
				fmt.Sprintf("UPDATE %s.t SET v = v + 1, s = CONCAT('é', LEFT(s, 30)) WHERE id = %d", srcDB, id),
				fmt.Sprintf("UPDATE %s.t SET v = v - 1 WHERE id %% 1000 = %d", srcDB, i%1000), // hot rows: 20 at once
				fmt.Sprintf("INSERT INTO %s.t VALUES (%d, 0, 'new') ON DUPLICATE KEY UPDATE v = v + 1", srcDB, 100000+i%500),
				fmt.Sprintf("DELETE FROM %s.t WHERE id = %d", srcDB, 100000+(i+250)%500),
			} {
				if _, err := src.Exec(q); err != nil {
					t.Errorf("load: %v", err)
					return
				}
			}
		}
	})
	code, rep := verifyRun()
	stopLoad()
	var rechecks int
	for _, tv := range rep.Tables {
		rechecks += tv.Rechecks
	}
	t.Logf("under load: %d rows compared, %d recheck(s)", rep.Rows, rechecks)
	if code != 0 || !rep.Equal || rep.Rows < 20000 {
		t.Fatalf("verify under a write load: exit %d, %+v", code, rep)
	}

	// Paused: changes wait on the source; a planted difference on the
	// destination (a row the changes do not touch).
	if code, _, _ := s.sluice(t, "pause", id); code != 0 {
		t.Fatal("pause")
	}
	waitFor(t, "replication to pause", func() bool {
		p, ok := incrementalProgress(context.Background(), s, id)
		return ok && p.Stage == workflows.StagePaused
	})
	for _, q := range []string{
		"UPDATE " + srcDB + ".t SET v = -1 WHERE id IN (5, 3000, 9000)",
		"DELETE FROM " + srcDB + ".t WHERE id IN (6, 12000)",
		"INSERT INTO " + srcDB + ".t VALUES (200001, 1, 'a'), (200002, 2, 'b')",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dst.Exec("UPDATE `" + dstDB + "`.t SET s = 'planted' WHERE id = 19999"); err != nil {
		t.Fatal(err)
	}
	// Replication paused longer than the settle wait: the differences are
	// reported, marked unsettled (they may be in flight).
	t.Setenv(activities.SettleWaitEnv, "2s")
	code, rep = verifyRun()
	os.Unsetenv(activities.SettleWaitEnv)
	unsettled := 0
	for _, tv := range rep.Tables {
		unsettled += tv.Unsettled
	}
	if code != 1 || rep.Equal || rep.Differences != 8 || unsettled == 0 { // seven changes in flight and the planted row
		t.Fatalf("paused, a 2 s settle wait: exit %d, %d difference(s), %d unsettled range(s)", code, rep.Differences, unsettled)
	}
	if out := func() string { _, o, _ := s.sluice(t, "status", id+"-verify"); return o }(); !strings.Contains(out, "UNSETTLED") {
		t.Errorf("the text report names the unsettled ranges:\n%s", out)
	}
	type result struct {
		code int
		rep  workflows.VerifyReport
	}
	done := make(chan result, 1)
	go func() {
		code, rep := verifyRun()
		done <- result{code, rep}
	}()
	waitUntil(t, "the verification to wait for replication", time.Minute, func() bool {
		d, err := s.client.DescribeWorkflowExecution(context.Background(), id+"-verify", "")
		if err != nil {
			return false
		}
		waiting := 0
		for _, pa := range d.GetPendingActivities() {
			var state string
			if pa.GetHeartbeatDetails() != nil && converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &state) == nil &&
				strings.Contains(state, "waiting for replication") {
				waiting++
			}
		}
		return waiting > 0
	})
	if code, _, _ := s.sluice(t, "resume", id); code != 0 {
		t.Fatal("resume")
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the verification did not end")
	}
	var got []string
	rechecks = 0
	for _, tv := range r.rep.Tables {
		rechecks += tv.Rechecks
		if tv.Unsettled > 0 {
			t.Errorf("%s: %d range(s) unsettled", tv.Table, tv.Unsettled)
		}
		for _, d := range tv.Differences {
			got = append(got, fmt.Sprintf("%s %s %v", d.Kind, d.Key, d.Columns))
		}
	}
	if r.code != 1 || strings.Join(got, "\n") != "different id=19999 [s]" || rechecks < 2 {
		t.Fatalf("paused, then resumed: exit %d, %d recheck(s), differences:\n%s\nwant only the planted one", r.code, rechecks, strings.Join(got, "\n"))
	}
	// The continuous verification finds the planted difference too, and alerts.
	waitUntil(t, "the verification's alert", 2*time.Minute, func() bool {
		for _, ev := range alerts() {
			if ev.Event == workflows.VerifyEvent && ev.Task == id && strings.Contains(ev.Message, "1 differing row(s)") {
				return true
			}
		}
		return false
	})
	// The cutover waits: the last verification found a differing row.
	if code, _, errOut := s.sluice(t, "cutover", id, "--timeout", "1m"); code == 0 || !strings.Contains(errOut, "found 1 differing row(s)") {
		t.Fatalf("cutover with a difference: exit %d, %s", code, errOut)
	}

	// Repaired while replicating, by the workflow file (its migration runs:
	// the same rechecks and locked repair as by the ID): equal.
	if code, _, _ := s.sluice(t, "verify", "-f", file, "--repair", "--output", report, "--chunk-rows", "2000"); code != 0 {
		t.Fatalf("repair -f: exit %d", code)
	}
	var fixed workflows.VerifyReport
	if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &fixed) != nil {
		t.Fatal("no report")
	}
	if !fixed.Equal || fixed.Tables[0].Repaired != 1 || fixed.Tables[0].Rechecks < 1 || len(fixed.Tables[0].Differences) != 1 || !fixed.Tables[0].Differences[0].Repaired {
		t.Fatalf("repair -f while replicating: %+v", fixed)
	}
	sn, ss := checksum(t, src, srcDB+".t", "id, v, s")
	dn, ds := checksum(t, dst, "`"+dstDB+"`.t", "id, v, s")
	if sn != dn || ss != ds {
		t.Errorf("after repair: source %s rows (%s), destination %s rows (%s)", sn, ss, dn, ds)
	}
	// The repair's equal report reached the migration: the cutover goes
	// ahead (a round that compared before the repair may report after it:
	// then the next one is equal).
	migrationVerify := func() *workflows.VerifyReport {
		q, err := s.client.QueryWorkflow(context.Background(), id, "", workflows.StatusQuery)
		var st workflows.Status
		if err != nil || q.Get(&st) != nil || st.Verify == nil {
			return nil
		}
		return st.Verify.Report
	}
	cut := false
	for attempt := 0; attempt < 3 && !cut; attempt++ {
		waitUntil(t, "an equal verification report in the migration", time.Minute, func() bool { r := migrationVerify(); return r != nil && r.Equal })
		code, out, errOut := s.sluice(t, "cutover", id, "--max-lag", "1s", "--timeout", "2m")
		cut = code == 0 && strings.Contains(out, "The migration is complete")
		if !cut && !strings.Contains(errOut, "differing row(s)") {
			t.Fatalf("cutover after the repair: exit %d\n%s%s", code, out, errOut)
		}
	}
	if !cut {
		t.Fatal("the cutover stayed refused after the repair")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Verify == nil || !res.Verify.Ended || res.Verify.Report == nil || !strings.Contains(res.Message, "verification: ") {
		t.Errorf("result: %+v\n%s", res.Verify, res.Message)
	}
}
