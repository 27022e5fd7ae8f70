package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

func testSpec() spec.Spec {
	return spec.Spec{Name: "t", Types: []spec.MigrationType{spec.TypeSchema, spec.TypeFull}}
}

func report(items ...precheck.Item) precheck.Report { return precheck.Report{Items: items} }

func runMigration(t *testing.T, s spec.Spec, r precheck.Report) (Result, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(ctx context.Context, got spec.Spec) (precheck.Report, error) {
		if got.Name != s.Name {
			return precheck.Report{}, errors.New("activity got another spec")
		}
		return r, nil
	}, activity.RegisterOptions{Name: precheckActivity})
	(&fakeSchema{}).register(env)
	(&fakeFull{}).registerAll(env)
	env.ExecuteWorkflow(Migration, s)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res Result
	err := env.GetWorkflowError()
	if err == nil {
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
	}
	return res, err
}

func TestMigrationStopsOnFailedPrecheck(t *testing.T) {
	r := report(precheck.Item{ID: precheck.IDLogBin, Status: precheck.Fail, Message: "log_bin is OFF"},
		precheck.Item{ID: precheck.IDSourceConnect, Status: precheck.Pass})
	_, err := runMigration(t, testSpec(), r)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrPrecheckFailed {
		t.Fatalf("want a %s application error, got %v", ErrPrecheckFailed, err)
	}
	var got precheck.Report
	if err := ae.Details(&got); err != nil || len(got.Items) != 2 || got.Items[0].Message != "log_bin is OFF" {
		t.Fatalf("report not carried in details: %v %+v", err, got)
	}
}

func TestMigrationStopsOnUnacceptedWarning(t *testing.T) {
	r := report(precheck.Item{ID: precheck.IDEngines, Status: precheck.Warn, Message: "MyISAM"})
	if _, err := runMigration(t, testSpec(), r); err == nil {
		t.Fatal("a warning not in ignore_warnings must stop the migration")
	}
	s := testSpec()
	s.Options.IgnoreWarnings = []string{precheck.IDEngines}
	res, err := runMigration(t, s, r)
	if err != nil {
		t.Fatalf("an ignored warning must not stop the migration: %v", err)
	}
	if res.Phase != PhaseDone || res.Precheck == nil || len(res.Precheck.Items) != 1 {
		t.Fatalf("unexpected result %+v", res)
	}
}

func TestPrecheckWorkflowReturnsReportEvenWithFailures(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	want := report(precheck.Item{ID: precheck.IDSourceConnect, Status: precheck.Fail, Message: "refused"})
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) { return want, nil },
		activity.RegisterOptions{Name: precheckActivity})
	env.ExecuteWorkflow(Precheck, testSpec())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got precheck.Report
	if err := env.GetWorkflowResult(&got); err != nil || len(got.Items) != 1 || got.Items[0].Status != precheck.Fail {
		t.Fatalf("got %+v %v", got, err)
	}
}

func TestPrecheckActivityErrorIsRetriedThenFails(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	var calls int32
	env.RegisterActivityWithOptions(func(ctx context.Context, s spec.Spec) (precheck.Report, error) {
		calls++
		return precheck.Report{}, errors.New("boom")
	}, activity.RegisterOptions{Name: precheckActivity})
	env.ExecuteWorkflow(Migration, testSpec())
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("want an error")
	}
	if calls != precheckOptions().RetryPolicy.MaximumAttempts {
		t.Fatalf("activity ran %d times, want %d", calls, precheckOptions().RetryPolicy.MaximumAttempts)
	}
}

// A failed migration posts its alert (options.alerts) before it ends, naming
// the phase and the reason; without a webhook nothing is sent.
func TestFailureIsAlerted(t *testing.T) {
	for _, webhook := range []string{"${HOOK}", ""} {
		s := testSpec()
		s.Options.Alerts.Webhook = webhook
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestWorkflowEnvironment()
		env.RegisterActivityWithOptions(func(ctx context.Context, _ spec.Spec) (precheck.Report, error) {
			return report(precheck.Item{ID: precheck.IDLogBin, Status: precheck.Fail, Message: "log_bin is OFF"}), nil
		}, activity.RegisterOptions{Name: precheckActivity})
		var sent []AlertEvent
		env.RegisterActivityWithOptions(func(ctx context.Context, got spec.Spec, ev AlertEvent) error {
			sent = append(sent, ev)
			if len(sent) == 1 {
				return errors.New("webhook down") // retried
			}
			return nil
		}, activity.RegisterOptions{Name: sendAlertActivity})
		env.ExecuteWorkflow(Migration, s)
		if env.GetWorkflowError() == nil {
			t.Fatal("the migration must fail")
		}
		if webhook == "" {
			if len(sent) != 0 {
				t.Errorf("alerts without a webhook: %+v", sent)
			}
			continue
		}
		if len(sent) != 2 || sent[1].Event != "task_failed" || sent[1].Phase != PhasePrecheck || sent[1].Task == "" ||
			sent[1].Message != "precheck: 1 item(s) block the migration; nothing was written to the destination" {
			t.Errorf("alerts %+v", sent)
		}
	}
}
