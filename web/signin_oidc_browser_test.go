package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/devidp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestBrowserOIDCSignIn signs in with the development identity provider
// in a real browser: the provider's button on the sign-in page, devidp's
// login page, and back to the page the visitor came from, signed in.
func TestBrowserOIDCSignIn(t *testing.T) {
	e := newOIDCEnv(t, oidcOptions{})
	e.addProvider(t, nil)
	e.idp.AddUser(devidp.User{Subject: "olive-1", Email: "olive@example.org", Name: "Olive Oidc"})
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)

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
		return s
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.portal.URL+"/signin?next=/products"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-idp-corp"]`)),
	); err != nil {
		t.Fatalf("open the sign-in page: %v", err)
	}
	if got := text(`[data-testid="signin-idp-corp"]`); got != "Contoso staff" {
		t.Fatalf("provider button says %q", got)
	}
	browsertest.Screenshot(t, ctx, "signin-providers")
	follow("choose the provider", `[data-testid="signin-idp-corp"]`)
	if got := text("h1"); got != "Development identity provider" {
		t.Fatalf("provider page heading %q", got)
	}
	follow("sign in at the provider", `[data-testid="devidp-submit"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="account"]`))); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/products") {
		t.Fatalf("landed on %s", loc)
	}
	if got := text(`[data-testid="account"]`); !strings.Contains(got, "Olive Oidc") {
		t.Fatalf("account area says %q", got)
	}
	console.AssertClean(t)
}
