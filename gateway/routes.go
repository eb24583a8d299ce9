package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// snapshot is the route table at one catalog version. It is never modified
// after it is stored, so requests read it without locks.
type snapshot struct {
	version  int64
	routes   map[string]*route // by API path, without slashes
	maxDepth int               // most segments in any API path
}

// route is one API as the gateway serves it, everything precomputed.
type route struct {
	gw        *Gateway
	name      string
	path      string // API path, "v1/echo"
	prefixLen int    // len("/" + path)

	// open: a request without a key passes (the API needs no subscription,
	// or it is in a published open product). A key, if given, is checked.
	open      bool
	products  []string // names of the products containing the API, for scope checks
	keyHeader string   // canonical form, for a direct map lookup
	keyQuery  string

	ops    *operations // nil: the API has none and accepts any method and path
	checks []check

	backend backend
	timeout time.Duration
	proxy   *httputil.ReverseProxy
	auth    routeAuth // backend authentication the rewrite injects

	codes    *codeCounters
	duration prometheus.Observer
}

// match returns the route whose API path is the longest prefix of the
// escaped request path ep on a segment boundary, or nil. API paths hold
// only unreserved characters, so a prefix found in the escaped path is the
// same in the decoded one.
func (s *snapshot) match(ep string) *route {
	if len(ep) < 2 || ep[0] != '/' {
		return nil
	}
	var best *route
	p := ep[1:]
	end := 0
	for depth := 0; depth < s.maxDepth; depth++ {
		i := strings.IndexByte(p[end:], '/')
		if i < 0 {
			end = len(p)
		} else {
			end += i
		}
		if rt := s.routes[p[:end]]; rt != nil {
			best = rt
		}
		if end == len(p) {
			break
		}
		end++ // past the '/'
	}
	return best
}

// buildSnapshot reads the APIs and products and compiles the routes.
func (g *Gateway) buildSnapshot(ctx context.Context, version int64) (*snapshot, error) {
	apis, _, err := g.catalog.FindAPIs(ctx, portal.APIFilter{WithOperations: true})
	if err != nil {
		return nil, fmt.Errorf("load APIs: %w", err)
	}
	products, _, err := g.catalog.FindProducts(ctx, portal.ProductFilter{})
	if err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	productsOf := map[string][]string{}
	openByProduct := map[string]bool{}
	for _, p := range products {
		for _, a := range p.APIs {
			productsOf[a] = append(productsOf[a], p.Name)
			if p.State == portal.ProductPublished && !p.SubscriptionRequired {
				openByProduct[a] = true
			}
		}
	}

	g.limits.products = productRateLimits(products)

	s := &snapshot{version: version, routes: make(map[string]*route, len(apis))}
	seen := make(map[string]bool, len(apis))
	for _, api := range apis {
		// Stores validate paths; an empty or odd one would capture requests
		// meant for no API, so it is left out rather than guessed at.
		if err := portal.ValidateAPIPath(strings.Trim(api.Path, "/")); err != nil {
			g.log.WarnContext(ctx, "API not served: invalid gateway path", "api", api.Name, "error", portal.ErrorMessage(err))
			continue
		}
		rt := g.newRoute(api, productsOf[api.Name], !api.SubscriptionRequired || openByProduct[api.Name])
		if prev := s.routes[rt.path]; prev != nil {
			g.log.WarnContext(ctx, "two APIs share a gateway path; the later one is served", "path", rt.path, "api", rt.name, "other_api", prev.name)
		}
		s.routes[rt.path] = rt
		s.maxDepth = max(s.maxDepth, strings.Count(rt.path, "/")+1)
		seen[rt.name] = true
	}
	g.backendAuth.sweep()
	g.timeouts.sweep() // drops token sources and transports no route uses
	g.jwt.sweep()      // drops validate_jwt validators no route uses
	// Forget the series of APIs that are gone, so that /metrics does not
	// grow with every API ever served.
	for name := range g.counters {
		if !seen[name] {
			delete(g.counters, name)
			g.metrics.requests.DeletePartialMatch(prometheus.Labels{"api": name})
			g.metrics.duration.DeleteLabelValues(name)
		}
	}
	return s, nil
}

func (g *Gateway) newRoute(api *portal.API, products []string, open bool) *route {
	keyHeader, keyQuery, timeout := api.KeyHeader, api.KeyQuery, api.Backend.Timeout
	if keyHeader == "" {
		keyHeader = portal.DefaultKeyHeader
	}
	if keyQuery == "" {
		keyQuery = portal.DefaultKeyQuery
	}
	if timeout <= 0 {
		timeout = portal.DefaultBackendTimeout
	}
	path := strings.Trim(api.Path, "/")
	rt := &route{
		gw:        g,
		name:      api.Name,
		path:      path,
		prefixLen: len(path) + 1,
		open:      open,
		products:  products,
		keyHeader: textproto.CanonicalMIMEHeaderKey(keyHeader),
		keyQuery:  keyQuery,
		ops:       compileOperations(api.Operations),
		timeout:   timeout,
		duration:  g.metrics.duration.WithLabelValues(api.Name),
	}
	if rt.codes = g.counters[api.Name]; rt.codes == nil {
		rt.codes = newCodeCounters(g.metrics.requests, api.Name)
		g.counters[api.Name] = rt.codes
	}
	rt.checks = g.checkChain(rt, api)
	backendTransport, echo := g.useBackendAuth(rt, api) // may append a check

	var transport http.RoundTripper
	if api.Backend.URL == portal.BuiltinEcho {
		rt.backend = echoBackend
		transport = echo
	} else if b, err := parseBackend(api.Backend.URL); err != nil {
		// Stores validate backend URLs; should one slip through, the API
		// answers 502 and says why in the log rather than vanishing.
		transport = failingTransport{err: err}
	} else {
		rt.backend = b
		transport = g.timeouts.with(backendTransport, timeout)
	}
	rt.proxy = &httputil.ReverseProxy{
		Rewrite:        rt.rewrite,
		Transport:      transport,
		BufferPool:     g.buffers,
		ModifyResponse: rt.modifyResponse,
		ErrorHandler:   rt.handleError,
		ErrorLog:       g.proxyLog(),
	}
	return rt
}

// inScope reports whether a subscription's keys give access to rt's API.
func (rt *route) inScope(sub *portal.Subscription) bool {
	switch sub.Scope.Kind {
	case portal.ScopeAll:
		return true
	case portal.ScopeAPI:
		return sub.Scope.Name == rt.name
	case portal.ScopeProduct:
		for _, p := range rt.products {
			if p == sub.Scope.Name {
				return true
			}
		}
	}
	return false
}
