package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestBrowserAdminIdentityProvider adds an OpenID Connect provider
// pointing at the development identity provider through the
// administration in a real browser, tests it, signs out, and signs in
// with it from the sign-in page.
func TestBrowserAdminIdentityProvider(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.portal.URL)

	p.Step("open the sign-in page for the administration", chromedp.Navigate(e.portal.URL+"/signin?next=/admin/identity-providers"))
	p.SignIn(adminEmail, adminPassword)
	p.Step("the empty list", chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-state"]`)))
	p.Submit("add a provider", `a[href="/admin/identity-providers/new"]`)
	p.Screenshot("admin-idp-types")
	p.Submit("choose OpenID Connect", `[data-testid="idp-type-oidc"]`)
	if got := p.Text(`[data-testid="idp-callback-url"]`); got != e.portal.URL+"/signin/{name}/callback" {
		t.Fatalf("callback URL shown %q", got)
	}
	p.Step("fill in the provider",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-name"]`), "corp"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-display-name"]`), "Contoso staff"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-client-id"]`), "portal"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-client-secret"]`), oidcSecret),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-issuer"]`), e.idp.Issuer()),
	)
	p.Screenshot("admin-idp-new")
	p.Submit("create the provider", `[data-testid="idp-submit"]`)
	p.Notice("Identity provider corp created.")
	if got := p.Text(`[data-testid="idp-callback-url"]`); got != e.portal.URL+"/signin/corp/callback" {
		t.Fatalf("callback URL in the list %q", got)
	}
	p.Submit("test the provider", `[data-testid="idp-test-corp"]`)
	if got := p.Text(`[data-testid="idp-test-result"]`); !strings.Contains(got, "The provider answered as expected") {
		t.Fatalf("test result %q", got)
	}
	p.Screenshot("admin-idp-tested")
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, oidcSecret) {
		t.Fatal("the edit page shows the client secret")
	}
	if p, err := e.store.FindIdentityProviderByName(context.Background(), "corp"); err != nil || p.ClientSecret != oidcSecret {
		t.Fatalf("stored provider %+v, %v", p, err)
	}

	p.Submit("sign out", `form[action="/signout"] button`)
	p.Step("open the sign-in page",
		chromedp.Navigate(e.portal.URL+"/signin?next=/products"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-idp-corp"]`)),
	)
	if got := p.Text(`[data-testid="signin-idp-corp"]`); got != "Contoso staff" {
		t.Fatalf("provider button says %q", got)
	}
	p.Submit("choose the provider", `[data-testid="signin-idp-corp"]`)
	p.Submit("sign in at the provider", `[data-testid="devidp-submit"]`)
	p.Step("signed in", chromedp.WaitVisible(chromedp.CSS(`[data-testid="account-name"]`)))
	if got := p.Text(`[data-testid="account-name"]`); !strings.Contains(got, "Olive Oidc") {
		t.Fatalf("signed in as %q", got)
	}
	if loc := p.Location(); !strings.HasSuffix(loc, "/products") {
		t.Fatalf("landed on %s", loc)
	}
	console.AssertClean(t)
}
