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
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
	"github.com/porticoapi/portico/web"
	"github.com/prometheus/client_golang/prometheus"
)

// testUserHeader picks the signed-in user in these tests, standing in for
// the session middleware that the auth package will provide.
const testUserHeader = "X-Test-User"

var (
	admin     = &portal.User{ID: 1, Email: "ada@example.com", Name: "Ada Admin", Role: portal.RoleAdmin, State: portal.UserActive}
	developer = &portal.User{ID: 2, Email: "dev@example.com", Name: "Dee Developer", Role: portal.RoleDeveloper, State: portal.UserActive}
)

// env is a portal web server on a real SQLite store holding the fixture.
type env struct {
	store *sqlite.Store
	srv   *httptest.Server
	logs  *syncBuffer
	reg   *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
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

	e := &env{store: store, logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	srv, err := web.New(web.Config{
		Store:        store,
		Logger:       slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer:   e.reg,
		Ready:        store.Ready,
		GatewayURL:   "https://gateway.example.com",
		PublicURL:    "https://portal.example.com",
		Authenticate: fakeAuthenticate,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// fakeAuthenticate signs in the user named by testUserHeader.
func fakeAuthenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get(testUserHeader) {
		case "admin":
			r = r.WithContext(portal.NewContextWithUser(r.Context(), admin))
		case "developer":
			r = r.WithContext(portal.NewContextWithUser(r.Context(), developer))
		}
		next.ServeHTTP(w, r)
	})
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request; as names the signed-in user ("", "admin", "developer").
func (e *env) do(t *testing.T, method, path, as string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if as != "" {
		req.Header.Set(testUserHeader, as)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
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
//   - echo: key required, in the published product starter, three
//     operations in two groups, schemas, a stored OpenAPI document;
//   - weather: key required by the API but in the published open product
//     free, so no key is needed; tagged forecast;
//   - status: no subscription required and in no product;
//   - secret: only in the unpublished product internal, so hidden from
//     everyone but administrators.
func seed(t *testing.T, s *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	settings := portal.DefaultSettings()
	settings.Title = "Contoso APIs"
	if err := s.UpdateSettings(ctx, &settings); err != nil {
		t.Fatal(err)
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
