package web_test

import (
	"strings"
	"testing"

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
	p := browsertest.NewPage(t, ctx, e.portal.URL)

	p.Step("open the sign-in page",
		chromedp.Navigate(e.portal.URL+"/signin?next=/products"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-idp-corp"]`)),
	)
	if got := p.RawText(`[data-testid="signin-idp-corp"]`); got != "Contoso staff" {
		t.Fatalf("provider button says %q", got)
	}
	p.Screenshot("signin-providers")
	p.Submit("choose the provider", `[data-testid="signin-idp-corp"]`)
	if got := p.RawText("h1"); got != "Development identity provider" {
		t.Fatalf("provider page heading %q", got)
	}
	p.Submit("sign in at the provider", `[data-testid="devidp-submit"]`)
	p.Step("signed in", chromedp.WaitVisible(chromedp.CSS(`[data-testid="account"]`)))
	if loc := p.Location(); !strings.HasSuffix(loc, "/products") {
		t.Fatalf("landed on %s", loc)
	}
	if got := p.RawText(`[data-testid="account"]`); !strings.Contains(got, "Olive Oidc") {
		t.Fatalf("account area says %q", got)
	}
	console.AssertClean(t)
}
