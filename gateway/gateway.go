package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porticoapi/portico/observe"
	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults for the zero values of Config.
const (
	DefaultReloadInterval       = 250 * time.Millisecond
	DefaultNegativeKeyCacheSize = 10_000
)

// catalogTimeout bounds one load of the catalog (version, APIs, products).
const catalogTimeout = 10 * time.Second

// Catalog is what the gateway reads from the store. portal.Store
// satisfies it.
type Catalog interface {
	// FindAPIs is called with WithOperations set, to build the routes.
	FindAPIs(ctx context.Context, filter portal.APIFilter) ([]*portal.API, int, error)
	FindProducts(ctx context.Context, filter portal.ProductFilter) ([]*portal.Product, int, error)
	// FindSubscriptionByKey returns ENOTFOUND for an unknown key.
	FindSubscriptionByKey(ctx context.Context, key string) (*portal.Subscription, portal.KeyKind, error)
	// Version grows with every change; the gateway reloads when it does.
	Version(ctx context.Context) (int64, error)
}

var _ Catalog = portal.Store(nil)

// Config is what a Gateway needs. Only Catalog is required.
type Config struct {
	Catalog Catalog
	Logger  *slog.Logger
	// Registerer receives the gateway's metrics; nil: a new registry.
	Registerer prometheus.Registerer
	// Gatherer is served on /metrics; nil: Registerer when it is also a
	// Gatherer (a *prometheus.Registry is), else prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	// Now is the clock for subscription expiry; nil: time.Now.
	Now func() time.Time
	// ReloadInterval is how often Run polls the catalog's version;
	// 0: DefaultReloadInterval.
	ReloadInterval time.Duration
	// Transport forwards to backends; nil: NewTransport().
	Transport http.RoundTripper
	// BackendTokenTimeout bounds one request for the gateway's own token
	// (backend auth oauth_client_credentials); 0: DefaultBackendTokenTimeout.
	BackendTokenTimeout time.Duration
	// Ready answers /readyz; nil: the catalog's Version succeeds.
	Ready func(ctx context.Context) error
	// NegativeKeyCacheSize bounds the cache of unknown keys;
	// 0: DefaultNegativeKeyCacheSize.
	NegativeKeyCacheSize int
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// when ip_filter decides who the caller is (--trusted-proxies).
	TrustedProxies []netip.Prefix
	// DenialLog records every refusal for its subscription's owner,
	// written in batches by Run; nil: denials are only logged and counted.
	DenialLog DenialRecorder
	// JWTHTTPClient fetches the OpenID configurations and key sets of
	// validate_jwt; nil: a client with a DefaultJWTHTTPTimeout timeout.
	JWTHTTPClient *http.Client
}

// Gateway is the data plane's http.Handler. Create it with New, and call
// Run to keep it in step with the catalog.
type Gateway struct {
	catalog   Catalog
	log       *slog.Logger
	now       func() time.Time
	interval  time.Duration
	transport http.RoundTripper
	echo      http.RoundTripper
	buffers   *bufferPool
	endpoints http.Handler
	metrics   *metrics
	denials   denials
	keys      *keyCache

	backendAuth *backendAuth // token sources and certificate transports; used under reloadMu
	limits      *rateLimiter // rate limit counters, kept across snapshots

	trustedProxies []netip.Prefix
	denialLog      *denialLog // nil: not recorded

	jwt *jwtValidators // validate_jwt validators by settings, kept across snapshots; used under reloadMu

	timeouts *headerTimeouts // backend transports by response header timeout; used under reloadMu

	routes    atomic.Pointer[snapshot]
	unmatched *codeCounters // requests_total for requests that match no API

	reloadMu    sync.Mutex // one reload at a time; guards the fields below
	keysVersion int64
	counters    map[string]*codeCounters // by API name, kept across snapshots
}

// New builds a gateway and loads the catalog once, so that it routes
// correctly from the first request. It fails if the catalog cannot be read.
func New(c Config) (*Gateway, error) {
	if c.Catalog == nil {
		return nil, errors.New("gateway: Config.Catalog is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registerer == nil {
		reg := prometheus.NewRegistry()
		c.Registerer = reg
		if c.Gatherer == nil {
			c.Gatherer = reg
		}
	}
	if c.Gatherer == nil {
		if g, ok := c.Registerer.(prometheus.Gatherer); ok {
			c.Gatherer = g
		} else {
			c.Gatherer = prometheus.DefaultGatherer
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReloadInterval <= 0 {
		c.ReloadInterval = DefaultReloadInterval
	}
	if c.Transport == nil {
		c.Transport = NewTransport()
	}
	if c.Ready == nil {
		c.Ready = func(ctx context.Context) error {
			_, err := c.Catalog.Version(ctx)
			return err
		}
	}
	if c.NegativeKeyCacheSize <= 0 {
		c.NegativeKeyCacheSize = DefaultNegativeKeyCacheSize
	}
	m, err := newMetrics(c.Registerer)
	if err != nil {
		return nil, fmt.Errorf("gateway: register metrics: %w", err)
	}

	g := &Gateway{
		catalog:   c.Catalog,
		log:       c.Logger,
		now:       c.Now,
		interval:  c.ReloadInterval,
		transport: c.Transport,
		echo:      echoTransport{maxBody: maxEchoBody},
		buffers:   &bufferPool{},
		metrics:   m,
		denials:   newDenials(m),
		keys:      newKeyCache(c.Catalog, c.NegativeKeyCacheSize, m),
		unmatched: newCodeCounters(m.requests, ""),
		counters:  map[string]*codeCounters{},

		backendAuth: newBackendAuth(c.Transport, c.Logger, c.Now, c.BackendTokenTimeout, m),
		limits:      newRateLimiter(m),
		jwt:         newJWTValidators(c.JWTHTTPClient, c.Now, c.Logger),
		timeouts:    newHeaderTimeouts(),

		trustedProxies: c.TrustedProxies,
	}
	if g.denialLog, err = newDenialLog(c.DenialLog, g.keys, c.Registerer, c.Logger, c.Now); err != nil {
		return nil, fmt.Errorf("gateway: register metrics: %w", err)
	}
	mux := http.NewServeMux()
	observe.Endpoints{Ready: c.Ready, Gatherer: c.Gatherer, Logger: c.Logger}.Register(mux)
	g.endpoints = mux

	ctx, cancel := context.WithTimeout(context.Background(), catalogTimeout)
	defer cancel()
	if err := g.reload(ctx); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return g, nil
}

// Run polls the catalog's version every ReloadInterval and, when it
// changes, empties the key cache and rebuilds the routes. It returns nil
// when ctx ends. While the catalog cannot be read, the gateway keeps
// serving the last routes and the keys it has cached.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.denialLog.start(ctx)() // writes the denials until ctx ends
	t := time.NewTicker(g.interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, catalogTimeout)
		err := g.reload(rctx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			// Once per outage, not every interval.
			g.log.WarnContext(ctx, "gateway cannot reload the catalog; serving the last routes", "error", err)
			failing = true
		case err == nil && failing:
			g.log.InfoContext(ctx, "gateway reads the catalog again")
			failing = false
		}
	}
}

// reload empties the key cache and rebuilds the routes if the catalog's
// version moved.
func (g *Gateway) reload(ctx context.Context) error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	v, err := g.catalog.Version(ctx)
	if err != nil {
		return fmt.Errorf("read catalog version: %w", err)
	}
	// Keys first and regardless of whether the routes rebuild: a revoked
	// key must stop passing even while the APIs cannot be reloaded.
	if v != g.keysVersion {
		g.keys.flush()
		g.keysVersion = v
	}
	if cur := g.routes.Load(); cur != nil && cur.version == v {
		return nil
	}
	s, err := g.buildSnapshot(ctx, v)
	if err != nil {
		return err
	}
	g.routes.Store(s)
	g.metrics.reloads.Inc()
	g.log.InfoContext(ctx, "gateway routes loaded", "version", v, "apis", len(s.routes))
	return nil
}

// ServeHTTP routes, checks and forwards one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID(r)
	if reservedPath(r.URL.Path) {
		w.Header()[observe.RequestIDHeader] = []string{id}
		g.endpoints.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	ep := r.URL.EscapedPath()
	rt := g.routes.Load().match(ep)
	if rt == nil {
		g.deny(w, r, id, nil, &g.denials.noAPI, "")
		g.metrics.unmatchedDuration.Observe(time.Since(start).Seconds())
		return
	}
	if rt.ops != nil && !rt.ops.match(r.Method, ep[rt.prefixLen:]) {
		g.deny(w, r, id, rt, &g.denials.noOperation, "")
		rt.duration.Observe(time.Since(start).Seconds())
		return
	}
	rq := &request{r: r, route: rt, id: id}
	for _, c := range rt.checks {
		if d := c(rq); d != nil {
			g.deny(w, r, id, rt, d, rq.detail)
			rt.duration.Observe(time.Since(start).Seconds())
			return
		}
	}
	rt.proxy.ServeHTTP(w, r)
	rt.duration.Observe(time.Since(start).Seconds())
}

// requestID returns the caller's well-formed X-Request-Id or a new one,
// and leaves it in r's header so that the proxy forwards it.
func requestID(r *http.Request) string {
	if v := r.Header[observe.RequestIDHeader]; len(v) == 1 && observe.ValidRequestID(v[0]) {
		return v[0]
	}
	id := observe.NewRequestID()
	r.Header[observe.RequestIDHeader] = []string{id}
	return id
}

// reservedPath reports whether p is one of the paths every listener serves
// itself (Contract section 2); no API may use them.
func reservedPath(p string) bool {
	return p == "/healthz" || p == "/readyz" || p == "/metrics"
}
