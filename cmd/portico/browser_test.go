package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestEndToEnd is the foundation's whole story, through the real
// interfaces: the binary applies a config file, a developer browses the
// catalogue and an operation page in a real browser, an administrator
// added from the shell signs in to /admin and creates a subscription, and
// its key, read off the page, gets a call through the gateway to a real
// backend.
func TestEndToEnd(t *testing.T) {
	backend := newBackend(t, nil)
	dir := e2eDir(t)
	env := e2eEnv(backend.URL)
	if r := runPortico(t, dir, env, "", "apply", "-f", "portico.yaml"); r.code != 0 {
		t.Fatalf("apply = %d %q", r.code, r.stderr)
	}
	const adminPassword = "correct horse battery staple"
	if r := runPortico(t, dir, nil, adminPassword+"\n", "user", "add", "--email", "root@example.com", "--name", "Root Admin", "--admin", "--password-stdin"); r.code != 0 {
		t.Fatalf("user add = %d %q", r.code, r.stderr)
	}
	in := startPortico(t, dir, nil)

	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)
	p := browsertest.NewPage(t, ctx, in.portal)

	// A developer browses anonymously.
	p.Step("open the catalogue",
		chromedp.Navigate(in.portal+"/apis"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="api-card"]`)),
	)
	cards := p.Text(`main`)
	if !strings.Contains(cards, "Orders API") || !strings.Contains(cards, "Status API") {
		t.Fatalf("catalogue lacks the applied APIs:\n%s", cards)
	}
	p.Submit("open the Orders API", `a[href="/apis/orders"]`)
	if got := p.Text(`main`); !strings.Contains(got, in.gateway+"/shop/orders") || !strings.Contains(got, "Ocp-Apim-Subscription-Key") {
		t.Fatalf("API page lacks the gateway URL or key header:\n%s", got)
	}
	p.Submit("open an operation", `a[href="/apis/orders/operations/get-order"]`)
	curl := p.Text(`[data-testid="curl-example"]`)
	if !strings.Contains(curl, in.gateway+"/shop/orders/orders/") || !strings.Contains(curl, "Ocp-Apim-Subscription-Key: <your-subscription-key>") {
		t.Fatalf("curl example %q", curl)
	}
	if got := p.Text(`main`); !strings.Contains(got, "orderId") || !strings.Contains(got, "Stock keeping unit.") {
		t.Fatalf("operation page lacks its parameter or schema:\n%s", got)
	}

	// The administrator signs in and creates a subscription.
	p.Step("open the administration", chromedp.Navigate(in.portal+"/admin/"))
	p.SignIn("root@example.com", adminPassword)
	if got := p.Text(`[data-testid="account-name"]`); !strings.Contains(got, "Root Admin") {
		t.Fatalf("signed in as %q", got)
	}
	p.Step("fill the new subscription form",
		chromedp.Navigate(in.portal+"/admin/subscriptions/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscription-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-name"]`), "ops-browser"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="sub-owner"]`), "ops@example.com"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="sub-scope"]`), "product:gold"),
	)
	p.Submit("create the subscription", `[data-testid="sub-submit"]`)
	key := p.Text(`[data-testid="primary-key"]`)
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Fatalf("primary key on the page = %q, want 32 lowercase hex characters", key)
	}
	console.AssertClean(t)

	// The key works at the gateway; the backend never sees it.
	got := call(t, "POST", in.gateway+"/shop/orders/orders", "Ocp-Apim-Subscription-Key", key)
	if got.status != 200 || got.body != `{"backend":"orders","path":"/orders"}` {
		t.Fatalf("gateway with the new key: %d %q", got.status, got.body)
	}
	reqs := backend.requests()
	if last := reqs[len(reqs)-1]; last.Header.Get("Ocp-Apim-Subscription-Key") != "" || last.Method != "POST" {
		t.Fatalf("backend received %s with key header %q", last.Method, last.Header.Get("Ocp-Apim-Subscription-Key"))
	}
}
