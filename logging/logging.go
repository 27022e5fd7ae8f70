// Package logging builds the zap loggers of the sluice binaries, adapts them to the
// Temporal SDK logger interface, and redacts registered secrets from every entry.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Formats and Levels list the accepted values, for flag help and error messages.
var (
	Formats = []string{"console", "json"}
	Levels  = []string{"debug", "info", "warn", "error"}
)

// New returns a logger writing to stderr in the given format ("console" or "json") at
// the given level ("debug", "info", "warn" or "error"). Every entry passes through the
// secret redaction of RegisterSecret.
func New(format, level string) (*zap.Logger, error) {
	return newLogger(format, level, zapcore.Lock(os.Stderr))
}

// newLogger is New with the output as a parameter, so tests can read what was logged.
func newLogger(format, level string, out zapcore.WriteSyncer) (*zap.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	enc, err := newEncoder(format)
	if err != nil {
		return nil, err
	}
	core := RedactCore(zapcore.NewCore(enc, out, lvl))
	// Stack traces only on DPanic and above: Temporal logs ordinary retries at error level
	// and a stack on each would drown the message.
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.DPanicLevel)), nil
}

// NewWriter is New writing to w instead of stderr (used by tests of other packages that
// want to inspect the log output).
func NewWriter(format, level string, w io.Writer) (*zap.Logger, error) {
	return newLogger(format, level, zapcore.AddSync(w))
}

// ParseLevel parses one of Levels (case-insensitive).
func ParseLevel(level string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn", "warning":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return zapcore.InfoLevel, fmt.Errorf("invalid log level %q: want one of %s", level, strings.Join(Levels, ", "))
}

// ValidateFormat reports whether format is one of Formats (case-insensitive).
func ValidateFormat(format string) error {
	_, err := newEncoder(format)
	return err
}

func newEncoder(format string) (zapcore.Encoder, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "console":
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		return zapcore.NewConsoleEncoder(cfg), nil
	case "json":
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		cfg.EncodeDuration = zapcore.StringDurationEncoder
		return zapcore.NewJSONEncoder(cfg), nil
	}
	return nil, fmt.Errorf("invalid log format %q: want one of %s", format, strings.Join(Formats, ", "))
}
