package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
	"github.com/porticoapi/portico/portal"
)

// TestInvitationBrowser accepts an invitation in a real browser: the
// administrator's invitation from /admin/invitations, the mailed link,
// the page naming the invitee, a password chosen twice, and the invitee
// signed in, under the Content-Security-Policy and without console errors.
func TestInvitationBrowser(t *testing.T) {
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	wantStatus(t, "invite", e.postForm(t, "/admin/invitations", e.cookieOf(t, "admin"),
		map[string][]string{"email": {"bree@example.org"}, "name": {"Bree Browser"}, "role": {"developer"}}), 303)
	mails := e.outbox(t)
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	_, path, ok := strings.Cut(mails[0].Text, "http://portal.test")
	if !ok {
		t.Fatalf("no link in\n%s", mails[0].Text)
	}
	path, _, _ = strings.Cut(path, "\n")

	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	p.Step("open the invitation link",
		chromedp.Navigate(e.srv.URL+path),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="accept-invitation-form"]`)),
	)
	if got := p.Text(`[data-testid="invitation-address"]`); got != "bree@example.org" {
		t.Fatalf("invited address shown = %q", got)
	}
	p.Screenshot("invitation")
	p.Step("choose a password",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="invitation-password"]`), "a walk along the river at dawn"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="invitation-password2"]`), "a walk along the river at dawn"),
	)
	p.Submit("accept", `[data-testid="accept-invitation-submit"]`)
	p.Step("see the welcome", chromedp.WaitVisible(chromedp.CSS(`[data-testid="invitation-accepted"]`)))
	if got := p.Text(`[data-testid="account-name"]`); !strings.Contains(got, "Bree Browser") {
		t.Fatalf("account name after accepting = %q", got)
	}
	p.Screenshot("invitation-accepted")
	if u, err := e.store.FindUserByEmail(context.Background(), "bree@example.org"); err != nil || u.State != portal.UserActive {
		t.Fatalf("user after accepting = %+v, %v", u, err)
	}
	console.AssertClean(t)
}
