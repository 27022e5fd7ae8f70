package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/precheck"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

func TestUsageAndHelp(t *testing.T) {
	if code, out, _ := run(); code != ExitUsage || !strings.Contains(out, "Commands:") {
		t.Fatalf("no args: %d", code)
	}
	if code, out, _ := run("--help"); code != ExitOK || !strings.Contains(out, "validate") {
		t.Fatalf("--help: %d", code)
	}
	for _, c := range commands() {
		code, out, _ := run(c.name, "--help")
		if code != ExitOK || !strings.Contains(out, "Example:\n  sluice "+c.name) || !strings.Contains(out, "--address") {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, out)
		}
	}
	if code, _, errOut := run("stauts"); code != ExitUsage || !strings.Contains(errOut, `did you mean "status"`) {
		t.Fatalf("typo: %d %s", code, errOut)
	}
	if code, _, _ := run("status"); code != ExitUsage {
		t.Fatalf("status without ID: %d", code)
	}
	if code, _, _ := run("validate", "--bogus"); code != ExitUsage {
		t.Fatalf("unknown flag: %d", code)
	}
	if code, out, _ := run("version"); code != ExitOK || !strings.HasPrefix(out, "sluice ") {
		t.Fatalf("version: %d", code)
	}
}

func TestValidateExample(t *testing.T) {
	code, out, errOut := run("validate", "-f", "../examples/shop.yaml")
	if code != ExitOK || !strings.Contains(out, "password: ${SRC_PASSWORD}") || !strings.Contains(out, "Workflow ID: sluice-shop-demo") {
		t.Fatalf("validate: %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run("validate", "-f", "../examples/no-such-file.yaml"); code != ExitFailure || !strings.Contains(errOut, "no-such-file.yaml") {
		t.Fatalf("missing file: %d %s", code, errOut)
	}
}

func TestUnreachableTemporalIsAClearFailure(t *testing.T) {
	code, _, errOut := run("list", "--address", "127.0.0.1:1")
	if code != ExitFailure || !strings.Contains(errOut, "127.0.0.1:1") || !strings.Contains(errOut, "--dev") {
		t.Fatalf("unreachable: %d %s", code, errOut)
	}
}

func TestPrintReport(t *testing.T) {
	r := precheck.Report{Items: []precheck.Item{
		{ID: "a", Status: precheck.Pass, Message: "fine"},
		{ID: "b", Status: precheck.Warn, Message: "meh", Remedy: "do x"},
		{ID: "c", Status: precheck.Warn, Message: "accepted"},
		{ID: "d", Status: precheck.Fail, Message: "bad", Remedy: "do y"},
	}}
	var out bytes.Buffer
	if n := PrintReport(&out, r, []string{"c"}); n != 2 {
		t.Fatalf("blocking = %d, want 2 (b and d)", n)
	}
	s := out.String()
	for _, want := range []string{"FAIL", "warn (ignored)", "-> do y", "-> do x", "Success rate: 25.0% (1 of 4 passed, 2 warning(s), 1 failure(s))"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}
