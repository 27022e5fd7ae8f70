package logging

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Mask replaces a registered secret in log output.
const Mask = "******"

var (
	secretsMu sync.Mutex
	secrets   = map[string]struct{}{}
	// current is rebuilt on each registration and read lock-free on every log entry.
	current atomic.Pointer[strings.Replacer]
)

// RegisterSecret makes every later log entry written through a logger of this package
// (or any core wrapped by RedactCore) show Mask instead of s, in the message and in every
// field, including error strings and nested objects. Its URL-escaped forms are masked
// too, because DSNs and URLs in error messages carry passwords escaped. Empty strings
// are ignored. Registration is process-wide and permanent; it is meant for the handful of
// passwords a worker resolves.
func RegisterSecret(s string) {
	if s == "" {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, v := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
		secrets[v] = struct{}{}
	}
	rebuildLocked()
}

func rebuildLocked() {
	if len(secrets) == 0 {
		current.Store(nil)
		return
	}
	list := make([]string, 0, len(secrets))
	for s := range secrets {
		list = append(list, s)
	}
	// strings.Replacer tries pairs in argument order at each position, so the longest
	// secret must come first: a secret that is a prefix of another would otherwise leave
	// the other's tail in the output.
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	pairs := make([]string, 0, 2*len(list))
	for _, s := range list {
		pairs = append(pairs, s, Mask)
	}
	current.Store(strings.NewReplacer(pairs...))
}

// Redact returns s with every registered secret replaced by Mask. Use it for text that
// leaves the process by another way than a logger (an error printed by a CLI).
func Redact(s string) string {
	r := current.Load()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// RedactCore wraps core so that every entry it writes has registered secrets masked.
// Wrap a leaf core (zapcore.NewCore, an observer), not a Tee: the wrapper asks the inner
// core only whether a level is enabled, then writes to it.
func RedactCore(core zapcore.Core) zapcore.Core {
	return &redactCore{inner: core}
}

type redactCore struct {
	inner zapcore.Core
	// ctx holds the fields of With calls. They are kept here rather than handed to
	// inner.With, which would encode them at once: a secret registered afterwards (a
	// password resolved after a logger was derived) would then escape redaction.
	ctx []zapcore.Field
}

func (c *redactCore) Enabled(l zapcore.Level) bool { return c.inner.Enabled(l) }

func (c *redactCore) With(fields []zapcore.Field) zapcore.Core {
	return &redactCore{inner: c.inner, ctx: append(slices.Clip(c.ctx), fields...)}
}

func (c *redactCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *redactCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	all := fields
	if len(c.ctx) > 0 {
		all = make([]zapcore.Field, 0, len(c.ctx)+len(fields))
		all = append(append(all, c.ctx...), fields...)
	}
	r := current.Load()
	if r == nil {
		return c.inner.Write(e, all)
	}
	e.Message = r.Replace(e.Message)
	e.Stack = r.Replace(e.Stack)
	out := make([]zapcore.Field, len(all))
	for i, f := range all {
		out[i] = redactField(r, f)
	}
	return c.inner.Write(e, out)
}

func (c *redactCore) Sync() error { return c.inner.Sync() }

// redactField returns f, or a replacement field carrying the redacted value when f
// contains a secret. Numeric, boolean and time fields cannot carry text and pass as is.
func redactField(r *strings.Replacer, f zapcore.Field) zapcore.Field {
	f.Key = r.Replace(f.Key)
	switch f.Type {
	case zapcore.StringType:
		f.String = r.Replace(f.String)
	case zapcore.ByteStringType, zapcore.BinaryType:
		if b, ok := f.Interface.([]byte); ok {
			if s := string(b); r.Replace(s) != s {
				return zap.String(f.Key, r.Replace(s))
			}
		}
	case zapcore.ErrorType:
		err, ok := f.Interface.(error)
		if !ok || err == nil {
			return f
		}
		// zap logs both Error() and, for fmt.Formatter errors, "%+v"; check both.
		msg := safeString(func() string { return err.Error() })
		verbose := safeString(func() string { return fmt.Sprintf("%+v", err) })
		if r.Replace(msg) != msg || r.Replace(verbose) != verbose {
			return zap.String(f.Key, r.Replace(msg))
		}
	case zapcore.StringerType:
		s, ok := f.Interface.(fmt.Stringer)
		if !ok {
			return f
		}
		str := safeString(s.String)
		if red := r.Replace(str); red != str {
			return zap.String(f.Key, red)
		}
	case zapcore.ReflectType, zapcore.ObjectMarshalerType, zapcore.ArrayMarshalerType, zapcore.InlineMarshalerType:
		// Encode the field to plain Go values, then look for secrets in every string.
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		changed := false
		for k, v := range enc.Fields {
			nv, c := redactValue(r, v)
			if c {
				enc.Fields[k] = nv
				changed = true
			}
		}
		if !changed {
			return f
		}
		if f.Type == zapcore.InlineMarshalerType {
			return zap.Inline(mapObject(enc.Fields))
		}
		return zap.Any(f.Key, enc.Fields[f.Key])
	}
	return f
}

// redactValue walks a value produced by zapcore.MapObjectEncoder (nested maps, slices,
// strings, and raw values from AddReflected) and reports whether it changed anything.
func redactValue(r *strings.Replacer, v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return v, false
	case string:
		red := r.Replace(x)
		return red, red != x
	case []byte:
		s := string(x)
		red := r.Replace(s)
		return red, red != s
	case error:
		msg := safeString(x.Error)
		red := r.Replace(msg)
		return red, red != msg
	case fmt.Stringer:
		s := safeString(x.String)
		red := r.Replace(s)
		return red, red != s
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			ne, c := redactValue(r, e)
			out[r.Replace(k)] = ne
			changed = changed || c || r.Replace(k) != k
		}
		return out, changed
	case []any:
		changed := false
		out := make([]any, len(x))
		for i, e := range x {
			ne, c := redactValue(r, e)
			out[i] = ne
			changed = changed || c
		}
		return out, changed
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return v, false
	}
	// Structs, typed maps and slices from zap.Any/zap.Reflect: the JSON form is what an
	// encoder would print, so walk that.
	b, err := json.Marshal(v)
	if err != nil {
		s := fmt.Sprintf("%+v", v)
		red := r.Replace(s)
		return red, red != s
	}
	if s := string(b); r.Replace(s) == s && !strings.Contains(s, `\`) {
		// No secret in the JSON text and no escapes that could hide one.
		return v, false
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return v, false
	}
	nv, changed := redactValue(r, generic)
	if !changed {
		return v, false
	}
	return nv, true
}

// mapObject re-emits redacted inline fields in a stable order.
type mapObject map[string]any

func (m mapObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := enc.AddReflected(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// safeString calls f, turning a panic (a nil receiver's String) into text as zap does.
func safeString(f func() string) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("PANIC=%v", p)
		}
	}()
	return f()
}
