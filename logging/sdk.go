package logging

import (
	"fmt"

	sdklog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// sdkLogger adapts a zap logger to the Temporal SDK's key/value logger interface.
type sdkLogger struct {
	z *zap.Logger
}

var (
	_ sdklog.Logger          = (*sdkLogger)(nil)
	_ sdklog.WithLogger      = (*sdkLogger)(nil)
	_ sdklog.WithSkipCallers = (*sdkLogger)(nil)
)

// NewSDKLogger returns a Temporal SDK logger (client.Options.Logger,
// worker.Options.Logger) that writes to z. The SDK's key/value pairs become zap fields.
func NewSDKLogger(z *zap.Logger) sdklog.Logger {
	// Skip the adapter's two frames (Info and log) so the caller shown is the SDK's (or
	// workflow's) call site.
	return &sdkLogger{z: z.WithOptions(zap.AddCallerSkip(2))}
}

func (l *sdkLogger) Debug(msg string, keyvals ...any) { l.log(zapcore.DebugLevel, msg, keyvals) }
func (l *sdkLogger) Info(msg string, keyvals ...any)  { l.log(zapcore.InfoLevel, msg, keyvals) }
func (l *sdkLogger) Warn(msg string, keyvals ...any)  { l.log(zapcore.WarnLevel, msg, keyvals) }
func (l *sdkLogger) Error(msg string, keyvals ...any) { l.log(zapcore.ErrorLevel, msg, keyvals) }

// With returns a logger that adds keyvals to every entry.
func (l *sdkLogger) With(keyvals ...any) sdklog.Logger {
	return &sdkLogger{z: l.z.With(keyvalFields(keyvals)...)}
}

// WithCallerSkip returns a logger that skips depth more stack frames for the caller.
func (l *sdkLogger) WithCallerSkip(depth int) sdklog.Logger {
	return &sdkLogger{z: l.z.WithOptions(zap.AddCallerSkip(depth))}
}

func (l *sdkLogger) log(lvl zapcore.Level, msg string, keyvals []any) {
	// Check first so disabled levels cost no field conversion.
	if ce := l.z.Check(lvl, msg); ce != nil {
		ce.Write(keyvalFields(keyvals)...)
	}
}

// badKey names a value that came without a key (odd number of keyvals), as log/slog does.
const badKey = "!BADKEY"

func keyvalFields(keyvals []any) []zap.Field {
	if len(keyvals) == 0 {
		return nil
	}
	fields := make([]zap.Field, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		if i+1 == len(keyvals) {
			fields = append(fields, zap.Any(badKey, keyvals[i]))
			break
		}
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		fields = append(fields, zap.Any(key, keyvals[i+1]))
	}
	return fields
}
