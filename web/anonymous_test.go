package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

// TestAnonymousAccessRedirect: with anonymous_access: redirect, a visitor
// is sent to sign-in from every page but those that signing in needs, and
// comes back to the page asked for.
func TestAnonymousAccessRedirect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	settings, err := e.store.FindSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Allowed (the default): the catalogue is open.
	if r := e.send(t, http.MethodGet, "/apis", nil, nil); r.status != http.StatusOK {
		t.Fatalf("GET /apis with anonymous access allowed = %d", r.status)
	}
	settings.AnonymousAccess = portal.AnonymousRedirect
	if err := e.store.UpdateSettings(ctx, settings); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"/", "/apis", "/apis?q=echo&tag=x", "/products", "/no-such-page"} {
		r := e.send(t, http.MethodGet, path, nil, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("GET %s = %d, want 303", path, r.status)
		}
		want := "/signin"
		if path != "/" {
			want += "?next=" + url.QueryEscape(path)
		}
		if got := r.header.Get("Location"); got != want {
			t.Fatalf("GET %s redirects to %q, want %q", path, got, want)
		}
	}
	for _, path := range []string{"/signin", "/healthz", "/readyz"} {
		if r := e.send(t, http.MethodGet, path, nil, nil); r.status != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200 while redirecting anonymous visitors", path, r.status)
		}
	}
	// A stylesheet the sign-in page links to is served.
	page := e.send(t, http.MethodGet, "/signin", nil, nil)
	i := strings.Index(page.body, "/static/")
	if i < 0 {
		t.Fatal("the sign-in page links no static file")
	}
	asset := page.body[i : i+strings.IndexByte(page.body[i:], '"')]
	if r := e.send(t, http.MethodGet, asset, nil, nil); r.status != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200", asset, r.status)
	}

	// Signing in with the return path lands on the page asked for, and
	// signed in, the pages are open.
	r := e.postForm(t, "/signin", "", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {"/apis?q=echo"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/apis?q=echo" {
		t.Fatalf("sign in = %d to %q", r.status, r.header.Get("Location"))
	}
	c := sessionCookie(r)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if got := e.send(t, http.MethodGet, "/apis", nil, http.Header{"Cookie": {c.Name + "=" + c.Value}}); got.status != http.StatusOK {
		t.Fatalf("signed-in GET /apis = %d", got.status)
	}
}
