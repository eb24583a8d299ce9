package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
)

// backendBody is what the trivial backend answers: a small JSON document,
// about the size of a typical API response header-to-body ratio.
var backendBody = []byte(`{"id":"r-42","name":"widget","size":3,"labels":["blue","green"],"ok":true}` + "\n")

func serveBackend(ctx context.Context, addr string) error {
	return listen(ctx, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(backendBody)
	}))
}

// serveBareProxy is the baseline: httputil.ReverseProxy with the same
// transport as Portico's gateway and nothing else.
func serveBareProxy(ctx context.Context, addr, backend string) error {
	target, err := url.Parse(backend)
	if err != nil {
		return err
	}
	// The transport settings of the gateway's routes: its transport with
	// the default backend timeout on the response headers.
	transport := gateway.NewTransport()
	transport.ResponseHeaderTimeout = portal.DefaultBackendTimeout
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:  transport,
		BufferPool: &bufferPool{},
	}
	return listen(ctx, addr, rp)
}

// bufferPool gives the baseline the same pooled copy buffers as the
// gateway, so that the comparison measures Portico's checks, not pooling.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// serveStatic serves one file's bytes, as a web server serves a static page.
func serveStatic(ctx context.Context, addr, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	modTime := time.Now()
	return listen(ctx, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "apis.html", modTime, bytes.NewReader(b))
	}))
}

func listen(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
