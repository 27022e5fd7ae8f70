// Command sluice is the starter CLI: validate, precheck, start, status, list, stop.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluice-dev/sluice/cli"
)

// version is set at build time (make build: -X main.version=...).
var version = "dev"

func main() {
	interrupt := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-sig
		close(interrupt)
		// A second Ctrl-C stops waiting at once.
		<-sig
		cancel()
	}()
	cli.Version = version
	code := cli.Main(ctx, os.Args[1:], &cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Interrupt: interrupt})
	cancel()
	os.Exit(code)
}
