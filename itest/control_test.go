package itest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"

	"github.com/sluice-dev/sluice/alert"
	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// countRows is the destination's row count of table (-1 while it does not exist).
func countRows(db *sql.DB, table string) int64 {
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		return -1
	}
	return n
}

// measureRate is the rows per second count gains over d, as the destination
// itself counts them.
func measureRate(db *sql.DB, table string, d time.Duration) float64 {
	n0, t0 := countRows(db, table), time.Now()
	time.Sleep(d)
	n1 := countRows(db, table)
	return float64(n1-n0) / time.Since(t0).Seconds()
}

// within: the rate is N ± 15% (the bound).
func within(t *testing.T, what string, rate float64, n int) {
	t.Helper()
	t.Logf("%s: %.0f rows/s (limit %d)", what, rate, n)
	if rate < 0.85*float64(n) || rate > 1.15*float64(n) {
		t.Errorf("%s: %.0f rows/s, want %d ± 15%%", what, rate, n)
	}
}

// Issue 7, "Done means": throttle a running full copy, then the replication, to
// N rows/s (the destination's own count settles within ±15% within 5 s; lifted,
// the rate recovers); pause each, restart the worker while paused (nothing
// moves, lag keeps being reported), resume; cut over; data equal. The history
// records every change with its caller.
func TestThrottleAndPause(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	const (
		queue        = "sluice-ctl"
		id           = "sluice-ctl"
		srcDB, dstDB = "itctl", "itctl dst"
		rows         = 60000
		fullLimit    = 1000
		incrLimit    = 500
	)
	hook, alerts := webhook(t)
	s.setEnv("CTL_HOOK", hook)
	w, firstID, err := s.startWorkerID(queue)
	if err != nil {
		t.Fatal(err)
	}
	var current atomic.Pointer[worker.Worker]
	current.Store(&w)
	t.Cleanup(func() { (*current.Load()).Stop() })
	restart := func() string {
		t.Helper()
		start := time.Now()
		(*current.Load()).Stop()
		w, identity, err := s.startWorkerID(queue)
		if err != nil {
			t.Fatal(err)
		}
		current.Store(&w)
		t.Logf("worker restarted in %s", time.Since(start).Round(time.Millisecond))
		return identity
	}
	src, dst := databases(t, env, []string{srcDB}, []string{dstDB},
		"CREATE DATABASE "+srcDB,
		"CREATE TABLE "+srcDB+".t (id INT PRIMARY KEY, pad CHAR(60) NOT NULL)",
		fmt.Sprintf("INSERT INTO %s.t SELECT seq, REPEAT(CHAR(97 + seq %% 26), 60) FROM %s.seq_1_to_%d", srcDB, srcDB, rows),
		"CREATE TABLE "+srcDB+".ev (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)")
	file := writeFile(t, "ctl", servers(env, "ctl", "IT_SRC_PASSWORD", "IT_DST_PASSWORD")+fmt.Sprintf(`types: [schema, full, incremental]
objects:
  - database: %s
    to: %s
    tables: ["*"]
options:
  full: {parallel: 2}
  throttle: {full: {rps: 3000}}
  alerts:
    webhook: ${CTL_HOOK}
    lag: {threshold: 2s, for: 2s}
`, srcDB, dstDB))
	ctl := func(args ...string) string {
		t.Helper()
		code, out, errOut := s.sluiceOn(t, queue, args...)
		if code != 0 {
			t.Fatalf("sluice %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	ctl("start", "-f", file)
	dt, de := "`"+dstDB+"`.t", "`"+dstDB+"`.ev"
	waitFor(t, "the full copy to start", func() bool { return countRows(dst, dt) > 0 })

	// Full: throttle to N, measure from 5 s after the command.
	out := ctl("throttle", id, "--full-rps", fmt.Sprint(fullLimit))
	if !strings.Contains(out, "full rps 3000 → 1000") {
		t.Errorf("throttle answer: %s", out)
	}
	// Meanwhile: the live status, as plain text (not a terminal) and as JSON
	// lines, and the list.
	code, live := s.sluiceFor(t, queue, 2500*time.Millisecond, "status", id, "--watch", "--interval", "500ms")
	frames := strings.Split(live, "--- ")
	last := frames[len(frames)-1]
	if code != 0 || len(frames) < 4 || !strings.Contains(last, "Phase:    full") || !strings.Contains(last, "PROGRESS") ||
		!strings.Contains(last, "ROWS/S") || !strings.Contains(last, "[#") || !strings.Contains(last, "full copy 1000 rows/s") {
		t.Errorf("status --watch: exit %d, %d frames; the last:\n%s", code, len(frames)-1, last)
	}
	code, jsonLines := s.sluiceFor(t, queue, 1200*time.Millisecond, "status", id, "--watch", "--json", "--interval", "500ms")
	lines := strings.Split(strings.TrimSpace(jsonLines), "\n")
	for _, l := range lines {
		var v struct {
			Status   workflows.Status      `json:"status"`
			FullLive *workflows.FullStatus `json:"full_live"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.FullLive == nil || v.Status.Control == nil || v.Status.Control.Full.RPS != fullLimit {
			t.Errorf("status --watch --json line %q: %v", l, err)
		}
	}
	if code != 0 || len(lines) < 2 {
		t.Errorf("status --watch --json: exit %d, %d lines", code, len(lines))
	}
	if out := ctl("list"); !regexp.MustCompile(id + `\s+Migration\s+running\s+full`).MatchString(out) {
		t.Errorf("list during the full copy:\n%s", out)
	}
	time.Sleep(5*time.Second - 3700*time.Millisecond)
	within(t, "full copy throttled", measureRate(dst, dt, 5*time.Second), fullLimit)

	// Pause, restart the worker while paused: nothing is copied.
	ctl("pause", id, "--reason", "itest")
	time.Sleep(2 * time.Second)
	held := countRows(dst, dt)
	// The worker's metrics: the throttle's waits, the pause.
	text := s.scrape(t, firstID)
	if metricValue(text, fmt.Sprintf(`sluice_throttle_wait_seconds_total{phase="full",task="%s"}`, id)) <= 0 ||
		metricValue(text, fmt.Sprintf(`sluice_paused{task="%s"}`, id)) != 1 ||
		metricValue(text, fmt.Sprintf(`sluice_full_rows_copied_total{table="%s.t",task="%s"}`, srcDB, id)) != float64(held) {
		t.Errorf("metrics of the throttled, paused copy (%d rows copied):\n%s", held, regexp.MustCompile(`(?m)^sluice_.*$`).FindAllString(text, -1))
	}
	identity := restart()
	// The chunks' new attempts run on the new worker, held by the pause.
	waitFor(t, "the chunks to start again on the new worker", func() bool {
		d, err := s.client.DescribeWorkflowExecution(context.Background(), id+"-full", "")
		if err != nil {
			return false
		}
		n := 0
		for _, pa := range d.GetPendingActivities() {
			if pa.GetActivityType().GetName() != "CopyRange" {
				continue
			}
			if pa.GetState() != enums.PENDING_ACTIVITY_STATE_STARTED || pa.GetLastWorkerIdentity() != identity {
				return false
			}
			n++
		}
		return n > 0
	})
	time.Sleep(3 * time.Second)
	if n := countRows(dst, dt); n != held || n >= rows {
		t.Fatalf("paused full copy: %d rows, then %d (of %d)", held, n, rows)
	}
	st, err := queryStatusOf(context.Background(), s, id)
	if err != nil || st.Control == nil || !st.Control.Paused || st.Phase != workflows.PhaseFull {
		t.Fatalf("status while paused: %+v %v", st.Control, err)
	}
	// Resume and lift: the rest at full speed.
	ctl("resume", id)
	ctl("throttle", id, "--full-rps", "0")
	t0, n0 := time.Now(), countRows(dst, dt)
	waitFor(t, "the full copy to finish", func() bool { return countRows(dst, dt) == rows })
	if rate := float64(rows-n0) / time.Since(t0).Seconds(); rate < 3*fullLimit {
		t.Errorf("lifted, the full copy ran at %.0f rows/s; want well above the old limit %d", rate, fullLimit)
	} else {
		t.Logf("lifted: %.0f rows/s", rate)
	}

	// Incremental: a load writes 10-row transactions at ~2000 rows/s.
	waitFor(t, "replication", func() bool {
		p, ok := incrementalProgress(context.Background(), s, id)
		return ok && p.Stage == workflows.StageReplicating
	})
	ctl("throttle", id, "--incr-rps", fmt.Sprint(incrLimit))
	var written atomic.Int64
	stopLoad := background(t, func(stop <-chan struct{}) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := src.Exec("INSERT INTO " + srcDB + ".ev (v) VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)"); err != nil {
				t.Errorf("load: %v", err)
				return
			}
			written.Add(10)
		}
	})
	time.Sleep(5 * time.Second)
	within(t, "replication throttled", measureRate(dst, de, 5*time.Second), incrLimit)
	code, live = s.sluiceFor(t, queue, 1700*time.Millisecond, "status", id, "--watch", "--interval", "500ms")
	frames = strings.Split(live, "--- ")
	last = frames[len(frames)-1]
	if code != 0 || !strings.Contains(last, "Phase:    incremental") || !strings.Contains(last, "lag: ") ||
		!regexp.MustCompile(`rate: \d+ row change\(s\)/s`).MatchString(last) || !strings.Contains(last, "incremental 500 rows/s") {
		t.Errorf("status --watch during replication: exit %d; the last frame:\n%s", code, last)
	}
	if out := ctl("list"); !regexp.MustCompile(id + `\s+Migration\s+running\s+incremental\s+\d+\.\ds`).MatchString(out) {
		t.Errorf("list during replication shows the phase and lag:\n%s", out)
	}
	stopLoad()
	ctl("throttle", id, "--incr-rps", "0")
	t0, n0 = time.Now(), countRows(dst, de)
	total := written.Load()
	waitFor(t, "replication to catch up", func() bool { return countRows(dst, de) == total })
	if rate := float64(total-n0) / time.Since(t0).Seconds(); rate < 3*incrLimit {
		t.Errorf("lifted, replication applied %.0f rows/s; want well above the old limit %d", rate, incrLimit)
	} else {
		t.Logf("lifted: %.0f rows/s over %d rows", rate, total-n0)
	}

	// Pause replication, write, restart the worker: nothing applied, lag grows.
	ctl("pause", id)
	waitFor(t, "replication to pause", func() bool {
		p, ok := incrementalProgress(context.Background(), s, id)
		return ok && p.Stage == workflows.StagePaused
	})
	if _, err := src.Exec("INSERT INTO " + srcDB + ".ev (v) VALUES (100), (101)"); err != nil {
		t.Fatal(err)
	}
	identity = restart()
	var lags []float64
	waitFor(t, "the new attempt to report the pause", func() bool {
		d, err := s.client.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			return false
		}
		for _, pa := range d.GetPendingActivities() {
			if pa.GetActivityType().GetName() == "Incremental" && pa.GetLastWorkerIdentity() != identity {
				return false // not the new worker's attempt yet
			}
		}
		p, ok := incrementalProgress(context.Background(), s, id)
		if ok && p.Stage == workflows.StagePaused && p.LagSeconds > 0 {
			lags = append(lags, p.LagSeconds)
		}
		return len(lags) >= 3 && lags[len(lags)-1] > lags[0]
	})
	// Paused, the lag stays above the alert threshold: the new attempt alerts.
	waitFor(t, "a lag alert during the pause", func() bool {
		n := 0
		for _, ev := range alerts() {
			if ev.Event == alert.LagHigh {
				n++
			}
		}
		return n >= 2
	})
	if n := countRows(dst, de); n != total {
		t.Fatalf("paused replication applied changes: %d rows, want %d", n, total)
	}
	ctl("resume", id)
	waitFor(t, "replication to resume", func() bool { return countRows(dst, de) == total+2 })

	// Lag alerts: the throttled replication and the pause each held the lag
	// above 2 s for 2 s (lag_high), and it came back (lag_recovered).
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("alerts received: %+v", alerts())
			for _, l := range strings.Split(s.logs.String(), "\n") {
				if strings.Contains(l, "alert") {
					t.Log(l)
				}
			}
		}
	})
	waitFor(t, "the lag alerts", func() bool {
		var seq []string
		for _, ev := range alerts() {
			seq = append(seq, ev.Event)
		}
		return strings.Count(strings.Join(seq, " "), "lag_high lag_recovered") >= 2
	})
	for _, ev := range alerts() {
		if ev.Task != id || ev.Name != "ctl" || ev.ThresholdSeconds != 2 || ev.Message == "" || (ev.Event == alert.LagHigh && ev.LagSeconds <= 2) {
			t.Errorf("alert %+v", ev)
		}
	}
	if out := ctl("cutover", id, "--max-lag", "1s", "--timeout", "2m"); !strings.Contains(out, "The migration is complete") {
		t.Fatalf("cutover: %s", out)
	}
	for _, c := range []struct{ table, cols string }{{"t", "id, pad"}, {"ev", "id, v"}} {
		sn, ss := checksum(t, src, srcDB+"."+c.table, c.cols)
		dn, ds := checksum(t, dst, "`"+dstDB+"`."+c.table, c.cols)
		if sn != dn || ss != ds {
			t.Errorf("%s: source %s rows (sum %s), destination %s rows (sum %s)", c.table, sn, ss, dn, ds)
		}
	}

	// The history shows who changed what when: each update accepted with its
	// caller's identity and arguments.
	var changes []string
	for _, ev := range history(t, s, id).Events {
		if ev.GetEventType() != enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			continue
		}
		req := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest()
		if req.GetMeta().GetIdentity() == "" {
			t.Errorf("update %s without the caller's identity", req.GetInput().GetName())
		}
		changes = append(changes, req.GetInput().GetName()+" "+string(req.GetInput().GetArgs().GetPayloads()[0].GetData()))
	}
	got := strings.Join(changes, "\n")
	for _, want := range []string{`throttle {"full_rps":1000`, `"reason":"itest"`, "resume {", `throttle {"incr_rps":500`, "cutover"} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %q; updates:\n%s", want, got)
		}
	}
}

// webhook is a local HTTP server receiving alerts; it refuses the first POST
// (503) so the sender's retry is exercised.
func webhook(t *testing.T) (url string, received func() []alert.Event) {
	t.Helper()
	var mu sync.Mutex
	var events []alert.Event
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev alert.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			t.Errorf("alert payload: %v", err)
		}
		events = append(events, ev)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", func() []alert.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]alert.Event(nil), events...)
	}
}
