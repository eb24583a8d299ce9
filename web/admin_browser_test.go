package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
	"github.com/porticoapi/portico/portal"
)

// TestAdminBrowser signs in as the administrator in a real browser, creates
// an API by uploading its OpenAPI file, a product with it, and a
// subscription to the product, reads the new primary key off the page, and
// checks that no page caused a script error or a Content-Security-Policy
// violation.
func TestAdminBrowser(t *testing.T) {
	// A plain-http public URL: the browser talks to the test server over
	// http, where it would not keep a Secure (__Host-) cookie.
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	spec := filepath.Join(t.TempDir(), "pets.yaml")
	if err := os.WriteFile(spec, []byte(petsSpec), 0o644); err != nil {
		t.Fatal(err)
	}

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// submit clicks sel and waits for the page the form leads to.
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
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, e.srv.URL)
	}
	notice := func(want string) {
		t.Helper()
		if got := text(`[data-testid="notice"]`); !strings.Contains(got, want) {
			t.Fatalf("notice %q, want %q", got, want)
		}
	}

	step("open the administration",
		chromedp.Navigate(e.srv.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
	)
	browsertest.Screenshot(t, ctx, "signin")
	step("type the credentials",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-email"]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-password"]`), adminPassword),
	)
	submit("sign in", `[data-testid="signin-submit"]`)
	if got := location(); got != "/admin/" {
		t.Fatalf("after sign-in at %q, want /admin/", got)
	}
	if got := text(`[data-testid="account-name"]`); !strings.Contains(got, "Ada Admin") {
		t.Fatalf("account name %q", got)
	}
	browsertest.Screenshot(t, ctx, "admin-dashboard")

	step("open the new API form",
		chromedp.Navigate(e.srv.URL+"/admin/apis/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="api-form"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="api-spec"]`), []string{spec}),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-name"]`), "pets"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-path"]`), "pets"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-backend-url"]`), portal.BuiltinEcho),
	)
	browsertest.Screenshot(t, ctx, "admin-api-new")
	submit("create the API", `[data-testid="api-submit"]`)
	notice("API pets created with 2 operations.")
	browsertest.Screenshot(t, ctx, "admin-apis")

	step("open the new product form",
		chromedp.Navigate(e.srv.URL+"/admin/products/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="product-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="product-name"]`), "gold"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="product-display-name"]`), "Gold"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="product-state"]`), string(portal.ProductPublished)),
		chromedp.Click(chromedp.CSS(`#product-api-pets`)),
	)
	browsertest.Screenshot(t, ctx, "admin-product-new")
	submit("create the product", `[data-testid="product-submit"]`)
	notice("Product gold created.")

	step("open the new subscription form",
		chromedp.Navigate(e.srv.URL+"/admin/subscriptions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-name"]`), "gold-ci"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-owner"]`), developerEmail),
		chromedp.SetValue(chromedp.CSS(`[data-testid="sub-scope"]`), "product:gold"),
	)
	submit("create the subscription", `[data-testid="sub-submit"]`)
	notice("Subscription gold-ci created.")
	key := text(`[data-testid="primary-key"]`)
	sub, kind, err := e.store.FindSubscriptionByKey(context.Background(), key)
	if err != nil || sub.Name != "gold-ci" || kind != portal.PrimaryKey || sub.Scope.String() != "product:gold" {
		t.Fatalf("primary key %q on the page finds %+v, %s, %v", key, sub, kind, err)
	}
	browsertest.Screenshot(t, ctx, "admin-subscription-created")

	step("dark theme", browsertest.ColorScheme("dark"), chromedp.Reload())
	browsertest.Screenshot(t, ctx, "admin-subscription-dark")
	step("narrow screen",
		browsertest.ColorScheme("light"),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/admin/subscriptions"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-row"]`)),
	)
	browsertest.Screenshot(t, ctx, "admin-subscriptions-mobile")

	submit("sign out", `form[action="/signout"] button`)
	if got := location(); got != "/" {
		t.Fatalf("after sign-out at %q", got)
	}
	console.AssertClean(t)
}
