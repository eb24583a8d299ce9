// Command portico-bench measures Portico side by side with baselines on
// loopback and prints the ratios (`make bench`). Every server runs in its
// own process (this binary re-executes itself in a role), so each gets the
// machine to itself while it is measured, and the same load generator drives
// all of them, interleaved over several rounds with the order rotated.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "backend":
			exit(serveBackend(ctx, os.Args[2]))
		case "bareproxy":
			exit(serveBareProxy(ctx, os.Args[2], os.Args[3]))
		case "static":
			exit(serveStatic(ctx, os.Args[2], os.Args[3]))
		}
	}
	var o options
	flag.StringVar(&o.portico, "portico", "bin/portico", "the portico binary to measure")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each measures every configuration once, in rotated order")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "load time per configuration per round")
	flag.IntVar(&o.conns, "conns", 16, "concurrent connections")
	flag.IntVar(&o.apis, "apis", 1000, "APIs in the catalogue")
	flag.IntVar(&o.tokens, "tokens", 80000, "distinct RS256 tokens for the fresh-token configuration")
	flag.Parse()
	exit(run(ctx, o))
}

func exit(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "portico-bench: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
