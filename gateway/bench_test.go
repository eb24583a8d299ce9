package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkServeKeyed compares the gateway's full ServeHTTP (route,
// operation, cached key, rewrite, proxy) with a bare ReverseProxy on the
// same transport settings, both to a trivial loopback backend.
func BenchmarkServeKeyed(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	defer backend.Close()

	gw, err := gateway.New(gateway.Config{Catalog: newCatalog(backend.URL), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	target, _ := url.Parse(backend.URL + "/v1")
	// The same transport settings as the gateway's routes: its transport
	// with the default backend timeout on the response headers.
	transport := gateway.NewTransport()
	transport.ResponseHeaderTimeout = portal.DefaultBackendTimeout
	bare := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: transport,
	}
	// The same proxy with pooled copy buffers, as the gateway has: the
	// difference between this one and the gateway is the gateway's own work.
	pooled := *bare
	pooled.BufferPool = &slicePool{}

	for _, bc := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"gateway", gw, "/echo/users/42?x=1"},
		{"bare", bare, "/users/42?x=1"},
		{"bare-pooled", &pooled, "/users/42?x=1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			serve := func() bool {
				r := httptest.NewRequest("GET", "http://gateway.test"+bc.path, nil)
				r.Header.Set(keyHeader, kStarter)
				w := httptest.NewRecorder()
				bc.handler.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Errorf("status %d: %s", w.Code, w.Body)
					return false
				}
				return true
			}
			if !serve() { // warms the key cache and the connection pool
				return
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && serve() {
				}
			})
		})
	}
}

type slicePool struct{ p sync.Pool }

func (s *slicePool) Get() []byte {
	if b, ok := s.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (s *slicePool) Put(b []byte) { s.p.Put(&b) }

// BenchmarkServeBackendAuthRateLimit is the gateway of BenchmarkServeKeyed
// with basic backend authentication, and with product and API rate limits
// that are never hit, so that their per-request cost shows beside the
// key-only path.
func BenchmarkServeBackendAuthRateLimit(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	never := &portal.RateLimit{Calls: 1 << 40, Period: time.Hour}

	for _, bc := range []struct {
		name string
		edit func(echo *portal.API, starter *portal.Product)
	}{
		{"key", func(*portal.API, *portal.Product) {}},
		{"basic-auth", func(echo *portal.API, _ *portal.Product) {
			echo.Backend.Auth = &portal.BackendAuth{Basic: &portal.BasicAuth{Username: "svc", Password: "secret"}}
		}},
		{"rate-limit-product", func(_ *portal.API, starter *portal.Product) { starter.RateLimit = never }},
		{"rate-limit-product-and-api", func(echo *portal.API, starter *portal.Product) {
			starter.RateLimit = never
			echo.Policies.RateLimit = never
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cat := newCatalog(backend.URL)
			bc.edit(cat.apis[0], cat.products[0]) // echo, starter
			gw, err := gateway.New(gateway.Config{Catalog: cat, Registerer: prometheus.NewRegistry()})
			if err != nil {
				b.Fatal(err)
			}
			serve := func() bool {
				r := httptest.NewRequest("GET", "http://gateway.test/echo/users/42?x=1", nil)
				r.Header.Set(keyHeader, kStarter)
				w := httptest.NewRecorder()
				gw.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Errorf("status %d: %s", w.Code, w.Body)
					return false
				}
				return true
			}
			if !serve() { // warms the key cache and the connection pool
				return
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && serve() {
				}
			})
		})
	}
}

// BenchmarkServeJWTCached is the full request path with a subscription key
// and validate_jwt (keys from a devidp provider on loopback), the same
// token on every request, so that the token comes from the validator's
// cache; "key" is the same gateway path without validate_jwt.
func BenchmarkServeJWTCached(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	idp := startJWTProvider(b)
	tok := "Bearer " + idp.Mint(map[string]any{"aud": "api://echo", "sub": "bench"})

	for _, withJWT := range []bool{false, true} {
		name := "key"
		if withJWT {
			name = "key+jwt-cached"
		}
		b.Run(name, func(b *testing.B) {
			cat := newCatalog(backend.URL)
			if withJWT {
				cat.apis[0].Policies.ValidateJWT = jwtPolicy(idp, nil) // echo
			}
			gw, err := gateway.New(gateway.Config{Catalog: cat, Registerer: prometheus.NewRegistry()})
			if err != nil {
				b.Fatal(err)
			}
			serve := func() bool {
				r := httptest.NewRequest("GET", "http://gateway.test/echo/users/42?x=1", nil)
				r.Header.Set(keyHeader, kStarter)
				r.Header.Set("Authorization", tok)
				w := httptest.NewRecorder()
				gw.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Errorf("status %d: %s", w.Code, w.Body)
					return false
				}
				return true
			}
			if !serve() { // warms the key and token caches and the connection pool
				return
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && serve() {
				}
			})
		})
	}
}
