// Command portico runs Portico's portal and gateway and manages its store
// from a shell. This package only wires concrete parts together; what they
// do lives in the packages it imports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // bad command line or setting
)

// cli is the process's outside world, injected so tests can run commands
// in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

const usage = `Usage: portico <command> [flags]

Commands:
  serve                 portal and gateway in one process
  portal                the portal only
  gateway               the gateway only
  apply -f FILE         upsert a config file into the store (--dry-run, --prune)
  export                print the configuration as a config file (--dir DIR)
  migrate               apply pending schema migrations and exit
  user add              add an account (--email, --name, --admin, --password-stdin)
  user invite           invite someone by email and print the link (--email, --name, --admin)
  version               print version, commit and Go version

Run 'portico <command> -h' for the command's flags.
`

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return c.serve(ctx, "serve", rest, planePortal|planeGateway)
	case "portal":
		return c.serve(ctx, "portal", rest, planePortal)
	case "gateway":
		return c.serve(ctx, "gateway", rest, planeGateway)
	case "apply":
		return c.apply(ctx, rest)
	case "export":
		return c.export(ctx, rest)
	case "migrate":
		return c.migrate(ctx, rest)
	case "user":
		return c.user(ctx, rest)
	case "version", "--version":
		return c.version()
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "portico: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// parse parses args into fs with the settings flags added, validates the
// settings and returns them. A non-negative code means the caller should
// return it.
func (c *cli) parse(fs *flag.FlagSet, args []string) (*Settings, int) {
	fs.SetOutput(c.stderr)
	s := &Settings{}
	if err := s.registerFlags(fs, c.getenv); err != nil {
		fmt.Fprintf(c.stderr, "portico: %v\n", err)
		return nil, exitUsage
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil, exitOK
	} else if err != nil {
		return nil, exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "portico %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return nil, exitUsage
	}
	if err := s.Validate(); err != nil {
		fmt.Fprintf(c.stderr, "portico: %v\n", err)
		return nil, exitUsage
	}
	return s, -1
}

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func mailAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}
