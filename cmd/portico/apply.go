package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/porticoapi/portico/configfile"
	"github.com/porticoapi/portico/portal"
)

func (c *cli) apply(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	file := fs.String("f", "", "the config `file` to apply")
	dryRun := fs.Bool("dry-run", false, "print the changes without writing them")
	prune := fs.Bool("prune", false, "also delete objects the file does not declare, in the sections it has")
	s, code := c.parse(fs, args)
	if code >= 0 {
		return code
	}
	if *file == "" {
		fmt.Fprint(c.stderr, "portico apply: -f FILE is required\n")
		return exitUsage
	}
	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico apply: %v\n", err)
		return exitError
	}
	defer a.close()
	plan, notes, err := a.plan(ctx, *file, *prune)
	if err != nil {
		return c.configError("apply", err)
	}
	for _, n := range notes {
		fmt.Fprintf(c.stderr, "note: %s\n", n)
	}
	plan.WriteDiff(c.stdout)
	if *dryRun || plan.Empty() {
		return exitOK
	}
	if err := configfile.Apply(ctx, plan, a.configfileConfig()); err != nil {
		return c.configError("apply", err)
	}
	fmt.Fprintf(c.stdout, "Applied %s.\n", *file)
	if !a.deliverInvitations(ctx, plan, c.stdout) {
		return exitError
	}
	return exitOK
}

// plan loads a config file and compares it with the store. Notes are what
// the file's converted parts (policies_xml) want the user to know.
func (a *app) plan(ctx context.Context, file string, prune bool) (*configfile.Plan, []string, error) {
	cfg := a.configfileConfig()
	f, err := configfile.Load(ctx, file, cfg)
	if err != nil {
		return nil, nil, err
	}
	plan, err := f.Plan(ctx, cfg, configfile.PlanOptions{Prune: prune})
	return plan, f.Notes(), err
}

// applyFile applies a config file at start (--config), as portico apply
// does without --prune, logging what changed.
func (a *app) applyFile(ctx context.Context, file string) error {
	plan, notes, err := a.plan(ctx, file, false)
	if err != nil {
		return err
	}
	for _, n := range notes {
		a.logger.WarnContext(ctx, "config file note", "note", n)
	}
	if plan.Empty() {
		a.logger.InfoContext(ctx, "config file unchanged", "file", file)
		return nil
	}
	if err := configfile.Apply(ctx, plan, a.configfileConfig()); err != nil {
		return err
	}
	a.logger.InfoContext(ctx, "config file applied", "file", file)
	a.deliverInvitations(ctx, plan, a.stdout)
	return nil
}

func (a *app) configfileConfig() configfile.Config {
	return configfile.Config{
		Store:      a.store,
		Getenv:     os.LookupEnv,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	}
}

// configError prints a config file's problems, which name file, line and
// key. Problems with the file's content exit 2, like bad settings; a store
// or I/O failure exits 1.
func (c *cli) configError(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "portico %s: %v\n", cmd, err)
	switch portal.ErrorCode(err) {
	case portal.EINVALID, portal.ECONFLICT:
		return exitUsage
	}
	return exitError
}

func (c *cli) export(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	dir := fs.String("dir", "", "write `DIR`/portico.yaml and DIR/specs/* instead of printing, so the export applies from anywhere")
	s, code := c.parse(fs, args)
	if code >= 0 {
		return code
	}
	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico export: %v\n", err)
		return exitError
	}
	defer a.close()
	if err := configfile.Export(ctx, a.configfileConfig(), c.stdout, configfile.ExportOptions{Dir: *dir}); err != nil {
		fmt.Fprintf(c.stderr, "portico export: %v\n", err)
		return exitError
	}
	if *dir != "" {
		fmt.Fprintf(c.stderr, "Exported to %s.\n", *dir)
	}
	return exitOK
}
