package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	// maxKeyLookups bounds concurrent store lookups of uncached keys, so
	// that a flood of random keys queues here instead of on the store.
	maxKeyLookups = 32
	// keyLookupTimeout bounds one store lookup, including the wait for a
	// lookup slot.
	keyLookupTimeout = 5 * time.Second
)

// keyCache maps subscription keys to the subscription the store returned
// (known keys, whatever their state) and remembers a bounded number of
// unknown keys. The gateway empties it whenever the catalog's version
// moves, which is how key changes reach every instance within a reload
// interval. Whether a cached subscription passes (state, expiry, owner,
// scope) is decided per request.
type keyCache struct {
	catalog     Catalog
	maxNegative int
	slots       chan struct{}
	hit         prometheus.Counter
	miss        prometheus.Counter
	negativeHit prometheus.Counter
	entries     prometheus.Gauge

	mu      sync.RWMutex
	gen     uint64 // incremented by flush; a lookup begun before it is not cached
	known   map[string]*portal.Subscription
	unknown map[string]struct{}
	flights map[string]*keyFlight
}

// keyFlight is one store lookup that concurrent requests for the same key
// wait on, instead of each asking the store.
type keyFlight struct {
	done chan struct{}
	sub  *portal.Subscription
	err  error
}

func newKeyCache(c Catalog, maxNegative int, m *metrics) *keyCache {
	return &keyCache{
		catalog:     c,
		maxNegative: maxNegative,
		slots:       make(chan struct{}, maxKeyLookups),
		hit:         m.keyHit,
		miss:        m.keyMiss,
		negativeHit: m.keyNegativeHit,
		entries:     m.keyEntries,
		known:       map[string]*portal.Subscription{},
		unknown:     map[string]struct{}{},
		flights:     map[string]*keyFlight{},
	}
}

// lookup returns the subscription holding key, or nil when none does. An
// error means the store could not answer; it is not cached.
func (c *keyCache) lookup(ctx context.Context, key string) (*portal.Subscription, error) {
	c.mu.RLock()
	sub, found := c.known[key]
	_, unknown := c.unknown[key]
	c.mu.RUnlock()
	switch {
	case found:
		c.hit.Inc()
		return sub, nil
	case unknown:
		c.negativeHit.Inc()
		return nil, nil
	}
	c.miss.Inc()
	// No stored key breaks these rules, so such a key needs no lookup and
	// no room in the cache.
	if portal.ValidateKey(key) != nil {
		return nil, nil
	}

	c.mu.Lock()
	if sub, found := c.known[key]; found {
		c.mu.Unlock()
		return sub, nil
	}
	if _, unknown := c.unknown[key]; unknown {
		c.mu.Unlock()
		return nil, nil
	}
	if f := c.flights[key]; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.sub, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &keyFlight{done: make(chan struct{})}
	c.flights[key] = f
	gen := c.gen
	c.mu.Unlock()

	// The lookup serves every waiter, so it does not end with the request
	// that started it.
	f.sub, f.err = c.fetch(context.WithoutCancel(ctx), key)

	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	// A flush while the lookup ran means its answer may predate the
	// change: give it to the waiters but do not keep it.
	if f.err == nil && c.gen == gen {
		if f.sub != nil {
			c.known[key] = f.sub
		} else {
			if len(c.unknown) >= c.maxNegative {
				for k := range c.unknown { // map order is random: a random victim
					delete(c.unknown, k)
					break
				}
			}
			c.unknown[key] = struct{}{}
		}
		c.entries.Set(float64(len(c.known) + len(c.unknown)))
	}
	c.mu.Unlock()
	close(f.done)
	return f.sub, f.err
}

func (c *keyCache) fetch(ctx context.Context, key string) (*portal.Subscription, error) {
	ctx, cancel := context.WithTimeout(ctx, keyLookupTimeout)
	defer cancel()
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a key lookup slot: %w", ctx.Err())
	}
	sub, _, err := c.catalog.FindSubscriptionByKey(ctx, key)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find subscription by key: %w", err)
	}
	return sub, nil
}

// flush forgets every key, known and unknown, and detaches lookups in
// flight so that the next request for a key asks the store again.
func (c *keyCache) flush() {
	c.mu.Lock()
	c.gen++
	c.known = map[string]*portal.Subscription{}
	c.unknown = map[string]struct{}{}
	c.flights = map[string]*keyFlight{}
	c.entries.Set(0)
	c.mu.Unlock()
}
