package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
	"github.com/porticoapi/portico/portal"
)

// TestSubscribeBrowser: in a real browser the developer follows "sign in
// to subscribe" from a product's page, signs in, lands back on the
// product, accepts its terms and subscribes, finds the key on the profile,
// regenerates the primary key and sees it change; the old key no longer
// finds the subscription. No page may cause a script error or a
// Content-Security-Policy violation.
func TestSubscribeBrowser(t *testing.T) {
	// A plain-http public URL: the browser talks to the test server over
	// http, where it would not keep a Secure (__Host-) cookie.
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	e.addProduct(t, "gold", func(p *portal.Product) { p.Terms = "Use the keys for your own apps only." })
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	p.Step("open the product", chromedp.Navigate(e.srv.URL+"/products/gold"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-to-subscribe"]`)))
	p.Submit("follow sign in to subscribe", `[data-testid="signin-to-subscribe"] a`)
	p.SignIn(developerEmail, developerPassword)
	if got := p.Location(); got != "/products/gold" {
		t.Fatalf("after sign-in at %q, want back on /products/gold", got)
	}
	p.Step("fill in the subscribe form",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscribe-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="subscribe-name"]`), "Browser app"),
		chromedp.Click(chromedp.CSS(`[data-testid="subscribe-terms"]`)),
	)
	p.Screenshot("subscribe")
	p.Submit("subscribe", `[data-testid="subscribe-submit"]`)
	if got := p.Location(); got != "/profile" {
		t.Fatalf("after subscribing at %q, want /profile", got)
	}
	subs := e.subscriptionsOf(t, developerEmail, "gold")
	if len(subs) != 1 || subs[0].DisplayName != "Browser app" || subs[0].State != portal.SubscriptionActive {
		t.Fatalf("subscriptions to gold: %+v", subs)
	}
	id := subs[0].ID
	keySel := fmt.Sprintf("#sub-%d-primary", id)
	// The new subscription's keys are unfolded, and the script reveals
	// the copy buttons.
	oldKey := p.Text(keySel)
	sub, kind, err := e.store.FindSubscriptionByKey(context.Background(), oldKey)
	if err != nil || sub.ID != id || kind != portal.PrimaryKey {
		t.Fatalf("primary key %q on the page finds %+v, %s, %v", oldKey, sub, kind, err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector('[data-copy-target="sub-%d-primary"]').hidden`, id)))
	if err != nil || hidden {
		t.Fatalf("copy button hidden=%v, %v: the script did not reveal it", hidden, err)
	}
	p.Screenshot("profile")

	p.Submit("regenerate the primary key", fmt.Sprintf(`form[action="/subscriptions/%d/regenerate/primary"] button`, id))
	p.Notice("Primary key of Browser app regenerated")
	newKey := p.Text(keySel)
	if newKey == "" || newKey == oldKey {
		t.Fatalf("primary key after regenerating %q, before %q", newKey, oldKey)
	}
	if _, _, err := e.store.FindSubscriptionByKey(context.Background(), oldKey); portal.ErrorCode(err) != portal.ENOTFOUND {
		t.Fatalf("the old key still finds a subscription: %v", err)
	}
	if sub, _, err := e.store.FindSubscriptionByKey(context.Background(), newKey); err != nil || sub.ID != id {
		t.Fatalf("the new key finds %+v, %v", sub, err)
	}
	p.Screenshot("profile-regenerated")
	console.AssertClean(t)
}
