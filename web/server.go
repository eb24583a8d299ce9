package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/observe"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/static"
	"github.com/porticoapi/portico/web/components"
	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the portal's pages read, and the administration pages
// (AdminStore) change. portal.Store implements it.
type Store interface {
	FindSettings(ctx context.Context) (*portal.Settings, error)
	// Version grows with every change to the store; cached pages are
	// rendered at one version.
	Version(ctx context.Context) (int64, error)
	FindAPIs(ctx context.Context, filter portal.APIFilter) ([]*portal.API, int, error)
	FindAPITags(ctx context.Context, filter portal.APIFilter) ([]string, error)
	FindAPIByName(ctx context.Context, name string) (*portal.API, error)
	FindAPISpec(ctx context.Context, name string) ([]byte, portal.SpecInfo, error)
	FindProducts(ctx context.Context, filter portal.ProductFilter) ([]*portal.Product, int, error)
	FindProductByName(ctx context.Context, name string) (*portal.Product, error)
	// FindIdentityProviders lists the sign-in page's provider buttons.
	FindIdentityProviders(ctx context.Context) ([]*portal.IdentityProvider, error)

	AdminStore
	AccountStore
	InvitationStore
	SettingsStore
	ProfileIdentityStore
	mail.OutboxStore
	OutboxReader
}

// Config is what the portal's web server needs.
type Config struct {
	Store  Store
	Logger *slog.Logger // nil: discard
	// Registerer receives the portal's metrics. /metrics serves Gatherer,
	// or the Registerer itself when it is also a Gatherer (as a
	// *prometheus.Registry is). Nil: a registry of the server's own.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Ready reports whether the store is reachable and migrated (GET
	// /readyz). Nil: always ready.
	Ready func(ctx context.Context) error
	// GatewayURL is the gateway's external URL, shown to developers as the
	// base of every API's address.
	GatewayURL string
	// PublicURL is the portal's external URL. Its origin is trusted for
	// unsafe methods even when a proxy rewrites the Host header.
	PublicURL string
	// Auth recognizes signed-in users (its Authenticate middleware runs
	// after cross-origin protection and before the routes) and serves
	// password sign-in and sign-out. Nil: every visitor is anonymous and
	// sign-in is unavailable.
	Auth *auth.Auth
	// Mail sends the portal's messages (confirmations, resets, invitations,
	// subscription notices); nil: mail.Outbox on Store, without a log.
	// Links in mail are built from PublicURL, never from a request.
	Mail mail.Sender
	// OIDC signs users in with the store's identity providers (GET
	// /signin/{idp} and its callback, linking from the profile). Nil: no
	// provider buttons, and those routes answer 404.
	OIDC *auth.OIDC
}

// Server is the portal's web server.
type Server struct {
	store        Store
	logger       *slog.Logger
	ready        func(ctx context.Context) error
	gatherer     prometheus.Gatherer
	metrics      *metrics
	gatewayURL   string // without a trailing slash
	publicURL    *url.URL
	assets       *static.Assets
	assetURLs    components.Assets
	auth         *auth.Auth // nil: no sign-in
	oidc         *auth.OIDC // nil: no identity providers
	authenticate func(http.Handler) http.Handler
	pages        *pageCache
	mail         mail.Sender
	mailText     *mail.Templates
	handler      http.Handler
	// background runs work done after its answer (background.go).
	background *background
}

// New checks c and builds the server with its route table.
func New(c Config) (*Server, error) {
	if c.Store == nil {
		return nil, errors.New("web: Store required")
	}
	gw, err := parseBaseURL(c.GatewayURL)
	if err != nil {
		return nil, fmt.Errorf("web: gateway URL: %w", err)
	}
	s := &Server{
		store:      c.Store,
		logger:     c.Logger,
		ready:      c.Ready,
		gatherer:   c.Gatherer,
		gatewayURL: strings.TrimRight(gw.String(), "/"),
		auth:       c.Auth,
		oidc:       c.OIDC,
		pages:      newPageCache(c.Store),
		mail:       c.Mail,
		background: newBackground(),
	}
	if c.PublicURL != "" {
		if s.publicURL, err = parseBaseURL(c.PublicURL); err != nil {
			return nil, fmt.Errorf("web: public URL: %w", err)
		}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	s.authenticate = func(next http.Handler) http.Handler { return next }
	if s.auth != nil {
		s.authenticate = s.auth.Authenticate
	}
	reg := c.Registerer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gatherer = r, r
	}
	if s.gatherer == nil {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, errors.New("web: Gatherer required when Registerer is not a prometheus.Gatherer")
		}
		s.gatherer = g
	}
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.mail == nil {
		s.mail = &mail.Outbox{Store: c.Store}
	}
	if s.mailText, err = mail.NewTemplates(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.assets, err = static.New(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.assetURLs, err = s.layoutAssets(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.handler, err = s.buildHandler()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return s, nil
}

// Handler returns the server's handler: the middleware chain around the
// route table.
func (s *Server) Handler() http.Handler { return s.handler }

// routes is the portal's one route table. Patterns use the method and
// wildcard syntax of http.ServeMux; the matched pattern is also the route
// label of the metrics, so keep wildcards in patterns rather than parsing
// paths in handlers.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()

	// The public catalogue. What a visitor sees depends on who they are
	// (portal.UserFromContext): the store hides APIs and products that
	// are not published from everyone but administrators.
	// Anonymous visitors' pages are served from s.pages while the store
	// does not change (pagecache.go).
	cached := s.pages.wrap
	mux.Handle("GET /{$}", cached(s.handleHome))
	mux.Handle("GET /apis", cached(s.handleAPIs))
	mux.Handle("GET /apis/{api}", cached(s.handleAPI))
	mux.HandleFunc("GET /apis/{api}/openapi", s.handleAPISpec)
	mux.Handle("GET /apis/{api}/operations/{operation}", cached(s.handleOperation))
	mux.Handle("GET /products", cached(s.handleProducts))
	mux.Handle("GET /products/{product}", cached(s.handleProduct))

	// Identity: sign-in with a password, sign-out (signin.go); the
	// identity providers, sign-up, confirmation and reset follow below
	// (CONTRACT.md section 4). Pages that need a user wrap their handler
	// in auth.RequireUser(s.error).
	mux.HandleFunc("GET /signin", s.handleSignInPage)
	mux.HandleFunc("POST /signin", s.handleSignIn)
	mux.HandleFunc("POST /signout", s.handleSignOut)

	// Password accounts: sign-up with a CAPTCHA and email confirmation,
	// password reset, and the signed-in user's password and account
	// closing (signup.go, reset.go, account.go, captcha.go).
	account := func(h http.HandlerFunc) http.Handler { return auth.RequireUser(s.error)(h) }
	mux.HandleFunc("GET /signup", s.handleSignUpPage)
	mux.HandleFunc("POST /signup", s.handleSignUp)
	mux.HandleFunc("GET /confirm/signup", s.handleConfirmSignupPage)
	mux.HandleFunc("POST /confirm/signup", s.handleConfirmSignup)
	mux.HandleFunc("GET /reset-password", s.handleResetPasswordPage)
	mux.HandleFunc("POST /reset-password", s.handleResetPassword)
	mux.HandleFunc("GET /confirm/password", s.handleChoosePasswordPage)
	mux.HandleFunc("POST /confirm/password", s.handleChoosePassword)
	mux.HandleFunc("GET /captcha/{file}", s.handleCaptcha)
	mux.HandleFunc("GET "+acceptInviteURL, s.handleAcceptInvitationPage)
	mux.HandleFunc("POST "+acceptInviteURL, s.handleAcceptInvitation)
	mux.HandleFunc("POST "+acceptInviteURL+"/idp/{idp}", s.handleAcceptInvitationWithProvider)
	mux.Handle("GET "+changePasswordURL, account(s.handleChangePasswordPage))
	mux.Handle("POST "+changePasswordURL, account(s.handleChangePassword))
	mux.Handle("GET "+closeAccountURL, account(s.handleCloseAccountPage))
	mux.Handle("POST "+closeAccountURL, account(s.handleCloseAccount))

	// A developer's account and own subscriptions (subscriptions.go).
	user := func(h http.HandlerFunc) http.Handler { return auth.RequireUser(s.error)(h) }
	mux.Handle("GET /profile", user(s.handleProfile))
	mux.Handle("POST /profile", user(s.handleSaveProfile))
	mux.Handle("POST /subscriptions", user(s.handleSubscribe))
	mux.Handle("POST /subscriptions/{id}/regenerate/{key}", user(s.handleRegenerateOwnKey))
	mux.Handle("POST /subscriptions/{id}/cancel", user(s.handleCancelOwnSubscription))
	// Sign-in with an identity provider, and linking one to the signed-in
	// account (signin_oidc.go).
	mux.HandleFunc("GET /signin/{idp}", s.handleSignInWithProvider)
	mux.HandleFunc("GET /signin/{idp}/callback", s.handleSignInCallback)
	mux.Handle("POST /profile/identities/link/{idp}", auth.RequireUser(s.error)(http.HandlerFunc(s.handleLinkIdentity)))
	mux.Handle("POST /profile/identities/unlink/{id}", user(s.handleUnlinkIdentity))

	// Administration: every route under /admin/ passes RequireAdmin,
	// unknown paths included, so that nothing there answers anyone else.
	admin := func(h http.HandlerFunc) http.Handler { return auth.RequireAdmin(s.error)(h) }
	mux.Handle("GET /admin", http.RedirectHandler(adminURL, http.StatusMovedPermanently))
	mux.Handle("/admin/", admin(s.handleNotFound))
	mux.Handle("GET /admin/{$}", admin(s.handleAdminHome))

	mux.Handle("GET /admin/apis", admin(s.handleAdminAPIs))
	mux.Handle("GET /admin/apis/new", admin(s.handleAdminNewAPI))
	mux.Handle("POST /admin/apis", admin(s.handleAdminCreateAPI))
	mux.Handle("GET /admin/apis/{api}/edit", admin(s.handleAdminEditAPI))
	mux.Handle("POST /admin/apis/{api}/edit", admin(s.handleAdminUpdateAPI))
	mux.Handle("GET /admin/apis/{api}/delete", admin(s.handleAdminConfirmDeleteAPI))
	mux.Handle("POST /admin/apis/{api}/delete", admin(s.handleAdminDeleteAPI))
	mux.Handle("GET /admin/apis/{api}/policies", admin(s.handleAdminPolicies))
	mux.Handle("POST /admin/apis/{api}/policies", admin(s.handleAdminSavePolicies))
	mux.Handle("POST /admin/apis/{api}/policies/xml", admin(s.handleAdminImportPolicyXML))

	mux.Handle("GET /admin/products", admin(s.handleAdminProducts))
	mux.Handle("GET /admin/products/new", admin(s.handleAdminNewProduct))
	mux.Handle("POST /admin/products", admin(s.handleAdminCreateProduct))
	mux.Handle("GET /admin/products/{product}/edit", admin(s.handleAdminEditProduct))
	mux.Handle("POST /admin/products/{product}/edit", admin(s.handleAdminUpdateProduct))
	mux.Handle("GET /admin/products/{product}/delete", admin(s.handleAdminConfirmDeleteProduct))
	mux.Handle("POST /admin/products/{product}/delete", admin(s.handleAdminDeleteProduct))

	mux.Handle("GET /admin/subscriptions", admin(s.handleAdminSubscriptions))
	mux.Handle("GET /admin/subscriptions/new", admin(s.handleAdminNewSubscription))
	mux.Handle("POST /admin/subscriptions", admin(s.handleAdminCreateSubscription))
	mux.Handle("GET /admin/subscriptions/{id}", admin(s.handleAdminSubscription))
	mux.Handle("POST /admin/subscriptions/{id}/regenerate/{key}", admin(s.handleAdminRegenerateKey))
	mux.Handle("POST /admin/subscriptions/{id}/{action}", admin(s.handleAdminSubscriptionAction))

	mux.Handle("GET /admin/users", admin(s.handleAdminUsers))

	mux.Handle("GET /admin/identity-providers", admin(s.handleAdminIdentityProviders))
	mux.Handle("GET /admin/identity-providers/new", admin(s.handleAdminNewIdentityProvider))
	mux.Handle("POST /admin/identity-providers", admin(s.handleAdminCreateIdentityProvider))
	mux.Handle("GET /admin/identity-providers/{idp}/edit", admin(s.handleAdminEditIdentityProvider))
	mux.Handle("POST /admin/identity-providers/{idp}/edit", admin(s.handleAdminUpdateIdentityProvider))
	mux.Handle("POST /admin/identity-providers/{idp}/test", admin(s.handleAdminTestIdentityProvider))
	mux.Handle("GET /admin/identity-providers/{idp}/delete", admin(s.handleAdminConfirmDeleteIdentityProvider))
	mux.Handle("POST /admin/identity-providers/{idp}/delete", admin(s.handleAdminDeleteIdentityProvider))
	// User administration and invitations (admin_users.go, invitations.go).
	mux.Handle("POST /admin/users/{id}/role/{role}", admin(s.handleAdminUserRole))
	mux.Handle("GET /admin/users/{id}/delete", admin(s.handleAdminConfirmDeleteUser))
	mux.Handle("POST /admin/users/{id}/delete", admin(s.handleAdminDeleteUser))
	mux.Handle("POST /admin/users/{id}/{action}", admin(s.handleAdminUserAction))
	mux.Handle("GET /admin/invitations", admin(s.handleAdminInvitations))
	mux.Handle("POST /admin/invitations", admin(s.handleAdminInvite))
	mux.Handle("POST /admin/invitations/{id}/revoke", admin(s.handleAdminRevokeInvitation))
	mux.Handle("GET /admin/outbox", admin(s.handleAdminOutbox))
	mux.Handle("GET "+adminSettingsURL, admin(s.handleAdminSettings))
	mux.Handle("POST "+adminSettingsURL, admin(s.handleAdminSaveSettings))

	// Files and the endpoints every listener serves.
	mux.HandleFunc("GET "+staticPrefix+"{hash}/{file...}", s.handleStatic)
	observe.Endpoints{Ready: s.ready, Gatherer: s.gatherer, Logger: s.logger}.Register(mux)

	// Everything else, whatever the method, is the HTML 404 page.
	mux.HandleFunc("/", s.handleNotFound)
	return mux
}

// buildHandler wraps the route table in the middleware chain. The first
// middleware listed is the outermost:
//
//   - requestID first, so that every response and every log line below
//     carries the id;
//   - securityHeaders before anything can answer, so that error pages,
//     static files and recovered panics carry them too;
//   - logRequests (access log and metrics) outside recoverPanics, so that a
//     panic is logged and counted as the 500 it becomes;
//   - crossOrigin refuses cross-site unsafe requests before any session
//     is looked at;
//   - authenticate, the identity seam: only requests that passed the
//     checks above reach the store to load a session;
//   - anonymousAccess last, since it needs to know who is signed in.
func (s *Server) buildHandler() (http.Handler, error) {
	mux := s.routes()
	crossOrigin, err := s.crossOriginProtection()
	if err != nil {
		return nil, err
	}
	return chain(mux,
		s.requestID,
		s.securityHeaders,
		s.logRequests(mux),
		s.recoverPanics,
		crossOrigin,
		s.authenticate,
		s.anonymousAccess,
	), nil
}

// chain wraps h in mw, the first element outermost.
func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// parseBaseURL accepts an absolute http or https URL without query or
// fragment.
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must be an absolute http or https URL", s)
	}
	return u, nil
}
