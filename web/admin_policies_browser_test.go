package web_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestAdminPoliciesBrowser signs in as the administrator in a real browser,
// turns on an IP filter and JWT validation on the echo API's policy page,
// saves, and finds both on the page after a reload and in the store,
// without a script error or a Content-Security-Policy violation.
func TestAdminPoliciesBrowser(t *testing.T) {
	e := newEnvWith(t, envOptions{publicURL: "http://portal.test"})
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, e.srv.URL)

	checked := func(sel string) bool {
		t.Helper()
		on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').checked`))
		if err != nil {
			t.Fatalf("checked %s: %v", sel, err)
		}
		return on
	}

	p.Step("open the policies", chromedp.Navigate(e.srv.URL+"/admin/apis/echo/policies"))
	p.SignIn(adminEmail, adminPassword)
	p.Step("open the policies from the API list",
		chromedp.Navigate(e.srv.URL+"/admin/apis"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="api-row"]`)),
	)
	p.Submit("follow the policies link", `a[href="/admin/apis/echo/policies"]`)
	p.Step("fill in the IP filter and JWT validation",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="policies-form"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="ip-filter-enabled"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="ip-filter-action-forbid"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ip-filter-addresses"]`), "203.0.113.0/24\n2001:db8::1"),
		chromedp.Click(chromedp.CSS(`[data-testid="jwt-enabled"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="jwt-openid-config"]`), "https://login.example.com/.well-known/openid-configuration"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="jwt-audiences"]`), "api://echo"),
	)
	p.Screenshot("admin-policies-filled")
	p.Submit("save the policies", `[data-testid="policies-submit"]`)
	p.Notice("Policies of echo saved.")

	p.Step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="policies-form"]`)))
	if !checked(`[data-testid="ip-filter-enabled"]`) || !checked(`[data-testid="ip-filter-action-forbid"]`) || !checked(`[data-testid="jwt-enabled"]`) {
		t.Fatalf("after a reload the IP filter or JWT validation is not on")
	}
	if got := p.Value(`[data-testid="ip-filter-addresses"]`); got != "203.0.113.0/24\n2001:db8::1" {
		t.Fatalf("addresses after a reload = %q", got)
	}
	if got := p.Value(`[data-testid="jwt-openid-config"]`); got != "https://login.example.com/.well-known/openid-configuration" {
		t.Fatalf("openid config after a reload = %q", got)
	}
	if got := p.Value(`[data-testid="jwt-audiences"]`); got != "api://echo" {
		t.Fatalf("audiences after a reload = %q", got)
	}
	p.Screenshot("admin-policies-saved")

	api, err := e.store.FindAPIByName(context.Background(), "echo")
	if err != nil {
		t.Fatal(err)
	}
	if f := api.Policies.IPFilter; f == nil || f.Action != "forbid" || !reflect.DeepEqual(f.Addresses, []string{"203.0.113.0/24", "2001:db8::1"}) {
		t.Fatalf("stored ip_filter = %+v", f)
	}
	if v := api.Policies.ValidateJWT; v == nil || v.Header != "Authorization" || v.RequireScheme != "Bearer" || !v.RequireSignedTokens ||
		!reflect.DeepEqual(v.Audiences, []string{"api://echo"}) {
		t.Fatalf("stored validate_jwt = %+v", v)
	}
	console.AssertClean(t)
}
