package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/porticoapi/portico/portal"
)

// pageCache keeps the catalogue pages as rendered for anonymous visitors,
// by request URI, for one version of the store. Every anonymous visitor
// sees the same catalogue, so a page rendered once serves all of them
// until anything in the store changes: the version is read on each
// request (one indexed row), so an administrator's change, from this
// process or any other sharing the store, shows on the next request.
// Signed-in visitors always get a fresh page: theirs depends on who they
// are.
type pageCache struct {
	version  func(ctx context.Context) (int64, error)
	settings func(ctx context.Context) (*portal.Settings, error)

	mu      sync.RWMutex
	at      int64            // the store version the pages were rendered at
	settled *portal.Settings // the settings at version at; nil until read
	pages   map[string]*cachedPage
	bytes   int
	maxSize int // bytes kept at most; when full, the cache starts over
}

// cachedPage is a rendered answer: the headers the handler set and the body.
type cachedPage struct {
	contentType []string
	length      []string
	cache       []string
	body        []byte
}

// Bounds of the page cache. A catalogue page is a few kilobytes; the
// cache holds some thousands of them, and a crawler walking every search
// string only makes it start over, never grow past maxPageCacheBytes.
const (
	maxPageCacheBytes = 16 << 20
	maxCachedPage     = 512 << 10
	maxCachedURI      = 512
)

func newPageCache(store Store) *pageCache {
	return &pageCache{version: store.Version, settings: store.FindSettings, pages: map[string]*cachedPage{}, maxSize: maxPageCacheBytes}
}

// current returns the store's version and the portal settings at that
// version, reading the settings only when the version has moved. The
// version is left in the returned context so that wrap, later in the same
// request, need not read it again. The settings are shared: callers must
// not change them.
func (c *pageCache) current(ctx context.Context) (context.Context, *portal.Settings, error) {
	v, err := c.version(ctx)
	if err != nil {
		return ctx, nil, err
	}
	ctx = context.WithValue(ctx, storeVersionKey{}, v)
	c.mu.RLock()
	at, settings := c.at, c.settled
	c.mu.RUnlock()
	if at == v && settings != nil {
		return ctx, settings, nil
	}
	if settings, err = c.settings(ctx); err != nil {
		return ctx, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v >= c.at {
		c.moveTo(v)
		c.settled = settings
	}
	return ctx, settings, nil
}

// storeVersionKey holds, in a request's context, the store version read
// for it by current.
type storeVersionKey struct{}

// moveTo forgets what was kept for an older version. c.mu is held.
func (c *pageCache) moveTo(v int64) {
	if v != c.at {
		c.at, c.pages, c.bytes, c.settled = v, map[string]*cachedPage{}, 0, nil
	}
}

// wrap serves h's GET answers to anonymous visitors from the cache.
func (c *pageCache) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uri := r.URL.RequestURI()
		if r.Method != http.MethodGet || portal.UserFromContext(r.Context()) != nil || len(uri) > maxCachedURI {
			h(w, r)
			return
		}
		v, ok := r.Context().Value(storeVersionKey{}).(int64)
		if !ok {
			var err error
			if v, err = c.version(r.Context()); err != nil {
				h(w, r) // the handler meets the same store and answers for it
				return
			}
		}
		if p := c.get(v, uri); p != nil {
			p.write(w)
			return
		}
		rec := &pageRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.status == http.StatusOK && !rec.overflow {
			hd := w.Header()
			c.put(v, uri, &cachedPage{
				contentType: hd["Content-Type"],
				length:      []string{strconv.Itoa(rec.body.Len())},
				cache:       hd["Cache-Control"],
				body:        bytes.Clone(rec.body.Bytes()),
			})
		}
	})
}

func (c *pageCache) get(version int64, uri string) *cachedPage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.at != version {
		return nil
	}
	return c.pages[uri]
}

func (c *pageCache) put(version int64, uri string, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version < c.at {
		return // rendered before a newer version was seen
	}
	c.moveTo(version)
	if c.bytes+len(p.body) > c.maxSize {
		c.pages, c.bytes = map[string]*cachedPage{}, 0
	}
	c.pages[uri] = p
	c.bytes += len(p.body)
}

func (p *cachedPage) write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = p.contentType
	h["Content-Length"] = p.length
	if p.cache != nil {
		h["Cache-Control"] = p.cache
	}
	w.WriteHeader(http.StatusOK)
	w.Write(p.body)
}

// pageRecorder passes an answer through and keeps a copy of its body, up
// to maxCachedPage.
type pageRecorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (r *pageRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *pageRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.overflow {
		if r.body.Len()+len(b) > maxCachedPage {
			r.overflow = true
			r.body.Reset()
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}
