package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
	"github.com/porticoapi/portico/portal"
)

// TestSignUpBrowser signs up in a real browser: the CAPTCHA picture loads
// under the Content-Security-Policy, its digits (read from the store, as a
// person would read them off the picture) are typed, the confirmation
// link from the mail is opened and confirmed, and the new developer is
// signed in.
func TestSignUpBrowser(t *testing.T) {
	// A plain-http public URL: the browser talks to the test server over
	// http, where it would not keep a Secure (__Host-) cookie.
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	e.changeSettings(t, func(s *portal.Settings) { s.TermsOfUse = "Use the APIs kindly." })
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
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	// captcha returns the digits of the challenge on the page, once its
	// picture has loaded.
	captcha := func() string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.querySelector('[data-testid="captcha-image"]'); return i.complete && i.naturalWidth === 240 })()`)); err != nil {
			t.Fatalf("the CAPTCHA picture did not load: %v", err)
		}
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name="captcha_id"]').value`))
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.store.FindCaptcha(context.Background(), id, e.clock.Now())
		if err != nil {
			t.Fatalf("CAPTCHA %q: %v", id, err)
		}
		return c.Digits
	}

	step("open the sign-up page",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-link"]`)),
	)
	submit("follow the sign-up link", `[data-testid="signup-link"]`)
	step("fill in the form",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-email"]`), "browser@example.org"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-name"]`), "Bree Browser"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password2"]`), "a walk along the river at dawn"),
		chromedp.Click(chromedp.CSS(`[data-testid="signup-terms"]`)),
	)
	// A wrong answer first: the form comes back with a new picture and
	// the email and name kept.
	step("type wrong digits", chromedp.SendKeys(chromedp.CSS(`[data-testid="captcha-input"]`), wrongDigits(captcha())))
	browsertest.Screenshot(t, ctx, "signup")
	submit("sign up", `[data-testid="signup-submit"]`)
	if got := text(`[data-testid="error-message"]`); !strings.Contains(got, "did not match") {
		t.Fatalf("error after wrong digits = %q", got)
	}
	step("fill in the passwords and the new digits",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password2"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="captcha-input"]`), captcha()),
	)
	submit("sign up again", `[data-testid="signup-submit"]`)
	if got := text("h1"); got != "Check your email" {
		t.Fatalf("after sign-up: %q", got)
	}
	browsertest.Screenshot(t, ctx, "signup-check-email")

	mails := e.outbox(t)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := regexp.MustCompile(`http://portal\.test(/confirm/signup\?token=[A-Za-z0-9_\-]+)`).FindStringSubmatch(mails[0].Text)
	if m == nil {
		t.Fatalf("no confirmation link in\n%s", mails[0].Text)
	}
	step("open the confirmation link",
		chromedp.Navigate(e.srv.URL+m[1]),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-signup-form"]`)),
	)
	submit("confirm", `[data-testid="confirm-signup-submit"]`)
	if got := text(`[data-testid="account-name"]`); !strings.Contains(got, "Bree Browser") {
		t.Fatalf("account name after confirming = %q", got)
	}
	browsertest.Screenshot(t, ctx, "signup-confirmed")
	if u, err := e.store.FindUserByEmail(context.Background(), "browser@example.org"); err != nil || u.State != portal.UserActive {
		t.Fatalf("user after confirming = %+v, %v", u, err)
	}
	// The wrong digits were answered 400 on purpose.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/signup"))
}
