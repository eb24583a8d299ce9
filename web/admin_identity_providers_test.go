package web_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/portal"
)

// adminBrowser signs the fixture's administrator in to the OIDC
// environment's portal and returns the browser.
func (e *oidcEnv) adminBrowser(t *testing.T) *browser {
	t.Helper()
	b := newBrowser(t)
	r := b.post(t, e.portal.URL+"/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}, false)
	if r.status != http.StatusSeeOther {
		t.Fatalf("admin sign-in = %d\n%s", r.status, r.body)
	}
	return b
}

// idpFields is a valid oidc provider form for the devidp, changed by kv
// pairs ("" deletes a field).
func (e *oidcEnv) idpFields(kv ...string) url.Values {
	v := url.Values{"type": {"oidc"}, "name": {"corp"}, "display_name": {"Contoso staff"}, "client_id": {"portal"},
		"client_secret": {oidcSecret}, "issuer": {e.idp.Issuer()}, "scopes": {"openid email profile"}, "signup": {"on"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// wantNoSecret fails if a page shows a client secret.
func wantNoSecret(t *testing.T, what, body string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, oidcSecret) {
		if strings.Contains(body, s) {
			t.Fatalf("%s shows the client secret %q", what, s)
		}
	}
}

func TestAdminIdentityProviders(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	b := e.adminBrowser(t)
	ctx := context.Background()
	base := e.portal.URL + "/admin/identity-providers"

	t.Run("empty list and types", func(t *testing.T) {
		r := b.get(t, base, false)
		for _, want := range []string{`data-testid="empty-state"`, `aria-current="page">Identity providers</a>`, `href="/admin/identity-providers/new"`} {
			if r.status != http.StatusOK || !strings.Contains(r.body, want) {
				t.Fatalf("list = %d, lacks %q\n%s", r.status, want, r.body)
			}
		}
		r = b.get(t, base+"/new", false)
		for _, typ := range []string{"entra", "external-id", "oidc"} {
			if !strings.Contains(r.body, `href="/admin/identity-providers/new?type=`+typ+`" data-testid="idp-type-`+typ+`"`) {
				t.Fatalf("type chooser lacks %s\n%s", typ, r.body)
			}
		}
		if r := b.get(t, base+"/new?type=saml", false); r.status != http.StatusBadRequest {
			t.Fatalf("unknown type = %d", r.status)
		}
	})

	t.Run("fields per type", func(t *testing.T) {
		for _, tc := range []struct {
			typ       string
			shown     []string
			notShown  []string
			typeLabel string
		}{
			{"entra", []string{`name="tenant"`, `name="allowed_tenants"`, `name="authority"`}, []string{`name="issuer"`}, "Microsoft Entra ID"},
			{"external-id", []string{`name="tenant"`, `name="authority"`}, []string{`name="issuer"`, `name="allowed_tenants"`}, "Microsoft Entra External ID"},
			{"oidc", []string{`name="issuer"`}, []string{`name="tenant"`, `name="allowed_tenants"`, `name="authority"`}, "OpenID Connect"},
		} {
			r := b.get(t, base+"/new?type="+tc.typ, false)
			if r.status != http.StatusOK {
				t.Fatalf("%s form = %d", tc.typ, r.status)
			}
			for _, s := range append(tc.shown, `name="client_id"`, `name="client_secret"`, `type="password"`, `<input type="hidden" name="type" value="`+tc.typ+`">`,
				`data-testid="idp-type">`+tc.typeLabel+`<`, e.portal.URL+"/signin/{name}/callback") {
				if !strings.Contains(r.body, s) {
					t.Errorf("%s form lacks %s", tc.typ, s)
				}
			}
			for _, s := range tc.notShown {
				if strings.Contains(r.body, s) {
					t.Errorf("%s form shows %s", tc.typ, s)
				}
			}
		}
	})

	t.Run("bad values keep what was typed but the secret", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			form    url.Values
			status  int
			message string
		}{
			{"bad name", e.idpFields("name", "the corp"), http.StatusBadRequest, "Identity provider name"},
			{"no client id", e.idpFields("client_id", ""), http.StatusBadRequest, "client id required"},
			{"no issuer", e.idpFields("issuer", ""), http.StatusBadRequest, "an oidc provider needs an issuer URL"},
			{"plain http issuer", e.idpFields("issuer", "http://idp.example.com"), http.StatusBadRequest, "must be an https URL"},
			{"bad scope", e.idpFields("scopes", `openid "x"`), http.StatusBadRequest, "is not a scope token"},
			{"bad type", e.idpFields("type", "saml"), http.StatusBadRequest, "entra, external-id or oidc"},
			{"entra without tenant", e.idpFields("type", "entra", "issuer", ""), http.StatusBadRequest, "needs a tenant"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.post(t, base, tc.form, false)
				res := response{status: r.status, body: r.body}
				wantFormError(t, res, tc.status, tc.message, `value="Contoso staff"`)
				wantNoSecret(t, "the re-rendered form", r.body)
				if _, err := e.store.FindIdentityProviderByName(ctx, tc.form.Get("name")); portal.ErrorCode(err) != portal.ENOTFOUND {
					t.Fatalf("provider written: %v", err)
				}
			})
		}
	})

	t.Run("create, list, edit", func(t *testing.T) {
		r := b.post(t, base, e.idpFields(), true)
		if r.status != http.StatusOK || r.url.Path != "/admin/identity-providers" || !strings.Contains(r.body, "Identity provider corp created.") {
			t.Fatalf("create landed on %d %s\n%s", r.status, r.url, r.body)
		}
		p, err := e.store.FindIdentityProviderByName(ctx, "corp")
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != portal.IdentityProviderOIDC || p.ClientSecret != oidcSecret || p.Issuer != e.idp.Issuer() || !p.SignUp ||
			strings.Join(p.Scopes, " ") != "openid email profile" || p.DisplayName != "Contoso staff" {
			t.Fatalf("stored = %+v", p)
		}
		want := `data-testid="idp-callback-url">` + e.portal.URL + `/signin/corp/callback<`
		if !strings.Contains(r.body, `data-testid="idp-row"`) || !strings.Contains(r.body, want) || !strings.Contains(r.body, `action="/admin/identity-providers/corp/test"`) {
			t.Fatalf("list lacks the row, its callback URL or its test button\n%s", r.body)
		}
		wantNoSecret(t, "the list", r.body)

		r = b.get(t, base+"/corp/edit", false)
		for _, s := range []string{`value="Contoso staff"`, `value="` + e.idp.Issuer() + `"`, `value="openid email profile"`, "A secret is stored", want, `action="/admin/identity-providers/corp/test"`} {
			if !strings.Contains(r.body, s) {
				t.Errorf("edit form lacks %q", s)
			}
		}
		wantNoSecret(t, "the edit form", r.body)

		// An empty secret keeps the stored one.
		r = b.post(t, base+"/corp/edit", e.idpFields("client_secret", "", "display_name", "Contoso people", "signup", ""), false)
		if r.status != http.StatusSeeOther {
			t.Fatalf("update = %d\n%s", r.status, r.body)
		}
		if p, _ = e.store.FindIdentityProviderByName(ctx, "corp"); p.ClientSecret != oidcSecret || p.DisplayName != "Contoso people" || p.SignUp {
			t.Fatalf("after update: %+v", p)
		}
		// A refused update writes nothing and does not show the new secret.
		r = b.post(t, base+"/corp/edit", e.idpFields("client_secret", "new-secret-never-shown", "issuer", "ftp://x"), false)
		wantFormError(t, response{status: r.status, body: r.body}, http.StatusBadRequest, "issuer", `value="ftp://x"`)
		wantNoSecret(t, "the refused edit form", r.body, "new-secret-never-shown")
		if p, _ = e.store.FindIdentityProviderByName(ctx, "corp"); p.ClientSecret != oidcSecret || p.Issuer != e.idp.Issuer() {
			t.Fatalf("a refused update was written: %+v", p)
		}
		// Switching the type shows the other type's fields, keeping the rest.
		r = b.get(t, base+"/corp/edit?type=entra", false)
		if !strings.Contains(r.body, `name="tenant"`) || strings.Contains(r.body, `name="issuer"`) || !strings.Contains(r.body, `value="Contoso people"`) {
			t.Fatalf("type switch form:\n%s", r.body)
		}
	})

	t.Run("test", func(t *testing.T) {
		r := b.post(t, base+"/corp/test", nil, false)
		if r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="idp-test-ok"`) {
			t.Fatalf("test = %d\n%s", r.status, r.body)
		}
		for _, want := range []string{e.idp.Issuer() + "/authorize", e.idp.DiscoveryURL(), "Signing keys"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("test result lacks %q", want)
			}
		}
		wantNoSecret(t, "the test result", r.body)

		// A dead address: a port nothing listens on any more.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + l.Addr().String()
		l.Close()
		if err := e.store.CreateIdentityProvider(ctx, &portal.IdentityProvider{Name: "dead", Type: portal.IdentityProviderOIDC, ClientID: "x", Issuer: dead}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			idp   string
			setup func()
			want  string
		}{
			{"dead address", "dead", func() {}, strings.TrimPrefix(dead, "http://") + " could not be reached for the discovery document."},
			{"provider down", "corp", func() { e.idp.SetDown(true) }, strings.TrimPrefix(e.idp.Issuer(), "http://") + " answered the discovery document request with HTTP 503."},
			{"wrong issuer", "corp", func() { e.idp.SetDiscoveryIssuer("https://evil.example.com") },
				`The discovery document names the issuer &#34;https://evil.example.com&#34;, not the configured &#34;` + e.idp.Issuer() + `&#34;; they must match exactly.`},
			{"oversized key set", "corp", func() { e.idp.SetOversizedJWKS(true) }, "The key set is larger than the 1048576 bytes allowed."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.setup()
				defer func() { e.idp.SetDown(false); e.idp.SetDiscoveryIssuer(""); e.idp.SetOversizedJWKS(false) }()
				r := b.post(t, base+"/"+tc.idp+"/test", nil, false)
				if r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="idp-test-problem">`+tc.want+`<`) {
					t.Fatalf("test = %d, want the problem %q\n%s", r.status, tc.want, r.body)
				}
			})
		}
		if !strings.Contains(e.logs.String(), `"msg":"identity provider test failed"`) {
			t.Fatal("the failure's detail is not in the log")
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := b.get(t, base+"/corp/delete", false)
		if r.status != http.StatusOK || !strings.Contains(r.body, `action="/admin/identity-providers/corp/delete"`) {
			t.Fatalf("confirm page = %d\n%s", r.status, r.body)
		}
		if r := b.post(t, base+"/corp/delete", nil, false); r.status != http.StatusSeeOther {
			t.Fatalf("delete = %d", r.status)
		}
		if _, err := e.store.FindIdentityProviderByName(ctx, "corp"); portal.ErrorCode(err) != portal.ENOTFOUND {
			t.Fatalf("provider still there: %v", err)
		}
		if r := b.post(t, base+"/corp/delete", nil, false); r.status != http.StatusNotFound {
			t.Fatalf("second delete = %d", r.status)
		}
	})
}

// TestAdminIdentityProvidersEntra creates an Entra provider and checks
// what the form writes: only the fields of the type.
func TestAdminIdentityProvidersEntra(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	b := e.adminBrowser(t)
	form := url.Values{"type": {"entra"}, "name": {"work"}, "client_id": {"app-id"}, "client_secret": {"entra-secret"},
		"tenant": {"organizations"}, "allowed_tenants": {"AAAA-1, bbbb-2 cccc-3"}, "authority": {""},
		"issuer": {"https://ignored.example.com"}}
	if r := b.post(t, e.portal.URL+"/admin/identity-providers", form, false); r.status != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", r.status, r.body)
	}
	p, err := e.store.FindIdentityProviderByName(context.Background(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != portal.IdentityProviderEntra || p.Tenant != "organizations" || strings.Join(p.AllowedTenants, ",") != "aaaa-1,bbbb-2,cccc-3" ||
		p.Issuer != "" || p.SignUp || p.ClientSecret != "entra-secret" {
		t.Fatalf("stored = %+v", p)
	}
	r := b.get(t, e.portal.URL+"/admin/identity-providers", false)
	if !strings.Contains(r.body, "Microsoft Entra ID") || !strings.Contains(r.body, "organizations") || strings.Contains(r.body, "entra-secret") {
		t.Fatalf("list:\n%s", r.body)
	}
}

func TestAdminIdentityProvidersAccess(t *testing.T) {
	e := newEnv(t)
	if err := e.store.CreateIdentityProvider(context.Background(), &portal.IdentityProvider{Name: "corp", Type: portal.IdentityProviderOIDC,
		ClientID: "portal", ClientSecret: "access-test-secret", Issuer: "https://idp.example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/admin/identity-providers", "/admin/identity-providers/new", "/admin/identity-providers/corp/edit", "/admin/identity-providers/corp/delete"} {
		r := e.get(t, p)
		if want := "/signin?next=" + url.QueryEscape(p); r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("anonymous GET %s = %d to %q", p, r.status, r.header.Get("Location"))
		}
		if r := e.getAs(t, p, "developer"); r.status != http.StatusForbidden {
			t.Errorf("developer GET %s = %d, want 403", p, r.status)
		}
	}
	for _, p := range []string{"/admin/identity-providers", "/admin/identity-providers/corp/edit", "/admin/identity-providers/corp/test", "/admin/identity-providers/corp/delete"} {
		form := url.Values{"type": {"oidc"}, "name": {"sneaky"}, "client_id": {"x"}, "issuer": {"https://evil.example.com"}}
		for _, as := range []string{"", "developer"} {
			cookie := ""
			if as != "" {
				cookie = e.cookieOf(t, as)
			}
			r := e.postForm(t, p, cookie, form)
			if want := map[string]int{"": http.StatusUnauthorized, "developer": http.StatusForbidden}[as]; r.status != want {
				t.Errorf("POST %s as %q = %d, want %d", p, as, r.status, want)
			}
		}
	}
	// A cross-site POST by the administrator is refused too.
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {e.cookieOf(t, "admin")}, "Sec-Fetch-Site": {"cross-site"}}
	if r := e.send(t, http.MethodPost, "/admin/identity-providers/corp/delete", nil, h); r.status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", r.status)
	}
	all, err := e.store.FindIdentityProviders(context.Background())
	if err != nil || len(all) != 1 || all[0].Name != "corp" || all[0].Issuer != "https://idp.example.com" {
		t.Fatalf("refused requests changed the providers: %+v, %v", all, err)
	}
	// Without OIDC sign-in the page says so, and still hides the secret.
	r := e.admin(t, http.MethodGet, "/admin/identity-providers", nil, "")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Sign-in with identity providers is off") ||
		!strings.Contains(r.body, "https://portal.example.com/signin/corp/callback") || strings.Contains(r.body, "access-test-secret") {
		t.Fatalf("list without OIDC = %d\n%s", r.status, r.body)
	}
}

// TestDeleteProviderLockout: while password sign-in is off, the provider
// an administrator signs in with, and the last provider of all, cannot be
// deleted; the confirm page says so instead of asking. With password
// sign-in on again, it goes.
func TestDeleteProviderLockout(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	ctx := context.Background()
	if err := e.store.CreateIdentityProvider(ctx, &portal.IdentityProvider{Name: "partner", Type: portal.IdentityProviderOIDC, DisplayName: "Partner accounts",
		ClientID: "portal", ClientSecret: oidcSecret, Issuer: e.idp.Issuer()}); err != nil {
		t.Fatal(err)
	}
	e.idp.AddUser(devidp.User{Subject: "ada-at-corp", Email: "ada@corp.example", Name: "Ada at Corp"})
	b := e.adminBrowser(t)
	e.linkIdentity(t, b, "corp", "ada-at-corp")
	if r := b.post(t, e.portal.URL+"/admin/settings", settingsValues(func(v url.Values) { v.Del("signin"); v.Del("signup") }), false); r.status != http.StatusSeeOther {
		t.Fatalf("password sign-in off = %d\n%s", r.status, r.body)
	}
	base := e.portal.URL + "/admin/identity-providers"
	refused := func(t *testing.T, name, why string) {
		t.Helper()
		c := b.get(t, base+"/"+name+"/delete", false)
		if c.status != http.StatusOK || !strings.Contains(c.body, `data-testid="idp-delete-refused"`) || !strings.Contains(c.body, why) ||
			strings.Contains(c.body, `action="/admin/identity-providers/`+name+`/delete"`) {
			t.Fatalf("confirm page of %s = %d, want the refusal %q and no delete form\n%s", name, c.status, why, c.body)
		}
		r := b.post(t, base+"/"+name+"/delete", nil, false)
		if r.status != http.StatusConflict || !strings.Contains(r.body, `data-testid="error-message"`) || !strings.Contains(r.body, why) {
			t.Fatalf("delete %s = %d, want 409 saying %q\n%s", name, r.status, why, r.body)
		}
		if _, err := e.store.FindIdentityProviderByName(ctx, name); err != nil {
			t.Fatalf("refused delete removed %s: %v", name, err)
		}
	}

	// corp is the administrator's only way in; partner is not.
	refused(t, "corp", "it is the only way you sign in")
	if c := b.get(t, base+"/partner/delete", false); c.status != http.StatusOK || !strings.Contains(c.body, `action="/admin/identity-providers/partner/delete"`) {
		t.Fatalf("confirm page of partner = %d\n%s", c.status, c.body)
	}
	if r := b.post(t, base+"/partner/delete", nil, false); r.status != http.StatusSeeOther {
		t.Fatalf("delete partner = %d\n%s", r.status, r.body)
	}
	// Now corp is the last provider: nobody could sign in without it.
	refused(t, "corp", "it is the last identity provider, so nobody could sign in")

	if r := b.post(t, e.portal.URL+"/admin/settings", settingsValues(nil), false); r.status != http.StatusSeeOther {
		t.Fatalf("password sign-in on = %d\n%s", r.status, r.body)
	}
	if r := b.post(t, base+"/corp/delete", nil, false); r.status != http.StatusSeeOther {
		t.Fatalf("delete corp with password sign-in on = %d\n%s", r.status, r.body)
	}
	if _, err := e.store.FindIdentityProviderByName(ctx, "corp"); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("corp still there: %v", err)
	}
}
