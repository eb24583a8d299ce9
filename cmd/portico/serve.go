package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/demo"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// plane selects what a serve command runs.
type plane int

const (
	planePortal plane = 1 << iota
	planeGateway
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownTimeout = 30 * time.Second

// mailDrainTimeout bounds how long the mail the portal sends after its
// answers may take to go out once the requests are done; requests are
// usually done at once, so a stop takes well under a container's usual
// 30 s grace period.
const mailDrainTimeout = 10 * time.Second

func (c *cli) serve(ctx context.Context, name string, args []string, planes plane) int {
	s, code := c.parse(flag.NewFlagSet(name, flag.ContinueOnError), args)
	if code >= 0 {
		return code
	}
	a, err := c.open(ctx, s)
	if err != nil {
		fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
		return exitError
	}
	defer a.close()
	log := a.logger

	if s.ConfigFile != "" {
		if err := a.applyFile(ctx, s.ConfigFile); err != nil {
			return c.configError(name, err)
		}
	}
	// The demo's development identity provider is served on the portal
	// listener with --demo only, never otherwise.
	var devIdP *devidp.Provider
	if s.Demo {
		if devIdP, err = demo.NewDevIdP(s.PublicURL); err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		res, err := demo.Load(ctx, a.store, auth.HashPassword, devIdP)
		if err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		if res != nil {
			fmt.Fprintf(c.stdout, "\nDemo content loaded. Sign in at %s/signin as %s with the password\n\n    %s\n\n"+
				"It is shown this once; only its hash is stored. Try the gateway: %s/echo/resources\n\n",
				s.PublicURL, res.AdminEmail, res.AdminPassword, s.GatewayURL)
			if res.DevIdP != "" {
				fmt.Fprintf(c.stdout, "Or choose %q on the sign-in page: a local OpenID provider at %s%s\n"+
					"whose test users sign in without a password (as developers).\n\n", res.DevIdP, s.PublicURL, demo.DevIdPPath)
			}
		} else {
			log.InfoContext(ctx, "demo content not loaded: the store is not empty")
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		servers []*http.Server
		wg      sync.WaitGroup
		errc    = make(chan error, 4)
	)
	// run starts a background loop; its failure stops the process.
	run := func(what string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", what, err)
			}
		}()
	}
	// listen binds now, so that a taken port fails the start rather than a
	// later goroutine.
	listen := func(what, addr string, h http.Handler, tlsCfg *tls.Config, srv *http.Server) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", what, err)
		}
		srv.Handler = h
		srv.ErrorLog = slog.NewLogLogger(log.Handler().WithAttrs([]slog.Attr{slog.String("server", what)}), slog.LevelWarn)
		// Requests must not inherit the signal's cancellation: on SIGTERM
		// in-flight requests finish, within shutdownTimeout.
		base := context.WithoutCancel(ctx)
		srv.BaseContext = func(net.Listener) context.Context { return base }
		if tlsCfg != nil {
			srv.TLSConfig = tlsCfg
			ln = tls.NewListener(ln, tlsCfg)
		}
		servers = append(servers, srv)
		scheme := "http"
		if tlsCfg != nil {
			scheme = "https"
		}
		log.InfoContext(ctx, "listening", "server", what, "addr", ln.Addr().String(), "scheme", scheme)
		run(what+" server", func(context.Context) error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		return nil
	}

	if planes&planeGateway != 0 {
		gw, err := gateway.New(gateway.Config{
			Catalog:        a.store,
			Logger:         log.With("server", "gateway"),
			Registerer:     reg,
			Ready:          a.store.Ready,
			TrustedProxies: s.trustedProxies,
			DenialLog:      a.store,
		})
		if err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		run("gateway reload", gw.Run)
		var tlsCfg *tls.Config
		if s.gatewayCert != nil {
			// Client certificates are asked for but not verified here: each
			// API's client_certificate policy decides (403, not a failed
			// handshake), and APIs without one ignore them.
			tlsCfg = &tls.Config{Certificates: []tls.Certificate{*s.gatewayCert}, MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert}
		}
		// No read or write timeout: bodies may stream for as long as the
		// backend allows; per-API timeouts bound the wait for the backend.
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 128 << 10}
		if err := listen("gateway", s.GatewayAddr, gw, tlsCfg, srv); err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
	}
	var portalServer *web.Server // to drain the mail it sends after its answers
	if planes&planePortal != 0 {
		au, err := auth.New(auth.Config{
			Sessions:  a.store,
			Users:     a.store,
			Settings:  a.store,
			Keys:      a.keys,
			PublicURL: s.PublicURL,
			Logger:    log.With("server", "portal"),
			ClientIP:  auth.ClientIPBehind(s.trustedProxies),
			Captchas:  a.store,
			Tokens:    a.store,
		})
		if err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		run("session cleanup", au.Run)
		// Sign-in with the identity providers in the store.
		oc, err := auth.NewOIDC(auth.OIDCConfig{Auth: au, Store: a.store, PublicURL: s.PublicURL})
		if err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		var sender mail.Sender = &mail.Outbox{Store: a.store, Logger: log.With("server", "portal")}
		if s.SMTPURL != "" {
			smtpSender, err := mail.NewSMTP(mail.SMTPConfig{URL: s.SMTPURL, From: s.MailFrom})
			if err != nil {
				fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
				return exitError
			}
			sender = smtpSender
		}
		ws, err := web.New(web.Config{
			Mail:       sender,
			Auth:       au,
			OIDC:       oc,
			Store:      a.store,
			Logger:     log.With("server", "portal"),
			Registerer: reg,
			Ready:      a.store.Ready,
			GatewayURL: s.GatewayURL,
			PublicURL:  s.PublicURL,
		})
		if err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
		srv := &http.Server{
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		}
		portalServer = ws
		handler := ws.Handler()
		if devIdP != nil {
			ok, err := demo.ConnectDevIdP(ctx, a.store, devIdP, oc.RedirectURI(demo.DevIdPName))
			if err != nil {
				fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
				return exitError
			}
			if !ok {
				log.InfoContext(ctx, "demo identity provider not connected: the store has no identity provider "+demo.DevIdPName+" for it")
			}
			handler = demo.Mount(handler, devIdP)
		}
		if err := listen("portal", s.PortalAddr, handler, nil, srv); err != nil {
			fmt.Fprintf(c.stderr, "portico %s: %v\n", name, err)
			return exitError
		}
	}

	code = exitOK
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		log.Error("stopping", "error", err)
		code = exitError
	}
	shutdown, done := context.WithTimeout(context.Background(), shutdownTimeout)
	defer done()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdown); err != nil {
			log.Warn("shutdown", "error", err)
		}
	}
	if portalServer != nil {
		// Mail the portal sends after its answers (a reset link) gets a
		// budget of its own, not what the requests left of theirs; what
		// is not sent by then is cancelled and logged before the store
		// closes.
		drain, drained := context.WithTimeout(context.Background(), mailDrainTimeout)
		if err := portalServer.Drain(drain); err != nil {
			log.Warn("shutdown: mail still being sent was cancelled", "error", err)
		}
		drained()
	}
	cancel()
	wg.Wait()
	return code
}
