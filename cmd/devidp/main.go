// Command devidp runs the development OpenID provider of package devidp as
// its own process, so that tests (and developers) can point a real
// `portico serve` at a provider that behaves, or misbehaves on demand
// through its control API (--control). It is a development and test tool:
// its users sign in without a password and its control API has no
// authentication. Never use it in production.
//
// It only wires package devidp to a listener and flags; what the provider
// does lives there.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/porticoapi/portico/devidp"
)

// Exit codes, as cmd/portico's.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// entraAuthority is Entra ID's default authority: in --entra mode ID
// tokens name {entraAuthority}/{tid}/v2.0 as their issuer, as Entra's do.
const entraAuthority = "https://login.microsoftonline.com"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// clientFlag is one --client id:secret[:redirect_uri].
type clientFlag struct {
	id, secret, redirectURI string
}

func parseClient(s string) (clientFlag, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return clientFlag{}, fmt.Errorf("--client %q: want id:secret or id:secret:redirect_uri", s)
	}
	c := clientFlag{id: parts[0], secret: parts[1]}
	if len(parts) == 3 {
		if err := devidp.CheckRedirectURI(parts[2]); err != nil {
			return clientFlag{}, fmt.Errorf("--client %q: %v", s, err)
		}
		c.redirectURI = parts[2]
	}
	return c, nil
}

// parseUser reads --user sub:email:name, or sub:email:name:tenant_id:object_id
// for Entra mode.
func parseUser(s string) (devidp.User, error) {
	parts := strings.Split(s, ":")
	if (len(parts) != 3 && len(parts) != 5) || parts[0] == "" {
		return devidp.User{}, fmt.Errorf("--user %q: want sub:email:name or sub:email:name:tenant_id:object_id", s)
	}
	u := devidp.User{Subject: parts[0], Email: parts[1], Name: parts[2]}
	if len(parts) == 5 {
		u.TenantID, u.ObjectID = parts[3], parts[4]
	}
	return u, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devidp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `host:port`; port 0 picks a free one")
	issuer := fs.String("issuer", "", "the issuer `URL`; default: http:// and the bound address")
	entra := fs.Bool("entra", false, "Entra mode: tid and oid claims, issuer "+entraAuthority+"/{tid}/v2.0")
	control := fs.Bool("control", false, "serve the control API under "+devidp.ControlPath+" (tests only: no authentication)")
	var clients, users listFlag
	fs.Var(&clients, "client", "register a client `id:secret[:redirect_uri]` (repeatable; no redirect URI: any is accepted)")
	fs.Var(&users, "user", "add a test user `sub:email:name[:tenant_id:object_id]` (repeatable)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	usageError := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "devidp: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return usageError("--addr %q: want host:port", *addr)
	}
	if *issuer != "" {
		u, err := url.Parse(*issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return usageError("--issuer %q: want an http or https URL without query or fragment", *issuer)
		}
	}
	var cs []clientFlag
	for _, s := range clients {
		c, err := parseClient(s)
		if err != nil {
			return usageError("%v", err)
		}
		cs = append(cs, c)
	}
	var us []devidp.User
	for _, s := range users {
		u, err := parseUser(s)
		if err != nil {
			return usageError("%v", err)
		}
		us = append(us, u)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageError("--addr %q: %v", *addr, err)
	}
	bound := "http://" + ln.Addr().String()
	cfg := devidp.Config{Issuer: *issuer}
	if cfg.Issuer == "" {
		cfg.Issuer = bound
	}
	if *entra {
		cfg.EntraIssuerBase = entraAuthority
	}
	p, err := devidp.New(cfg)
	if err != nil {
		ln.Close()
		fmt.Fprintf(stderr, "devidp: %v\n", err)
		return exitError
	}
	for _, c := range cs {
		p.AddClient(c.id, c.secret, c.id)
		if c.redirectURI != "" {
			p.SetRedirectURIs(c.id, c.redirectURI)
		}
	}
	for _, u := range us {
		p.AddUser(u)
	}

	mux := http.NewServeMux()
	mux.Handle("/", p)
	if *control {
		mux.Handle(devidp.ControlPath, p.ControlHandler())
	}
	srv := &http.Server{Handler: logRequests(mux, stderr), ReadHeaderTimeout: 10 * time.Second}

	// The first line is what a test reads to find the provider.
	fmt.Fprintf(stdout, "devidp listening on %s\n", bound)
	fmt.Fprintf(stdout, "issuer %s\n", p.Issuer())
	if *entra {
		fmt.Fprintf(stdout, "entra authority %s (tenants at %s/{tenant}/v2.0)\n", p.Issuer(), p.Issuer())
	}
	if *control {
		fmt.Fprintf(stdout, "control API at %s%s\n", bound, devidp.ControlPath)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "devidp: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		fmt.Fprintf(stderr, "devidp: shutdown: %v\n", err)
		return exitError
	}
	return exitOK
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// logRequests writes one line per request to w: method, path (without the
// query, which carries codes and states) and status.
func logRequests(h http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		fmt.Fprintf(w, "devidp: %s %s %d\n", r.Method, r.URL.Path, rec.status)
	})
}
