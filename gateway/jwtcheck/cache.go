package jwtcheck

import (
	"strings"
	"sync"
)

// tokenCache remembers tokens that passed, by the SHA-256 of the token,
// so that a repeated token costs a hash and a map lookup instead of a
// signature check. An entry is served only inside the token's own
// lifetime (nbf to exp, clock skew included).
type tokenCache struct {
	mu  sync.RWMutex
	max int
	m   map[[32]byte]cacheEntry
}

type cacheEntry struct {
	res         *Result
	from, until int64 // Unix nanoseconds
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[[32]byte]cacheEntry, min(max, 1024))}
}

func (c *tokenCache) get(sum [32]byte, now int64) *Result {
	c.mu.RLock()
	e, ok := c.m[sum]
	c.mu.RUnlock()
	if !ok || now < e.from || now >= e.until {
		return nil
	}
	return e.res
}

// put adds an entry. A full cache first drops what has expired, then, if
// that freed too little, an eighth of its entries chosen by map order
// (pseudo-random), so that inserting stays cheap under a flood of distinct
// valid tokens.
func (c *tokenCache) put(sum [32]byte, e cacheEntry, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, old := range c.m {
			if old.until <= now {
				delete(c.m, k)
			}
		}
		keep := c.max - c.max/8 - 1
		for k := range c.m {
			if len(c.m) <= keep {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[sum] = e
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// headerCache remembers the parsed JOSE headers of tokens that verified,
// by their base64 form. A provider signs every token with one of a few
// headers (alg, kid, typ), so most tokens skip decoding theirs. Only
// authentic headers enter, and the cache starts over when it is full.
type headerCache struct {
	mu sync.RWMutex
	m  map[string]jwsHeader
}

const maxHeaders = 64

func (c *headerCache) get(b64 string) (jwsHeader, bool) {
	c.mu.RLock()
	h, ok := c.m[b64]
	c.mu.RUnlock()
	return h, ok
}

func (c *headerCache) put(b64 string, h jwsHeader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxHeaders {
		c.m = make(map[string]jwsHeader, maxHeaders)
	}
	// A copy, so that the entry does not keep the whole token alive.
	c.m[strings.Clone(b64)] = h
}
