package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeCatalog is an in-memory Catalog. Tests change it with change, which
// bumps the version as a store does on every commit.
type fakeCatalog struct {
	mu         sync.Mutex
	version    int64
	apis       []*portal.API
	products   []*portal.Product
	subs       []*portal.Subscription // with their keys in plain text
	versionErr error
	lookupHook func(key string) // runs before a key lookup answers

	keyLookups atomic.Int64
}

func (c *fakeCatalog) change(f func(c *fakeCatalog)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
	c.version++
}

func (c *fakeCatalog) Version(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version, c.versionErr
}

func (c *fakeCatalog) FindAPIs(_ context.Context, f portal.APIFilter) ([]*portal.API, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !f.WithOperations {
		return nil, 0, errors.New("fake: the gateway must ask for operations")
	}
	out := make([]*portal.API, len(c.apis))
	for i, a := range c.apis {
		cp := *a
		out[i] = &cp
	}
	return out, len(out), nil
}

func (c *fakeCatalog) FindProducts(context.Context, portal.ProductFilter) ([]*portal.Product, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*portal.Product, len(c.products))
	for i, p := range c.products {
		cp := *p
		out[i] = &cp
	}
	return out, len(out), nil
}

func (c *fakeCatalog) FindSubscriptionByKey(_ context.Context, key string) (*portal.Subscription, portal.KeyKind, error) {
	c.keyLookups.Add(1)
	c.mu.Lock()
	hook := c.lookupHook
	c.mu.Unlock()
	if hook != nil {
		hook(key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.subs {
		kind := portal.KeyKind("")
		switch key {
		case s.PrimaryKey:
			kind = portal.PrimaryKey
		case s.SecondaryKey:
			kind = portal.SecondaryKey
		default:
			continue
		}
		cp := *s
		cp.PrimaryKey, cp.SecondaryKey = "", ""
		return &cp, kind, nil
	}
	return nil, "", portal.Errorf(portal.ENOTFOUND, "Subscription not found.")
}

func (c *fakeCatalog) sub(name string) *portal.Subscription {
	for _, s := range c.subs {
		if s.Name == name {
			return s
		}
	}
	panic("no subscription " + name)
}

// recorder is a real backend on loopback that remembers what it received.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	hits    int
	last    *http.Request
	body    string
	handler http.HandlerFunc // nil: 200 "ok"
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.hits++
		rec.last = r.Clone(context.Background())
		rec.body = string(b)
		h := rec.handler
		rec.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) state() (int, *http.Request, string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.hits, rec.last, rec.body
}

// Keys of the standard catalog.
const (
	keyHeader = "Ocp-Apim-Subscription-Key"

	kStarter   = "starter-primary-key-0001"
	kStarter2  = "starter-secondary-key-01"
	kSuspended = "suspended-key-000000001"
	kCancelled = "cancelled-key-000000001"
	kSubmitted = "submitted-key-000000001"
	kRejected  = "rejected-key-0000000001"
	kExpired   = "expired-key-00000000001"
	kFuture    = "future-key-000000000001"
	kBlocked   = "blocked-owner-key-00001"
	kPending   = "pending-owner-key-00001"
	kOwned     = "active-owner-key-000001"
	kAPIScope  = "api-scope-key-000000001"
	kAll       = "all-scope-key-000000001"
	kUnknown   = "unknown-key-00000000001"
)

// newCatalog returns APIs on backend (a real loopback server):
//
//	echo      /echo      operations, in the published product starter
//	root      /v1        no operations, in starter
//	nested    /v1/echo   no operations, in starter
//	open      /open      subscription not required
//	prodopen  /prodopen  in the published open product free
//	unpubopen /unpubopen in the unpublished open product hidden
//	other     /other     in no product
func newCatalog(backend string) *fakeCatalog {
	api := func(name, path, backendPath string, subRequired bool, ops ...portal.Operation) *portal.API {
		return &portal.API{
			Name: name, Path: path,
			Backend:              portal.Backend{URL: backend + backendPath, Timeout: 5 * time.Second},
			SubscriptionRequired: subRequired,
			KeyHeader:            portal.DefaultKeyHeader, KeyQuery: portal.DefaultKeyQuery,
			Operations: ops,
		}
	}
	op := func(method, path string) portal.Operation {
		return portal.Operation{ID: strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "", ".", "-").Replace(path), Method: method, Path: path}
	}
	now := time.Now()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	sub := func(name, scope string, state portal.SubscriptionState, primary, secondary string) *portal.Subscription {
		sc, err := portal.ParseScope(scope)
		if err != nil {
			panic(err)
		}
		return &portal.Subscription{Name: name, Scope: sc, State: state, PrimaryKey: primary, SecondaryKey: secondary}
	}
	c := &fakeCatalog{
		version: 1,
		apis: []*portal.API{
			api("echo", "echo", "/v1", true,
				op("GET", "/users/{id}"), op("GET", "/users/me"), op("POST", "/users"),
				op("GET", "/files/{name}.json"), op("GET", "/"), op("GET", "/items/{a}/{b}")),
			api("root", "v1", "/root", true),
			api("nested", "v1/echo", "/nested", true),
			api("open", "open", "/open", false),
			api("prodopen", "prodopen", "/prodopen", true),
			api("unpubopen", "unpubopen", "/unpubopen", true),
			api("other", "other", "/other", true),
		},
		products: []*portal.Product{
			{Name: "starter", State: portal.ProductPublished, SubscriptionRequired: true, APIs: []string{"echo", "nested", "root"}},
			{Name: "free", State: portal.ProductPublished, SubscriptionRequired: false, APIs: []string{"prodopen"}},
			{Name: "hidden", State: portal.ProductNotPublished, SubscriptionRequired: false, APIs: []string{"unpubopen"}},
		},
		subs: []*portal.Subscription{
			sub("starter", "product:starter", portal.SubscriptionActive, kStarter, kStarter2),
			sub("suspended", "product:starter", portal.SubscriptionSuspended, kSuspended, kSuspended+"b"),
			sub("cancelled", "product:starter", portal.SubscriptionCancelled, kCancelled, kCancelled+"b"),
			sub("submitted", "product:starter", portal.SubscriptionSubmitted, kSubmitted, kSubmitted+"b"),
			sub("rejected", "product:starter", portal.SubscriptionRejected, kRejected, kRejected+"b"),
			sub("expired", "product:starter", portal.SubscriptionActive, kExpired, kExpired+"b"),
			sub("future", "product:starter", portal.SubscriptionActive, kFuture, kFuture+"b"),
			sub("blocked", "product:starter", portal.SubscriptionActive, kBlocked, kBlocked+"b"),
			sub("pending", "product:starter", portal.SubscriptionActive, kPending, kPending+"b"),
			sub("owned", "product:starter", portal.SubscriptionActive, kOwned, kOwned+"b"),
			sub("apiscope", "api:other", portal.SubscriptionActive, kAPIScope, kAPIScope+"b"),
			sub("allscope", "all", portal.SubscriptionActive, kAll, kAll+"b"),
		},
	}
	c.sub("expired").ExpiresAt = &past
	c.sub("future").ExpiresAt = &future
	c.sub("blocked").OwnerID, c.sub("blocked").OwnerState = 7, portal.UserBlocked
	c.sub("pending").OwnerID, c.sub("pending").OwnerState = 8, portal.UserPending
	c.sub("owned").OwnerID, c.sub("owned").OwnerState = 9, portal.UserActive
	return c
}

type harness struct {
	gw  *gateway.Gateway
	srv *httptest.Server
	reg *prometheus.Registry
}

// start serves a gateway over cat on loopback and runs its reload loop
// until the test ends.
func start(t *testing.T, cat gateway.Catalog, edit func(*gateway.Config)) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := gateway.Config{Catalog: cat, Registerer: reg}
	if edit != nil {
		edit(&cfg)
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gw.Run(ctx) }()
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return &harness{gw: gw, srv: srv, reg: reg}
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, target string, header http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func key(k string) http.Header { return http.Header{keyHeader: {k}} }

func errorBody(status int, msg string) string {
	return `{"statusCode": ` + strconv.Itoa(status) + `, "message": "` + msg + `"}`
}

const (
	msgNoAPI       = "Resource not found"
	msgNoOperation = "Unable to match incoming request to an operation."
	msgMissingKey  = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."
	msgInvalidKey  = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."
)

// TestChecks walks the contract's table (section 5) up to the backend: each
// row's status and body, and that the backend is reached exactly when the
// checks pass.
func TestChecks(t *testing.T) {
	rec := newRecorder(t)
	h := start(t, newCatalog(rec.URL), nil)

	tests := []struct {
		name        string
		method      string
		target      string // path and query
		header      http.Header
		wantStatus  int
		wantMessage string // for refusals
		wantBackend string // for passes: the path the backend saw
	}{
		// Routing.
		{"no API", "GET", "/nope/users/1", key(kStarter), 404, msgNoAPI, ""},
		{"root path", "GET", "/", key(kStarter), 404, msgNoAPI, ""},
		{"prefix not on a segment boundary", "GET", "/echoes/users/1", key(kStarter), 404, msgNoAPI, ""},
		{"API path is case-sensitive", "GET", "/ECHO/users/1", key(kStarter), 404, msgNoAPI, ""},
		{"longest prefix wins", "GET", "/v1/echo/x", key(kStarter), 200, "", "/nested/x"},
		{"shorter prefix", "GET", "/v1/other/x", key(kStarter), 200, "", "/root/other/x"},
		{"nested API path itself", "GET", "/v1/echo", key(kStarter), 200, "", "/nested"},
		{"no operations: any method", "DELETE", "/v1/anything/at/all", key(kStarter), 200, "", "/root/anything/at/all"},

		// Operations.
		{"operation with a path parameter", "GET", "/echo/users/42", key(kStarter), 200, "", "/v1/users/42"},
		{"literal operation", "GET", "/echo/users/me", key(kStarter), 200, "", "/v1/users/me"},
		{"trailing slash tolerated", "GET", "/echo/users/42/", key(kStarter), 200, "", "/v1/users/42/"},
		{"parameter inside a segment", "GET", "/echo/files/report.json", key(kStarter), 200, "", "/v1/files/report.json"},
		{"two parameters", "GET", "/echo/items/a/b", key(kStarter), 200, "", "/v1/items/a/b"},
		{"root operation", "GET", "/echo/", key(kStarter), 200, "", "/v1/"},
		{"root operation without slash", "GET", "/echo", key(kStarter), 200, "", "/v1"},
		{"POST operation", "POST", "/echo/users", key(kStarter), 200, "", "/v1/users"},
		{"no operation: path", "GET", "/echo/unknown", key(kStarter), 404, msgNoOperation, ""},
		{"no operation: method", "DELETE", "/echo/users/42", key(kStarter), 404, msgNoOperation, ""},
		{"no operation: empty parameter", "GET", "/echo/users//", key(kStarter), 404, msgNoOperation, ""},
		{"no operation: extra segment", "GET", "/echo/users/1/2", key(kStarter), 404, msgNoOperation, ""},
		{"no operation: suffix missing", "GET", "/echo/files/report.xml", key(kStarter), 404, msgNoOperation, ""},
		{"no operation before missing key", "GET", "/echo/unknown", nil, 404, msgNoOperation, ""},
		{"no operation before invalid key", "GET", "/echo/unknown", key(kUnknown), 404, msgNoOperation, ""},

		// Keys.
		{"missing key", "GET", "/echo/users/1", nil, 401, msgMissingKey, ""},
		{"empty key header", "GET", "/echo/users/1", key(""), 401, msgMissingKey, ""},
		{"unknown key", "GET", "/echo/users/1", key(kUnknown), 401, msgInvalidKey, ""},
		{"malformed key", "GET", "/echo/users/1", key("x"), 401, msgInvalidKey, ""},
		{"suspended", "GET", "/echo/users/1", key(kSuspended), 401, msgInvalidKey, ""},
		{"cancelled", "GET", "/echo/users/1", key(kCancelled), 401, msgInvalidKey, ""},
		{"submitted", "GET", "/echo/users/1", key(kSubmitted), 401, msgInvalidKey, ""},
		{"rejected", "GET", "/echo/users/1", key(kRejected), 401, msgInvalidKey, ""},
		{"expired", "GET", "/echo/users/1", key(kExpired), 401, msgInvalidKey, ""},
		{"expiring later", "GET", "/echo/users/1", key(kFuture), 200, "", "/v1/users/1"},
		{"blocked owner", "GET", "/echo/users/1", key(kBlocked), 401, msgInvalidKey, ""},
		{"pending owner", "GET", "/echo/users/1", key(kPending), 401, msgInvalidKey, ""},
		{"active owner", "GET", "/echo/users/1", key(kOwned), 200, "", "/v1/users/1"},
		{"primary key", "GET", "/echo/users/1", key(kStarter), 200, "", "/v1/users/1"},
		{"secondary key", "GET", "/echo/users/1", key(kStarter2), 200, "", "/v1/users/1"},
		{"key in query", "GET", "/echo/users/1?subscription-key=" + kStarter, nil, 200, "", "/v1/users/1"},
		{"secondary key in query", "GET", "/echo/users/1?a=1&subscription-key=" + kStarter2, nil, 200, "", "/v1/users/1"},
		{"unknown key in query", "GET", "/echo/users/1?subscription-key=" + kUnknown, nil, 401, msgInvalidKey, ""},
		{"header beats query", "GET", "/echo/users/1?subscription-key=" + kUnknown, key(kStarter), 200, "", "/v1/users/1"},
		{"header beats query, invalid header", "GET", "/echo/users/1?subscription-key=" + kStarter, key(kUnknown), 401, msgInvalidKey, ""},
		{"product scope, API outside it", "GET", "/other/x", key(kStarter), 401, msgInvalidKey, ""},
		{"API scope", "GET", "/other/x", key(kAPIScope), 200, "", "/other/x"},
		{"API scope, other API", "GET", "/echo/users/1", key(kAPIScope), 401, msgInvalidKey, ""},
		{"all scope", "GET", "/echo/users/1", key(kAll), 200, "", "/v1/users/1"},
		{"all scope, other API", "GET", "/other/x", key(kAll), 200, "", "/other/x"},

		// Open APIs.
		{"open API without key", "GET", "/open/x", nil, 200, "", "/open/x"},
		{"open API with a valid key", "GET", "/open/x", key(kAll), 200, "", "/open/x"},
		{"open API with an unknown key", "GET", "/open/x", key(kUnknown), 401, msgInvalidKey, ""},
		{"open API with an out-of-scope key", "GET", "/open/x", key(kStarter), 401, msgInvalidKey, ""},
		{"open API with a bad key in query", "GET", "/open/x?subscription-key=" + kSuspended, nil, 401, msgInvalidKey, ""},
		{"published open product without key", "GET", "/prodopen/x", nil, 200, "", "/prodopen/x"},
		{"unpublished open product without key", "GET", "/unpubopen/x", nil, 401, msgMissingKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _, _ := rec.state()
			res := do(t, tc.method, h.srv.URL+tc.target, tc.header, "")
			hits, last, _ := rec.state()
			if res.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %q", res.status, tc.wantStatus, res.body)
			}
			if res.header.Get("X-Request-Id") == "" {
				t.Fatal("no X-Request-Id in the response")
			}
			if tc.wantMessage != "" {
				if want := errorBody(tc.wantStatus, tc.wantMessage); res.body != want {
					t.Fatalf("body = %q, want %q", res.body, want)
				}
				if ct := res.header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type = %q", ct)
				}
				if hits != before {
					t.Fatalf("the backend was called %d times for a refused request", hits-before)
				}
				return
			}
			if hits != before+1 {
				t.Fatalf("backend hits went from %d to %d, want one more", before, hits)
			}
			if last.URL.Path != tc.wantBackend {
				t.Fatalf("backend path = %q, want %q", last.URL.Path, tc.wantBackend)
			}
		})
	}
}

// TestForwarding checks what the backend receives.
func TestForwarding(t *testing.T) {
	rec := newRecorder(t)
	h := start(t, newCatalog(rec.URL), nil)
	gwURL, _ := url.Parse(h.srv.URL)
	recURL, _ := url.Parse(rec.URL)

	header := http.Header{
		keyHeader:             {kStarter},
		"Authorization":       {"Bearer caller-token"},
		"Connection":          {"X-Hop"},
		"X-Hop":               {"hop-by-hop"},
		"Keep-Alive":          {"timeout=5"},
		"Te":                  {"gzip"},
		"Upgrade":             {"something"},
		"Proxy-Authorization": {"Basic cHJveHk6c2VjcmV0"},
		"X-Forwarded-For":     {"203.0.113.9"},
		"X-Forwarded-Host":    {"evil.example"},
		"X-Forwarded-Proto":   {"https"},
		"Forwarded":           {"for=203.0.113.9"},
		"X-Custom":            {"kept"},
	}
	res := do(t, "POST", h.srv.URL+"/echo/users?b=2&subscription-key="+kStarter+"&a=1&b=3&c", header, "payload")
	if res.status != 200 {
		t.Fatalf("status = %d %q", res.status, res.body)
	}
	_, got, body := rec.state()

	if got.URL.Path != "/v1/users" {
		t.Errorf("path = %q", got.URL.Path)
	}
	if got.URL.RawQuery != "b=2&a=1&b=3&c" {
		t.Errorf("query = %q, want the key parameter removed and the rest in order", got.URL.RawQuery)
	}
	if got.Host != recURL.Host {
		t.Errorf("Host = %q, want the backend's %q", got.Host, recURL.Host)
	}
	if body != "payload" {
		t.Errorf("body = %q", body)
	}
	for _, name := range []string{keyHeader, "X-Hop", "Keep-Alive", "Te", "Upgrade", "Proxy-Authorization", "Forwarded"} {
		if v, ok := got.Header[name]; ok {
			t.Errorf("backend received %s: %q", name, v)
		}
	}
	if c := got.Header.Get("Connection"); strings.Contains(c, "X-Hop") {
		t.Errorf("backend received Connection: %q", c)
	}
	for name, want := range map[string]string{
		"Authorization":     "Bearer caller-token",
		"X-Custom":          "kept",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  gwURL.Host,
		"X-Forwarded-Proto": "http",
		"X-Request-Id":      res.header.Get("X-Request-Id"),
	} {
		if v := got.Header.Values(name); len(v) != 1 || v[0] != want {
			t.Errorf("backend received %s: %q, want %q", name, v, want)
		}
	}
}

func TestForwardingPaths(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	cat.apis = append(cat.apis,
		&portal.API{Name: "bare", Path: "bare", Backend: portal.Backend{URL: rec.URL, Timeout: 5 * time.Second}},
		&portal.API{Name: "slash", Path: "slash", Backend: portal.Backend{URL: rec.URL + "/base/", Timeout: 5 * time.Second}},
	)
	h := start(t, cat, nil)
	for _, tc := range []struct {
		target, wantPath, wantEscaped, wantQuery string
	}{
		{"/v1/echo/users/1?x=1", "/nested/users/1", "/nested/users/1", "x=1"},
		{"/v1/echo/a%2Fb/c", "/nested/a/b/c", "/nested/a%2Fb/c", ""},
		{"/v1/echo/sp%20ace", "/nested/sp ace", "/nested/sp%20ace", ""},
		{"/bare", "/", "/", ""},
		{"/bare/", "/", "/", ""},
		{"/bare/x/y", "/x/y", "/x/y", ""},
		{"/slash", "/base/", "/base/", ""},
		{"/slash/x", "/base/x", "/base/x", ""},
		{"/bare/x?subscription-key=" + kStarter, "/x", "/x", ""},
		{"/bare/x?subscription%2Dkey=" + kStarter + "&y=%2F", "/x", "/x", "y=%2F"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			res := do(t, "GET", h.srv.URL+tc.target, key(kAll), "")
			if res.status != 200 {
				t.Fatalf("status = %d %q", res.status, res.body)
			}
			_, got, _ := rec.state()
			if got.URL.Path != tc.wantPath || got.URL.EscapedPath() != tc.wantEscaped || got.URL.RawQuery != tc.wantQuery {
				t.Fatalf("backend saw path %q (escaped %q) query %q; want %q (%q) %q",
					got.URL.Path, got.URL.EscapedPath(), got.URL.RawQuery, tc.wantPath, tc.wantEscaped, tc.wantQuery)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	rec := newRecorder(t)
	rec.handler = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "from-the-backend")
		w.WriteHeader(201)
	}
	cat := newCatalog(rec.URL)
	closed := closedAddr(t)
	cat.apis = append(cat.apis, &portal.API{Name: "down", Path: "down", Backend: portal.Backend{URL: "http://" + closed, Timeout: 5 * time.Second}})
	h := start(t, cat, nil)

	for _, tc := range []struct {
		name, target string
		header       http.Header
		wantStatus   int
	}{
		{"proxied", "/echo/users/1", key(kStarter), 201},
		{"no API", "/nope", nil, 404},
		{"no operation", "/echo/nope", nil, 404},
		{"missing key", "/echo/users/1", nil, 401},
		{"bad gateway", "/down/x", nil, 502},
		{"health", "/healthz", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sent := range []string{"caller-id-123", "", "not valid!", strings.Repeat("a", 129)} {
				header := http.Header{}
				for k, v := range tc.header {
					header[k] = v
				}
				if sent != "" {
					header.Set("X-Request-Id", sent)
				}
				if tc.name == "bad gateway" {
					header.Set(keyHeader, kAll)
				}
				res := do(t, "GET", h.srv.URL+tc.target, header, "")
				if res.status != tc.wantStatus {
					t.Fatalf("status = %d, want %d", res.status, tc.wantStatus)
				}
				ids := res.header.Values("X-Request-Id")
				if len(ids) != 1 {
					t.Fatalf("X-Request-Id = %q, want one value", ids)
				}
				if sent == "caller-id-123" && ids[0] != sent {
					t.Fatalf("X-Request-Id = %q, want the caller's %q", ids[0], sent)
				}
				if sent != "caller-id-123" && len(ids[0]) != 32 {
					t.Fatalf("X-Request-Id = %q for %q sent, want a new 32-character id", ids[0], sent)
				}
				if tc.name == "proxied" {
					if _, got, _ := rec.state(); got.Header.Get("X-Request-Id") != ids[0] {
						t.Fatalf("backend got X-Request-Id %q, the caller %q", got.Header.Get("X-Request-Id"), ids[0])
					}
				}
			}
		})
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBackendFailures(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		cat := newCatalog("http://" + closedAddr(t))
		h := start(t, cat, nil)
		res := do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "")
		if want := errorBody(502, "Bad gateway"); res.status != 502 || res.body != want {
			t.Fatalf("got %d %q, want 502 %q", res.status, res.body, want)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type = %q", ct)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		rec.handler = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
		cat := newCatalog(rec.URL)
		cat.apis[0].Backend.Timeout = time.Second
		h := start(t, cat, nil)
		began := time.Now()
		res := do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "")
		took := time.Since(began)
		if want := errorBody(504, "Gateway timeout"); res.status != 504 || res.body != want {
			t.Fatalf("got %d %q, want 504 %q", res.status, res.body, want)
		}
		if took < time.Second || took > 1900*time.Millisecond {
			t.Fatalf("answered after %s, want about the 1s timeout", took)
		}
	})
	t.Run("streaming body outlives the header timeout", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		rec.handler = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: first\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(1500 * time.Millisecond)
			io.WriteString(w, "data: second\n\n")
		}
		cat := newCatalog(rec.URL)
		cat.apis[0].Backend.Timeout = time.Second
		h := start(t, cat, nil)
		res := do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "")
		if res.status != 200 || res.body != "data: first\n\ndata: second\n\n" {
			t.Fatalf("got %d %q, want the whole stream", res.status, res.body)
		}
	})
	t.Run("headers in time, then a slow body", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t)
		rec.handler = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "6")
			io.WriteString(w, "abc")
			w.(http.Flusher).Flush()
			time.Sleep(1500 * time.Millisecond)
			io.WriteString(w, "def")
		}
		cat := newCatalog(rec.URL)
		cat.apis[0].Backend.Timeout = time.Second
		h := start(t, cat, nil)
		res := do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "")
		if res.status != 200 || res.body != "abcdef" {
			t.Fatalf("got %d %q", res.status, res.body)
		}
	})
}

func TestBuiltinEcho(t *testing.T) {
	cat := newCatalog("http://unused.invalid")
	cat.apis = append(cat.apis, &portal.API{
		Name: "demo", Path: "demo", SubscriptionRequired: true,
		Backend: portal.Backend{URL: portal.BuiltinEcho, Timeout: time.Second},
	})
	h := start(t, cat, nil)

	res := do(t, "POST", h.srv.URL+"/demo/things/1?x=1&subscription-key="+kAll+"&y=2",
		http.Header{"Authorization": {"Bearer t"}, "Content-Type": {"text/plain"}}, "hello")
	if res.status != 200 || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %q", res.status, res.header.Get("Content-Type"), res.body)
	}
	if len(res.header.Values("X-Request-Id")) != 1 {
		t.Fatalf("X-Request-Id = %q", res.header.Values("X-Request-Id"))
	}
	var got struct {
		Method  string
		Path    string
		Query   map[string][]string
		Headers map[string][]string
		Body    string
	}
	if err := json.Unmarshal([]byte(res.body), &got); err != nil {
		t.Fatalf("%v in %q", err, res.body)
	}
	if got.Method != "POST" || got.Path != "/things/1" || got.Body != "hello" {
		t.Fatalf("echo = %+v", got)
	}
	if len(got.Query) != 2 || got.Query["x"][0] != "1" || got.Query["y"][0] != "2" {
		t.Fatalf("query = %v, want x and y only", got.Query)
	}
	if got.Headers["X-Forwarded-For"] == nil || got.Headers["Authorization"][0] != "Bearer t" || got.Headers[keyHeader] != nil {
		t.Fatalf("headers = %v", got.Headers)
	}
	if got.Headers["X-Request-Id"][0] != res.header.Get("X-Request-Id") {
		t.Fatalf("echoed request id %v, response %q", got.Headers["X-Request-Id"], res.header.Get("X-Request-Id"))
	}

	big := strings.Repeat("x", 1<<20+1)
	res = do(t, "POST", h.srv.URL+"/demo/", key(kAll), big)
	if res.status != 413 {
		t.Fatalf("a body over 1 MiB: %d %q", res.status, res.body)
	}
	res = do(t, "POST", h.srv.URL+"/demo/", key(kAll), big[1:])
	if res.status != 200 {
		t.Fatalf("a body of 1 MiB: %d", res.status)
	}
}

// waitFor polls until cond holds, failing after one second: the contract's
// bound for key changes to take effect.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within one second: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeyChangesWithinOneSecond(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *fakeCatalog)
		newKey string // passes after the change
	}{
		{"regenerate primary", func(c *fakeCatalog) { c.sub("starter").PrimaryKey = "regenerated-key-0000001" }, "regenerated-key-0000001"},
		{"suspend", func(c *fakeCatalog) { c.sub("starter").State = portal.SubscriptionSuspended }, ""},
		{"cancel", func(c *fakeCatalog) { c.sub("starter").State = portal.SubscriptionCancelled }, ""},
		{"block owner", func(c *fakeCatalog) { c.sub("starter").OwnerID, c.sub("starter").OwnerState = 3, portal.UserBlocked }, ""},
		{"delete", func(c *fakeCatalog) { c.subs = c.subs[1:] }, ""},
		{"product loses the API", func(c *fakeCatalog) { c.products[0].APIs = []string{"root"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			cat := newCatalog(rec.URL)
			h := start(t, cat, nil)
			target := h.srv.URL + "/echo/users/1"
			if res := do(t, "GET", target, key(kStarter), ""); res.status != 200 {
				t.Fatalf("before: %d", res.status)
			}
			if tc.newKey != "" {
				// Cached as unknown before it exists.
				if res := do(t, "GET", target, key(tc.newKey), ""); res.status != 401 {
					t.Fatalf("new key before: %d", res.status)
				}
			}
			cat.change(tc.change)
			waitFor(t, "old key refused", func() bool { return do(t, "GET", target, key(kStarter), "").status == 401 })
			if tc.newKey != "" {
				if res := do(t, "GET", target, key(tc.newKey), ""); res.status != 200 {
					t.Fatalf("new key after: %d", res.status)
				}
			}
			if res := do(t, "GET", target, key(kStarter2), ""); tc.newKey != "" && res.status != 200 {
				t.Fatalf("the other key after regenerating one: %d", res.status)
			}
		})
	}
}

func TestExpiryFollowsTheClock(t *testing.T) {
	rec := newRecorder(t)
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	h := start(t, newCatalog(rec.URL), func(c *gateway.Config) { c.Now = func() time.Time { return *now.Load() } })
	target := h.srv.URL + "/echo/users/1"
	if res := do(t, "GET", target, key(kFuture), ""); res.status != 200 {
		t.Fatalf("before expiry: %d", res.status)
	}
	later := t0.Add(2 * time.Hour)
	now.Store(&later)
	// No version change: the cached subscription's expiry is checked per request.
	if res := do(t, "GET", target, key(kFuture), ""); res.status != 401 {
		t.Fatalf("after expiry: %d", res.status)
	}
}

func TestRoutesReload(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	h := start(t, cat, nil)
	if res := do(t, "GET", h.srv.URL+"/late/x", key(kAll), ""); res.status != 404 {
		t.Fatalf("before: %d", res.status)
	}
	cat.change(func(c *fakeCatalog) {
		c.apis = append(c.apis, &portal.API{Name: "late", Path: "late", SubscriptionRequired: true, Backend: portal.Backend{URL: rec.URL, Timeout: time.Second}})
		c.apis[0].Operations = nil // echo now accepts any path
		c.products[1].State = portal.ProductNotPublished
	})
	waitFor(t, "new API served", func() bool { return do(t, "GET", h.srv.URL+"/late/x", key(kAll), "").status == 200 })
	if res := do(t, "GET", h.srv.URL+"/echo/anything", key(kStarter), ""); res.status != 200 {
		t.Fatalf("API without operations now: %d", res.status)
	}
	if res := do(t, "GET", h.srv.URL+"/prodopen/x", nil, ""); res.status != 401 {
		t.Fatalf("unpublished open product: %d", res.status)
	}
	cat.change(func(c *fakeCatalog) { c.apis = c.apis[1:] })
	waitFor(t, "removed API gone", func() bool { return do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "").status == 404 })
}

func TestCatalogOutage(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	h := start(t, cat, nil)
	target := h.srv.URL + "/echo/users/1"
	if res := do(t, "GET", target, key(kStarter), ""); res.status != 200 {
		t.Fatalf("before: %d", res.status)
	}
	cat.change(func(c *fakeCatalog) { c.versionErr = errors.New("store down") })
	time.Sleep(300 * time.Millisecond) // a reload attempt or two
	if res := do(t, "GET", target, key(kStarter), ""); res.status != 200 {
		t.Fatalf("cached key during an outage: %d", res.status)
	}
	if res := do(t, "GET", h.srv.URL+"/readyz", nil, ""); res.status != 503 {
		t.Fatalf("/readyz during an outage: %d", res.status)
	}
	cat.change(func(c *fakeCatalog) { c.versionErr = nil })
	waitFor(t, "ready again", func() bool { return do(t, "GET", h.srv.URL+"/readyz", nil, "").status == 200 })
}

func TestNewNeedsTheCatalog(t *testing.T) {
	if _, err := gateway.New(gateway.Config{}); err == nil {
		t.Fatal("New without a catalog succeeded")
	}
	cat := newCatalog("http://127.0.0.1:1")
	cat.versionErr = errors.New("store down")
	if _, err := gateway.New(gateway.Config{Catalog: cat}); err == nil {
		t.Fatal("New with an unreachable catalog succeeded")
	}
}

func TestNegativeCacheBounded(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	h := start(t, cat, func(c *gateway.Config) { c.NegativeKeyCacheSize = 4 })
	target := h.srv.URL + "/echo/users/1"
	for i := range 20 {
		if res := do(t, "GET", target, key("random-unknown-key-"+strconv.Itoa(1000+i)), ""); res.status != 401 {
			t.Fatalf("unknown key %d: %d", i, res.status)
		}
	}
	if n := cat.keyLookups.Load(); n != 20 {
		t.Fatalf("store lookups = %d, want 20", n)
	}
	if n := gaugeValue(t, h.reg, "portico_gateway_key_cache_entries"); n > 4 {
		t.Fatalf("key cache holds %v entries, want at most 4", n)
	}
	// The latest unknown key is remembered.
	do(t, "GET", target, key("random-unknown-key-1019"), "")
	if n := cat.keyLookups.Load(); n != 20 {
		t.Fatalf("store lookups = %d after repeating an unknown key, want 20", n)
	}
	// Keys that no store could hold are refused without a lookup.
	do(t, "GET", target, key("short"), "")
	if n := cat.keyLookups.Load(); n != 20 {
		t.Fatalf("store lookups = %d after a malformed key, want 20", n)
	}
}

func TestConcurrentMissesAskTheStoreOnce(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	cat.lookupHook = func(string) {
		once.Do(func() { close(entered) })
		<-release
	}
	h := start(t, cat, nil)
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() { statuses[i] = do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "").status })
	}
	<-entered
	time.Sleep(100 * time.Millisecond) // let the others queue behind the first
	close(release)
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d: %d", i, s)
		}
	}
	if got := cat.keyLookups.Load(); got != 1 {
		t.Fatalf("store lookups = %d, want 1", got)
	}
}

func TestConcurrentRequests(t *testing.T) {
	rec := newRecorder(t)
	cat := newCatalog(rec.URL)
	h := start(t, cat, func(c *gateway.Config) { c.ReloadInterval = 10 * time.Millisecond })
	stop := make(chan struct{})
	var changer sync.WaitGroup
	changer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				cat.change(func(*fakeCatalog) {})
			}
		}
	})
	cases := []struct {
		target string
		header http.Header
		want   int
	}{
		{"/echo/users/1", key(kStarter), 200},
		{"/echo/users/1", key(kStarter2), 200},
		{"/echo/users/1", key(kSuspended), 401},
		{"/echo/users/1", key(kUnknown), 401},
		{"/echo/users/1", nil, 401},
		{"/open/x", nil, 200},
		{"/nope", nil, 404},
		{"/echo/users/1?subscription-key=" + kAll, nil, 200},
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				c := cases[(g+i)%len(cases)]
				if res := do(t, "GET", h.srv.URL+c.target, c.header, ""); res.status != c.want {
					t.Errorf("%s: %d, want %d", c.target, res.status, c.want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	changer.Wait()
}

func TestReservedPaths(t *testing.T) {
	rec := newRecorder(t)
	h := start(t, newCatalog(rec.URL), nil)
	do(t, "GET", h.srv.URL+"/echo/users/1", key(kStarter), "")
	do(t, "GET", h.srv.URL+"/echo/users/1", nil, "")
	do(t, "GET", h.srv.URL+"/nope", nil, "")
	hits, _, _ := rec.state()

	for _, tc := range []struct {
		method, path string
		want         int
		contains     string
	}{
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/readyz", 200, "ready"},
		{"GET", "/metrics", 200, `portico_gateway_requests_total{api="echo",code="200"} 1`},
		{"GET", "/metrics", 200, `portico_gateway_requests_total{api="",code="404"} 1`},
		{"GET", "/metrics", 200, `portico_gateway_denials_total{reason="missing_key"} 1`},
		{"GET", "/metrics", 200, `portico_gateway_denials_total{reason="no_api"} 1`},
		{"GET", "/metrics", 200, `portico_gateway_key_cache_lookups_total{result="miss"} 1`},
		{"GET", "/metrics", 200, `portico_gateway_request_duration_seconds_count{api="echo"} 2`},
		{"GET", "/metrics", 200, `portico_gateway_reloads_total 1`},
		{"POST", "/healthz", 405, ""},
	} {
		res := do(t, tc.method, h.srv.URL+tc.path, nil, "")
		if res.status != tc.want || !strings.Contains(res.body, tc.contains) {
			t.Errorf("%s %s = %d, want %d and %q in\n%s", tc.method, tc.path, res.status, tc.want, tc.contains, res.body)
		}
		if res.header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", tc.method, tc.path)
		}
	}
	if after, _, _ := rec.state(); after != hits {
		t.Fatal("a reserved path reached the backend")
	}
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// syncBuffer collects log output from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogging(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := newRecorder(t)
	rec.handler = func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	cat := newCatalog(rec.URL)
	cat.apis = append(cat.apis,
		&portal.API{Name: "down", Path: "down", Backend: portal.Backend{URL: "http://" + closedAddr(t), Timeout: time.Second}},
		&portal.API{Name: "bad", Path: "", Backend: portal.Backend{URL: rec.URL, Timeout: time.Second}},
	)
	h := start(t, cat, func(c *gateway.Config) { c.Logger = logger })

	if res := do(t, "GET", h.srv.URL+"/echo/users/1?subscription-key="+kUnknown, nil, ""); res.status != 401 {
		t.Fatalf("unknown key: %d", res.status)
	}
	if res := do(t, "GET", h.srv.URL+"/down/x?subscription-key="+kAll+"&access_token=secret-token", nil, ""); res.status != 502 {
		t.Fatalf("down: %d", res.status)
	}
	if res := do(t, "GET", h.srv.URL+"//x", nil, ""); res.status != 404 {
		t.Fatalf("an API with an empty path must not be served: %d", res.status)
	}
	// A caller that leaves while the backend thinks.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/echo/users/1", nil)
	req.Header.Set(keyHeader, kStarter)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("the request was answered: %d", res.StatusCode)
	}
	waitFor(t, "the departed caller counted", func() bool {
		return strings.Contains(do(t, "GET", h.srv.URL+"/metrics", nil, "").body, `portico_gateway_requests_total{api="echo",code="499"} 1`)
	})

	out := logs.String()
	for _, secret := range []string{kUnknown, kAll, kStarter, "secret-token"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		`level=INFO msg="gateway routes loaded"`,
		`level=WARN msg="API not served: invalid gateway path" api=bad`,
		`level=DEBUG msg="gateway request denied" reason=invalid_key detail="" status=401`,
		`level=WARN msg="gateway backend request failed"`,
		`level=DEBUG msg="gateway client went away before the backend answered"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "level=WARN") != 2 {
		t.Errorf("want two warnings (bad API path, backend down):\n%s", out)
	}
}
