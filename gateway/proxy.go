package gateway

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/porticoapi/portico/observe"
)

// NewTransport returns the transport the gateway forwards with, exported
// so that a benchmark's bare reverse proxy can use the same settings.
//
// It never uses an HTTP proxy from the environment (backends are reached
// directly), keeps many idle connections per backend (a gateway sends all
// its traffic to a few hosts), and leaves bodies compressed as the backend
// sent them. The response header timeout is per API (see timeouts.go), so
// the transport has none.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true, // for TLS backends; plain http stays HTTP/1.1
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		DisableCompression:    true,
	}
}

// backend is where a route forwards: the parts of the backend URL that the
// rewrite joins with the rest of the request path.
type backend struct {
	scheme, host string
	// base and baseRaw are the backend path and its escaped form without a
	// trailing slash; full and fullRaw keep it, for a request to the API
	// path itself.
	base, baseRaw string
	full, fullRaw string
	raw           bool // the backend path has escapes of its own
}

// echoBackend addresses the in-process echo transport.
var echoBackend = backend{scheme: "http", host: "builtin.echo", full: "/", fullRaw: "/"}

func parseBackend(s string) (backend, error) {
	u, err := url.Parse(s)
	if err != nil {
		return backend{}, fmt.Errorf("backend URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return backend{}, fmt.Errorf("backend URL %q is not an absolute http or https URL", s)
	}
	b := backend{scheme: u.Scheme, host: u.Host, full: u.Path, fullRaw: u.EscapedPath()}
	if b.full == "" {
		b.full, b.fullRaw = "/", "/"
	}
	b.base = strings.TrimSuffix(u.Path, "/")
	b.baseRaw = strings.TrimSuffix(u.EscapedPath(), "/")
	b.raw = u.RawPath != ""
	return b, nil
}

// rewrite turns the inbound request into the backend request. ReverseProxy
// has already removed hop-by-hop headers and the caller's Forwarded and
// X-Forwarded-* headers (they are not trusted here), and cloned the
// header, which carries the request id ServeHTTP settled on.
func (rt *route) rewrite(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	b := &rt.backend
	out.URL.Scheme = b.scheme
	out.URL.Host = b.host
	out.Host = "" // the backend's host
	// The API path is a prefix of both forms of the path (see
	// snapshot.match), so the rest is cut at the same length from each.
	if rest := in.URL.Path[rt.prefixLen:]; rest == "" {
		out.URL.Path = b.full
	} else {
		out.URL.Path = b.base + rest
	}
	if in.URL.RawPath == "" && !b.raw {
		out.URL.RawPath = ""
	} else if rest := in.URL.EscapedPath()[rt.prefixLen:]; rest == "" {
		out.URL.RawPath = b.fullRaw
	} else {
		out.URL.RawPath = b.baseRaw + rest
	}
	out.URL.RawQuery = withoutQueryParam(out.URL.RawQuery, rt.keyQuery)
	delete(out.Header, rt.keyHeader)
	rt.auth.inject(out.Header) // after hop-by-hop removal: no caller header can undo it
	pr.SetXForwarded()
}

// modifyResponse runs when the backend's headers arrive.
func (rt *route) modifyResponse(res *http.Response) error {
	// The gateway's id, not one the backend may have sent.
	res.Header[observe.RequestIDHeader] = res.Request.Header[observe.RequestIDHeader]
	rt.codes.inc(res.StatusCode)
	return nil
}

// statusClientGone is counted (as nginx does) for a caller that left
// before the backend answered; nothing is written.
const statusClientGone = 499

// handleError answers a failed backend round trip. r is the outbound
// request, which carries the request id.
func (rt *route) handleError(w http.ResponseWriter, r *http.Request, err error) {
	g := rt.gw
	ctx := r.Context()
	id := r.Header.Get(observe.RequestIDHeader)
	timeout := isBackendTimeout(err)
	if !timeout && ctx.Err() != nil {
		rt.codes.inc(statusClientGone)
		if g.log.Enabled(ctx, slog.LevelDebug) {
			g.log.LogAttrs(ctx, slog.LevelDebug, "gateway client went away before the backend answered",
				slog.String("request_id", id), slog.String("api", rt.name))
		}
		return
	}
	d := &g.denials.badGateway
	if timeout {
		d = &g.denials.gatewayTimeout
	}
	d.write(w, id)
	rt.codes.inc(d.status)
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // without the URL, whose query may hold secrets
	}
	g.log.LogAttrs(ctx, slog.LevelWarn, "gateway backend request failed",
		slog.String("request_id", id), slog.String("api", rt.name), slog.Int("status", d.status),
		slog.String("method", r.Method), slog.String("backend_host", r.URL.Host), slog.Any("error", err))
}

// errBackendTimeout is what headerTimeoutTransport fails with. (With an
// *http.Transport, the timeout is its ResponseHeaderTimeout: see
// timeouts.go.)
var errBackendTimeout = errors.New("backend did not send the response headers in time")

// headerTimeoutTransport gives the backend timeout to the wait for the
// response headers only, as APIM's forward-request timeout does: once the
// headers arrive, the timer stops, and a long or streaming body is not
// cut. Its context ends with the inbound request's.
type headerTimeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *headerTimeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.timeout, func() { cancel(errBackendTimeout) })
	res, err := t.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired: the context is cancelled, so even headers that
		// arrived at that moment come with a body that would fail.
		if err == nil {
			res.Body.Close()
		}
		return nil, errBackendTimeout
	}
	if err != nil {
		cancel(err)
		return nil, err
	}
	// Left running for the body; cancelled when the inbound request ends.
	return res, nil
}

// failingTransport serves an API whose backend cannot be used.
type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, t.err
}

// copyBufferSize is ReverseProxy's own default buffer size.
const copyBufferSize = 32 << 10

// bufferPool recycles the proxy's copy buffers. It pools array pointers,
// which fit in an interface without allocating, rather than slices.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if a, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return a[:]
	}
	return new([copyBufferSize]byte)[:]
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) >= copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
	}
}

// proxyLog is where ReverseProxy reports what it cannot return as an
// error, such as a backend body that fails half way.
func (g *Gateway) proxyLog() *log.Logger {
	return slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)
}
