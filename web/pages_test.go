package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"<title>Contoso APIs</title>", "<h1", "Contoso APIs", `data-testid="api-card"`, "Echo API", `href="/apis"`, `href="/products"`, `data-testid="signin-link"`, `href="/signup"`}},
		{"/apis", []string{`data-testid="api-search"`, `data-testid="result-count"`, "3 APIs", "Echo API", "Weather API", "Status API", `data-testid="tag-chip"`, "forecast"}},
		{"/apis/echo", []string{
			`data-testid="api-title"`, "Echo API", "Version <strong>1.2.0</strong>", "Useful for trying the gateway.",
			"https://gateway.example.com/echo", "Subscription key required", "Ocp-Apim-Subscription-Key", "subscription-key",
			`href="/products/starter"`, "Starter", `data-testid="operation-row"`, `href="/apis/echo/operations/get-resource"`,
			`<span class="method method-post">POST</span>`, "resources", "Other operations", `href="/apis/echo/openapi"`,
		}},
		{"/apis/weather", []string{"No key needed", "open product Free weather", "https://gateway.example.com/weather"}},
		{"/apis/status", []string{"No key needed", "does not require a subscription", "not part of any product"}},
		{"/apis/echo/operations/get-resource", []string{
			`data-testid="operation-title"`, "Get a resource", "https://gateway.example.com/echo/resources/{id}",
			"Returns one resource by its id.", `data-testid="parameters"`, "<code>id</code>", "<td>path</td>", "integer &lt;int64&gt;",
			`data-testid="schema"`, "Resource", `data-testid="curl-example"`, "A thing the echo service remembers.",
			"max length", "Allowed values:", "(recursive, see above)", `href="#schema-1"`, "array of Resource", "nullable", "read-only",
		}},
		{"/apis/echo/operations/create-resource", []string{`data-testid="request-body"`, "Request body", "--data", "Content-Type: application/json", "Location", "URL of the new resource."}},
		{"/apis/echo/operations/ping", []string{"Deprecated", "pong", "text/plain"}},
		{"/products", []string{`data-testid="product-card"`, "Starter", "Free weather", "Open: no key needed", "Approval required"}},
		{"/products/starter", []string{`data-testid="product-title"`, "For trying things out.", "Be nice to the echo service.", "Up to 1", "100 calls per minute", `data-testid="signin-to-subscribe"`, "Sign in to subscribe", "Echo API"}},
		{"/products/free", []string{"This product is open", "Weather API"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.get(t, tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200\n%s", tc.path, r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type = %q", ct)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("GET %s: no %q in the page", tc.path, w)
				}
			}
		})
	}
}

func TestCurlExample(t *testing.T) {
	e := newEnv(t)
	curl := func(path string) string {
		r := e.get(t, path)
		m := regexp.MustCompile(`(?s)<code id="curl-example"[^>]*>(.*?)</code>`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("GET %s: no curl example", path)
		}
		return unescape(m[1])
	}
	got := curl("/apis/echo/operations/get-resource")
	want := "curl --request GET \\\n  --url 'https://gateway.example.com/echo/resources/42' \\\n  --header 'Ocp-Apim-Subscription-Key: <your-subscription-key>'"
	if got != want {
		t.Fatalf("curl example:\n%s\nwant:\n%s", got, want)
	}

	got = curl("/apis/echo/operations/create-resource")
	for _, w := range []string{"--request POST", "--header 'Content-Type: application/json'", `"name": "Widget"`, `"status": "active"`} {
		if !strings.Contains(got, w) {
			t.Errorf("POST curl example has no %q:\n%s", w, got)
		}
	}
	// A request example leaves read-only properties out.
	if strings.Contains(got, `"id"`) {
		t.Errorf("POST curl example has the read-only id:\n%s", got)
	}

	// Open APIs need no key; a required query parameter without an example
	// is a placeholder, and braces need --globoff.
	got = curl("/apis/weather/operations/forecast")
	if strings.Contains(got, "subscription-key") || strings.Contains(got, "Ocp-Apim") {
		t.Errorf("open API's curl example carries a key:\n%s", got)
	}
	if !strings.Contains(got, "--globoff") || !strings.Contains(got, "forecast?city={city}") {
		t.Errorf("curl example of a required query parameter:\n%s", got)
	}
}

func TestCatalogueSearch(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		query     string
		want      []string
		wantCount string
		absent    []string
	}{
		{"?q=weath", []string{"Weather API"}, "1 API matching", []string{"Echo API", "Status API"}},
		{"?q=ECHOES", []string{"Echo API"}, "1 API matching", []string{"Weather API"}},            // description, any case
		{"?tag=forecast", []string{"Weather API"}, "1 API tagged forecast", []string{"Echo API"}}, // tag
		{"?q=echo&tag=resources", []string{"Echo API"}, "1 API matching", []string{"Weather API"}},
		{"?q=echo&tag=forecast", []string{`data-testid="empty-state"`, "No APIs match"}, "No APIs matching", []string{`data-testid="api-card"`}},
		{"?q=nothing-like-this", []string{`data-testid="empty-state"`, `href="/apis"`}, "No APIs", []string{`data-testid="api-card"`}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := e.get(t, "/apis"+tc.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			for _, w := range append(tc.want, tc.wantCount) {
				if !strings.Contains(r.body, w) {
					t.Errorf("no %q", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(r.body, a) {
					t.Errorf("unexpected %q", a)
				}
			}
		})
	}

	// The form keeps what was asked, and the active tag chip is marked.
	r := e.get(t, "/apis?q=echo&tag=resources")
	for _, w := range []string{`name="q" value="echo"`, `<option value="resources" selected>`, `aria-current="true"`, "Clear filters"} {
		if !strings.Contains(r.body, w) {
			t.Errorf("filtered catalogue has no %q", w)
		}
	}
	if r := e.get(t, "/apis?q="+strings.Repeat("x", 201)); r.status != http.StatusBadRequest || !strings.Contains(r.body, `data-testid="error-message"`) {
		t.Errorf("over-long search = %d, want 400 with the error page", r.status)
	}
	if r := e.get(t, "/apis?page=9"); r.status != http.StatusNotFound {
		t.Errorf("page beyond the list = %d, want 404", r.status)
	}
}

// TestVisibility: an API only in an unpublished product, and that product,
// do not exist for anonymous visitors and developers; administrators see
// both, marked.
func TestVisibility(t *testing.T) {
	e := newEnv(t)
	for _, as := range []string{"", "developer"} {
		for _, path := range []string{"/products/internal", "/apis/secret", "/apis/secret/openapi", "/apis/secret/operations/launch"} {
			if r := e.getAs(t, path, as); r.status != http.StatusNotFound || !strings.Contains(r.body, `data-testid="error-message"`) {
				t.Errorf("GET %s as %q = %d, want the 404 page", path, as, r.status)
			}
		}
		for _, path := range []string{"/", "/apis", "/apis?q=secret", "/products"} {
			r := e.getAs(t, path, as)
			if strings.Contains(r.body, "Secret API") || strings.Contains(r.body, "Internal") {
				t.Errorf("GET %s as %q shows the hidden API or product", path, as)
			}
		}
	}
	// A hidden API's page answers like an unknown one, so that its
	// existence does not leak.
	if got, want := messageOf(e.get(t, "/apis/secret").body), messageOf(e.get(t, "/apis/unknown").body); got != strings.Replace(want, "unknown", "secret", 1) {
		t.Errorf("hidden API message %q differs from unknown API message %q", got, want)
	}

	for _, tc := range []struct{ path, want string }{
		{"/products/internal", "Not published"},
		{"/products", "Not published"},
		{"/apis/secret", "Secret API"},
		{"/apis", "Secret API"},
	} {
		r := e.getAs(t, tc.path, "admin")
		if r.status != http.StatusOK || !strings.Contains(r.body, tc.want) {
			t.Errorf("GET %s as admin = %d, want 200 with %q", tc.path, r.status, tc.want)
		}
	}
}

func messageOf(body string) string {
	m := regexp.MustCompile(`data-testid="error-message">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestAccountArea: the user seam. Anonymous visitors get sign-in links,
// a signed-in user their name, an administrator also the admin link.
func TestAccountArea(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "/apis/echo")
	if !strings.Contains(r.body, `href="/signin?next=%2Fapis%2Fecho"`) || strings.Contains(r.body, `data-testid="account-name"`) {
		t.Errorf("anonymous account area wrong")
	}
	r = e.getAs(t, "/apis/echo", "developer")
	if !strings.Contains(r.body, "Dee Developer") || strings.Contains(r.body, `data-testid="signin-link"`) || strings.Contains(r.body, "/admin/") {
		t.Errorf("developer account area wrong")
	}
	if !strings.Contains(r.body, `action="/signout"`) {
		t.Errorf("no sign-out form for a signed-in user")
	}
	r = e.getAs(t, "/products/starter", "developer")
	if strings.Contains(r.body, "Sign in to subscribe") {
		t.Errorf("a signed-in developer is asked to sign in to subscribe")
	}
	r = e.getAs(t, "/", "admin")
	if !strings.Contains(r.body, "Ada Admin") || !strings.Contains(r.body, `href="/admin/"`) {
		t.Errorf("admin account area has no name or admin link")
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/nope", "/apis/nope", "/apis/echo/operations/nope", "/products/nope", "/apis/echo/extra/segments", "/apis/%2e%2e"} {
		r := e.get(t, path)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.status)
			continue
		}
		if !strings.Contains(r.body, `data-testid="error-message"`) || !strings.Contains(r.body, "Page not found") {
			t.Errorf("GET %s: no error page", path)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: error page Cache-Control = %q", path, r.header.Get("Cache-Control"))
		}
	}
	// Wrong methods on known paths are 404 pages too (no route takes them).
	if r := e.do(t, http.MethodDelete, "/apis/echo", "", nil); r.status != http.StatusNotFound {
		t.Errorf("DELETE /apis/echo = %d", r.status)
	}
}

func TestOpenAPIDownload(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "/apis/echo/openapi")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if r.body != echoSpec {
		t.Fatalf("body = %q", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename=echo-openapi.json` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	// An API without a stored document: 404.
	if r := e.get(t, "/apis/status/openapi"); r.status != http.StatusNotFound {
		t.Errorf("spec of an API without one = %d", r.status)
	}
}

// unescape undoes the HTML escaping templ applies to text.
func unescape(s string) string {
	return strings.NewReplacer("&#39;", "'", "&#34;", `"`, "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
