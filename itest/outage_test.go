package itest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sluice-dev/sluice/alert"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// outageSource starts a source of the test's own (a shared one would take
// every other test down with it) and stops it at the end.
func outageSource(t *testing.T) *testenv.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testenv.StartServer(ctx, testenv.ServerOptions{Name: "outage-source", Binlog: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}

// outage stops the server for d, runs during meanwhile, then starts it again.
func outage(t *testing.T, srv *testenv.Server, d time.Duration, during func()) {
	t.Helper()
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	t.Logf("source stopped for %s", d)
	end := time.Now().Add(d)
	during()
	time.Sleep(time.Until(end))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Log("source started again")
}

// retrying waits until the status shows a connection outage being retried, with
// its window.
func retrying(t *testing.T, s *stack, id string, window time.Duration) {
	t.Helper()
	var seen *workflows.RetryState
	waitFor(t, "the status to show the outage", func() bool {
		st, err := queryStatusOf(context.Background(), s, id)
		if err != nil || st.Retries == nil {
			return false
		}
		for _, r := range st.Retries.Active {
			if r.Class == "connection" {
				seen = &r
				return true
			}
		}
		return false
	})
	if seen.Error == "" || seen.Attempt < 1 || seen.Until.Sub(seen.Since) != window {
		t.Errorf("outage in the status: %+v (window %s)", seen, window)
	}
	t.Logf("status during the outage: %s attempt %d: %s (window until %s)", seen.Activity, seen.Attempt, seen.Error, seen.Until.Format(time.TimeOnly))
}

// Issue 7, "Done means": the source stopped for 30 s during the full copy and
// again during replication; the task waits and resumes by itself, data equal.
// Then, with a connection window shorter than an outage, the task fails with a
// message naming it.
func TestSourceOutage(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	srv := outageSource(t)
	s.setEnv("OUT_SRC_PASSWORD", srv.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	const (
		srcDB, dstDB = "itout", "itout_dst"
		rows         = 100000
	)
	ctx := context.Background()
	if err := srv.Exec(ctx, "CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".t (id INT PRIMARY KEY, pad CHAR(40) NOT NULL)",
		fmt.Sprintf("INSERT INTO %s.t SELECT seq, REPEAT(CHAR(97 + seq %% 26), 40) FROM %s.seq_1_to_%d", srcDB, srcDB, rows),
		"CREATE TABLE "+srcDB+".ev (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	drop := func() {
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS "+dstDB, "DROP DATABASE IF EXISTS "+dstDB+"2", "DROP DATABASE IF EXISTS "+dstDB+"3")
	}
	drop()
	t.Cleanup(drop)
	src, err := srv.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	head := func(name string) string {
		return fmt.Sprintf("name: %s\nsource: {host: %s, port: %d, user: %s, password: \"${OUT_SRC_PASSWORD}\"}\ndestination: {host: %s, port: %d, user: %s, password: \"${IT_DST_PASSWORD}\"}\n",
			name, srv.Host, srv.Port, srv.RootUser, env.Destination.Host, env.Destination.Port, env.Destination.RootUser)
	}
	file := writeFile(t, "outage", head("outage")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables: ["*"]
options:
  full: {parallel: 2}
  throttle: {full: {rps: 4000}}
`, srcDB, dstDB))
	const id = "sluice-outage"
	t.Cleanup(func() {
		if t.Failed() {
			s.sluice(t, "status", id)
			for _, l := range strings.Split(s.logs.String(), "\n") {
				if strings.Contains(l, "sluice-outage") && (strings.Contains(l, "\"level\":\"warn") || strings.Contains(l, "\"level\":\"error") || strings.Contains(l, "recovered")) {
					t.Log(l)
				}
			}
		}
	})
	if code, _, _ := s.sluice(t, "start", "-f", file); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	dt := dstDB + ".t"
	waitFor(t, "the full copy to start", func() bool { return countRows(dst, dt) > 5000 })
	outage(t, srv, 30*time.Second, func() {
		retrying(t, s, id, spec.DefaultRetryConnection.D())
		if n := countRows(dst, dt); n >= rows {
			t.Errorf("the full copy ended before the outage (%d rows)", n)
		}
	})
	// The rest at full speed.
	if code, _, _ := s.sluice(t, "throttle", id, "--full-rps", "0"); code != 0 {
		t.Fatalf("throttle: exit %d", code)
	}
	// The next attempt comes within the backoff's 30 s cap after the outage.
	waitUntil(t, "replication after the full copy", 2*time.Minute, func() bool {
		p, ok := incrementalProgress(ctx, s, id)
		return ok && p.Stage == workflows.StageReplicating
	})
	if n := countRows(dst, dt); n != rows {
		t.Fatalf("after the full copy the destination holds %d rows, want %d", n, rows)
	}

	// Replication: writes before, during (refused) and after the outage.
	var written atomic.Int64
	load := func(stop <-chan struct{}) {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := src.Exec("INSERT INTO " + srcDB + ".ev (v) VALUES (1), (2), (3)"); err == nil {
				written.Add(3)
			}
		}
	}
	stopLoad := background(t, load)
	time.Sleep(2 * time.Second)
	stopLoad()
	before := written.Load()
	outage(t, srv, 30*time.Second, func() { retrying(t, s, id, spec.DefaultRetryConnection.D()) })
	stopLoad = background(t, load)
	time.Sleep(2 * time.Second)
	stopLoad()
	if written.Load() == before {
		t.Fatal("no write after the outage")
	}
	de := dstDB + ".ev"
	waitUntil(t, "replication to apply the writes after the outage", 2*time.Minute, func() bool { return countRows(dst, de) == written.Load() })
	// The worker counted the failed attempts by class.
	if n := metricValue(s.scrape(t, s.workerID), fmt.Sprintf(`sluice_retries_total{class="connection",task="%s"}`, id)); n < 2 {
		t.Errorf("the worker's metrics count %.0f connection retries of %s; want some in each outage", n, id)
	}
	// The outages are over in the status too (the next heartbeat says so).
	waitFor(t, "the status to show the outages over", func() bool {
		st, err := queryStatusOf(ctx, s, id)
		return err == nil && st.Retries != nil && len(st.Retries.Active) == 0 && st.Retries.Recovered >= 2
	})
	if code, out, _ := s.sluice(t, "cutover", id, "--max-lag", "1s", "--timeout", "2m"); code != 0 || !strings.Contains(out, "The migration is complete") {
		t.Fatalf("cutover: exit %d", code)
	}
	for _, c := range []struct{ table, cols string }{{"t", "id, pad"}, {"ev", "id, v"}} {
		sn, ss := checksum(t, src, srcDB+"."+c.table, c.cols)
		dn, ds := checksum(t, dst, dstDB+"."+c.table, c.cols)
		if sn != dn || ss != ds {
			t.Errorf("%s: source %s rows (sum %s), destination %s rows (sum %s)", c.table, sn, ss, dn, ds)
		}
	}

	// A connection window shorter than the outage: the task fails naming it.
	t.Setenv(spec.RetryFloorEnv, "1s")
	short := writeFile(t, "outage2", head("outage2")+fmt.Sprintf(`types: [schema, full]
objects:
  - database: %s
    to: %s2
    tables: ["*"]
options:
  full: {parallel: 2}
  throttle: {full: {rps: 4000}}
  retry: {connection: 8s, other: 4s}
  alerts: {webhook: "${OUT_HOOK}"}
`, srcDB, dstDB))
	hook, alerts := webhook(t)
	s.setEnv("OUT_HOOK", hook)
	if code, _, _ := s.sluice(t, "start", "-f", short); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	waitFor(t, "the second copy to start", func() bool { return countRows(dst, dstDB+"2.t") > 0 })
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = s.client.GetWorkflow(wctx, "sluice-outage2", "").Get(wctx, nil)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message(), "connection lost since") || !strings.Contains(ae.Message(), "longer than options.retry.connection (8s)") {
		t.Errorf("with a window shorter than the outage: %v", err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer rcancel()
	if err := srv.Restart(rctx); err != nil {
		t.Fatal(err)
	}
	code, out, _ := s.sluice(t, "status", "sluice-outage2")
	if code != 0 || !strings.Contains(out, "connection lost since") {
		t.Errorf("status of the failed task: exit %d", code)
	}
	// The same during replication: the binlog reader reconnects by itself, its
	// outage bounded by the connection window all the same.
	var gtid string
	if err := src.QueryRow("SELECT @@gtid_binlog_pos").Scan(&gtid); err != nil {
		t.Fatal(err)
	}
	if err := env.Destination.Exec(ctx, "CREATE DATABASE "+dstDB+"3", "CREATE TABLE "+dstDB+"3.ev (id INT PRIMARY KEY, v INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	inc := writeFile(t, "outage3", head("outage3")+fmt.Sprintf(`types: [incremental]
objects:
  - database: %s
    to: %s3
    tables: [ev]
options:
  incremental: {start: {gtid: "%s"}}
  retry: {connection: 6s, other: 3s}
`, srcDB, dstDB, gtid))
	if code, _, _ := s.sluice(t, "start", "-f", inc); code != 0 {
		t.Fatalf("start: exit %d", code)
	}
	if _, err := src.Exec("INSERT INTO " + srcDB + ".ev (v) VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "replication of the third task", func() bool { return countRows(dst, dstDB+"3.ev") == 1 })
	if err := srv.Halt(); err != nil {
		t.Fatal(err)
	}
	ictx, icancel := context.WithTimeout(ctx, 2*time.Minute)
	defer icancel()
	err = s.client.GetWorkflow(ictx, "sluice-outage3", "").Get(ictx, nil)
	// (Whether the reader's reconnecting or a new attempt's connecting ran out
	// depends on which connection noticed the shutdown first: either names the
	// outage.)
	if !errors.As(err, &ae) || !strings.Contains(ae.Message(), "connection lost since") || !strings.Contains(ae.Message(), "longer than options.retry.connection (6s)") ||
		!strings.Contains(ae.Message(), "source") {
		t.Errorf("replication with a window shorter than the outage: %v", err)
	}
	rctx2, rcancel2 := context.WithTimeout(ctx, 2*time.Minute)
	defer rcancel2()
	if err := srv.Restart(rctx2); err != nil {
		t.Fatal(err)
	}

	// The failure was alerted (after a refused first POST), naming the outage.
	if got := alerts(); len(got) != 1 || got[0].Event != alert.TaskFailed || got[0].Task != "sluice-outage2" || got[0].Phase != "full" ||
		!strings.Contains(got[0].Message, "connection lost since") {
		t.Errorf("failure alerts: %+v", got)
	}
}
