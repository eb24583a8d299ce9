package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
	"github.com/porticoapi/portico/portal"
)

// TestBrowserSettings changes the settings in a real browser: the
// administrator turns anonymous access to redirect and shortens the idle
// timeout; after signing out, the same browser is sent to sign-in from a
// catalogue page and brought back to it after signing in.
func TestBrowserSettings(t *testing.T) {
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	// Anonymous visitors browse by default.
	p.Step("browse anonymously",
		chromedp.Navigate(e.srv.URL+"/apis/echo"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-link"]`)),
	)
	p.Step("open the settings", chromedp.Navigate(e.srv.URL+"/admin/settings"))
	p.SignIn(adminEmail, adminPassword)
	if got := p.Location(); got != "/admin/settings" {
		t.Fatalf("after sign-in at %q", got)
	}
	p.Screenshot("admin-settings")
	p.Step("choose redirect and a shorter idle timeout",
		chromedp.Click(chromedp.CSS(`[data-testid="settings-anonymous-redirect"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="settings-idle-timeout"]`), "20m"),
	)
	p.Submit("save", `[data-testid="settings-submit"]`)
	p.Notice("Settings saved.")
	st := e.settings(t)
	if st.AnonymousAccess != portal.AnonymousRedirect || st.Session.IdleTimeout.String() != "20m0s" {
		t.Fatalf("stored settings %+v", st)
	}

	// A refused value comes back with its message and the typed value.
	p.Step("type a bad absolute timeout", chromedp.SetValue(chromedp.CSS(`[data-testid="settings-absolute-timeout"]`), "5m"))
	p.Submit("save the bad value", `[data-testid="settings-submit"]`)
	if msg := p.Text(`[data-testid="error-message"]`); !strings.Contains(msg, "Session timeouts") {
		t.Fatalf("error message %q", msg)
	}
	if v := p.Value(`[data-testid="settings-absolute-timeout"]`); v != "5m" {
		t.Fatalf("typed value %q", v)
	}

	// Signed out, the same browser is now redirected to sign-in.
	p.Submit("sign out", `form[action="/signout"] button`)
	p.Step("visit an API page anonymously", chromedp.Navigate(e.srv.URL+"/apis/echo"))
	p.Step("wait for the sign-in page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)))
	if got := p.Location(); got != "/signin?next=%2Fapis%2Fecho" {
		t.Fatalf("anonymous visitor at %q, want the sign-in page", got)
	}
	p.SignIn(adminEmail, adminPassword)
	if got := p.Location(); got != "/apis/echo" {
		t.Fatalf("after sign-in at %q, want /apis/echo", got)
	}
	// The refused form's 400 is the only failed load.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/admin/settings"))
}
