package activities

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

func TestPrecheckHandsBackOnWorkerStop(t *testing.T) {
	started := make(chan struct{})
	runPrecheck = func(ctx context.Context, s spec.Spec, lookup dbconn.LookupFunc, progress func(string)) precheck.Report {
		progress("grants")
		close(started)
		<-ctx.Done()
		return precheck.Report{}
	}
	defer func() { runPrecheck = nil }()

	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	var mu sync.Mutex
	var beats []string
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var st string
		if details.Get(&st) == nil {
			mu.Lock()
			beats = append(beats, st)
			mu.Unlock()
		}
	})
	a := &Activities{Log: zap.NewNop(), LookupEnv: func(string) (string, bool) { return "", false }}
	env.RegisterActivity(a)
	go func() { <-started; close(stop) }()
	_, err := env.ExecuteActivity(a.Precheck, spec.Spec{Name: "x"})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrWorkerStopping {
		t.Fatalf("want %s, got %v", ErrWorkerStopping, err)
	}
	if want := "step grants"; !strings.Contains(ae.Error(), want) {
		t.Fatalf("error %q does not say where it stopped (%q)", ae.Error(), want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(beats) < 2 || beats[len(beats)-1] != "grants" {
		t.Fatalf("heartbeats %v: want the step, and the step again when the worker stops", beats)
	}
}

func TestRegisterSecretsSeesExpandedPasswords(t *testing.T) {
	var got []string
	a := &Activities{Log: zap.NewNop(),
		LookupEnv: func(k string) (string, bool) { return map[string]string{"S": "s3cr3t"}[k], k == "S" },
		OnSecret:  func(s string) { got = append(got, s) }}
	a.registerSecrets(spec.Spec{Source: spec.Endpoint{Password: "${S}"}, Destination: spec.Endpoint{}})
	if len(got) != 1 || got[0] != "s3cr3t" {
		t.Fatalf("got %v", got)
	}
}
