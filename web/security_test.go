package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// allPages are the pages every HTML check runs on, as the anonymous
// visitor and as an administrator.
var allPages = []string{
	"/", "/apis", "/apis?q=echo&tag=resources", "/apis?q=zzz", "/apis/echo", "/apis/weather", "/apis/status",
	"/apis/echo/operations/get-resource", "/apis/echo/operations/create-resource", "/apis/echo/operations/ping",
	"/products", "/products/starter", "/products/free", "/nope", "/apis/nope",
	"/signin", "/admin/", "/admin/apis", "/admin/apis/new", "/admin/apis/echo/edit", "/admin/apis/echo/delete",
	"/admin/products", "/admin/products/new", "/admin/products/starter/edit", "/admin/products/starter/delete",
	"/admin/subscriptions", "/admin/subscriptions/new", "/admin/subscriptions/1", "/admin/users",
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	css := assetURL(t, e, "css/portico.css")
	for _, path := range []string{"/", "/apis/echo", "/nope", css, "/static/0000000000000000/css/portico.css", "/apis/echo/openapi", "/healthz"} {
		r := e.get(t, path)
		for name, want := range map[string]string{
			"Content-Security-Policy":    wantCSP,
			"X-Content-Type-Options":     "nosniff",
			"Referrer-Policy":            "same-origin",
			"X-Frame-Options":            "DENY",
			"Cross-Origin-Opener-Policy": "same-origin",
			"Strict-Transport-Security":  "max-age=63072000", // the public URL is https
		} {
			if got := r.header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
		if r.header.Get("Permissions-Policy") == "" {
			t.Errorf("GET %s: no Permissions-Policy", path)
		}
		if strings.Contains(r.header.Get("Content-Security-Policy"), "unsafe") {
			t.Errorf("GET %s: CSP allows unsafe sources", path)
		}
	}
}

// TestNoInlineCode scans every page for what the CSP forbids: inline
// scripts, style elements and attributes, event-handler attributes and
// javascript: URLs. The browser test proves the same from the other side.
func TestNoInlineCode(t *testing.T) {
	e := newEnv(t)
	forbidden := map[string]*regexp.Regexp{
		"inline <script>":   regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>`),
		"<style> element":   regexp.MustCompile(`(?i)<style[\s>]`),
		"style attribute":   regexp.MustCompile(`(?i)\sstyle\s*=`),
		"event handler":     regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		"javascript: URL":   regexp.MustCompile(`(?i)javascript:`),
		"third-party asset": regexp.MustCompile(`(?i)(src|href)="(https?:)?//`),
	}
	scriptWithSrc := regexp.MustCompile(`(?i)<script src="/static/[0-9a-f]{16}/js/portico\.js" defer>`)
	for _, as := range []string{"", "admin"} {
		for _, path := range allPages {
			body := e.getAs(t, path, as).body
			for what, re := range forbidden {
				for _, m := range re.FindAllString(body, -1) {
					if what == "inline <script>" && scriptWithSrc.MatchString(m) {
						continue
					}
					t.Errorf("GET %s as %q: %s: %q", path, as, what, m)
				}
			}
		}
	}
}

func TestCrossOriginProtection(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		header http.Header
		refuse bool
	}{
		{"cross-site fetch", http.Header{"Sec-Fetch-Site": {"cross-site"}}, true},
		{"same-site other origin", http.Header{"Sec-Fetch-Site": {"same-site"}}, true},
		{"foreign Origin", http.Header{"Origin": {"https://evil.example"}}, true},
		{"same-origin fetch", http.Header{"Sec-Fetch-Site": {"same-origin"}}, false},
		{"trusted public origin", http.Header{"Origin": {"https://portal.example.com"}}, false},
		{"no browser headers", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				r := e.do(t, method, "/signout", "", tc.header)
				if tc.refuse && (r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-message"`)) {
					t.Errorf("%s = %d, want the 403 page", method, r.status)
				}
				if !tc.refuse && r.status == http.StatusForbidden {
					t.Errorf("%s refused", method)
				}
			}
			// Safe methods pass whatever their origin.
			if r := e.do(t, http.MethodGet, "/apis", "", tc.header); r.status != http.StatusOK {
				t.Errorf("GET = %d", r.status)
			}
		})
	}
}

// assetURL finds the hashed URL of an embedded file in the home page.
func assetURL(t *testing.T, e *env, file string) string {
	t.Helper()
	m := regexp.MustCompile(`"(/static/[0-9a-f]{16}/` + regexp.QuoteMeta(file) + `)"`).FindStringSubmatch(e.get(t, "/").body)
	if m == nil {
		t.Fatalf("no hashed URL of %s in the home page", file)
	}
	return m[1]
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t)
	for file, ctype := range map[string]string{
		"css/portico.css": "text/css; charset=utf-8",
		"js/portico.js":   "text/javascript; charset=utf-8",
		"img/logo.svg":    "image/svg+xml",
	} {
		u := assetURL(t, e, file)
		r := e.get(t, u)
		if r.status != http.StatusOK || len(r.body) == 0 {
			t.Fatalf("GET %s = %d", u, r.status)
		}
		if got := r.header.Get("Content-Type"); got != ctype {
			t.Errorf("GET %s: Content-Type = %q, want %q", u, got, ctype)
		}
		if got := r.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control = %q", u, got)
		}
		etag := r.header.Get("ETag")
		if r := e.do(t, http.MethodGet, u, "", http.Header{"If-None-Match": {etag}}); r.status != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", u, r.status)
		}
		// Another hash for the same file is not that file.
		wrong := regexp.MustCompile(`/static/[0-9a-f]{16}/`).ReplaceAllString(u, "/static/0123456789abcdef/")
		if r := e.get(t, wrong); r.status != http.StatusNotFound || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s = %d (Cache-Control %q), want an uncached 404", wrong, r.status, r.header.Get("Cache-Control"))
		}
	}
	css := assetURL(t, e, "css/portico.css")
	for _, path := range []string{strings.Replace(css, "portico.css", "nope.css", 1), "/static/", "/static/x/", "/static/" + strings.Repeat("0", 16) + "/"} {
		if r := e.get(t, path); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.status)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/", "/nope", "/healthz", "/apis/echo/openapi"} {
		r := e.get(t, path)
		if id := r.header.Get("X-Request-Id"); len(id) != 32 {
			t.Errorf("GET %s: X-Request-Id = %q", path, id)
		}
	}
	r := e.do(t, http.MethodGet, "/nope", "", http.Header{"X-Request-Id": {"trace-abc.123"}})
	if r.header.Get("X-Request-Id") != "trace-abc.123" || !strings.Contains(r.body, "trace-abc.123") {
		t.Errorf("the caller's request id is not kept on the error page")
	}
	if !strings.Contains(e.logs.String(), `"request_id":"trace-abc.123"`) {
		t.Errorf("the access log does not carry the request id")
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "/healthz"); r.status != http.StatusOK {
		t.Errorf("/healthz = %d", r.status)
	}
	if r := e.get(t, "/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz = %d", r.status)
	}
	e.get(t, "/apis/echo")
	e.get(t, "/nope")
	r := e.get(t, "/metrics")
	for _, w := range []string{
		`portico_portal_requests_total{code="200",route="GET /apis/{api}"} 1`,
		`portico_portal_requests_total{code="404",route="unmatched"} 1`,
		`portico_portal_request_duration_seconds_count{route="GET /apis/{api}"} 1`,
	} {
		if !strings.Contains(r.body, w) {
			t.Errorf("/metrics has no %q", w)
		}
	}
}
