package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	spec := filepath.Join(t.TempDir(), "pets.yaml")
	if err := os.WriteFile(spec, []byte(petsSpec), 0o644); err != nil {
		t.Fatal(err)
	}

	p.Step("open the administration",
		chromedp.Navigate(e.srv.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
	)
	p.Screenshot("signin")
	p.SignIn(adminEmail, adminPassword)
	if got := p.Location(); got != "/admin/" {
		t.Fatalf("after sign-in at %q, want /admin/", got)
	}
	if got := p.Text(`[data-testid="account-name"]`); !strings.Contains(got, "Ada Admin") {
		t.Fatalf("account name %q", got)
	}
	p.Screenshot("admin-dashboard")

	p.Step("open the new API form",
		chromedp.Navigate(e.srv.URL+"/admin/apis/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="api-form"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="api-spec"]`), []string{spec}),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-name"]`), "pets"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-path"]`), "pets"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="api-backend-url"]`), portal.BuiltinEcho),
	)
	p.Screenshot("admin-api-new")
	p.Submit("create the API", `[data-testid="api-submit"]`)
	p.Notice("API pets created with 2 operations.")
	p.Screenshot("admin-apis")

	p.Step("open the new product form",
		chromedp.Navigate(e.srv.URL+"/admin/products/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="product-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="product-name"]`), "gold"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="product-display-name"]`), "Gold"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="product-state"]`), string(portal.ProductPublished)),
		chromedp.Click(chromedp.CSS(`#product-api-pets`)),
	)
	p.Screenshot("admin-product-new")
	p.Submit("create the product", `[data-testid="product-submit"]`)
	p.Notice("Product gold created.")

	p.Step("open the new subscription form",
		chromedp.Navigate(e.srv.URL+"/admin/subscriptions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-name"]`), "gold-ci"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-owner"]`), developerEmail),
		chromedp.SetValue(chromedp.CSS(`[data-testid="sub-scope"]`), "product:gold"),
	)
	p.Submit("create the subscription", `[data-testid="sub-submit"]`)
	p.Notice("Subscription gold-ci created.")
	key := p.Text(`[data-testid="primary-key"]`)
	sub, kind, err := e.store.FindSubscriptionByKey(context.Background(), key)
	if err != nil || sub.Name != "gold-ci" || kind != portal.PrimaryKey || sub.Scope.String() != "product:gold" {
		t.Fatalf("primary key %q on the page finds %+v, %s, %v", key, sub, kind, err)
	}
	p.Screenshot("admin-subscription-created")

	p.Step("dark theme", browsertest.ColorScheme("dark"), chromedp.Reload())
	p.Screenshot("admin-subscription-dark")
	p.Step("narrow screen",
		browsertest.ColorScheme("light"),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/admin/subscriptions"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-row"]`)),
	)
	p.Screenshot("admin-subscriptions-mobile")

	p.Submit("sign out", `form[action="/signout"] button`)
	if got := p.Location(); got != "/" {
		t.Fatalf("after sign-out at %q", got)
	}
	console.AssertClean(t)
}
