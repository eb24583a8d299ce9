package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
	"github.com/porticoapi/portico/web"
	"github.com/prometheus/client_golang/prometheus"
)

// The fixture's accounts; do signs them in through POST /signin.
const (
	adminEmail        = "ada@example.com"
	adminPassword     = "correct horse battery staple"
	developerEmail    = "dev@example.com"
	developerPassword = "tr0ub4dor&3 but longer"
)

// env is a portal web server on a real SQLite store holding the fixture,
// with real sessions on a clock the test moves.
type env struct {
	store *sqlite.Store
	auth  *auth.Auth
	web   *web.Server
	srv   *httptest.Server
	logs  *syncBuffer
	reg   *prometheus.Registry
	clock *testClock

	mu      sync.Mutex
	cookies map[string]string // "admin", "developer": a signed-in Cookie header
}

// envOptions vary the server; the zero value is the usual fixture.
type envOptions struct {
	publicURL string // default https://portal.example.com
	limits    auth.SignInLimits
	// accountLimits bound sign-up, reset and CAPTCHA requests.
	accountLimits auth.AccountLimits
	// mail sends the portal's mail; nil: the outbox in the store.
	mail mail.Sender
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, envOptions{})
}

func newEnvWith(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	if o.publicURL == "" {
		o.publicURL = "https://portal.example.com"
	}
	keys, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "portico.db"), Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed(t, store)

	e := &env{store: store, logs: &syncBuffer{}, reg: prometheus.NewRegistry(), clock: &testClock{t: time.Now()}, cookies: map[string]string{}}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.auth, err = auth.New(auth.Config{
		Sessions:  store,
		Users:     store,
		Settings:  store,
		Keys:      keys,
		PublicURL: o.publicURL,
		Now:       e.clock.Now,
		Logger:    logger,
		Limits:    o.limits,

		Captchas:      store,
		Tokens:        store,
		AccountLimits: o.accountLimits,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{
		Store:      store,
		Logger:     logger,
		Registerer: e.reg,
		Ready:      store.Ready,
		GatewayURL: "https://gateway.example.com",
		PublicURL:  o.publicURL,
		Auth:       e.auth,
		Mail:       o.mail,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.web = srv
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// testClock is the sessions' clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// response is what a test reads of an answer.
type response struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

// send sends a request as is, without following redirects.
func (e *env) send(t *testing.T, method, path string, body io.Reader, header http.Header) response {
	t.Helper()
	return e.sendVia(t, nil, method, path, body, header)
}

// sendVia is send with client (nil: a plain one); a client given must
// not follow redirects either.
func (e *env) sendVia(t *testing.T, client *http.Client, method, path string, body io.Reader, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b), cookies: res.Cookies()}
}

// do sends a request; as names the signed-in user ("", "admin", "developer").
func (e *env) do(t *testing.T, method, path, as string, header http.Header) response {
	t.Helper()
	h := http.Header{}
	for k, v := range header {
		h[k] = v
	}
	if as != "" {
		h.Set("Cookie", e.cookieOf(t, as))
	}
	return e.send(t, method, path, nil, h)
}

// cookieOf returns the Cookie header of a session of the fixture's admin or
// developer, signing in once per env.
func (e *env) cookieOf(t *testing.T, as string) string {
	t.Helper()
	e.mu.Lock()
	c, ok := e.cookies[as]
	e.mu.Unlock()
	if ok {
		return c
	}
	var email, password string
	switch as {
	case "admin":
		email, password = adminEmail, adminPassword
	case "developer":
		email, password = developerEmail, developerPassword
	default:
		t.Fatalf("no fixture user %q", as)
	}
	c = e.signIn(t, email, password, "")
	e.mu.Lock()
	e.cookies[as] = c
	e.mu.Unlock()
	return c
}

// signIn signs in with POST /signin, sending cookie (a Cookie header, or
// ""), and returns the Cookie header of the new session.
func (e *env) signIn(t *testing.T, email, password, cookie string) string {
	t.Helper()
	r := e.postForm(t, "/signin", cookie, url.Values{"email": {email}, "password": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s = %d, want 303\n%s", email, r.status, r.body)
	}
	c := sessionCookie(r)
	if c == nil {
		t.Fatalf("sign in as %s set no session cookie", email)
	}
	return c.Name + "=" + c.Value
}

// postForm POSTs an urlencoded form with the Cookie header cookie.
func (e *env) postForm(t *testing.T, path, cookie string, form url.Values) response {
	t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return e.send(t, http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

// sessionCookie returns the session cookie r sets, or nil.
func sessionCookie(r response) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == auth.CookieName || c.Name == auth.SecureCookieName {
			return c
		}
	}
	return nil
}

func (e *env) get(t *testing.T, path string) response {
	t.Helper()
	return e.do(t, http.MethodGet, path, "", nil)
}

func (e *env) getAs(t *testing.T, path, as string) response {
	t.Helper()
	return e.do(t, http.MethodGet, path, as, nil)
}

// echoSpec is the stored OpenAPI document of the echo API.
const echoSpec = `{"openapi":"3.0.3","info":{"title":"Echo API","version":"1.2.0"},"paths":{}}`

func fptr(f float64) *float64 { return &f }
func iptr(i int) *int         { return &i }

// resourceSchema is an object with nested, array, enum and recursive
// properties, as an OpenAPI reader would produce it.
func resourceSchema() *portal.Schema {
	return &portal.Schema{
		Ref:         "Resource",
		Type:        "object",
		Description: "A thing the echo service remembers.",
		Properties: []portal.Property{
			{Name: "id", Required: true, Schema: &portal.Schema{Type: "integer", Format: "int64", ReadOnly: true, Minimum: fptr(1)}},
			{Name: "name", Required: true, Schema: &portal.Schema{Type: "string", MinLength: iptr(1), MaxLength: iptr(80), Description: "Shown to people.", Example: `"Widget"`}},
			{Name: "status", Schema: &portal.Schema{Type: "string", Enum: []string{`"active"`, `"retired"`}, Default: `"active"`}},
			{Name: "labels", Schema: &portal.Schema{Type: "array", Items: &portal.Schema{Type: "string"}, MaxItems: iptr(10)}},
			{Name: "owner", Schema: &portal.Schema{Ref: "Owner", Type: "object", Properties: []portal.Property{
				{Name: "email", Required: true, Schema: &portal.Schema{Type: "string", Format: "email"}},
			}}},
			{Name: "parent", Schema: &portal.Schema{Ref: "Resource", Recursive: true}},
			{Name: "children", Schema: &portal.Schema{Type: "array", Items: &portal.Schema{Ref: "Resource", Recursive: true}}},
			{Name: "created", Schema: &portal.Schema{Type: "string", Format: "date-time", Nullable: true}},
		},
	}
}

// seed fills the store:
//   - the administrator ada@example.com and the developer dev@example.com;
//   - echo: key required, in the published product starter, three
//     operations in two groups, schemas, a stored OpenAPI document;
//   - weather: key required by the API but in the published open product
//     free, so no key is needed; tagged forecast;
//   - status: no subscription required and in no product;
//   - secret: only in the unpublished product internal, so hidden from
//     everyone but administrators;
//   - the subscription ci-bot (id 1) of the developer to starter, waiting
//     for approval.
func seed(t *testing.T, s *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	settings := portal.DefaultSettings()
	settings.Title = "Contoso APIs"
	if err := s.UpdateSettings(ctx, &settings); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		email, name, password string
		role                  portal.Role
	}{
		{adminEmail, "Ada Admin", adminPassword, portal.RoleAdmin},
		{developerEmail, "Dee Developer", developerPassword, portal.RoleDeveloper},
	} {
		hash, err := auth.HashPassword(u.password)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &portal.User{Email: u.email, Name: u.name, Role: u.role, State: portal.UserActive, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(echoSpec))
	apis := []*portal.API{
		{
			Name: "echo", DisplayName: "Echo API", Version: "1.2.0", Path: "echo",
			Description:          "Echoes the request back.\n\nUseful for trying the gateway.",
			Backend:              portal.Backend{URL: portal.BuiltinEcho},
			SubscriptionRequired: true,
			Spec:                 portal.SpecInfo{Location: "specs/echo.json", Format: "openapi 3.0.3", Digest: hex.EncodeToString(sum[:])},
			SpecDocument:         []byte(echoSpec),
			Operations: []portal.Operation{
				{
					ID: "get-resource", Method: "GET", Path: "/resources/{id}", Summary: "Get a resource",
					Description: "Returns one resource by its id.", Tags: []string{"resources"},
					Parameters: []portal.Parameter{
						{Name: "id", In: "path", Required: true, Description: "The resource id.", Schema: &portal.Schema{Type: "integer", Format: "int64"}, Example: "42"},
						{Name: "expand", In: "query", Description: "Include the children.", Schema: &portal.Schema{Type: "boolean"}},
						{Name: "X-Trace", In: "header", Schema: &portal.Schema{Type: "string"}},
					},
					Responses: []portal.Response{
						{Status: "200", Description: "The resource.", Content: []portal.MediaType{{Type: "application/json", Schema: resourceSchema()}}},
						{Status: "404", Description: "No such resource."},
					},
				},
				{
					ID: "create-resource", Method: "POST", Path: "/resources", Summary: "Create a resource", Tags: []string{"resources"},
					RequestBody: &portal.RequestBody{Required: true, Content: []portal.MediaType{{Type: "application/json", Schema: resourceSchema()}}},
					Responses: []portal.Response{
						{Status: "201", Description: "Created.", Headers: []portal.Parameter{{Name: "Location", Description: "URL of the new resource.", Schema: &portal.Schema{Type: "string", Format: "uri"}}}},
					},
				},
				{ID: "ping", Method: "GET", Path: "/ping", Summary: "Ping", Deprecated: true, Responses: []portal.Response{{Status: "200", Description: "Pong.", Content: []portal.MediaType{{Type: "text/plain", Example: "pong"}}}}},
			},
		},
		{
			Name: "weather", DisplayName: "Weather API", Path: "weather", Description: "Forecasts for any city.",
			Backend: portal.Backend{URL: "http://127.0.0.1:9000"}, SubscriptionRequired: true,
			Operations: []portal.Operation{{ID: "forecast", Method: "GET", Path: "/forecast", Summary: "Get the forecast", Tags: []string{"forecast"},
				Parameters: []portal.Parameter{{Name: "city", In: "query", Required: true, Schema: &portal.Schema{Type: "string"}}}}},
		},
		{
			Name: "status", DisplayName: "Status API", Path: "status", Description: "Is everything up?",
			Backend:    portal.Backend{URL: "http://127.0.0.1:9001"},
			Operations: []portal.Operation{{ID: "status", Method: "GET", Path: "/", Summary: "Current status"}},
		},
		{
			Name: "secret", DisplayName: "Secret API", Path: "secret", Description: "Internal use only.",
			Backend: portal.Backend{URL: "http://127.0.0.1:9002"}, SubscriptionRequired: true,
			Operations: []portal.Operation{{ID: "launch", Method: "POST", Path: "/launch", Summary: "Launch"}},
		},
	}
	for _, a := range apis {
		if err := s.CreateAPI(ctx, a); err != nil {
			t.Fatalf("create API %s: %v", a.Name, err)
		}
	}
	products := []*portal.Product{
		{Name: "starter", DisplayName: "Starter", Description: "For trying things out.", Terms: "Be nice to the echo service.",
			State: portal.ProductPublished, SubscriptionRequired: true, ApprovalRequired: true, SubscriptionsLimit: 1,
			RateLimit: &portal.RateLimit{Calls: 100, Period: time.Minute}, APIs: []string{"echo"}},
		{Name: "free", DisplayName: "Free weather", Description: "Open to everyone.", State: portal.ProductPublished, APIs: []string{"weather"}},
		{Name: "internal", DisplayName: "Internal", Description: "Not for outsiders.", State: portal.ProductNotPublished, SubscriptionRequired: true, APIs: []string{"secret"}},
	}
	for _, p := range products {
		if err := s.CreateProduct(ctx, p); err != nil {
			t.Fatalf("create product %s: %v", p.Name, err)
		}
	}
	if err := s.CreateSubscription(ctx, &portal.Subscription{
		Name: "ci-bot", DisplayName: "CI bot", OwnerEmail: developerEmail,
		Scope: portal.Scope{Kind: portal.ScopeProduct, Name: "starter"}, State: portal.SubscriptionSubmitted,
	}); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a log sink that the server's goroutines may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns how many times s occurs in body.
func count(body, s string) int { return strings.Count(body, s) }
