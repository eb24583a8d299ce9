package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/configfile"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
)

func (c *cli) user(ctx context.Context, args []string) int {
	if len(args) > 0 && args[0] == "invite" {
		return c.userInvite(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprint(c.stderr, "Usage: portico user add --email E --name N [--admin] [--password-stdin]\n"+
			"       portico user invite --email E [--name N] [--admin]\n")
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

// userInvite invites someone as the portal's invitation page does: a
// pending account and a one-time link, valid for the settings'
// invitation_ttl. The link, built from --public-url, is always printed, so
// that it can be handed over however suits; it is also mailed through the
// portal's mail: SMTP with --smtp-url, otherwise the outbox (the
// /admin/outbox page). A failed mail leaves the invitation and its printed
// link in place and exits 1.
func (c *cli) userInvite(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("user invite", flag.ContinueOnError)
	email := fs.String("email", "", "the invited person's email address")
	name := fs.String("name", "", "their display name (default: the part of the address before the @)")
	admin := fs.Bool("admin", false, "invite an administrator")
	s, code := c.parse(fs, args)
	if code >= 0 {
		return code
	}
	if *email == "" {
		fmt.Fprint(c.stderr, "portico user invite: --email is required\n")
		return exitUsage
	}
	role := portal.RoleDeveloper
	if *admin {
		role = portal.RoleAdmin
	}
	if err := portal.ValidateEmail(portal.NormalizeEmail(*email)); err != nil {
		fmt.Fprintf(c.stderr, "portico user invite: %s\n", portal.ErrorMessage(err))
		return exitUsage
	}
	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico user invite: %v\n", err)
		return exitError
	}
	defer a.close()
	inv, err := auth.Invite(ctx, a.store, *email, *name, role, time.Now())
	if err != nil {
		fmt.Fprintf(c.stderr, "portico user invite: %s\n", portal.ErrorMessage(err))
		switch portal.ErrorCode(err) {
		case portal.EINVALID:
			return exitUsage
		case portal.EINTERNAL:
			a.logger.ErrorContext(ctx, "invite", "error", err)
		}
		return exitError
	}
	link := strings.TrimRight(s.PublicURL, "/") + auth.InvitationPath(inv.Token)
	fmt.Fprintf(c.stdout, "Invited %s %s <%s>; the link works once, for %s (until %s):\n%s\n",
		inv.User.Role, inv.User.Name, inv.User.Email, auth.ValidFor(inv.TTL), inv.ExpiresAt.UTC().Format(time.RFC3339), link)
	via, err := a.mailInvitation(ctx, inv.User.Email, inv.User.Name, inv.TTL, link)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico user invite: the invitation stands, but its mail was not sent: %v\n", err)
		return exitError
	}
	fmt.Fprintf(c.stdout, "Mailed to %s %s.\n", inv.User.Email, via)
	return exitOK
}

// mailInvitation sends inv's mail with link, through SMTP when configured
// and to the outbox otherwise, and says which.
func (a *app) mailInvitation(ctx context.Context, email, name string, ttl time.Duration, link string) (string, error) {
	s := a.settings
	settings, err := a.store.FindSettings(ctx)
	if err != nil {
		return "", err
	}
	t, err := mail.NewTemplates()
	if err != nil {
		return "", err
	}
	m, err := t.Render(mail.Invitation, email, mail.Data{SiteTitle: settings.Title, Name: name, Link: link, ValidFor: auth.ValidFor(ttl)})
	if err != nil {
		return "", err
	}
	var sender mail.Sender = &mail.Outbox{Store: a.store}
	via := "(kept in the outbox: no --smtp-url)"
	if s.SMTPURL != "" {
		if sender, err = mail.NewSMTP(mail.SMTPConfig{URL: s.SMTPURL, From: s.MailFrom}); err != nil {
			return "", err
		}
		via = "over SMTP"
	}
	return via, sender.Send(ctx, m)
}

// deliverInvitations prints and mails the links of the invitations a
// config file's `invite: true` users got, once the plan is applied: the
// tokens exist only in the plan. It reports whether every mail went out;
// a failed mail is reported on the log, its printed link still works.
func (a *app) deliverInvitations(ctx context.Context, plan *configfile.Plan, out io.Writer) bool {
	ok := true
	for _, inv := range plan.Invitations() {
		link := strings.TrimRight(a.settings.PublicURL, "/") + auth.InvitationPath(inv.Token)
		fmt.Fprintf(out, "Invited %s %s <%s>; the link works once, for %s:\n%s\n", inv.Role, inv.Name, inv.Email, auth.ValidFor(inv.TTL), link)
		if _, err := a.mailInvitation(ctx, inv.Email, inv.Name, inv.TTL, link); err != nil {
			a.logger.ErrorContext(ctx, "mail invitation", "email", inv.Email, "error", err)
			ok = false
		}
	}
	return ok
}
