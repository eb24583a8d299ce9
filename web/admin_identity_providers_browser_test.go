package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
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

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	follow := func(what, sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	step("sign in as the administrator",
		chromedp.Navigate(e.portal.URL+"/signin?next=/admin/identity-providers"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-email"]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-password"]`), adminPassword),
	)
	follow("submit the sign-in", `[data-testid="signin-submit"]`)
	step("the empty list", chromedp.WaitVisible(chromedp.CSS(`[data-testid="empty-state"]`)))
	follow("add a provider", `a[href="/admin/identity-providers/new"]`)
	browsertest.Screenshot(t, ctx, "admin-idp-types")
	follow("choose OpenID Connect", `[data-testid="idp-type-oidc"]`)
	if got := text(`[data-testid="idp-callback-url"]`); got != e.portal.URL+"/signin/{name}/callback" {
		t.Fatalf("callback URL shown %q", got)
	}
	step("fill in the provider",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-name"]`), "corp"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-display-name"]`), "Contoso staff"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-client-id"]`), "portal"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-client-secret"]`), oidcSecret),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="idp-issuer"]`), e.idp.Issuer()),
	)
	browsertest.Screenshot(t, ctx, "admin-idp-new")
	follow("create the provider", `[data-testid="idp-submit"]`)
	if got := text(`[data-testid="notice"]`); !strings.Contains(got, "Identity provider corp created.") {
		t.Fatalf("notice %q", got)
	}
	if got := text(`[data-testid="idp-callback-url"]`); got != e.portal.URL+"/signin/corp/callback" {
		t.Fatalf("callback URL in the list %q", got)
	}
	follow("test the provider", `[data-testid="idp-test-corp"]`)
	if got := text(`[data-testid="idp-test-result"]`); !strings.Contains(got, "The provider answered as expected") {
		t.Fatalf("test result %q", got)
	}
	browsertest.Screenshot(t, ctx, "admin-idp-tested")
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

	follow("sign out", `form[action="/signout"] button`)
	step("open the sign-in page",
		chromedp.Navigate(e.portal.URL+"/signin?next=/products"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-idp-corp"]`)),
	)
	if got := text(`[data-testid="signin-idp-corp"]`); got != "Contoso staff" {
		t.Fatalf("provider button says %q", got)
	}
	follow("choose the provider", `[data-testid="signin-idp-corp"]`)
	follow("sign in at the provider", `[data-testid="devidp-submit"]`)
	step("signed in", chromedp.WaitVisible(chromedp.CSS(`[data-testid="account-name"]`)))
	if got := text(`[data-testid="account-name"]`); !strings.Contains(got, "Olive Oidc") {
		t.Fatalf("signed in as %q", got)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/products") {
		t.Fatalf("landed on %s", loc)
	}
	console.AssertClean(t)
}
