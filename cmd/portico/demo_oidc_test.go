package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	demoFormAction  = regexp.MustCompile(`<form method="post" action="([^"]+)" data-testid="devidp-login"`)
	demoHiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// TestDemoOIDC: with --demo, the real binary serves the development
// identity provider under /dev-idp and offers it on the sign-in page; an
// HTTP client follows the whole authorization code flow through it and
// lands signed in. Without --demo, even on the same store, /dev-idp is not
// there.
func TestDemoOIDC(t *testing.T) {
	dir := t.TempDir()
	in := startPortico(t, dir, nil, "--demo")
	if out := in.stdout.String(); !strings.Contains(out, `"Development sign-in (demo)"`) || !strings.Contains(out, in.portal+"/dev-idp") {
		t.Fatalf("the demo banner does not mention the development provider:\n%s", out)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	_, page := get(in.portal + "/signin")
	if !strings.Contains(page, `data-testid="signin-idp-dev"`) || !strings.Contains(page, "Development sign-in (demo)") {
		t.Fatalf("the sign-in page does not offer the dev provider:\n%s", page)
	}
	res, login := get(in.portal + "/signin/dev?next=/products")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/dev-idp/authorize" || !strings.Contains(login, "Dee Developer") {
		t.Fatalf("the provider's login page: %d at %s\n%s", res.StatusCode, res.Request.URL, login)
	}
	m := demoFormAction.FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("no login form in\n%s", login)
	}
	form := url.Values{"user": {"dee"}}
	for _, h := range demoHiddenInput.FindAllStringSubmatch(login, -1) {
		form.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	res, err = client.PostForm(html.UnescapeString(m[1]), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.String() != in.portal+"/products" {
		t.Fatalf("after the provider's login: %d at %s\n%s", res.StatusCode, res.Request.URL, body)
	}
	if !strings.Contains(string(body), `data-testid="account-name"`) || !strings.Contains(string(body), "Dee Developer") {
		t.Fatalf("not signed in after the flow:\n%s", body)
	}
	// The account is a developer's, with the identity linked: the demo's
	// provider never opens the administration.
	_, profile := get(in.portal + "/profile")
	if !strings.Contains(profile, `data-testid="identity-provider">Development sign-in (demo)<`) || !strings.Contains(profile, `data-testid="identity-email">dee@example.org<`) {
		t.Fatalf("profile after the demo sign-in:\n%s", profile)
	}
	if res, _ := get(in.portal + "/admin/"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /admin/ as the demo's developer = %d", res.StatusCode)
	}
	if code := in.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Without --demo the provider is not served, although the store
	// still names it.
	plain := startPortico(t, dir, nil)
	for _, p := range []string{"/dev-idp/.well-known/openid-configuration", "/dev-idp/authorize", "/dev-idp/jwks"} {
		if got := call(t, "GET", plain.portal+p); got.status != http.StatusNotFound {
			t.Fatalf("without --demo GET %s = %d", p, got.status)
		}
	}
}
