package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

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
	p := browsertest.NewPage(t, ctx, e.srv.URL)

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

	p.Step("open the sign-up page",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-link"]`)),
	)
	p.Submit("follow the sign-up link", `[data-testid="signup-link"]`)
	p.Step("fill in the form",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signup-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-email"]`), "browser@example.org"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-name"]`), "Bree Browser"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password2"]`), "a walk along the river at dawn"),
		chromedp.Click(chromedp.CSS(`[data-testid="signup-terms"]`)),
	)
	// A wrong answer first: the form comes back with a new picture and
	// the email and name kept.
	p.Step("type wrong digits", chromedp.SendKeys(chromedp.CSS(`[data-testid="captcha-input"]`), wrongDigits(captcha())))
	p.Screenshot("signup")
	p.Submit("sign up", `[data-testid="signup-submit"]`)
	if got := p.Text(`[data-testid="error-message"]`); !strings.Contains(got, "did not match") {
		t.Fatalf("error after wrong digits = %q", got)
	}
	p.Step("fill in the passwords and the new digits",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signup-password2"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="captcha-input"]`), captcha()),
	)
	p.Submit("sign up again", `[data-testid="signup-submit"]`)
	if got := p.Text("h1"); got != "Check your email" {
		t.Fatalf("after sign-up: %q", got)
	}
	p.Screenshot("signup-check-email")

	mails := e.outbox(t)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := regexp.MustCompile(`http://portal\.test(/confirm/signup\?token=[A-Za-z0-9_\-]+)`).FindStringSubmatch(mails[0].Text)
	if m == nil {
		t.Fatalf("no confirmation link in\n%s", mails[0].Text)
	}
	p.Step("open the confirmation link",
		chromedp.Navigate(e.srv.URL+m[1]),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-signup-form"]`)),
	)
	p.Submit("confirm", `[data-testid="confirm-signup-submit"]`)
	if got := p.Text(`[data-testid="account-name"]`); !strings.Contains(got, "Bree Browser") {
		t.Fatalf("account name after confirming = %q", got)
	}
	p.Screenshot("signup-confirmed")
	if u, err := e.store.FindUserByEmail(context.Background(), "browser@example.org"); err != nil || u.State != portal.UserActive {
		t.Fatalf("user after confirming = %+v, %v", u, err)
	}
	// The wrong digits were answered 400 on purpose.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/signup"))
}
