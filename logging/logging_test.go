package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	sdklog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// resetSecrets forgets every registered secret; registration is process-wide.
func resetSecrets(t *testing.T) {
	t.Helper()
	reset := func() {
		secretsMu.Lock()
		defer secretsMu.Unlock()
		secrets = map[string]struct{}{}
		rebuildLocked()
	}
	reset()
	t.Cleanup(reset)
}

func jsonLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

func TestNewValidatesFormatAndLevel(t *testing.T) {
	for _, tc := range []struct {
		format, level, wantErr string
	}{
		{"console", "info", ""},
		{"JSON", "Debug", ""},
		{"json", "warning", ""},
		{"xml", "info", `invalid log format "xml": want one of console, json`},
		{"console", "verbose", `invalid log level "verbose": want one of debug, info, warn, error`},
		{"", "info", `invalid log format ""`},
	} {
		l, err := NewWriter(tc.format, tc.level, &bytes.Buffer{})
		if tc.wantErr == "" {
			if err != nil || l == nil {
				t.Errorf("New(%q, %q) = %v, %v; want a logger", tc.format, tc.level, l, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("New(%q, %q) error = %v; want it to contain %q", tc.format, tc.level, err, tc.wantErr)
		}
	}
}

func TestLevelFilters(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewWriter("json", "warn", &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown", zap.Int("n", 3))
	lines := jsonLines(t, &buf)
	if len(lines) != 1 || lines[0]["msg"] != "shown" || lines[0]["level"] != "warn" || lines[0]["n"] != float64(3) {
		t.Fatalf("got %v; want only the warn entry with n=3", lines)
	}
}

func TestConsoleFormat(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewWriter("console", "debug", &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hello", zap.String("table", "orders"))
	out := buf.String()
	if !strings.Contains(out, "DEBUG") || !strings.Contains(out, "hello") || !strings.Contains(out, `{"table": "orders"}`) {
		t.Fatalf("console output %q lacks level, message or fields", out)
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("console output looks like JSON: %q", out)
	}
}

type secretStruct struct {
	User     string
	Password string
	Nested   []map[string]string
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type obj struct{ dsn string }

func (o obj) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("dsn", o.dsn)
	enc.AddInt("port", 3306)
	return nil
}

func TestRedactSecrets(t *testing.T) {
	resetSecrets(t)
	const secret = `s3cr"et/pw`
	var buf bytes.Buffer
	l, err := NewWriter("json", "debug", &buf)
	if err != nil {
		t.Fatal(err)
	}
	// A logger derived before the secret is known must still redact its context fields.
	derived := l.With(zap.String("ctx", "dsn=root:"+secret+"@tcp"))

	RegisterSecret(secret)
	RegisterSecret("") // ignored, must not mask everything

	wrapped := fmt.Errorf("connect: %w", errors.New("access denied for password "+secret))
	derived.Info("password is "+secret,
		zap.String("plain", secret),
		zap.Error(wrapped),
		zap.NamedError("other", errors.New("no secret here")),
		zap.Stringer("str", stringer{"x" + secret + "y"}),
		zap.Any("struct", secretStruct{User: "root", Password: secret, Nested: []map[string]string{{"k": secret}}}),
		zap.Object("obj", obj{dsn: "mysql://root:" + secret + "@host"}),
		zap.Strings("list", []string{"a", secret}),
		zap.ByteString("bytes", []byte(secret)),
		zap.String("escaped", "mysql://root:"+strings.ReplaceAll(strings.ReplaceAll(secret, `"`, "%22"), "/", "%2F")+"@h"),
		zap.Inline(obj{dsn: secret}),
		zap.Int("count", 7),
	)
	out := buf.String()
	if strings.Contains(out, "s3cr") {
		t.Fatalf("secret (or part of it) leaked into the log: %s", out)
	}
	lines := jsonLines(t, &buf)
	if len(lines) != 1 {
		t.Fatalf("want 1 line, got %d: %s", len(lines), out)
	}
	m := lines[0]
	want := map[string]any{
		"msg":     "password is " + Mask,
		"plain":   Mask,
		"ctx":     "dsn=root:" + Mask + "@tcp",
		"error":   "connect: access denied for password " + Mask,
		"other":   "no secret here",
		"str":     "x" + Mask + "y",
		"bytes":   Mask,
		"escaped": "mysql://root:" + Mask + "@h",
		"dsn":     Mask,
		"count":   float64(7),
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("field %q = %#v; want %#v", k, m[k], v)
		}
	}
	st, _ := m["struct"].(map[string]any)
	if st["Password"] != Mask || st["User"] != "root" {
		t.Errorf("struct field = %#v; want Password masked and User kept", m["struct"])
	}
	if o, _ := m["obj"].(map[string]any); o["dsn"] != "mysql://root:"+Mask+"@host" || o["port"] != float64(3306) {
		t.Errorf("object field = %#v; want dsn masked and port kept", m["obj"])
	}
	if list, _ := m["list"].([]any); len(list) != 2 || list[0] != "a" || list[1] != Mask {
		t.Errorf("list field = %#v; want [a %s]", m["list"], Mask)
	}
}

func TestRedactLongestSecretFirst(t *testing.T) {
	resetSecrets(t)
	RegisterSecret("abc")
	RegisterSecret("abcdef")
	if got := Redact("x abcdef y abc z"); got != "x "+Mask+" y "+Mask+" z" {
		t.Fatalf("Redact = %q; the longer secret must be masked whole", got)
	}
}

func TestRedactNoSecretsPassesThrough(t *testing.T) {
	resetSecrets(t)
	var buf bytes.Buffer
	l, err := NewWriter("json", "info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("nothing to hide", zap.String("k", "v"))
	lines := jsonLines(t, &buf)
	if len(lines) != 1 || lines[0]["msg"] != "nothing to hide" || lines[0]["k"] != "v" {
		t.Fatalf("got %v", lines)
	}
}

func TestSDKLogger(t *testing.T) {
	resetSecrets(t)
	var buf bytes.Buffer
	l, err := NewWriter("json", "info", &buf)
	if err != nil {
		t.Fatal(err)
	}
	sdk := NewSDKLogger(l)
	sdk.Debug("dropped", "k", 1)
	sdk.Info("started", "Namespace", "default", "TaskQueue", "sluice", 42, "numeric key", "odd")
	child := sdk.(sdklog.WithLogger).With("WorkflowID", "wf-1")
	RegisterSecret("hunter2")
	child.Error("failed", "Error", errors.New("bad password hunter2"))
	sdk.(sdklog.WithSkipCallers).WithCallerSkip(0).Warn("warned")

	lines := jsonLines(t, &buf)
	if len(lines) != 3 {
		t.Fatalf("want 3 lines (debug dropped), got %d: %s", len(lines), buf.String())
	}
	first := lines[0]
	if first["msg"] != "started" || first["level"] != "info" || first["Namespace"] != "default" ||
		first["TaskQueue"] != "sluice" || first["42"] != "numeric key" || first[badKey] != "odd" {
		t.Errorf("info entry = %v", first)
	}
	// The caller must be this test file, not the adapter.
	if c, _ := first["caller"].(string); !strings.HasPrefix(c, "logging/logging_test.go:") {
		t.Errorf("caller = %q; want the test's call site", first["caller"])
	}
	second := lines[1]
	if second["msg"] != "failed" || second["level"] != "error" || second["WorkflowID"] != "wf-1" ||
		second["Error"] != "bad password "+Mask {
		t.Errorf("error entry = %v", second)
	}
	if lines[2]["msg"] != "warned" || lines[2]["level"] != "warn" {
		t.Errorf("warn entry = %v", lines[2])
	}
}

func TestRegisterSecretWhileLogging(t *testing.T) {
	resetSecrets(t)
	l, err := NewWriter("json", "info", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				l.Info("tick", zap.Int("i", i), zap.Int("j", j), zap.String("s", "pw-"+strconv.Itoa(j)))
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 50 {
				RegisterSecret("pw-" + strconv.Itoa(i*50+j))
			}
		}()
	}
	wg.Wait()
	if got := Redact("pw-199"); got != Mask {
		t.Fatalf("Redact after concurrent registration = %q", got)
	}
}
