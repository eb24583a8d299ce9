package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/observe"
	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// contentSecurityPolicy allows only this origin's files: no inline script
// or style (not even style attributes), no plugins, no framing. Pages keep
// their behaviour in static/js and their looks in static/css.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// permissionsPolicy turns off the powerful features no portal page uses.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

type requestIDKey struct{}

// requestIDFrom returns the id requestID gave the request, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID keeps the caller's well-formed X-Request-Id or makes one, and
// answers with it.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := observe.RequestID(r)
		w.Header().Set(observe.RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// securityHeaders sets the headers every response carries. Cache-Control
// defaults to no-store because pages will show keys; handlers of
// cacheable responses (static files) replace it, and a handler that needs
// a different policy (an audio CAPTCHA needs media-src) may set its own
// Content-Security-Policy before writing.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := s.publicURL != nil && s.publicURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("Cache-Control", "no-store")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(w, r)
	})
}

// metrics are the portal's request counters, labelled by the matched route
// pattern so that the label's values are bounded by the route table.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_portal_requests_total",
			Help: "Portal HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_portal_request_duration_seconds",
			Help:    "Time to answer portal HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register portal metrics: %w", err)
		}
	}
	return m, nil
}

// unmatchedRoute labels requests that no pattern but the catch-all matched.
const unmatchedRoute = "unmatched"

// logRequests writes one access-log line per request and updates the
// metrics. The route is the pattern mux would choose, looked up here
// because the mux records it on its own copy of the request. The query
// string is not logged: it may carry tokens (confirmation links).
func (s *Server) logRequests(mux *http.ServeMux) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			_, route := mux.Handler(r)
			if route == "" || route == "/" {
				route = unmatchedRoute
			}
			rec := recordResponse(w)
			next.ServeHTTP(rec, r)
			status := rec.statusOrOK()
			elapsed := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", requestIDFrom(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("remote_addr", r.RemoteAddr),
			)
		})
	}
}

// recoverPanics turns a panic into the 500 page and logs it with its stack.
// When part of the response is already out, it aborts the connection
// instead, so that the client sees a broken response rather than a
// truncated one that looks whole.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recordResponse(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.ErrorContext(r.Context(), "panic serving request",
				"request_id", requestIDFrom(r.Context()),
				"method", r.Method,
				"path", r.URL.Path,
				"error", fmt.Sprint(v),
				"stack", string(debug.Stack()),
			)
			if rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			s.errorPage(rec, r, http.StatusInternalServerError, internalErrorMessage)
		}()
		next.ServeHTTP(rec, r)
	})
}

// crossOriginProtection refuses unsafe methods (POST, PUT, PATCH, DELETE)
// sent cross-site by a browser, judged by Sec-Fetch-Site or, failing that,
// Origin against Host. The public URL's origin is trusted as well, for
// proxies that rewrite Host.
func (s *Server) crossOriginProtection() (func(http.Handler) http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	if s.publicURL != nil {
		if err := cop.AddTrustedOrigin(s.publicURL.Scheme + "://" + s.publicURL.Host); err != nil {
			return nil, fmt.Errorf("trust public URL origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, portal.Errorf(portal.EFORBIDDEN, "This request came from another site and was refused. Go back to the page, reload it and try again."))
	}))
	return cop.Handler, nil
}

// responseRecorder notes the status and size of a response on its way out.
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// recordResponse wraps w, or returns it when it is already a recorder, so
// that nested middleware share one.
func recordResponse(w http.ResponseWriter) *responseRecorder {
	if rec, ok := w.(*responseRecorder); ok {
		return rec
	}
	return &responseRecorder{ResponseWriter: w}
}

func (rec *responseRecorder) WriteHeader(code int) {
	if rec.status == 0 && code >= 200 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *responseRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rec *responseRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *responseRecorder) statusOrOK() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// anonymousAccess sends visitors who are not signed in to the sign-in page
// when the portal's settings say anonymous_access: redirect, and brings
// them back to the page they asked for afterwards. The pages that signing
// in needs stay open: sign-in and sign-out, static files, and the health
// and metrics endpoints (and, with the identity features, sign-up,
// confirmation, password reset and the CAPTCHA). The store's version is
// read for each anonymous request, so a change of the settings applies at
// once on every instance.
func (s *Server) anonymousAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if portal.UserFromContext(r.Context()) != nil || openToAnonymous(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, settings, err := s.pages.current(r.Context())
		if err != nil {
			s.error(w, r, err)
			return
		}
		r = r.WithContext(ctx)
		if settings.AnonymousAccess != portal.AnonymousRedirect {
			next.ServeHTTP(w, r)
			return
		}
		// The error page redirects GET and HEAD to sign-in with the
		// return path, and answers other methods 401.
		s.error(w, r, portal.Errorf(portal.EUNAUTHORIZED, "Sign in to continue."))
	})
}

// openToAnonymous lists the paths a visitor must reach to sign in.
func openToAnonymous(p string) bool {
	switch p {
	case "/signin", "/signout", "/signup", "/reset-password", "/healthz", "/readyz", "/metrics":
		return true
	}
	for _, prefix := range []string{staticPrefix, "/signin/", "/confirm/", "/captcha/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
