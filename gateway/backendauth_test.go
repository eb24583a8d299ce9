package gateway_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

// authStore opens a migrated SQLite store in a temporary directory.
func authStore(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	keys, err := keyring.New(bytes.Repeat([]byte{5}, keyring.MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "portico.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// createAuthAPI creates an open API (no key needed) at path on backend,
// authenticating to it with auth.
func createAuthAPI(t *testing.T, s *sqlite.Store, path, backend string, auth *portal.BackendAuth) {
	t.Helper()
	api := &portal.API{Name: path, Path: path, Backend: portal.Backend{URL: backend, Auth: auth}}
	if err := s.CreateAPI(context.Background(), api); err != nil {
		t.Fatalf("create API %s: %v", path, err)
	}
}

// touchCatalog changes the catalog without touching the APIs under test
// and waits until the gateway has rebuilt its routes.
func touchCatalog(t *testing.T, s *sqlite.Store, h *harness, name string) {
	t.Helper()
	createAuthAPI(t, s, name, portal.BuiltinEcho, nil)
	waitFor(t, "routes rebuilt with API "+name, func() bool {
		return do(t, "GET", h.srv.URL+"/"+name+"/", nil, "").status == 200
	})
}

// authClock is a clock that tests move by hand.
type authClock struct{ ns atomic.Int64 }

func newAuthClock() *authClock {
	c := &authClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *authClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *authClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// authDenials reads portico_gateway_denials_total for reason from /metrics.
func authDenials(t *testing.T, h *harness, reason string) string {
	t.Helper()
	body := do(t, "GET", h.srv.URL+"/metrics", nil, "").body
	prefix := `portico_gateway_denials_total{reason="` + reason + `"} `
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return "0"
}

// authRecorder is a backend that keeps the Authorization and
// Proxy-Authorization headers of every request it receives.
type authRecorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths [][]string
	proxy [][]string
}

func newAuthRecorder(t *testing.T) *authRecorder {
	rec := &authRecorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Values("Authorization"))
		rec.proxy = append(rec.proxy, r.Header.Values("Proxy-Authorization"))
		rec.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(rec.Close)
	return rec
}

// received returns the Authorization values of every request so far.
func (rec *authRecorder) received() [][]string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([][]string(nil), rec.auths...)
}

func (rec *authRecorder) lastProxyAuth() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.proxy[len(rec.proxy)-1]
}

// callerHeaders are what a caller may send to strip, replace or double
// the credential the gateway injects.
var callerHeaders = []struct {
	name   string
	header http.Header
}{
	{"no header", nil},
	{"caller's Authorization", http.Header{"Authorization": {"Bearer caller-token"}}},
	{"two Authorization headers", http.Header{"Authorization": {"Bearer one", "Basic dHdvOnR3bw=="}}},
	{"Proxy-Authorization", http.Header{"Proxy-Authorization": {"Basic cHJveHk6cHJveHk="}}},
	{"Connection lists Authorization", http.Header{"Connection": {"Authorization"}, "Authorization": {"Bearer caller-token"}}},
	{"Connection lists it in lower case", http.Header{"Connection": {"keep-alive, authorization"}}},
}

// checkInjected sends each of callerHeaders to path and checks that the
// backend received want, exactly once, and no Proxy-Authorization.
func checkInjected(t *testing.T, h *harness, rec *authRecorder, path, want string) {
	t.Helper()
	for _, ch := range callerHeaders {
		t.Run(ch.name, func(t *testing.T) {
			before := len(rec.received())
			res := do(t, "GET", h.srv.URL+path, ch.header, "")
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			got := rec.received()
			if len(got) != before+1 {
				t.Fatalf("backend called %d times, want once", len(got)-before)
			}
			if a := got[len(got)-1]; len(a) != 1 || a[0] != want {
				t.Fatalf("backend received Authorization %q, want exactly [%q]", a, want)
			}
			if p := rec.lastProxyAuth(); len(p) != 0 {
				t.Fatalf("backend received Proxy-Authorization %q", p)
			}
		})
	}
}

// echoedAuthorization calls a builtin:echo API and returns the
// Authorization values it shows, failing if raw appears in the answer.
func echoedAuthorization(t *testing.T, h *harness, path string, header http.Header, secrets ...string) []string {
	t.Helper()
	res := do(t, "GET", h.srv.URL+path, header, "")
	if res.status != 200 {
		t.Fatalf("echo: %d %s", res.status, res.body)
	}
	for _, s := range secrets {
		if strings.Contains(res.body, s) {
			t.Fatalf("the echo shows the injected credential %q:\n%s", s, res.body)
		}
	}
	var e struct{ Headers map[string][]string }
	if err := json.Unmarshal([]byte(res.body), &e); err != nil {
		t.Fatalf("%v in %q", err, res.body)
	}
	return e.Headers["Authorization"]
}

func TestBackendAuthBasic(t *testing.T) {
	const user, password = "svc", "pässwörd:with-colon"
	cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	basic := &portal.BackendAuth{Basic: &portal.BasicAuth{Username: user, Password: password}}

	rec := newAuthRecorder(t)
	s := authStore(t)
	createAuthAPI(t, s, "basic", rec.URL+"/v1", basic)
	createAuthAPI(t, s, "plain", rec.URL+"/v1", nil)
	createAuthAPI(t, s, "echo", portal.BuiltinEcho, basic)
	createAuthAPI(t, s, "down", "http://"+closedAddr(t), basic)
	var logs syncBuffer
	h := start(t, s, func(c *gateway.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})

	checkInjected(t, h, rec, "/basic/x", "Basic "+cred)

	t.Run("without backend auth the caller's Authorization passes", func(t *testing.T) {
		do(t, "GET", h.srv.URL+"/plain/x", http.Header{"Authorization": {"Bearer caller-token"}}, "")
		got := rec.received()
		if a := got[len(got)-1]; len(a) != 1 || a[0] != "Bearer caller-token" {
			t.Fatalf("backend received %q", a)
		}
	})

	t.Run("builtin echo receives it redacted", func(t *testing.T) {
		for _, ch := range callerHeaders {
			got := echoedAuthorization(t, h, "/echo/x", ch.header, cred, password)
			if len(got) != 1 || got[0] != "Basic [redacted]" {
				t.Fatalf("%s: echo shows Authorization %q, want [\"Basic [redacted]\"]", ch.name, got)
			}
		}
	})

	t.Run("backend down", func(t *testing.T) {
		res := do(t, "GET", h.srv.URL+"/down/x", nil, "")
		if res.status != 502 || res.body != errorBody(502, "Bad gateway") {
			t.Fatalf("got %d %q", res.status, res.body)
		}
	})

	if out := logs.String(); strings.Contains(out, cred) || strings.Contains(out, password) {
		t.Fatalf("the log holds the credential:\n%s", out)
	}
}

// backendCA mints certificates for TLS tests.
type backendCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newBackendCA(t *testing.T) *backendCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Backend Clients CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &backendCA{cert: cert, key: key, pool: pool}
}

// client returns a client certificate for cn and its key, in PEM.
func (ca *backendCA) client(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

func TestBackendAuthCertificate(t *testing.T) {
	ca := newBackendCA(t)
	type seen struct{ cn, remote string }
	var mu sync.Mutex
	var calls []seen
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, seen{r.TLS.PeerCertificates[0].Subject.CommonName, r.RemoteAddr})
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	backend.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	last := func() (seen, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(calls) == 0 {
			return seen{}, 0
		}
		return calls[len(calls)-1], len(calls)
	}

	cert1, key1 := ca.client(t, "portico-gateway")
	cert2, key2 := ca.client(t, "portico-gateway-2")
	_, otherKey := ca.client(t, "other")
	s := authStore(t)
	createAuthAPI(t, s, "mtls", backend.URL, &portal.BackendAuth{Certificate: &portal.CertificateAuth{CertificatePEM: cert1, KeyPEM: key1}})
	createAuthAPI(t, s, "nocert", backend.URL, nil)
	createAuthAPI(t, s, "mismatch", backend.URL, &portal.BackendAuth{Certificate: &portal.CertificateAuth{CertificatePEM: cert1, KeyPEM: otherKey}})

	var logs syncBuffer
	h := start(t, s, func(c *gateway.Config) {
		tr := gateway.NewTransport()
		roots := x509.NewCertPool()
		roots.AddCert(backend.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
		c.Transport = tr
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})

	res := do(t, "GET", h.srv.URL+"/mtls/x", nil, "")
	first, n := last()
	if res.status != 200 || n != 1 || first.cn != "portico-gateway" {
		t.Fatalf("with a certificate: %d %q; backend saw %+v (%d calls)", res.status, res.body, first, n)
	}

	for _, path := range []string{"/nocert/x", "/mismatch/x"} {
		res := do(t, "GET", h.srv.URL+path, nil, "")
		if res.status != 502 || res.body != errorBody(502, "Bad gateway") {
			t.Fatalf("%s: %d %q", path, res.status, res.body)
		}
		if _, n := last(); n != 1 {
			t.Fatalf("%s reached the backend", path)
		}
	}

	// A rebuild of the routes keeps the transport, so the connection is
	// reused.
	touchCatalog(t, s, h, "unrelated")
	if res := do(t, "GET", h.srv.URL+"/mtls/x", nil, ""); res.status != 200 {
		t.Fatalf("after a rebuild: %d %q", res.status, res.body)
	}
	if again, _ := last(); again.remote != first.remote {
		t.Fatalf("after a rebuild the gateway connected again (%s, before %s): the transport was not reused", again.remote, first.remote)
	}

	// A new certificate is presented on a new connection.
	if _, err := s.UpdateAPI(context.Background(), "mtls", &portal.API{Name: "mtls", Path: "mtls",
		Backend: portal.Backend{URL: backend.URL, Auth: &portal.BackendAuth{Certificate: &portal.CertificateAuth{CertificatePEM: cert2, KeyPEM: key2}}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new certificate presented", func() bool {
		do(t, "GET", h.srv.URL+"/mtls/x", nil, "")
		got, _ := last()
		return got.cn == "portico-gateway-2"
	})

	out := logs.String()
	if !strings.Contains(out, `msg="API backend certificate unusable; its requests answer 502" api=mismatch`) {
		t.Fatalf("no warning about the unusable certificate:\n%s", out)
	}
	if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, strings.Split(otherKey, "\n")[1]) {
		t.Fatalf("the log holds a key:\n%s", out)
	}
}

// tokenServer is an OAuth token endpoint on loopback that counts its
// requests and answers as its mode says.
type tokenServer struct {
	*httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	mode    string        // "ok" (default), "refuse", "hang", "no-token", "huge", "bad-value"
	gate    chan struct{} // when set, requests wait for it to close
	form    []string      // the last request's grant_type, scope, resource and Authorization
}

const (
	tokenClientID     = "portico-gateway"
	tokenClientSecret = "client-secret-do-not-leak"
)

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.fetches.Add(1)
		ts.mu.Lock()
		mode, gate := ts.mode, ts.gate
		r.ParseForm()
		ts.form = []string{r.PostForm.Get("grant_type"), r.PostForm.Get("scope"), r.PostForm.Get("resource"), r.Header.Get("Authorization")}
		ts.mu.Unlock()
		if gate != nil {
			<-gate
		}
		w.Header().Set("Content-Type", "application/json")
		id, secret, _ := r.BasicAuth()
		if id != tokenClientID || secret != tokenClientSecret {
			mode = "refuse"
		}
		switch mode {
		case "refuse":
			w.WriteHeader(401)
			io.WriteString(w, `{"error": "invalid_client", "error_description": "client secret `+tokenClientSecret+` is wrong"}`)
		case "hang":
			<-r.Context().Done()
		case "no-token":
			io.WriteString(w, `{"token_type": "Bearer", "expires_in": 3600}`)
		case "huge":
			fmt.Fprintf(w, `{"access_token": "%s", "token_type": "Bearer", "expires_in": 3600}`, strings.Repeat("a", 100<<10))
		case "bad-value":
			io.WriteString(w, `{"access_token": "tok\r\nX-Injected: 1", "token_type": "Bearer", "expires_in": 3600}`)
		default:
			fmt.Fprintf(w, `{"access_token": "tok-%d", "token_type": "Bearer", "expires_in": 3600}`, n)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) setMode(m string) {
	ts.mu.Lock()
	ts.mode = m
	ts.mu.Unlock()
}

func (ts *tokenServer) oauth(scope string) *portal.BackendAuth {
	return &portal.BackendAuth{OAuthClientCredentials: &portal.OAuthClientCredentials{
		TokenURL: ts.URL + "/token", ClientID: tokenClientID, ClientSecret: tokenClientSecret,
		Scope: scope, Resource: "api://backend",
	}}
}

func TestBackendAuthOAuthOneFetchForMany(t *testing.T) {
	ts := newTokenServer(t)
	gate := make(chan struct{})
	ts.gate = gate
	rec := newAuthRecorder(t)
	s := authStore(t)
	createAuthAPI(t, s, "orders", rec.URL, ts.oauth("api://backend/.default other"))
	h := start(t, s, nil)

	// A server of our own, to see when all the requests have arrived.
	var active atomic.Int64
	srv := httptest.NewUnstartedServer(h.gw)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			active.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	const n = 50
	statuses := make(chan int, n)
	for range n {
		go func() {
			req, _ := http.NewRequest("GET", srv.URL+"/orders/x", nil)
			res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	waitFor(t, "all requests in the gateway and one token request", func() bool {
		return active.Load() == n && ts.fetches.Load() >= 1
	})
	close(gate)
	for range n {
		if st := <-statuses; st != 200 {
			t.Fatalf("a request got %d", st)
		}
	}
	if f := ts.fetches.Load(); f != 1 {
		t.Fatalf("%d token requests for %d concurrent calls, want 1", f, n)
	}
	got := rec.received()
	if len(got) != n {
		t.Fatalf("backend received %d requests", len(got))
	}
	for _, a := range got {
		if len(a) != 1 || a[0] != "Bearer tok-1" {
			t.Fatalf("backend received Authorization %q", a)
		}
	}
	ts.mu.Lock()
	form := ts.form
	ts.mu.Unlock()
	wantBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte(tokenClientID+":"+tokenClientSecret))
	if want := []string{"client_credentials", "api://backend/.default other", "api://backend", wantBasic}; strings.Join(form, "|") != strings.Join(want, "|") {
		t.Fatalf("token request %q, want %q", form, want)
	}
}

func TestBackendAuthOAuth(t *testing.T) {
	ts := newTokenServer(t)
	rec := newAuthRecorder(t)
	s := authStore(t)
	createAuthAPI(t, s, "orders", rec.URL, ts.oauth("api://backend/.default"))
	createAuthAPI(t, s, "echo", portal.BuiltinEcho, ts.oauth("api://backend/.default"))
	clock := newAuthClock()
	var logs syncBuffer
	h := start(t, s, func(c *gateway.Config) {
		c.Now = clock.Now
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	call := func(path string) response { return do(t, "GET", h.srv.URL+path, nil, "") }
	lastAuth := func() string {
		got := rec.received()
		a := got[len(got)-1]
		if len(a) != 1 {
			t.Fatalf("backend received Authorization %q", a)
		}
		return a[0]
	}

	checkInjected(t, h, rec, "/orders/x", "Bearer tok-1")
	if got := echoedAuthorization(t, h, "/echo/x", http.Header{"Authorization": {"Bearer caller"}}, "tok-1"); len(got) != 1 || got[0] != "Bearer [redacted]" {
		t.Fatalf("echo shows %q", got)
	}
	if f := ts.fetches.Load(); f != 1 {
		t.Fatalf("%d token requests, want 1 (shared by both APIs, cached)", f)
	}

	// A rebuild keeps the source and its token.
	touchCatalog(t, s, h, "unrelated")
	if res := call("/orders/x"); res.status != 200 || lastAuth() != "Bearer tok-1" || ts.fetches.Load() != 1 {
		t.Fatalf("after a rebuild: %d, %s, %d fetches", res.status, lastAuth(), ts.fetches.Load())
	}

	// expires_in 3600: refreshed 30 seconds early.
	clock.advance(time.Hour - 31*time.Second)
	if call("/orders/x"); lastAuth() != "Bearer tok-1" || ts.fetches.Load() != 1 {
		t.Fatalf("31s before expiry: %s, %d fetches", lastAuth(), ts.fetches.Load())
	}
	clock.advance(2 * time.Second)
	if call("/orders/x"); lastAuth() != "Bearer tok-2" || ts.fetches.Load() != 2 {
		t.Fatalf("29s before expiry: %s, %d fetches", lastAuth(), ts.fetches.Load())
	}

	// A refresh that fails leaves the held token in use while it is valid.
	clock.advance(time.Hour - 20*time.Second)
	ts.setMode("refuse")
	if res := call("/orders/x"); res.status != 200 || lastAuth() != "Bearer tok-2" || ts.fetches.Load() != 3 {
		t.Fatalf("failed refresh, token still valid: %d, %s, %d fetches", res.status, lastAuth(), ts.fetches.Load())
	}
	clock.advance(30 * time.Second) // past expiry and the retry delay
	before := len(rec.received())
	res := call("/orders/x")
	if res.status != 502 || res.body != errorBody(502, "Bad gateway") {
		t.Fatalf("token refused: %d %q", res.status, res.body)
	}
	if len(rec.received()) != before {
		t.Fatal("the backend was called without a token")
	}
	if got := authDenials(t, h, "backend_auth_refused"); got != "1" {
		t.Fatalf("denials_total{reason=backend_auth_refused} = %s", got)
	}

	// Within a second of a failure, the failure answers without a fetch.
	ts.setMode("ok")
	fetches := ts.fetches.Load()
	if res := call("/orders/x"); res.status != 502 || ts.fetches.Load() != fetches {
		t.Fatalf("right after a failure: %d, %d fetches (before %d)", res.status, ts.fetches.Load(), fetches)
	}
	clock.advance(1500 * time.Millisecond)
	if res := call("/orders/x"); res.status != 200 || lastAuth() != fmt.Sprintf("Bearer tok-%d", fetches+1) {
		t.Fatalf("after the retry delay: %d %q, %s", res.status, res.body, lastAuth())
	}

	// Other settings are another source, with its own token.
	if _, err := s.UpdateAPI(context.Background(), "orders", &portal.API{Name: "orders", Path: "orders",
		Backend: portal.Backend{URL: rec.URL, Auth: ts.oauth("api://other/.default")}}); err != nil {
		t.Fatal(err)
	}
	fetches = ts.fetches.Load()
	waitFor(t, "the new scope used", func() bool {
		call("/orders/x")
		return ts.fetches.Load() == fetches+1 && lastAuth() == fmt.Sprintf("Bearer tok-%d", fetches+1)
	})

	out := logs.String()
	if strings.Contains(out, tokenClientSecret) || strings.Contains(out, "tok-") {
		t.Fatalf("the log holds a secret or token:\n%s", out)
	}
	for _, want := range []string{
		`level=WARN msg="gateway cannot get a token for a backend"`,
		`error="token endpoint 127.0.0.1`,
		`refused: 401 Unauthorized invalid_client (client secret [redacted] is wrong)"`,
		`level=DEBUG msg="gateway request denied" reason=backend_auth_refused`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

func TestBackendAuthOAuthFailures(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		closed     bool // the token endpoint is not listening
		wantStatus int
		wantReason string
	}{
		{"unreachable", "", true, 503, "backend_auth_unavailable"},
		{"timeout", "hang", false, 503, "backend_auth_unavailable"},
		{"refused", "refuse", false, 502, "backend_auth_refused"},
		{"no access_token", "no-token", false, 502, "backend_auth_refused"},
		{"response too large", "huge", false, 502, "backend_auth_refused"},
		{"token not a header value", "bad-value", false, 502, "backend_auth_refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.setMode(tc.mode)
			auth := ts.oauth("")
			if tc.closed {
				auth.OAuthClientCredentials.TokenURL = "http://" + closedAddr(t) + "/token"
			}
			rec := newAuthRecorder(t)
			s := authStore(t)
			createAuthAPI(t, s, "orders", rec.URL, auth)
			var logs syncBuffer
			h := start(t, s, func(c *gateway.Config) {
				c.BackendTokenTimeout = 200 * time.Millisecond
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			res := do(t, "GET", h.srv.URL+"/orders/x", http.Header{"Authorization": {"Bearer caller"}}, "")
			msg := "Bad gateway"
			if tc.wantStatus == 503 {
				msg = "Service unavailable"
			}
			if res.status != tc.wantStatus || res.body != errorBody(tc.wantStatus, msg) {
				t.Fatalf("got %d %q, want %d %q", res.status, res.body, tc.wantStatus, msg)
			}
			if res.header.Get("Content-Type") != "application/json" || res.header.Get("X-Request-Id") == "" {
				t.Fatalf("headers %v", res.header)
			}
			if n := len(rec.received()); n != 0 {
				t.Fatalf("the backend was called %d times", n)
			}
			if got := authDenials(t, h, tc.wantReason); got != "1" {
				t.Fatalf("denials_total{reason=%s} = %s", tc.wantReason, got)
			}
			out := logs.String()
			if !strings.Contains(out, "gateway cannot get a token for a backend") {
				t.Fatalf("no warning:\n%s", out)
			}
			if strings.Contains(out, tokenClientSecret) || strings.Contains(out, "aaaaaaaa") {
				t.Fatalf("the log holds the secret or the response:\n%s", out)
			}
		})
	}
}
