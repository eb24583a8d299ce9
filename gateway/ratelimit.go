package gateway

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// Rate limits per subscription, as APIM's rate-limit policy counts them:
// a product's limit (Product.RateLimit) counts the calls of each
// subscription whose scope is that product, over all the product's APIs
// together; an API's limit (Policies.RateLimit) counts each subscription's
// calls to that API, whatever the subscription's scope. A request without
// a subscription (an open API called without a key) is not limited.
//
// Each limit is a fixed window per (subscription, limit) that opens with
// the first call and lasts the limit's period; refused calls are not
// counted. The counters are in this gateway instance's memory and are not
// shared: N instances behind a load balancer together allow up to N times
// the limit, as APIM's self-hosted gateways do without synchronisation.
// They survive snapshot rebuilds, so a catalog change does not reset them.

const (
	msgRateLimitPrefix = "Rate limit is exceeded. Try again in "
	msgRateLimitSuffix = " seconds."
	reasonRateLimited  = "rate_limit_exceeded"

	// rateShards spreads the counters over independent locks, so that
	// concurrent requests of different subscriptions rarely wait on each
	// other.
	rateShards = 64
	// minRateSweep is the size below which a shard never sweeps.
	minRateSweep = 64
)

// rateLimit is one limit as the routes use it.
type rateLimit struct {
	scope  string // counter name beside the subscription id: "product:starter", "api:echo"
	name   string // the product's or API's name
	calls  int
	period int64  // nanoseconds
	desc   string // for denial details: "3 calls per 1m0s of product starter"
	seed   uint64 // spreads the scope's counters over the shards
}

func newRateLimit(kind, name string, rl *portal.RateLimit) *rateLimit {
	if rl == nil || rl.Calls < 1 || rl.Period <= 0 {
		return nil
	}
	scope := kind + ":" + name
	return &rateLimit{
		scope:  scope,
		name:   name,
		calls:  rl.Calls,
		period: int64(rl.Period),
		desc:   strconv.Itoa(rl.Calls) + " calls per " + rl.Period.String() + " of " + kind + " " + name,
		seed:   fnv64(scope),
	}
}

// fnv64 is FNV-1a: a fixed spread of scopes over the shards is enough,
// since only subscriptions that passed the key check reach the limiter.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// productRateLimits returns the limits of the products that have one, by
// product name. The snapshot being built gives them to its routes.
func productRateLimits(products []*portal.Product) map[string]*rateLimit {
	m := map[string]*rateLimit{}
	for _, p := range products {
		if l := newRateLimit("product", p.Name, p.RateLimit); l != nil {
			m[p.Name] = l
		}
	}
	return m
}

// rateLimiter holds the gateway's call counters.
type rateLimiter struct {
	shards [rateShards]rateShard
	denied prometheus.Counter
	// products are the products' limits by name, set by buildSnapshot
	// for the routes it builds (under the gateway's reloadMu).
	products map[string]*rateLimit
}

type rateShard struct {
	mu      sync.Mutex
	windows map[rateKey]*rateWindow
	sweepAt int // sweep ended windows when an insert finds this many
	_       [40]byte
}

type rateKey struct {
	sub   int64
	scope string
}

// rateWindow counts the calls of one window, which ends at end (Unix
// nanoseconds of the gateway's clock).
type rateWindow struct {
	end   int64
	count int
}

func newRateLimiter(m *metrics) *rateLimiter {
	r := &rateLimiter{denied: m.denials.WithLabelValues(reasonRateLimited)}
	for i := range r.shards {
		r.shards[i].windows = map[rateKey]*rateWindow{}
		r.shards[i].sweepAt = minRateSweep
	}
	return r
}

func (r *rateLimiter) shard(sub int64, l *rateLimit) *rateShard {
	h := (uint64(sub) ^ l.seed) * 0x9E3779B97F4A7C15
	return &r.shards[h>>(64-6)] // rateShards is 1<<6
}

// take counts one call of sub against l at now. It returns true and the
// end of the window the call was counted in, or, when the window is full,
// false and the nanoseconds until it ends.
func (r *rateLimiter) take(sub int64, l *rateLimit, now int64) (int64, bool) {
	sh := r.shard(sub, l)
	k := rateKey{sub: sub, scope: l.scope}
	sh.mu.Lock()
	w := sh.windows[k]
	if w == nil {
		if len(sh.windows) >= sh.sweepAt {
			sh.sweep(now)
		}
		w = &rateWindow{}
		sh.windows[k] = w
	}
	// A new window when the last one ended, or when the clock went back
	// before its start (or the period was shortened).
	if now >= w.end || now < w.end-l.period {
		w.end, w.count = now+l.period, 0
	}
	if w.count >= l.calls {
		end := w.end
		sh.mu.Unlock()
		return end - now, false
	}
	w.count++
	end := w.end
	sh.mu.Unlock()
	return end, true
}

// giveBack uncounts a call that take counted in the window ending at end,
// when a later limit refused the request.
func (r *rateLimiter) giveBack(sub int64, l *rateLimit, end int64) {
	sh := r.shard(sub, l)
	sh.mu.Lock()
	if w := sh.windows[rateKey{sub: sub, scope: l.scope}]; w != nil && w.end == end && w.count > 0 {
		w.count--
	}
	sh.mu.Unlock()
}

// sweep forgets the windows that have ended: a subscription that calls
// again starts a new one anyway. The next sweep waits until the shard has
// doubled, so that inserts cost amortised constant time.
func (sh *rateShard) sweep(now int64) {
	for k, w := range sh.windows {
		if now >= w.end {
			delete(sh.windows, k)
		}
	}
	sh.sweepAt = max(minRateSweep, 2*len(sh.windows))
}

// size returns the number of windows held, for tests.
func (r *rateLimiter) size() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.windows)
		sh.mu.Unlock()
	}
	return n
}

// rateLimitCheck limits the calls of the request's subscription by the
// limit of its product (when its scope is a product of this API) and by
// the API's own limit. It runs last, so that requests refused by another
// check are not counted.
func (g *Gateway) rateLimitCheck(rt *route, api *portal.API) check {
	apiLimit := newRateLimit("api", api.Name, api.Policies.RateLimit)
	var products []*rateLimit
	for _, p := range rt.products {
		if l := g.limits.products[p]; l != nil {
			products = append(products, l)
		}
	}
	if apiLimit == nil && len(products) == 0 {
		return nil
	}
	r := g.limits
	return func(rq *request) *denial {
		sub := rq.sub
		if sub == nil {
			return nil
		}
		var pl *rateLimit
		if sub.Scope.Kind == portal.ScopeProduct {
			for _, l := range products {
				if l.name == sub.Scope.Name {
					pl = l
					break
				}
			}
		}
		if pl == nil && apiLimit == nil {
			return nil
		}
		now := g.now().UnixNano()
		var pend int64
		if pl != nil {
			end, ok := r.take(sub.ID, pl, now)
			if !ok {
				return r.refuse(rq, pl, end)
			}
			pend = end
		}
		if apiLimit != nil {
			if wait, ok := r.take(sub.ID, apiLimit, now); !ok {
				if pl != nil {
					r.giveBack(sub.ID, pl, pend)
				}
				return r.refuse(rq, apiLimit, wait)
			}
		}
		return nil
	}
}

// refuse renders the 429 for a wait of wait nanoseconds, rounded up to
// whole seconds and at least one. The body varies with the wait, so it is
// rendered per refusal.
func (r *rateLimiter) refuse(rq *request, l *rateLimit, wait int64) *denial {
	secs := (wait + 999_999_999) / 1_000_000_000
	secs = max(secs, 1)
	n := strconv.FormatInt(secs, 10)
	d := newDenial(http.StatusTooManyRequests, msgRateLimitPrefix+n+msgRateLimitSuffix, reasonRateLimited, r.denied)
	d.header = http.Header{"Retry-After": {n}}
	rq.detail = "subscription " + strconv.FormatInt(rq.sub.ID, 10) + " is over " + l.desc
	return &d
}
