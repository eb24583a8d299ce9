package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/porticoapi/portico/internal/browsertest"
)

// TestBrowser walks the catalogue in a real browser, as a developer would,
// and checks that no page causes a script error or a Content-Security-
// Policy violation. With PORTICO_SCREENSHOTS set it saves each page.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := browsertest.New(t)
	console := browsertest.Watch(t, ctx)

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// follow clicks sel and waits for the page it leads to.
	follow := func(what, sel string) {
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
		return s
	}

	step("open the home page",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#home-title")),
	)
	if got := text("#home-title"); got != "Contoso APIs" {
		t.Fatalf("home title = %q", got)
	}
	browsertest.Screenshot(t, ctx, "home")

	// The first Tab reaches the skip link, which is shown when focused.
	step("tab to the skip link", chromedp.KeyEvent("\t"))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className + " " + getComputedStyle(document.activeElement).top`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(focused, "skip-link ") || strings.HasPrefix(focused, "skip-link -") {
		t.Fatalf("first Tab focuses %q, want the visible skip link", focused)
	}

	follow("go to the catalogue", `.main-nav a[href="/apis"]`)
	browsertest.Screenshot(t, ctx, "catalogue")

	step("type a search", chromedp.SendKeys(chromedp.CSS(`[data-testid="api-search"]`), "echo"))
	follow("search", `[data-testid="api-search-submit"]`)
	if got := text(`[data-testid="result-count"]`); !strings.Contains(got, "1 API matching") {
		t.Fatalf("result count after searching = %q", got)
	}
	if got := text(`[data-testid="api-card"]`); !strings.Contains(got, "Echo API") {
		t.Fatalf("search result = %q", got)
	}

	follow("open the API", `[data-testid="api-card"] a[href="/apis/echo"]`)
	if got := text(`[data-testid="gateway-url"]`); got != "https://gateway.example.com/echo" {
		t.Fatalf("gateway URL = %q", got)
	}
	browsertest.Screenshot(t, ctx, "api")

	follow("open an operation", `a.operation-row[href="/apis/echo/operations/get-resource"]`)
	curl := text("#curl-example")
	if !strings.Contains(curl, "curl --request GET") || !strings.Contains(curl, "Ocp-Apim-Subscription-Key: <your-subscription-key>") {
		t.Fatalf("curl example = %q", curl)
	}
	// The script reveals the copy button; clicking it reports the outcome
	// (headless browsers may refuse the clipboard, which is reported too).
	step("copy the curl example",
		chromedp.WaitVisible(chromedp.CSS(`button[data-copy-target="curl-example"]`)),
		chromedp.Click(chromedp.CSS(`button[data-copy-target="curl-example"]`)),
	)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("curl-example-status").textContent !== ""`)); err != nil {
		t.Fatalf("copy status: %v", err)
	}
	browsertest.Screenshot(t, ctx, "operation")

	step("dark theme", browsertest.ColorScheme("dark"))
	browsertest.Screenshot(t, ctx, "operation-dark")
	step("products in the dark theme",
		chromedp.Navigate(e.srv.URL+"/products/starter"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="product-title"]`)),
	)
	browsertest.Screenshot(t, ctx, "product-dark")
	step("error page",
		chromedp.Navigate(e.srv.URL+"/nope"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-message"]`)),
	)
	browsertest.Screenshot(t, ctx, "not-found-dark")
	step("narrow screen",
		browsertest.ColorScheme("light"),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/apis/echo/operations/create-resource"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="curl-example"]`)),
	)
	browsertest.Screenshot(t, ctx, "operation-mobile")

	// The 404 page was visited on purpose.
	console.AssertClean(t, browsertest.FailedLoad(e.srv.URL+"/nope"))
}
