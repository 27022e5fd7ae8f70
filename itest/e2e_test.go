package itest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/testenv"
	"github.com/sluice-dev/sluice/workflows"
)

// historyText is the whole history of a workflow in its wire encoding, as anyone with
// access to Temporal (or its database) could read it. The binary form keeps payload
// bytes raw (protojson would base64 them and hide a leak from a substring search).
func historyText(t *testing.T, s *stack, id string) string {
	t.Helper()
	h := history(t, s, id)
	if len(h.Events) < 5 {
		t.Fatalf("history of %s has only %d events", id, len(h.Events))
	}
	b, err := proto.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func history(t *testing.T, s *stack, id string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := s.client.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

func setupDB(t *testing.T, env *testenv.Env, db string) {
	t.Helper()
	q := testenv.QuoteIdent(db)
	ctx := context.Background()
	if err := env.Source.Exec(ctx,
		"DROP DATABASE IF EXISTS "+q, "CREATE DATABASE "+q,
		"CREATE TABLE "+q+".`order` (id BIGINT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB",
		"CREATE TABLE "+q+".`my-table` (a INT NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a, b)) ENGINE=InnoDB",
		"INSERT INTO "+q+".`order` VALUES (1, 'x'), (2, 'y')",
	); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+q) })
}

func TestPrecheckAndStartEndToEndWithoutLeakingPasswords(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	setupDB(t, env, "it_shop")
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	file := writeFile(t, "e2e", workflowFile(env, "e2e", "it_shop", ""))

	code, out, _ := s.sluice(t, "validate", "-f", file)
	if code != 0 || !strings.Contains(out, "${IT_SRC_PASSWORD}") {
		t.Fatalf("validate: exit %d, want the reference (not a value) printed", code)
	}

	code, out, _ = s.sluice(t, "precheck", "-f", file)
	if code != 0 || !strings.Contains(out, "Precheck passed") || !strings.Contains(out, "Success rate: 100.0%") {
		t.Fatalf("precheck against healthy servers: exit %d", code)
	}
	for _, id := range []string{precheck.IDSourceConnect, precheck.IDDestinationConnect, precheck.IDObjectsExist, precheck.IDDestinationConflicts} {
		if !strings.Contains(out, id) {
			t.Errorf("report lacks item %s", id)
		}
	}

	code, out, _ = s.sluice(t, "start", "-f", file, "--follow")
	if code != 0 || !strings.Contains(out, "Started workflow sluice-e2e") || !strings.Contains(out, "/namespaces/default/workflows/sluice-e2e") {
		t.Fatalf("start --follow: exit %d", code)
	}

	code, out, _ = s.sluice(t, "status", "sluice-e2e", "--json")
	var st struct {
		State    string          `json:"state"`
		Precheck precheck.Report `json:"precheck"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.State != "completed" || len(st.Precheck.Items) == 0 {
		t.Fatalf("status --json: exit %d, parsed %+v", code, st)
	}
	if st.Precheck.Items[0].ID != precheck.IDSourceConnect || st.Precheck.Items[0].Status != precheck.Pass {
		t.Fatalf("the worker did not connect with the expanded password: %+v", st.Precheck.Items[0])
	}

	// The password reached the servers (connect passed) but nowhere in Temporal.
	for _, id := range []string{"sluice-e2e-precheck", "sluice-e2e"} {
		h := historyText(t, s, id)
		if !strings.Contains(h, "IT_SRC_PASSWORD") {
			t.Fatalf("history of %s does not even hold the reference: the check is looking at the wrong thing", id)
		}
		for _, pw := range []string{env.Source.RootPassword, env.Destination.RootPassword} {
			if strings.Contains(h, pw) {
				t.Fatalf("a password appears in the history of %s", id)
			}
		}
	}
	for _, pw := range []string{env.Source.RootPassword, env.Destination.RootPassword} {
		if strings.Contains(s.logs.String(), pw) {
			t.Fatal("a password appears in the worker's log")
		}
	}

	// The Web UI serves the precheck workflow's history (what a user sees at :8233).
	resp, err := http.Get(s.srv.UIAddress() + "/api/v1/namespaces/default/workflows/sluice-e2e-precheck/history")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Precheck") {
		t.Fatalf("UI history API: %d %.300s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), env.Source.RootPassword) {
		t.Fatal("the password is visible in the Web UI")
	}

	// The real histories replay against the workflow code: it is deterministic.
	replayer := worker.NewWorkflowReplayer()
	workflows.Register(replayer)
	for _, id := range []string{"sluice-e2e-precheck", "sluice-e2e"} {
		h := history(t, s, id)
		opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}}
		if err := replayer.ReplayWorkflowHistoryWithOptions(nil, h, opts); err != nil {
			t.Fatalf("replay %s: %v", id, err)
		}
	}

	code, out, _ = s.sluice(t, "list", "--all")
	if code != 0 || !strings.Contains(out, "sluice-e2e-precheck") || !strings.Contains(out, "Migration") {
		t.Fatalf("list --all: exit %d", code)
	}
}

func TestFailedPrecheckStopsMigrationAndWritesNothing(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	setupDB(t, env, "it_missing")
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	body := strings.Replace(workflowFile(env, "missing", "it_missing", ""), `tables: ["*"]`, `tables: [order, no_such_table]`, 1)
	file := writeFile(t, "missing", body)

	code, out, _ := s.sluice(t, "start", "-f", file, "--follow")
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "no_such_table") || !strings.Contains(out, "nothing was written") {
		t.Fatalf("start on a missing table: exit %d", code)
	}
	db, err := env.Destination.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'it_missing'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("destination was written to: %d %v", n, err)
	}
	code, out, _ = s.sluice(t, "status", "sluice-missing")
	if code != 0 || !strings.Contains(out, "failed") || !strings.Contains(out, precheck.IDObjectsExist) {
		t.Fatalf("status after failed precheck: exit %d", code)
	}
}

func TestWrongPasswordIsAReportItemWithoutTheSecret(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	setupDB(t, env, "it_wrongpw")
	const wrong = "Wr0ng-Secret-Value-4711"
	file := writeFile(t, "wrongpw", strings.Replace(workflowFile(env, "wrongpw", "it_wrongpw", ""), "${IT_SRC_PASSWORD}", "${IT_WRONG_PASSWORD}", 1))
	s.setEnv("IT_WRONG_PASSWORD", wrong)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	code, out, errOut := s.sluice(t, "precheck", "-f", file)
	if code != 1 || !strings.Contains(out, precheck.IDSourceConnect) || !strings.Contains(out, "Access denied") {
		t.Fatalf("precheck with a wrong password: exit %d", code)
	}
	if strings.Contains(out+errOut+historyText(t, s, "sluice-wrongpw-precheck")+s.logs.String(), wrong) {
		t.Fatal("the wrong password leaked into output, history or logs")
	}
	// An unset variable names the variable and where to set it.
	s.setEnv("IT_WRONG_PASSWORD", "")
	code, out, _ = s.sluice(t, "precheck", "-f", file)
	if code != 1 || !strings.Contains(out, "IT_WRONG_PASSWORD") {
		t.Fatalf("precheck with an unset password variable: exit %d", code)
	}
}

func TestCLIUsageAndStop(t *testing.T) {
	s := startStack(t)
	if code, _, errOut := s.sluice(t, "strat"); code != 2 || !strings.Contains(errOut, `did you mean "start"`) {
		t.Fatalf("unknown command: exit %d", code)
	}
	if code, _, _ := s.sluice(t, "precheck"); code != 2 {
		t.Fatalf("missing -f: exit %d", code)
	}
	if code, out, _ := s.sluice(t, "start", "--help"); code != 0 || !strings.Contains(out, "Example:") {
		t.Fatalf("start --help: exit %d", code)
	}
	bad := writeFile(t, "bad", "name: x\nsource: {host: h, user: u, hots: 1}\n")
	if code, _, errOut := s.sluice(t, "validate", "-f", bad); code != 1 || !strings.Contains(errOut, "bad.yaml:2:") || !strings.Contains(errOut, `"host"`) {
		t.Fatalf("validate on a typo: exit %d", code)
	}
	if code, _, errOut := s.sluice(t, "stop", "sluice-does-not-exist"); code != 1 || !strings.Contains(errOut, "no running workflow") {
		t.Fatalf("stop unknown: exit %d", code)
	}
	// A workflow on a queue no worker polls stays running until stopped.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.client.ExecuteWorkflow(ctx, clientStart("sluice-stopme", "nobody-polls"), "Migration", map[string]any{"name": "stopme"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := s.sluice(t, "stop", "sluice-stopme", "--force"); code != 0 {
		t.Fatalf("stop --force: exit %d", code)
	}
	desc, err := s.client.DescribeWorkflowExecution(ctx, "sluice-stopme", "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Fatalf("not terminated: %v %v", err, desc.GetWorkflowExecutionInfo().GetStatus())
	}
}
