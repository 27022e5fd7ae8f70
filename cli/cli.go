// Package cli is the `sluice` command line: validate, precheck, start, status, list,
// stop. starter/main.go only calls Main, so tests drive the very same code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sluice-dev/sluice/suggest"
)

// Version is the build's version, printed by `sluice version`.
var Version = "dev"

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is the outside world of one CLI run.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Interrupt is closed on Ctrl-C (used by --follow); may be nil.
	Interrupt <-chan struct{}
}

// globals are the flags every command takes.
type globals struct {
	Address   string
	Namespace string
	TaskQueue string
	UIURL     string
}

type command struct {
	name    string
	args    string
	summary string
	example string
	run     func(ctx context.Context, e *Env, g *globals, fs *pflag.FlagSet) (func() error, error)
}

// usageError is a mistake on the command line: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// failedError marks a run that printed its own explanation (e.g. a failed precheck
// report): exit code 1 with nothing more to say.
var errFailedQuietly = errors.New("failed")

func commands() []*command {
	return []*command{
		validateCmd(), precheckCmd(), startCmd(), statusCmd(), listCmd(), throttleCmd(), pauseCmd(), resumeCmd(), stopCmd(), cutoverCmd(), verifyCmd(),
	}
}

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, e *Env) int {
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if len(args) == 1 && (args[0] == "version" || args[0] == "--version") {
		fmt.Fprintf(e.Stdout, "sluice %s\n", Version)
		return ExitOK
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, e)
		}
		printUsage(e.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(e.Stderr, "sluice: unknown command %q%s\nRun 'sluice --help' for the list of commands.\n", args[0], suggestCommand(args[0]))
		return ExitUsage
	}
	fs := pflag.NewFlagSet("sluice "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g := &globals{}
	addGlobals(fs, g, e.Getenv)
	help := fs.BoolP("help", "h", false, "show this help")
	exec, err := cmd.run(ctx, e, g, fs)
	if err == nil {
		err = fs.Parse(args[1:])
		if err != nil {
			err = usageError{err.Error()}
		}
	}
	if err == nil && *help {
		printCommandHelp(e.Stdout, cmd, fs)
		return ExitOK
	}
	if err == nil {
		err = exec()
	}
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "sluice %s: %s\nRun 'sluice %s --help' for usage.\n", cmd.name, ue.msg, cmd.name)
		return ExitUsage
	case errors.Is(err, errFailedQuietly):
		return ExitFailure
	default:
		fmt.Fprintf(e.Stderr, "sluice %s: %v\n", cmd.name, err)
		return ExitFailure
	}
}

func addGlobals(fs *pflag.FlagSet, g *globals, getenv func(string) string) {
	def := func(env, d string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return d
	}
	fs.StringVar(&g.Address, "address", def("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	fs.StringVar(&g.Namespace, "namespace", def("SLUICE_NAMESPACE", "default"), "Temporal namespace (env SLUICE_NAMESPACE)")
	fs.StringVar(&g.TaskQueue, "task-queue", def("SLUICE_TASK_QUEUE", "sluice"), "task queue the workers poll (env SLUICE_TASK_QUEUE)")
	fs.StringVar(&g.UIURL, "ui-url", getenv("SLUICE_UI_URL"), "base URL of the Temporal Web UI for links (env SLUICE_UI_URL; default http://<address host>:8233)")
}

// uiBase is where links to the Web UI point.
func (g *globals) uiBase() string {
	if g.UIURL != "" {
		return strings.TrimRight(g.UIURL, "/")
	}
	host, _, err := net.SplitHostPort(g.Address)
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, "8233")
}

func (g *globals) workflowURL(id string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", g.uiBase(), g.Namespace, id)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "sluice: live migration of MySQL-compatible databases, run on Temporal.")
	fmt.Fprintln(w, "\nUsage: sluice COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "version", "Print the version of this build.")
	fmt.Fprintln(w, "\nGlobal flags (every command): --address, --namespace, --task-queue, --ui-url")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 failure, 2 usage error.")
	fmt.Fprintln(w, "Run 'sluice COMMAND --help' for a command's flags and an example.")
}

func printCommandHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "sluice %s %s\n\n%s\n\nFlags:\n%s\nExample:\n  %s\n", c.name, c.args, c.summary, fs.FlagUsages(), c.example)
}

func suggestCommand(name string) string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return suggest.DidYouMean(name, names)
}
