package main

import (
	"context"
	"flag"
	"fmt"
)

func (c *cli) migrate(ctx context.Context, args []string) int {
	s, code := c.parse(flag.NewFlagSet("migrate", flag.ContinueOnError), args)
	if code >= 0 {
		return code
	}
	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico migrate: %v\n", err)
		return exitError
	}
	defer a.close()
	fmt.Fprintf(c.stdout, "Store %s is migrated.\n", s.DB)
	return exitOK
}
