package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

// TestAnonymousPageCache: anonymous visitors' catalogue pages come from a
// cache that any change to the store empties at once, errors are never
// cached, and signed-in visitors always get their own page.
func TestAnonymousPageCache(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	get := func(path, cookie string) response {
		t.Helper()
		h := http.Header{}
		if cookie != "" {
			h.Set("Cookie", cookie)
		}
		return e.send(t, http.MethodGet, path, nil, h)
	}

	first := get("/apis/echo", "")
	if first.status != http.StatusOK || !strings.Contains(first.body, "Echo API") {
		t.Fatalf("GET /apis/echo = %d", first.status)
	}
	again := get("/apis/echo", "")
	if again.body != first.body || again.header.Get("Content-Type") != first.header.Get("Content-Type") ||
		again.header.Get("Content-Length") != first.header.Get("Content-Length") {
		t.Fatal("the cached page differs from the rendered one")
	}
	if again.header.Get("Content-Security-Policy") == "" || again.header.Get("X-Request-Id") == first.header.Get("X-Request-Id") {
		t.Fatal("a cached page lost its security headers or reused a request id")
	}

	// A change in the store shows on the very next request.
	api, err := e.store.FindAPIByName(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	api.DisplayName = "Echo Renamed"
	if _, err := e.store.UpdateAPI(ctx, "echo", api); err != nil {
		t.Fatal(err)
	}
	if r := get("/apis/echo", ""); !strings.Contains(r.body, "Echo Renamed") {
		t.Fatal("the page cache served a page older than the store")
	}

	// A 404 is not cached: the API, once created, shows.
	if r := get("/apis/fresh", ""); r.status != http.StatusNotFound {
		t.Fatalf("GET /apis/fresh = %d, want 404", r.status)
	}
	if err := e.store.CreateAPI(ctx, &portal.API{Name: "fresh", DisplayName: "Fresh API", Path: "fresh",
		Backend: portal.Backend{URL: portal.BuiltinEcho}}); err != nil {
		t.Fatal(err)
	}
	if r := get("/apis/fresh", ""); r.status != http.StatusOK || !strings.Contains(r.body, "Fresh API") {
		t.Fatalf("GET /apis/fresh after creating it = %d", r.status)
	}

	// Signed in, the page is the user's own, never the anonymous one.
	cookie := e.signIn(t, adminEmail, adminPassword, "")
	anon := get("/apis", "")
	mine := get("/apis", cookie)
	if strings.Contains(anon.body, "Sign out") || !strings.Contains(mine.body, "Sign out") {
		t.Fatal("a signed-in and an anonymous visitor got the same /apis page")
	}
	if again := get("/apis", ""); strings.Contains(again.body, "Sign out") {
		t.Fatal("the signed-in page leaked into the anonymous cache")
	}
}
