package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
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

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	submit := func(what, sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, e.srv.URL)
	}
	signIn := func() {
		t.Helper()
		step("type the credentials",
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-email"]`), adminEmail),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-password"]`), adminPassword),
		)
		submit("sign in", `[data-testid="signin-submit"]`)
	}

	// Anonymous visitors browse by default.
	step("browse anonymously",
		chromedp.Navigate(e.srv.URL+"/apis/echo"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-link"]`)),
	)
	step("open the settings", chromedp.Navigate(e.srv.URL+"/admin/settings"))
	signIn()
	if got := location(); got != "/admin/settings" {
		t.Fatalf("after sign-in at %q", got)
	}
	browsertest.Screenshot(t, ctx, "admin-settings")
	step("choose redirect and a shorter idle timeout",
		chromedp.Click(chromedp.CSS(`[data-testid="settings-anonymous-redirect"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="settings-idle-timeout"]`), "20m"),
	)
	submit("save", `[data-testid="settings-submit"]`)
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="notice"]`)))
	if err != nil || !strings.Contains(notice, "Settings saved.") {
		t.Fatalf("notice %q, %v", notice, err)
	}
	st := e.settings(t)
	if st.AnonymousAccess != portal.AnonymousRedirect || st.Session.IdleTimeout.String() != "20m0s" {
		t.Fatalf("stored settings %+v", st)
	}

	// A refused value comes back with its message and the typed value.
	step("type a bad absolute timeout", chromedp.SetValue(chromedp.CSS(`[data-testid="settings-absolute-timeout"]`), "5m"))
	submit("save the bad value", `[data-testid="settings-submit"]`)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="error-message"]`)))
	if err != nil || !strings.Contains(msg, "Session timeouts") {
		t.Fatalf("error message %q, %v", msg, err)
	}
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`[data-testid="settings-absolute-timeout"]`))); err != nil || v != "5m" {
		t.Fatalf("typed value %q, %v", v, err)
	}

	// Signed out, the same browser is now redirected to sign-in.
	submit("sign out", `form[action="/signout"] button`)
	step("visit an API page anonymously", chromedp.Navigate(e.srv.URL+"/apis/echo"))
	step("wait for the sign-in page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)))
	if got := location(); got != "/signin?next=%2Fapis%2Fecho" {
		t.Fatalf("anonymous visitor at %q, want the sign-in page", got)
	}
	signIn()
	if got := location(); got != "/apis/echo" {
		t.Fatalf("after sign-in at %q, want /apis/echo", got)
	}
	// The refused form's 400 is the only failed load.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/admin/settings"))
}
