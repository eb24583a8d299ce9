package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porticoapi/portico/portal"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Backend authentication (API.Backend.Auth): how the gateway proves who it
// is to a backend.
//
//   - basic: the Authorization header is rendered once per route and set
//     by the rewrite.
//   - certificate: the route forwards with a clone of the gateway's
//     transport that presents the client certificate.
//   - oauth_client_credentials: a check after the policy chain makes sure
//     the gateway holds a token for the backend (fetching it once for all
//     the requests that need it), and the rewrite sends it.
//
// The Authorization header is set in the rewrite, after ReverseProxy has
// removed the hop-by-hop headers (Proxy-Authorization and whatever the
// caller's Connection header lists), so no caller header can strip the
// credential or add a second one: the caller's Authorization is replaced.

// Defaults and bounds of the token fetch.
const (
	// DefaultBackendTokenTimeout bounds one token request, from the dial to
	// the end of the response body.
	DefaultBackendTokenTimeout = 10 * time.Second
	// maxTokenResponse bounds the token endpoint's response body; tokens of
	// real providers are a few kilobytes.
	maxTokenResponse = 64 << 10
	// tokenRetryDelay is how long a failed fetch answers for the requests
	// that follow it, so that a flood of requests does not become a flood
	// of token requests while the endpoint is down.
	tokenRetryDelay = time.Second
	// tokenEarlyMax caps how early a token is refreshed before it expires
	// (a tenth of its lifetime, at most this).
	tokenEarlyMax = 30 * time.Second
	// tokenDefaultLifetime is assumed for a token that comes without
	// expires_in.
	tokenDefaultLifetime = 5 * time.Minute
)

// Reasons under which token failures are counted and logged.
const (
	reasonBackendAuthUnavailable = "backend_auth_unavailable"
	reasonBackendAuthRefused     = "backend_auth_refused"
)

// routeAuth is what a route's rewrite injects. At most one field is set.
type routeAuth struct {
	basic  []string     // {"Basic ..."}, shared by every request of the route
	tokens *tokenSource // oauth_client_credentials
}

// inject sets the backend's Authorization header, replacing the caller's.
// With tokens, the route's token check has already made sure a token is
// held; the current one is that token or a newer one.
func (a *routeAuth) inject(h http.Header) {
	switch {
	case a.basic != nil:
		h["Authorization"] = a.basic
	case a.tokens != nil:
		if t := a.tokens.cur.Load(); t != nil {
			h["Authorization"] = t.header
		} else {
			delete(h, "Authorization")
		}
	}
}

// injects reports whether the route sets Authorization itself.
func (a *routeAuth) injects() bool { return a.basic != nil || a.tokens != nil }

// backendAuth keeps what backend authentication needs across snapshot
// rebuilds: token sources (with their cached tokens) and certificate
// transports (with their pooled connections), each keyed by a hash of its
// settings, so that an unchanged API keeps them when any part of the
// catalog changes. It is used only while the routes are built, under the
// gateway's reloadMu.
type backendAuth struct {
	base        http.RoundTripper
	log         *slog.Logger
	now         func() time.Time
	timeout     time.Duration
	unavailable denial
	refused     denial

	gen        uint64 // the build in progress; entries not used by it are dropped by sweep
	tokens     map[string]*tokenEntry
	transports map[string]*transportEntry
}

type tokenEntry struct {
	src  *tokenSource
	used uint64
}

type transportEntry struct {
	rt   http.RoundTripper // *http.Transport, or failingTransport for a bad certificate
	used uint64
}

func newBackendAuth(base http.RoundTripper, log *slog.Logger, now func() time.Time, timeout time.Duration, m *metrics) *backendAuth {
	if timeout <= 0 {
		timeout = DefaultBackendTokenTimeout
	}
	return &backendAuth{
		base:    base,
		log:     log,
		now:     now,
		timeout: timeout,
		unavailable: newDenial(http.StatusServiceUnavailable, msgKeyUnavailable, reasonBackendAuthUnavailable,
			m.denials.WithLabelValues(reasonBackendAuthUnavailable)),
		refused: newDenial(http.StatusBadGateway, msgBadGateway, reasonBackendAuthRefused,
			m.denials.WithLabelValues(reasonBackendAuthRefused)),
		tokens:     map[string]*tokenEntry{},
		transports: map[string]*transportEntry{},
	}
}

// sweep ends a snapshot build: it drops the token sources and transports
// that no route of the new snapshot uses, and closes the transports' idle
// connections.
func (b *backendAuth) sweep() {
	for k, e := range b.tokens {
		if e.used != b.gen {
			delete(b.tokens, k)
		}
	}
	for k, e := range b.transports {
		if e.used != b.gen {
			if t, ok := e.rt.(*http.Transport); ok {
				t.CloseIdleConnections()
			}
			delete(b.transports, k)
		}
	}
	b.gen++
}

// useBackendAuth sets up rt's backend authentication: the header its
// rewrite injects, and for oauth_client_credentials a check appended to
// rt's chain. It returns the transport that forwards to a network backend
// and the one that serves builtin:echo.
func (g *Gateway) useBackendAuth(rt *route, api *portal.API) (backendTransport, echo http.RoundTripper) {
	b := g.backendAuth
	backendTransport, echo = g.transport, g.echo
	a := api.Backend.Auth
	switch {
	case a == nil:
	case a.Basic != nil:
		cred := base64.StdEncoding.EncodeToString([]byte(a.Basic.Username + ":" + a.Basic.Password))
		rt.auth.basic = []string{"Basic " + cred}
	case a.Certificate != nil:
		backendTransport = b.certificateTransport(api.Name, a.Certificate)
	case a.OAuthClientCredentials != nil:
		src := b.tokenSource(a.OAuthClientCredentials)
		rt.auth.tokens = src
		rt.checks = append(rt.checks, func(rq *request) *denial {
			if _, err := src.token(rq.r.Context()); err != nil {
				var te *tokenError
				if errors.As(err, &te) {
					rq.detail = te.detail
					if te.unavailable {
						return &b.unavailable
					}
					return &b.refused
				}
				// The caller left while waiting for the token.
				rq.detail = "caller gone while the backend token was fetched"
				return &b.unavailable
			}
			return nil
		})
	}
	if rt.auth.injects() {
		// The echo shows the caller what the backend received; the
		// gateway's credential is not the caller's to see.
		echo = echoTransport{maxBody: maxEchoBody, redactAuthorization: true}
	}
	return backendTransport, echo
}

// certificateTransport returns a clone of the gateway's transport that
// presents c to TLS backends, shared by every API with the same
// certificate and kept across rebuilds so that its connections are pooled.
// A certificate that does not parse gives a transport that fails (502) and
// a warning, once per change of the settings.
func (b *backendAuth) certificateTransport(api string, c *portal.CertificateAuth) http.RoundTripper {
	k := settingsKey("certificate", c.CertificatePEM, c.KeyPEM)
	if e := b.transports[k]; e != nil {
		e.used = b.gen
		return e.rt
	}
	var rt http.RoundTripper
	cert, err := tls.X509KeyPair([]byte(c.CertificatePEM), []byte(c.KeyPEM))
	if err != nil {
		// X509KeyPair's errors name what is wrong, never the key's bytes.
		err = fmt.Errorf("backend client certificate: %w", err)
		b.log.Warn("API backend certificate unusable; its requests answer 502", "api", api, "error", err)
		rt = failingTransport{err: err}
	} else {
		base, ok := b.base.(*http.Transport)
		if !ok {
			// A custom RoundTripper cannot be given a certificate; the
			// gateway's own settings are the next best.
			base = NewTransport()
		}
		t := base.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{}
		}
		t.TLSClientConfig.Certificates = []tls.Certificate{cert}
		rt = t
	}
	b.transports[k] = &transportEntry{rt: rt, used: b.gen}
	return rt
}

// tokenSource returns the source for c, the same one while c is unchanged.
func (b *backendAuth) tokenSource(c *portal.OAuthClientCredentials) *tokenSource {
	k := settingsKey("oauth_client_credentials", c.TokenURL, c.ClientID, c.ClientSecret, c.Scope, c.Resource)
	if e := b.tokens[k]; e != nil {
		e.used = b.gen
		return e.src
	}
	cfg := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     c.TokenURL,
		Scopes:       strings.Fields(c.Scope),
		AuthStyle:    oauth2.AuthStyleInHeader, // client_secret_basic
	}
	if c.Resource != "" {
		cfg.EndpointParams = url.Values{"resource": {c.Resource}}
	}
	host := c.TokenURL
	if u, err := url.Parse(c.TokenURL); err == nil {
		host = u.Host
	}
	src := &tokenSource{
		cfg:    cfg,
		host:   host,
		secret: c.ClientSecret,
		now:    b.now,
		log:    b.log,
		client: &http.Client{
			Transport: limitedBodyTransport{next: b.base, max: maxTokenResponse},
			Timeout:   b.timeout,
			// A token endpoint that redirects is misconfigured; following
			// it would send the form elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: b.timeout,
	}
	b.tokens[k] = &tokenEntry{src: src, used: b.gen}
	return src
}

// settingsKey hashes the settings that identify a cached object, so that
// secrets are not kept as map keys and fields cannot run into each other.
func settingsKey(kind string, fields ...string) string {
	h := sha256.New()
	io.WriteString(h, kind)
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		io.WriteString(h, f)
	}
	return string(h.Sum(nil))
}

// backendToken is a token as the rewrite sends it.
type backendToken struct {
	header    []string // {"Bearer ..."}
	refreshAt time.Time
	expiry    time.Time
}

// tokenSource gets and caches the gateway's own token with the client
// credentials grant. A held token is read with one atomic load. When it is
// due for refresh, one request fetches a new one; the others go on with
// the old token while it has not expired, or wait for the fetch.
type tokenSource struct {
	cfg     clientcredentials.Config
	client  *http.Client
	timeout time.Duration
	host    string // the token endpoint's host, for logs and details
	secret  string // to scrub from anything the endpoint says back
	now     func() time.Time
	log     *slog.Logger

	cur atomic.Pointer[backendToken]

	mu      sync.Mutex // guards the fields below
	flight  *tokenFlight
	failed  error // the last fetch's failure, answered until retryAt
	retryAt time.Time
}

type tokenFlight struct {
	done chan struct{}
	tok  *backendToken
	err  error
}

// tokenError is a failure to get a token, with its safe detail.
type tokenError struct {
	unavailable bool // the endpoint could not be reached or timed out: 503; else 502
	detail      string
}

func (e *tokenError) Error() string { return e.detail }

// token returns a token that has not expired, fetching one when the held
// token is due for refresh. Errors are *tokenError, or ctx's error when the
// caller leaves while waiting.
func (s *tokenSource) token(ctx context.Context) (*backendToken, error) {
	now := s.now()
	t := s.cur.Load()
	if t != nil && now.Before(t.refreshAt) {
		return t, nil
	}
	usable := t != nil && now.Before(t.expiry)

	s.mu.Lock()
	if t2 := s.cur.Load(); t2 != t && t2 != nil && now.Before(t2.refreshAt) {
		s.mu.Unlock()
		return t2, nil
	}
	if f := s.flight; f != nil {
		s.mu.Unlock()
		if usable {
			return t, nil
		}
		select {
		case <-f.done:
			return f.tok, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.failed != nil && now.Before(s.retryAt) {
		err := s.failed
		s.mu.Unlock()
		if usable {
			return t, nil
		}
		return nil, err
	}
	f := &tokenFlight{done: make(chan struct{})}
	s.flight = f
	s.mu.Unlock()

	// The fetch serves every waiter, so it does not end with the request
	// that started it; it has its own timeout.
	tok, err := s.fetch(context.WithoutCancel(ctx))
	if err != nil {
		f.err = err
	} else {
		f.tok = tok
	}

	s.mu.Lock()
	s.flight = nil
	if err == nil {
		s.cur.Store(tok)
		s.failed = nil
	} else {
		s.failed, s.retryAt = err, s.now().Add(tokenRetryDelay)
	}
	s.mu.Unlock()
	close(f.done)

	if err != nil {
		te, _ := err.(*tokenError)
		s.log.LogAttrs(ctx, slog.LevelWarn, "gateway cannot get a token for a backend",
			slog.String("token_endpoint", s.host), slog.String("client_id", s.cfg.ClientID),
			slog.Bool("held_token_still_valid", usable), slog.String("error", te.detail))
		if usable {
			return t, nil
		}
		return nil, err
	}
	return tok, nil
}

// fetch asks the token endpoint for a token.
func (s *tokenSource) fetch(ctx context.Context) (*backendToken, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.client)
	start := s.now()
	tok, err := s.cfg.Token(ctx)
	if err != nil {
		return nil, s.classify(ctx, err)
	}
	if !validTokenValue(tok.AccessToken) {
		return nil, &tokenError{detail: "token endpoint " + s.host + " answered a token that is not a valid header value"}
	}
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	if lifetime <= 0 && !tok.Expiry.IsZero() {
		lifetime = time.Until(tok.Expiry)
	}
	if lifetime <= 0 {
		lifetime = tokenDefaultLifetime
	}
	early := min(lifetime/10, tokenEarlyMax)
	return &backendToken{
		header:    []string{"Bearer " + tok.AccessToken},
		refreshAt: start.Add(lifetime - early),
		expiry:    start.Add(lifetime),
	}, nil
}

// classify turns a token fetch error into a tokenError: an endpoint that
// cannot be reached (or not in time) is unavailable, one that answers
// anything but a token refuses.
func (s *tokenSource) classify(ctx context.Context, err error) *tokenError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		d := "token endpoint " + s.host + " refused"
		if re.Response != nil {
			d += ": " + re.Response.Status
		}
		if re.ErrorCode != "" {
			d += " " + re.ErrorCode
		}
		if desc := re.ErrorDescription; desc != "" {
			if s.secret != "" {
				desc = strings.ReplaceAll(desc, s.secret, "[redacted]")
			}
			if len(desc) > 200 {
				desc = desc[:200] + "..."
			}
			d += " (" + desc + ")"
		}
		return &tokenError{detail: d}
	}
	var ue *url.Error
	var ne net.Error
	if ctx.Err() != nil || errors.As(err, &ue) || errors.As(err, &ne) {
		if ue != nil {
			err = ue.Err // without the URL
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", s.timeout)
		}
		return &tokenError{unavailable: true, detail: "token endpoint " + s.host + " unreachable: " + err.Error()}
	}
	return &tokenError{detail: "token endpoint " + s.host + " answered no usable token: " + err.Error()}
}

// validTokenValue reports whether v can be sent in a header as is.
func validTokenValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// errTokenResponseTooLarge fails a token response over maxTokenResponse.
var errTokenResponseTooLarge = errors.New("token response too large")

// limitedBodyTransport fails the reading of a response body that exceeds
// max bytes.
type limitedBodyTransport struct {
	next http.RoundTripper
	max  int64
}

func (t limitedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	res.Body = &limitedBody{ReadCloser: res.Body, left: t.max}
	return res, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	// One byte more than is left tells a body of exactly max bytes from a
	// longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		return 0, errTokenResponseTooLarge
	}
	b.left -= int64(n)
	return n, err
}
