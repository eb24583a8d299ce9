package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

func (c *cli) user(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(c.stderr, "Usage: portico user add --email E --name N [--admin] [--password-stdin]\n")
		return exitUsage
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "the account's email address")
	name := fs.String("name", "", "the account's display name")
	admin := fs.Bool("admin", false, "make the account an administrator")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise one is generated and printed)")
	s, code := c.parse(fs, args[1:])
	if code >= 0 {
		return code
	}
	if *email == "" || *name == "" {
		fmt.Fprint(c.stderr, "portico user add: --email and --name are required\n")
		return exitUsage
	}

	password, generated := "", false
	if *pwStdin {
		line, err := bufio.NewReader(io.LimitReader(c.stdin, auth.MaxPasswordBytes+2)).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(c.stderr, "portico user add: read password: %v\n", err)
			return exitError
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = rand.Text(), true
	}
	if err := auth.ValidatePassword(password, 0); err != nil {
		fmt.Fprintf(c.stderr, "portico user add: %s\n", portal.ErrorMessage(err))
		return exitUsage
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico user add: %v\n", err)
		return exitError
	}
	u := &portal.User{Email: *email, Name: *name, Role: portal.RoleDeveloper, State: portal.UserActive, PasswordHash: hash}
	if *admin {
		u.Role = portal.RoleAdmin
	}
	if err := u.Validate(); err != nil {
		fmt.Fprintf(c.stderr, "portico user add: %s\n", portal.ErrorMessage(err))
		return exitUsage
	}

	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico user add: %v\n", err)
		return exitError
	}
	defer a.close()
	if err := a.store.CreateUser(ctx, u); err != nil {
		fmt.Fprintf(c.stderr, "portico user add: %s\n", portal.ErrorMessage(err))
		if portal.ErrorCode(err) == portal.EINTERNAL {
			a.logger.ErrorContext(ctx, "create user", "error", err)
		}
		return exitError
	}
	fmt.Fprintf(c.stdout, "Added %s %s <%s>.\n", u.Role, u.Name, u.Email)
	if generated {
		fmt.Fprintf(c.stdout, "Password (shown once): %s\n", password)
	}
	return exitOK
}
